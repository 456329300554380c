// Random forest on histogram trees: learning with gini and entropy, exact JSON round trips, the same
// forest on any thread count, seeds, missing values, class weights, regression and refusals.
// Threads > 1 start the compiled worker in dist/ (`npm test` builds it first).
import { describe, expect, it } from 'vitest';
import { rocAuc } from '../../src/ml/metrics.js';
import { RandomForestModel } from '../../src/ml/models/forest.js';
import type { EstimatorJSON } from '../../src/ml/types.js';
import {
  classification,
  mean,
  meanSquaredError,
  regression,
  row,
  slice,
  variance,
  withMissing,
} from './trees.js';

const data = classification(5000);
const train = slice(data, 0, 4000);
const test = slice(data, 4000, 5000);

function roundTrip(json: EstimatorJSON): EstimatorJSON {
  return JSON.parse(JSON.stringify(json)) as EstimatorJSON;
}

describe('RandomForestModel', () => {
  it('learns a noisy rule with gini and with entropy splits', async () => {
    for (const criterion of ['gini', 'entropy'] as const) {
      const model = await new RandomForestModel({
        n_estimators: 30,
        max_depth: 10,
        criterion,
        threads: 1,
      }).fit(train.X, train.y);
      expect(rocAuc(test.y, model.predict(test.X))).toBeGreaterThan(0.92);
    }
  });

  it('predicts the share of trees voting for class 1, between 0 and 1, the same row by row', async () => {
    const model = await new RandomForestModel({ n_estimators: 20, threads: 1 }).fit(train.X, train.y);
    const predictions = model.predict(test.X);
    for (let i = 0; i < 40; i++) {
      expect(predictions[i]).toBeGreaterThanOrEqual(0);
      expect(predictions[i]).toBeLessThanOrEqual(1);
      expect(model.predictRow(row(test.X, i))).toBe(predictions[i]);
    }
    const importance = model.featureImportance();
    expect(importance.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(importance[0]).toBeGreaterThan(importance[2]);
  });

  it('scores single rows of a large forest exactly as whole matrices, missing values included', async () => {
    // deep trees on many rows: enough nodes for the compact one-row walk
    const large = classification(12_000, 4);
    for (let i = 0; i < large.X.rows; i += 9) large.X.columns[1][i] = NaN;
    const model = await new RandomForestModel({ n_estimators: 40, max_features: null, threads: 1 }).fit(
      large.X,
      large.y,
    );
    expect((model.toJSON().state as { trees: { nodes: number } }).trees.nodes).toBeGreaterThan(40_000);
    const rows = slice(large, 0, 300);
    for (let i = 0; i < 300; i += 7) rows.X.columns[0][i] = NaN;
    const predictions = model.predict(rows.X);
    for (let i = 0; i < 300; i++) expect(model.predictRow(row(rows.X, i))).toBe(predictions[i]);
  });

  it('gives identical predictions after a JSON round trip', async () => {
    const model = await new RandomForestModel({ n_estimators: 15, max_depth: 8, threads: 1 }).fit(
      train.X,
      train.y,
    );
    const restored = RandomForestModel.fromJSON(roundTrip(model.toJSON()));
    expect(Array.from(restored.predict(test.X))).toEqual(Array.from(model.predict(test.X)));
    expect(Array.from(restored.featureImportance())).toEqual(Array.from(model.featureImportance()));
  });

  it('grows the same forest on one thread and on two', async () => {
    const params = { n_estimators: 9, max_depth: 8 } as const;
    const one = await new RandomForestModel({ ...params, threads: 1 }).fit(data.X, data.y);
    const two = await new RandomForestModel({ ...params, threads: 2 }).fit(data.X, data.y);
    expect(JSON.stringify(two.toJSON().state)).toBe(JSON.stringify(one.toJSON().state));
  });

  it('repeats exactly for a seed and differs for another', async () => {
    const params = { n_estimators: 8, max_depth: 6, threads: 1 } as const;
    const first = await new RandomForestModel({ ...params, random_state: 3 }).fit(train.X, train.y);
    const again = await new RandomForestModel({ ...params, random_state: 3 }).fit(train.X, train.y);
    const other = await new RandomForestModel({ ...params, random_state: 4 }).fit(train.X, train.y);
    expect(JSON.stringify(again.toJSON())).toBe(JSON.stringify(first.toJSON()));
    expect(JSON.stringify(other.toJSON().state)).not.toBe(JSON.stringify(first.toJSON().state));
  });

  it('sends a missing value at prediction time the way training learned', async () => {
    const missing = withMissing(3000);
    const model = await new RandomForestModel({ n_estimators: 20, max_features: null, threads: 1 }).fit(
      missing.X,
      missing.y,
    );
    expect(model.predictRow(Float64Array.of(NaN, 0.5))).toBeGreaterThan(0.9);
    expect(model.predictRow(Float64Array.of(0.2, 0.5))).toBeLessThan(0.1);
  });

  it('raises the predicted probabilities of the class given more weight', async () => {
    const params = { n_estimators: 15, max_depth: 4, threads: 1 } as const;
    const plain = await new RandomForestModel(params).fit(train.X, train.y);
    const weighted = await new RandomForestModel({ ...params, class_weight: { 0: 1, 1: 6 } }).fit(
      train.X,
      train.y,
    );
    expect(mean(weighted.predict(test.X))).toBeGreaterThan(mean(plain.predict(test.X)) + 0.05);
  });

  it('grows trees without bootstrap and with a leaf limit', async () => {
    const model = await new RandomForestModel({
      n_estimators: 5,
      bootstrap: false,
      max_leaf_nodes: 8,
      threads: 1,
    }).fit(train.X, train.y);
    const trees = (model.toJSON().state as { trees: { nodes: number; trees: number } }).trees;
    // 8 leaves make 15 nodes
    expect(trees.nodes).toBeLessThanOrEqual(15 * trees.trees);
    expect(rocAuc(test.y, model.predict(test.X))).toBeGreaterThan(0.85);
  });

  it('reduces the squared error of a regression with criterion squared_error', async () => {
    const regressionData = regression(3000);
    const fitPart = slice(regressionData, 0, 2400);
    const heldOut = slice(regressionData, 2400, 3000);
    const model = await new RandomForestModel({
      criterion: 'squared_error',
      n_estimators: 30,
      max_features: null,
      threads: 1,
    }).fit(fitPart.X, fitPart.y);
    expect(meanSquaredError(heldOut.y, model.predict(heldOut.X))).toBeLessThan(0.05 * variance(heldOut.y));
  });

  it('refuses to predict before it is fitted', () => {
    const model = new RandomForestModel();
    const notFitted = expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' });
    expect(() => model.predict(test.X)).toThrow(notFitted);
    expect(() => model.predictRow(row(test.X, 0))).toThrow(notFitted);
    expect(() => model.toJSON()).toThrow(notFitted);
  });

  it('refuses more than two classes and unknown parameters, saying what to do', async () => {
    const labels = train.y.slice();
    labels[0] = 2;
    await expect(new RandomForestModel({ threads: 1 }).fit(train.X, labels)).rejects.toThrow(
      expect.objectContaining({ code: 'PW_USAGE', hint: expect.stringMatching(/gbdt/) }),
    );
    expect(() => new RandomForestModel({ n_trees: 10 } as never)).toThrow(/model\.params\.n_trees/);
    expect(() => new RandomForestModel({ max_features: 'half' as never })).toThrow(
      expect.objectContaining({ code: 'PW_CONFIG_INVALID' }),
    );
  });
});
