// Trees stored for prediction as flat typed arrays (feature, threshold-or-leaf value, missing direction,
// left child; the right child is always left + 1), so scoring allocates nothing. One-row scoring uses a
// compact copy: 8-byte integer nodes compared against the row's rank among each feature's thresholds,
// eight trees walked in step so their memory reads overlap instead of waiting on each other. Batch
// scoring walks the same compact nodes in the tree kernels, eight rows a tree in step (BatchScoring).
import { errors } from '../../core/errors.js';
import {
  decodeFloat64,
  decodeInt32,
  decodeUint8,
  encodeFloat64,
  encodeInt32,
  encodeUint8,
} from '../codec.js';
import { resized, type Matrix } from '../types.js';
import { Arena, instantiateKernels, MISSING_RANK, type Kernels, type WasmMemory } from './kernels.js';

/** One tree's nodes, numbered from 0 (the root) with children in pairs. */
export interface CompactTree {
  feature: Int32Array;
  value: Float64Array;
  missingLeft: Uint8Array;
  /** Left child within this tree, or -1 for a leaf. */
  left: Int32Array;
  /** Gain of each split (0 for leaves), for feature importance. */
  gain: Float64Array;
  /** Training cover of each node (hessian sum: weighted row count for forests), for SHAP explanations. */
  cover?: Float64Array;
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
  /** Absent in models trained before covers were recorded. */
  cover?: string;
}

/** Rows whose values the plain batch walk keeps in cache while every tree walks them (see addTrees). */
const PREDICT_BLOCK_ROWS = 8192;
/** Rows whose ranks the kernels' batch walk keeps in the core's cache while every tree walks them. */
const KERNEL_BLOCK_ROWS = 512;
/** log2 of the bytes of one plane of ranks: a 16-bit rank for each row of a block. */
const PLANE_SHIFT = Math.log2(KERNEL_BLOCK_ROWS * 2);
/** Fewer rows are walked in JavaScript: the kernels' memory would cost more than it saves. */
const KERNEL_MIN_ROWS = 64;

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
  /** Training cover of each node (NaN where a tree came without one), for explanations. */
  cover: Float64Array = new Float64Array(1024);

  /** The one-row scoring layout, rebuilt after the trees change. */
  private scoring: RowScoring | undefined;
  /** The batch scoring in the kernels (null: beyond the compact packing), rebuilt after the trees change. */
  private batch: BatchScoring | null | undefined;

  append(tree: CompactTree): number {
    this.scoring = undefined;
    this.batch = undefined;
    const count = tree.feature.length;
    this.reserve(this.nodeCount + count, this.treeCount + 1);
    const offset = this.nodeCount;
    // block copies where the values move as they are: a forest appends only its hundred or so trees,
    // too few calls for a loop to be optimised
    this.feature.set(tree.feature, offset);
    this.value.set(tree.value, offset);
    this.missingLeft.set(tree.missingLeft, offset);
    if (tree.cover) this.cover.set(tree.cover, offset);
    else this.cover.fill(NaN, offset, offset + count);
    const left = tree.left;
    for (let k = 0; k < count; k++) this.left[offset + k] = left[k] >= 0 ? left[k] + offset : -1;
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
      this.cover = resized(this.cover, size);
    }
    if (trees > this.roots.length) this.roots = resized(this.roots, Math.max(trees, this.roots.length * 2));
  }

  /** Drops spare capacity once fitting is done. */
  trim(): void {
    this.scoring = undefined;
    this.batch = undefined;
    this.feature = this.feature.slice(0, this.nodeCount);
    this.value = this.value.slice(0, this.nodeCount);
    this.missingLeft = this.missingLeft.slice(0, this.nodeCount);
    this.left = this.left.slice(0, this.nodeCount);
    this.cover = this.cover.slice(0, this.nodeCount);
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
      node =
        x <= value[node] ? left[node] : x !== x && this.missingLeft[node] === 1 ? left[node] : left[node] + 1;
      f = feature[node];
    }
    return value[node];
  }

  /**
   * `initial` plus trees first, first + step, first + 2·step, … for one row (step > 1 for one class of
   * many), added in the same order as addTree does, so a row scores exactly as in a whole matrix.
   */
  sumRow(row: ArrayLike<number>, first: number, step: number, initial: number): number {
    this.scoring ??= compileRowScoring(this);
    return this.scoring.sum(row, first, step, initial);
  }

  /**
   * Adds every tree's output for every row of X to out[i * outputs + t % outputs], each row's trees added
   * in order, so the same sums as addTree tree after tree. A batch of at least KERNEL_MIN_ROWS rows is
   * scored by the kernels (see BatchScoring); a smaller one, or a model beyond the compact packing, by
   * the plain walk: the rows in blocks of PREDICT_BLOCK_ROWS, every tree over a block before the next.
   */
  addTrees(X: Matrix, out: Float64Array, outputs: number): void {
    if (X.rows >= KERNEL_MIN_ROWS) {
      if (this.batch === undefined || (this.batch !== null && this.batch.outputs !== outputs))
        this.batch = BatchScoring.compile(this, outputs);
      if (this.batch) {
        this.batch.addTrees(X, out);
        return;
      }
    }
    for (let from = 0; from < X.rows; from += PREDICT_BLOCK_ROWS) {
      const to = Math.min(X.rows, from + PREDICT_BLOCK_ROWS);
      for (let t = 0; t < this.treeCount; t++) this.addTree(t, X, out, outputs, t % outputs, from, to);
    }
  }

  /**
   * A batch scoring of this ensemble's trees whose blocks `threads` threads may score at once (see
   * BatchScoring.scoreBlock); null when the model is beyond the compact packing.
   */
  batchScoring(outputs: number, threads: number): BatchScoring | null {
    return BatchScoring.compile(this, outputs, threads);
  }

  /** Adds tree t's output for the rows [from, to) of X (every row by default) to out[i * stride + output]. */
  addTree(
    t: number,
    X: Matrix,
    out: Float64Array,
    stride: number,
    output: number,
    from = 0,
    to = X.rows,
  ): void {
    const feature = this.feature;
    const value = this.value;
    const left = this.left;
    const missingLeft = this.missingLeft;
    const columns = X.columns;
    const root = this.roots[t];
    for (let i = from; i < to; i++) {
      let node = root;
      let f = feature[node];
      while (f >= 0) {
        const x = columns[f][i];
        node =
          x <= value[node] ? left[node] : x !== x && missingLeft[node] === 1 ? left[node] : left[node] + 1;
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
      ...(this.hasCover() ? { cover: encodeFloat64(this.cover.subarray(0, this.nodeCount)) } : {}),
    };
  }

  /** Whether every node has its training cover (models trained before covers were recorded have none). */
  hasCover(): boolean {
    for (let k = 0; k < this.nodeCount; k++) if (!(this.cover[k] >= 0)) return false;
    return true;
  }

  /** Restores the arrays and checks that every walk stays inside them and ends at a leaf. */
  static fromJSON(json: EnsembleJSON, features: number, what: string): TreeEnsemble {
    if (!json || typeof json !== 'object')
      throw new errors.PW_BUNDLE_INVALID(`${what}: the trees are missing`);
    const ensemble = new TreeEnsemble();
    ensemble.roots = decodeInt32(json.roots, `${what} roots`);
    ensemble.feature = decodeInt32(json.feature, `${what} feature`);
    ensemble.value = decodeFloat64(json.value, `${what} value`);
    ensemble.missingLeft = decodeUint8(json.missingLeft, `${what} missingLeft`);
    ensemble.left = decodeInt32(json.left, `${what} left`);
    ensemble.cover =
      json.cover === undefined
        ? new Float64Array(ensemble.left.length).fill(NaN)
        : decodeFloat64(json.cover, `${what} cover`);
    ensemble.treeCount = ensemble.roots.length;
    ensemble.nodeCount = ensemble.feature.length;
    const nodes = ensemble.nodeCount;
    const consistent =
      json.trees === ensemble.treeCount &&
      json.nodes === nodes &&
      ensemble.value.length === nodes &&
      ensemble.missingLeft.length === nodes &&
      ensemble.left.length === nodes &&
      ensemble.cover.length === nodes;
    if (!consistent) throw new errors.PW_BUNDLE_INVALID(`${what}: the tree arrays have different lengths`);
    for (let t = 0; t < ensemble.treeCount; t++) {
      const root = ensemble.roots[t];
      if (!(root >= 0 && root < nodes))
        throw new errors.PW_BUNDLE_INVALID(`${what}: tree ${t} starts outside the node arrays`);
    }
    for (let k = 0; k < nodes; k++) {
      const f = ensemble.feature[k];
      const child = ensemble.left[k];
      const valid = f < 0 ? child === -1 : f < features && child > k && child + 1 < nodes;
      if (!valid)
        throw new errors.PW_BUNDLE_INVALID(
          `${what}: node ${k} points outside the tree (feature ${f}, child ${child})`,
        );
    }
    return ensemble;
  }
}

// MISSING_RANK (kernels.ts): the rank given to a missing value; leaves carry it as their index so that
// no rank moves past them
const MAX_THRESHOLDS = 0xfffe;
const MAX_FEATURES = 1 << 15;
/**
 * Below this many nodes the trees stay in the core's cache and the plain walk, whose branches the
 * processor predicts and runs ahead on, is faster (boosting's small trees); above it the walks wait
 * on memory and the compact, overlapped walk wins (forests of deep trees: 3x on 200 trees of depth 10).
 */
const COMPACT_MIN_NODES = 32_768;

interface RowScoring {
  sum(row: ArrayLike<number>, first: number, step: number, initial: number): number;
}

/** The compact layout of an ensemble's nodes (see compactLayout). */
interface CompactLayout {
  /** One past the highest feature a split reads. */
  features: number;
  /** Per feature, its distinct split thresholds, ascending. */
  thresholds: Float64Array[];
  /** Per node: (feature << 17 | missing-left << 16 | threshold index) and its left child; a leaf: MISSING_RANK and itself. */
  packed: Int32Array;
  /** Per node: its value at a leaf, 0 at a split. */
  leafValue: Float64Array;
}

/**
 * The compact layout: node k is two int32s, (feature << 17 | missing-left << 16 | threshold index) and
 * its left child; a leaf points to itself with index 0xffff, so a walk that reached its leaf stays there
 * while the others of its group go on. A row is first turned into its rank among each
 * feature's distinct thresholds (x <= threshold j exactly when rank <= j). Undefined for models beyond
 * the packing limits, which walk the plain arrays.
 */
function compactLayout(ensemble: TreeEnsemble): CompactLayout | undefined {
  const nodes = ensemble.nodeCount;
  const { feature, value, missingLeft, left } = ensemble;
  let features = 0;
  for (let k = 0; k < nodes; k++) if (feature[k] + 1 > features) features = feature[k] + 1;
  if (features > MAX_FEATURES) return undefined;
  const distinct = Array.from({ length: features }, () => new Set<number>());
  for (let k = 0; k < nodes; k++) if (feature[k] >= 0) distinct[feature[k]].add(value[k]);
  const thresholds = distinct.map((set) => Float64Array.from(set).sort());
  if (thresholds.some((list) => list.length > MAX_THRESHOLDS)) return undefined;

  const packed = new Int32Array(2 * nodes);
  const leafValue = new Float64Array(nodes);
  for (let k = 0; k < nodes; k++) {
    if (feature[k] < 0) {
      packed[2 * k] = MISSING_RANK;
      packed[2 * k + 1] = k;
      leafValue[k] = value[k];
    } else {
      packed[2 * k] =
        (feature[k] << 17) | (missingLeft[k] << 16) | binarySearch(thresholds[feature[k]], value[k]);
      packed[2 * k + 1] = left[k];
    }
  }
  return { features, thresholds, packed, leafValue };
}

function compileRowScoring(ensemble: TreeEnsemble): RowScoring {
  if (ensemble.nodeCount < COMPACT_MIN_NODES) return plainScoring(ensemble);
  const layout = compactLayout(ensemble);
  if (!layout) return plainScoring(ensemble);
  const { features, thresholds, packed, leafValue } = layout;
  const trees = ensemble.treeCount;
  const roots = ensemble.roots;
  const ranks = new Int32Array(Math.max(1, features));

  return {
    sum(row, first, step, initial) {
      for (let f = 0; f < features; f++) {
        const x = row[f];
        if (x !== x) {
          ranks[f] = MISSING_RANK;
          continue;
        }
        ranks[f] = binarySearch(thresholds[f], x);
      }
      let sum = initial;
      let t = first;
      for (; t + 7 * step < trees; t += 8 * step) {
        let n0 = roots[t];
        let n1 = roots[t + step];
        let n2 = roots[t + 2 * step];
        let n3 = roots[t + 3 * step];
        let n4 = roots[t + 4 * step];
        let n5 = roots[t + 5 * step];
        let n6 = roots[t + 6 * step];
        let n7 = roots[t + 7 * step];
        // until every walk is at a leaf (leaves point to themselves, so finished walks stay put)
        for (;;) {
          // right when the rank is past the threshold index, except a missing value at a missing-left split
          let code = packed[2 * n0];
          let rank = ranks[code >>> 17];
          n0 =
            packed[2 * n0 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          let leaves = code;
          code = packed[2 * n1];
          rank = ranks[code >>> 17];
          n1 =
            packed[2 * n1 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n2];
          rank = ranks[code >>> 17];
          n2 =
            packed[2 * n2 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n3];
          rank = ranks[code >>> 17];
          n3 =
            packed[2 * n3 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n4];
          rank = ranks[code >>> 17];
          n4 =
            packed[2 * n4 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n5];
          rank = ranks[code >>> 17];
          n5 =
            packed[2 * n5 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n6];
          rank = ranks[code >>> 17];
          n6 =
            packed[2 * n6 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          code = packed[2 * n7];
          rank = ranks[code >>> 17];
          n7 =
            packed[2 * n7 + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          leaves &= code;
          // a leaf's code is exactly MISSING_RANK; a split's code always has a bit outside it or an index below it
          if (leaves === MISSING_RANK) break;
        }
        sum += leafValue[n0];
        sum += leafValue[n1];
        sum += leafValue[n2];
        sum += leafValue[n3];
        sum += leafValue[n4];
        sum += leafValue[n5];
        sum += leafValue[n6];
        sum += leafValue[n7];
      }
      for (; t < trees; t += step) {
        let node = roots[t];
        let code = packed[2 * node];
        while (code !== MISSING_RANK) {
          const rank = ranks[code >>> 17];
          node =
            packed[2 * node + 1] +
            (+(rank > (code & 0xffff)) & (+(rank !== MISSING_RANK) | (((code >> 16) & 1) ^ 1)));
          code = packed[2 * node];
        }
        sum += leafValue[node];
      }
      return sum;
    },
  };
}

/** Walks the plain arrays (any model size). */
function plainScoring(ensemble: TreeEnsemble): RowScoring {
  const { feature, value, left, missingLeft, roots } = ensemble;
  const trees = ensemble.treeCount;
  return {
    sum(row, first, step, initial) {
      let sum = initial;
      for (let t = first; t < trees; t += step) {
        let node = roots[t];
        let f = feature[node];
        while (f >= 0) {
          const x = row[f];
          node =
            x <= value[node] ? left[node] : x !== x && missingLeft[node] === 1 ? left[node] : left[node] + 1;
          f = feature[node];
        }
        sum += value[node];
      }
      return sum;
    },
  };
}

function binarySearch(sorted: Float64Array, value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < value) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Batch scoring in the tree kernels: the compact layout (see compactLayout) copied once into the
 * kernels' memory, each child as its address; then, KERNEL_BLOCK_ROWS rows at a time, each feature's
 * values turned into their ranks (rankValues, a plane for each side missing values may go to) and every
 * tree walked by a few rows in step with no branch per node (walkTrees), each row's trees added in
 * order: the same sums as the plain walk, bit for bit, without its branch on every split, which the
 * processor mispredicts about half the time.
 */
export class BatchScoring {
  /** Rows a block holds: the unit that threads take in turn. */
  static readonly blockRows = KERNEL_BLOCK_ROWS;

  private constructor(
    readonly outputs: number,
    private readonly kernels: Kernels,
    private readonly shape: ScoringShape,
  ) {}

  /**
   * Null when the model is beyond the compact packing (the plain walk scores it then). `threads`: how
   * many threads may score blocks of rows at once, each with its own scratch (see scoreBlock).
   */
  static compile(ensemble: TreeEnsemble, outputs: number, threads = 1): BatchScoring | null {
    const layout = compactLayout(ensemble);
    if (!layout) return null;
    const { features, thresholds, packed, leafValue } = layout;
    const nodes = ensemble.nodeCount;
    const trees = ensemble.treeCount;
    // the features the splits read, each given two planes of ranks in turn
    const planeOf = new Int32Array(features).fill(-1);
    const used: ScoringShape['used'] = [];
    const arena = new Arena();
    thresholds.forEach((list, feature) => {
      if (list.length === 0) return;
      let steps = 0;
      while ((1 << steps) - 1 < list.length) steps++;
      planeOf[feature] = 2 * used.length;
      used.push({ feature, at: arena.reserve(((1 << steps) - 1) * 8), steps });
    });
    const at = {
      packed: arena.reserve(nodes * 8),
      leaves: arena.reserve(nodes * 8),
      roots: arena.reserve(trees * 4),
    };
    const scratch = Array.from({ length: Math.max(1, threads) }, () => ({
      column: arena.reserve(KERNEL_BLOCK_ROWS * 8),
      // a leaf's step reads plane 0, so there is one even for trees of leaves only
      ranks: arena.reserve(Math.max(1, 2 * used.length) << PLANE_SHIFT),
      out: arena.reserve(KERNEL_BLOCK_ROWS * outputs * 8),
    }));
    const memory = arena.create();
    const { buffer } = memory;
    for (const { feature, at: thresholdsAt, steps } of used) {
      const padded = new Float64Array(buffer, thresholdsAt, (1 << steps) - 1);
      padded.fill(Infinity);
      padded.set(thresholds[feature]);
    }
    // each code's feature becomes its first plane (the second is its missing-left one), each child its address
    const nodesThere = new Int32Array(buffer, at.packed, 2 * nodes);
    for (let k = 0; k < nodes; k++) {
      const code = packed[2 * k];
      nodesThere[2 * k] =
        code === MISSING_RANK ? code : ((planeOf[code >>> 17] >> 1) << 17) | (code & 0x1ffff);
      nodesThere[2 * k + 1] = at.packed + 8 * packed[2 * k + 1];
    }
    new Float64Array(buffer, at.leaves, nodes).set(leafValue);
    const rootsThere = new Int32Array(buffer, at.roots, trees);
    for (let t = 0; t < trees; t++) rootsThere[t] = at.packed + 8 * ensemble.roots[t];
    return new BatchScoring(outputs, instantiateKernels(memory), { memory, used, trees, at, scratch });
  }

  /** What another thread needs to score blocks with this scoring (its memory is shared, not copied). */
  get shared(): SharedScoring {
    return { ...this.shape, outputs: this.outputs };
  }

  /** The scoring `shared` describes, on the thread that receives it, over the module it was compiled from. */
  static attach(shared: SharedScoring, module: object): BatchScoring {
    return new BatchScoring(shared.outputs, instantiateKernels(shared.memory, module), shared);
  }

  /** Scratch sets: the threads that may score blocks at once. */
  get threads(): number {
    return this.shape.scratch.length;
  }

  addTrees(X: Matrix, out: Float64Array): void {
    for (let from = 0; from < X.rows; from += KERNEL_BLOCK_ROWS) this.scoreBlock(X, out, out, from, 0);
  }

  /**
   * Rows [from, from + KERNEL_BLOCK_ROWS) of X (fewer at the end): their values in `source` plus every
   * tree, written to `target` (the same array, or another of the same length), with scratch set
   * `thread`. Blocks are independent, so threads with their own scratch can score them at once.
   */
  scoreBlock(X: Matrix, source: Float64Array, target: Float64Array, from: number, thread: number): void {
    const { kernels, outputs } = this;
    const { memory, used, trees, at } = this.shape;
    const scratch = this.shape.scratch[thread];
    const column = new Float64Array(memory.buffer, scratch.column, KERNEL_BLOCK_ROWS);
    const block = new Float64Array(memory.buffer, scratch.out, KERNEL_BLOCK_ROWS * outputs);
    const rows = Math.min(KERNEL_BLOCK_ROWS, X.rows - from);
    for (let u = 0; u < used.length; u++) {
      const { feature, at: thresholdsAt, steps } = used[u];
      column.set(X.columns[feature].subarray(from, from + rows));
      const plane = scratch.ranks + ((2 * u) << PLANE_SHIFT);
      kernels.rankValues(scratch.column, rows, thresholdsAt, steps, plane, plane + (1 << PLANE_SHIFT));
    }
    block.set(source.subarray(from * outputs, (from + rows) * outputs));
    kernels.walkTrees(
      at.roots,
      at.leaves,
      at.packed,
      trees,
      outputs,
      scratch.ranks,
      PLANE_SHIFT,
      rows,
      scratch.out,
    );
    target.set(block.subarray(0, rows * outputs), from * outputs);
  }
}

/** Where a BatchScoring's tables and each thread's scratch are in its (shared) memory. */
interface ScoringShape {
  memory: WasmMemory;
  /** The features the splits read, with their padded thresholds' address and halvings. */
  used: { feature: number; at: number; steps: number }[];
  trees: number;
  at: { packed: number; leaves: number; roots: number };
  /** One set a thread: a block's values of one feature, their ranks (two planes a feature), its sums. */
  scratch: { column: number; ranks: number; out: number }[];
}

/** A BatchScoring as another thread receives it (BatchScoring.shared, BatchScoring.attach). */
export type SharedScoring = ScoringShape & { outputs: number };
