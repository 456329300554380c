// Local accuracy on real trained models: for every model type and task, the expected output plus the
// SHAP values of a row is the model's raw output for it (log-odds, class scores, averaged probability, value).
import { describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../../src/core/errors.js';
import { createModelExplainer } from '../../../src/ml/explain/estimator.js';
import { RandomForestModel } from '../../../src/ml/models/forest.js';
import { GradientBoostingModel } from '../../../src/ml/models/gbdt.js';
import { LogisticRegressionModel } from '../../../src/ml/models/logistic.js';
import type { Estimator, Matrix } from '../../../src/ml/types.js';
import { classification, matrixOf, regression, row, withMissing, type Dataset } from '../trees.js';

/** Three classes cut from the binary set's first two features. */
function threeClasses(rows: number): Dataset {
  const { X } = classification(rows, 5);
  const y = Float64Array.from(X.columns[0], (x0, i) => {
    const score = x0 + X.columns[1][i];
    return score < 3.5 ? 0 : score < 6.5 ? 1 : 2;
  });
  return { X, y };
}

/** The data set with a tenth of every column's values missing, as rows to explain. */
function withHoles(X: Matrix): Matrix {
  return matrixOf(X.columns.map((column, f) => column.map((x, i) => ((i + 3 * f) % 10 === 0 ? NaN : x))));
}

/** The raw output the explanation must add up to: o's score for every row, row after row. */
function rawOutputs(model: Estimator, X: Matrix): Float64Array {
  if (model instanceof GradientBoostingModel) return model.decisionFunction(X);
  if (model instanceof RandomForestModel) return model.predict(X);
  const state = (model.toJSON().state ?? {}) as { coefficients: number[][]; intercepts: number[] };
  const outputs = state.intercepts.length;
  const raw = new Float64Array(X.rows * outputs);
  for (let i = 0; i < X.rows; i++)
    for (let o = 0; o < outputs; o++) {
      let score = state.intercepts[o];
      for (let f = 0; f < X.cols; f++) {
        const x = X.columns[f][i];
        if (x === x) score += state.coefficients[o][f] * x;
      }
      raw[i * outputs + o] = score;
    }
  return raw;
}

function expectLocalAccuracy(model: Estimator, X: Matrix, space: string): void {
  const explainer = createModelExplainer(model.toJSON());
  expect(explainer.space).toBe(space);
  expect(explainer.features).toBe(X.cols);
  const raw = rawOutputs(model, X);
  const outputs = explainer.outputs;
  expect(raw.length).toBe(X.rows * outputs);
  const phi = new Float64Array(outputs * X.cols);
  let moved = 0;
  for (let i = 0; i < X.rows; i++) {
    explainer.explainRow(row(X, i), phi);
    for (let o = 0; o < outputs; o++) {
      let total = explainer.base[o];
      for (let f = 0; f < X.cols; f++) total += phi[o * X.cols + f];
      expect(Math.abs(total - raw[i * outputs + o])).toBeLessThan(1e-6);
      if (Math.abs(total - explainer.base[o]) > 1e-3) moved++;
    }
  }
  // the values are not all zero: the rows' outputs differ from the base
  expect(moved).toBeGreaterThan(X.rows / 2);
}

describe('model explanations add up to the raw output', () => {
  it('gradient boosting, binary, in log-odds, with missing values where the trees learned their direction', async () => {
    const train = withMissing(2000);
    const model = await new GradientBoostingModel({ max_iter: 40, threads: 1 }).fit(train.X, train.y);
    expectLocalAccuracy(model, withMissing(300, 9).X, 'log_odds');
    const wide = classification(2000);
    const wideModel = await new GradientBoostingModel({ max_iter: 40, threads: 1 }).fit(wide.X, wide.y);
    expectLocalAccuracy(wideModel, withHoles(classification(300, 8).X), 'log_odds');
  });

  it('gradient boosting, multiclass, one set of values per class score', async () => {
    const train = threeClasses(1500);
    const model = await new GradientBoostingModel({ max_iter: 20, threads: 1 }).fit(train.X, train.y);
    expectLocalAccuracy(model, withHoles(threeClasses(200).X), 'class_scores');
  });

  it('gradient boosting, regression, in the target unit', async () => {
    const train = regression(1500);
    const model = await new GradientBoostingModel({
      loss: 'squared_error',
      max_iter: 40,
      subsample: 0.7,
      threads: 1,
    }).fit(train.X, train.y);
    expectLocalAccuracy(model, withHoles(regression(200, 4).X), 'value');
  });

  it('random forest, binary, as the averaged probability; and regression', async () => {
    const train = withMissing(1500);
    const model = await new RandomForestModel({ n_estimators: 20, threads: 1 }).fit(train.X, train.y);
    expectLocalAccuracy(model, withMissing(200, 9).X, 'probability');
    const values = regression(1000);
    const regressor = await new RandomForestModel({
      n_estimators: 10,
      criterion: 'squared_error',
      max_depth: 8,
      threads: 1,
    }).fit(values.X, values.y);
    expectLocalAccuracy(regressor, withHoles(regression(200, 4).X), 'value');
  });

  it('logistic regression, binary in log-odds and multiclass in class scores', async () => {
    const binary = classification(1000);
    const model = new LogisticRegressionModel().fit(binary.X, binary.y);
    expectLocalAccuracy(model, withHoles(classification(200, 6).X), 'log_odds');
    const multi = threeClasses(1000);
    const multiclass = new LogisticRegressionModel().fit(multi.X, multi.y);
    expectLocalAccuracy(multiclass, withHoles(threeClasses(200).X), 'class_scores');
  });

  it('logistic regression: a column at its mean gets nothing, and the base is the mean row score', () => {
    const { X, y } = classification(500);
    const model = new LogisticRegressionModel().fit(X, y);
    const means = X.columns.map((column) => column.reduce((sum, x) => sum + x, 0) / X.rows);
    const explainer = createModelExplainer(model.toJSON(), { columnMeans: means });
    const raw = rawOutputs(model, X);
    const meanRaw = raw.reduce((sum, x) => sum + x, 0) / X.rows;
    expect(Math.abs(explainer.base[0] - meanRaw)).toBeLessThan(1e-9);
    const phi = new Float64Array(X.cols);
    const atMean = row(X, 0);
    atMean[2] = means[2];
    explainer.explainRow(atMean, phi);
    expect(Math.abs(phi[2])).toBe(0);
  });

  it('gives the same values by quadrature and by EXTEND / UNWIND on deep real trees', async () => {
    const { X, y } = withMissing(2000);
    const wide = classification(2000);
    const models = [
      await new GradientBoostingModel({
        max_iter: 10,
        max_leaf_nodes: 63,
        min_samples_leaf: 2,
        threads: 1,
      }).fit(wide.X, wide.y),
      await new RandomForestModel({ n_estimators: 5, max_depth: 16, threads: 1 }).fit(X, y),
    ];
    for (const model of models) {
      const json = model.toJSON();
      const quadrature = createModelExplainer(json, { algorithm: 'quadrature' });
      const paths = createModelExplainer(json, { algorithm: 'extend-unwind' });
      const tables = createModelExplainer(json, { algorithm: 'table' });
      const rows =
        model instanceof RandomForestModel ? withMissing(100, 9).X : withHoles(classification(100, 8).X);
      const first = new Float64Array(rows.cols);
      const second = new Float64Array(rows.cols);
      const third = new Float64Array(rows.cols);
      for (let i = 0; i < rows.rows; i++) {
        quadrature.explainRow(row(rows, i), first);
        paths.explainRow(row(rows, i), second);
        tables.explainRow(row(rows, i), third);
        for (let f = 0; f < rows.cols; f++) expect(Math.abs(first[f] - second[f])).toBeLessThan(1e-9);
        for (let f = 0; f < rows.cols; f++) expect(Math.abs(first[f] - third[f])).toBeLessThan(1e-9);
      }
    }
  });

  it('refuses a tree model saved before nodes recorded their cover', async () => {
    const { X, y } = classification(300);
    const json = (await new GradientBoostingModel({ max_iter: 3, threads: 1 }).fit(X, y)).toJSON();
    const state = json.state as { trees: { cover?: string } };
    delete state.trees.cover;
    let error: PipewrightError | undefined;
    try {
      createModelExplainer(json);
    } catch (caught) {
      error = caught as PipewrightError;
    }
    expect(error?.code).toBe('PW_EXPLAIN_UNAVAILABLE');
  });
});
