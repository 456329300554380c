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

interface Profile {
  enabled: boolean;
  seconds: Record<Phase, number>;
  calls: Record<Phase, number>;
}

const zeros = (): Record<Phase, number> =>
  Object.fromEntries(PHASES.map((phase) => [phase, 0])) as Record<Phase, number>;

/** The running totals (read by the bench after a fit). */
export const trainingProfile: Profile = { enabled: false, seconds: zeros(), calls: zeros() };

/** Turns measuring on (or off) and clears the totals (the train bench calls it through dist/).
 * @public
 */
export function enableTrainingProfile(enabled = true): void {
  trainingProfile.enabled = enabled;
  trainingProfile.seconds = zeros();
  trainingProfile.calls = zeros();
}

/** A start time to hand to phaseDone, or 0 when measuring is off. */
export function phaseStart(): number {
  return trainingProfile.enabled ? performance.now() : 0;
}

export function phaseDone(phase: Phase, started: number): void {
  if (!trainingProfile.enabled) return;
  trainingProfile.seconds[phase] += (performance.now() - started) / 1000;
  trainingProfile.calls[phase]++;
}
