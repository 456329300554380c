// Grows the trees of a random forest one at a time from a per-tree seed (bootstrap rows, features drawn
// per split), so a tree is the same whichever thread grows it and in whatever order.
import { deriveSeed, Random } from '../../core/random.js';
import type { BinnedData } from './binning.js';
import type { CompactTree } from './ensemble.js';
import { BIN_STRIDE } from './histogram.js';
import { LocalNodeOperations, TreeGrower, type GrowerSettings, type NodeOperations } from './grower.js';
import { phaseDone, phaseStart } from './profile.js';
import { planWorkspace, Workspace } from './workspace.js';

export interface ForestSetup {
  data: BinnedData;
  /** Class (0/1) or value per row. */
  labels: Float64Array;
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

/** Draws of one row that a one-byte code holds (draws × 2 + label); a tree with more takes the pair path. */
const MAX_CODED_DRAWS = 127;

/**
 * Node steps of an unweighted classification forest: a row's (gradient, hessian) is (draws × label,
 * draws), whole numbers, so one byte per row stands for the pair (see Kernels.histogramCounted) and a
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
    const { kernels, plan, data, groupActive } = this.workspace;
    const { layout, columns } = data;
    kernels.gatherCodes(plan.rowsAt, start, end, plan.ghAt, plan.orderedAt);
    for (let g = 0; g < layout.groups; g++) {
      if (groupActive[g] === 0) continue;
      kernels.histogramCounted(
        columns[g].byteOffset,
        plan.rowsAt,
        start,
        end,
        plan.orderedAt,
        this.workspace.slotAddress(slot) + layout.groupOffset[g] * BIN_STRIDE * 8,
        plan.kernelScratchAt[0],
        layout.groupBins[g],
      );
    }
  }
}

export class ForestTreeGrower {
  private readonly workspace: Workspace;
  private readonly grower: TreeGrower;
  /** The same settings over the one-byte rows of an unweighted classification forest, or undefined. */
  private readonly counted: TreeGrower | undefined;
  /** Label of each row as a byte, when the forest is counted. */
  private readonly labelBytes: Uint8Array | undefined;
  /** Times each row was drawn (16 bits: a row is drawn at most as often as there are rows, and 65,536 times never in practice). */
  private readonly draws: Uint16Array;

  constructor(private readonly setup: ForestSetup) {
    const { data, labels, weights, settings } = setup;
    const { layout } = data;
    const { plan, memory } = planWorkspace(data.rows, layout.groups, layout.totalBins, setup.capacity, 1);
    this.workspace = new Workspace(memory, plan, data.mapper, layout, data);
    this.grower = new TreeGrower(this.workspace, new LocalNodeOperations(this.workspace), settings);
    this.grower.allowFeatures(undefined);
    if (weights === null && labels.every((label) => label === 0 || label === 1)) {
      this.counted = new TreeGrower(this.workspace, new CountedNodeOperations(this.workspace), settings);
      this.counted.allowFeatures(undefined);
      this.labelBytes = Uint8Array.from(labels);
    }
    this.draws = new Uint16Array(setup.bootstrap ? data.rows : 0);
  }

  grow(index: number): CompactTree {
    // the bootstrap and each row's pair (or code) are the forest's "gradients" phase
    const started = phaseStart();
    const random = new Random(deriveSeed(this.setup.seed, index));
    const { bootstrap, samplesPerTree } = this.setup;
    const n = this.setup.data.rows;
    // the most draws of one row, and the rows drawn at least once
    let most = 1;
    let distinct = n;
    if (bootstrap) {
      const draws = this.draws;
      draws.fill(0);
      most = 0;
      distinct = 0;
      // multiply-and-shift maps 32 random bits onto the rows (a bias below n / 2^32, far under a draw's weight)
      for (let s = 0; s < samplesPerTree; s++) {
        const drawn = ++draws[Math.floor((random.nextUint32() * n) / 4294967296)];
        if (drawn > most) most = drawn;
        distinct += drawn === 1 ? 1 : 0;
      }
    }
    const counted = this.counted !== undefined && most <= MAX_CODED_DRAWS && this.rootHistogrammed(distinct);
    const count = counted ? this.codeRows() : this.pairRows();
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

  /** Each row's code (draws × 2 + label) by row; in-bag rows in ascending order. */
  private codeRows(): number {
    const n = this.setup.data.rows;
    const { rows, plan, memory } = this.workspace;
    const codes = new Uint8Array(memory.buffer, plan.ghAt, n);
    const labels = this.labelBytes as Uint8Array;
    let count = 0;
    if (this.setup.bootstrap) {
      const draws = this.draws;
      // without a branch on whether the row was drawn (a third are not, at random)
      for (let row = 0; row < n; row++) {
        const drawn = draws[row];
        rows[count] = row;
        count += drawn > 0 ? 1 : 0;
        codes[row] = drawn * 2 + labels[row];
      }
    } else {
      for (let row = 0; row < n; row++) {
        rows[row] = row;
        codes[row] = 2 + labels[row];
      }
      count = n;
    }
    return count;
  }

  /** Each row's (gradient, hessian) pair as doubles by row: weighted or regression forests. */
  private pairRows(): number {
    const { labels, weights, bootstrap } = this.setup;
    const n = this.setup.data.rows;
    const { rows, gh } = this.workspace;
    let count = 0;
    if (bootstrap) {
      const draws = this.draws;
      // without a branch on whether the row was drawn (a third are not, at random)
      for (let row = 0; row < n; row++) {
        const drawn = draws[row];
        const weight = (weights ? weights[row] : 1) * drawn;
        rows[count] = row;
        count += drawn > 0 ? 1 : 0;
        gh[2 * row] = weight * labels[row];
        gh[2 * row + 1] = weight;
      }
    } else {
      for (let row = 0; row < n; row++) {
        const weight = weights ? weights[row] : 1;
        rows[row] = row;
        gh[2 * row] = weight * labels[row];
        gh[2 * row + 1] = weight;
      }
      count = n;
    }
    return count;
  }
}
