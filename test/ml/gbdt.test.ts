// Histogram gradient boosting: learning, exact JSON round trips, the same model on any thread count,
// missing values, early stopping, class weights, determinism, regression, softmax and refusals.
// Threads > 1 start the compiled worker in dist/ (`npm test` builds it first).
import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/ml/metrics.js';
import { GradientBoostingModel } from '../../src/ml/models/gbdt.js';
import type { EstimatorJSON } from '../../src/ml/types.js';
import {
  classification,
  matrixOf,
  mean,
  meanSquaredError,
  regression,
  row,
  slice,
  variance,
  withMissing,
} from './trees.js';

const data = classification(6000);
const train = slice(data, 0, 4500);
const test = slice(data, 4500, 6000);

function roundTrip(json: EstimatorJSON): EstimatorJSON {
  return JSON.parse(JSON.stringify(json)) as EstimatorJSON;
}

describe('GradientBoostingModel', () => {
  it('learns a noisy rule: high ROC-AUC on held-out rows, far above chance', async () => {
    const model = await new GradientBoostingModel({ max_iter: 60, early_stopping: false, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const auc = rocAuc(test.y, model.predict(test.X));
    expect(auc).toBeGreaterThan(0.93);
    const importance = model.featureImportance();
    expect(importance.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // x0 and x1 carry the rule, x2 is noise
    expect(importance[0]).toBeGreaterThan(importance[2]);
    expect(importance[1]).toBeGreaterThan(importance[2]);
  });

  it('gives identical predictions after a JSON round trip, for whole matrices and single rows', async () => {
    const model = await new GradientBoostingModel({ max_iter: 30, early_stopping: false, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const restored = GradientBoostingModel.fromJSON(roundTrip(model.toJSON()));
    const expected = model.predict(test.X);
    expect(Array.from(restored.predict(test.X))).toEqual(Array.from(expected));
    const out = new Float64Array(1);
    for (let i = 0; i < 50; i++) {
      expect(restored.predictRow(row(test.X, i), out)).toBe(expected[i]);
      expect(out[0]).toBe(expected[i]);
    }
    expect(Array.from(restored.featureImportance())).toEqual(Array.from(model.featureImportance()));
  });

  it('builds a bit-identical model on one thread and on two', async () => {
    // enough rows that boosting takes a worker (with early stopping's tenth set aside too) and that
    // histograms, gathers and gradient passes are all shared with it
    const large = classification(80_000, 9);
    for (const params of [
      { max_iter: 12, early_stopping: false },
      { max_iter: 12, early_stopping: true, subsample: 0.8, colsample: 0.8 },
      { max_iter: 12, early_stopping: false, loss: 'squared_error' },
    ] as const) {
      const one = await new GradientBoostingModel({ ...params, threads: 1 }).fit(large.X, large.y);
      const two = await new GradientBoostingModel({ ...params, threads: 2 }).fit(large.X, large.y);
      expect(JSON.stringify(two.toJSON().state)).toBe(JSON.stringify(one.toJSON().state));
    }
  });

  it('repeats exactly for a seed, and differs for another seed when rows are subsampled', async () => {
    const params = { max_iter: 15, early_stopping: false, subsample: 0.7, threads: 1 } as const;
    const first = await new GradientBoostingModel({ ...params, random_state: 7 }).fit(train.X, train.y);
    const again = await new GradientBoostingModel({ ...params, random_state: 7 }).fit(train.X, train.y);
    const other = await new GradientBoostingModel({ ...params, random_state: 8 }).fit(train.X, train.y);
    expect(JSON.stringify(again.toJSON())).toBe(JSON.stringify(first.toJSON()));
    expect(JSON.stringify(other.toJSON().state)).not.toBe(JSON.stringify(first.toJSON().state));
  });

  it('sends a missing value at prediction time the way training learned (missing rows were positives)', async () => {
    const missing = withMissing(4000);
    const model = await new GradientBoostingModel({ max_iter: 40, early_stopping: false, threads: 1 }).fit(
      missing.X,
      missing.y,
    );
    expect(model.predictRow(Float64Array.of(NaN, 0.5))).toBeGreaterThan(0.9);
    expect(model.predictRow(Float64Array.of(0.2, 0.5))).toBeLessThan(0.1);
    expect(model.predictRow(Float64Array.of(0.8, 0.5))).toBeGreaterThan(0.9);
  });

  it('scores a missing value in a feature that never had one in training (it follows the larger side)', async () => {
    const model = await new GradientBoostingModel({ max_iter: 20, early_stopping: false, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const values = row(test.X, 0);
    values[0] = NaN;
    const probability = model.predictRow(values);
    expect(probability).toBeGreaterThanOrEqual(0);
    expect(probability).toBeLessThanOrEqual(1);
    const batch = model.predict(
      matrixOf(test.X.columns.map((column, f) => (f === 0 ? Float64Array.of(NaN) : column.slice(0, 1)))),
    );
    expect(batch[0]).toBe(probability);
  });

  it('stops early once the validation loss stops improving', async () => {
    const model = await new GradientBoostingModel({
      max_iter: 500,
      learning_rate: 0.5,
      early_stopping: true,
      n_iter_no_change: 5,
      threads: 1,
    }).fit(data.X, data.y);
    expect(model.iterations).toBeLessThan(500);
    expect(model.validationLoss).toHaveLength(model.iterations + 1);
    // the last n_iter_no_change iterations did not beat the loss just before them
    const losses = model.validationLoss;
    const reference = losses[losses.length - 6];
    expect(Math.min(...losses.slice(-5))).toBeGreaterThanOrEqual(reference - 1e-7);
    const withoutStopping = await new GradientBoostingModel({
      max_iter: 40,
      early_stopping: false,
      threads: 1,
    }).fit(train.X, train.y);
    expect(withoutStopping.iterations).toBe(40);
    expect(withoutStopping.validationLoss).toEqual([]);
  });

  it('uses a given validation part for early stopping', async () => {
    const model = await new GradientBoostingModel({
      max_iter: 300,
      learning_rate: 0.5,
      early_stopping: true,
      n_iter_no_change: 3,
      threads: 1,
    }).fit(train.X, train.y, { validation: { X: test.X, y: test.y } });
    expect(model.iterations).toBeLessThan(300);
  });

  it('raises the predicted probabilities of the class given more weight', async () => {
    const plain = await new GradientBoostingModel({ max_iter: 20, early_stopping: false, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const weighted = await new GradientBoostingModel({
      max_iter: 20,
      early_stopping: false,
      threads: 1,
      class_weight: { 0: 1, 1: 8 },
    }).fit(train.X, train.y);
    expect(mean(weighted.predict(test.X))).toBeGreaterThan(mean(plain.predict(test.X)) + 0.05);
    const balanced = await new GradientBoostingModel({
      max_iter: 20,
      early_stopping: false,
      threads: 1,
      class_weight: 'balanced',
    }).fit(train.X, train.y);
    expect(JSON.stringify(balanced.toJSON().state)).not.toBe(JSON.stringify(plain.toJSON().state));
  });

  it('reduces the squared error of a regression far below the variance of the target', async () => {
    const regressionData = regression(4000);
    const fitPart = slice(regressionData, 0, 3000);
    const heldOut = slice(regressionData, 3000, 4000);
    const model = await new GradientBoostingModel({
      loss: 'squared_error',
      max_iter: 150,
      early_stopping: false,
      threads: 1,
    }).fit(fitPart.X, fitPart.y);
    expect(meanSquaredError(heldOut.y, model.predict(heldOut.X))).toBeLessThan(0.05 * variance(heldOut.y));
    expect(model.outputs).toBe(1);
  });

  it('scores a matrix of several prediction blocks (8,192 rows each) row for row as predictRow does, for one output and three', async () => {
    // 20,000 rows (the test rows tiled, some values missing): the last block is a partial one
    const rows = 20_000;
    const X = matrixOf(
      test.X.columns.map((column, f) =>
        Float64Array.from({ length: rows }, (_, i) => (i % (97 + f) === 0 ? NaN : column[i % column.length])),
      ),
    );
    const three = Float64Array.from(train.y, (label, i) => (label === 1 ? 2 : i % 3 === 0 ? 1 : 0));
    for (const y of [train.y, three]) {
      const model = await new GradientBoostingModel({ max_iter: 20, early_stopping: false, threads: 1 }).fit(
        train.X,
        y,
      );
      const outputs = model.outputs;
      const predictions = model.predict(X);
      const out = new Float64Array(outputs);
      // the edges of every block, and rows in between
      for (const i of [0, 1, 8191, 8192, 8193, 12_345, 16_383, 16_384, rows - 1]) {
        model.predictRow(row(X, i), out);
        expect(Array.from(out)).toEqual(Array.from(predictions.subarray(i * outputs, (i + 1) * outputs)));
      }
    }
  });

  it('learns three classes with softmax and returns three probabilities a row', async () => {
    const rows = 3000;
    const x0 = Float64Array.from({ length: rows }, (_, i) => ((i * 7919) % 1000) / 100);
    const x1 = Float64Array.from({ length: rows }, (_, i) => ((i * 104729) % 997) / 997);
    const y = Float64Array.from(x0, (value) => (value < 3 ? 0 : value < 6.5 ? 1 : 2));
    const X = matrixOf([x0, x1]);
    const model = await new GradientBoostingModel({ max_iter: 30, early_stopping: false, threads: 1 }).fit(
      X,
      y,
    );
    expect(model.outputs).toBe(3);
    const probabilities = model.predict(X);
    expect(probabilities).toHaveLength(rows * 3);
    let correct = 0;
    for (let i = 0; i < rows; i++) {
      const p = probabilities.subarray(i * 3, i * 3 + 3);
      expect(p[0] + p[1] + p[2]).toBeCloseTo(1, 12);
      if (p.indexOf(Math.max(...p)) === y[i]) correct++;
    }
    expect(correct / rows).toBeGreaterThan(0.97);
    const out = new Float64Array(3);
    expect(model.predictRow(row(X, 0), out)).toBe(0);
    expect(Array.from(out)).toEqual(Array.from(probabilities.subarray(0, 3)));
    const restored = GradientBoostingModel.fromJSON(roundTrip(model.toJSON()));
    expect(Array.from(restored.predict(X))).toEqual(Array.from(probabilities));
  });

  it('grows depth-wise trees when asked, bounded by max_depth', async () => {
    const model = await new GradientBoostingModel({
      growth: 'depthwise',
      max_depth: 3,
      max_leaf_nodes: null,
      max_iter: 20,
      early_stopping: false,
      threads: 1,
    }).fit(train.X, train.y);
    expect(rocAuc(test.y, model.predict(test.X))).toBeGreaterThan(0.9);
    const trees = (model.toJSON().state as { trees: { nodes: number; trees: number } }).trees;
    // a depth-3 tree has at most 15 nodes
    expect(trees.nodes).toBeLessThanOrEqual(15 * trees.trees);
  });

  it('refuses to predict, score a row, save or explain before it is fitted', () => {
    const model = new GradientBoostingModel();
    const notFitted = expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' });
    expect(() => model.predict(test.X)).toThrow(notFitted);
    expect(() => model.predictRow(row(test.X, 0))).toThrow(notFitted);
    expect(() => model.toJSON()).toThrow(notFitted);
    expect(() => model.featureImportance()).toThrow(notFitted);
  });

  it('refuses unknown or out-of-range parameters, naming the parameter', () => {
    expect(() => new GradientBoostingModel({ learning_rat: 0.1 } as never)).toThrow(
      /model\.params\.learning_rat/,
    );
    expect(() => new GradientBoostingModel({ max_bins: 300 })).toThrow(
      expect.objectContaining({ code: 'PW_CONFIG_INVALID' }),
    );
    expect(() => new GradientBoostingModel({ max_leaf_nodes: null, max_depth: null })).toThrow(
      /max_leaf_nodes/,
    );
    // other libraries' names for the same settings are accepted
    expect(new GradientBoostingModel({ seed: 3, min_child_weight: 2 } as never).params).toMatchObject({
      random_state: 3,
      min_hessian_leaf: 2,
    });
  });

  it('refuses damaged saved state instead of predicting from it', async () => {
    const model = await new GradientBoostingModel({ max_iter: 5, early_stopping: false, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const json = roundTrip(model.toJSON());
    const state = json.state as { trees: { left: string } };
    const left = Buffer.from(state.trees.left, 'base64');
    left.writeInt32LE(1_000_000, 0);
    state.trees.left = left.toString('base64');
    expect(() => GradientBoostingModel.fromJSON(json)).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
    expect(() => GradientBoostingModel.fromJSON({ ...json, kind: 'random_forest' })).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
  });

  it('refuses labels that are not class indices for log-loss', async () => {
    const labels = train.y.slice();
    labels[3] = 0.5;
    await expect(new GradientBoostingModel({ threads: 1 }).fit(train.X, labels)).rejects.toThrow(
      expect.objectContaining({ code: 'PW_USAGE' }),
    );
  });
});
