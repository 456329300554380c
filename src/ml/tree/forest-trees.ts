// Grows the trees of a random forest one at a time from a per-tree seed (bootstrap rows, features drawn
// per split), so a tree is the same whichever thread grows it and in whatever order.
import { deriveSeed, Random } from '../../core/random.js';
import { copyValues } from '../types.js';
import type { BinnedData } from './binning.js';
import type { CompactTree } from './ensemble.js';
import { LocalNodeOperations, TreeGrower, type GrowerSettings, type NodeOperations } from './grower.js';
import { forEachBundle } from './histogram.js';
import { histogramCountedKernel, type WasmMemory } from './kernels.js';
import { phaseDone, phaseStart } from './profile.js';
import { planWorkspace, Workspace, type WorkspacePlan } from './workspace.js';

export interface ForestSetup {
  data: BinnedData;
  /** Class (0/1) or value per row. */
  labels: Float64Array;
  /**
   * Every label is 0 or 1 (see zeroOrOne): a classification's always, a regression's when its target is a
   * flag. Known once by the caller rather than read again by every thread's grower.
   */
  zeroOrOne: boolean;
  /** Sample and class weights per row, or null for all 1. */
  weights: Float64Array | null;
  settings: GrowerSettings;
  bootstrap: boolean;
  /** Rows drawn (with replacement) per tree when bootstrapping. */
  samplesPerTree: number;
  seed: number;
  /** Histogram slots: bounds the open nodes (and so the depth of a depth-first tree). */
  capacity: number;
}

/**
 * Deepest a tree grows when max_depth is null (far beyond what any real data set needs): an open node
 * of a depth-first walk holds a histogram.
 */
const FOREST_DEPTH_LIMIT = 128;

/** What shapes a forest's trees: the model's parameters, resolved (see RandomForestModel). */
export interface ForestShape {
  regression: boolean;
  /** Entropy splits (a classification's); gini and squared error are Newton steps on (label, 1). */
  entropy: boolean;
  maxLeaves: number | null;
  maxDepth: number | null;
  minSamplesLeaf: number;
  minSamplesSplit: number;
  featuresPerSplit: number;
  bootstrap: boolean;
  samplesPerTree: number;
  seed: number;
}

/**
 * A forest's setup from its binned data and shape; `shared` puts the labels and weights in shared
 * memory, where workers growing trees too read the one copy. Made here alone, for a model's fit and a
 * worker's warm-up (warm-up.ts) alike: the worker's code is compiled for the objects it meets, so both
 * must have the same shape.
 */
export function forestSetup(
  data: BinnedData,
  labels: Float64Array,
  weights: Float64Array | null,
  shape: ForestShape,
  shared: boolean,
): ForestSetup {
  const { regression, maxLeaves, maxDepth } = shape;
  return {
    data,
    labels: copyValues(labels, shared),
    zeroOrOne: !regression || zeroOrOne(labels),
    weights: weights && copyValues(weights, shared),
    settings: {
      criterion: shape.entropy ? 'entropy' : 'newton',
      leafOutput: 'mean',
      l2: 0,
      shrinkage: 1,
      maxLeaves: maxLeaves ?? 0,
      maxDepth: maxDepth ?? 0,
      minSamplesLeaf: shape.minSamplesLeaf,
      minSamplesSplit: shape.minSamplesSplit,
      minHessianLeaf: 0,
      growth: maxLeaves !== null ? 'leafwise' : 'depthwise',
      featuresPerSplit: shape.featuresPerSplit,
      stopWhenPure: !regression,
      // a forest keeps no rows by leaf: its leaves' values come from their sums
      leafRows: false,
    },
    bootstrap: shape.bootstrap,
    samplesPerTree: shape.samplesPerTree,
    seed: shape.seed,
    // open nodes hold a histogram each: max leaves (best first), else the depth of a depth-first walk
    capacity: maxLeaves !== null ? maxLeaves + 2 : (maxDepth ?? FOREST_DEPTH_LIMIT) + 3,
  };
}

/** Draws of one row that a one-byte code holds (draws × 2 + label); a tree with more takes the pair path. */
const MAX_CODED_DRAWS = 127;

/**
 * Node steps of an unweighted classification forest: a row's (gradient, hessian) is (draws × label,
 * draws), whole numbers, so one byte per row stands for the pair (see Kernels.histogramCounted1) and a
 * node's histograms read a sixteenth of the memory that the pairs of doubles take. The bytes by row live
 * where the pairs would (the workspace's gh region), the gathered ones in its ordered region.
 */
class CountedNodeOperations implements NodeOperations {
  private readonly local: LocalNodeOperations;

  constructor(private readonly workspace: Workspace) {
    this.local = new LocalNodeOperations(workspace);
  }

  partition(column: number, start: number, end: number): number {
    return this.local.partition(column, start, end);
  }

  build(slot: number, start: number, end: number): void {
    const { kernels, plan } = this.workspace;
    kernels.gatherCodes(plan.rowsAt, start, end, plan.ghAt, plan.orderedAt);
    forEachBundle(this.workspace, 0, this.workspace.slotAddress(slot), (descriptorAt, count) =>
      histogramCountedKernel(kernels, count)(plan.rowsAt, start, end, plan.orderedAt, descriptorAt),
    );
  }
}

/** Whether every label is 0 or 1 (ForestSetup.zeroOrOne). */
export function zeroOrOne(labels: Float64Array): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0 && labels[i] !== 1) return false;
  return true;
}

/**
 * Where a thread's grower lives when the forest's threads share one memory (planForestWorkspaces): the
 * memory, this thread's plan, the kernels' module and whether this thread fills the shared regions
 * (the first thread, before any other starts; the others find them filled).
 */
export interface ForestPlace {
  memory: WasmMemory;
  plan: WorkspacePlan;
  module?: object;
  fills: boolean;
}

export class ForestTreeGrower {
  private readonly workspace: Workspace;
  private readonly grower: TreeGrower;
  /** The same settings over the one-byte rows of an unweighted classification forest, or undefined. */
  private readonly counted: TreeGrower | undefined;
  /** Times each row was drawn (16 bits: a row is drawn at most as often as there are rows, and 65,536 times never in practice); all 1 without bootstrap. */
  private readonly draws: Uint16Array;
  /** The generator's state, handed to the bootstrap kernel and back. */
  private readonly randomState: Uint32Array;

  /** `place`: this thread's part of a memory the forest's threads share; without it, a memory of its own. */
  constructor(
    private readonly setup: ForestSetup,
    place?: ForestPlace,
  ) {
    const { data, labels, weights, settings, zeroOrOne: classes } = setup;
    const { layout } = data;
    const { plan, memory } = place ?? planWorkspace(data.rows, layout, setup.capacity, 1, undefined, true);
    const fills = place?.fills ?? true;
    this.workspace = new Workspace(
      memory,
      plan,
      data.mapper,
      layout,
      fills ? data : undefined,
      place?.module,
    );
    this.grower = new TreeGrower(this.workspace, new LocalNodeOperations(this.workspace), settings);
    this.grower.allowFeatures(undefined);
    const { drawsAt, labelsAt, randomAt } = plan.forest as NonNullable<typeof plan.forest>;
    this.draws = new Uint16Array(memory.buffer, drawsAt, data.rows);
    if (!setup.bootstrap) this.draws.fill(1);
    this.randomState = new Uint32Array(memory.buffer, randomAt, 4);
    // regression labels are not coded (the rows drawn are still listed from the draws)
    if (classes && fills) new Uint8Array(memory.buffer, labelsAt, data.rows).set(labels);
    if (weights === null && classes) {
      this.counted = new TreeGrower(this.workspace, new CountedNodeOperations(this.workspace), settings);
      this.counted.allowFeatures(undefined);
    }
  }

  /**
   * The grower of a worker joining a forest's shared memory, whose shared regions the calling thread
   * filled: made here alone, for a fit's worker and a warm-up alike (warm-up.ts), so both are the same.
   */
  static joining(setup: ForestSetup, place: Omit<ForestPlace, 'fills'>): ForestTreeGrower {
    return new ForestTreeGrower(setup, { ...place, fills: false });
  }

  grow(index: number): CompactTree {
    // the bootstrap and each row's pair (or code) are the forest's "gradients" phase
    const started = phaseStart();
    const random = new Random(deriveSeed(this.setup.seed, index));
    const { bootstrap, samplesPerTree } = this.setup;
    const n = this.setup.data.rows;
    const { kernels, plan } = this.workspace;
    const forest = plan.forest as NonNullable<typeof plan.forest>;
    let most = 1;
    if (bootstrap) {
      random.saveState(this.randomState);
      most = kernels.bootstrapDraws(forest.randomAt, samplesPerTree, n, forest.drawsAt);
      random.restoreState(this.randomState);
    }
    // the rows drawn, ascending, and each row's code by row (where the pairs would be)
    const count = kernels.codeRows(forest.drawsAt, forest.labelsAt, n, plan.rowsAt, plan.ghAt);
    const counted = this.counted !== undefined && most <= MAX_CODED_DRAWS && this.rootHistogrammed(count);
    if (!counted) this.fillPairs();
    phaseDone('gradients', started);
    const tree = (counted ? (this.counted as TreeGrower) : this.grower).grow(
      count,
      !bootstrap && !counted,
      random,
    );
    return {
      feature: tree.feature.slice(0, tree.count),
      value: tree.value.slice(0, tree.count),
      missingLeft: tree.missingLeft.slice(0, tree.count),
      left: tree.left.slice(0, tree.count),
      gain: tree.gain.slice(0, tree.count),
      cover: tree.sumHessian.slice(0, tree.count),
    };
  }

  /**
   * Whether the grower takes the root's sums from its histograms, as the counted path needs (it keeps no
   * pairs to sum): a group to build and enough rows at the root for a split (TreeGrower's largeEnough).
   */
  private rootHistogrammed(rows: number): boolean {
    const { minSamplesLeaf, minSamplesSplit } = this.setup.settings;
    return this.workspace.groupActive.includes(1) && rows >= 2 * minSamplesLeaf && rows >= minSamplesSplit;
  }

  /** Each row's (gradient, hessian) pair as doubles by row, over the codes: weighted or regression forests. */
  private fillPairs(): void {
    const { labels, weights } = this.setup;
    const gh = this.workspace.gh;
    const draws = this.draws;
    for (let row = 0; row < draws.length; row++) {
      const weight = (weights ? weights[row] : 1) * draws[row];
      gh[2 * row] = weight * labels[row];
      gh[2 * row + 1] = weight;
    }
  }
}
