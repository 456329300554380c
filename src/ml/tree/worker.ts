// Entry point of a tree-learning worker thread: takes its share of the binning, then either does its
// share of boosting operations on shared memory (pieces of histograms and of rows) or grows whole
// forest trees by index; then waits for the next fit (a process that fits again, as cross-validation
// does, takes it back from the pool of idle workers). Started, pooled and stopped by threads.ts.
import { errors } from '../../core/errors.js';
import { parentPort } from 'node:worker_threads';
import { binSharedPart, type SharedBinningJob } from './binning.js';
import { ForestTreeGrower } from './forest-trees.js';
import {
  currentSequence,
  growTakenTrees,
  serveOperations,
  type BoostingWorkerData,
  type ForestWorkerData,
} from './threads.js';
import { Workspace } from './workspace.js';

if (!parentPort) throw new errors.PW_INTERNAL('worker.js runs as a worker thread only');
const port = parentPort;

/**
 * Waits for a fit: the shared binning comes first (null when there is none), the tree work after it.
 * Listening again before reporting 'idle' means no message of the next fit finds the port deaf.
 */
function awaitFit(): void {
  port.once('message', (binning: SharedBinningJob | null) => {
    // take a share of the data being binned first
    if (binning) binSharedPart(binning, false);
    port.once('message', work);
    port.postMessage('booted');
  });
}
awaitFit();

function work(message: BoostingWorkerData | ForestWorkerData): void {
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
    awaitFit();
    port.postMessage('idle');
    return;
  }
  // no 'ready' here: the calling thread starts on the trees without waiting for this one
  const grower = new ForestTreeGrower(message.setup);
  const trees = message.trees;
  growTakenTrees(grower, new Int32Array(message.next), message.count, (index, tree) => {
    const buffers = [
      tree.feature.buffer,
      tree.value.buffer,
      tree.missingLeft.buffer,
      tree.left.buffer,
      tree.gain.buffer,
    ] as ArrayBuffer[];
    if (tree.cover) buffers.push(tree.cover.buffer as ArrayBuffer);
    trees.postMessage({ index, tree }, buffers);
  });
  trees.postMessage('finished');
  awaitFit();
  port.postMessage('idle');
}
