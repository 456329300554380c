// Coefficients are compared with scikit-learn 1.2.1 LogisticRegression(C=..., tol=1e-10, max_iter=1000)
// fitted once on the same deterministic data (x1 = sin(i), x2 = cos(1.7 i), x3 = ((37 i) mod 11) / 10).
import { describe, expect, it } from 'vitest';
import { LogisticRegressionModel } from '../../src/ml/models/logistic.js';
import type { Matrix } from '../../src/ml/types.js';

const n = 200;
const x1 = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
const x2 = Float64Array.from({ length: n }, (_, i) => Math.cos(i * 1.7));
const x3 = Float64Array.from({ length: n }, (_, i) => ((i * 37) % 11) / 10);
const X: Matrix = { rows: n, cols: 3, columns: [x1, x2, x3], names: ['x1', 'x2', 'x3'] };
const signal = (i: number) => Math.sin(i * 0.3) + x1[i] * 0.8 - x2[i] + 0.5 * x3[i];
const y = Float64Array.from({ length: n }, (_, i) => (signal(i) > 0.2 ? 1 : 0));
const weights = Float64Array.from({ length: n }, (_, i) => 1 + (i % 3));

function coefficients(model: LogisticRegressionModel): { coefficients: number[][]; intercepts: number[] } {
  return model.toJSON().state as { coefficients: number[][]; intercepts: number[] };
}

function expectNear(actual: number[], expected: number[], tolerance = 1e-5): void {
  actual.forEach((value, i) => expect(Math.abs(value - expected[i])).toBeLessThan(tolerance));
}

describe('LogisticRegressionModel', () => {
  it('matches scikit-learn coefficients with the Newton solver (C=0.5)', () => {
    const model = new LogisticRegressionModel({ C: 0.5, tol: 1e-10, max_iter: 1000 }).fit(X, y);
    const state = coefficients(model);
    expectNear(state.coefficients[0], [1.6132069268429785, -1.6797923506150694, 0.24790489065233381]);
    expectNear(state.intercepts, [-0.03504556139877519]);
    expect(model.convergence.converged).toBe(true);
  });

  it('matches scikit-learn with the L-BFGS solver too', () => {
    const model = new LogisticRegressionModel({ C: 0.5, tol: 1e-10, max_iter: 1000, solver: 'lbfgs' }).fit(
      X,
      y,
    );
    expectNear(
      coefficients(model).coefficients[0],
      [1.6132069268429785, -1.6797923506150694, 0.24790489065233381],
      1e-4,
    );
  });

  it('honours sample weights as scikit-learn does (C=2, weights 1, 2, 3 repeating)', () => {
    const model = new LogisticRegressionModel({ C: 2, tol: 1e-10, max_iter: 1000 }).fit(X, y, {
      sampleWeight: weights,
    });
    const state = coefficients(model);
    expectNear(state.coefficients[0], [1.9118405126014928, -1.9490231632273325, 0.6746183863775409]);
    expectNear(state.intercepts, [-0.2295709913940079]);
  });

  it('fits a multinomial model on three classes like scikit-learn, with probabilities summing to one', () => {
    const labels = Float64Array.from(
      { length: n },
      (_, i) => (signal(i) > 0.2 ? 1 : 0) + (x3[i] > 0.5 ? 1 : 0),
    );
    const model = new LogisticRegressionModel({ C: 1, tol: 1e-10, max_iter: 2000 }).fit(X, labels);
    expect(model.outputs).toBe(3);
    const state = coefficients(model);
    expectNear(
      state.coefficients.flat(),
      [
        -1.0722816248124873, 1.506998819170338, -3.546916968810343, 0.2098987208888435, -0.15303929340212646,
        -0.10170544439471783, 0.8623829039236437, -1.353959525768213, 3.6486224132050613,
      ],
      1e-3,
    );
    const probabilities = model.predict(X);
    expectNear(
      Array.from(probabilities.subarray(0, 6)),
      [
        0.8969574744175902, 0.10176850855480732, 0.0012740170276023684, 0.07766701602590072,
        0.6698474316628372, 0.25248555231126213,
      ],
      1e-4,
    );
    const out = new Float64Array(3);
    const best = model.predictRow(Float64Array.from([x1[1], x2[1], x3[1]]), out);
    expect(best).toBe(1);
    expect(out[0] + out[1] + out[2]).toBeCloseTo(1, 12);
  });

  it('gives one row the same probability as the batch, and the same after a JSON round trip', () => {
    const model = new LogisticRegressionModel({ C: 0.5 }).fit(X, y);
    const batch = model.predict(X);
    const copy = LogisticRegressionModel.fromJSON(JSON.parse(JSON.stringify(model.toJSON())));
    expect(Array.from(copy.predict(X))).toEqual(Array.from(batch));
    const row = new Float64Array(3);
    for (let i = 0; i < 20; i++) {
      row[0] = x1[i];
      row[1] = x2[i];
      row[2] = x3[i];
      expect(model.predictRow(row)).toBeCloseTo(batch[i], 14);
    }
    expect(JSON.stringify(copy.toJSON())).toBe(JSON.stringify(model.toJSON()));
  });

  it('reaches the same optimum on a large table, where Newton estimates its Hessian on a subsample', () => {
    const rows = 140_000;
    const a = Float64Array.from({ length: rows }, (_, i) => Math.sin(i * 0.37));
    const b = Float64Array.from({ length: rows }, (_, i) => (i * 7) % 3);
    const labels = Float64Array.from({ length: rows }, (_, i) =>
      Math.sin(i * 1.3) + a[i] - 0.4 * b[i] > -0.2 ? 1 : 0,
    );
    const large: Matrix = { rows, cols: 2, columns: [a, b], names: ['a', 'b'] };
    const newton = new LogisticRegressionModel({ tol: 1e-8, max_iter: 50 }).fit(large, labels);
    const lbfgs = new LogisticRegressionModel({ tol: 1e-8, max_iter: 500, solver: 'lbfgs' }).fit(
      large,
      labels,
    );
    expect(newton.convergence.converged).toBe(true);
    const newtonState = coefficients(newton);
    const lbfgsState = coefficients(lbfgs);
    expectNear(newtonState.coefficients[0], lbfgsState.coefficients[0], 1e-5);
    expectNear(newtonState.intercepts, lbfgsState.intercepts, 1e-5);
  });

  it('treats a missing value as 0 rather than failing', () => {
    const model = new LogisticRegressionModel().fit(X, y);
    expect(model.predictRow(Float64Array.from([NaN, 0, 0]))).toBeCloseTo(
      model.predictRow(Float64Array.from([0, 0, 0])),
      15,
    );
  });

  it('balances classes with class_weight "balanced", raising the minority probabilities', () => {
    const rare = Float64Array.from(y, (label, i) => (label === 1 && i % 4 !== 0 ? 0 : label));
    const plain = new LogisticRegressionModel().fit(X, rare).predict(X);
    const balanced = new LogisticRegressionModel({ class_weight: 'balanced' }).fit(X, rare).predict(X);
    const mean = (values: Float64Array) => values.reduce((s, v) => s + v, 0) / values.length;
    expect(mean(balanced)).toBeGreaterThan(mean(plain) + 0.1);
  });

  it('refuses unknown or invalid parameters, and predicting before fit', () => {
    expect(() => new LogisticRegressionModel({ learning_rate: 0.1 } as never)).toThrow(/learning_rate/);
    expect(() => new LogisticRegressionModel({ C: -1 })).toThrow(
      expect.objectContaining({ code: 'PW_CONFIG_INVALID' }),
    );
    expect(() => new LogisticRegressionModel().predict(X)).toThrow(
      expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' }),
    );
  });

  it('refuses a damaged state on load', () => {
    const json = new LogisticRegressionModel().fit(X, y).toJSON();
    (json.state as { coefficients: number[][] }).coefficients[0].pop();
    expect(() => LogisticRegressionModel.fromJSON(json)).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
  });
});
