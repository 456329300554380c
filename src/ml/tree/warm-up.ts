// A worker thread's warm-up for a random forest's fit. A worker started ahead of a fit (while a run reads
// its data) grows a few trees of a small made-up forest exactly as a fit's worker grows its share: the
// columns binned, a grower joining a memory that two threads share, the setup as it comes out of a
// message. V8 then has the grower's code compiled for those objects when the fit comes; a cold worker's
// first trees run two to four times slower, while its compiler competes for the very cores the fit uses.
// A fit never waits for a warm-up: it goes one tree at a time and stops as soon as a fit arrives.
import { deriveSeed, Random } from '../../core/random.js';
import { allocateColumns, type Matrix } from '../types.js';
import { SharedBinning } from './binning.js';
import { ForestTreeGrower, forestSetup, type ForestShape } from './forest-trees.js';
import { kernelModule } from './kernels.js';
import { planForestWorkspaces } from './workspace.js';

/** What a worker is sent to warm up for a forest (see warmTrainingWorkers). */
export interface WarmUpRequest {
  warmUp: 'forest';
  /** Int32 slots WARM_UP_DONE and WARM_UP_TREES: how far the warm-up has gone, for the pool to read. */
  state: SharedArrayBuffer;
}

/** State slot set to 1 once the warm-up has ended (all its trees grown, or stopped by a fit). */
export const WARM_UP_DONE = 0;
/** State slot counting the trees grown so far. */
export const WARM_UP_TREES = 1;
export const WARM_UP_STATE_BYTES = 8;

const WARM_UP_SEED = 0x5eed;

/** Rows and columns of the made-up data: trees of a few hundred nodes, a few milliseconds each once compiled. */
const ROWS = 20_000;
const COLUMNS = 10;
/**
 * Rounds, each over a memory and WebAssembly instance of its own as every fit has: after two, V8 calls
 * the kernels as it will call a fit's instance's, where after one its code is compiled for that one
 * instance's functions and thrown away at the fit.
 */
export const WARM_UP_ROUNDS = 2;
/** Depth of the trees of the rounds that limit it (see roundGrower). */
const WARM_UP_DEPTH = 12;
/** Trees a round: enough for V8 to compile the grower's hot functions (about 0.1 s a round on a cold thread). */
export const WARM_UP_TREES_PER_ROUND = 8;

/**
 * The made-up setups the warm-up grew its trees from. An object made by a message has a shape (hidden
 * class) that V8 forgets once no object has it; kept, a fit's setup, made the same way, has the shapes
 * the compiled code expects.
 */
const kept: object[] = [];

/** A thread's warm-up, done a piece at a time by `step` (see runWarmUp). */
export class ForestWarmUp {
  private readonly state: Int32Array;
  private round = 0;
  private tree = 0;
  private grower: ForestTreeGrower | undefined;
  private stopped = false;

  constructor(request: WarmUpRequest) {
    this.state = new Int32Array(request.state);
  }

  /** Does the next piece (a round's data and grower, or one tree); false once there is none left. */
  step(): boolean {
    if (this.stopped) return false;
    if (this.grower === undefined) {
      if (this.round === WARM_UP_ROUNDS) return this.end();
      this.grower = roundGrower(this.round++);
      this.tree = 0;
      return true;
    }
    this.grower.grow(this.tree++);
    Atomics.add(this.state, WARM_UP_TREES, 1);
    if (this.tree === WARM_UP_TREES_PER_ROUND) this.grower = undefined;
    return true;
  }

  /** Ends the warm-up where it is: a fit has come. */
  stop(): void {
    if (!this.stopped) this.end();
  }

  private end(): false {
    this.stopped = true;
    this.grower = undefined;
    Atomics.store(this.state, WARM_UP_DONE, 1);
    return false;
  }
}

/** Runs a warm-up a step a turn of the event loop, so that a fit's message is taken between two steps. */
export function runWarmUp(warmUp: ForestWarmUp): void {
  const next = (): void => {
    if (warmUp.step()) setImmediate(next);
  };
  setImmediate(next);
}

/**
 * A round's grower, set up as a fit's worker's is: the columns binned as a fit on two threads bins them,
 * the shared regions filled by a grower of the calling thread's kind, then the setup, the plan and the
 * memory passed through a message's copy before the worker's grower joins them.
 */
function roundGrower(round: number): ForestTreeGrower {
  const random = new Random(deriveSeed(WARM_UP_SEED, round));
  const { X, y } = madeUpData(random);
  const data = SharedBinning.prepare(X, 255, random, 2).bin();
  const shape: ForestShape = {
    regression: false,
    entropy: false,
    maxLeaves: null,
    // trees of any depth (a forest's default) in one round and of a limited one in the other, so that
    // the grower's code has met both kinds of limit
    maxDepth: round % 2 === 0 ? null : WARM_UP_DEPTH,
    minSamplesLeaf: 1,
    minSamplesSplit: 2,
    featuresPerSplit: Math.floor(Math.sqrt(COLUMNS)),
    bootstrap: true,
    samplesPerTree: ROWS,
    seed: random.nextUint32(),
  };
  const setup = forestSetup(data, y, null, shape, true);
  const { memory, plans } = planForestWorkspaces(ROWS, data.layout, setup.capacity, 2);
  new ForestTreeGrower(setup, { memory, plan: plans[0], fills: true });
  const arrived = structuredClone({ setup, plan: plans[1], memory });
  kept.push(arrived.setup);
  return ForestTreeGrower.joining(arrived.setup, {
    memory: arrived.memory,
    plan: arrived.plan,
    module: kernelModule(),
  });
}

/**
 * Columns of the kinds a table has: continuous values (every bin used), small whole numbers (features
 * packed several to a byte) and missing cells; a label that depends on a few of them, with noise.
 */
function madeUpData(random: Random): { X: Matrix; y: Float64Array } {
  const columns = allocateColumns(ROWS, COLUMNS, true);
  columns.forEach((column, f) => {
    const levels = f % 3 === 1 ? 2 + f : 0;
    for (let i = 0; i < ROWS; i++) {
      if (f % 4 === 3 && random.next() < 0.05) column[i] = NaN;
      else column[i] = levels > 0 ? random.nextInt(levels) : random.nextNormal();
    }
  });
  const y = new Float64Array(ROWS);
  for (let i = 0; i < ROWS; i++) {
    const score = columns[0][i] + 0.3 * columns[1][i] - 0.5 * (columns[2][i] > 0.5 ? 1 : 0);
    y[i] = score + random.nextNormal() > 1 ? 1 : 0;
  }
  return {
    X: { rows: ROWS, cols: COLUMNS, names: columns.map((_, f) => `f${f}`), columns },
    y,
  };
}
