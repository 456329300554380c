// Cross-validation as `pipewright run` does it on small data, for bench/folds/run.mjs: one process fits
// a model on each fold's training rows and scores its held-out rows, one fold after another, and prints
// one JSON line (the seconds of every fit and its scoring, the mean ROC-AUC over the folds).
// usage: node child.mjs <data dir> <gbdt|random_forest> <threads> [<checkout root>]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { modelParams } from '../train/params.mjs';

const [dir, model, threadsText, checkout] = process.argv.slice(2);
const root = checkout ?? fileURLToPath(new URL('../../', import.meta.url));
const threads = Number(threadsText);
// as `pipewright run` does: the tree engine's workers start while the data is read
const { warmTrainingWorkers } = await import(join(root, 'dist', 'ml', 'tree', 'threads.js'));
warmTrainingWorkers(threads - 1);
const { allocateColumns } = await import(join(root, 'dist', 'ml', 'types.js'));
const { rocAuc } = await import(join(root, 'dist', 'ml', 'metrics.js'));
const { GradientBoostingModel } = await import(join(root, 'dist', 'ml', 'models', 'gbdt.js'));
const { RandomForestModel } = await import(join(root, 'dist', 'ml', 'models', 'forest.js'));

const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
const read = (file, Type) => {
  const bytes = readFileSync(join(dir, file));
  return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / Type.BYTES_PER_ELEMENT);
};
const values = read('X.f64', Float64Array);
const y = read('y.f64', Float64Array);
const assignment = read('folds.i32', Int32Array);
const { rows, names } = meta;

/** Rows `indices` as a matrix; in shared memory on several threads, as the pipeline's transform makes it. */
function matrixOf(indices, shared) {
  const columns = allocateColumns(indices.length, names.length, shared);
  columns.forEach((column, f) => {
    for (let i = 0; i < indices.length; i++) column[i] = values[f * rows + indices[i]];
  });
  return { rows: indices.length, cols: names.length, names, columns };
}

const fits = [];
const scores = [];
const started = performance.now();
for (let repeat = 0; repeat < meta.repeats; repeat++) {
  for (let fold = 0; fold < meta.folds; fold++) {
    const train = [];
    const test = [];
    for (let i = 0; i < rows; i++) (assignment[repeat * rows + i] === fold ? test : train).push(i);
    const foldStarted = performance.now();
    const params = modelParams(model, threads).pipewright;
    const estimator = model === 'gbdt' ? new GradientBoostingModel(params) : new RandomForestModel(params);
    await estimator.fit(
      matrixOf(train, threads > 1),
      Float64Array.from(train, (i) => y[i]),
    );
    const predictions = estimator.predict(matrixOf(test, false));
    fits.push((performance.now() - foldStarted) / 1000);
    scores.push(
      rocAuc(
        Float64Array.from(test, (i) => y[i]),
        predictions,
      ),
    );
  }
}
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({ seconds, fits, roc_auc: scores.reduce((sum, score) => sum + score, 0) / scores.length }),
);
