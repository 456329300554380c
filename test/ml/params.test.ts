// The one hyperparameter checker: each model refuses unknown names and invalid values with
// PW_CONFIG_INVALID naming the parameter, and the run's task, seed and threads fill their parameters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_RANDOM_FOREST_PARAMS } from '../../src/ml/models/forest.js';
import { DEFAULT_GRADIENT_BOOSTING_PARAMS } from '../../src/ml/models/gbdt.js';
import { createEstimator, MODEL_TYPES, type ModelType } from '../../src/ml/models/index.js';
import { DEFAULT_LOGISTIC_PARAMS } from '../../src/ml/models/logistic.js';

const KNOWN: Record<ModelType, string[]> = {
  gbdt: [...Object.keys(DEFAULT_GRADIENT_BOOSTING_PARAMS), 'seed', 'min_child_weight'],
  random_forest: [...Object.keys(DEFAULT_RANDOM_FOREST_PARAMS), 'seed'],
  logistic: Object.keys(DEFAULT_LOGISTIC_PARAMS),
};

/** Values each model must refuse, one parameter at a time. */
const INVALID: Record<ModelType, [string, unknown][]> = {
  gbdt: [
    ['loss', 'hinge'],
    ['learning_rate', 0],
    ['max_iter', 0.5],
    ['max_leaf_nodes', 1],
    ['max_bins', 256],
    ['subsample', 1.5],
    ['growth', 'random'],
    ['early_stopping', 'yes'],
    ['class_weight', { a: 1 }],
    ['random_state', 1.5],
    ['threads', 0],
  ],
  random_forest: [
    ['n_estimators', 0],
    ['criterion', 'log_loss'],
    ['min_samples_split', 1],
    ['max_features', 'half'],
    ['max_samples', 1.5],
    ['bootstrap', 'no'],
    ['class_weight', { 0: -1 }],
    ['threads', 300],
  ],
  logistic: [
    ['C', 0],
    ['max_iter', 0],
    ['tol', -1],
    ['solver', 'sag'],
    ['fit_intercept', 'yes'],
    ['class_weight', { 0: 1 }],
  ],
};

function configError(param: string) {
  return expect.objectContaining({ code: 'PW_CONFIG_INVALID', details: expect.objectContaining({ param }) });
}

describe('the hyperparameter checker', () => {
  it('refuses a name no model knows, for every model, naming it', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...MODEL_TYPES),
        fc
          .string({ minLength: 1, maxLength: 12 })
          .filter((name) => !Object.values(KNOWN).flat().includes(name)),
        (type, name) => {
          expect(() => createEstimator(type, { [name]: 1 })).toThrow(configError(name));
        },
      ),
    );
  });

  it('refuses a parameter named like a prototype key instead of changing the parameters object', () => {
    for (const type of MODEL_TYPES)
      expect(() => createEstimator(type, JSON.parse('{"__proto__": {"max_depth": 3}}'))).toThrow(
        configError('__proto__'),
      );
  });

  it('refuses a parameter of another model', () => {
    expect(() => createEstimator('logistic', { max_depth: 3 })).toThrow(configError('max_depth'));
    expect(() => createEstimator('random_forest', { learning_rate: 0.1 })).toThrow(
      configError('learning_rate'),
    );
    expect(() => createEstimator('gbdt', { n_estimators: 10 })).toThrow(configError('n_estimators'));
  });

  for (const type of MODEL_TYPES) {
    it(`refuses each invalid ${type} value, naming the parameter`, () => {
      for (const [name, value] of INVALID[type])
        expect(() => createEstimator(type, { [name]: value }), `${name}: ${JSON.stringify(value)}`).toThrow(
          configError(name),
        );
    });
  }

  it('refuses combinations that cannot work', () => {
    expect(() => createEstimator('gbdt', { max_leaf_nodes: null, max_depth: null })).toThrow(
      configError('max_leaf_nodes'),
    );
    expect(() =>
      createEstimator('random_forest', { criterion: 'squared_error', class_weight: 'balanced' }),
    ).toThrow(configError('class_weight'));
    expect(() => createEstimator('gbdt', { loss: 'squared_error', class_weight: { 0: 2 } })).toThrow(
      configError('class_weight'),
    );
    // a regression target read with a classification loss would make one class per distinct value
    expect(() => createEstimator('gbdt', { loss: 'log_loss' }, { task: 'regression' })).toThrow(
      configError('loss'),
    );
    expect(() => createEstimator('random_forest', { criterion: 'gini' }, { task: 'regression' })).toThrow(
      configError('criterion'),
    );
  });

  it('accepts every default and the aliases other libraries use', () => {
    for (const type of MODEL_TYPES) expect(() => createEstimator(type, {})).not.toThrow();
    const params = (type: ModelType, given: Record<string, unknown>) =>
      (createEstimator(type, given) as unknown as { params: Record<string, unknown> }).params;
    expect(params('gbdt', { seed: 9, min_child_weight: 2 })).toMatchObject({
      random_state: 9,
      min_hessian_leaf: 2,
    });
    expect(params('random_forest', { seed: 4 })).toMatchObject({ random_state: 4 });
  });
});
