// The hot loops of tree learning (histogram sums, gathering, row partitioning, the boosting gradient pass)
// as a small WebAssembly module assembled here from named instructions: in JavaScript every typed-array
// access is bounds-checked, which makes these loops 2-3x slower. Their data lives in one shared memory.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { errors } from '../../core/errors.js';
import {
  F64,
  I32,
  add,
  and,
  block,
  branchIf,
  call,
  countedLoop,
  end,
  eqz,
  f64,
  f64Add,
  f64Div,
  f64Eq,
  f64Lt,
  f64Ne,
  f64Floor,
  f64FromSigned,
  f64FromUnsigned,
  f64Ge,
  f64Gt,
  f64Max,
  f64Min,
  f64Mul,
  f64Nearest,
  f64Neg,
  f64Sub,
  geU,
  get,
  gtS,
  gtU,
  i32,
  i32TruncF64,
  i32TruncF64Unsigned,
  ifThen,
  load16,
  load32,
  load8,
  loadF64,
  leS,
  loop,
  ltS,
  ltU,
  memoryCopy,
  memoryFill,
  mul,
  ne,
  or,
  remU,
  rotl,
  select,
  set,
  shl,
  shrS,
  shrU,
  store16,
  store32,
  store8,
  storeF64,
  sub,
  tee,
  xoshiroLoad,
  xoshiroNext,
  xoshiroStore,
  f64x2Add,
  f64x2Div,
  f64x2ExtractLane,
  f64x2Mul,
  f64x2Nearest,
  f64x2Neg,
  f64x2Pmax,
  f64x2Pmin,
  f64x2ReplaceLane,
  f64x2Splat,
  f64x2Sub,
  i8x16Shuffle,
  v128Load,
  v128Store,
  V128,
  xor,
  webAssembly,
  encodeModule,
  joined,
  type Code,
  type WasmApi,
} from '../wasm.js';

/** The parts of the WebAssembly API used here (the project's TypeScript settings carry no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
}
// Node.js always has WebAssembly: the tree engine is built on it
const wasm = webAssembly as WasmApi;

/** Numbers stored per histogram bin, which the kernels sum, add and scan: gradient sum, hessian sum, row count. */
export const BIN_STRIDE = 3;

/** Byte offset of the second partial histogram in a kernel scratch area (256 bins x 3 doubles). */
const SECOND_COPY = 256 * BIN_STRIDE * 8;
/** Bytes of scratch one thread needs for the histogram kernel. */
export const KERNEL_SCRATCH_BYTES = 2 * SECOND_COPY;

/** One boosting pass over rows [start, end) (see Kernels.boostLogLoss); arguments are byte addresses. */
type BoostPass = (
  start: number,
  end: number,
  raw: number,
  y: number,
  weights: number,
  leafOf: number,
  leafValues: number,
  gh: number,
  tables: number,
  rows: number,
  gridG: number,
  gridH: number,
) => void;

/** Sums of several groups' histograms over positions [start, end) (see Kernels.histogramGroups1). */
type HistogramGroups = (rows: number, start: number, end: number, gh: number, desc: number) => void;

/** The histogramGroups kernel for `count` groups (1 to BUNDLE_MAX). */
export function histogramGroupsKernel(kernels: Kernels, identity: boolean, count: number): HistogramGroups {
  const name =
    `histogramGroups${identity ? 'Identity' : ''}${count}` as `histogramGroups${1 | 2 | 3 | 4 | 5 | 6}`;
  return kernels[name];
}

/** The histogramCounted kernel for `count` groups (1 to BUNDLE_MAX). */
export function histogramCountedKernel(kernels: Kernels, count: number): HistogramGroups {
  return kernels[`histogramCounted${count}` as `histogramCounted${1 | 2 | 3 | 4 | 5 | 6}`];
}

export interface Kernels {
  /**
   * Sums gradient, hessian and count by bin for 1 to BUNDLE_MAX groups at once (histogramGroupsK for K
   * groups) over positions [start, end): the row at position i is rows[i] and its pair gh[row], read once
   * for all the groups. `desc` lists, BUNDLE_ENTRY_BYTES a group, its byte column, its histogram `out`
   * (bins × 3 doubles), a KERNEL_SCRATCH_BYTES scratch area and its bin count. Even and odd positions go
   * to two partial sums added at the end, so a run of rows in the same bin does not wait on its own
   * previous addition; the order is fixed, so a group's result depends on the rows only (not on the
   * other groups of the call). The Identity forms are for positions holding their own rows (the root).
   */
  histogramGroups1: HistogramGroups;
  histogramGroups2: HistogramGroups;
  histogramGroups3: HistogramGroups;
  histogramGroups4: HistogramGroups;
  histogramGroups5: HistogramGroups;
  histogramGroups6: HistogramGroups;
  histogramGroupsIdentity1: HistogramGroups;
  histogramGroupsIdentity2: HistogramGroups;
  histogramGroupsIdentity3: HistogramGroups;
  histogramGroupsIdentity4: HistogramGroups;
  histogramGroupsIdentity5: HistogramGroups;
  histogramGroupsIdentity6: HistogramGroups;
  /**
   * The same sums for an unweighted classification forest, from one byte per position instead of a pair
   * of doubles (histogramCountedK for K groups, the same descriptors): codes[i - start] = draws × 2 +
   * label (gathered by gatherCodes), so gradient = draws × label and hessian = draws. The sums are whole
   * numbers added as integers, so they equal the double sums of histogramGroups exactly; a tree reads and
   * writes a sixteenth of the memory.
   */
  histogramCounted1: HistogramGroups;
  histogramCounted2: HistogramGroups;
  histogramCounted3: HistogramGroups;
  histogramCounted4: HistogramGroups;
  histogramCounted5: HistogramGroups;
  histogramCounted6: HistogramGroups;
  /** ordered[i - start] = codes[rows[i]] (one byte each) for positions [start, end). */
  gatherCodes(rows: number, start: number, end: number, codes: number, ordered: number): void;
  /**
   * A forest tree's bootstrap: `samples` rows drawn with replacement from `rows`, counted in draws
   * (16-bit, zeroed first), by xoshiro128** from and back into the four 32-bit words at `state`, each
   * row as Math.floor(next * rows / 2^32): the same rows as Random.nextUint32 draws in JavaScript.
   * Returns the most draws of one row.
   */
  bootstrapDraws(state: number, samples: number, rows: number, draws: number): number;
  /**
   * codes[row] = draws[row] × 2 + labels[row] (one byte, wrapping above 127 draws) for every row, and
   * positions[0, k) = the rows drawn at least once, ascending; returns k.
   */
  codeRows(draws: number, labels: number, rows: number, positions: number, codes: number): number;
  /** Stable partition of positions [start, end) by table[column[row]] (1 = left); returns the first right position. */
  partition(
    column: number,
    table: number,
    rows: number,
    start: number,
    end: number,
    scratchRows: number,
  ): number;
  /** leafOf[rows[i]] = leaf (16-bit) for positions [start, end). */
  scatterLeaf(rows: number, start: number, end: number, leafOf: number, leaf: number): void;
  /**
   * One boosting pass over rows [start, end) for one output: raw[i] += leafValues[leafOf[i]] (the last
   * tree), then the (gradient, hessian) pair of the loss at raw[i] into gh[i] (weight 1: `weights` is
   * not read), each rounded to the nearest multiple of its grid (gridG, gridH: powers of two, from
   * exactGrid in histogram.ts; ties to even); with `rows` not 0, rows[i] = i (every row drawn, in order).
   */
  boostLogLoss: BoostPass;
  boostSquaredError: BoostPass;
  /** The same, each row's pair weighted by weights[i]. */
  boostLogLossWeighted: BoostPass;
  boostSquaredErrorWeighted: BoostPass;
  /**
   * Binning's sample: `count` distinct rows of [0, bound) drawn by a partial Fisher-Yates shuffle of
   * `pool` (bound 32-bit words) with Random.nextInt's draws, from and back into the generator state at
   * `state` (the same rows as Random.sampleWithoutReplacement), listed ascending into `sample` (count
   * words) by marking them in `marks` (bound bytes).
   */
  sampleRows(state: number, bound: number, count: number, pool: number, marks: number, sample: number): void;
  /** values[0, k) = the non-missing doubles column[sample[i]] for i in [0, count), in order; returns k. */
  gatherPresent(column: number, sample: number, count: number, values: number): number;
  /**
   * For `count` doubles at `values` (none missing): 1 when every one is a whole number, else 0; their
   * minimum and maximum into the two doubles at `out`.
   */
  wholeRange(values: number, count: number, out: number): number;
  /**
   * Sorts the `count` doubles at `values` (none missing) in place, ascending, to the same bits as
   * Float64Array's sort (-0 before +0), using `count` doubles at `temp` and SORT_COUNTS_BYTES at `counts`.
   */
  sortDoubles(values: number, count: number, temp: number, counts: number): void;
  /** to[k] = from[k · step] for the `count` bytes k in [0, count). */
  strideBytes(from: number, count: number, step: number, to: number): void;
  /** counts[value - min] += 1 (32-bit counts) for `count` whole-number doubles at `values`. */
  countValues(values: number, count: number, min: number, counts: number): void;
  /** 1 when one of the `rows` doubles at `column` is missing (NaN), else 0. */
  anyMissing(column: number, rows: number): number;
  /**
   * One feature's part of a group's byte codes for `rows` doubles at `column`: out[i] (+)= bin × stride,
   * the bin being the number of `edges` below the value (a search of `steps` halvings over the edges
   * padded with +Infinity to 2^steps - 1, with no branch) or `missingBin` for NaN; `first`: out[i] is
   * set, not added to.
   */
  binCodes(
    column: number,
    rows: number,
    edges: number,
    steps: number,
    missingBin: number,
    stride: number,
    out: number,
    first: number,
  ): void;
  /** target[k] += source[k] for `count` doubles (two at a time; the same sums as one at a time). */
  addDoubles(target: number, source: number, count: number): void;
  /** target[k] -= source[k] for `count` doubles: the larger child's histogram from its parent's. */
  subtractDoubles(target: number, source: number, count: number): void;
  /**
   * The best Newton split of one feature's histogram (`bins` value bins at `histogram`, then the missing
   * bin when `missing` is 1), as the grower's split search defines it: bins added left to right, missing
   * values on the right then (when there are some) on the left, sides below `minSamples` rows or
   * `minHessian` skipped, gain G_L²/(H_L+λ) + G_R²/(H_R+λ) − parentScore. A gain above the record's at
   * `best` (six doubles: gain, bin, missing left, left gradient, left hessian, left count) replaces it;
   * returns 1 when one did.
   */
  scanBins(
    histogram: number,
    bins: number,
    missing: number,
    total: number,
    sumGradient: number,
    sumHessian: number,
    minSamples: number,
    minHessian: number,
    l2: number,
    parentScore: number,
    best: number,
  ): number;
  /**
   * scanBins over `count` features listed at `table` (SEARCH_ENTRY_BYTES each, see SEARCH_ENTRY) in their
   * order, for a node whose histograms are in the slot at `slot`: a packed feature's own histogram is
   * expanded into `expanded` first (its group's codes added into its bins in code order, codes with no
   * rows skipped, as expandFeature does). Returns the entry's feature number of the last feature that
   * improved the record at `best`, or -1: the same split as a scanBins call a feature, in one call.
   */
  searchFeatures(
    slot: number,
    table: number,
    count: number,
    total: number,
    sumGradient: number,
    sumHessian: number,
    minSamples: number,
    minHessian: number,
    l2: number,
    parentScore: number,
    best: number,
    expanded: number,
  ): number;
  /** binCodes for a feature with one edge (a flag, a one-hot column): bin 1 above `edge`, 0 at or below it. */
  binCodesOneEdge(
    column: number,
    rows: number,
    edge: number,
    missingBin: number,
    stride: number,
    out: number,
    first: number,
  ): void;
  /**
   * A feature's ranks for `rows` doubles at `column`, 16-bit: the number of its `thresholds` below the
   * value, by a search of `steps` halvings over the thresholds padded with +Infinity to 2^steps - 1 (as
   * binCodes), so that x <= threshold j exactly when its rank is at most j. Written twice, differing for
   * NaN only: at `ranks` MISSING_RANK (past every threshold: missing values go right) and at
   * `missingLeftRanks` 0 (missing values go left).
   */
  rankValues(
    column: number,
    rows: number,
    thresholds: number,
    steps: number,
    ranks: number,
    missingLeftRanks: number,
  ): void;
  /**
   * Adds trees [0, trees) to `rows` rows' outputs: out[r · outputs + t mod outputs] += the leaf value of
   * tree t for row r, tree after tree, so each row's sum takes its trees in order. A node is 8 bytes in
   * `packed`: its code (feature << 17 | missing-left << 16 | threshold index) and the address of its left
   * child (the right one 8 bytes on); a leaf's code is MISSING_RANK and its address its own, its value
   * the double at the same place in `leaves` as the node in `packed`; tree t's root address is the 32-bit
   * word t at `roots`. The rank a split compares is row r's 16-bit word in plane (code >> 16) of `ranks`:
   * at ranks + (code >> 16 << planeShift) + 2r (feature f's ranks as rankValues writes them in plane 2f,
   * its missing-left ranks in plane 2f + 1). WALK_LANES rows walk a tree in step, with no branch per
   * node, so their memory reads overlap.
   */
  walkTrees(
    roots: number,
    leaves: number,
    packed: number,
    trees: number,
    outputs: number,
    ranks: number,
    planeShift: number,
    rows: number,
    out: number,
  ): void;
}

/** A missing value's rank (rankValues), which a compact leaf's code equals: no threshold index reaches it. */
export const MISSING_RANK = 0xffff;

/** exp(x) = 2^(k/64) · e^r, k = round(64·x / ln 2): the two tables the kernels read (EXP_TABLE_BYTES long). */
export const EXP_FRACTIONS = Float64Array.from({ length: 64 }, (_, j) => Math.pow(2, j / 64));
export const EXP_POWERS = Float64Array.from({ length: 2200 }, (_, m) => Math.pow(2, m - 1100));
export const EXP_TABLE_BYTES = (EXP_FRACTIONS.length + EXP_POWERS.length) * 8;
const SIXTY_FOUR_OVER_LN2 = 64 / Math.LN2;
// ln 2 / 64 in two parts (fdlibm's split of ln 2), so k · high is exact
const LN2_OVER_64_HIGH = 6.9314718036912381649e-1 / 64;
const LN2_OVER_64_LOW = 1.90821492927058770002e-10 / 64;
const ROUNDING = 6755399441055744; // 1.5 · 2^52: adding and subtracting it rounds to the nearest integer (ties to even)

/**
 * exp within 2 ulp of Math.exp and about three times faster; bit for bit the same as the kernels' own, so
 * boosting computes the same gradients on every path.
 */
export function fastExp(value: number): number {
  const x = value > 700 ? 700 : value < -700 ? -700 : value;
  const rounded = x * SIXTY_FOUR_OVER_LN2 + ROUNDING - ROUNDING;
  const k = rounded | 0;
  const r = x - rounded * LN2_OVER_64_HIGH - rounded * LN2_OVER_64_LOW;
  const polynomial = 1 + r * (1 + r * (0.5 + r * (1 / 6 + r * (1 / 24 + r * (1 / 120)))));
  return polynomial * EXP_FRACTIONS[k & 63] * EXP_POWERS[(k >> 6) + 1100];
}

interface FunctionCode {
  params: number[];
  results: number[];
  locals: number[];
  body: Code[];
}

// ---- the kernels

/** Groups one histogramGroups call sums at most (their addresses stay in locals; measured faster than 3 or 4). */
export const BUNDLE_MAX = 6;
/** Bytes of one group's entry in a histogramGroups descriptor: column, out, scratch and bins (32-bit each). */
export const BUNDLE_ENTRY_BYTES = 16;

/**
 * histogramGroups for `k` groups: each position's row and (gradient, hessian) pair are read once for all
 * of them, and each group's sums run in the same order as histogramFunction's (even positions into its
 * first copy, odd ones into its second, then out = first + second), so the results are the same bit for bit.
 */
function histogramGroupsFunction(identity: boolean, k: number): FunctionCode {
  const [rows, start, stop, gh, desc] = [0, 1, 2, 3, 4];
  const [i, row0, row1, at, j, half, b, out, scr] = [5, 6, 7, 8, 9, 10, 11, 12, 13];
  // a position's (gradient, hessian) in the two lanes of a vector
  const [pair0, pair1] = [14, 15];
  const column = (g: number): number => 16 + 2 * g;
  const scratch = (g: number): number => 17 + 2 * g;
  const rowAt = (next: boolean): Code[] =>
    identity
      ? next
        ? [get(i), i32(1), add]
        : [get(i)]
      : [get(rows), get(i), i32(2), shl, add, load32(next ? 4 : 0)];
  // prettier-ignore
  const pairOf = (row: number, pair: number): Code[] => [
    get(gh), get(row), i32(4), shl, add, v128Load(0), set(pair),
  ];
  // scratch_g[code * 24 + copy] += (gradient, hessian, 1): the pair in one vector addition (lane by lane,
  // the same sums as one at a time)
  // prettier-ignore
  const accumulate = (g: number, row: number, copy: number, pair: number): Code[] => [
    get(scratch(g)), get(column(g)), get(row), add, load8(), i32(24), mul, add, set(at),
    get(at), get(at), v128Load(copy), get(pair), f64x2Add, v128Store(copy),
    get(at), get(at), loadF64(copy + 16), f64(1), f64Add, storeF64(copy + 16),
  ];
  const groups = Array.from({ length: k }, (_, g) => g);
  return {
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, V128, V128, ...groups.flatMap(() => [I32, I32])],
    // prettier-ignore
    body: [
      ...groups.flatMap((g) => [
        get(desc), load32(g * BUNDLE_ENTRY_BYTES), set(column(g)),
        get(desc), load32(g * BUNDLE_ENTRY_BYTES + 8), tee(scratch(g)),
        i32(0), get(desc), load32(g * BUNDLE_ENTRY_BYTES + 12), i32(24), mul, tee(half), memoryFill,
        get(scratch(g)), i32(SECOND_COPY), add, i32(0), get(half), memoryFill,
      ]),
      get(start), set(i),
      // pairs of positions: the even one into each group's first copy, the odd one into its second
      block,
      get(i), i32(1), add, get(stop), geU, branchIf(0),
      loop,
      ...rowAt(false), set(row0),
      ...rowAt(true), set(row1),
      ...pairOf(row0, pair0),
      ...pairOf(row1, pair1),
      ...groups.flatMap((g) => [
        ...accumulate(g, row0, 0, pair0),
        ...accumulate(g, row1, SECOND_COPY, pair1),
      ]),
      get(i), i32(2), add, tee(i), i32(1), add, get(stop), ltU, branchIf(0),
      end,
      end,
      // a last odd position
      block,
      get(i), get(stop), geU, branchIf(0),
      ...rowAt(false), set(row0),
      ...pairOf(row0, pair0),
      ...groups.flatMap((g) => accumulate(g, row0, 0, pair0)),
      end,
      // each group: out = first copy + second copy
      i32(0), set(j),
      loop,
      get(desc), get(j), i32(BUNDLE_ENTRY_BYTES), mul, add, tee(at), load32(4), set(out),
      get(at), load32(8), set(scr),
      get(at), load32(12), i32(24), mul, set(half),
      // two doubles at a time (i, free by now, is where the pairs end), then an odd last one
      i32(0), set(b),
      get(half), i32(-16), and, set(i),
      block,
      get(i), eqz, branchIf(0),
      loop,
      get(out), get(b), add,
      get(scr), get(b), add, v128Load(0),
      get(scr), get(b), add, v128Load(SECOND_COPY),
      f64x2Add, v128Store(0),
      get(b), i32(16), add, tee(b), get(i), ltU, branchIf(0),
      end,
      end,
      get(b), get(half), ltU, ifThen,
      get(out), get(b), add,
      get(scr), get(b), add, loadF64(0),
      get(scr), get(b), add, loadF64(SECOND_COPY),
      f64Add, storeF64(0),
      end,
      get(j), i32(1), add, tee(j), i32(k), ltU, branchIf(0),
      end,
    ],
  };
}

/** Bytes per bin of histogramCounted's integer sums: gradient, hessian and count as 32-bit integers. */
const COUNTED_BIN = 12;

/**
 * histogramCounted for `k` groups (descriptors as histogramGroups'): each position's row and code are
 * read once for all of them. Integer sums: the same whatever the order.
 */
function histogramCountedFunction(k: number): FunctionCode {
  const [rows, start, stop, codes, desc] = [0, 1, 2, 3, 4];
  const [i, row0, row1, at, j, half, b, out, scr, code, d0, l0, d1, l1] = [
    5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
  ];
  const column = (g: number): number => 19 + 2 * g;
  const scratch = (g: number): number => 20 + 2 * g;
  // draws = code >> 1 and draws × label = draws & -(code & 1), for the position `next` after i
  // prettier-ignore
  const codeOf = (next: number, draws: number, labelled: number): Code[] => [
    get(code), load8(next), tee(draws), i32(1), shrU, i32(0), get(draws), i32(1), and, sub, and, set(labelled),
    get(draws), i32(1), shrU, set(draws),
  ];
  // scratch_g[column_g[row] * 12 + copy] += (draws × label, draws, 1)
  // prettier-ignore
  const accumulate = (g: number, row: number, copy: number, draws: number, labelled: number): Code[] => [
    get(scratch(g)), get(column(g)), get(row), add, load8(), i32(COUNTED_BIN), mul, add, set(at),
    get(at), get(at), load32(copy), get(labelled), add, store32(copy),
    get(at), get(at), load32(copy + 4), get(draws), add, store32(copy + 4),
    get(at), get(at), load32(copy + 8), i32(1), add, store32(copy + 8),
  ];
  // out[b] = (first copy + second copy) as a double, one field
  // prettier-ignore
  const total = (field: number): Code[] => [
    get(out), get(b), i32(1), shl, add,
    get(scr), get(b), add, load32(4 * field),
    get(scr), get(b), add, load32(SECOND_COPY + 4 * field),
    add, f64FromUnsigned, storeF64(8 * field),
  ];
  const groups = Array.from({ length: k }, (_, g) => g);
  return {
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [...Array.from({ length: 14 }, () => I32), ...groups.flatMap(() => [I32, I32])],
    // prettier-ignore
    body: [
      ...groups.flatMap((g) => [
        get(desc), load32(g * BUNDLE_ENTRY_BYTES), set(column(g)),
        get(desc), load32(g * BUNDLE_ENTRY_BYTES + 8), tee(scratch(g)),
        i32(0), get(desc), load32(g * BUNDLE_ENTRY_BYTES + 12), i32(COUNTED_BIN), mul, tee(half), memoryFill,
        get(scratch(g)), i32(SECOND_COPY), add, i32(0), get(half), memoryFill,
      ]),
      get(start), set(i),
      get(codes), set(code),
      // pairs of positions: the even one into each group's first copy, the odd one into its second
      block,
      get(i), i32(1), add, get(stop), geU, branchIf(0),
      loop,
      get(rows), get(i), i32(2), shl, add, tee(at), load32(0), set(row0),
      get(at), load32(4), set(row1),
      ...codeOf(0, d0, l0),
      ...codeOf(1, d1, l1),
      ...groups.flatMap((g) => [
        ...accumulate(g, row0, 0, d0, l0),
        ...accumulate(g, row1, SECOND_COPY, d1, l1),
      ]),
      get(code), i32(2), add, set(code),
      get(i), i32(2), add, tee(i), i32(1), add, get(stop), ltU, branchIf(0),
      end,
      end,
      // a last odd position
      block,
      get(i), get(stop), geU, branchIf(0),
      get(rows), get(i), i32(2), shl, add, load32(0), set(row0),
      ...codeOf(0, d0, l0),
      ...groups.flatMap((g) => accumulate(g, row0, 0, d0, l0)),
      end,
      // each group: out = first copy + second copy, as doubles
      i32(0), set(j),
      loop,
      get(desc), get(j), i32(BUNDLE_ENTRY_BYTES), mul, add, tee(at), load32(4), set(out),
      get(at), load32(8), set(scr),
      get(at), load32(12), i32(COUNTED_BIN), mul, set(half),
      i32(0), set(b),
      block,
      get(half), eqz, branchIf(0),
      loop,
      ...total(0), ...total(1), ...total(2),
      get(b), i32(COUNTED_BIN), add, tee(b), get(half), ltU, branchIf(0),
      end,
      end,
      get(j), i32(1), add, tee(j), i32(k), ltU, branchIf(0),
      end,
    ],
  };
}

function gatherCodesFunction(): FunctionCode {
  const [rows, start, stop, codes, ordered] = [0, 1, 2, 3, 4];
  const [i, to] = [5, 6];
  return {
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32],
    // prettier-ignore
    body: [
      get(start), set(i),
      get(ordered), set(to),
      ...countedLoop(i, stop, [
        get(to), get(codes), get(rows), get(i), i32(2), shl, add, load32(), add, load8(), store8(),
        get(to), i32(1), add, set(to),
      ]),
    ],
  };
}

function bootstrapDrawsFunction(): FunctionCode {
  const [state, samples, rows, draws] = [0, 1, 2, 3];
  const [s0, s1, s2, s3, t, result, k, at, drawn, most] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13];
  return {
    params: [I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    // prettier-ignore
    body: [
      get(draws), i32(0), get(rows), i32(1), shl, memoryFill,
      ...xoshiroLoad(state, { s0, s1, s2, s3 }),
      i32(0), set(k),
      i32(0), set(most),
      ...countedLoop(k, samples, [
        ...xoshiroNext({ s0, s1, s2, s3, t, result }),
        // draws[floor(result * rows / 2^32)] += 1, in doubles as in JavaScript
        get(draws),
        get(result), f64FromUnsigned, get(rows), f64FromUnsigned, f64Mul, f64(4294967296), f64Div, f64Floor,
        i32TruncF64Unsigned, i32(1), shl, add, tee(at),
        get(at), load16(), i32(1), add, tee(drawn), store16(),
        get(drawn), get(most), get(drawn), get(most), gtU, select, set(most),
      ]),
      ...xoshiroStore(state, { s0, s1, s2, s3 }),
      get(most),
    ],
  };
}

function codeRowsFunction(): FunctionCode {
  const [draws, labels, rows, positions, codes] = [0, 1, 2, 3, 4];
  const [row, count, drawn] = [5, 6, 7];
  return {
    params: [I32, I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32],
    // prettier-ignore
    body: [
      i32(0), set(row),
      i32(0), set(count),
      ...countedLoop(row, rows, [
        get(draws), get(row), i32(1), shl, add, load16(), set(drawn),
        get(codes), get(row), add, get(drawn), i32(1), shl, get(labels), get(row), add, load8(), add, store8(),
        // every row is written and only drawn ones advance the cursor: no branch to mispredict
        get(positions), get(count), i32(2), shl, add, get(row), store32(),
        get(count), get(drawn), i32(0), ne, add, set(count),
      ]),
      get(count),
    ],
  };
}

/**
 * The loop of a stable two-way partition of positions [start, stop): each row goes to the cursor of its
 * side, left ones ascending from `left` into `leftBase`, right ones from `right` into `rightBase`,
 * ascending or (`backwards`) descending. Both cursors' slots are written and one cursor moves, so there
 * is no branch to mispredict: the other slot is still free, and a later row (or the copy back) fills it.
 */
function partitionFunction(): FunctionCode {
  const [column, table, rows, start, stop, scratchRows] = [0, 1, 2, 3, 4, 5];
  const [i, left, right, row, goes] = [6, 7, 8, 9, 10];
  return {
    params: [I32, I32, I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32],
    // prettier-ignore
    body: [
      get(start), tee(i), set(left),
      i32(0), set(right),
      // left rows in place, right ones into the scratch
      ...countedLoop(i, stop, [
        get(rows), get(i), i32(2), shl, add, load32(), set(row),
        get(table), get(column), get(row), add, load8(), add, load8(), set(goes),
        get(rows), get(left), i32(2), shl, add, get(row), store32(),
        get(scratchRows), get(right), i32(2), shl, add, get(row), store32(),
        get(left), get(goes), add, set(left),
        get(right), i32(1), get(goes), sub, add, set(right),
      ]),
      // the right side goes back after the left one
      get(rows), get(left), i32(2), shl, add, get(scratchRows), get(right), i32(2), shl, memoryCopy,
      get(left),
    ],
  };
}

function scatterLeafFunction(): FunctionCode {
  const [rows, start, stop, leafOf, leaf] = [0, 1, 2, 3, 4];
  const i = 5;
  return {
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [I32],
    // prettier-ignore
    body: [
      get(start), set(i),
      ...countedLoop(i, stop, [
        get(leafOf), get(rows), get(i), i32(2), shl, add, load32(), i32(1), shl, add, get(leaf), store16(),
      ]),
    ],
  };
}

/** The arithmetic of one row, or of two rows at once in the lanes of a vector (the same results lane by lane). */
interface Lanes {
  constant: (value: number) => Code[];
  neg: Code;
  min: Code;
  max: Code;
  nearest: Code;
  add: Code;
  sub: Code;
  mul: Code;
  div: Code;
}

const ONE_ROW: Lanes = {
  constant: (value) => [f64(value)],
  neg: f64Neg,
  min: f64Min,
  max: f64Max,
  nearest: f64Nearest,
  add: f64Add,
  sub: f64Sub,
  mul: f64Mul,
  div: f64Div,
};

/**
 * Two rows in the lanes of a vector, each constant splat once into a local (`constants` gives its
 * index by value; the function sets them first). The clamp's min and max are the one-instruction pmin
 * and pmax: they differ from min and max only for NaN on the right and for signed zeros, neither of
 * which the constant bound is.
 */
function twoRows(constants: Map<number, number>): Lanes {
  return {
    constant: (value) => [get(constants.get(value) as number)],
    neg: f64x2Neg,
    min: f64x2Pmin,
    max: f64x2Pmax,
    nearest: f64x2Nearest,
    add: f64x2Add,
    sub: f64x2Sub,
    mul: f64x2Mul,
    div: f64x2Div,
  };
}

/**
 * One boosting pass (see Kernels.boostLogLoss): rows two at a time in the lanes of 128-bit vectors, then
 * an odd count's last row alone, each with the same operations in the same order (so the same bits as
 * row by row, and as fastExp in JavaScript).
 */
function boostFunction(logLoss: boolean, weighted: boolean): FunctionCode {
  const [start, stop, raw, y, weights, leafOf, leafValues, gh, tables, rows] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  // the grids (F64 parameters): gradients to multiples of gridG, hessians of gridH
  const grid = { gradient: 10, hessian: 11 };
  const [i, at, k, k1, pairsEnd] = [12, 13, 14, 15, 16];
  // the same names for a row's doubles (F64 locals) and for two rows' vectors (V128 locals)
  const one = { score: 17, weight: 18, x: 19, rounded: 20, r: 21, p: 22, target: 23 };
  /**
   * A grid's shift: 1.5 × 2^52 grids, whose doubles are one grid apart, so that (value + shift) - shift is
   * the value rounded to the nearest multiple of the grid (ties to even) for values up to 2^51 grids (F64
   * locals, then splat into V128 locals after the constants').
   */
  const shift = { gradient: 24, hessian: 25 };
  const two = { score: 26, weight: 27, x: 28, rounded: 29, r: 30, p: 31, target: 32 };
  const shiftLanes = { gradient: 43, hessian: 44 };
  const leafValue = (next: number): Code[] => [
    get(leafValues),
    get(leafOf),
    get(i),
    i32(1),
    shl,
    add,
    load16(2 * next),
    i32(3),
    shl,
    add,
    loadF64(0),
  ];
  // a table's entry for exponent k: fractions[k & 63], or powers[(k >> 6) + 1100]
  const fraction = (exponent: number): Code[] => [
    get(tables),
    get(exponent),
    i32(63),
    and,
    i32(3),
    shl,
    add,
    loadF64(0),
  ];
  const power = (exponent: number): Code[] => [
    get(tables),
    get(exponent),
    i32(6),
    shrS,
    i32(1100),
    add,
    i32(3),
    shl,
    add,
    loadF64(EXP_FRACTIONS.length * 8),
  ];
  const values = [
    700,
    -700,
    SIXTY_FOUR_OVER_LN2,
    LN2_OVER_64_HIGH,
    LN2_OVER_64_LOW,
    1,
    0.5,
    1 / 6,
    1 / 24,
    1 / 120,
  ];
  const constants = new Map(values.map((value, at) => [value, 33 + at]));
  const rowsCode = (paired: boolean): Code[] => {
    const lanes = paired ? twoRows(constants) : ONE_ROW;
    const v = paired ? two : one;
    const load = paired ? v128Load : loadF64;
    const { constant } = lanes;
    // the exponent of each row: k (and k1 for the second) = rounded, as a whole number
    const exponents: Code[] = paired
      ? [
          get(v.rounded),
          f64x2ExtractLane(0),
          i32TruncF64,
          set(k),
          get(v.rounded),
          f64x2ExtractLane(1),
          i32TruncF64,
          set(k1),
        ]
      : [get(v.rounded), i32TruncF64, set(k)];
    const table = (entry: (exponent: number) => Code[]): Code[] =>
      paired ? [...entry(k), f64x2Splat, ...entry(k1), f64x2ReplaceLane(1)] : entry(k);
    // p = 1 / (1 + exp(-score)), exp as fastExp above, operation for operation
    // prettier-ignore
    const probability: Code[] = [
      get(v.score), lanes.neg, ...constant(700), lanes.min, ...constant(-700), lanes.max, set(v.x),
      get(v.x), ...constant(SIXTY_FOUR_OVER_LN2), lanes.mul, lanes.nearest, set(v.rounded),
      ...exponents,
      get(v.x), get(v.rounded), ...constant(LN2_OVER_64_HIGH), lanes.mul, lanes.sub,
      get(v.rounded), ...constant(LN2_OVER_64_LOW), lanes.mul, lanes.sub, set(v.r),
      ...constant(1),
      get(v.r), ...constant(1), get(v.r), ...constant(0.5), get(v.r), ...constant(1 / 6),
      get(v.r), ...constant(1 / 24), get(v.r), ...constant(1 / 120),
      lanes.mul, lanes.add, lanes.mul, lanes.add, lanes.mul, lanes.add, lanes.mul, lanes.add, lanes.mul, lanes.add,
      ...table(fraction), lanes.mul,
      ...table(power), lanes.mul,
      set(v.p),
      ...constant(1), ...constant(1), get(v.p), lanes.add, lanes.div, set(v.p),
    ];
    // the gradient and hessian of each row, as values on the stack
    // prettier-ignore
    const [gradient, hessian]: Code[][] = logLoss
      ? [
          [get(v.weight), get(v.p), get(v.target), lanes.sub, lanes.mul],
          [get(v.weight), get(v.p), lanes.mul, ...constant(1), get(v.p), lanes.sub, lanes.mul],
        ]
      : [[get(v.weight), get(v.score), get(v.target), lanes.sub, lanes.mul], [get(v.weight)]];
    // each value to the nearest multiple of its grid
    const onGrid = (value: Code[], step: 'gradient' | 'hessian'): Code[] => {
      const from = paired ? shiftLanes : shift;
      return [...value, get(from[step]), lanes.add, get(from[step]), lanes.sub];
    };
    const [gradientOnGrid, hessianOnGrid] = [onGrid(gradient, 'gradient'), onGrid(hessian, 'hessian')];
    const pairsAt: Code[] = [get(gh), get(at), i32(1), shl, add];
    // prettier-ignore
    return [
      get(i), i32(3), shl, set(at),
      // score = raw[i] + leafValues[leafOf[i]]
      get(raw), get(at), add, load(0),
      ...(paired ? [...leafValue(0), f64x2Splat, ...leafValue(1), f64x2ReplaceLane(1)] : leafValue(0)),
      lanes.add, set(v.score),
      get(raw), get(at), add, get(v.score), paired ? v128Store(0) : storeF64(0),
      // weight = weights[i], or 1 without weights (not read at all: a stream of memory less)
      ...(weighted ? [get(weights), get(at), add, load(0)] : constant(1)), set(v.weight),
      get(y), get(at), add, load(0), set(v.target),
      ...(logLoss ? probability : []),
      ...(paired
        ? [
            // both rows' gradients (x is free by now) and hessians (r), then (gradient, hessian) of the
            // first row and of the second: the lanes interleaved
            ...gradientOnGrid, set(v.x), ...hessianOnGrid, set(v.r),
            ...pairsAt, get(v.x), get(v.r), i8x16Shuffle([0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]), v128Store(0),
            ...pairsAt, get(v.x), get(v.r), i8x16Shuffle([8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31]), v128Store(16),
          ]
        : [...pairsAt, ...gradientOnGrid, storeF64(0), ...pairsAt, ...hessianOnGrid, storeF64(8)]),
      get(rows), ifThen,
      get(rows), get(i), i32(2), shl, add, get(i), store32(),
      ...(paired ? [get(rows), get(i), i32(2), shl, add, get(i), i32(1), add, store32(4)] : []),
      end,
    ];
  };
  return {
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, F64, F64],
    results: [],
    locals: [
      ...[I32, I32, I32, I32, I32],
      ...Array.from({ length: 9 }, () => F64),
      ...Array.from({ length: 7 + values.length + 2 }, () => V128),
    ],
    // prettier-ignore
    body: [
      ...values.flatMap((value) => [f64(value), f64x2Splat, set(constants.get(value) as number)]),
      ...(['gradient', 'hessian'] as const).flatMap((name) => [
        get(grid[name]), f64(1.5 * 2 ** 52), f64Mul, tee(shift[name]), f64x2Splat, set(shiftLanes[name]),
      ]),
      // pairs of rows up to the last even count, then a last odd row
      get(stop), get(start), sub, i32(-2), and, get(start), add, set(pairsEnd),
      get(start), set(i),
      block,
      get(i), get(pairsEnd), geU, branchIf(0),
      loop,
      ...rowsCode(true),
      get(i), i32(2), add, tee(i), get(pairsEnd), ltU, branchIf(0),
      end,
      end,
      ...countedLoop(i, stop, rowsCode(false)),
    ],
  };
}

function sampleRowsFunction(): FunctionCode {
  const [state, bound, count, pool, marks, sample] = [0, 1, 2, 3, 4, 5];
  const [s0, s1, s2, s3, t, value, i, j, left, rest, swap, row] = [
    6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
  ];
  // Random.nextUint32 into `value`, operation for operation
  const nextUint32: Code[] = [
    get(s1),
    i32(5),
    mul,
    i32(7),
    rotl,
    i32(9),
    mul,
    set(value),
    get(s1),
    i32(9),
    shl,
    set(t),
    get(s2),
    get(s0),
    xor,
    set(s2),
    get(s3),
    get(s1),
    xor,
    set(s3),
    get(s1),
    get(s2),
    xor,
    set(s1),
    get(s0),
    get(s3),
    xor,
    set(s0),
    get(s2),
    get(t),
    xor,
    set(s2),
    get(s3),
    i32(11),
    rotl,
    set(s3),
  ];
  return {
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    // prettier-ignore
    body: [
      // pool[i] = i, marks zeroed
      get(marks), i32(0), get(bound), memoryFill,
      i32(0), set(i),
      ...countedLoop(i, bound, [
        get(pool), get(i), i32(2), shl, add, get(i), store32(),
      ]),
      ...xoshiroLoad(state, { s0, s1, s2, s3 }),
      i32(0), set(i),
      ...countedLoop(i, count, [
        // j = i + nextInt(bound - i): draws at or above 2^32 - (2^32 mod left) are rejected, i.e. those
        // above ~(2^32 mod left) as unsigned, and 2^32 mod left = (2^32 - left) mod left
        get(bound), get(i), sub, set(left),
        i32(0), get(left), sub, get(left), remU, i32(-1), xor, set(rest),
        loop,
        ...nextUint32,
        get(value), get(rest), gtU, branchIf(0),
        end,
        get(i), get(value), get(left), remU, add, set(j),
        get(pool), get(i), i32(2), shl, add, load32(), set(swap),
        get(pool), get(i), i32(2), shl, add, get(pool), get(j), i32(2), shl, add, load32(), store32(),
        get(pool), get(j), i32(2), shl, add, get(swap), store32(),
        get(marks), get(pool), get(i), i32(2), shl, add, load32(), add, i32(1), store8(),
      ]),
      ...xoshiroStore(state, { s0, s1, s2, s3 }),
      // the marked rows, ascending: every row is written and only marked ones advance the cursor
      i32(0), set(row),
      i32(0), set(j),
      ...countedLoop(row, bound, [
        get(sample), get(j), i32(2), shl, add, get(row), store32(),
        get(j), get(marks), get(row), add, load8(), add, set(j),
      ]),
    ],
  };
}

function gatherPresentFunction(): FunctionCode {
  const [column, sample, count, values] = [0, 1, 2, 3];
  const [i, k, value] = [4, 5, 6];
  return {
    params: [I32, I32, I32, I32],
    results: [I32],
    locals: [I32, I32, F64],
    // prettier-ignore
    body: [
      i32(0), set(i),
      i32(0), set(k),
      ...countedLoop(i, count, [
        get(column), get(sample), get(i), i32(2), shl, add, load32(), i32(3), shl, add, loadF64(), set(value),
        // every value is written and only present ones advance the cursor
        get(values), get(k), i32(3), shl, add, get(value), storeF64(),
        get(k), get(value), get(value), f64Eq, add, set(k),
      ]),
      get(k),
    ],
  };
}

function wholeRangeFunction(): FunctionCode {
  const [values, count, out] = [0, 1, 2];
  const [i, whole, value, low, high] = [3, 4, 5, 6, 7];
  return {
    params: [I32, I32, I32],
    results: [I32],
    locals: [I32, I32, F64, F64, F64],
    // prettier-ignore
    body: [
      i32(0), set(i),
      i32(1), set(whole),
      f64(Infinity), set(low),
      f64(-Infinity), set(high),
      ...countedLoop(i, count, [
        get(values), get(i), i32(3), shl, add, loadF64(), set(value),
        get(whole), get(value), f64Floor, get(value), f64Eq, and, set(whole),
        get(low), get(value), f64Min, set(low),
        get(high), get(value), f64Max, set(high),
      ]),
      get(out), get(low), storeF64(0),
      get(out), get(high), storeF64(8),
      get(whole),
    ],
  };
}

/** Bits of the order key sortDoubles places by in each pass (six passes cover the 64). */
const RADIX_BITS = 11;
const RADIX_BUCKETS = 1 << RADIX_BITS;
const RADIX_PASSES = 6;
/** Bytes of sortDoubles' counts: a 32-bit count for each digit of each pass. */
export const SORT_COUNTS_BYTES = RADIX_PASSES * RADIX_BUCKETS * 4;

/**
 * A least-significant-digit radix sort of doubles by their order keys (the sign bit flipped for a
 * positive number, every bit for a negative one, so that the keys order as the numbers do, -0 before +0):
 * every pass's counts in one read, then one stable pass a digit, skipped where every key has the same one.
 */
function sortDoublesFunction(): FunctionCode {
  const [values, n, temp, counts] = [0, 1, 2, 3];
  const [i, at, sign, low, high, sum, count, from, to, swap, single, digit, buckets, countAt] = [
    4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
  ];
  const mask = RADIX_BUCKETS - 1;
  // the key of the double at `at`, as two 32-bit words
  // prettier-ignore
  const key: Code[] = [
    get(at), load32(4), i32(31), shrS, set(sign),
    get(at), load32(4), get(sign), i32(-0x80000000), or, xor, set(high),
    get(at), load32(0), get(sign), xor, set(low),
  ];
  const digitOf = (pass: number): Code[] =>
    [
      [get(low), i32(mask), and],
      [get(low), i32(11), shrU, i32(mask), and],
      [get(low), i32(22), shrU, get(high), i32(10), shl, or, i32(mask), and],
      [get(high), i32(1), shrU, i32(mask), and],
      [get(high), i32(12), shrU, i32(mask), and],
      [get(high), i32(23), shrU],
    ][pass];
  // the address of the key's count in pass `pass` (the pass's offset goes in the access)
  const countOf = (pass: number): Code[] => [get(counts), ...digitOf(pass), i32(2), shl, add, tee(countAt)];
  const passes = Array.from({ length: RADIX_PASSES }, (_, pass) => pass);
  const offset = (pass: number): number => pass * RADIX_BUCKETS * 4;
  return {
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32],
    // prettier-ignore
    body: [
      get(counts), i32(0), i32(SORT_COUNTS_BYTES), memoryFill,
      i32(RADIX_BUCKETS), set(buckets),
      i32(0), set(i),
      ...countedLoop(i, n, [
        get(values), get(i), i32(3), shl, add, set(at),
        ...key,
        ...passes.flatMap((pass) => [
          ...countOf(pass), get(countAt), load32(offset(pass)), i32(1), add, store32(offset(pass)),
        ]),
      ]),
      get(values), set(from),
      get(temp), set(to),
      ...passes.flatMap((pass) => [
        // each digit's first place, and whether one digit holds every key
        i32(0), set(sum),
        i32(0), set(single),
        i32(0), set(digit),
        ...countedLoop(digit, buckets, [
          get(counts), get(digit), i32(2), shl, add, tee(countAt), load32(offset(pass)), set(count),
          get(single), get(count), get(n), xor, eqz, or, set(single),
          get(countAt), get(sum), store32(offset(pass)),
          get(sum), get(count), add, set(sum),
        ]),
        get(single), eqz, ifThen,
        i32(0), set(i),
        ...countedLoop(i, n, [
          get(from), get(i), i32(3), shl, add, set(at),
          ...key,
          get(to),
          ...countOf(pass), load32(offset(pass)), tee(count), i32(3), shl, add,
          get(at), loadF64(), storeF64(),
          get(countAt), get(count), i32(1), add, store32(offset(pass)),
        ]),
        get(from), set(swap),
        get(to), set(from),
        get(swap), set(to),
        end,
      ]),
      // an odd number of passes leaves the sorted values in temp
      get(from), get(values), xor, ifThen,
      get(values), get(from), get(n), i32(3), shl, memoryCopy,
      end,
    ],
  };
}

/** to[k] = from[k · step] for the `count` bytes k (a block's codes of one segment, see groupCodes). */
function strideBytesFunction(): FunctionCode {
  const [from, count, step, to] = [0, 1, 2, 3];
  const [k] = [4];
  return {
    params: [I32, I32, I32, I32],
    results: [],
    locals: [I32],
    // prettier-ignore
    body: [
      i32(0), set(k),
      ...countedLoop(k, count, [
        get(to), get(k), add,
        get(from), get(k), get(step), mul, add, load8(),
        store8(),
      ]),
    ],
  };
}

function countValuesFunction(): FunctionCode {
  const [values, count, min, counts] = [0, 1, 2, 3];
  const [i, at] = [4, 5];
  return {
    params: [I32, I32, F64, I32],
    results: [],
    locals: [I32, I32],
    // prettier-ignore
    body: [
      i32(0), set(i),
      ...countedLoop(i, count, [
        get(counts),
        get(values), get(i), i32(3), shl, add, loadF64(), get(min), f64Sub, i32TruncF64, i32(2), shl, add, tee(at),
        get(at), load32(), i32(1), add, store32(),
      ]),
    ],
  };
}

function anyMissingFunction(): FunctionCode {
  const [column, rows] = [0, 1];
  const [i, found, value] = [2, 3, 4];
  return {
    params: [I32, I32],
    results: [I32],
    locals: [I32, I32, F64],
    // prettier-ignore
    body: [
      i32(0), set(i),
      i32(0), set(found),
      ...countedLoop(i, rows, [
        get(column), get(i), i32(3), shl, add, loadF64(), set(value),
        get(found), get(value), get(value), f64Ne, or, set(found),
      ]),
      get(found),
    ],
  };
}

/**
 * Sets local `base` to the number of the doubles at `edges` (padded with +Infinity to 2^steps - 1) below
 * the double in local `value`, by `steps` halvings with no branch (none for NaN: every comparison is
 * false); `halving` and `step` are scratch locals.
 */
function paddedSearch(locals: {
  edges: number;
  steps: number;
  value: number;
  base: number;
  halving: number;
  step: number;
}): Code[] {
  const { edges, steps, value, base, halving, step } = locals;
  // prettier-ignore
  return [
    i32(0), set(base),
    get(steps), set(halving),
    block,
    get(halving), eqz, branchIf(0),
    loop,
    i32(1), get(halving), i32(1), sub, tee(halving), shl, set(step),
    get(base), get(step), add,
    get(base),
    get(edges), get(base), get(step), add, i32(1), sub, i32(3), shl, add, loadF64(), get(value), f64Lt,
    select, set(base),
    get(halving), branchIf(0),
    end,
    end,
  ];
}

function binCodesFunction(): FunctionCode {
  const [column, rows, edges, steps, missingBin, stride, out, first] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [i, base, halving, step, at, value] = [8, 9, 10, 11, 12, 13];
  return {
    params: [I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, I32, F64],
    // prettier-ignore
    body: [
      i32(0), set(i),
      ...countedLoop(i, rows, [
        get(column), get(i), i32(3), shl, add, loadF64(), set(value),
        ...paddedSearch({ edges, steps, value, base, halving, step }),
        get(out), get(i), add, tee(at),
        get(missingBin), get(base), get(value), get(value), f64Ne, select, get(stride), mul,
        i32(0), get(at), load8(), get(first), select,
        add, store8(),
      ]),
    ],
  };
}

function rankValuesFunction(): FunctionCode {
  const [column, rows, thresholds, steps, ranks, missingLeftRanks] = [0, 1, 2, 3, 4, 5];
  const [i, base, halving, step, value, at] = [6, 7, 8, 9, 10, 11];
  return {
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, I32, I32, F64, I32],
    // prettier-ignore
    body: [
      i32(0), set(i),
      ...countedLoop(i, rows, [
        get(column), get(i), i32(3), shl, add, loadF64(), set(value),
        ...paddedSearch({ edges: thresholds, steps, value, base, halving, step }),
        get(i), i32(1), shl, set(at),
        get(ranks), get(at), add,
        i32(MISSING_RANK), get(base), get(value), get(value), f64Ne, select,
        store16(),
        get(missingLeftRanks), get(at), add,
        i32(0), get(base), get(value), get(value), f64Ne, select,
        store16(),
      ]),
    ],
  };
}

/** Rows walkTrees walks a tree in step. */
const WALK_LANES = 8;

function walkTreesFunction(): FunctionCode {
  const [roots, leaves, packed, trees, outputs, ranks, planeShift, rows, out] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [t, o, r, root, code, reached, base, outAt, outStep] = [9, 10, 11, 12, 13, 14, 15, 16, 17];
  const nodes = Array.from({ length: WALK_LANES }, (_, lane) => 18 + lane);
  /** One step of lane `lane` (row r + lane) from its node; `reached` keeps the AND of the codes. */
  const step = (lane: number): Code[] => {
    const node = nodes[lane];
    // prettier-ignore
    return [
      get(node), load32(), set(code),
      // right (the next node, 8 bytes on) when the rank in the split's plane is past its threshold index
      get(base), get(code), i32(16), shrU, get(planeShift), shl, add, load16(2 * lane),
      get(code), i32(0xffff), and, gtU, i32(3), shl,
      get(node), load32(4), add, set(node),
      get(reached), get(code), and, set(reached),
    ];
  };
  /** Walks lanes [0, lanes) from the root until each is at its leaf (a leaf stays where it is). */
  const walk = (lanes: number): Code[] => [
    ...nodes.slice(0, lanes).flatMap((node) => [get(root), set(node)]),
    get(ranks),
    get(r),
    i32(1),
    shl,
    add,
    set(base),
    loop,
    i32(-1),
    set(reached),
    ...Array.from({ length: lanes }, (_, lane) => step(lane)).flat(),
    // a leaf's code is exactly MISSING_RANK; a split's always has a bit outside it or an index below it
    get(reached),
    i32(MISSING_RANK),
    ne,
    branchIf(0),
    end,
    get(out),
    get(r),
    get(outputs),
    mul,
    get(o),
    add,
    i32(3),
    shl,
    add,
    set(outAt),
    ...Array.from({ length: lanes }, (_, lane) => [
      get(outAt),
      get(outAt),
      loadF64(),
      // a node's leaf value is at the same place in `leaves` as the node in `packed`
      get(nodes[lane]),
      get(packed),
      sub,
      get(leaves),
      add,
      loadF64(),
      f64Add,
      storeF64(),
      get(outAt),
      get(outStep),
      add,
      set(outAt),
    ]).flat(),
  ];
  return {
    params: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [...Array.from({ length: 9 }, () => I32), ...nodes.map(() => I32)],
    // prettier-ignore
    body: [
      get(outputs), i32(3), shl, set(outStep),
      i32(0), set(o),
      i32(0), set(t),
      ...countedLoop(t, trees, [
        get(roots), get(t), i32(2), shl, add, load32(), set(root),
        i32(0), set(r),
        // WALK_LANES rows at a time
        block,
        get(r), i32(WALK_LANES), add, get(rows), gtU, branchIf(0),
        loop,
        ...walk(WALK_LANES),
        get(r), i32(WALK_LANES), add, tee(r), i32(WALK_LANES), add, get(rows), gtU, eqz, branchIf(0),
        end,
        end,
        // the rest one by one
        ...countedLoop(r, rows, walk(1)),
        // the next tree's output: o + 1, back to 0 at outputs
        get(o), i32(1), add, tee(o), i32(0), get(o), get(outputs), ltU, select, set(o),
      ]),
    ],
  };
}

function binCodesOneEdgeFunction(): FunctionCode {
  const [column, rows, edge, missingBin, stride, out, first] = [0, 1, 2, 3, 4, 5, 6];
  const [i, at, value] = [7, 8, 9];
  return {
    params: [I32, I32, F64, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32, F64],
    // prettier-ignore
    body: [
      i32(0), set(i),
      ...countedLoop(i, rows, [
        get(column), get(i), i32(3), shl, add, loadF64(), set(value),
        get(out), get(i), add, tee(at),
        get(missingBin), get(edge), get(value), f64Lt, get(value), get(value), f64Ne, select, get(stride), mul,
        i32(0), get(at), load8(), get(first), select,
        add, store8(),
      ]),
    ],
  };
}

/** target[k] (op)= source[k] for `count` doubles: pairs with one SIMD operation, then an odd count's last one. */
function pairwiseFunction(one: Code, two: Code): FunctionCode {
  const [target, source, count] = [0, 1, 2];
  const [i, pairs] = [3, 4];
  return {
    params: [I32, I32, I32],
    results: [],
    locals: [I32, I32],
    // prettier-ignore
    body: [
      get(count), i32(1), shrU, set(pairs),
      i32(0), set(i),
      ...countedLoop(i, pairs, [
        get(target), get(i), i32(4), shl, add,
        get(target), get(i), i32(4), shl, add, v128Load(),
        get(source), get(i), i32(4), shl, add, v128Load(),
        two, v128Store(),
      ]),
      get(count), i32(1), and, ifThen,
        get(count), i32(1), sub, i32(3), shl, set(i),
        get(target), get(i), add,
        get(target), get(i), add, loadF64(),
        get(source), get(i), add, loadF64(),
        one, storeF64(),
      end,
    ],
  };
}

/** The doubles of scanBins' record at `best`. */
export const SCAN_RECORD = {
  gain: 0,
  bin: 1,
  missingLeft: 2,
  leftGradient: 3,
  leftHessian: 4,
  leftCount: 5,
} as const;

/** Bytes of one searchFeatures table entry (six 32-bit numbers, at SEARCH_ENTRY's byte offsets). */
export const SEARCH_ENTRY_BYTES = 24;
/**
 * A searchFeatures table entry: the feature's group histogram (bytes from the node's slot), its value bins,
 * whether it has a missing bin, its digit table's address (0 when the feature has its group to itself),
 * its group's code count and the feature's number.
 */
export const SEARCH_ENTRY = {
  offset: 0,
  valueBins: 4,
  missing: 8,
  digits: 12,
  groupBins: 16,
  feature: 20,
} as const;

/** searchFeatures (see Kernels.searchFeatures); `scanAt` is scanBins' place in the module. */
function searchFeaturesFunction(scanAt: number): FunctionCode {
  const [slot, table, count, total, sumG, sumH, minSamples, minHessian, l2, parentScore, best, expanded] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
  ];
  const [e, at, histogram, digits, codes, code, from, to, found] = [12, 13, 14, 15, 16, 17, 18, 19, 20];
  const entry = (field: number): Code[] => [get(at), load32(field)];
  return {
    params: [I32, I32, I32, F64, F64, F64, F64, F64, F64, F64, I32, I32],
    results: [I32],
    locals: [I32, I32, I32, I32, I32, I32, I32, I32, I32],
    // prettier-ignore
    body: [
      i32(-1), set(found),
      i32(0), set(e),
      block,
      get(count), eqz, branchIf(0),
      loop,
      get(table), get(e), i32(SEARCH_ENTRY_BYTES), mul, add, set(at),
      get(slot), ...entry(SEARCH_ENTRY.offset), add, set(histogram),
      ...entry(SEARCH_ENTRY.digits), tee(digits), ifThen,
        // a packed feature: its bins are the sums of its group's codes with the same digit
        get(expanded), i32(0),
        ...entry(SEARCH_ENTRY.valueBins), ...entry(SEARCH_ENTRY.missing), add, i32(24), mul, memoryFill,
        ...entry(SEARCH_ENTRY.groupBins), set(codes),
        i32(0), set(code),
        ...countedLoop(code, codes, [
          get(histogram), get(code), i32(24), mul, add, tee(from), loadF64(16), f64(0), f64Ne, ifThen,
            get(expanded), get(digits), get(code), add, load8(), i32(24), mul, add, set(to),
            get(to), get(to), v128Load(0), get(from), v128Load(0), f64x2Add, v128Store(0),
            get(to), get(to), loadF64(16), get(from), loadF64(16), f64Add, storeF64(16),
          end,
        ]),
        get(expanded), set(histogram),
      end,
      get(histogram), ...entry(SEARCH_ENTRY.valueBins), ...entry(SEARCH_ENTRY.missing),
      get(total), get(sumG), get(sumH), get(minSamples), get(minHessian), get(l2), get(parentScore), get(best),
      call(scanAt),
      ifThen, ...entry(SEARCH_ENTRY.feature), set(found), end,
      get(e), i32(1), add, tee(e), get(count), ltU, branchIf(0),
      end,
      end,
      get(found),
    ],
  };
}

function scanBinsFunction(): FunctionCode {
  const [histogram, bins, missing, total, sumG, sumH, minSamples, minHessian, l2, parentScore, best] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
  ];
  const [pass, b, last, improved, at] = [11, 12, 13, 14, 15];
  const [mG, mH, mC, lH, lC, rC, rH, gain, bestGain] = [16, 17, 18, 19, 20, 21, 22, 23, 24];
  // (gradient, hessian) pairs: the left side's, the node's, the right side's; the two sides' gradients;
  // L2 in both lanes; the two sides' scores
  const [left, sums, right, gradients, l2s, scores] = [25, 26, 27, 28, 29, 30];
  return {
    params: [I32, I32, I32, F64, F64, F64, F64, F64, F64, F64, I32],
    results: [I32],
    // five integers, nine doubles, six pairs of doubles (the names above)
    locals: [
      ...Array.from({ length: 5 }, () => I32),
      ...Array.from({ length: 9 }, () => F64),
      ...Array.from({ length: 6 }, () => V128),
    ],
    // The two sides' scores g^2 / (h + L2) are divided in one instruction, each lane with the operations
    // of the one-at-a-time form (so the same bits): the divisions were most of a bin's time.
    // prettier-ignore
    body: [
      get(best), loadF64(0), set(bestGain),
      get(sumG), f64x2Splat, get(sumH), f64x2ReplaceLane(1), set(sums),
      get(l2), f64x2Splat, set(l2s),
      get(missing), ifThen,
        get(histogram), get(bins), i32(24), mul, add, tee(at), loadF64(0), set(mG),
        get(at), loadF64(8), set(mH),
        get(at), loadF64(16), set(mC),
      end,
      i32(0), set(pass),
      block,
        // pass 0: missing values go right; pass 1: they go left (only when the node has some)
        loop,
          get(pass), get(mC), f64(0), f64Eq, and, branchIf(1),
          get(mG), f64(0), get(pass), select, f64x2Splat,
          get(mH), f64(0), get(pass), select, f64x2ReplaceLane(1), set(left),
          get(mC), f64(0), get(pass), select, set(lC),
          // with missing values on the right, the last value bin can close the left side
          get(bins), i32(1), sub, get(bins), i32(2), sub,
          get(pass), eqz, get(mC), f64(0), f64Gt, and, select, set(last),
          i32(0), set(b),
          block,
            get(b), get(last), gtS, branchIf(0),
            loop,
              get(histogram), get(b), i32(24), mul, add, set(at),
              get(left), get(at), v128Load(0), f64x2Add, tee(left), f64x2ExtractLane(1), set(lH),
              get(lC), get(at), loadF64(16), f64Add, set(lC),
              block,
                // too small a left side: the next bin
                get(lC), get(minSamples), f64Lt, get(lH), get(minHessian), f64Lt, or, branchIf(0),
                get(total), get(lC), f64Sub, set(rC),
                get(sums), get(left), f64x2Sub, tee(right), f64x2ExtractLane(1), set(rH),
                // too small a right side: no later bin gives a larger one
                get(rC), get(minSamples), f64Lt, get(rH), get(minHessian), f64Lt, or, branchIf(2),
                get(left), get(right), f64x2ExtractLane(0), f64x2ReplaceLane(1), tee(gradients),
                get(gradients), f64x2Mul,
                get(right), get(lH), f64x2ReplaceLane(0), get(l2s), f64x2Add,
                f64x2Div, tee(scores), f64x2ExtractLane(0), get(scores), f64x2ExtractLane(1), f64Add,
                get(parentScore), f64Sub, set(gain),
                // an empty-hessian side (no L2) would score infinitely: never a real improvement
                get(gain), get(bestGain), f64Gt, get(gain), f64(Infinity), f64Lt, and, ifThen,
                  get(gain), set(bestGain),
                  get(best), get(gain), storeF64(0),
                  get(best), get(b), f64FromSigned, storeF64(8),
                  // without missing values here, unseen ones follow the larger side
                  get(best), get(pass), get(lC), get(rC), f64Ge, get(mC), f64(0), f64Gt, select, f64FromSigned, storeF64(16),
                  get(best), get(left), f64x2ExtractLane(0), storeF64(24),
                  get(best), get(lH), storeF64(32),
                  get(best), get(lC), storeF64(40),
                  i32(1), set(improved),
                end,
              end,
              get(b), i32(1), add, tee(b), get(last), leS, branchIf(0),
            end,
          end,
          get(pass), i32(1), add, tee(pass), i32(2), ltS, branchIf(0),
        end,
      end,
      get(improved),
    ],
  };
}

let compiled: object | undefined;

/** The compiled module; worker threads are sent this one, so they share its optimised code. */
export function kernelModule(): object {
  if (compiled) return compiled;
  const built = builtKernels();
  origin = built ? 'built' : 'assembled';
  compiled = new wasm.Module(built ?? assembleKernels());
  return compiled;
}

/** Where this process's module came from: `npm run build`'s bytes, or assembled here (none yet: undefined). */
let origin: 'built' | 'assembled' | undefined;

/** See origin (the build's test reads it through dist/).
 * @public
 */
export function kernelModuleOrigin(): 'built' | 'assembled' | undefined {
  return origin;
}

/** The module's bytes, assembled from the functions above (about 10 ms). */
export function assembleKernels(): Uint8Array {
  const kernels: { name: string; code: FunctionCode }[] = [
    ...Array.from({ length: BUNDLE_MAX }, (_, g) => [
      { name: `histogramGroups${g + 1}`, code: histogramGroupsFunction(false, g + 1) },
      { name: `histogramGroupsIdentity${g + 1}`, code: histogramGroupsFunction(true, g + 1) },
    ]).flat(),
    { name: 'partition', code: partitionFunction() },
    { name: 'scatterLeaf', code: scatterLeafFunction() },
    { name: 'boostLogLoss', code: boostFunction(true, false) },
    { name: 'boostSquaredError', code: boostFunction(false, false) },
    { name: 'boostLogLossWeighted', code: boostFunction(true, true) },
    { name: 'boostSquaredErrorWeighted', code: boostFunction(false, true) },
    ...Array.from({ length: BUNDLE_MAX }, (_, g) => ({
      name: `histogramCounted${g + 1}`,
      code: histogramCountedFunction(g + 1),
    })),
    { name: 'gatherCodes', code: gatherCodesFunction() },
    { name: 'bootstrapDraws', code: bootstrapDrawsFunction() },
    { name: 'codeRows', code: codeRowsFunction() },
    { name: 'sampleRows', code: sampleRowsFunction() },
    { name: 'gatherPresent', code: gatherPresentFunction() },
    { name: 'anyMissing', code: anyMissingFunction() },
    { name: 'wholeRange', code: wholeRangeFunction() },
    { name: 'countValues', code: countValuesFunction() },
    { name: 'sortDoubles', code: sortDoublesFunction() },
    { name: 'strideBytes', code: strideBytesFunction() },
    { name: 'binCodes', code: binCodesFunction() },
    { name: 'binCodesOneEdge', code: binCodesOneEdgeFunction() },
    { name: 'addDoubles', code: pairwiseFunction(f64Add, f64x2Add) },
    { name: 'subtractDoubles', code: pairwiseFunction(f64Sub, f64x2Sub) },
    { name: 'rankValues', code: rankValuesFunction() },
    { name: 'walkTrees', code: walkTreesFunction() },
    { name: 'scanBins', code: scanBinsFunction() },
  ];
  // searchFeatures calls scanBins, the function before it
  kernels.push({ name: 'searchFeatures', code: searchFeaturesFunction(kernels.length - 1) });
  return encodeModule(
    kernels.map(({ name, code }) => ({ name, ...code, body: joined(code.body) })),
    { shared: true },
  );
}

/** The code the module is assembled from, as files next to this one once compiled. */
const KERNEL_SOURCES = ['./kernels.js', '../wasm.js'];

/**
 * A fingerprint (SHA-256) of the compiled code the module is assembled from, or undefined when running
 * from the TypeScript sources: `npm run build` stores it with the assembled bytes (scripts/kernels.mjs),
 * and a process takes those bytes only while it matches.
 */
export function kernelSourcesFingerprint(): string | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const hash = createHash('sha256');
  for (const file of KERNEL_SOURCES) hash.update(readFileSync(new URL(file, import.meta.url)));
  return hash.digest('hex');
}

/**
 * The module's bytes as `npm run build` stored them next to this file (kernels.wasm, its fingerprint in
 * kernels.wasm.json), when they come from this very code and are a valid module; else undefined (the
 * process assembles them).
 */
function builtKernels(): Uint8Array | undefined {
  try {
    const fingerprint = kernelSourcesFingerprint();
    if (fingerprint === undefined) return undefined;
    const stored = JSON.parse(readFileSync(new URL('./kernels.wasm.json', import.meta.url), 'utf8')) as {
      sources?: unknown;
    };
    if (stored.sources !== fingerprint) return undefined;
    const bytes = readFileSync(new URL('./kernels.wasm', import.meta.url));
    return wasm.validate(bytes) ? bytes : undefined;
  } catch {
    // no build output (or an unreadable one): assemble
    return undefined;
  }
}

/** Kernels over `memory`, from the compiled `module` when given (one sent by another thread). */
export function instantiateKernels(memory: WasmMemory, module: object = kernelModule()): Kernels {
  compiled ??= module;
  const instance = new wasm.Instance(module, { env: { memory } });
  return instance.exports as unknown as Kernels;
}

/**
 * Carves one shared WebAssembly memory into aligned regions: reserve every region first, then create
 * the memory once (it never grows, so views made from it stay valid).
 */
export class Arena {
  private size = 0;
  private memoryObject: WasmMemory | undefined;

  /** Reserves `bytes` (16-byte aligned) and returns the region's address. */
  reserve(bytes: number): number {
    if (this.memoryObject) throw new errors.PW_INTERNAL('Arena: reserve after create');
    const at = (this.size + 15) & ~15;
    this.size = at + Math.max(0, bytes);
    return at;
  }

  create(): WasmMemory {
    const pages = Math.max(1, Math.ceil(this.size / 65536));
    if (pages > 65536)
      throw new errors.PW_TRAIN_TOO_LARGE(
        `The training data needs ${this.size} bytes of working memory, more than the 4 GiB the engine can address`,
      );
    this.memoryObject = new wasm.Memory({ initial: pages, maximum: pages, shared: true });
    return this.memoryObject;
  }

  get memory(): WasmMemory {
    if (!this.memoryObject) throw new errors.PW_INTERNAL('Arena: create first');
    return this.memoryObject;
  }
}
