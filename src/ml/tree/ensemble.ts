// Trees stored for prediction as flat typed arrays (feature, threshold-or-leaf value, missing direction,
// left child; the right child is always left + 1), so scoring a row walks arrays and allocates nothing.
import { errors } from '../../core/errors.js';
import { decodeFloat64, decodeInt32, decodeUint8, encodeFloat64, encodeInt32, encodeUint8 } from '../codec.js';
import type { Matrix } from '../types.js';

/** One tree's nodes, numbered from 0 (the root) with children in pairs. */
export interface CompactTree {
  feature: Int32Array;
  value: Float64Array;
  missingLeft: Uint8Array;
  /** Left child within this tree, or -1 for a leaf. */
  left: Int32Array;
  /** Gain of each split (0 for leaves), for feature importance. */
  gain: Float64Array;
}

export interface EnsembleJSON {
  trees: number;
  nodes: number;
  /** base64 little-endian typed arrays */
  roots: string;
  feature: string;
  value: string;
  missingLeft: string;
  left: string;
}

export class TreeEnsemble {
  treeCount = 0;
  nodeCount = 0;
  roots: Int32Array = new Int32Array(64);
  /** Split feature, or -1 at a leaf. */
  feature: Int32Array = new Int32Array(1024);
  /** Split threshold (x <= value goes left), or the leaf output. */
  value: Float64Array = new Float64Array(1024);
  /** 1 when a missing value goes left at this split. */
  missingLeft: Uint8Array = new Uint8Array(1024);
  /** Index of the left child in these arrays (the right one follows it), or -1 at a leaf. */
  left: Int32Array = new Int32Array(1024);

  append(tree: CompactTree): number {
    const count = tree.feature.length;
    this.reserve(this.nodeCount + count, this.treeCount + 1);
    const offset = this.nodeCount;
    for (let k = 0; k < count; k++) {
      const at = offset + k;
      this.feature[at] = tree.feature[k];
      this.value[at] = tree.value[k];
      this.missingLeft[at] = tree.missingLeft[k];
      this.left[at] = tree.left[k] >= 0 ? tree.left[k] + offset : -1;
    }
    this.roots[this.treeCount] = offset;
    this.nodeCount += count;
    return this.treeCount++;
  }

  private reserve(nodes: number, trees: number): void {
    if (nodes > this.feature.length) {
      const size = Math.max(nodes, this.feature.length * 2);
      this.feature = resized(this.feature, size);
      this.value = resized(this.value, size);
      this.missingLeft = resized(this.missingLeft, size);
      this.left = resized(this.left, size);
    }
    if (trees > this.roots.length) this.roots = resized(this.roots, Math.max(trees, this.roots.length * 2));
  }

  /** Drops spare capacity once fitting is done. */
  trim(): void {
    this.feature = this.feature.slice(0, this.nodeCount);
    this.value = this.value.slice(0, this.nodeCount);
    this.missingLeft = this.missingLeft.slice(0, this.nodeCount);
    this.left = this.left.slice(0, this.nodeCount);
    this.roots = this.roots.slice(0, this.treeCount);
  }

  /** The output of tree `t` for a row given as a dense array of feature values. */
  treeOutput(t: number, row: ArrayLike<number>): number {
    const feature = this.feature;
    const value = this.value;
    const left = this.left;
    let node = this.roots[t];
    let f = feature[node];
    while (f >= 0) {
      const x = row[f];
      node = x <= value[node] ? left[node] : x !== x && this.missingLeft[node] === 1 ? left[node] : left[node] + 1;
      f = feature[node];
    }
    return value[node];
  }

  /** Sum of trees first, first + step, first + 2·step, … for one row (step > 1 for one class of many). */
  sumRow(row: ArrayLike<number>, first: number, step: number): number {
    const feature = this.feature;
    const value = this.value;
    const left = this.left;
    const missingLeft = this.missingLeft;
    const roots = this.roots;
    let sum = 0;
    for (let t = first; t < this.treeCount; t += step) {
      let node = roots[t];
      let f = feature[node];
      while (f >= 0) {
        const x = row[f];
        node = x <= value[node] ? left[node] : x !== x && missingLeft[node] === 1 ? left[node] : left[node] + 1;
        f = feature[node];
      }
      sum += value[node];
    }
    return sum;
  }

  /** Adds tree t's output for every row of X to out[i * stride + output]. */
  addTree(t: number, X: Matrix, out: Float64Array, stride: number, output: number): void {
    const feature = this.feature;
    const value = this.value;
    const left = this.left;
    const missingLeft = this.missingLeft;
    const columns = X.columns;
    const root = this.roots[t];
    for (let i = 0; i < X.rows; i++) {
      let node = root;
      let f = feature[node];
      while (f >= 0) {
        const x = columns[f][i];
        node = x <= value[node] ? left[node] : x !== x && missingLeft[node] === 1 ? left[node] : left[node] + 1;
        f = feature[node];
      }
      out[i * stride + output] += value[node];
    }
  }

  toJSON(): EnsembleJSON {
    return {
      trees: this.treeCount,
      nodes: this.nodeCount,
      roots: encodeInt32(this.roots.subarray(0, this.treeCount)),
      feature: encodeInt32(this.feature.subarray(0, this.nodeCount)),
      value: encodeFloat64(this.value.subarray(0, this.nodeCount)),
      missingLeft: encodeUint8(this.missingLeft.subarray(0, this.nodeCount)),
      left: encodeInt32(this.left.subarray(0, this.nodeCount)),
    };
  }

  /** Restores the arrays and checks that every walk stays inside them and ends at a leaf. */
  static fromJSON(json: EnsembleJSON, features: number, what: string): TreeEnsemble {
    if (!json || typeof json !== 'object') throw new errors.PW_BUNDLE_INVALID(`${what}: the trees are missing`);
    const ensemble = new TreeEnsemble();
    ensemble.roots = decodeInt32(json.roots, `${what} roots`);
    ensemble.feature = decodeInt32(json.feature, `${what} feature`);
    ensemble.value = decodeFloat64(json.value, `${what} value`);
    ensemble.missingLeft = decodeUint8(json.missingLeft, `${what} missingLeft`);
    ensemble.left = decodeInt32(json.left, `${what} left`);
    ensemble.treeCount = ensemble.roots.length;
    ensemble.nodeCount = ensemble.feature.length;
    const nodes = ensemble.nodeCount;
    const consistent =
      json.trees === ensemble.treeCount &&
      json.nodes === nodes &&
      ensemble.value.length === nodes &&
      ensemble.missingLeft.length === nodes &&
      ensemble.left.length === nodes;
    if (!consistent) throw new errors.PW_BUNDLE_INVALID(`${what}: the tree arrays have different lengths`);
    for (let t = 0; t < ensemble.treeCount; t++) {
      const root = ensemble.roots[t];
      if (!(root >= 0 && root < nodes)) throw new errors.PW_BUNDLE_INVALID(`${what}: tree ${t} starts outside the node arrays`);
    }
    for (let k = 0; k < nodes; k++) {
      const f = ensemble.feature[k];
      const child = ensemble.left[k];
      const valid = f < 0 ? child === -1 : f < features && child > k && child + 1 < nodes;
      if (!valid) throw new errors.PW_BUNDLE_INVALID(`${what}: node ${k} points outside the tree (feature ${f}, child ${child})`);
    }
    return ensemble;
  }
}

function resized<T extends Int32Array | Float64Array | Uint8Array>(array: T, size: number): T {
  const next = new (array.constructor as new (length: number) => T)(size);
  next.set(array.subarray(0, Math.min(array.length, size)) as never);
  return next;
}
