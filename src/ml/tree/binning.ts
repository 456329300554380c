// Bins every feature once into small integer codes (quantile edges, at most 255 value bins and a reserved
// bin for missing values), and packs features with few bins together so that one byte column serves
// several features: the histogram loop then reads fewer columns per row.
import { Random } from '../../core/random.js';
import type { Matrix } from '../types.js';
import { edgesBelow } from '../search.js';
import {
  Arena,
  instantiateKernels,
  kernelModule,
  SORT_COUNTS_BYTES,
  type Kernels,
  type WasmMemory,
} from './kernels.js';
import { phaseDone, phaseStart } from './profile.js';

/** Rows used to find bin edges: quantiles of a large sample are as good as those of the whole column. */
export const BINNING_SAMPLE_ROWS = 200_000;

export interface BinMapper {
  /** Per feature: the upper edges of its value bins; bin b holds values in (edges[b-1], edges[b]], the last bin is open. */
  edges: Float64Array[];
  /** Per feature: number of value bins (edges.length + 1). */
  valueBins: Int32Array;
  /** Per feature: 1 when the training data held missing values; they then get bin `valueBins[f]`. */
  hasMissing: Uint8Array;
}

/** Features packed into byte columns: a group's code is the mixed-radix number of its members' bins. */
export interface PackedLayout {
  features: number;
  groups: number;
  /** Per group: number of codes (product of its members' radices, at most 256). */
  groupBins: Int32Array;
  /** Per group: index of its first bin in a node histogram. */
  groupOffset: Int32Array;
  /** Bins in a whole node histogram (sum of groupBins). */
  totalBins: number;
  /** Per group: its member features. */
  members: Int32Array[];
  /** Per feature: its group, or -1 for a feature that cannot be split (a single bin). */
  featureGroup: Int32Array;
  /** Per feature: bins including the missing bin (its radix in the group code). */
  featureBins: Int32Array;
  /** Per feature: group code → the feature's own bin. */
  digits: Uint8Array[];
  /** Per feature: whether it shares its group with others (its histogram must be expanded from the group's). */
  packed: Uint8Array;
}

export interface BinnedData {
  rows: number;
  mapper: BinMapper;
  layout: PackedLayout;
  /** One byte column per group, all views into `buffer` (column g holds bytes [g*rows, (g+1)*rows)). */
  columns: Uint8Array[];
  buffer: ArrayBufferLike;
  /** The columns' rows dealt to this many segments (see dealRows; 1: in training order). */
  segments: number;
}

/**
 * The first workspace row of segment `segment` when `rows` rows are dealt to `segments` segments:
 * training row r goes to segment r mod segments, each segment's rows in order (so the first rows % segments
 * segments hold one row more).
 */
export function segmentStart(segment: number, rows: number, segments: number): number {
  return segment * Math.floor(rows / segments) + Math.min(segment, rows % segments);
}

/** The workspace row of training row `row` of `rows` dealt to `segments` segments (see segmentStart). */
export function dealtRow(row: number, rows: number, segments: number): number {
  const segment = row % segments;
  return segmentStart(segment, rows, segments) + (row - segment) / segments;
}

/**
 * `from` by training row into `to` by workspace row, dealt to `segments` segments (a binning deals the
 * codes as it writes them, see SharedBinning.prepare): rows stored in the
 * order of a feature (a time, an id) are spread evenly over the segments rather than the first ones in
 * the first segment, so that a child's rows are shared by every thread whatever the order. Sums on exact
 * grids do not depend on the order, so neither does the model.
 */
export function dealRows(from: Float64Array, to: Float64Array, segments: number): void {
  const rows = from.length;
  for (let segment = 0; segment < segments; segment++) {
    let at = segmentStart(segment, rows, segments);
    for (let row = segment; row < rows; row += segments) to[at++] = from[row];
  }
}

/** Columns of whole numbers spanning at most this many values are counted instead of sorted. */
export const COUNTING_RANGE = 1 << 16;

/** Counts of a column's whole values from its minimum, or undefined when they are not all whole in a small range. */
export type ValueCounter = (values: Float64Array) => { counts: Int32Array; min: number } | undefined;

/** Sorts values (none missing) in place, ascending, to the bits of Float64Array's sort, and returns them. */
export type ValueSorter = (values: Float64Array) => Float64Array;

/** scikit-learn's rule: midpoints between distinct values when few, else midpoint percentiles. */
export function binEdges(
  values: Float64Array,
  maxBins: number,
  counter: ValueCounter,
  sort: ValueSorter,
): Float64Array {
  const n = values.length;
  if (n === 0) return new Float64Array(0);
  const counted = countedEdges(values, maxBins, counter);
  if (counted) return counted;
  // otherwise find the distinct values without sorting all of them when they are few
  const distinct = new Set<number>();
  for (let i = 0; i < n && distinct.size <= maxBins; i++) distinct.add(values[i] === 0 ? 0 : values[i]);
  if (distinct.size <= maxBins) return midpoints(Float64Array.from(distinct).sort());
  const sorted = sort(values);
  return percentileEdges((position) => sorted[position], n, maxBins);
}

/** The same edges for a column of whole numbers in a small range, from value counts (flags, codes, ages). */
function countedEdges(
  values: Float64Array,
  maxBins: number,
  counter: ValueCounter,
): Float64Array | undefined {
  const n = values.length;
  const counted = counter(values);
  if (!counted) return undefined;
  const { counts, min } = counted;
  const present: number[] = [];
  for (let v = 0; v < counts.length; v++) if (counts[v] > 0) present.push(v + min);
  if (present.length <= maxBins) return midpoints(Float64Array.from(present));
  // the k-th smallest value, walking the counts forward (positions are asked in increasing order)
  let value = 0;
  let seen = counts[0];
  const at = (position: number): number => {
    while (seen <= position) seen += counts[++value];
    return value + min;
  };
  return percentileEdges(at, n, maxBins);
}

function midpoints(sorted: Float64Array): Float64Array {
  const out = new Float64Array(Math.max(0, sorted.length - 1));
  for (let i = 1; i < sorted.length; i++) out[i - 1] = midpoint(sorted[i - 1], sorted[i]);
  return out;
}

/** Edges at the midpoint percentiles 1/maxBins … (maxBins-1)/maxBins of n sorted values read through `at`. */
function percentileEdges(at: (position: number) => number, n: number, maxBins: number): Float64Array {
  const out: number[] = [];
  for (let q = 1; q < maxBins; q++) {
    const position = (q / maxBins) * (n - 1);
    const edge = midpoint(at(Math.floor(position)), at(Math.ceil(position)));
    if (out.length === 0 || edge > out[out.length - 1]) out.push(edge);
  }
  // the top edge must leave the largest value in a bin of its own side
  const largest = at(n - 1);
  while (out.length > 0 && out[out.length - 1] >= largest) out.pop();
  return Float64Array.from(out);
}

function midpoint(low: number, high: number): number {
  const middle = low + (high - low) / 2;
  return Number.isFinite(middle) ? middle : low;
}

/** The bin of `value`: the number of edges below it (NaN → the missing bin). */
export function binOf(edges: Float64Array, value: number): number {
  if (value !== value) return edges.length + 1;
  return edgesBelow(edges, value);
}

/**
 * Groups features so that the product of their bin counts fits a byte (first fit, widest first).
 * Binary and one-hot columns then share one column, and a group histogram yields each member's exactly.
 */
export function packFeatures(mapper: BinMapper): PackedLayout {
  const features = mapper.valueBins.length;
  const featureBins = new Int32Array(features);
  for (let f = 0; f < features; f++) featureBins[f] = mapper.valueBins[f] + mapper.hasMissing[f];
  const order = Array.from({ length: features }, (_, f) => f)
    .filter((f) => featureBins[f] > 1)
    .sort((a, b) => featureBins[b] - featureBins[a] || a - b);
  const groupMembers: number[][] = [];
  const groupProducts: number[] = [];
  for (const f of order) {
    let placed = false;
    for (let g = 0; g < groupMembers.length && !placed; g++) {
      if (groupProducts[g] * featureBins[f] <= 256) {
        groupMembers[g].push(f);
        groupProducts[g] *= featureBins[f];
        placed = true;
      }
    }
    if (!placed) {
      groupMembers.push([f]);
      groupProducts.push(featureBins[f]);
    }
  }
  const groups = groupMembers.length;
  const groupBins = Int32Array.from(groupProducts);
  const groupOffset = new Int32Array(groups);
  let totalBins = 0;
  for (let g = 0; g < groups; g++) {
    groupOffset[g] = totalBins;
    totalBins += groupBins[g];
  }
  const featureGroup = new Int32Array(features).fill(-1);
  const packed = new Uint8Array(features);
  const digits: Uint8Array[] = Array.from({ length: features }, () => new Uint8Array(0));
  groupMembers.forEach((members, g) => {
    let stride = 1;
    for (const f of members) {
      featureGroup[f] = g;
      packed[f] = members.length > 1 ? 1 : 0;
      const table = new Uint8Array(groupBins[g]);
      for (let code = 0; code < groupBins[g]; code++)
        table[code] = Math.floor(code / stride) % featureBins[f];
      digits[f] = table;
      stride *= featureBins[f];
    }
  });
  return {
    features,
    groups,
    groupBins,
    groupOffset,
    totalBins,
    members: groupMembers.map((members) => Int32Array.from(members)),
    featureGroup,
    featureBins,
    digits,
    packed,
  };
}

// ---- binning shared by threads: the threads read the matrix in place when its columns live in shared
// memory (the training transform puts them there), else a copy of it made once; they take
// features (edges), then byte columns (codes) from shared counters. A feature's edges and a group's
// codes depend on its data only, so any thread count bins the data the same as one thread.

/** Rows binned at a time by one thread (a block of a group's byte column; a million rows: 16 blocks a group). */
const BINNING_BLOCK_ROWS = 65_536;

/** Slots of the shared binning's control block. */
const NEXT_FEATURE = 0;
const FEATURES_DONE = 1;
const NEXT_GROUP = 2;
const GROUPS_DONE = 3;
/** Set once the calling thread has every column: a worker that starts later has nothing to do. */
const ALL_DONE = 4;
const BINNING_CONTROL_SLOTS = 8;
/** Room for one feature's edges (at most 254 with 255 value bins). */
const EDGE_STRIDE = 256;

/** What every thread of a shared binning sees (sent to workers as they start). */
export interface SharedBinningJob {
  rows: number;
  cols: number;
  maxBins: number;
  /** The matrix's columns, each a view into shared memory (a posted view shares its buffer). */
  columns: Float64Array[];
  /** The sampled rows (Int32), or null for every row. */
  sample: SharedArrayBuffer | null;
  /** Control slots (Int32), then per feature: edge count and missing flag (Int32), then edges (Float64). */
  state: SharedArrayBuffer;
  /** Byte columns, one per group (at most one per feature). */
  codes: SharedArrayBuffer;
  /** Segments the codes' rows are dealt to (see dealRows; 1: training order). */
  segments: number;
  /** The compiled kernels (see kernelModule), so that a worker compiles nothing. */
  module: object;
}

interface SharedViews {
  control: Int32Array;
  edgeCounts: Int32Array;
  missing: Int32Array;
  edges: Float64Array;
  sample: Int32Array | undefined;
}

function sharedViews(job: SharedBinningJob): SharedViews {
  const { cols, state } = job;
  const edgesAt = Math.ceil(((BINNING_CONTROL_SLOTS + 2 * cols) * 4) / 8) * 8;
  return {
    control: new Int32Array(state, 0, BINNING_CONTROL_SLOTS),
    edgeCounts: new Int32Array(state, BINNING_CONTROL_SLOTS * 4, cols),
    missing: new Int32Array(state, (BINNING_CONTROL_SLOTS + cols) * 4, cols),
    edges: new Float64Array(state, edgesAt, cols * EDGE_STRIDE),
    sample: job.sample ? new Int32Array(job.sample) : undefined,
  };
}

/** Waits until `control[slot]` reaches `target` (a worker's share may still be running). */
function waitFor(control: Int32Array, slot: number, target: number): void {
  for (let seen = Atomics.load(control, slot); seen < target; seen = Atomics.load(control, slot))
    Atomics.wait(control, slot, seen, 100);
}

/**
 * Does features and then groups of a shared binning until none is left; returns the binned data once
 * every group is done when `complete` (the calling thread), else as soon as no work is left (a worker).
 */
export function binSharedPart(job: SharedBinningJob, complete: boolean): BinnedData | undefined {
  const views = sharedViews(job);
  const { control, edgeCounts, missing, edges, sample } = views;
  if (!complete && Atomics.load(control, ALL_DONE) === 1) return undefined;
  const { rows, cols, maxBins } = job;
  const columns = job.columns;
  let binner: BinningKernels | undefined;
  // the features with the most distinct values first: their edges take a sort, the others a count
  const order = featureOrder(columns, sample);
  for (let k = Atomics.add(control, NEXT_FEATURE, 1); k < cols; k = Atomics.add(control, NEXT_FEATURE, 1)) {
    binner ??= new BinningKernels(rows, sample, job.module);
    const f = order[k];
    const found = binner.featureEdges(columns[f], maxBins);
    edges.set(found.edges, f * EDGE_STRIDE);
    edgeCounts[f] = found.edges.length;
    missing[f] = found.hasMissing ? 1 : 0;
    if (Atomics.add(control, FEATURES_DONE, 1) === cols - 1) Atomics.notify(control, FEATURES_DONE);
  }
  waitFor(control, FEATURES_DONE, cols);
  const mapper: BinMapper = {
    edges: Array.from({ length: cols }, (_, f) =>
      edges.slice(f * EDGE_STRIDE, f * EDGE_STRIDE + edgeCounts[f]),
    ),
    valueBins: Int32Array.from(edgeCounts, (count) => count + 1),
    hasMissing: Uint8Array.from(missing),
  };
  const layout = packFeatures(mapper);
  const codes = Array.from({ length: layout.groups }, (_, g) => new Uint8Array(job.codes, g * rows, rows));
  // groups with more members first, so the last ones taken are short; each group in blocks of rows (a
  // row's code depends on that row only), so that the threads finish together even with few groups
  const groupOrder = Array.from({ length: layout.groups }, (_, g) => g).sort(
    (a, b) => layout.members[b].length - layout.members[a].length || a - b,
  );
  const blocks = Math.max(1, Math.ceil(rows / BINNING_BLOCK_ROWS));
  const pieces = layout.groups * blocks;
  for (let k = Atomics.add(control, NEXT_GROUP, 1); k < pieces; k = Atomics.add(control, NEXT_GROUP, 1)) {
    binner ??= new BinningKernels(rows, null, job.module);
    const g = groupOrder[Math.floor(k / blocks)];
    const from = (k % blocks) * BINNING_BLOCK_ROWS;
    const to = Math.min(rows, from + BINNING_BLOCK_ROWS);
    binner.groupCodes(columns, mapper, layout, g, from, to - from, codes[g], job.segments);
    if (Atomics.add(control, GROUPS_DONE, 1) === pieces - 1) Atomics.notify(control, GROUPS_DONE);
  }
  if (!complete) return undefined;
  waitFor(control, GROUPS_DONE, pieces);
  Atomics.store(control, ALL_DONE, 1);
  return { rows, mapper, layout, columns: codes, buffer: job.codes, segments: job.segments };
}

/**
 * Features in the order threads take them: those whose sampled values are not all whole numbers first
 * (their edges take a sort, the others a count), each set in feature order. The first rows tell.
 */
function featureOrder(columns: Float64Array[], sample: Int32Array | undefined): number[] {
  const probe = Math.min(64, sample ? sample.length : columns.length > 0 ? columns[0].length : 0);
  const sorted = columns.map((column) => {
    for (let i = 0; i < probe; i++) {
      const value = column[sample ? sample[i] : i];
      if (value !== Math.floor(value) && value === value) return true;
    }
    return false;
  });
  const features = Array.from({ length: columns.length }, (_, f) => f);
  return [...features.filter((f) => sorted[f]), ...features.filter((f) => !sorted[f])];
}

/**
 * One thread's binning kernels and their own memory: the sample, one column (edges) or one block of a
 * column (codes) copied in at a time, the sampled values, one feature's padded edges and a block's codes.
 */
class BinningKernels {
  private readonly kernels: Kernels;
  private readonly memory: WasmMemory;
  private readonly sampleAt: number;
  private readonly sampleLength: number;
  private readonly columnAt: number;
  private readonly valuesAt: number;
  private readonly edgesAt: number;
  private readonly codesAt: number;
  /** One segment's codes of a block, gathered for placing (see groupCodes). */
  private readonly dealtAt: number;
  private readonly rangeAt: number;
  private readonly countsAt: number;
  /** Per feature: its edges padded with +Infinity to 2^steps - 1, and steps (made on first use). */
  private readonly searches = new Map<number, { padded: Float64Array; steps: number }>();
  /** The sampled rows (undefined: every row), copied in when the first feature's edges are asked for (then null). */
  private pendingSample: Int32Array | undefined | null;

  /** `sample`: the sampled rows (undefined: every row), or null for a thread that only writes codes. */
  constructor(rows: number, sample: Int32Array | undefined | null, module: object = kernelModule()) {
    const arena = new Arena();
    this.sampleLength = sample === null ? 0 : sample ? sample.length : rows;
    this.sampleAt = arena.reserve(this.sampleLength * 4);
    this.columnAt = arena.reserve((sample === null ? Math.min(rows, BINNING_BLOCK_ROWS) : rows) * 8);
    this.valuesAt = arena.reserve(this.sampleLength * 8);
    this.edgesAt = arena.reserve(EDGE_STRIDE * 8);
    this.codesAt = arena.reserve(Math.min(rows, BINNING_BLOCK_ROWS));
    this.dealtAt = arena.reserve(Math.min(rows, BINNING_BLOCK_ROWS));
    this.rangeAt = arena.reserve(16);
    this.countsAt = arena.reserve(Math.max(COUNTING_RANGE * 4, SORT_COUNTS_BYTES));
    this.memory = arena.create();
    this.kernels = instantiateKernels(this.memory, module);
    this.pendingSample = sample;
  }

  /** As featureEdges does it: the edges from the sampled values, missing values looked for in every row. */
  featureEdges(column: Float64Array, maxBins: number): { edges: Float64Array; hasMissing: boolean } {
    const { kernels, memory } = this;
    // a thread that only writes codes never needs the sample
    if (this.pendingSample !== null) {
      const rowsOf = new Int32Array(memory.buffer, this.sampleAt, this.sampleLength);
      if (this.pendingSample) rowsOf.set(this.pendingSample);
      else for (let i = 0; i < this.sampleLength; i++) rowsOf[i] = i;
      this.pendingSample = null;
    }
    new Float64Array(memory.buffer, this.columnAt, column.length).set(column);
    const count = kernels.gatherPresent(this.columnAt, this.sampleAt, this.sampleLength, this.valuesAt);
    const hasMissing = kernels.anyMissing(this.columnAt, column.length) === 1;
    const values = new Float64Array(memory.buffer, this.valuesAt, count);
    return { edges: binEdges(values, maxBins, this.counter, this.sorter), hasMissing };
  }

  /** countValues in the kernels, on the sampled values in their memory. */
  private readonly counter: ValueCounter = (values) => {
    const { kernels, memory } = this;
    const whole = kernels.wholeRange(this.valuesAt, values.length, this.rangeAt);
    const [min, max] = new Float64Array(memory.buffer, this.rangeAt, 2);
    if (whole === 0 || !(max - min < COUNTING_RANGE) || min > max) return undefined;
    const counts = new Int32Array(memory.buffer, this.countsAt, max - min + 1).fill(0);
    kernels.countValues(this.valuesAt, values.length, min, this.countsAt);
    return { counts, min };
  };

  /**
   * sortDoubles in the kernels, on the sampled values in their memory: the column's copy (no longer
   * needed once they are gathered) is its second buffer, the counts' area its counts.
   */
  private readonly sorter: ValueSorter = (values) => {
    this.kernels.sortDoubles(this.valuesAt, values.length, this.columnAt, this.countsAt);
    return values;
  };

  /**
   * Group `g`'s codes for the `rows` rows from `from`, as the JavaScript reference in the tests writes
   * them, into `out` (the group's byte column) in the order of `segments` segments (see dealRows).
   */
  groupCodes(
    columns: Float64Array[],
    mapper: BinMapper,
    layout: PackedLayout,
    g: number,
    from: number,
    rows: number,
    out: Uint8Array,
    segments: number,
  ): void {
    const { kernels, memory } = this;
    const block = new Float64Array(memory.buffer, this.columnAt, rows);
    const edges = new Float64Array(memory.buffer, this.edgesAt, EDGE_STRIDE);
    let stride = 1;
    for (const f of layout.members[g]) {
      const { padded, steps } = this.search(f, mapper.edges[f]);
      if (steps > 1) edges.set(padded);
      block.set(columns[f].subarray(from, from + rows));
      // NaN → edges.length + 1, as binOf (a column holds NaN only when its feature has the missing bin)
      const missingBin = mapper.edges[f].length + 1;
      const first = stride === 1 ? 1 : 0;
      if (steps === 1)
        kernels.binCodesOneEdge(this.columnAt, rows, padded[0], missingBin, stride, this.codesAt, first);
      else
        kernels.binCodes(this.columnAt, rows, this.edgesAt, steps, missingBin, stride, this.codesAt, first);
      stride *= layout.featureBins[f];
    }
    if (segments === 1) {
      out.set(new Uint8Array(memory.buffer, this.codesAt, rows), from);
      return;
    }
    // the block's rows from + first, from + first + segments, … are all one segment's, in a run of it:
    // gathered by stride, then placed
    for (let first = 0; first < Math.min(segments, rows); first++) {
      const count = Math.ceil((rows - first) / segments);
      kernels.strideBytes(this.codesAt + first, count, segments, this.dealtAt);
      out.set(
        new Uint8Array(memory.buffer, this.dealtAt, count),
        dealtRow(from + first, out.length, segments),
      );
    }
  }

  private search(f: number, edges: Float64Array): { padded: Float64Array; steps: number } {
    let found = this.searches.get(f);
    if (!found) {
      let steps = 0;
      while ((1 << steps) - 1 < edges.length) steps++;
      const padded = new Float64Array((1 << steps) - 1).fill(Infinity);
      padded.set(edges);
      found = { padded, steps };
      this.searches.set(f, found);
    }
    return found;
  }
}

/**
 * The rows whose values set the bin edges (ascending), or undefined for every row: drawn by the
 * sampleRows kernel, the rows Random.sampleWithoutReplacement draws, and the generator left in the same
 * state (`count`: the sample's size, other than BINNING_SAMPLE_ROWS in tests only).
 */
export function drawnSample(
  rows: number,
  random: Random,
  count = BINNING_SAMPLE_ROWS,
): Int32Array | undefined {
  if (rows <= count) return undefined;
  const arena = new Arena();
  const stateAt = arena.reserve(16);
  const poolAt = arena.reserve(rows * 4);
  const marksAt = arena.reserve(rows);
  const sampleAt = arena.reserve(count * 4);
  const memory = arena.create();
  const kernels = instantiateKernels(memory);
  const state = new Uint32Array(memory.buffer, stateAt, 4);
  random.saveState(state);
  kernels.sampleRows(stateAt, rows, count, poolAt, marksAt, sampleAt);
  random.restoreState(state);
  return new Int32Array(memory.buffer, sampleAt, count).slice();
}

/** The one-thread binning: the same kernels as the shared one, every feature and block in turn. */
function binAlone(X: Matrix, sample: Int32Array | undefined, maxBins: number, segments: number): BinnedData {
  const { rows, cols } = X;
  const binner = new BinningKernels(rows, sample);
  const edges: Float64Array[] = [];
  const hasMissing = new Uint8Array(cols);
  for (let f = 0; f < cols; f++) {
    const found = binner.featureEdges(X.columns[f], maxBins);
    edges.push(found.edges);
    hasMissing[f] = found.hasMissing ? 1 : 0;
  }
  const mapper: BinMapper = {
    edges,
    valueBins: Int32Array.from(edges, (featureEdges) => featureEdges.length + 1),
    hasMissing,
  };
  const layout = packFeatures(mapper);
  const buffer = new ArrayBuffer(Math.max(1, rows * layout.groups));
  const columns: Uint8Array[] = [];
  for (let g = 0; g < layout.groups; g++) {
    const column = new Uint8Array(buffer, g * rows, rows);
    for (let from = 0; from < rows; from += BINNING_BLOCK_ROWS)
      binner.groupCodes(
        X.columns,
        mapper,
        layout,
        g,
        from,
        Math.min(BINNING_BLOCK_ROWS, rows - from),
        column,
        segments,
      );
    columns.push(column);
  }
  return { rows, mapper, layout, columns, buffer, segments };
}

/**
 * `X`'s columns as views into shared memory: those already there as they are, the others copied into
 * one new buffer (a matrix the training transform made is read in place, costing no memory).
 */
function sharedColumns(X: Matrix): Float64Array[] {
  const isShared = (column: Float64Array): boolean => column.buffer instanceof SharedArrayBuffer;
  const copied = X.columns.filter((column) => !isShared(column)).length;
  if (copied === 0) return X.columns;
  const buffer = new SharedArrayBuffer(copied * X.rows * 8);
  let next = 0;
  return X.columns.map((column) => {
    if (isShared(column)) return column;
    const view = new Float64Array(buffer, next++ * X.rows * 8, X.rows);
    view.set(column);
    return view;
  });
}

/**
 * Bins a matrix on the calling thread and, when there are workers, on them too: `job` goes to the
 * workers as they start, and `bin()` does the calling thread's share and returns the whole.
 */
export class SharedBinning {
  private constructor(
    private readonly X: Matrix,
    private readonly maxBins: number,
    private readonly sample: Int32Array | undefined,
    private readonly segments: number,
    /** Undefined on one thread: nothing is shared or copied then. */
    readonly job: SharedBinningJob | undefined,
  ) {}

  /**
   * Draws the sample (see drawnSample) and, for several threads, shares the matrix (see sharedColumns).
   * The codes come in the order of `segments` segments (see dealRows), each block's rows placed by the
   * thread that bins it, so that a workspace of that many segments takes them as they are.
   */
  static prepare(X: Matrix, maxBins: number, random: Random, threads: number, segments = 1): SharedBinning {
    const started = phaseStart();
    const sample = drawnSample(X.rows, random);
    let job: SharedBinningJob | undefined;
    if (threads > 1 && X.cols > 0 && X.rows > 0) {
      const { rows, cols } = X;
      const columns = sharedColumns(X);
      let shared: SharedArrayBuffer | null = null;
      if (sample) {
        shared = new SharedArrayBuffer(sample.length * 4);
        new Int32Array(shared).set(sample);
      }
      const edgesAt = Math.ceil(((BINNING_CONTROL_SLOTS + 2 * cols) * 4) / 8) * 8;
      job = {
        rows,
        cols,
        maxBins,
        columns,
        sample: shared,
        state: new SharedArrayBuffer(edgesAt + cols * EDGE_STRIDE * 8),
        codes: new SharedArrayBuffer(rows * cols),
        segments,
        module: kernelModule(),
      };
    }
    phaseDone('binning', started);
    return new SharedBinning(X, maxBins, sample, segments, job);
  }

  /** The binned matrix: the same bytes and edges on any thread count. */
  bin(): BinnedData {
    const started = phaseStart();
    let data: BinnedData;
    if (this.job) {
      data = binSharedPart(this.job, true) as BinnedData;
    } else {
      data = binAlone(this.X, this.sample, this.maxBins, this.segments);
    }
    phaseDone('binning', started);
    return data;
  }
}
