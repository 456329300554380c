// The model catalogue: creation by type and restoration by kind for every model.
import { describe, expect, it } from 'vitest';
import { createEstimator, estimatorFromJSON } from '../../src/ml/models/index.js';
import { LogisticRegressionModel } from '../../src/ml/models/logistic.js';
import type { Matrix } from '../../src/ml/types.js';

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
const y = Float64Array.from({ length: n }, (_, i) => (Math.sin(i) + 0.5 * Math.cos(i * 0.7) > 0.1 ? 1 : 0));

describe('model catalogue', () => {
  it('makes each configured model type, and restores each from its JSON by kind with identical predictions', async () => {
    const params = {
      gbdt: { max_iter: 10, threads: 1 },
      random_forest: { n_estimators: 5, threads: 1 },
      logistic: { C: 0.5 },
    } as const;
    for (const type of ['gbdt', 'random_forest', 'logistic'] as const) {
      const model = await createEstimator(type, { ...params[type] }).fit(X, y);
      expect(model.kind).toBe(type);
      const restored = estimatorFromJSON(JSON.parse(JSON.stringify(model.toJSON())));
      expect(restored.kind).toBe(type);
      expect(Array.from(restored.predict(X))).toEqual(Array.from(model.predict(X)));
    }
    expect(createEstimator('logistic')).toBeInstanceOf(LogisticRegressionModel);
    // The config's model.threads reaches the tree models, and is not forced on logistic regression.
    expect(
      (createEstimator('gbdt', {}, { threads: 1 }) as unknown as { params: { threads: unknown } }).params
        .threads,
    ).toBe(1);
    expect(() => createEstimator('logistic', {}, { threads: 2 })).not.toThrow();
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
});
