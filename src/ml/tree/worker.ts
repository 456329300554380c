// Entry point of a tree-learning worker thread: takes its share of the binning, then either does its
// share of boosting operations on shared memory (pieces of histograms and of rows), grows whole forest
// trees by index, or scores blocks of rows with a fitted model's trees; then frees what the fit left in
// its heap and waits for the next fit (a process that fits again, as cross-validation does, takes it back
// from the pool of idle workers). Started, pooled and stopped by threads.ts.
import { errors } from '../../core/errors.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { binSharedPart, type SharedBinningJob } from './binning.js';
import { ForestTreeGrower } from './forest-trees.js';
import { BatchScoring } from './ensemble.js';
import { leadBoosting, type BoostingTraining } from '../models/gbdt.js';
import {
  currentSequence,
  growTakenTrees,
  leadFit,
  scoreTakenBlocks,
  serveOperations,
  type BoostingLeadData,
  type BoostingWorkerData,
  type ForestWorkerData,
  type ScoreWorkerData,
  type WarmUpRequest,
} from './threads.js';
import { runWarmUp, WarmUp } from './warm-up.js';
import { Workspace } from './workspace.js';

if (!parentPort) throw new errors.PW_INTERNAL('worker.js runs as a worker thread only');
const port = parentPort;

/**
 * V8's full garbage collection. It gives the function to contexts made while its flag is on: one is
 * made for it, and the flag is set back, so the process's own contexts are left as they were. Where
 * that fails (a runtime that refuses it), nothing: the heap is then collected as V8 sees fit.
 */
function fullCollector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return () => undefined;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
let collector: (() => void) | undefined;

/**
 * A full garbage collection of this thread's heap. An idle thread allocates nothing, so nothing else
 * would collect a finished fit's workspace (tens of bytes a row: hundreds of megabytes on millions of
 * rows) before the next fit. The collector is made after the first fit, not while the thread starts,
 * which a fit may be waiting on.
 */
function collectGarbage(): void {
  collector ??= fullCollector();
  collector();
}

/** The warm-up under way, if the pool asked for one (it stops when a fit comes). */
let warmUp: WarmUp | undefined;

/**
 * Waits for a fit: the shared binning comes first (null when there is none), the tree work after it.
 * Listening again before reporting 'idle' means no message of the next fit finds the port deaf. A
 * warm-up request (sent to a new worker only, before any fit) starts the warm-up and waits again.
 */
function awaitFit(): void {
  port.once('message', (message: SharedBinningJob | WarmUpRequest | null) => {
    if (message && 'warmUp' in message) {
      warmUp = new WarmUp(message);
      runWarmUp(warmUp);
      awaitFit();
      return;
    }
    // a fit has come: no warm-up and no collection in its midst
    warmUp?.stop();
    warmUp = undefined;
    clearTimeout(secondCollection);
    // take a share of the data being binned first
    if (message) binSharedPart(message, false);
    port.once('message', work);
    port.postMessage('booted');
  });
}
awaitFit();

/**
 * After the collection that follows a fit, the wait before a second one: what the first could not free
 * yet (the fit's message, still held by the call that delivered it; the optimising compiler's jobs of the
 * fit, which hold what they compile against until they end, later on a busy machine) is free by then.
 */
const SECOND_COLLECTION_MS = 500;
let secondCollection: NodeJS.Timeout | undefined;

/**
 * Does a fit's work, then reports 'idle' (listening for the next fit first) and frees what the fit left:
 * its workspace is unreachable once runFit has returned.
 */
function work(message: BoostingWorkerData | BoostingLeadData | ForestWorkerData | ScoreWorkerData): void {
  runFit(message);
  awaitFit();
  port.postMessage('idle');
  collectGarbage();
  // unreferenced: an idle worker's timer keeps nothing alive
  secondCollection = setTimeout(collectGarbage, SECOND_COLLECTION_MS).unref();
}

function runFit(message: BoostingWorkerData | BoostingLeadData | ForestWorkerData | ScoreWorkerData): void {
  if (message.mode === 'score') {
    // blocks of rows scored by every tree, each flagged once written
    scoreTakenBlocks(
      BatchScoring.attach(message.scoring, message.module),
      message.X,
      message.results,
      new Int32Array(message.next),
      new Uint8Array(message.scored),
      message.thread,
    );
    return;
  }
  if (message.mode === 'boosting-lead') {
    // the fit's boosting loop, the calling thread and the other workers following (see leadOnWorker)
    const training = message.training as BoostingTraining;
    port.postMessage(
      leadFit(message, (workspace, operations) => leadBoosting(workspace, operations, training)),
    );
    return;
  }
  if (message.mode === 'boosting') {
    const workspace = new Workspace(
      message.memory,
      message.plan,
      message.mapper,
      message.layout,
      undefined,
      message.module,
    );
    const sequence = currentSequence(workspace);
    port.postMessage('ready');
    // blocks on shared memory between operations; returns when told to stop
    serveOperations(workspace, message.thread, sequence);
    return;
  }
  // no 'ready' here: the calling thread starts on the trees without waiting for this one
  const grower = ForestTreeGrower.joining(message.setup, {
    memory: message.memory,
    plan: message.plan,
    module: message.module,
  });
  const trees = message.trees;
  // a tree's arrays (tens of kilobytes) are copied into the message, not transferred: transferring
  // detaches their buffers, and the first buffer detached in a thread makes V8 throw away the code it
  // compiled for typed arrays there, which is all of the grower's, warmed up or compiled on this fit's
  // first tree alike
  growTakenTrees(grower, new Int32Array(message.next), message.count, (index, tree) =>
    trees.postMessage({ index, tree }),
  );
  trees.postMessage('finished');
}
