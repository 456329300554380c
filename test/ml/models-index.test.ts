// The model catalogue: the one factory makes every model for every task it learns (with the run's
// seed and threads), restores each from its JSON by kind, and refuses what it cannot make.
import { describe, expect, it } from 'vitest';
import { createEstimator, estimatorFromJSON, type ModelType } from '../../src/ml/models/index.js';
import { LogisticRegressionModel } from '../../src/ml/models/logistic.js';
import type { Estimator, Matrix, Task } from '../../src/ml/types.js';

const n = 300;
const X: Matrix = {
  rows: n,
  cols: 2,
  columns: [
    Float64Array.from({ length: n }, (_, i) => Math.sin(i)),
    Float64Array.from({ length: n }, (_, i) => Math.cos(i * 0.7)),
  ],
  names: ['a', 'b'],
};
const score = Float64Array.from({ length: n }, (_, i) => Math.sin(i) + 0.5 * Math.cos(i * 0.7));
const targets: Record<Task, Float64Array> = {
  binary: score.map((value) => (value > 0.1 ? 1 : 0)),
  multiclass: score.map((value) => (value < -0.4 ? 0 : value < 0.4 ? 1 : 2)),
  regression: score.map((value) => 3 * value + 1),
};
const small: Record<ModelType, Record<string, unknown>> = {
  gbdt: { max_iter: 10 },
  random_forest: { n_estimators: 5 },
  logistic: { C: 0.5 },
};

/** Every (model, task) pair the catalogue makes, with the values per row it predicts. */
const LEARNS: [ModelType, Task, number][] = [
  ['gbdt', 'binary', 1],
  ['gbdt', 'multiclass', 3],
  ['gbdt', 'regression', 1],
  ['random_forest', 'binary', 1],
  ['random_forest', 'regression', 1],
  ['logistic', 'binary', 1],
  ['logistic', 'multiclass', 3],
];

/** The hyperparameters of a model not fitted yet (toJSON needs a fitted one). */
function paramsOfUnfitted(model: Estimator): Record<string, unknown> {
  return (model as unknown as { params: Record<string, unknown> }).params;
}

describe('model catalogue', () => {
  for (const [type, task, outputs] of LEARNS) {
    it(`makes ${type} for a ${task} target, which restores from its JSON to identical predictions`, async () => {
      const model = await createEstimator(type, { ...small[type] }, { task, seed: 3, threads: 1 }).fit(
        X,
        targets[task],
      );
      expect(model.kind).toBe(type);
      expect(model.outputs).toBe(outputs);
      const predictions = model.predict(X);
      expect(predictions.length).toBe(n * outputs);
      if (task !== 'regression') for (const p of predictions) expect(p >= 0 && p <= 1).toBe(true);
      const restored = estimatorFromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      expect(restored.kind).toBe(type);
      expect(Array.from(restored.predict(X))).toEqual(Array.from(predictions));
    });
  }

  it('refuses a model for a task it cannot learn, before any fitting', () => {
    const refused = expect.objectContaining({ code: 'PW_CONFIG_INVALID' });
    expect(() => createEstimator('logistic', {}, { task: 'regression' })).toThrow(refused);
    expect(() => createEstimator('random_forest', {}, { task: 'multiclass' })).toThrow(refused);
  });

  it('gives the task-dependent parameters from the task, and the seed and threads from the run', () => {
    expect(paramsOfUnfitted(createEstimator('gbdt', {}, { task: 'regression' }))).toMatchObject({
      loss: 'squared_error',
    });
    const forest = createEstimator('random_forest', {}, { task: 'regression', seed: 5, threads: 2 });
    expect(paramsOfUnfitted(forest)).toMatchObject({
      criterion: 'squared_error',
      random_state: 5,
      threads: 2,
    });
    // a seed in the params wins over the run's; the config's model.threads wins over params.threads
    const given = createEstimator('gbdt', { seed: 8, threads: 4 }, { seed: 5, threads: 1 });
    expect(paramsOfUnfitted(given)).toMatchObject({
      random_state: 8,
      threads: 1,
    });
    // logistic regression draws nothing at random and fits on one thread: neither reaches its params
    const logistic = createEstimator('logistic', {}, { task: 'binary', seed: 5, threads: 2 });
    expect(logistic).toBeInstanceOf(LogisticRegressionModel);
    expect(Object.keys((logistic as LogisticRegressionModel).params)).not.toContain('random_state');
  });

  it('refuses an unknown model type or kind, and parameters the model does not have', () => {
    expect(() => createEstimator('svm' as never)).toThrow(
      expect.objectContaining({ code: 'PW_CONFIG_INVALID' }),
    );
    expect(() => estimatorFromJSON({ kind: 'svm', params: {}, state: {} })).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
    expect(() => estimatorFromJSON(null as never)).toThrow(
      expect.objectContaining({ code: 'PW_BUNDLE_INVALID' }),
    );
    expect(() => createEstimator('logistic', { max_depth: 3 })).toThrow(/max_depth/);
  });

  it('refuses to predict or save before fitting, for every model', () => {
    for (const type of ['gbdt', 'random_forest', 'logistic'] as const) {
      const model = createEstimator(type);
      expect(() => model.predict(X)).toThrow(expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' }));
      expect(() => model.toJSON()).toThrow(expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' }));
    }
  });
});
