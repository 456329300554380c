// A worker thread's warm-up for a fit on several threads. A worker started ahead of a fit (while a run
// reads its data) works through a few trees of a small made-up fit exactly as it will in the fit: the
// columns binned, its view of a memory that two threads share, the setup as it comes out of a message.
// V8 then has that code compiled for those objects when the fit comes; cold, it would compile it during
// the fit, on the very cores the fit uses. A random forest's worker grows whole trees; a gradient
// boosting worker runs the boosting loop it leads in the fit (see leadOnWorker), taking every piece of
// each operation itself.
// A fit never waits for a warm-up: it goes one tree at a time and stops as soon as a fit arrives.
import { deriveSeed, Random } from '../../core/random.js';
import {
  boostingWorkspace,
  GradientBoostingModel,
  leadBoosting,
  type BoostingTraining,
} from '../models/gbdt.js';
import { allocateColumns, type Matrix } from '../types.js';
import { SharedBinning } from './binning.js';
import { ForestTreeGrower, forestSetup, type ForestShape } from './forest-trees.js';
import { kernelModule } from './kernels.js';
import { leadFit, WARM_UP_COMPLETE, WARM_UP_DONE, WARM_UP_TREES, type WarmUpRequest } from './threads.js';
import { planForestWorkspaces } from './workspace.js';

const WARM_UP_SEED = 0x5eed;

/** Rows and columns of a forest's made-up data: trees of a few hundred nodes, a few milliseconds each once compiled. */
const ROWS = 20_000;
const COLUMNS = 10;
/**
 * Rows of a boosting warm-up's made-up data: enough for a fit's shared paths (the gradient pass is shared
 * from 49,152 rows), a tree a few milliseconds on a cold thread; odd, as most fits' are, so that the
 * gradient pass's halves are cut where a count is not a whole number.
 */
const BOOSTING_ROWS = 60_001;
/**
 * Rounds, each over a memory and WebAssembly instance of its own as every fit has: after two, V8 calls
 * the kernels as it will call a fit's instance's, where after one its code is compiled for that one
 * instance's functions and thrown away at the fit.
 */
export const WARM_UP_ROUNDS = 2;
/** Depth of the trees of the rounds that limit it (see forestRound). */
const WARM_UP_DEPTH = 12;
/** Trees a round: enough for V8 to compile the grower's hot functions (about 0.1 s a round on a cold thread). */
export const WARM_UP_TREES_PER_ROUND = 8;
/**
 * Boosting trees a round: a tree makes some thirty splits, each a handful of calls, and V8 compiles the
 * split's code after about a thousand of them (about 0.15 s a round on a cold thread).
 */
export const BOOSTING_WARM_UP_TREES_PER_ROUND = 40;

/**
 * The made-up setups the warm-up worked from. An object made by a message has a shape (hidden class)
 * that V8 forgets once no object has it; kept, a fit's setup, made the same way, has the shapes the
 * compiled code expects.
 */
const kept: object[] = [];

/** One round's fit, a tree at a time. */
interface Round {
  grow(tree: number): void;
}

/** A thread's warm-up, done a piece at a time by `step` (see runWarmUp). */
export class WarmUp {
  private readonly state: Int32Array;
  private readonly round: (round: number) => Round;
  private readonly treesPerRound: number;
  private rounds = 0;
  private tree = 0;
  private current: Round | undefined;
  private stopped = false;

  constructor(request: WarmUpRequest) {
    this.state = new Int32Array(request.state);
    const forest = request.warmUp === 'forest';
    this.round = forest ? forestRound : boostingRound;
    this.treesPerRound = forest ? WARM_UP_TREES_PER_ROUND : BOOSTING_WARM_UP_TREES_PER_ROUND;
  }

  /** Does the next piece (a round's data and setup, or one tree); false once there is none left. */
  step(): boolean {
    if (this.stopped) return false;
    if (this.current === undefined) {
      if (this.rounds === WARM_UP_ROUNDS) {
        Atomics.store(this.state, WARM_UP_COMPLETE, 1);
        return this.end();
      }
      this.current = this.round(this.rounds++);
      this.tree = 0;
      return true;
    }
    this.current.grow(this.tree++);
    Atomics.add(this.state, WARM_UP_TREES, 1);
    if (this.tree === this.treesPerRound) this.current = undefined;
    return true;
  }

  /** Ends the warm-up where it is: a fit has come. */
  stop(): void {
    if (!this.stopped) this.end();
  }

  private end(): false {
    this.stopped = true;
    this.current = undefined;
    Atomics.store(this.state, WARM_UP_DONE, 1);
    return false;
  }
}

/** Runs a warm-up a step a turn of the event loop, so that a fit's message is taken between two steps. */
export function runWarmUp(warmUp: WarmUp): void {
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
function forestRound(round: number): ForestTreeGrower {
  const random = new Random(deriveSeed(WARM_UP_SEED, round));
  const { X, y } = madeUpData(random, ROWS);
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
 * A round of a two-thread gradient boosting fit of the default settings, led by this thread as a fit's
 * leading worker leads (leadBoosting), one tree a step: the columns binned into two segments, the
 * workspace made as the calling thread makes it, and this thread's view of it made from a message's
 * copy, as the fit's is.
 */
function boostingRound(round: number): Round {
  const random = new Random(deriveSeed(WARM_UP_SEED, round));
  const { X, y } = madeUpData(random, BOOSTING_ROWS);
  const threads = 2;
  const data = SharedBinning.prepare(X, 255, random, threads, threads).bin();
  // the first round's larger leaves leave nodes too small to split, a path the second may not take: V8
  // compiles the split's code in the second with both paths seen
  const { params } = new GradientBoostingModel({
    max_iter: 1,
    early_stopping: false,
    threads,
    min_samples_leaf: round === 0 ? 1000 : 20,
  });
  const { memory, plan } = boostingWorkspace(data, params, threads, 1, false);
  // the fit's setup and training come out of a message: copies, strings included, that V8 has not
  // made its own (internalized), which compiled code compares otherwise than literals
  const training: BoostingTraining = { params, y, weights: null, task: 'binary', validation: undefined };
  const arrived = structuredClone({ memory, plan, mapper: data.mapper, layout: data.layout, training });
  // the objects' shapes, not the round's memory (5 MB), which goes with the round
  kept.push({
    plan: arrived.plan,
    mapper: arrived.mapper,
    layout: arrived.layout,
    training: arrived.training,
  });
  const lead = { ...arrived, module: kernelModule() };
  return {
    grow(): void {
      leadFit(lead, (workspace, operations) => leadBoosting(workspace, operations, arrived.training));
    },
  };
}

/**
 * Columns of the kinds a table has: continuous values (every bin used), small whole numbers (features
 * packed several to a byte) and missing cells; a label that depends on a few of them, with noise.
 */
function madeUpData(random: Random, rows: number): { X: Matrix; y: Float64Array } {
  const columns = allocateColumns(rows, COLUMNS, true);
  columns.forEach((column, f) => {
    const levels = f % 3 === 1 ? 2 + f : 0;
    for (let i = 0; i < rows; i++) {
      if (f % 4 === 3 && random.next() < 0.05) column[i] = NaN;
      else column[i] = levels > 0 ? random.nextInt(levels) : random.nextNormal();
    }
  });
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const score = columns[0][i] + 0.3 * columns[1][i] - 0.5 * (columns[2][i] > 0.5 ? 1 : 0);
    y[i] = score + random.nextNormal() > 1 ? 1 : 0;
  }
  return {
    X: { rows, cols: COLUMNS, names: columns.map((_, f) => `f${f}`), columns },
    y,
  };
}
