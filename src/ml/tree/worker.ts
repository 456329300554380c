// Entry point of a tree-learning worker thread: takes its share of the binning, then either does its
// share of boosting operations on shared memory (histogram columns, pieces of rows) or grows whole
// forest trees by index. Started and stopped by threads.ts.
import { errors } from '../../core/errors.js';
import { parentPort, workerData } from 'node:worker_threads';
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

const port = parentPort;
if (!port) throw new errors.PW_INTERNAL('worker.js runs as a worker thread only');

// started early (while the data is binned); the work follows in the first message
port.once('message', (work: BoostingWorkerData | ForestWorkerData) => {
  if (work.mode === 'boosting') {
    const workspace = new Workspace(work.memory, work.plan, work.mapper, work.layout, undefined, work.module);
    const sequence = currentSequence(workspace);
    port.postMessage('ready');
    // blocks on shared memory between operations; returns when told to stop
    serveOperations(workspace, work.thread, sequence);
    port.close();
    return;
  }
  const grower = new ForestTreeGrower(work.setup);
  port.postMessage('ready');
  growTakenTrees(grower, new Int32Array(work.next), work.count, (index, tree) => {
    const buffers = [
      tree.feature.buffer,
      tree.value.buffer,
      tree.missingLeft.buffer,
      tree.left.buffer,
      tree.gain.buffer,
    ] as ArrayBuffer[];
    port.postMessage({ index, tree }, buffers);
  });
  port.postMessage('finished');
});
// the data being binned when this thread started: take a share of it first
const binning = workerData as SharedBinningJob | null;
if (binning) binSharedPart(binning, false);
port.postMessage('booted');
