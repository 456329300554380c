// The bootstrap's two loops over every test row, as a small WebAssembly module assembled here: drawing a
// resample (xoshiro128** and Random.nextInt's rejection, operation for operation, so the same rows as
// the generator in JavaScript) and, for ranked metrics, summing its draws over the groups of tied scores
// in rank order (the same operations as sumsOfCells, so the same doubles). In JavaScript every
// typed-array access is bounds-checked and the generator's 32-bit words are converted on each step; a
// test part of millions of rows resampled hundreds of times spends seconds there.
import { Worker } from 'node:worker_threads';
import { compiledScript } from '../core/paths.js';
import {
  F64,
  I32,
  add,
  and,
  block,
  branchIf,
  countedLoop,
  encodeModule,
  end,
  eq,
  eqz,
  f64,
  f64Add,
  f64Div,
  f64FromUnsigned,
  f64Mul,
  geU,
  get,
  i32,
  load32,
  load8,
  loop,
  ltU,
  memoryFill,
  mul,
  ne,
  remU,
  set,
  select,
  shl,
  shrU,
  store32,
  store8,
  storeF64,
  tee,
  webAssembly,
  xor,
  xoshiroLoad,
  xoshiroNext,
  xoshiroStore,
  type Code,
  type ModuleFunction,
  type WasmApi,
} from './wasm.js';

/** The module's exports (addresses are byte offsets into its memory). */
interface ResampleKernels {
  /**
   * `count` rows drawn with replacement from [0, bound) as Random.nextInt(bound) draws them (a 32-bit
   * draw at or above `limit` is drawn again; `limit` 0 stands for 2^32, none), by xoshiro128** from and
   * back into the four 32-bit words at `state`; each row's draws counted at `draws` a byte a row (zeroed
   * first), wrapping past 255: each row whose byte wrapped is listed at `wraps` (32-bit, once a wrap).
   * Returns the number of wraps.
   */
  drawRows(state: number, count: number, bound: number, limit: number, draws: number, wraps: number): number;
  /**
   * Moves the generator at `state` on by `count` draws of Random.nextInt(bound) (`limit` as drawRows):
   * where a resampler on another thread starts.
   */
  skipRows(state: number, count: number, limit: number): void;
  /**
   * The sums that ranked metrics are read from, for the draws at `draws` of the rows best first
   * (`order`), each rank's cell at `cellAtRank` (2 × its group of tied scores + 1 for a positive,
   * 32-bit, one more word readable past the last) and each group's `above` byte (at or above the
   * threshold): the groups in order, each group drawn at all adding its positives to tp and negatives to
   * fp, neg × (tp + previous tp) / 2 to the area and, with positives, pos × tp / (tp + fp) to the
   * precision sum; tp and fp kept at the last group above the threshold. Six doubles at `out`: tp, fp,
   * area, precision sum, tp and fp at the threshold, each operation as sumsOfCells does it.
   */
  scoreRanks(
    order: number,
    cellAtRank: number,
    above: number,
    draws: number,
    rows: number,
    out: number,
  ): void;
}

/**
 * Random.nextInt's draw into local `result`: a value at or above the one in local `limit` (when that is
 * not 0, which stands for 2^32) is drawn again.
 */
function acceptedDraw(
  words: { s0: number; s1: number; s2: number; s3: number; t: number; result: number },
  limit: number,
): Code[] {
  // prettier-ignore
  return [
    loop,
    ...xoshiroNext(words),
    get(limit), i32(0), ne, get(words.result), get(limit), geU, and, branchIf(0),
    end,
  ];
}

function drawRowsFunction(): ModuleFunction {
  const [state, count, bound, limit, draws, wraps] = [0, 1, 2, 3, 4, 5];
  const [s0, s1, s2, s3, t, result, k, at, drawn, wrapped] = [6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
  // prettier-ignore
  const body: Code[] = [
    get(draws), i32(0), get(bound), memoryFill,
    ...xoshiroLoad(state, { s0, s1, s2, s3 }),
    i32(0), set(wrapped),
    i32(0), set(k),
    ...countedLoop(k, count, [
      ...acceptedDraw({ s0, s1, s2, s3, t, result }, limit),
      get(draws), get(result), get(bound), remU, tee(drawn), add, tee(at),
      get(at), load8(), i32(1), add, i32(255), and, tee(t), store8(),
      // the row is written at the end of the list always; the list grows only when its byte wrapped
      get(wraps), get(wrapped), i32(2), shl, add, get(drawn), store32(),
      get(wrapped), get(t), eqz, add, set(wrapped),
    ]),
    ...xoshiroStore(state, { s0, s1, s2, s3 }),
    get(wrapped),
  ];
  return {
    name: 'drawRows',
    params: [I32, I32, I32, I32, I32, I32],
    results: [I32],
    locals: Array.from({ length: 10 }, () => I32),
    body: body.flat(),
  };
}

function skipRowsFunction(): ModuleFunction {
  const [state, count, limit] = [0, 1, 2];
  const [s0, s1, s2, s3, t, result, k] = [3, 4, 5, 6, 7, 8, 9];
  // prettier-ignore
  const body: Code[] = [
    ...xoshiroLoad(state, { s0, s1, s2, s3 }),
    i32(0), set(k),
    ...countedLoop(k, count, [
      ...acceptedDraw({ s0, s1, s2, s3, t, result }, limit),
    ]),
    ...xoshiroStore(state, { s0, s1, s2, s3 }),
  ];
  return {
    name: 'skipRows',
    params: [I32, I32, I32],
    results: [],
    locals: Array.from({ length: 7 }, () => I32),
    body: body.flat(),
  };
}

function scoreRanksFunction(): ModuleFunction {
  const [order, cellAtRank, above, draws, rows, out] = [0, 1, 2, 3, 4, 5];
  const [r, cell, drawn, neg, pos, tp, fp, previousTp, tpAt, fpAt, label, sameGroup] = [
    6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17,
  ];
  const [area, precisionSum] = [18, 19];
  const zero = (locals: number[]): Code[] => locals.flatMap((local) => [i32(0), set(local)]);
  // prettier-ignore
  const body: Code[] = [
    ...zero([r, neg, pos, tp, fp, tpAt, fpAt]),
    f64(0), set(area),
    f64(0), set(precisionSum),
    ...countedLoop(r, rows, [
      get(cellAtRank), get(r), i32(2), shl, add, load32(), tee(cell), i32(1), and, set(label),
      get(draws), get(order), get(r), i32(2), shl, add, load32(), add, load8(), set(drawn),
      get(pos), get(drawn), get(label), mul, add, set(pos),
      get(neg), get(drawn), get(label), i32(1), xor, mul, add, set(neg),
      // the group goes on at the next rank (the word past the last is readable)
      get(r), i32(1), add, get(rows), ltU,
      get(cellAtRank), get(r), i32(2), shl, add, load32(4), i32(1), shrU, get(cell), i32(1), shrU, eq,
      and, set(sameGroup),
      block,
      get(sameGroup), branchIf(0),
      // a group drawn not at all adds nothing, with no branch: tp and fp stay, the area and the precision
      // sum add +0 (which leaves them as they are), and at the threshold tp and fp are set to what they
      // were, since the groups at or above it come first
      get(tp), set(previousTp),
      get(tp), get(pos), add, set(tp),
      get(fp), get(neg), add, set(fp),
      get(area),
      // × 0.5: the same double as / 2, exactly
      get(neg), f64FromUnsigned, get(tp), get(previousTp), add, f64FromUnsigned, f64Mul, f64(0.5), f64Mul,
      f64Add, set(area),
      // with positives only (no positive adds +0, which leaves the sum as it is)
      get(precisionSum),
      get(pos), f64FromUnsigned, get(tp), f64FromUnsigned, f64Mul, get(tp), get(fp), add, f64FromUnsigned, f64Div,
      f64(0),
      get(pos), i32(0), ne, select,
      f64Add, set(precisionSum),
      // tp and fp at the last group at or above the threshold
      get(above), get(cell), i32(1), shrU, add, load8(), set(label),
      get(tp), get(tpAt), get(label), select, set(tpAt),
      get(fp), get(fpAt), get(label), select, set(fpAt),
      // the next group's counts start from none
      ...zero([neg, pos]),
      end,
    ]),
    get(out), get(tp), f64FromUnsigned, storeF64(0),
    get(out), get(fp), f64FromUnsigned, storeF64(8),
    get(out), get(area), storeF64(16),
    get(out), get(precisionSum), storeF64(24),
    get(out), get(tpAt), f64FromUnsigned, storeF64(32),
    get(out), get(fpAt), f64FromUnsigned, storeF64(40),
  ];
  return {
    name: 'scoreRanks',
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [...Array.from({ length: 12 }, () => I32), F64, F64],
    body: body.flat(),
  };
}

// Node.js always has WebAssembly: the tree engine is built on it
const wasm = webAssembly as WasmApi;

let compiled: object | undefined;

function resampleModule(): object {
  compiled ??= new wasm.Module(
    encodeModule([drawRowsFunction(), skipRowsFunction(), scoreRanksFunction()], {
      shared: false,
    }),
  );
  return compiled;
}

/** Where a Resampler's arrays live in its memory. */
interface Layout {
  state: number;
  draws: number;
  wraps: number;
  order: number;
  cellAtRank: number;
  above: number;
  sums: number;
}

/**
 * Draws a skipRows call moves the generator on by, at most: a function's optimised code is used from its
 * next call on, so one long call would run its baseline code throughout (6 ns a draw against 2).
 */
const SKIP_CHUNK = 2 ** 20;

/** The generator a Resampler draws with: its state is handed to the kernels and back. */
interface Generator {
  saveState(words: Uint32Array): void;
  restoreState(words: Uint32Array): void;
}

/** A resample's sums over the groups of tied scores, that ranked metrics are read from (see scoreRanks). */
export interface RankedSums {
  tp: number;
  fp: number;
  area: number;
  precisionSum: number;
  tpAtThreshold: number;
  fpAtThreshold: number;
}

/**
 * The rows of a binary test set grouped by tied score, best first (made by card.ts's rankedLayout), so
 * that a resample is scored in one pass over the groups: a draw of the row at rank r (`order[r]`) counts
 * in `cellAtRank[r]` = 2 × (its group) + (1 when it is a positive).
 */
export interface RankedLayout {
  /** The rows best first (descendingOrder). */
  order: Int32Array;
  cellAtRank: Int32Array;
  groups: number;
  /** Per group: its score is at or above the threshold (the model predicts a positive). */
  aboveThreshold: Uint8Array;
}

/**
 * The sums from each group's draws (`cellCounts`: negatives and positives of group g at 2g and 2g + 1),
 * the groups best first: the reference the kernels' scoreRanks follows operation for operation.
 */
export function sumsOfCells(layout: RankedLayout, cellCounts: ArrayLike<number>): RankedSums {
  let tp = 0;
  let fp = 0;
  let area = 0;
  let precisionSum = 0;
  let tpAtThreshold = 0;
  let fpAtThreshold = 0;
  const { aboveThreshold } = layout;
  for (let group = 0; group < layout.groups; group++) {
    const negatives = cellCounts[2 * group];
    const positives = cellCounts[2 * group + 1];
    if (negatives + positives === 0) continue;
    const previousTp = tp;
    tp += positives;
    fp += negatives;
    area += (negatives * (tp + previousTp)) / 2;
    // A group without positives adds nothing to the average precision: skip its division.
    if (positives > 0) precisionSum += (positives * tp) / (tp + fp);
    if (aboveThreshold[group] === 1) {
      tpAtThreshold = tp;
      fpAtThreshold = fp;
    }
  }
  return { tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold };
}

/**
 * One test part's bootstrap in the kernels: its ranked layout (when the metrics are ranked) copied in
 * once, then each resample drawn (`draw`), its rows' draws read (`counts`) and, ranked, summed over the
 * groups of tied scores (`rankedSums`).
 */
export class Resampler {
  /** Each row's draws in the last resample, a byte a row (see `counts` for those past 255). */
  private readonly draws: Uint8Array;
  private readonly kernels: ResampleKernels;
  private readonly words: Uint32Array;
  private readonly wrapList: Int32Array;
  private readonly sumView: Float64Array;
  private readonly limit: number;
  /** The rows whose byte wrapped in the last resample, with the hundreds it wrapped past. */
  private readonly over = new Map<number, number>();

  private constructor(
    private readonly rows: number,
    /** Draws in a resample: `rows`, but for the tests' own counts. */
    private readonly count: number,
    private readonly ranked: RankedLayout | undefined,
    private readonly at: Layout,
    buffer: ArrayBuffer,
    kernels: ResampleKernels,
  ) {
    this.kernels = kernels;
    this.draws = new Uint8Array(buffer, at.draws, rows);
    this.words = new Uint32Array(buffer, at.state, 4);
    // at most one wrap for every 256 draws
    this.wrapList = new Int32Array(buffer, at.wraps, (count >>> 8) + 1);
    this.sumView = new Float64Array(buffer, at.sums, 6);
    // Random.nextInt's limit: the largest multiple of `rows` up to 2^32 (0 for 2^32 itself)
    this.limit = (4294967296 - (4294967296 % rows)) >>> 0;
  }

  /**
   * For `rows` rows (at least one), and their ranked layout when resamples are scored by ranked
   * metrics; each resample draws `count` rows (as many as there are but in tests).
   */
  static create(rows: number, ranked?: RankedLayout, count = rows): Resampler {
    let size = 0;
    const reserve = (bytes: number): number => {
      const at = (size + 15) & ~15;
      size = at + bytes;
      return at;
    };
    const at: Layout = {
      state: reserve(16),
      draws: reserve(rows),
      wraps: reserve(((count >>> 8) + 1) * 4),
      order: reserve(ranked ? rows * 4 : 0),
      // and the word past the last, which scoreRanks reads
      cellAtRank: reserve(ranked ? rows * 4 + 4 : 0),
      above: reserve(ranked ? ranked.groups : 0),
      sums: reserve(6 * 8),
    };
    const pages = Math.ceil(size / 65536) + 1;
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    const instance = new wasm.Instance(resampleModule(), { env: { memory } });
    if (ranked) {
      new Int32Array(memory.buffer, at.order, rows).set(ranked.order);
      new Int32Array(memory.buffer, at.cellAtRank, rows).set(ranked.cellAtRank);
      new Uint8Array(memory.buffer, at.above, ranked.groups).set(ranked.aboveThreshold);
    }
    const kernels = instance.exports as unknown as ResampleKernels;
    return new Resampler(rows, count, ranked, at, memory.buffer, kernels);
  }

  /**
   * Draws one resample of every row as random.nextInt(rows) would, `random` left where those draws
   * leave it. A row drawn 256 times or more (about as likely as never with millions of rows) keeps the
   * hundreds its byte wrapped past aside, so `counts` is exact.
   */
  draw(random: Generator): void {
    const { at, rows, over } = this;
    over.clear();
    random.saveState(this.words);
    const wraps = this.kernels.drawRows(at.state, this.count, rows, this.limit, at.draws, at.wraps);
    random.restoreState(this.words);
    for (let w = 0; w < wraps; w++) {
      const row = this.wrapList[w];
      over.set(row, (over.get(row) ?? 0) + 256);
    }
  }

  /** Moves `random` on past `resamples` resamples' draws, as `draw` would, without counting them. */
  skip(random: Generator, resamples: number): void {
    random.saveState(this.words);
    // in calls of SKIP_CHUNK draws
    for (let left = resamples * this.count; left > 0; left -= SKIP_CHUNK)
      this.kernels.skipRows(this.at.state, Math.min(left, SKIP_CHUNK), this.limit);
    random.restoreState(this.words);
  }

  /** Makes the next `counts` and `rankedSums` those of every row drawn once: the estimate on the rows themselves. */
  drawEveryRowOnce(): void {
    this.over.clear();
    this.draws.fill(1);
  }

  /** Each row's draws in the last resample: the bytes themselves, or whole counts when one wrapped. */
  counts(): Uint8Array | Int32Array {
    if (this.over.size === 0) return this.draws;
    const counts = Int32Array.from(this.draws);
    for (const [row, extra] of this.over) counts[row] += extra;
    return counts;
  }

  /** The last resample's sums over the groups of tied scores (a Resampler made with its ranked layout). */
  rankedSums(): RankedSums {
    const { at, rows } = this;
    const ranked = this.ranked!;
    if (this.over.size > 0) {
      // whole counts, when a byte wrapped
      const counts = this.counts();
      const cells = new Int32Array(2 * ranked.groups);
      for (let rank = 0; rank < rows; rank++) cells[ranked.cellAtRank[rank]] += counts[ranked.order[rank]];
      return sumsOfCells(ranked, cells);
    }
    this.kernels.scoreRanks(at.order, at.cellAtRank, at.above, at.draws, rows, at.sums);
    const [tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold] = this.sumView;
    return { tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold };
  }
}

/** What a ResampleThread's worker is given (see resample-worker.ts). */
export interface ResampleJob {
  rows: number;
  ranked: RankedLayout;
  /** The generator's state before the bootstrap's first resample. */
  state: Uint32Array;
  /** The first of the worker's resamples, and how many. */
  first: number;
  count: number;
  /** Int32 slots (CONTROL), and six doubles a resample for its sums (see rankedSums). */
  control: SharedArrayBuffer;
  sums: SharedArrayBuffer;
}

/** The slots of a ResampleJob's control words. */
export const CONTROL = {
  /** Resamples whose sums are written, in order from the first; notified at each. */
  done: 0,
  /** Set by the calling thread when it stops waiting: the worker stops at its next resample. */
  cancel: 1,
  /** Set by the worker when it fails. */
  failed: 2,
  size: 3,
} as const;

/** The longest a calling thread waits for a worker's next resample before it draws the rest itself. */
const STALL_MS = 1000;

/**
 * A run of a ranked bootstrap's resamples drawn on a worker thread while the calling thread draws the ones
 * before it: the worker moves the generator past those first (`Resampler.skip`, a seventh of a resample's
 * time) and writes each resample's sums as Resampler.rankedSums gives them. The calling thread takes what
 * the worker finished (`finish`) and draws the rest itself, so a worker that fails, never starts or stalls
 * costs time, never a different interval.
 */
export class ResampleThread {
  private constructor(
    private readonly worker: Worker,
    private readonly control: Int32Array,
    private readonly sums: Float64Array,
    private readonly count: number,
  ) {}

  /**
   * Starts the worker on resamples [first, first + count) (`script`: the worker's entry, for the tests);
   * undefined when no thread can be started (the calling thread then draws them all).
   */
  static start(
    job: Omit<ResampleJob, 'control' | 'sums'>,
    script: URL = compiledScript(import.meta.url, 'resample-worker.js'),
  ): ResampleThread | undefined {
    const control = new SharedArrayBuffer(CONTROL.size * 4);
    const sums = new SharedArrayBuffer(Math.max(1, job.count) * 6 * 8);
    let worker: Worker;
    try {
      worker = new Worker(script, { workerData: { ...job, control, sums } satisfies ResampleJob });
    } catch {
      // no thread to be had (a limit on threads, a missing entry): nothing is lost but the time
      return undefined;
    }
    // a failure shows as resamples not done: finish draws them then
    worker.on('error', () => undefined);
    worker.unref();
    return new ResampleThread(worker, new Int32Array(control), new Float64Array(sums), job.count);
  }

  /**
   * The sums of the resamples the worker finished, in order from its first: all of them, or those done
   * when it failed or went STALL_MS without finishing one. Stops the worker.
   */
  finish(): RankedSums[] {
    const { control, count } = this;
    for (let done = Atomics.load(control, CONTROL.done); done < count;) {
      if (Atomics.load(control, CONTROL.failed) === 1) break;
      if (Atomics.wait(control, CONTROL.done, done, STALL_MS) === 'timed-out') {
        if (Atomics.load(control, CONTROL.done) === done) break;
      }
      done = Atomics.load(control, CONTROL.done);
    }
    Atomics.store(control, CONTROL.cancel, 1);
    const done = Atomics.load(control, CONTROL.done);
    void this.worker.terminate();
    return Array.from({ length: done }, (_, r) => {
      const [tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold] = this.sums.subarray(6 * r, 6 * r + 6);
      return { tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold };
    });
  }
}
