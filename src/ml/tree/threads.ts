// Worker threads for tree learning over shared memory. Boosting shares histograms by byte column (each
// summed whole by one thread, in row order) and per-row work by pieces of rows (a row's result depends
// on that row only); forests grow whole trees from per-tree seeds. Any thread count: the same model.
import { availableParallelism } from 'node:os';
import { sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errors } from '../../core/errors.js';
import type { BinMapper, PackedLayout } from './binning.js';
import type { CompactTree } from './ensemble.js';
import { ForestTreeGrower, type ForestSetup } from './forest-trees.js';
import { buildHistogramGroups, type NodeOperations } from './grower.js';
import { kernelModule, type WasmMemory } from './kernels.js';
import { PIECE_ROWS, Workspace, type WorkspacePlan } from './workspace.js';

/** `threads` as given, or every core the process may use. */
export function resolveThreads(threads: number | null | undefined): number {
  if (threads === null || threads === undefined) return Math.max(1, availableParallelism());
  return Math.max(1, Math.floor(threads));
}

/** The compiled worker entry; when running from the TypeScript sources (tests), its twin under dist/. */
export function workerScriptUrl(): URL {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new URL('./worker.js', here);
  const path = fileURLToPath(here);
  const marker = `${sep}src${sep}`;
  const at = path.lastIndexOf(marker);
  const compiled = `${path.slice(0, at)}${sep}dist${sep}${path.slice(at + marker.length)}`.replace(
    /threads\.ts$/,
    'worker.js',
  );
  return pathToFileURL(compiled);
}

/**
 * Worker threads started early, so that their start-up (a thread and its modules: tens of
 * milliseconds) overlaps the binning of the data; they are given their work once it is ready.
 */
export class StartingWorkers {
  private constructor(private readonly booting: Promise<Worker[]>) {
    // a failure is reported when the workers are asked for, not as an unhandled rejection
    booting.catch(() => undefined);
  }

  static start(count: number): StartingWorkers {
    if (count <= 0) return new StartingWorkers(Promise.resolve([]));
    const url = workerScriptUrl();
    const launched: Worker[] = [];
    const booting = Promise.all(
      Array.from({ length: count }, () => {
        const worker = new Worker(url);
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
    return new StartingWorkers(booting);
  }

  /** The started workers, each waiting for its work. */
  ready(): Promise<Worker[]> {
    return this.booting;
  }

  /** Stops every worker (those already stopped are left as they are). */
  async stop(): Promise<void> {
    const workers = await this.booting.catch(() => [] as Worker[]);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

/** Resolves on the worker's first message when it is `expected`; rejects on an error or another message. */
function firstMessage(worker: Worker, expected: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: unknown): void => {
      worker.off('message', receive);
      reject(error);
    };
    const receive = (message: unknown): void => {
      worker.off('error', fail);
      if (message === expected) resolve();
      else reject(new Error(`a training worker sent ${JSON.stringify(message)} instead of ${expected}`));
    };
    worker.once('error', fail);
    worker.once('message', receive);
  });
}

/** Hands a started worker its work and waits until it has set itself up. */
async function assign(worker: Worker, work: BoostingWorkerData | ForestWorkerData): Promise<void> {
  const ready = firstMessage(worker, 'ready');
  worker.postMessage(work);
  await ready;
}

// Slots of the workspace's control block, which coordinates the boosting workers.
const SEQUENCE = 0;
const OPERATION = 1;
const DONE = 2;
const NEXT = 3;
const ARGUMENT = 4;
const OPERATION_STOP = 1;
const OPERATION_HISTOGRAM = 2;
const OPERATION_GATHER = 3;
const OPERATION_BOOST = 4;
const OPERATION_PARTITION = 5;
/** Below this many row × column visits a node's histogram is built on the calling thread alone. */
const PARALLEL_MIN_HISTOGRAM_WORK = 120_000;
/** Checks of the control block a thread makes before it sleeps (a hundred microseconds or so). */
const SPIN_CHECKS = 50_000;
/** Below this many rows a row-range operation runs on the calling thread alone. */
const PARALLEL_MIN_ROWS = 49_152;

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

/**
 * Does this thread's part of the operation in the control block. Histograms are split by column (each
 * summed whole by one thread), row-range operations by pieces of rows (each row's result depends on
 * that row only), so the outcome is the same whichever thread does which part.
 */
function runOperation(workspace: Workspace, thread: number): void {
  const control = workspace.control;
  const { kernels, plan } = workspace;
  const operation = control[OPERATION];
  if (operation === OPERATION_HISTOGRAM) {
    buildHistogramGroups(
      workspace,
      control[ARGUMENT],
      control[ARGUMENT + 1],
      control[ARGUMENT + 2],
      control[ARGUMENT + 3] === 1,
      thread,
      NEXT,
    );
    return;
  }
  const start = control[ARGUMENT];
  const end = control[ARGUMENT + 1];
  for (let piece = Atomics.add(control, NEXT, 1); ; piece = Atomics.add(control, NEXT, 1)) {
    const from = start + piece * PIECE_ROWS;
    if (from >= end) return;
    const to = Math.min(end, from + PIECE_ROWS);
    if (operation === OPERATION_GATHER) {
      kernels.gather(plan.rowsAt, from, to, plan.ghAt, plan.orderedAt + (from - start) * 16);
    } else if (operation === OPERATION_PARTITION) {
      const lefts = kernels.partitionInto(
        control[ARGUMENT + 2],
        plan.tableAt,
        plan.rowsAt,
        from,
        to,
        plan.scratchLeftAt,
        plan.scratchRowsAt,
      );
      workspace.pieceCounts[piece] = lefts;
    } else if (operation === OPERATION_BOOST) {
      const boosting = plan.boosting as NonNullable<WorkspacePlan['boosting']>;
      const boost = control[ARGUMENT + 2] === 1 ? kernels.boostLogLoss : kernels.boostSquaredError;
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
      );
    }
  }
}

/** The operation count a worker starts from: read before it reports ready, so it misses no operation. */
export function currentSequence(workspace: Workspace): number {
  return Atomics.load(workspace.control, SEQUENCE);
}

/** The loop a boosting worker runs until told to stop. */
export function serveOperations(workspace: Workspace, thread: number, startSequence: number): void {
  const control = workspace.control;
  let seen = startSequence;
  for (;;) {
    // operations come in quick succession while a tree grows: look for the next one for a few
    // microseconds before sleeping, which costs a wake-up through the operating system
    for (let spin = 0; spin < SPIN_CHECKS && Atomics.load(control, SEQUENCE) === seen; spin++);
    Atomics.wait(control, SEQUENCE, seen);
    const sequence = Atomics.load(control, SEQUENCE);
    if (sequence === seen) continue;
    seen = sequence;
    if (Atomics.load(control, OPERATION) === OPERATION_STOP) return;
    runOperation(workspace, thread);
    Atomics.add(control, DONE, 1);
    Atomics.notify(control, DONE);
  }
}

/** The calling thread and `threads - 1` workers over one boosting workspace. */
export class BoostingThreads implements NodeOperations {
  private constructor(
    private readonly workspace: Workspace,
    private readonly workers: Worker[],
  ) {}

  /** The calling thread and the given started workers (threads 1, 2, … of the workspace). */
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
    return new BoostingThreads(workspace, workers);
  }

  /** Runs an operation on every thread when `work` is large enough, else on the calling thread alone. */
  private run(operation: number, args: number[], parallel: boolean): void {
    const control = this.workspace.control;
    for (let i = 0; i < args.length; i++) control[ARGUMENT + i] = args[i];
    control[OPERATION] = operation;
    Atomics.store(control, NEXT, 0);
    if (!parallel || this.workers.length === 0) {
      runOperation(this.workspace, 0);
      return;
    }
    Atomics.store(control, DONE, 0);
    Atomics.add(control, SEQUENCE, 1);
    Atomics.notify(control, SEQUENCE);
    runOperation(this.workspace, 0);
    const workers = this.workers.length;
    for (let spin = 0; spin < SPIN_CHECKS && Atomics.load(control, DONE) < workers; spin++);
    for (let done = Atomics.load(control, DONE); done < workers; done = Atomics.load(control, DONE)) {
      Atomics.wait(control, DONE, done, 100);
    }
  }

  build(slot: number, start: number, end: number, identity: boolean): void {
    const count = end - start;
    if (!identity) this.run(OPERATION_GATHER, [start, end], count >= PARALLEL_MIN_ROWS);
    let active = 0;
    const groupActive = this.workspace.groupActive;
    for (let g = 0; g < groupActive.length; g++) active += groupActive[g];
    this.run(
      OPERATION_HISTOGRAM,
      [slot, start, end, identity ? 1 : 0],
      count * active >= PARALLEL_MIN_HISTOGRAM_WORK,
    );
  }

  partition(column: number, start: number, end: number): number {
    const workspace = this.workspace;
    const { kernels, plan } = workspace;
    if (this.workers.length === 0 || end - start < PARALLEL_MIN_ROWS) {
      return kernels.partition(column, plan.tableAt, plan.rowsAt, start, end, plan.scratchRowsAt);
    }
    // each piece splits into its own stretch of two buffers; the stretches are then laid end to end:
    // the same stable order as one pass over the whole range
    this.run(OPERATION_PARTITION, [start, end, column], true);
    const pieces = Math.ceil((end - start) / PIECE_ROWS);
    const { words, pieceCounts } = workspace;
    const rowsWord = plan.rowsAt >> 2;
    const leftsWord = plan.scratchLeftAt >> 2;
    const rightsWord = plan.scratchRowsAt >> 2;
    let totalLeft = 0;
    for (let piece = 0; piece < pieces; piece++) totalLeft += pieceCounts[piece];
    let left = start;
    let right = start + totalLeft;
    for (let piece = 0; piece < pieces; piece++) {
      const from = start + piece * PIECE_ROWS;
      const size = Math.min(end, from + PIECE_ROWS) - from;
      const count = pieceCounts[piece];
      // all three buffers are in the one memory: copies within it, nothing allocated
      words.copyWithin(rowsWord + left, leftsWord + from, leftsWord + from + count);
      words.copyWithin(rowsWord + right, rightsWord + from, rightsWord + from + size - count);
      left += count;
      right += size - count;
    }
    return start + totalLeft;
  }

  /** Adds the last tree to the scores and computes every row's gradient pair (see Kernels.boostLogLoss). */
  boost(rows: number, logLoss: boolean, resetRows: boolean): void {
    this.run(OPERATION_BOOST, [0, rows, logLoss ? 1 : 0, resetRows ? 1 : 0], rows >= PARALLEL_MIN_ROWS);
  }

  async close(): Promise<void> {
    if (this.workers.length === 0) return;
    const control = this.workspace.control;
    Atomics.store(control, OPERATION, OPERATION_STOP);
    Atomics.add(control, SEQUENCE, 1);
    Atomics.notify(control, SEQUENCE);
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            worker.once('exit', () => resolve());
            // a worker that does not leave on its own is stopped
            setTimeout(() => void worker.terminate(), 2000).unref();
          }),
      ),
    );
  }
}

/** What a forest worker needs to grow trees by index (the binned columns are copied to it). */
export interface ForestWorkerData {
  mode: 'forest';
  setup: ForestSetup;
}

/**
 * Grows trees 0..count-1: tree t on thread t mod threads (the calling thread and the given started
 * workers), so the forest is the same for any thread count. The workers are stopped at the end.
 */
export async function growForest(
  setup: ForestSetup,
  count: number,
  started: Worker[],
): Promise<CompactTree[]> {
  const trees: CompactTree[] = new Array(count);
  const workers = started.slice(0, Math.max(0, count - 1));
  try {
    await Promise.all(workers.map((worker) => assign(worker, { mode: 'forest', setup })));
    const stride = workers.length + 1;
    const results = workers.map(
      (worker, w) =>
        new Promise<void>((resolve, reject) => {
          const indices: number[] = [];
          for (let t = w + 1; t < count; t += stride) indices.push(t);
          let remaining = indices.length;
          if (remaining === 0) return resolve();
          worker.on('message', (message: { index: number; tree: CompactTree }) => {
            trees[message.index] = message.tree;
            if (--remaining === 0) resolve();
          });
          worker.once('error', reject);
          worker.postMessage({ trees: indices });
        }),
    );
    const grower = new ForestTreeGrower(setup);
    for (let t = 0; t < count; t += stride) trees[t] = grower.grow(t);
    await Promise.all(results);
    return trees;
  } finally {
    await Promise.all(started.map((worker) => worker.terminate()));
  }
}
