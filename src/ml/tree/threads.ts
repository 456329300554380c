// Worker threads for tree learning over shared memory. Boosting keeps each thread's rows in a segment of
// their own: a split is one step on every thread (each segment partitioned, then one child's rows in it
// summed), the node's histogram the sum of its segments', exact on the gradients' grids; the gradient pass
// goes by segment too (a row's result depends on that row only). Forests grow whole trees from per-tree
// seeds. Any thread count: the same model.
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { usableCores } from '../../core/cores.js';
import { errors } from '../../core/errors.js';
import { compiledScript } from '../../core/paths.js';
import type { BinMapper, PackedLayout, SharedBinningJob } from './binning.js';
import { BatchScoring, type CompactTree, type SharedScoring, type TreeEnsemble } from './ensemble.js';
import { ForestTreeGrower, type ForestSetup } from './forest-trees.js';
import { LocalNodeOperations, type GrownTree, type NodeOperations } from './grower.js';
import { sumGroups } from './histogram.js';
import { kernelModule, type WasmMemory } from './kernels.js';
import { phaseDone, phaseStart } from './profile.js';
import { splitStepPart } from './split-step.js';
import { CONTROL_SLOTS, planForestWorkspaces, Workspace, type WorkspacePlan } from './workspace.js';
import type { Matrix } from '../types.js';

/** `threads` as given, or every core the process can run on at once (see core/cores.ts). */
export function resolveThreads(threads: number | null | undefined): number {
  if (threads === null || threads === undefined) return usableCores();
  return Math.max(1, Math.floor(threads));
}

/**
 * Training rows from which boosting shares its work with workers. Below, a second thread's share is
 * worth less than what it costs on a narrow table: its start, its code compiled again, a hand-off a
 * split. Measured before segments on the 2-core machine of bench/README.md (`## train`): two threads took
 * 1.05-1.19x one thread's time at 16,000-48,000 training rows of 14 columns, 0.98x at 80,000 and 0.72x
 * at 305,000.
 */
const BOOSTING_SHARED_ROWS = 65_536;
/**
 * A wide table shares its work from fewer rows: the split steps, whose work grows with the features,
 * dominate. Two threads took 0.86x one thread's time at 10,000 rows of 60 columns and 0.66-0.75x at
 * 5,000 of 200, but 1.0x at 20,000 of 20 (bench/README.md, `## train`).
 */
const BOOSTING_SHARED_CELLS = 524_288;
const BOOSTING_SHARED_COLUMNS = 32;

/**
 * Segments a boosting fit on `threads` threads over `columns` columns keeps its rows in (see
 * NodeOperations.segments): one a thread, or 1 on a table of BOOSTING_SHARED_COLUMNS columns or more,
 * whose work is mostly each split's histograms and searches over many columns: there the threads share
 * each split's step by parts of the columns instead (split-step.ts), a column's histogram in one core's
 * cache from its sums to its search (40,000 rows of 100 columns on two threads: 1.09 s, against 1.22 s in
 * segments).
 */
export function boostingSegments(threads: number, columns: number): number {
  return columns >= BOOSTING_SHARED_COLUMNS ? 1 : threads;
}

/**
 * The threads a boosting fit on `rows` training rows of `columns` columns uses: `threads`, or 1 for a
 * table too small to share.
 */
export function boostingThreads(threads: number, rows: number, columns: number): number {
  const wide = columns >= BOOSTING_SHARED_COLUMNS && rows * columns >= BOOSTING_SHARED_CELLS;
  return rows >= BOOSTING_SHARED_ROWS || wide ? threads : 1;
}

/** The compiled worker entry; when running from the TypeScript sources (tests), its twin under dist/. */
export function workerScriptUrl(): URL {
  return compiledScript(import.meta.url, 'worker.js');
}

/**
 * Worker threads started first thing in a fit, so that their start-up (a thread and its modules: tens
 * of milliseconds) overlaps the preparation and binning of the data: each is handed the binning as soon
 * as it is shared (`share`), takes its part of it once it runs, and is given its tree work after that.
 */
export class StartingWorkers {
  private constructor(
    private readonly booting: Promise<Worker[]>,
    private readonly launched: Worker[],
  ) {
    // a failure is reported when the workers are asked for, not as an unhandled rejection
    booting.catch(() => undefined);
  }

  /** Starts `count` workers (warm ones first, see warmTrainingWorkers); each waits for `share` before it reports ready. */
  static start(count: number): StartingWorkers {
    if (count <= 0) return new StartingWorkers(Promise.resolve([]), []);
    const url = workerScriptUrl();
    const launched: Worker[] = [];
    const booting = Promise.all(
      Array.from({ length: count }, () => {
        let worker: Worker;
        try {
          worker = takeWarmWorker() ?? startWorker(url);
        } catch (error) {
          // no thread to be had (a limit on threads, no memory for another): a failure like any other
          return Promise.reject(error as Error);
        }
        launched.push(worker);
        return firstMessage(worker, 'booted').then(() => worker);
      }),
    ).catch(async (error: unknown) => {
      await Promise.all(launched.map((worker) => worker.terminate()));
      throw new errors.PW_INTERNAL(`A training worker thread failed to start (${fileURLToPath(url)})`, {
        hint: 'Build the package first (`npm run build`), or pass threads: 1.',
        cause: error,
      });
    });
    return new StartingWorkers(booting, launched);
  }

  /**
   * Hands every worker the shared binning (undefined: none to share), which it joins as soon as it
   * runs; called once, before `ready`. A message posted before the thread listens waits for it.
   */
  share(binning: SharedBinningJob | undefined): void {
    for (const worker of this.launched) worker.postMessage(binning ?? null);
  }

  /** Why the workers could not be started, once `ready` has given none; undefined otherwise. */
  failure: Error | undefined;

  /**
   * The started workers, each waiting for its work; none when any of them could not be started (those
   * that were are stopped), with the reason in `failure`: the fit goes on on the calling thread alone.
   */
  ready(): Promise<Worker[]> {
    return this.booting.catch((error: unknown) => {
      this.failure = error as Error;
      return [];
    });
  }

  /** Stops every worker (those already stopped are left as they are). */
  async stop(): Promise<void> {
    const workers = await this.booting.catch(() => [] as Worker[]);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  /**
   * Ends a fit: each worker that finished its part goes back to the idle pool for the next fit (it frees
   * the fit's memory as it gets there, see worker.ts), any other is stopped.
   */
  async finish(): Promise<void> {
    const workers = await this.booting.catch(() => [] as Worker[]);
    await Promise.all(
      workers.map(async (worker) => {
        const job = jobs.get(worker);
        jobs.delete(worker);
        if (job && (await job)) poolIdleWorker(worker);
        // its exit is not waited for
        else void worker.terminate();
      }),
    );
  }
}

// ---- warm workers: a thread and its modules take 50-250 ms to start on a busy machine, as long as the
// binning of a million rows; started while the pipeline reads its data, they join a fit from its first
// step. A fit hands its workers back when it ends, so that the next one (cross-validation fits a model
// per fold, the service retrains) takes them at once, their code already compiled; each frees the fit's
// memory on its way back. Idle, they never keep the process alive (unref) and end with it, or after
// IDLE_WORKER_MS.

/** Started workers no fit has taken yet. */
const warmWorkers: Worker[] = [];

/** Worker threads this process has started. */
let startedWorkers = 0;

/** A new worker thread running the worker entry. */
function startWorker(url: URL): Worker {
  startedWorkers++;
  return new Worker(url);
}

/** Fits a worker has led in this process (see leadOnWorker). */
let ledFits = 0;

/**
 * Worker threads started by this process so far, those idle in the pool now, the trees the latest
 * warm-ups grew and the fits workers led (the tests read them).
 * @public
 */
export function trainingWorkerCounts(): {
  started: number;
  idle: number;
  warmUpTrees: number;
  led: number;
} {
  const warmUpTrees = warmUps.reduce((sum, state) => sum + Atomics.load(state, WARM_UP_TREES), 0);
  return { started: startedWorkers, idle: warmWorkers.length, warmUpTrees, led: ledFits };
}

/** An idle worker handed back by a fit is stopped when no fit has taken it for this long. */
const IDLE_WORKER_MS = 10_000;

/** Idle workers at most, one a core (a fit on every core takes one less): any more are stopped. */
const MAX_IDLE_WORKERS = usableCores();

/** The stop timer of each idle worker a fit handed back. */
const idleTimers = new Map<Worker, NodeJS.Timeout>();

/**
 * Per worker given a part of a fit: resolves true once it reports 'idle' (ready for another fit), false
 * if it fails or exits first.
 */
const jobs = new WeakMap<Worker, Promise<boolean>>();

/** Watches a worker that has been given its part of a fit (after its 'ready', if it sends one). */
function trackJob(worker: Worker): void {
  jobs.set(
    worker,
    firstMessage(worker, 'idle').then(
      () => true,
      () => false,
    ),
  );
}

/** Forgets a warm worker that failed or stopped: a fit then starts a new one, which reports the failure. */
function dropWarmWorker(worker: Worker): void {
  const at = warmWorkers.indexOf(worker);
  if (at >= 0) warmWorkers.splice(at, 1);
  clearTimeout(idleTimers.get(worker));
  idleTimers.delete(worker);
}

/** Makes `worker` warm: unheld, forgotten if it fails or exits. */
function keepWarm(worker: Worker): void {
  worker.unref();
  worker.on('error', () => dropWarmWorker(worker));
  worker.on('exit', () => dropWarmWorker(worker));
  warmWorkers.push(worker);
}

/** Puts a worker that finished its part of a fit back in the pool, or stops it when the pool is full. */
function poolIdleWorker(worker: Worker): void {
  if (warmWorkers.length >= MAX_IDLE_WORKERS) {
    void worker.terminate();
    return;
  }
  keepWarm(worker);
  const timer = setTimeout(() => {
    dropWarmWorker(worker);
    void worker.terminate();
  }, IDLE_WORKER_MS);
  timer.unref();
  idleTimers.set(worker, timer);
}

/** The fit a worker warms up for (see warm-up.ts). */
export type WarmUpKind = 'forest' | 'boosting';

/** What a worker is sent to warm up (see warmTrainingWorkers). */
export interface WarmUpRequest {
  warmUp: WarmUpKind;
  /** Int32 slots WARM_UP_DONE and WARM_UP_TREES: how far the warm-up has gone, for the pool to read. */
  state: SharedArrayBuffer;
}

/** State slot set to 1 once the warm-up has ended (all its trees grown, or stopped by a fit). */
export const WARM_UP_DONE = 0;
/** State slot counting the trees grown so far. */
export const WARM_UP_TREES = 1;
/** State slot set to 1 when the warm-up grew every tree of its rounds (no fit stopped it). */
export const WARM_UP_COMPLETE = 2;
const WARM_UP_STATE_BYTES = 12;

/**
 * Workers whose boosting warm-up is under way or over, by the warm-up's state. One that grew all its
 * trees leads the next boosting fit that takes it first (see leadsWarm); any fit that takes it ends that: the collection
 * that frees the fit's memory afterwards also throws away the code compiled against the warm-up's and
 * the fit's objects (V8 drops optimised code whose embedded objects die), so its next fit, led by it,
 * would compile it all again while it runs, where the calling thread, once it has led a fit, keeps
 * its code.
 */
const boostingWarmUps = new WeakMap<Worker, Int32Array>();
/** The boosting warm-up states of the workers the latest job took from the pool (see takeWarmWorker). */
const takenWarmUps = new WeakMap<Worker, Int32Array>();

/**
 * Whether a boosting fit on `workers` is to be led by the first (see leadOnWorker): its boosting warm-up
 * grew every tree since its last fit. Asking ends every one of those workers' warm-ups' use, whether it
 * leads or follows: the collection after the fit throws their code away.
 */
export function leadsWarm(workers: Worker[]): boolean {
  const states = workers.map((worker) => takenWarmUps.get(worker));
  for (const worker of workers) takenWarmUps.delete(worker);
  return states[0] !== undefined && Atomics.load(states[0], WARM_UP_COMPLETE) === 1;
}

/** The warm-up state of each worker the latest warmTrainingWorkers started (see warm-up.ts). */
let warmUps: Int32Array[] = [];

/**
 * Starts workers until `count` are warm, for the next fit on `count + 1` threads to take. Called as
 * soon as a caller knows it will train (`pipewright run` at its start); a no-op for `count <= 0`. With
 * `kind`, each new worker also warms up on a small made-up fit of that kind until the fit comes
 * (warm-up.ts), so that the code it runs in the fit is compiled by then.
 */
export function warmTrainingWorkers(count: number, kind?: WarmUpKind): void {
  if (warmWorkers.length >= count) return;
  const url = workerScriptUrl();
  warmUps = [];
  while (warmWorkers.length < count) {
    const worker = startWorker(url);
    keepWarm(worker);
    if (kind) {
      const state = new SharedArrayBuffer(WARM_UP_STATE_BYTES);
      worker.postMessage({ warmUp: kind, state } satisfies WarmUpRequest);
      warmUps.push(new Int32Array(state));
      if (kind === 'boosting') boostingWarmUps.set(worker, new Int32Array(state));
    }
  }
}

/**
 * Resolves once the warm-ups the latest warmTrainingWorkers started have ended, or after `timeoutMs`:
 * for a caller that times a fit as a run meets it, after earlier steps that outlast the warm-up.
 * @public
 */
export async function trainingWorkersWarmedUp(timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (warmUps.some((state) => Atomics.load(state, WARM_UP_DONE) === 0) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A warm worker, held by the process again (a fit waits on it), or undefined when none is left. */
function takeWarmWorker(): Worker | undefined {
  const worker = warmWorkers.shift();
  if (!worker) return undefined;
  // a job of any kind takes the worker's warm-up with it: the collection after the job ends its use
  const warmUp = boostingWarmUps.get(worker);
  boostingWarmUps.delete(worker);
  if (warmUp) takenWarmUps.set(worker, warmUp);
  else takenWarmUps.delete(worker);
  clearTimeout(idleTimers.get(worker));
  idleTimers.delete(worker);
  worker.removeAllListeners('error');
  worker.removeAllListeners('exit');
  worker.ref();
  return worker;
}

/** Stops the warm workers no fit took (a run whose model was reused from the cache leaves them idle). */
export async function stopWarmWorkers(): Promise<void> {
  const idle = warmWorkers.splice(0);
  for (const worker of idle) dropWarmWorker(worker);
  await Promise.all(idle.map((worker) => worker.terminate()));
}

/**
 * Resolves with the worker's next message, `received` called first (before any later message can come);
 * rejects on an error or on the worker exiting first (`awaited` names the message in that error).
 */
function nextMessage(worker: Worker, awaited: string, received?: () => void): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      worker.off('message', receive);
      worker.off('error', fail);
      worker.off('exit', exited);
    };
    const fail = (error: unknown): void => {
      settle();
      reject(error as Error);
    };
    const exited = (code: number): void =>
      fail(new errors.PW_INTERNAL(`a training worker exited (code ${code}) before it sent ${awaited}`));
    const receive = (message: unknown): void => {
      settle();
      received?.();
      resolve(message);
    };
    worker.once('error', fail);
    worker.once('exit', exited);
    worker.once('message', receive);
  });
}

/** Resolves on the worker's next message when it is `expected`; rejects on any other (see nextMessage). */
async function firstMessage(worker: Worker, expected: string): Promise<void> {
  const message = await nextMessage(worker, expected);
  if (message !== expected)
    throw new errors.PW_INTERNAL(`a training worker sent ${JSON.stringify(message)} instead of ${expected}`);
}

/** Hands a started worker its work and waits until it has set itself up. */
async function assign(worker: Worker, work: BoostingWorkerData): Promise<void> {
  const ready = firstMessage(worker, 'ready');
  worker.postMessage(work);
  await ready;
  trackJob(worker);
}

// Slots of the workspace's control block, which coordinates the boosting workers.
const SEQUENCE = 0;
const OPERATION = 1;
/** Pieces of the current operation finished, by any thread. */
const FINISHED = 2;
/** The next piece to take, tagged with the operation's sequence number (tag << 16 | piece); -1 between operations. */
const NEXT = 3;
const ARGUMENT = 4;
/** Pieces in the current operation. */
const PIECES = 8;
/** 1 once a worker failed in an operation (it counts its piece as finished, so no thread waits for it). */
const FAILED = 9;
const OPERATION_STOP = 1;
const OPERATION_BOOST = 4;
/** A split's children: the segments' sums added up, subtraction and search by parts of the groups (see splitStepPart). */
const OPERATION_SPLIT_STEP = 10;
/** In segments (a piece is a segment): a node's histogram. */
const OPERATION_SEGMENT_HISTOGRAM = 11;
/** In segments: a node's partition, then one child's histogram. */
const OPERATION_SEGMENT_SPLIT = 12;
/** In segments: the leaf number of every row of the last tree (its leaves' ranges in leafRangesAt). */
const OPERATION_SEGMENT_LEAVES = 13;
/** Rows in one range: a node's histogram by parts of the columns (see partOf). */
const OPERATION_COLUMNS_HISTOGRAM = 14;
/**
 * Checks of the control block a thread makes before it sleeps (about 0.8 ms on a 2-core server): long enough
 * for a worker to stay awake across the gaps between a tree's shared steps (a node's partition and split
 * search), so that it takes its share of the next one at once instead of after an operating-system wake-up;
 * short enough that it sleeps between fits and while the calling thread does longer work alone.
 */
const SPIN_CHECKS = 100_000;
/** Below this many rows the gradient pass runs on the calling thread alone. */
const PARALLEL_MIN_ROWS = 49_152;
/** Operations run on the calling thread alone take their pieces in order, untagged. */
const LOCAL = -1;

/** What a boosting worker needs to make the same views over the shared memory. */
export interface BoostingWorkerData {
  mode: 'boosting';
  memory: WasmMemory;
  plan: WorkspacePlan;
  mapper: BinMapper;
  layout: PackedLayout;
  thread: number;
  /** The compiled kernels, shared rather than compiled again. */
  module: object;
}

/** The operation tag of a sequence number (15 bits, so that a tagged word stays a positive int32). */
const tagOf = (sequence: number): number => sequence & 0x7fff;

/**
 * Takes the next piece of the operation tagged `tag`, or returns -1 when none is left or the operation
 * is over. A thread that wakes late sees another tag and takes nothing, so it never runs a piece of one
 * operation with the arguments of another.
 */
function takePiece(control: Int32Array, tag: number): number {
  for (;;) {
    const word = Atomics.load(control, NEXT);
    if (word >>> 16 !== tag) return -1;
    const piece = word & 0xffff;
    if (piece >= control[PIECES]) return -1;
    if (Atomics.compareExchange(control, NEXT, word, word + 1) === word) return piece;
  }
}

/**
 * Does pieces of the operation in the control block until none is left: a segment of a node (its sums in
 * its own area), a segment's run of rows for the gradient pass (each row's result depends on that row
 * only), a part of a split's step, so the outcome is the same whichever thread does which piece. `tag` is
 * the operation's tag, or LOCAL when the calling thread does every piece alone.
 */
function runOperation(workspace: Workspace, thread: number, tag: number): void {
  const control = workspace.control;
  const pieces = control[PIECES];
  for (let local = 0; ; local++) {
    const piece = tag === LOCAL ? (local < pieces ? local : -1) : takePiece(control, tag);
    if (piece < 0) return;
    try {
      runPiece(workspace, thread, piece);
    } catch (error) {
      // a worker's failure is the calling thread's to report: the piece counts as finished, so that no
      // thread waits for it, and the operation as failed (the worker's own error goes to its listeners)
      if (tag !== LOCAL && thread !== 0) {
        Atomics.store(control, FAILED, 1);
        if (Atomics.add(control, FINISHED, 1) === pieces - 1) Atomics.notify(control, FINISHED);
      }
      throw error;
    }
    // the last piece wakes the calling thread if it went to sleep waiting for it
    if (tag !== LOCAL && Atomics.add(control, FINISHED, 1) === pieces - 1) Atomics.notify(control, FINISHED);
  }
}

/** Piece `piece` of the operation in the control block, on thread `thread`. */
function runPiece(workspace: Workspace, thread: number, piece: number): void {
  const control = workspace.control;
  const { kernels, plan } = workspace;
  const operation = control[OPERATION];
  const pieces = control[PIECES];
  const start = control[ARGUMENT];
  const end = control[ARGUMENT + 1];
  if (operation === OPERATION_SEGMENT_HISTOGRAM || operation === OPERATION_SEGMENT_SPLIT) {
    runSegment(workspace, thread, operation, piece);
  } else if (operation === OPERATION_SEGMENT_LEAVES) {
    scatterLeaves(workspace, piece, start);
  } else if (operation === OPERATION_SPLIT_STEP) {
    splitStepPart(workspace, thread, piece, pieces);
  } else if (operation === OPERATION_COLUMNS_HISTOGRAM) {
    const slotAt = workspace.slotAddress(control[ARGUMENT + 2]);
    sumGroups(workspace, thread, slotAt, start, end, control[ARGUMENT + 3] === 1, piece, pieces);
  } else if (operation === OPERATION_BOOST) {
    // one piece a segment's run of rows
    const pieceRows = Math.ceil((end - start) / pieces);
    const from = start + piece * pieceRows;
    const to = Math.min(end, from + pieceRows);
    const boosting = plan.boosting as NonNullable<WorkspacePlan['boosting']>;
    const weighted = boosting.weightsAt !== 0;
    const boost =
      control[ARGUMENT + 2] === 1
        ? weighted
          ? kernels.boostLogLossWeighted
          : kernels.boostLogLoss
        : weighted
          ? kernels.boostSquaredErrorWeighted
          : kernels.boostSquaredError;
    boost(
      from,
      to,
      boosting.rawAt,
      boosting.yAt,
      boosting.weightsAt,
      boosting.leafOfAt,
      boosting.leafValuesAt,
      plan.ghAt,
      boosting.expTablesAt,
      control[ARGUMENT + 3] === 1 ? plan.rowsAt : 0,
      workspace.grid[0],
      workspace.grid[1],
    );
  }
}

/**
 * Segment `segment` of a node (its range in the workspace's segmentRanges) on thread `thread`: for a
 * split, its positions partitioned by the table on the column in ARGUMENT (the left ones first, each side
 * in ascending order; its first right position written back), then, for side ARGUMENT + 1 0 or 1, that
 * child's rows in the segment summed; for a histogram, the node's rows in it. The sums go to the slot in
 * ARGUMENT + 2 for the first segment and to the segment's own area for the others.
 */
function runSegment(workspace: Workspace, thread: number, operation: number, segment: number): void {
  const { control, kernels, plan, segmentRanges: ranges } = workspace;
  let from = ranges[3 * segment];
  let to = ranges[3 * segment + 1];
  let identity = false;
  if (operation === OPERATION_SEGMENT_SPLIT) {
    // the segment's own part of the scratch, so that segments partition at once
    const split = kernels.partition(
      control[ARGUMENT],
      plan.tableAt,
      plan.rowsAt,
      from,
      to,
      plan.scratchRowsAt + 4 * from,
    );
    ranges[3 * segment + 2] = split;
    const side = control[ARGUMENT + 1];
    if (side < 0) return;
    if (side === 0) to = split;
    else from = split;
  } else {
    identity = control[ARGUMENT + 1] === 1;
  }
  const slot = control[ARGUMENT + 2];
  const outAt = segment === 0 ? workspace.slotAddress(slot) : workspace.segmentAddress(segment);
  sumGroups(workspace, thread, outAt, from, to, identity);
}

/** Each row's leaf number for the `leaves` leaves of the last tree in segment `segment` (see leafRangesAt). */
function scatterLeaves(workspace: Workspace, segment: number, leaves: number): void {
  const { kernels, plan } = workspace;
  const boosting = plan.boosting as NonNullable<WorkspacePlan['boosting']>;
  const at = boosting.leafRangesAt + segment * boosting.maxNodes * 12;
  const view = new Int32Array(workspace.memory.buffer, at, leaves * 3);
  for (let j = 0; j < leaves; j++)
    kernels.scatterLeaf(plan.rowsAt, view[3 * j], view[3 * j + 1], boosting.leafOfAt, view[3 * j + 2]);
}

/** The operation count a worker starts from: read before it reports ready, so it misses no operation. */
export function currentSequence(workspace: Workspace): number {
  return Atomics.load(workspace.control, SEQUENCE);
}

/** Longest single sleep of a thread with a limited patience (see awaitOperation). */
const PATIENCE_SLICE_MS = 1000;

/**
 * Sleeps until the control block's sequence is no longer `seen`, for at most `patienceMs`, counted in
 * sleeps of a second at most: a process stopped and resumed (a debugger, SIGSTOP) counts its stop as one
 * such sleep, not as the whole patience. 'timed-out' once the patience is spent.
 */
function awaitOperation(control: Int32Array, seen: number, patienceMs: number): string {
  if (patienceMs === Infinity) return Atomics.wait(control, SEQUENCE, seen);
  for (let slept = 0; slept < patienceMs; slept += PATIENCE_SLICE_MS) {
    const woken = Atomics.wait(control, SEQUENCE, seen, Math.min(PATIENCE_SLICE_MS, patienceMs - slept));
    if (woken !== 'timed-out') return woken;
  }
  return 'timed-out';
}

/**
 * The loop a thread that takes pieces of another's operations runs until told to stop: a boosting
 * worker, or the calling thread while a worker leads the fit (see leadOnWorker), which gives up after
 * `patienceMs` without a new operation.
 */
export function serveOperations(
  workspace: Workspace,
  thread: number,
  startSequence: number,
  patienceMs = Infinity,
): void {
  const control = workspace.control;
  let seen = startSequence;
  for (;;) {
    // operations come in quick succession while a tree grows: look for the next one for a few
    // microseconds before sleeping, which costs a wake-up through the operating system
    for (let spin = 0; spin < SPIN_CHECKS && Atomics.load(control, SEQUENCE) === seen; spin++);
    if (awaitOperation(control, seen, patienceMs) === 'timed-out') throw leaderSilent(patienceMs);
    const sequence = Atomics.load(control, SEQUENCE);
    if (sequence === seen) continue;
    seen = sequence;
    if (Atomics.load(control, OPERATION) === OPERATION_STOP) return;
    // an operation already finished (this thread woke late) has no piece left under this tag
    runOperation(workspace, thread, tagOf(sequence));
  }
}

/**
 * Waits until every piece of the operation in the control block is finished: a spin, then sleeps
 * (sleepUntilFinished). The spin leaves by its return, a path its first run takes too: the engine
 * compiles a long first spin where it runs (on-stack replacement) and keeps that code for the loop's
 * later runs, and code that then met a call not run before that compilation was abandoned at it each
 * time, 14 times a fit when the spin sat in the caller and was followed by a check of its own. The
 * count goes up before each check, so that a wait that finds every piece finished at once (a leader
 * warmed up alone, see leading) has run each of its operations too.
 */
function awaitFinished(control: Int32Array, pieces: number, checks = SPIN_CHECKS): void {
  for (let spin = 0; spin++ < checks;) if (Atomics.load(control, FINISHED) >= pieces) return;
  sleepUntilFinished(control, pieces);
}

/**
 * Sleeps until every piece of the operation in the control block is finished (a worker's piece outlasted
 * the calling thread's spin). A function of its own, so that the optimised code of the caller, which
 * runs for every operation, does not meet a path it has not seen: the engine dropped that code and
 * compiled it again each time it did, on the cores the fit trains on.
 */
function sleepUntilFinished(control: Int32Array, pieces: number): void {
  for (let done = Atomics.load(control, FINISHED); done < pieces; done = Atomics.load(control, FINISHED))
    Atomics.wait(control, FINISHED, done, 100);
}

/** The calling thread and `threads - 1` workers over one boosting workspace. */
export class BoostingThreads implements NodeOperations {
  /** The node steps on the calling thread alone (small nodes, or no worker). */
  private readonly local: LocalNodeOperations;

  private constructor(
    private readonly workspace: Workspace,
    private readonly workers: Worker[],
    readonly segments: number,
    /** Whether operations are published for other threads to take pieces of. */
    private readonly shared = workers.length > 0,
    /** Threads an operation by rows or by columns is cut for: a piece a thread. */
    private readonly threads = workers.length + 1,
  ) {
    this.local = new LocalNodeOperations(workspace);
  }

  /**
   * A worker leading a fit (see leadOnWorker): it publishes every operation for the threads that follow
   * it (the calling thread among them) and takes pieces as thread 0, as a calling thread does; `close`
   * releases the followers. Alone, as in a warm-up, it takes every piece itself.
   */
  static leading(workspace: Workspace): BoostingThreads {
    const { plan } = workspace;
    // a wait that goes on to sleep, once, on nothing: a leader warming up alone never waits, and its
    // compiled code would be abandoned at the fit's first sleep, a path it had not met
    awaitFinished(workspace.control, 0, 0);
    return new BoostingThreads(workspace, [], plan.segments, true, plan.threads);
  }

  /**
   * The calling thread and the given started workers (threads 1, 2, … of the workspace), the rows kept in
   * one segment a thread when the workspace's boosting regions say so (gradients on exact grids).
   */
  static async start(workspace: Workspace, workers: Worker[]): Promise<BoostingThreads> {
    await Promise.all(
      workers.map((worker, index) =>
        assign(worker, {
          mode: 'boosting',
          memory: workspace.memory,
          plan: workspace.plan,
          mapper: workspace.data.mapper,
          layout: workspace.data.layout,
          thread: index + 1,
          module: kernelModule(),
        }),
      ),
    );
    // fewer threads than segments when workers could not be started: the calling thread takes the rest
    const segments = workspace.plan.segments;
    if (segments !== 1 && workers.length + 1 > segments)
      throw new errors.PW_INTERNAL(`${segments} segments for ${workers.length + 1} threads`);
    return new BoostingThreads(workspace, workers, segments);
  }

  /**
   * Runs an operation of `pieces` pieces on every thread when `parallel`, else on the calling thread
   * alone. The calling thread takes pieces too and waits only for pieces another thread has begun:
   * a worker that is asleep or descheduled (a busy machine) costs nothing, its share is done here.
   */
  private run(operation: number, args: number[], pieces: number, parallel: boolean): void {
    const control = this.workspace.control;
    if (!parallel || !this.shared || pieces <= 1) {
      for (let i = 0; i < args.length; i++) control[ARGUMENT + i] = args[i];
      control[OPERATION] = operation;
      control[PIECES] = pieces;
      runOperation(this.workspace, 0, LOCAL);
      return;
    }
    const sequence = control[SEQUENCE] + 1;
    const tag = tagOf(sequence);
    // pieces of the last operation are no longer taken from here on
    Atomics.store(control, NEXT, tag << 16);
    for (let i = 0; i < args.length; i++) control[ARGUMENT + i] = args[i];
    control[OPERATION] = operation;
    control[PIECES] = pieces;
    Atomics.store(control, FINISHED, 0);
    Atomics.store(control, SEQUENCE, sequence);
    Atomics.notify(control, SEQUENCE);
    runOperation(this.workspace, 0, tag);
    awaitFinished(control, pieces);
    // no tag: a worker waking late takes nothing, even while the calling thread runs an operation alone
    Atomics.store(control, NEXT, -1);
    if (Atomics.load(control, FAILED) === 1)
      throw new errors.PW_INTERNAL(
        `a training worker thread failed in a step shared with it (operation ${operation}); the fit is abandoned`,
        { hint: 'Train with model.threads: 1 to see the failure itself, and report it.' },
      );
  }

  /**
   * Threads a split's step is shared by (see splitStepPart): every thread when the rows are not in
   * segments (a wide table, see boostingSegments); in segments none, the calling thread adding the
   * segments' sums up, subtracting and searching (a second hand-off a split to share those cost more than
   * it saved on 14 columns: 0.55 against 0.52 s; the same parts in the partition's operation, behind a
   * barrier, 0.58 against 0.52 s, each part reading sums the other core had just written).
   */
  get stepThreads(): number {
    return this.segments > 1 ? 1 : this.threads;
  }

  /** A node's histogram by segments (any thread takes any segment). */
  buildSegments(slot: number, identity: boolean): void {
    this.run(OPERATION_SEGMENT_HISTOGRAM, [0, identity ? 1 : 0, slot], this.segments, true);
  }

  /** A node's partition by segments, and the histogram of child `side` (any thread takes any segment). */
  splitSegments(column: number, side: number, slot: number): void {
    this.run(OPERATION_SEGMENT_SPLIT, [column, side, slot], this.segments, true);
  }

  /**
   * Each training row's leaf in `tree` (the workspace's leafOf), for the gradient pass: by segments when
   * the rows are kept in them (any thread takes any segment), else on the calling thread.
   */
  scatterLeaves(tree: GrownTree): void {
    const { plan, memory } = this.workspace;
    const boosting = plan.boosting as NonNullable<WorkspacePlan['boosting']>;
    const segments = tree.segments;
    const ranges = new Int32Array(memory.buffer, boosting.leafRangesAt, boosting.maxNodes * segments * 3);
    let leaves = 0;
    for (let k = 0; k < tree.count; k++) {
      if (tree.left[k] >= 0) continue;
      for (let s = 0; s < segments; s++) {
        const at = (s * boosting.maxNodes + leaves) * 3;
        ranges[at] = tree.start[k * segments + s];
        ranges[at + 1] = tree.end[k * segments + s];
        ranges[at + 2] = k;
      }
      leaves++;
    }
    this.run(OPERATION_SEGMENT_LEAVES, [leaves], segments, segments > 1);
  }

  /** A split's step by parts of the groups (any thread takes any part; see splitStepPart). */
  step(parts: number): void {
    this.run(OPERATION_SPLIT_STEP, [], parts, true);
  }

  /**
   * A node's histogram when the rows are not in segments: by parts of the columns (any thread takes any
   * part; a group's sums depend on the node's rows only), or on the calling thread alone.
   */
  build(slot: number, start: number, end: number, identity: boolean): void {
    this.run(OPERATION_COLUMNS_HISTOGRAM, [start, end, slot, identity ? 1 : 0], this.threads, true);
  }

  /** One thread (one segment): a node's partition on the calling thread. */
  partition(column: number, start: number, end: number): number {
    return this.local.partition(column, start, end);
  }

  /** Adds the last tree to the scores and computes every row's gradient pair (see Kernels.boostLogLoss). */
  boost(rows: number, logLoss: boolean, resetRows: boolean): void {
    const started = phaseStart();
    // a piece a segment's run of rows: the thread that takes it (the calling thread the first, as a rule)
    // writes the pairs that it sums next into its segment's histograms, in its own core's cache
    this.run(
      OPERATION_BOOST,
      [0, rows, logLoss ? 1 : 0, resetRows ? 1 : 0],
      this.threads,
      rows >= PARALLEL_MIN_ROWS,
    );
    phaseDone('gradients', started);
  }

  /** Tells every thread taking pieces to leave its operations loop (see serveOperations). */
  release(): void {
    if (this.shared) releaseOperations(this.workspace.control, false);
  }

  async close(): Promise<void> {
    this.release();
    // each worker leaves its operations loop and reports 'idle' (its thread is then free for another fit)
    await Promise.all(
      this.workers.map(async (worker) => {
        // a worker that does not leave on its own is stopped
        const timer = setTimeout(() => void worker.terminate(), 2000);
        await jobs.get(worker);
        clearTimeout(timer);
      }),
    );
  }
}

/** Publishes the stop that ends every operations loop (serveOperations) on the control block `control`. */
function releaseOperations(control: Int32Array, failed: boolean): void {
  if (failed) Atomics.store(control, FAILED, 1);
  const sequence = control[SEQUENCE] + 1;
  Atomics.store(control, NEXT, tagOf(sequence) << 16);
  Atomics.store(control, OPERATION, OPERATION_STOP);
  Atomics.store(control, SEQUENCE, sequence);
  Atomics.notify(control, SEQUENCE);
}

/** What a worker leading a boosting fit is sent (see leadOnWorker): a boosting worker's views, and the fit. */
export interface BoostingLeadData extends Omit<BoostingWorkerData, 'mode'> {
  mode: 'boosting-lead';
  /** What the leader trains on and how (the model's own: see GradientBoostingModel). */
  training: unknown;
}

/** A leading worker's reply: what it trained, or why it failed. */
export type LeadReply = { result: unknown } | { failure: string };

/**
 * A worker's lead of a fit (see leadOnWorker): `lead` run over the worker's view of the fit's memory and
 * operations published from it, then the threads that follow released, whether it succeeded or failed
 * (before its first operation included: they would otherwise wait for one).
 */
export function leadFit(
  data: Omit<BoostingLeadData, 'mode' | 'thread' | 'training'>,
  lead: (workspace: Workspace, operations: BoostingThreads) => unknown,
): LeadReply {
  try {
    const { memory, plan, mapper, layout, module } = data;
    const workspace = new Workspace(memory, plan, mapper, layout, undefined, module);
    const operations = BoostingThreads.leading(workspace);
    const result = lead(workspace, operations);
    operations.release();
    return { result };
  } catch (error) {
    // through the control block itself: the failure may have come before the workspace's views
    releaseOperations(new Int32Array(data.memory.buffer, data.plan.controlAt, CONTROL_SLOTS), true);
    return { failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/**
 * How long the calling thread waits for a leading worker's next operation before it gives the fit up: far
 * more than any gap between two operations (a tree's bookkeeping, a validation part's scores), so that
 * only a worker that is gone, whose exit the waiting thread cannot see, ends a fit this way.
 */
const LEADER_PATIENCE_MS = 120_000;

function leaderSilent(patienceMs: number): Error {
  return new errors.PW_INTERNAL(
    `the training worker leading the fit published nothing for ${patienceMs / 1000} s; the fit is abandoned`,
    { hint: 'Train with model.threads: 1 to see whether the fit itself fails, and report it.' },
  );
}

/**
 * A boosting fit led by `workers[0]`, whose code a warm-up compiled while the data was read (see
 * warm-up.ts): it runs the boosting loop and the tree grower, publishing each operation, while the
 * calling thread takes pieces as thread 1 and the other workers as threads 2, 3, … (the same pieces as a
 * fit led by the calling thread, so the same model). Resolves with the leader's result for `training`
 * (see worker.ts), or rejects with PW_INTERNAL when it failed.
 */
export async function leadOnWorker(
  workspace: Workspace,
  workers: Worker[],
  training: unknown,
): Promise<unknown> {
  const [leader, ...followers] = workers;
  ledFits++;
  const views = (thread: number): BoostingWorkerData => ({
    mode: 'boosting',
    memory: workspace.memory,
    plan: workspace.plan,
    mapper: workspace.data.mapper,
    layout: workspace.data.layout,
    thread,
    module: kernelModule(),
  });
  await Promise.all(followers.map((worker, index) => assign(worker, views(index + 2))));
  const start = currentSequence(workspace);
  // its 'idle' follows the result: watched from before it can come
  const result = nextMessage(leader, 'the fit it led', () => trackJob(leader));
  // a failure is the fit's to report, once the calling thread is free to take it
  result.catch(() => undefined);
  leader.postMessage({ ...views(0), mode: 'boosting-lead', training } satisfies BoostingLeadData);
  serveOperations(workspace, 1, start, LEADER_PATIENCE_MS);
  const reply = (await result) as LeadReply;
  if ('failure' in reply)
    throw new errors.PW_INTERNAL(`the training worker leading the fit failed: ${reply.failure}`, {
      hint: 'Train with model.threads: 1 to see the failure itself, and report it.',
    });
  return reply.result;
}

/** What a forest worker needs to grow trees by index, in its part of the forest's shared memory. */
export interface ForestWorkerData {
  mode: 'forest';
  setup: ForestSetup;
  /** The memory every thread's grower lives in (its shared regions filled by the calling thread). */
  memory: WasmMemory;
  /** This worker's regions of it. */
  plan: WorkspacePlan;
  /** The kernels' module, compiled once for the process. */
  module: object;
  /** One Int32: the next tree index to grow, taken by every thread. */
  next: SharedArrayBuffer;
  count: number;
  /** Where the worker posts each tree it grows ({ index, tree }), then 'finished'. */
  trees: MessagePort;
}

/** Grows trees by index from the shared counter until none is left; `done` receives each one. */
export function growTakenTrees(
  grower: ForestTreeGrower,
  next: Int32Array,
  count: number,
  done: (index: number, tree: CompactTree) => void,
): void {
  for (let index = Atomics.add(next, 0, 1); index < count; index = Atomics.add(next, 0, 1))
    done(index, grower.grow(index));
}

type ForestMessage = { index: number; tree: CompactTree } | 'finished';

/**
 * Grows trees 0..count-1 on the calling thread and the given started workers, each taking the next
 * index from a shared counter (a thread that is slow or descheduled takes fewer). A tree depends on
 * its index only, so the forest is the same for any thread count. `receive` is given the trees in
 * index order, each as soon as every tree before it is grown: the calling thread takes the workers'
 * trees between its own, so that the forest is mostly assembled when the last tree is done rather
 * than all of it after. The workers are left to the caller's StartingWorkers.finish: those given trees
 * report 'idle' once done, and any left without (fewer trees than threads) is stopped there.
 */
export async function growForest(
  setup: ForestSetup,
  count: number,
  started: Worker[],
  receive: (tree: CompactTree) => void,
): Promise<void> {
  const workers = started.slice(0, Math.max(0, count - 1));
  const shared = new SharedArrayBuffer(4);
  const next = new Int32Array(shared);
  const waiting: (CompactTree | undefined)[] = new Array(count);
  let received = 0;
  const place = (index: number, tree: CompactTree): void => {
    waiting[index] = tree;
    for (let ready = waiting[received]; ready !== undefined; ready = waiting[received]) {
      waiting[received++] = undefined;
      receive(ready);
    }
  };
  const channels = workers.map(() => new MessageChannel());
  let finished = 0;
  /** Places every tree the workers have posted so far; true once each worker has said it is finished. */
  const takePosted = (): boolean => {
    for (const { port1 } of channels) {
      for (let taken = receiveMessageOnPort(port1); taken; taken = receiveMessageOnPort(port1)) {
        const message = taken.message as ForestMessage;
        if (message === 'finished') finished++;
        else place(message.index, message.tree);
      }
    }
    return finished === channels.length;
  };
  let fail: (error: unknown) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  // a worker that fails is reported once the calling thread has done its trees, not as an
  // unhandled rejection in between
  failed.catch(() => undefined);
  try {
    for (const worker of workers) worker.once('error', fail);
    // one memory for every thread's grower: the binned columns and class codes once, filled by the
    // calling thread's grower before any worker is sent its part; each worker then attaches to it
    // and takes its first tree from the counter while the calling thread is on its own
    const places =
      workers.length > 0
        ? planForestWorkspaces(setup.data.rows, setup.data.layout, setup.capacity, workers.length + 1)
        : undefined;
    const grower = new ForestTreeGrower(
      setup,
      places && { memory: places.memory, plan: places.plans[0], fills: true },
    );
    if (places) {
      const module = kernelModule();
      workers.forEach((worker, at) => {
        const port = channels[at].port2;
        const work: ForestWorkerData = {
          mode: 'forest',
          setup,
          memory: places.memory,
          plan: places.plans[at + 1],
          module,
          next: shared,
          count,
          trees: port,
        };
        worker.postMessage(work, [port]);
        trackJob(worker);
      });
    }
    growTakenTrees(grower, next, count, (index, tree) => {
      place(index, tree);
      takePosted();
    });
    // the workers' last trees, as they come
    if (!takePosted()) {
      const done = new Promise<void>((resolve) => {
        for (const { port1 } of channels) {
          port1.on('message', (message: ForestMessage) => {
            if (message === 'finished') finished++;
            else place(message.index, message.tree);
            if (finished === channels.length) resolve();
          });
        }
      });
      await Promise.race([done, failed]);
    }
  } finally {
    // a worker handed back to the pool must not keep this fit's data reachable through its listener
    for (const worker of workers) worker.off('error', fail);
    for (const { port1 } of channels) port1.close();
  }
}

/** What a scoring worker needs: the batch scoring's shared memory and layout, the rows, the counters. */
export interface ScoreWorkerData {
  mode: 'score';
  scoring: SharedScoring;
  /** The kernels' module the scoring was compiled from. */
  module: object;
  /** The rows, their columns in shared memory. */
  X: Matrix;
  /** Each row's scores so far, then with every tree added (shared). */
  results: Float64Array;
  /** One Int32: the next block to score, taken by every thread. */
  next: SharedArrayBuffer;
  /** A byte a block, set once a thread has written it. */
  scored: SharedArrayBuffer;
  /** The scratch set this worker scores with (the calling thread has 0). */
  thread: number;
}

/** Scores blocks taken from the shared counter until none is left, flagging each in `scored` once written. */
export function scoreTakenBlocks(
  scoring: BatchScoring,
  X: Matrix,
  results: Float64Array,
  next: Int32Array,
  scored: Uint8Array,
  thread: number,
): void {
  const blocks = Math.ceil(X.rows / BatchScoring.blockRows);
  for (let block = Atomics.add(next, 0, 1); block < blocks; block = Atomics.add(next, 0, 1)) {
    scoring.scoreBlock(X, results, results, block * BatchScoring.blockRows, thread);
    Atomics.store(scored, block, 1);
  }
}

/**
 * Adds every tree of `ensemble` to `out` for every row of X, as TreeEnsemble.addTrees does (the same
 * sums, bit for bit: each row is scored by one thread, its trees in order), on the calling thread and
 * up to `threads - 1` workers, which take blocks of rows in turn. X's columns should be in shared memory
 * (others are copied to each worker). A worker that cannot start or fails leaves its blocks to the
 * calling thread.
 */
export async function addTreesOnThreads(
  ensemble: TreeEnsemble,
  X: Matrix,
  out: Float64Array,
  outputs: number,
  threads: number,
): Promise<void> {
  const scoring = threads > 1 ? ensemble.batchScoring(outputs, threads) : null;
  if (!scoring) {
    ensemble.addTrees(X, out, outputs);
    return;
  }
  const workers = StartingWorkers.start(threads - 1);
  workers.share(undefined);
  try {
    const started = await workers.ready();
    const blocks = Math.ceil(X.rows / BatchScoring.blockRows);
    const next = new Int32Array(new SharedArrayBuffer(4));
    const scored = new Uint8Array(new SharedArrayBuffer(Math.max(1, blocks)));
    const results = new Float64Array(new SharedArrayBuffer(Math.max(8, out.byteLength)), 0, out.length);
    results.set(out);
    const module = kernelModule();
    started.forEach((worker, at) => {
      const work: ScoreWorkerData = {
        mode: 'score',
        scoring: scoring.shared,
        module,
        X: { rows: X.rows, cols: X.cols, names: [], columns: X.columns },
        results,
        next: next.buffer as SharedArrayBuffer,
        scored: scored.buffer as SharedArrayBuffer,
        thread: at + 1,
      };
      worker.postMessage(work);
      trackJob(worker);
    });
    scoreTakenBlocks(scoring, X, results, next, scored, 0);
    // each worker ends its last block, or has failed (then writes nothing more)
    await Promise.all(started.map((worker) => jobs.get(worker)));
    for (let block = 0; block < blocks; block++) {
      // taken by a worker that failed before writing it: scored here, from the values before
      if (Atomics.load(scored, block) === 0)
        scoring.scoreBlock(X, out, results, block * BatchScoring.blockRows, 0);
    }
    out.set(results);
  } finally {
    await workers.finish();
  }
}
