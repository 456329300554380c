// Exact SHAP values of tree ensembles: path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2),
// which follows every root-to-leaf path once while keeping, per subset size, the share of feature subsets
// that reach it (EXTEND / UNWIND). Absent features follow the nodes' training covers; one row allocates nothing.
import { errors } from '../../core/errors.js';
import type { TreeEnsemble } from '../tree/ensemble.js';

export interface TreeShapSettings {
  /** Columns of a row. */
  features: number;
  /** Model outputs: tree t adds to output t mod outputs (one tree per class and round in boosting). */
  outputs: number;
  /** The model's starting raw score per output (boosting's baseline; zeros for a forest). */
  baseline: ArrayLike<number>;
  /** Factor on every tree's output: 1 for boosting, 1 / trees for a forest's average. */
  scale: number;
}

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
  /** The unique-path stack: every recursion level copies its parent's path just past it. */
  private readonly pathFeature: Int32Array;
  private readonly pathZero: Float64Array;
  private readonly pathOne: Float64Array;
  private readonly pathWeight: Float64Array;
  /** Per-call state of the recursion (fields, so the recursive calls pass fewer arguments). */
  private row: ArrayLike<number> = [];
  private phi: Float64Array = new Float64Array(0);
  private phiOffset = 0;

  constructor(ensemble: TreeEnsemble, settings: TreeShapSettings) {
    if (!ensemble.hasCover()) {
      throw new errors.PW_EXPLAIN_UNAVAILABLE(
        'The model was trained before tree nodes recorded their training cover, so it cannot be explained',
      );
    }
    const { features, outputs, baseline, scale } = settings;
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
    const size = ((deepest + 2) * (deepest + 3)) / 2;
    this.pathFeature = new Int32Array(size);
    this.pathZero = new Float64Array(size);
    this.pathOne = new Float64Array(size);
    this.pathWeight = new Float64Array(size);
  }

  /**
   * Writes the SHAP values of `row` into `phi`: output o's value for column f at o · features + f.
   * For every output, base[o] plus its values is the model's raw output for the row.
   */
  explainRow(row: ArrayLike<number>, phi: Float64Array): void {
    const features = this.features;
    phi.fill(0, 0, this.outputs * features);
    this.row = row;
    this.phi = phi;
    for (let t = 0; t < this.trees; t++) {
      this.phiOffset = (t % this.outputs) * features;
      this.recurse(this.roots[t], 0, 0, 1, 1, -1);
    }
    this.row = [];
  }

  /** The tree's mean output over its training cover (what it predicts knowing no feature). */
  private expectation(node: number): number {
    const child = this.left[node];
    if (child < 0) return this.value[node];
    const share = this.leftShare[node];
    return share * this.expectation(child) + (1 - share) * this.expectation(child + 1);
  }

  private depthOf(node: number): number {
    const child = this.left[node];
    return child < 0 ? 0 : 1 + Math.max(this.depthOf(child), this.depthOf(child + 1));
  }

  /**
   * Algorithm 2's RECURSE: `start` is where this level's copy of the path begins, `depth` the index its
   * new entry takes; the entry records the split feature of the parent with the share of covered rows
   * (zero) and of rows like this one (one) that come down to `node`.
   */
  private recurse(
    node: number,
    depth: number,
    parentStart: number,
    zeroFraction: number,
    oneFraction: number,
    parentFeature: number,
  ): void {
    const pathFeature = this.pathFeature;
    const pathZero = this.pathZero;
    const pathOne = this.pathOne;
    const pathWeight = this.pathWeight;
    // this level's path begins right after the parent's (which has depth entries)
    const start = depth === 0 ? 0 : parentStart + depth;
    if (depth > 0) {
      pathFeature.copyWithin(start, parentStart, parentStart + depth);
      pathZero.copyWithin(start, parentStart, parentStart + depth);
      pathOne.copyWithin(start, parentStart, parentStart + depth);
      pathWeight.copyWithin(start, parentStart, parentStart + depth);
    }
    extendPath(
      pathFeature,
      pathZero,
      pathOne,
      pathWeight,
      start,
      depth,
      zeroFraction,
      oneFraction,
      parentFeature,
    );

    const split = this.feature[node];
    if (split < 0) {
      const leaf = this.value[node] * this.scale;
      const phi = this.phi;
      const offset = this.phiOffset;
      for (let i = 1; i <= depth; i++) {
        const weight = unwoundPathSum(pathZero, pathOne, pathWeight, start, depth, i);
        phi[offset + pathFeature[start + i]] += weight * (pathOne[start + i] - pathZero[start + i]) * leaf;
      }
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
    while (at <= depth && pathFeature[start + at] !== split) at++;
    if (at <= depth) {
      incomingZero = pathZero[start + at];
      incomingOne = pathOne[start + at];
      unwindPath(pathFeature, pathZero, pathOne, pathWeight, start, depth, at);
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

/** EXTEND: adds an entry for `feature` at index `depth` and updates the subset-size weights. */
function extendPath(
  pathFeature: Int32Array,
  pathZero: Float64Array,
  pathOne: Float64Array,
  pathWeight: Float64Array,
  start: number,
  depth: number,
  zeroFraction: number,
  oneFraction: number,
  feature: number,
): void {
  pathFeature[start + depth] = feature;
  pathZero[start + depth] = zeroFraction;
  pathOne[start + depth] = oneFraction;
  pathWeight[start + depth] = depth === 0 ? 1 : 0;
  const size = depth + 1;
  for (let i = depth - 1; i >= 0; i--) {
    pathWeight[start + i + 1] += (oneFraction * pathWeight[start + i] * (i + 1)) / size;
    pathWeight[start + i] = (zeroFraction * pathWeight[start + i] * (depth - i)) / size;
  }
}

/** UNWIND: removes the entry at `index`, undoing its EXTEND, and closes the gap. */
function unwindPath(
  pathFeature: Int32Array,
  pathZero: Float64Array,
  pathOne: Float64Array,
  pathWeight: Float64Array,
  start: number,
  depth: number,
  index: number,
): void {
  const oneFraction = pathOne[start + index];
  const zeroFraction = pathZero[start + index];
  let nextOnePortion = pathWeight[start + depth];
  const size = depth + 1;
  for (let i = depth - 1; i >= 0; i--) {
    if (oneFraction !== 0) {
      const kept = pathWeight[start + i];
      pathWeight[start + i] = (nextOnePortion * size) / ((i + 1) * oneFraction);
      nextOnePortion = kept - (pathWeight[start + i] * zeroFraction * (depth - i)) / size;
    } else {
      pathWeight[start + i] = (pathWeight[start + i] * size) / (zeroFraction * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    pathFeature[start + i] = pathFeature[start + i + 1];
    pathZero[start + i] = pathZero[start + i + 1];
    pathOne[start + i] = pathOne[start + i + 1];
  }
}

/** The total weight the path would have with the entry at `index` unwound, without changing the path. */
function unwoundPathSum(
  pathZero: Float64Array,
  pathOne: Float64Array,
  pathWeight: Float64Array,
  start: number,
  depth: number,
  index: number,
): number {
  const oneFraction = pathOne[start + index];
  const zeroFraction = pathZero[start + index];
  let nextOnePortion = pathWeight[start + depth];
  let total = 0;
  const size = depth + 1;
  if (oneFraction !== 0) {
    for (let i = depth - 1; i >= 0; i--) {
      const weight = (nextOnePortion * size) / ((i + 1) * oneFraction);
      total += weight;
      nextOnePortion = pathWeight[start + i] - (weight * zeroFraction * (depth - i)) / size;
    }
  } else {
    for (let i = depth - 1; i >= 0; i--)
      total += (pathWeight[start + i] * size) / (zeroFraction * (depth - i));
  }
  return total;
}
