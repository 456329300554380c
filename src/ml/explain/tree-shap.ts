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
import { buildTables, compileTableWalk } from './tree-shap-table.js';

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
   * trees that would go past it, that have a path with more than MOST_TABLE_BITS distinct features, or
   * a split on a non-finite threshold, are explained by quadrature instead (see tree-shap-table.ts).
   */
  tableBudget?: number;
}

/**
 * `table` (default) precomputes, per small subtree, its leaves' shares for every way a row can agree or
 * disagree with its path's features and go at its splits (after Fast TreeSHAP v2, Yang 2021), so a row
 * costs one pass over the splits and one table row per subtree; `quadrature` and `extend-unwind`
 * compute each leaf's share per row.
 */
export type TreeShapAlgorithm = 'table' | 'quadrature' | 'extend-unwind';

/** Default table budget: 4M numbers, 32 MB per explained model. */
export const DEFAULT_TABLE_BUDGET = 1 << 22;

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

/**
 * A row's TreeSHAP work over `ensemble`, in path steps: every leaf's path is walked and unwound once a
 * level, so each leaf costs about its depth squared. What a global explanation budgets its rows by.
 */
export function treeShapWork(ensemble: TreeEnsemble): number {
  const { feature, left } = ensemble;
  let work = 0;
  const stack: number[] = [];
  for (let t = 0; t < ensemble.treeCount; t++) {
    // (node, depth) pairs, depth first
    stack.push(ensemble.roots[t], 1);
    while (stack.length > 0) {
      const depth = stack.pop() as number;
      const node = stack.pop() as number;
      if (feature[node] < 0) work += depth * depth;
      else stack.push(left[node], depth + 1, left[node] + 1, depth + 1);
    }
  }
  return work;
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
  /**
   * Which trees have tables, and their walk (see tree-shap-table.ts); the tables themselves are held by
   * the walk only (a WebAssembly walk copies them into its own memory).
   */
  private readonly tabled: Uint8Array;
  private readonly walkTables: ((row: Float64Array, phi: Float64Array) => void) | undefined;
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
    const tables = buildTables(
      {
        trees: this.trees,
        roots: this.roots,
        feature: this.feature,
        value: this.value,
        missingLeft: this.missingLeft,
        left: this.left,
        leftShare: this.leftShare,
        features,
        outputs,
        scale,
      },
      this.algorithm === 'table' ? (settings.tableBudget ?? DEFAULT_TABLE_BUDGET) : -1,
    );
    this.tabled = tables.tabled;
    this.walkTables = tables.units > 0 ? compileTableWalk(tables, features, outputs) : undefined;
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
  }

  /** Whether tree t is explained from precomputed tables (false: by quadrature, per row). */
  isTabled(t: number): boolean {
    return this.tabled[t] === 1;
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
    if (this.walkTables) this.walkTables(this.row, phi);
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
