// Exact k-nearest-neighbour search with a k-d tree over flat row-major points (Euclidean distance).
// Tabular features after one-hot encoding have a low intrinsic dimension and many repeated values,
// which is where a k-d tree prunes well; SMOTE and ENN use it on hundreds of thousands of rows.

const LEAF_SIZE = 16;

export class KdTree {
  /** Point indices, permuted so that every node owns a contiguous range. */
  private readonly order: Int32Array;
  private readonly nodeStart: Int32Array;
  private readonly nodeEnd: Int32Array;
  private readonly nodeDimension: Int32Array;
  /** The largest coordinate of the low child and the smallest of the high child along the split dimension. */
  private readonly nodeLowMax: Float64Array;
  private readonly nodeHighMin: Float64Array;
  private readonly nodeLeft: Int32Array;
  private readonly nodeRight: Int32Array;
  private nodes = 0;
  // Query state, kept on the instance so a query allocates nothing.
  private bestDistances = new Float64Array(0);
  private bestIndices = new Int32Array(0);
  private found = 0;
  private wanted = 0;
  private excluded = -1;
  private readonly offsets: Float64Array;

  /** `points` holds `count` rows of `dimensions` values, row after row; it is read, not copied. */
  constructor(
    private readonly points: Float64Array,
    readonly count: number,
    readonly dimensions: number,
  ) {
    this.order = new Int32Array(count);
    for (let i = 0; i < count; i++) this.order[i] = i;
    // Value splits may be uneven, so allow for the most nodes a tree over `count` points can have.
    const capacity = Math.max(1, 2 * count);
    this.nodeStart = new Int32Array(capacity);
    this.nodeEnd = new Int32Array(capacity);
    this.nodeDimension = new Int32Array(capacity);
    this.nodeLowMax = new Float64Array(capacity);
    this.nodeHighMin = new Float64Array(capacity);
    this.offsets = new Float64Array(dimensions);
    this.nodeLeft = new Int32Array(capacity);
    this.nodeRight = new Int32Array(capacity);
    if (count > 0) this.build(0, count);
  }

  private build(start: number, end: number): number {
    const node = this.nodes++;
    this.nodeStart[node] = start;
    this.nodeEnd[node] = end;
    this.nodeLeft[node] = -1;
    this.nodeRight[node] = -1;
    if (end - start <= LEAF_SIZE) return node;
    // Split the dimension of widest spread.
    const d = this.dimensions;
    let dimension = 0;
    let widest = -1;
    for (let k = 0; k < d; k++) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = start; i < end; i++) {
        const value = this.points[this.order[i] * d + k];
        if (value < min) min = value;
        if (value > max) max = value;
      }
      if (max - min > widest) {
        widest = max - min;
        dimension = k;
      }
    }
    if (widest <= 0) return node; // every point is the same: a leaf, however large
    // Split by value near the median, with every copy of a value on one side: with repeated values
    // (one-hot and binary columns) the children's ranges then leave a gap that the search can prune on.
    const middle = (start + end) >>> 1;
    this.select(start, end - 1, middle, dimension);
    const pivot = this.points[this.order[middle] * d + dimension];
    let boundary = this.partition(start, end, dimension, pivot, false);
    if (boundary === start) boundary = this.partition(start, end, dimension, pivot, true);
    let lowMax = -Infinity;
    let highMin = Infinity;
    for (let i = start; i < end; i++) {
      const value = this.points[this.order[i] * d + dimension];
      if (i < boundary) {
        if (value > lowMax) lowMax = value;
      } else if (value < highMin) highMin = value;
    }
    this.nodeDimension[node] = dimension;
    this.nodeLowMax[node] = lowMax;
    this.nodeHighMin[node] = highMin;
    this.nodeLeft[node] = this.build(start, boundary);
    this.nodeRight[node] = this.build(boundary, end);
    return node;
  }

  /** Moves points with coordinate < pivot (or <= pivot when `inclusive`) to the front; returns where the rest begins. */
  private partition(
    start: number,
    end: number,
    dimension: number,
    pivot: number,
    inclusive: boolean,
  ): number {
    const order = this.order;
    const points = this.points;
    const d = this.dimensions;
    let boundary = start;
    for (let i = start; i < end; i++) {
      const value = points[order[i] * d + dimension];
      if (inclusive ? value <= pivot : value < pivot) {
        const swap = order[i];
        order[i] = order[boundary];
        order[boundary] = swap;
        boundary++;
      }
    }
    return boundary;
  }

  /** Quickselect on `order[low..high]` by coordinate `dimension`, placing the k-th smallest at k. */
  private select(low: number, high: number, k: number, dimension: number): void {
    const order = this.order;
    const points = this.points;
    const d = this.dimensions;
    while (high > low) {
      // Median of three as pivot, to avoid the quadratic case on sorted input.
      const middle = (low + high) >>> 1;
      const a = points[order[low] * d + dimension];
      const b = points[order[middle] * d + dimension];
      const c = points[order[high] * d + dimension];
      const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
      let i = low;
      let j = high;
      while (i <= j) {
        while (points[order[i] * d + dimension] < pivot) i++;
        while (points[order[j] * d + dimension] > pivot) j--;
        if (i <= j) {
          const swap = order[i];
          order[i] = order[j];
          order[j] = swap;
          i++;
          j--;
        }
      }
      if (k <= j) high = j;
      else if (k >= i) low = i;
      else return;
    }
  }

  /**
   * Writes the indices of the `k` nearest points to `query` (nearest first) into `out`, skipping
   * point `exclude` (pass the query's own index, or -1); returns how many were found.
   */
  nearest(query: Float64Array, queryOffset: number, k: number, out: Int32Array, exclude = -1): number {
    if (this.bestDistances.length < k) {
      this.bestDistances = new Float64Array(k);
      this.bestIndices = new Int32Array(k);
    }
    this.found = 0;
    this.wanted = k;
    this.excluded = exclude;
    this.offsets.fill(0);
    if (this.count > 0 && k > 0) this.search(0, query, queryOffset, 0);
    for (let i = 0; i < this.found; i++) out[i] = this.bestIndices[i];
    return this.found;
  }

  /**
   * `boxDistance` is a lower bound of the squared distance from the query to any point of the node,
   * kept incrementally from the per-dimension offsets of the node's box (Arya and Mount).
   */
  private search(node: number, query: Float64Array, offset: number, boxDistance: number): void {
    const left = this.nodeLeft[node];
    if (left < 0) {
      this.scanLeaf(node, query, offset);
      return;
    }
    const dimension = this.nodeDimension[node];
    const value = query[offset + dimension];
    const toLow = value - this.nodeLowMax[node]; // > 0 when the query is above the low child's range
    const toHigh = this.nodeHighMin[node] - value; // > 0 when the query is below the high child's range
    const lowIsNear = toLow < toHigh;
    const near = lowIsNear ? left : this.nodeRight[node];
    const far = lowIsNear ? this.nodeRight[node] : left;
    const gap = lowIsNear ? toHigh : toLow;
    this.search(near, query, offset, boxDistance);
    const previous = this.offsets[dimension];
    const farDistance = boxDistance - previous * previous + gap * gap;
    if (this.found < this.wanted || farDistance < this.bestDistances[this.found - 1]) {
      this.offsets[dimension] = gap;
      this.search(far, query, offset, farDistance);
      this.offsets[dimension] = previous;
    }
  }

  private scanLeaf(node: number, query: Float64Array, offset: number): void {
    const d = this.dimensions;
    const points = this.points;
    const order = this.order;
    const best = this.bestDistances;
    const indices = this.bestIndices;
    const k = this.wanted;
    for (let p = this.nodeStart[node], end = this.nodeEnd[node]; p < end; p++) {
      const index = order[p];
      if (index === this.excluded) continue;
      const worst = this.found < k ? Infinity : best[k - 1];
      let distance = 0;
      const base = index * d;
      for (let j = 0; j < d && distance < worst; j++) {
        const delta = points[base + j] - query[offset + j];
        distance += delta * delta;
      }
      if (distance >= worst) continue;
      // Insert into the sorted list of the best k (k is small).
      let position = this.found < k ? this.found++ : k - 1;
      while (position > 0 && best[position - 1] > distance) {
        best[position] = best[position - 1];
        indices[position] = indices[position - 1];
        position--;
      }
      best[position] = distance;
      indices[position] = index;
    }
  }
}
