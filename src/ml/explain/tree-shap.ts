// Exact SHAP values of tree ensembles: path-dependent TreeSHAP (Lundberg, Erion & Lee 2018), one walk of
// every root-to-leaf path per row; absent features follow the nodes' training covers. Each leaf's Shapley
// sum is taken by Gauss-Legendre quadrature (as Linear TreeSHAP does: fewer steps, same values), or by the
// paper's EXTEND / UNWIND path (Algorithm 2). One row allocates nothing.
import { errors } from '../../core/errors.js';
import type { TreeEnsemble } from '../tree/ensemble.js';
import {
  ENTRY,
  extendPath,
  FEATURE,
  gaussLegendre,
  ONE,
  unwindPath,
  WEIGHT,
  ZERO,
} from './tree-shap-path.js';

export interface TreeShapSettings {
  /** Columns of a row. */
  features: number;
  /** Model outputs: tree t adds to output t mod outputs (one tree per class and round in boosting). */
  outputs: number;
  /** The model's starting raw score per output (boosting's baseline; zeros for a forest). */
  baseline: ArrayLike<number>;
  /** Factor on every tree's output: 1 for boosting, 1 / trees for a forest's average. */
  scale: number;
  /**
   * How each leaf's share is computed (the same exact values either way): `quadrature` (default) integrates
   * the leaf's Shapley weights with Gauss-Legendre nodes; `extend-unwind` is the paper's Algorithm 2.
   */
  algorithm?: TreeShapAlgorithm;
  /**
   * `table` only: the most numbers the precomputed tables may hold over the whole model (8 bytes each);
   * trees that would go past it, or that have a path with more than MOST_TABLE_FEATURES distinct
   * features, are explained by quadrature instead.
   */
  tableBudget?: number;
}

/**
 * `table` (default) precomputes per leaf its share for every agree / disagree pattern of its path's
 * features (Fast TreeSHAP v2, Yang 2021), so a row costs one lookup per leaf and path feature;
 * `quadrature` and `extend-unwind` compute each leaf's share per row.
 */
export type TreeShapAlgorithm = 'table' | 'quadrature' | 'extend-unwind';

/** Default table budget: 4M numbers, 32 MB per explained model. */
export const DEFAULT_TABLE_BUDGET = 1 << 22;
/** A leaf's table has 2^d rows of d numbers; past this many distinct path features, its tree falls back. */
const MOST_TABLE_FEATURES = 16;

/**
 * Share of a node's training cover that goes to its left child. Both children's covers are used (not the
 * parent's, which equals their sum up to rounding), so the two shares always add up to 1; a node with
 * no cover at all splits its weight evenly.
 */
export function leftShareOf(leftCover: number, rightCover: number): number {
  const left = leftCover > 0 ? leftCover : 0;
  const right = rightCover > 0 ? rightCover : 0;
  return left + right > 0 ? left / (left + right) : 0.5;
}

export class TreeShap {
  readonly features: number;
  readonly outputs: number;
  /** Expected raw output per output over the training cover: the value SHAP values start from. */
  readonly base: Float64Array;

  private readonly trees: number;
  private readonly roots: Int32Array;
  private readonly feature: Int32Array;
  private readonly value: Float64Array;
  private readonly missingLeft: Uint8Array;
  private readonly left: Int32Array;
  private readonly leftShare: Float64Array;
  private readonly scale: number;
  /**
   * The unique-path stack, one entry of four numbers (feature, zero fraction, one fraction, weight) side
   * by side: every recursion level copies its parent's path just past it.
   */
  private readonly path: Float64Array;
  /** For a path of `depth` + 1 entries, (depth + 1) / (j + 1) and (depth − j) / (depth + 1) at depth · tableWidth + j. */
  private readonly up: Float64Array;
  private readonly down: Float64Array;
  /** 1 / down, for the entries whose one fraction is 0. */
  private readonly fromDown: Float64Array;
  private readonly tableWidth: number;
  private readonly algorithm: TreeShapAlgorithm;
  /** The quadrature walk's path: one entry per distinct feature split on above the node. */
  private readonly uniqueFeature: Int32Array;
  private readonly uniqueZero: Float64Array;
  private readonly uniqueOne: Float64Array;
  /** Per feature, its entry in the quadrature walk's path, or -1. */
  private readonly positionOf: Int32Array;
  /** Gauss-Legendre nodes and weights on [0, 1] (and weights / (1 − node)): rule n starts at n(n − 1) / 2. */
  private readonly nodes: Float64Array;
  private readonly weights: Float64Array;
  private readonly coldWeights: Float64Array;
  /** Per tree, the nodes of its rule: enough for the most distinct features on any of its paths. */
  private readonly treeRule: Int32Array;
  /** The path's product of factors at each quadrature node, per level of the walk (rule size apart). */
  private readonly products: Float64Array;
  /** Per tree, whether its leaves have tables (else it is walked by quadrature). */
  private readonly tabled: Uint8Array;
  /** Per internal node of a tabled tree, the bit of its feature in the disagree mask of the leaves below. */
  private readonly nodeBit: Int32Array;
  /** Per leaf of a tabled tree: its distinct path features (count, and where they start in leafFeatures). */
  private readonly leafCount: Int32Array;
  private readonly leafFeatureAt: Int32Array;
  private readonly leafFeatures: Int32Array;
  /** Per leaf, where its table starts: row `pattern` holds the shares of its path features under that pattern. */
  private readonly leafTableAt: Int32Array;
  private readonly table: Float64Array;
  /**
   * The table walk, in two passes over flat arrays. First every internal node of the tabled trees (in
   * depth-first order, so a parent comes before its children) hands its children their disagree masks:
   * its own mask, plus its bit on the side the row does not take. Slot k holds internal node k's mask,
   * slot internals + i leaf i's. A split reads the row at `splitColumn`: its feature in the row copy with
   * missing values as −∞ (they go left) or, one row further, as +∞ (they go right), so no branch is taken
   * per node.
   */
  private readonly splitColumn: Int32Array;
  private readonly splitThreshold: Float64Array;
  private readonly splitBit: Int32Array;
  private readonly splitLeft: Int32Array;
  private readonly splitRight: Int32Array;
  private readonly masks: Int32Array;
  /** The row twice: missing values as −∞, then as +∞. */
  private readonly routed: Float64Array;
  /**
   * Then every leaf with path features finds its table row (leafRow), and every output's column gathers
   * its values: entry e of column q (from entryStart[q]) is leaf entries[e] >> 4's value for its path
   * feature entries[e] & 15. Gathering keeps each sum in a register instead of adding to memory per leaf.
   */
  private readonly leafSlot: Int32Array;
  private readonly leafTable: Int32Array;
  private readonly leafWidth: Int32Array;
  private readonly leafRow: Int32Array;
  private readonly entryStart: Int32Array;
  private readonly entries: Int32Array;
  private ruleFrom = 0;
  private ruleSize = 1;
  /** Per-call state of the recursion (fields, so the recursive calls pass fewer arguments). */
  /** The row being explained, copied so every read is from one kind of array. */
  private readonly row: Float64Array;
  private phi: Float64Array = new Float64Array(0);
  private phiOffset = 0;

  constructor(ensemble: TreeEnsemble, settings: TreeShapSettings) {
    if (!ensemble.hasCover()) {
      throw new errors.PW_EXPLAIN_UNAVAILABLE(
        'The model was trained before tree nodes recorded their training cover, so it cannot be explained',
      );
    }
    const { features, outputs, baseline, scale } = settings;
    this.algorithm = settings.algorithm ?? 'table';
    this.features = features;
    this.outputs = outputs;
    this.scale = scale;
    this.trees = ensemble.treeCount;
    this.roots = ensemble.roots.slice(0, ensemble.treeCount);
    const nodes = ensemble.nodeCount;
    this.feature = ensemble.feature.slice(0, nodes);
    this.value = ensemble.value.slice(0, nodes);
    this.missingLeft = ensemble.missingLeft.slice(0, nodes);
    this.left = ensemble.left.slice(0, nodes);
    this.leftShare = new Float64Array(nodes);
    const cover = ensemble.cover;
    for (let k = 0; k < nodes; k++) {
      const child = this.left[k];
      if (child >= 0) this.leftShare[k] = leftShareOf(cover[child], cover[child + 1]);
    }

    const base = new Float64Array(outputs);
    for (let o = 0; o < outputs; o++) base[o] = baseline[o];
    let deepest = 0;
    for (let t = 0; t < this.trees; t++) {
      base[t % outputs] += scale * this.expectation(this.roots[t]);
      deepest = Math.max(deepest, this.depthOf(this.roots[t]));
    }
    this.base = base;
    // a path holds the root's placeholder plus one entry per split: depth + 1 entries at the deepest
    // leaf; level d copies d + 1 of them, so the stack holds (depth + 2)(depth + 3) / 2 entries
    this.path = new Float64Array(ENTRY * (((deepest + 2) * (deepest + 3)) / 2));
    // a path holds at most one entry per feature, and never more than the tree is deep
    const unique = Math.max(1, Math.min(deepest, features));
    this.uniqueFeature = new Int32Array(unique);
    this.uniqueZero = new Float64Array(unique);
    this.uniqueOne = new Float64Array(unique);
    this.positionOf = new Int32Array(Math.max(1, features)).fill(-1);
    const rules = Math.ceil(unique / 2);
    this.nodes = new Float64Array((rules * (rules + 1)) / 2);
    this.weights = new Float64Array((rules * (rules + 1)) / 2);
    this.coldWeights = new Float64Array((rules * (rules + 1)) / 2);
    for (let n = 1; n <= rules; n++) gaussLegendre(n, this.nodes, this.weights, (n * (n - 1)) / 2);
    for (let q = 0; q < this.nodes.length; q++) this.coldWeights[q] = this.weights[q] / (1 - this.nodes[q]);
    this.treeRule = new Int32Array(this.trees);
    const splitsOn = new Int32Array(Math.max(1, features));
    for (let t = 0; t < this.trees; t++)
      this.treeRule[t] = Math.max(1, Math.ceil(this.mostDistinct(this.roots[t], splitsOn, 0) / 2));
    this.products = new Float64Array((deepest + 2) * rules);
    this.row = new Float64Array(Math.max(1, features));
    this.tabled = new Uint8Array(this.trees);
    this.nodeBit = new Int32Array(this.algorithm === 'table' ? nodes : 0);
    this.leafCount = new Int32Array(this.nodeBit.length);
    this.leafFeatureAt = new Int32Array(this.nodeBit.length);
    this.leafTableAt = new Int32Array(this.nodeBit.length);
    const tables =
      this.algorithm === 'table'
        ? this.planTables(settings.tableBudget ?? DEFAULT_TABLE_BUDGET)
        : { features: 0, numbers: 0 };
    this.leafFeatures = new Int32Array(tables.features);
    this.table = new Float64Array(tables.numbers);
    this.tableWidth = deepest + 2;
    this.up = new Float64Array(this.tableWidth * this.tableWidth);
    this.down = new Float64Array(this.tableWidth * this.tableWidth);
    this.fromDown = new Float64Array(this.tableWidth * this.tableWidth);
    for (let depth = 0; depth < this.tableWidth; depth++) {
      for (let j = 0; j < depth; j++) {
        this.up[depth * this.tableWidth + j] = (depth + 1) / (j + 1);
        this.down[depth * this.tableWidth + j] = (depth - j) / (depth + 1);
        this.fromDown[depth * this.tableWidth + j] = (depth + 1) / (depth - j);
      }
    }
    if (tables.numbers > 0) this.fillTables();
    const walk = this.planWalk();
    this.splitColumn = walk.splitColumn;
    this.splitThreshold = walk.splitThreshold;
    this.splitBit = walk.splitBit;
    this.splitLeft = walk.splitLeft;
    this.splitRight = walk.splitRight;
    // roots have the slots no parent writes: they stay 0
    this.masks = new Int32Array(walk.slots);
    this.routed = new Float64Array(2 * Math.max(1, features));
    this.leafSlot = walk.leafSlot;
    this.leafTable = walk.leafTable;
    this.leafWidth = walk.leafWidth;
    this.leafRow = new Int32Array(walk.leafSlot.length);
    this.entryStart = walk.entryStart;
    this.entries = walk.entries;
  }

  /** Whether tree t is explained from precomputed tables (false: by quadrature, per row). */
  isTabled(t: number): boolean {
    return this.tabled[t] === 1;
  }

  /**
   * Lays out the table walk's arrays for the tabled trees: internal nodes and leaves in depth-first
   * order, left child first (the order their tables were laid out in), then each leaf's path features as
   * entries of the output column they add to.
   */
  private planWalk(): {
    splitColumn: Int32Array;
    splitThreshold: Float64Array;
    splitBit: Int32Array;
    splitLeft: Int32Array;
    splitRight: Int32Array;
    slots: number;
    leafSlot: Int32Array;
    leafTable: Int32Array;
    leafWidth: Int32Array;
    entryStart: Int32Array;
    entries: Int32Array;
  } {
    const splits: number[] = [];
    const leaves: { node: number; tree: number }[] = [];
    for (let t = 0; t < this.trees; t++) {
      if (this.tabled[t] !== 1) continue;
      const stack = [this.roots[t]];
      while (stack.length > 0) {
        const node = stack.pop()!;
        const child = this.left[node];
        if (child < 0) {
          if (this.leafCount[node] > 0) leaves.push({ node, tree: t });
          continue;
        }
        splits.push(node);
        stack.push(child + 1, child);
      }
    }
    const internals = splits.length;
    const slotOf = new Map<number, number>();
    splits.forEach((node, k) => slotOf.set(node, k));
    leaves.forEach((leaf, i) => slotOf.set(leaf.node, internals + i));
    // a leaf without path features (a tree that is one leaf) and the roots take slots nobody reads
    let spare = internals + leaves.length;
    const slot = (node: number): number => slotOf.get(node) ?? spare++;
    const features = this.features;
    const splitColumn = new Int32Array(internals);
    const splitThreshold = new Float64Array(internals);
    const splitBit = new Int32Array(internals);
    const splitLeft = new Int32Array(internals);
    const splitRight = new Int32Array(internals);
    splits.forEach((node, k) => {
      splitColumn[k] = this.feature[node] + (this.missingLeft[node] === 1 ? 0 : features);
      splitThreshold[k] = this.value[node];
      splitBit[k] = this.nodeBit[node];
      splitLeft[k] = slot(this.left[node]);
      splitRight[k] = slot(this.left[node] + 1);
    });
    const columns = this.outputs * features;
    const entryStart = new Int32Array(columns + 1);
    for (const { node, tree } of leaves) {
      const column = (tree % this.outputs) * features;
      for (let j = 0; j < this.leafCount[node]; j++)
        entryStart[column + this.leafFeatures[this.leafFeatureAt[node] + j] + 1]++;
    }
    for (let q = 0; q < columns; q++) entryStart[q + 1] += entryStart[q];
    const entries = new Int32Array(entryStart[columns]);
    const filled = entryStart.slice(0, columns);
    leaves.forEach(({ node, tree }, i) => {
      const column = (tree % this.outputs) * features;
      for (let j = 0; j < this.leafCount[node]; j++)
        entries[filled[column + this.leafFeatures[this.leafFeatureAt[node] + j]]++] = (i << 4) | j;
    });
    return {
      splitColumn,
      splitThreshold,
      splitBit,
      splitLeft,
      splitRight,
      slots: spare + this.trees,
      leafSlot: Int32Array.from(leaves, (leaf) => slotOf.get(leaf.node)!),
      leafTable: Int32Array.from(leaves, (leaf) => this.leafTableAt[leaf.node]),
      leafWidth: Int32Array.from(leaves, (leaf) => this.leafCount[leaf.node]),
      entryStart,
      entries,
    };
  }

  /**
   * Writes the SHAP values of `row` into `phi`: output o's value for column f at o · features + f.
   * For every output, base[o] plus its values is the model's raw output for the row.
   */
  explainRow(row: ArrayLike<number>, phi: Float64Array): void {
    const features = this.features;
    phi.fill(0, 0, this.outputs * features);
    for (let f = 0; f < features; f++) this.row[f] = row[f];
    this.phi = phi;
    if (this.splitColumn.length > 0 || this.leafSlot.length > 0) this.walkTables();
    for (let t = 0; t < this.trees; t++) {
      this.phiOffset = (t % this.outputs) * features;
      if (this.tabled[t] === 1) continue;
      if (this.algorithm !== 'extend-unwind') {
        const rule = this.treeRule[t];
        this.ruleSize = rule;
        this.ruleFrom = (rule * (rule - 1)) / 2;
        this.products.fill(1, 0, rule);
        this.walk(this.roots[t], 0, 0);
      } else this.recurse(this.roots[t], 0, 0, 1, 1, -1);
    }
  }

  /** The table walk of all tabled trees (see splitColumn and leafSlot). */
  private walkTables(): void {
    const features = this.features;
    const row = this.row;
    const routed = this.routed;
    for (let f = 0; f < features; f++) {
      const x = row[f];
      routed[f] = x === x ? x : -Infinity;
      routed[features + f] = x === x ? x : Infinity;
    }
    const column = this.splitColumn;
    const threshold = this.splitThreshold;
    const bitOf = this.splitBit;
    const leftOf = this.splitLeft;
    const rightOf = this.splitRight;
    const masks = this.masks;
    const internals = column.length;
    for (let k = 0; k < internals; k++) {
      // 1 when the row goes right, as a number (the sides are unpredictable: no branch)
      const right = ((routed[column[k]] > threshold[k]) as unknown as number) | 0;
      const mask = masks[k];
      const bit = bitOf[k];
      masks[leftOf[k]] = mask | (bit & -right);
      masks[rightOf[k]] = mask | (bit & (right - 1));
    }
    const leafSlot = this.leafSlot;
    const leafTable = this.leafTable;
    const leafWidth = this.leafWidth;
    const leafRow = this.leafRow;
    const leaves = leafSlot.length;
    for (let i = 0; i < leaves; i++) leafRow[i] = leafTable[i] + masks[leafSlot[i]] * leafWidth[i];
    const table = this.table;
    const entries = this.entries;
    const entryStart = this.entryStart;
    const phi = this.phi;
    const columns = this.outputs * features;
    for (let q = 0; q < columns; q++) {
      // two sums, so consecutive additions do not wait on each other
      let even = 0;
      let odd = 0;
      let e = entryStart[q];
      const end = entryStart[q + 1];
      for (; e + 1 < end; e += 2) {
        const first = entries[e];
        const second = entries[e + 1];
        even += table[leafRow[first >> 4] + (first & 15)];
        odd += table[leafRow[second >> 4] + (second & 15)];
      }
      if (e < end) {
        const last = entries[e];
        even += table[leafRow[last >> 4] + (last & 15)];
      }
      phi[q] += even + odd;
    }
  }

  /**
   * Decides which trees get tables, in order, while the budget lasts, and lays out their leaves: per
   * internal node, the bit of its feature (a feature keeps the position of its first split on the path);
   * per leaf, its distinct path features. Returns the sizes of the feature list and of the tables.
   */
  private planTables(budget: number): { features: number; numbers: number } {
    const positionOf = new Int32Array(Math.max(1, this.features)).fill(-1);
    let features = 0;
    let numbers = 0;
    for (let t = 0; t < this.trees; t++) {
      const size = this.tableSizeOf(this.roots[t], positionOf, 0);
      if (size.numbers < 0 || numbers + size.numbers > budget) continue;
      this.tabled[t] = 1;
      const placed = this.placeLeaves(this.roots[t], positionOf, [], features, numbers);
      features = placed.features;
      numbers = placed.numbers;
    }
    return { features, numbers };
  }

  /** The numbers and features a tree's tables take (numbers −1 if a path has too many distinct features). */
  private tableSizeOf(
    node: number,
    positionOf: Int32Array,
    count: number,
  ): { numbers: number; features: number } {
    const split = this.feature[node];
    if (split < 0) {
      if (count > MOST_TABLE_FEATURES) return { numbers: -1, features: 0 };
      return { numbers: count > 0 ? 2 ** count * count : 0, features: count };
    }
    // the walk routes missing values by comparing ±∞ with the threshold, which needs a finite one
    if (!Number.isFinite(this.value[node])) return { numbers: -1, features: 0 };
    const fresh = positionOf[split] < 0;
    if (fresh) positionOf[split] = count;
    const below = fresh ? count + 1 : count;
    const left = this.tableSizeOf(this.left[node], positionOf, below);
    const right = this.tableSizeOf(this.left[node] + 1, positionOf, below);
    if (fresh) positionOf[split] = -1;
    if (left.numbers < 0 || right.numbers < 0) return { numbers: -1, features: 0 };
    return { numbers: left.numbers + right.numbers, features: left.features + right.features };
  }

  private placeLeaves(
    node: number,
    positionOf: Int32Array,
    path: number[],
    features: number,
    numbers: number,
  ): { features: number; numbers: number } {
    const split = this.feature[node];
    if (split < 0) {
      const count = path.length;
      this.leafCount[node] = count;
      this.leafFeatureAt[node] = features;
      this.leafTableAt[node] = numbers;
      return { features: features + count, numbers: numbers + (count > 0 ? 2 ** count * count : 0) };
    }
    const fresh = positionOf[split] < 0;
    if (fresh) {
      positionOf[split] = path.length;
      path.push(split);
    }
    this.nodeBit[node] = 1 << positionOf[split];
    let placed = this.placeLeaves(this.left[node], positionOf, path, features, numbers);
    placed = this.placeLeaves(this.left[node] + 1, positionOf, path, placed.features, placed.numbers);
    if (fresh) {
      positionOf[split] = -1;
      path.pop();
    }
    return placed;
  }

  /** Fills every tabled tree's leaf features and tables. */
  private fillTables(): void {
    const positionOf = new Int32Array(Math.max(1, this.features)).fill(-1);
    const zeros = new Float64Array(MOST_TABLE_FEATURES);
    for (let t = 0; t < this.trees; t++) {
      if (this.tabled[t] === 1) this.fillLeaves(this.roots[t], positionOf, zeros, 0);
    }
  }

  /** Below `node`, `count` distinct features are on the path, entry p's share of covered rows in zeros[p]. */
  private fillLeaves(node: number, positionOf: Int32Array, zeros: Float64Array, count: number): void {
    const split = this.feature[node];
    if (split < 0) {
      if (count > 0) this.fillLeaf(node, zeros, count);
      return;
    }
    const child = this.left[node];
    const leftShare = this.leftShare[node];
    let at = positionOf[split];
    const fresh = at < 0;
    if (fresh) {
      at = count;
      positionOf[split] = at;
      zeros[at] = 1;
      this.uniqueFeature[at] = split;
    }
    const below = fresh ? count + 1 : count;
    const zero = zeros[at];
    zeros[at] = zero * leftShare;
    this.fillLeaves(child, positionOf, zeros, below);
    zeros[at] = zero * (1 - leftShare);
    this.fillLeaves(child + 1, positionOf, zeros, below);
    zeros[at] = zero;
    if (fresh) positionOf[split] = -1;
  }

  /**
   * A leaf's table: for every pattern of ones (bit p: the row agrees with every split on entry p), the
   * shares the quadrature walk would add (see leaf()), integrated with the rule exact for degree count − 1.
   */
  private fillLeaf(node: number, zeros: Float64Array, count: number): void {
    const features = this.leafFeatureAt[node];
    for (let p = 0; p < count; p++) this.leafFeatures[features + p] = this.uniqueFeature[p];
    const leaf = this.value[node] * this.scale;
    const size = Math.ceil(count / 2);
    const from = (size * (size - 1)) / 2;
    const nodes = this.nodes;
    const weights = this.weights;
    const products = new Float64Array(size);
    const table = this.table;
    const all = 2 ** count - 1;
    for (let pattern = 0; pattern <= all; pattern++) {
      // rows are in the order of the disagree mask, the complement of the agree pattern
      const at = this.leafTableAt[node] + (all ^ pattern) * count;
      for (let q = 0; q < size; q++) {
        const t = nodes[from + q];
        let product = 1;
        for (let p = 0; p < count; p++)
          product *= (pattern >> p) & 1 ? zeros[p] + (1 - zeros[p]) * t : zeros[p] * (1 - t);
        products[q] = product;
      }
      let coldShare = NaN;
      for (let p = 0; p < count; p++) {
        const zero = zeros[p];
        if (((pattern >> p) & 1) === 0) {
          if (coldShare !== coldShare) {
            let integral = 0;
            for (let q = 0; q < size; q++)
              integral += (weights[from + q] * products[q]) / (1 - nodes[from + q]);
            coldShare = -leaf * integral;
          }
          table[at + p] = coldShare;
          continue;
        }
        let integral = 0;
        for (let q = 0; q < size; q++)
          integral += (weights[from + q] * products[q]) / (zero + (1 - zero) * nodes[from + q]);
        table[at + p] = leaf * (1 - zero) * integral;
      }
    }
  }

  /** The tree's mean output over its training cover (what it predicts knowing no feature). */
  private expectation(node: number): number {
    const child = this.left[node];
    if (child < 0) return this.value[node];
    const share = this.leftShare[node];
    return share * this.expectation(child) + (1 - share) * this.expectation(child + 1);
  }

  /** The most distinct features split on along one path below `node` (`distinct` above it). */
  private mostDistinct(node: number, splitsOn: Int32Array, distinct: number): number {
    const child = this.left[node];
    if (child < 0) return distinct;
    const f = this.feature[node];
    const below = splitsOn[f] === 0 ? distinct + 1 : distinct;
    splitsOn[f]++;
    const most = Math.max(
      this.mostDistinct(child, splitsOn, below),
      this.mostDistinct(child + 1, splitsOn, below),
    );
    splitsOn[f]--;
    return most;
  }

  private depthOf(node: number): number {
    const child = this.left[node];
    return child < 0 ? 0 : 1 + Math.max(this.depthOf(child), this.depthOf(child + 1));
  }

  /**
   * The quadrature walk: `count` distinct features are split on above `node`, entry j holding feature
   * j's share of covered rows (zero) and whether this row agrees with every one of its splits (one) on
   * the way down; a feature split on again updates its entry for the subtree and restores it. Entry j's
   * factor is zero_j (1 − t) + one_j t, and the walk keeps the product of all factors at every
   * quadrature node t, level by level.
   */
  private walk(node: number, count: number, level: number): void {
    const split = this.feature[node];
    if (split < 0) {
      if (count > 0) this.leaf(node, count, level);
      return;
    }
    const x = this.row[split];
    const child = this.left[node];
    const goesLeft = x <= this.value[node] || (x !== x && this.missingLeft[node] === 1);
    const leftShare = this.leftShare[node];
    const hotShare = goesLeft ? leftShare : 1 - leftShare;
    const coldShare = 1 - hotShare;
    const hot = goesLeft ? child : child + 1;
    const cold = goesLeft ? child + 1 : child;
    const zeros = this.uniqueZero;
    const ones = this.uniqueOne;
    const products = this.products;
    const nodes = this.nodes;
    const size = this.ruleSize;
    const from = this.ruleFrom;
    const here = level * size;
    const next = here + size;
    const at = this.positionOf[split];
    if (at < 0) {
      this.uniqueFeature[count] = split;
      this.positionOf[split] = count;
      zeros[count] = hotShare;
      ones[count] = 1;
      for (let q = 0; q < size; q++)
        products[next + q] = products[here + q] * (hotShare + coldShare * nodes[from + q]);
      this.walk(hot, count + 1, level + 1);
      if (coldShare !== 0) {
        zeros[count] = coldShare;
        ones[count] = 0;
        for (let q = 0; q < size; q++)
          products[next + q] = products[here + q] * coldShare * (1 - nodes[from + q]);
        this.walk(cold, count + 1, level + 1);
      }
      this.positionOf[split] = -1;
      return;
    }
    // the feature's entry changes below: its old factor leaves the products (it is never 0: entries
    // whose fractions are both 0 are never walked into) and the new one comes in
    const zero = zeros[at];
    const one = ones[at];
    const hotZero = zero * hotShare;
    if (hotZero !== 0 || one !== 0) {
      zeros[at] = hotZero;
      for (let q = 0; q < size; q++) {
        const t = nodes[from + q];
        products[next + q] =
          (products[here + q] / (zero + (one - zero) * t)) * (hotZero + (one - hotZero) * t);
      }
      this.walk(hot, count, level + 1);
    }
    const coldZero = zero * coldShare;
    if (coldZero !== 0) {
      zeros[at] = coldZero;
      ones[at] = 0;
      for (let q = 0; q < size; q++) {
        const t = nodes[from + q];
        products[next + q] = (products[here + q] / (zero + (one - zero) * t)) * coldZero * (1 - t);
      }
      this.walk(cold, count, level + 1);
    }
    zeros[at] = zero;
    ones[at] = one;
  }

  /**
   * A leaf's share for entry j is value · (one_j − zero_j) · Σ over subsets S of the other entries of
   * |S|!(d − |S| − 1)!/d! · Π_S one · Π_rest zero, which equals value · (one_j − zero_j) · ∫₀¹ P(t) /
   * factor_j(t) dt with P the product of all d factors: a polynomial of degree d − 1, integrated exactly
   * by the tree's Gauss-Legendre rule. For an entry with one = 0 the factor is zero_j (1 − t), so its
   * share is −value · ∫ P / (1 − t), the same for all such entries.
   */
  private leaf(node: number, count: number, level: number): void {
    const zeros = this.uniqueZero;
    const ones = this.uniqueOne;
    const products = this.products;
    const nodes = this.nodes;
    const weights = this.weights;
    const size = this.ruleSize;
    const from = this.ruleFrom;
    const here = level * size;
    const leaf = this.value[node] * this.scale;
    const phi = this.phi;
    const offset = this.phiOffset;
    let coldShare = NaN;
    for (let j = 0; j < count; j++) {
      const feature = offset + this.uniqueFeature[j];
      if (ones[j] === 0) {
        if (coldShare !== coldShare) {
          let integral = 0;
          for (let q = 0; q < size; q++) integral += this.coldWeights[from + q] * products[here + q];
          coldShare = -leaf * integral;
        }
        phi[feature] += coldShare;
        continue;
      }
      const zero = zeros[j];
      let integral = 0;
      for (let q = 0; q < size; q++)
        integral += (weights[from + q] * products[here + q]) / (zero + (1 - zero) * nodes[from + q]);
      phi[feature] += leaf * (1 - zero) * integral;
    }
  }

  /**
   * Adds a leaf's share to every feature on its path: the leaf value times, per entry, the path's weight
   * with that entry unwound (UNWOUNDSUM) times (one − zero). One fractions are 0 or 1 (a row goes one
   * way), so the divisions by them vanish, and the sum for an entry with one = 0 is the same for all
   * such entries up to their zero fraction: it is computed once.
   */
  private addLeaf(node: number, at0: number, depth: number): void {
    const path = this.path;
    const leaf = this.value[node] * this.scale;
    const phi = this.phi;
    const offset = this.phiOffset;
    const up = this.up;
    const down = this.down;
    const fromDown = this.fromDown;
    const row = depth * this.tableWidth;
    const top = path[at0 + depth * ENTRY + WEIGHT];
    let coldSum = NaN;
    for (let i = 1; i <= depth; i++) {
      const entry = at0 + i * ENTRY;
      const one = path[entry + ONE];
      const zero = path[entry + ZERO];
      let total = 0;
      if (one !== 0) {
        let nextOnePortion = top;
        for (let j = depth - 1; j >= 0; j--) {
          const weight = nextOnePortion * up[row + j];
          total += weight;
          nextOnePortion = path[at0 + j * ENTRY + WEIGHT] - weight * zero * down[row + j];
        }
      } else {
        if (coldSum !== coldSum) {
          coldSum = 0;
          for (let j = depth - 1; j >= 0; j--) coldSum += path[at0 + j * ENTRY + WEIGHT] * fromDown[row + j];
        }
        total = coldSum / zero;
      }
      phi[offset + path[entry + FEATURE]] += total * (one - zero) * leaf;
    }
  }

  /**
   * Algorithm 2's RECURSE: the path of this level starts at entry `start` (the parent's at `parentStart`,
   * `depth` entries long), and its new entry records the parent's split feature with the share of covered
   * rows (zero) and of rows like this one (one) that come down to `node`.
   */
  private recurse(
    node: number,
    depth: number,
    parentStart: number,
    zeroFraction: number,
    oneFraction: number,
    parentFeature: number,
  ): void {
    const path = this.path;
    const start = depth === 0 ? 0 : parentStart + depth;
    const at0 = start * ENTRY;
    const from = parentStart * ENTRY;
    for (let j = 0; j < depth * ENTRY; j++) path[at0 + j] = path[from + j];
    extendPath(path, at0, depth, zeroFraction, oneFraction, parentFeature);

    const split = this.feature[node];
    if (split < 0) {
      this.addLeaf(node, at0, depth);
      return;
    }

    const x = this.row[split];
    const child = this.left[node];
    const goesLeft = x <= this.value[node] || (x !== x && this.missingLeft[node] === 1);
    const hot = goesLeft ? child : child + 1;
    const cold = goesLeft ? child + 1 : child;
    const leftShare = this.leftShare[node];
    const hotShare = goesLeft ? leftShare : 1 - leftShare;

    // a feature split on again higher up: undo its entry and redo it here with both splits' shares
    let incomingZero = 1;
    let incomingOne = 1;
    let nextDepth = depth;
    let at = 1;
    while (at <= depth && path[at0 + at * ENTRY + FEATURE] !== split) at++;
    if (at <= depth) {
      incomingZero = path[at0 + at * ENTRY + ZERO];
      incomingOne = path[at0 + at * ENTRY + ONE];
      unwindPath(path, at0, depth, at);
      nextDepth--;
    }
    const hotZero = hotShare * incomingZero;
    if (hotZero !== 0 || incomingOne !== 0)
      this.recurse(hot, nextDepth + 1, start, hotZero, incomingOne, split);
    // no covered row and no row like this one reaches the cold side: it adds nothing (and would divide by 0)
    const coldZero = (1 - hotShare) * incomingZero;
    if (coldZero !== 0) this.recurse(cold, nextDepth + 1, start, coldZero, 0, split);
  }
}
