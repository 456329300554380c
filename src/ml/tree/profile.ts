// Where tree learning spends its time, phase by phase, measured on the calling thread (so a phase
// split over threads counts its wall time, waits included). Off unless a caller turns it on (the train
// bench's --profile); when off, each step costs one boolean test. Boosting adds the last tree's leaf
// values to the scores in its gradient pass, so "gradients" holds that part of the prediction update
// and "prediction update" the rest (each row's leaf).
import { performance } from 'node:perf_hooks';

export const PHASES = [
  'binning',
  'gradients',
  'histograms',
  'subtraction',
  'split search',
  'partition',
  'prediction update',
] as const;
export type Phase = (typeof PHASES)[number];

/** The phases that work node by node, whose time is also kept by the node's size. */
export const NODE_PHASES = ['histograms', 'split search', 'partition'] as const;
export type NodePhase = (typeof NODE_PHASES)[number];

/**
 * The node sizes each class starts from: small nodes, whose rows stay in a core's cache; middling ones;
 * the root and the largest nodes, whose passes stream from memory.
 */
export const NODE_SIZES = [
  { label: 'under 16,384 rows', from: 0 },
  { label: '16,384-65,535 rows', from: 16_384 },
  { label: '65,536 rows or more', from: 65_536 },
] as const;

interface Profile {
  enabled: boolean;
  seconds: Record<Phase, number>;
  calls: Record<Phase, number>;
  /** Per node phase, its seconds in each class of NODE_SIZES. */
  byNodeSize: Record<NodePhase, number[]>;
}

const zeros = (): Record<Phase, number> =>
  Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;

const sizeZeros = (): Record<NodePhase, number[]> =>
  Object.fromEntries(NODE_PHASES.map((phase) => [phase, NODE_SIZES.map(() => 0)])) as Record<
    NodePhase,
    number[]
  >;

/** The running totals (read by the bench after a fit). */
export const trainingProfile: Profile = {
  enabled: false,
  seconds: zeros(),
  calls: zeros(),
  byNodeSize: sizeZeros(),
};

/** Turns measuring on (or off) and clears the totals (the train bench calls it through dist/).
 * @public
 */
export function enableTrainingProfile(enabled = true): void {
  trainingProfile.enabled = enabled;
  trainingProfile.seconds = zeros();
  trainingProfile.calls = zeros();
  trainingProfile.byNodeSize = sizeZeros();
}

/** A start time to hand to phaseDone, or 0 when measuring is off. */
export function phaseStart(): number {
  return trainingProfile.enabled ? performance.now() : 0;
}

/** Adds the time since `started` to `phase`; for a node phase, also to the class of the node's `rows`. */
export function phaseDone(phase: Phase, started: number, rows?: number): void {
  if (!trainingProfile.enabled) return;
  const seconds = (performance.now() - started) / 1000;
  trainingProfile.seconds[phase] += seconds;
  trainingProfile.calls[phase]++;
  const bySize = trainingProfile.byNodeSize[phase as NodePhase] as number[] | undefined;
  if (bySize === undefined || rows === undefined) return;
  let size = 0;
  while (size + 1 < NODE_SIZES.length && rows >= NODE_SIZES[size + 1].from) size++;
  bySize[size] += seconds;
}
