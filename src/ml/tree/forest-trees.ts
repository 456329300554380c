// Grows the trees of a random forest one at a time from a per-tree seed (bootstrap rows, features drawn
// per split), so a tree is the same whichever thread grows it and in whatever order.
import { deriveSeed, Random } from '../../core/random.js';
import type { BinnedData } from './binning.js';
import type { CompactTree } from './ensemble.js';
import { LocalNodeOperations, TreeGrower, type GrowerSettings } from './grower.js';
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

export class ForestTreeGrower {
  private readonly workspace: Workspace;
  private readonly grower: TreeGrower;
  /** Times each row was drawn (16 bits: a row is drawn at most as often as there are rows, and 65,536 times never in practice). */
  private readonly draws: Uint16Array;

  constructor(private readonly setup: ForestSetup) {
    const { data } = setup;
    const { layout } = data;
    const { plan, memory } = planWorkspace(data.rows, layout.groups, layout.totalBins, setup.capacity, 1);
    this.workspace = new Workspace(memory, plan, data.mapper, layout, data);
    this.grower = new TreeGrower(this.workspace, new LocalNodeOperations(this.workspace), setup.settings);
    this.grower.allowFeatures(undefined);
    this.draws = new Uint16Array(setup.bootstrap ? data.rows : 0);
  }

  grow(index: number): CompactTree {
    const { labels, weights, bootstrap, samplesPerTree } = this.setup;
    const n = this.setup.data.rows;
    const { rows, gh } = this.workspace;
    const random = new Random(deriveSeed(this.setup.seed, index));
    let count = 0;
    if (bootstrap) {
      const draws = this.draws;
      draws.fill(0);
      // multiply-and-shift maps 32 random bits onto the rows (a bias below n / 2^32, far under a draw's weight)
      for (let s = 0; s < samplesPerTree; s++) draws[Math.floor((random.nextUint32() * n) / 4294967296)]++;
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
    const tree = this.grower.grow(count, !bootstrap, random);
    return {
      feature: tree.feature.slice(0, tree.count),
      value: tree.value.slice(0, tree.count),
      missingLeft: tree.missingLeft.slice(0, tree.count),
      left: tree.left.slice(0, tree.count),
      gain: tree.gain.slice(0, tree.count),
      cover: tree.sumHessian.slice(0, tree.count),
    };
  }
}
