// The bootstrap's two loops over every test row, as a small WebAssembly module assembled here: drawing a
// resample (xoshiro128** and Random.nextInt's rejection, operation for operation, so the same rows as
// the generator in JavaScript) and adding its draws into the cells of tied scores in rank order. In
// JavaScript every typed-array access is bounds-checked and the generator's 32-bit words are converted
// on each step; a test part of millions of rows resampled hundreds of times spends seconds there.
import {
  I32,
  add,
  and,
  branchIf,
  countedLoop,
  encodeModule,
  end,
  eqz,
  geU,
  get,
  i32,
  load32,
  load8,
  loop,
  memoryFill,
  ne,
  remU,
  set,
  shl,
  store32,
  store8,
  tee,
  webAssembly,
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
   * cells[cellAtRank[r]] += draws[order[r]] (32-bit cells, `cellCount` of them zeroed first) for the
   * ranks r in [0, rows): a resample's draws added into the cells of tied scores, best first.
   */
  foldDraws(
    order: number,
    cellAtRank: number,
    draws: number,
    rows: number,
    cells: number,
    cellCount: number,
  ): void;
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
      // Random.nextInt's rejection: a value at or above the limit (when there is one) is drawn again
      loop,
      ...xoshiroNext({ s0, s1, s2, s3, t, result }),
      get(limit), i32(0), ne, get(result), get(limit), geU, and, branchIf(0),
      end,
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

function foldDrawsFunction(): ModuleFunction {
  const [order, cellAtRank, draws, rows, cells, cellCount] = [0, 1, 2, 3, 4, 5];
  const [r, at] = [6, 7];
  // prettier-ignore
  const body: Code[] = [
    get(cells), i32(0), get(cellCount), i32(2), shl, memoryFill,
    i32(0), set(r),
    ...countedLoop(r, rows, [
      get(cells), get(cellAtRank), get(r), i32(2), shl, add, load32(), i32(2), shl, add, tee(at),
      get(at), load32(),
      get(draws), get(order), get(r), i32(2), shl, add, load32(), add, load8(),
      add, store32(),
    ]),
  ];
  return {
    name: 'foldDraws',
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32],
    body: body.flat(),
  };
}

// Node.js always has WebAssembly: the tree engine is built on it
const wasm = webAssembly as WasmApi;

let compiled: object | undefined;

function resampleModule(): object {
  compiled ??= new wasm.Module(encodeModule([drawRowsFunction(), foldDrawsFunction()], { shared: false }));
  return compiled;
}

/** Where a Resampler's arrays live in its memory. */
interface Layout {
  state: number;
  draws: number;
  wraps: number;
  order: number;
  cellAtRank: number;
  cells: number;
}

/** The generator a Resampler draws with: its state is handed to the kernels and back. */
interface Generator {
  saveState(words: Uint32Array): void;
  restoreState(words: Uint32Array): void;
}

/**
 * One test part's bootstrap in the kernels: its ranked layout (when the metrics are ranked) copied in
 * once, then each resample drawn (`draw`), its rows' draws read (`counts`) and, ranked, folded into the
 * cells of tied scores (`cells`).
 */
export class Resampler {
  /** Each row's draws in the last resample, a byte a row (see `counts` for those past 255). */
  private readonly draws: Uint8Array;
  private readonly kernels: ResampleKernels;
  private readonly words: Uint32Array;
  private readonly wrapList: Int32Array;
  private readonly cellView: Int32Array;
  private readonly limit: number;
  /** The rows whose byte wrapped in the last resample, with the hundreds it wrapped past. */
  private readonly over = new Map<number, number>();
  private ranked: { order: Int32Array; cellAtRank: Int32Array } | undefined;

  private constructor(
    private readonly rows: number,
    /** Draws in a resample: `rows`, but for the tests' own counts. */
    private readonly count: number,
    private readonly cellCount: number,
    private readonly at: Layout,
    buffer: ArrayBuffer,
    kernels: ResampleKernels,
  ) {
    this.kernels = kernels;
    this.draws = new Uint8Array(buffer, at.draws, rows);
    this.words = new Uint32Array(buffer, at.state, 4);
    // at most one wrap for every 256 draws
    this.wrapList = new Int32Array(buffer, at.wraps, (count >>> 8) + 1);
    this.cellView = new Int32Array(buffer, at.cells, cellCount);
    // Random.nextInt's limit: the largest multiple of `rows` up to 2^32 (0 for 2^32 itself)
    this.limit = (4294967296 - (4294967296 % rows)) >>> 0;
  }

  /**
   * For `rows` rows (at least one), and the ranked layout's best-first `order` and `cellAtRank`
   * (`cells` cells) when resamples are folded; each resample draws `count` rows (as many as there are
   * but in tests).
   */
  static create(
    rows: number,
    ranked?: { order: Int32Array; cellAtRank: Int32Array; cells: number },
    count = rows,
  ): Resampler {
    let size = 0;
    const reserve = (bytes: number): number => {
      const at = (size + 15) & ~15;
      size = at + bytes;
      return at;
    };
    const cellCount = ranked?.cells ?? 0;
    const at: Layout = {
      state: reserve(16),
      draws: reserve(rows),
      wraps: reserve(((count >>> 8) + 1) * 4),
      order: reserve(ranked ? rows * 4 : 0),
      cellAtRank: reserve(ranked ? rows * 4 : 0),
      cells: reserve(cellCount * 4),
    };
    const pages = Math.ceil(size / 65536) + 1;
    const memory = new wasm.Memory({ initial: pages, maximum: pages });
    const instance = new wasm.Instance(resampleModule(), { env: { memory } });
    if (ranked) {
      new Int32Array(memory.buffer, at.order, rows).set(ranked.order);
      new Int32Array(memory.buffer, at.cellAtRank, rows).set(ranked.cellAtRank);
    }
    const kernels = instance.exports as unknown as ResampleKernels;
    const resampler = new Resampler(rows, count, cellCount, at, memory.buffer, kernels);
    resampler.ranked = ranked;
    return resampler;
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

  /** Makes the next `counts` and `cells` those of every row drawn once: the estimate on the test part itself. */
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

  /** The last resample's draws added into the cells of the ranked layout, best first. */
  cells(): Int32Array {
    const { at, ranked } = this;
    if (this.over.size === 0) {
      this.kernels.foldDraws(at.order, at.cellAtRank, at.draws, this.rows, at.cells, this.cellCount);
      return this.cellView;
    }
    // whole counts, when a byte wrapped
    const counts = this.counts();
    const cells = new Int32Array(this.cellCount);
    for (let rank = 0; rank < this.rows; rank++)
      cells[ranked!.cellAtRank[rank]] += counts[ranked!.order[rank]];
    return cells;
  }
}
