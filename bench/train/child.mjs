// One Pipewright fit in its own process (so its peak RSS is its own), for bench/train/run.mjs: reads the
// shared split, fits, predicts the test part, times one-row scoring and prints one JSON line.
// usage: node child.mjs <data dir> <gbdt|random_forest|logistic> <threads> <predictions file> [--profile]
//   [--fits-per-process <k>]: fits k times, each after reading the data again as a run does, and times the
//   last (a long-lived process: the service's retraining, a cross-validation's folds)
//   [--no-warm-up]: fits as soon as the data is read, without waiting for the tree models' workers to
//   end their warm-up (which the fit then stops; a boosting fit is then led by the calling thread). By
//   default it waits, as a run's fit comes after its ingest, validation, split and transform, which
//   outlast the warm-up
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { modelParams } from './params.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const [dir, model, threadsText, predictionsFile, ...flags] = process.argv.slice(2);
const threads = Number(threadsText);
const profileFlag = flags.includes('--profile') ? '--profile' : undefined;
const fitsAt = flags.indexOf('--fits-per-process');
const fits = fitsAt >= 0 ? Math.max(1, Number(flags[fitsAt + 1])) : 1;
const awaitWarmUp = !flags.includes('--no-warm-up');
const {
  enableTrainingProfile,
  trainingProfile,
  NODE_SIZES: nodeSizes,
} = await import(join(root, 'dist', 'ml', 'tree', 'profile.js'));
if (profileFlag === '--profile') enableTrainingProfile();
// as `pipewright run` does: a tree fit's worker threads start while the data is read, and the
// training matrix is made in shared memory for them to read in place
const { trainingWorkersWarmedUp, warmTrainingWorkers } = await import(
  join(root, 'dist', 'ml', 'tree', 'threads.js')
);
const { allocateColumns } = await import(join(root, 'dist', 'ml', 'types.js'));
const warmWorkers = () => {
  if (model !== 'logistic')
    warmTrainingWorkers(threads - 1, model === 'random_forest' ? 'forest' : 'boosting');
};
warmWorkers();
const { GradientBoostingModel } = await import(join(root, 'dist', 'ml', 'models', 'gbdt.js'));
const { RandomForestModel } = await import(join(root, 'dist', 'ml', 'models', 'forest.js'));
const { LogisticRegressionModel } = await import(join(root, 'dist', 'ml', 'models', 'logistic.js'));

const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const scaled = model === 'logistic' ? 'scaled_' : '';

/** A column-major matrix file as the Matrix the estimators take (in shared memory when `shared`). */
function matrix(name, rows, shared = false) {
  const bytes = readFileSync(join(dir, `${scaled}${name}.f64`));
  const values = new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
  const columns = allocateColumns(rows, meta.names.length, shared);
  columns.forEach((column, f) => column.set(values.subarray(f * rows, (f + 1) * rows)));
  return { rows, cols: meta.names.length, names: meta.names, columns };
}

function vector(name) {
  const bytes = readFileSync(join(dir, `${name}.f64`));
  return new Float64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8).slice();
}

/**
 * CPU seconds so far of each thread of this process (Linux's /proc/self/task; utime and stime are in
 * USER_HZ ticks, 100 a second), or undefined where there is no such file.
 */
function threadSeconds() {
  try {
    const seconds = new Map();
    for (const task of readdirSync('/proc/self/task')) {
      const stat = readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds.set(task, (Number(fields[11]) + Number(fields[12])) / 100);
    }
    return seconds;
  } catch {
    return undefined;
  }
}

/**
 * The CPU that the runtime's own threads (V8's optimizing compiler and garbage collector, libuv's pool)
 * used between two threadSeconds snapshots: every thread's but the `fitThreads` busiest, which are the
 * fit's own (the calling thread and its workers).
 */
function runtimeSeconds(before, after, fitThreads) {
  if (!before || !after) return undefined;
  const used = [...after].map(([task, seconds]) => seconds - (before.get(task) ?? 0)).sort((a, b) => b - a);
  return Math.round(used.slice(fitThreads).reduce((sum, seconds) => sum + seconds, 0) * 100) / 100;
}

const params = modelParams(model, threads).pipewright;
const newEstimator = () =>
  model === 'gbdt'
    ? new GradientBoostingModel(params)
    : model === 'random_forest'
      ? new RandomForestModel(params)
      : new LogisticRegressionModel(params);

// the fits before the last one, as earlier runs of a long-lived process (--fits-per-process)
const firstFits = [];
for (let fit = 1; fit < fits; fit++) {
  const X = matrix('X_train', meta.trainRows, threads > 1);
  const started = performance.now();
  await newEstimator().fit(X, vector('y_train'));
  firstFits.push((performance.now() - started) / 1000);
  if (profileFlag) enableTrainingProfile();
  warmWorkers();
}

const trainX = matrix('X_train', meta.trainRows, threads > 1);
const trainY = vector('y_train');
const testX = matrix('X_test', meta.testRows);
const estimator = newEstimator();
let started = performance.now();
if (awaitWarmUp) await trainingWorkersWarmedUp();
const warmUpWaitSeconds = (performance.now() - started) / 1000;

const threadsBefore = threadSeconds();
started = performance.now();
await estimator.fit(trainX, trainY);
const fitSeconds = (performance.now() - started) / 1000;
const runtimeCpuSeconds = runtimeSeconds(threadsBefore, threadSeconds(), model === 'logistic' ? 1 : threads);
const profile = trainingProfile.enabled ? { ...trainingProfile.seconds } : undefined;
// the node phases' seconds by node size: { histograms: { 'under 16,384 rows': s, ... }, ... }
const profileByNodeSize = trainingProfile.enabled
  ? Object.fromEntries(
      Object.entries(trainingProfile.byNodeSize).map(([phase, seconds]) => [
        phase,
        Object.fromEntries(nodeSizes.map(({ label }, size) => [label, seconds[size]])),
      ]),
    )
  : undefined;

started = performance.now();
const predictions = estimator.predict(testX);
const predictSeconds = (performance.now() - started) / 1000;
writeFileSync(
  predictionsFile,
  new Uint8Array(predictions.buffer, predictions.byteOffset, predictions.byteLength),
);

// one row at a time, as the prediction service scores it (the rows cycle so branches are not memorised)
const sample = Array.from({ length: 64 }, (_, i) =>
  Float64Array.from(testX.columns, (column) => column[(i * 7919) % testX.rows]),
);
const out = new Float64Array(1);
let sink = 0;
for (let i = 0; i < 20_000; i++) sink += estimator.predictRow(sample[i & 63], out);
const calls = 200_000;
started = performance.now();
for (let i = 0; i < calls; i++) sink += estimator.predictRow(sample[i & 63], out);
const oneRowMicroseconds = ((performance.now() - started) * 1000) / calls;

process.stdout.write(
  `${JSON.stringify({ fit_s: fitSeconds, first_fits_s: firstFits, warm_up_wait_s: warmUpWaitSeconds, predict_s: predictSeconds, one_row_us: oneRowMicroseconds, runtime_cpu_s: runtimeCpuSeconds, checksum: Number.isFinite(sink), profile, profile_by_node_size: profileByNodeSize })}\n`,
);
