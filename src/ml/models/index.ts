// The model catalogue: makes an estimator from the config's `model.type` and `model.params`, and
// restores a saved one from its JSON by `kind`. Nothing else needs to know the model classes.
import { errors } from '../../core/errors.js';
import type { Estimator, EstimatorJSON } from '../types.js';
import { RandomForestModel } from './forest.js';
import { GradientBoostingModel } from './gbdt.js';
import { LogisticRegressionModel } from './logistic.js';

export const MODEL_TYPES = ['gbdt', 'random_forest', 'logistic'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** The `kind` each model type writes into its JSON. */
const KIND_OF_TYPE: Record<ModelType, string> = {
  gbdt: 'gbdt',
  random_forest: 'random_forest',
  logistic: 'logistic',
};

/**
 * An unfitted estimator with the given hyperparameters (unknown ones are refused by the model).
 * `threads` (the config's model.threads) applies to the tree models; logistic regression runs on one.
 */
export function createEstimator(
  type: ModelType,
  params: Record<string, unknown> = {},
  options: { threads?: number } = {},
): Estimator {
  const threaded =
    options.threads !== undefined && params.threads === undefined
      ? { ...params, threads: options.threads }
      : params;
  switch (type) {
    case 'gbdt':
      return new GradientBoostingModel(threaded as ConstructorParameters<typeof GradientBoostingModel>[0]);
    case 'random_forest':
      return new RandomForestModel(threaded as ConstructorParameters<typeof RandomForestModel>[0]);
    case 'logistic':
      return new LogisticRegressionModel(params);
    default:
      throw new errors.PW_CONFIG_INVALID(`Unknown model type ${JSON.stringify(type)}`, {
        hint: `Set model.type in pipewright.yaml to one of ${MODEL_TYPES.join(', ')}.`,
      });
  }
}

/** A fitted estimator from its JSON; refuses a kind it does not know rather than guessing. */
export function estimatorFromJSON(json: EstimatorJSON): Estimator {
  if (!json || typeof json !== 'object' || typeof json.kind !== 'string') {
    throw new errors.PW_BUNDLE_INVALID('The model entry has no kind', {
      hint: 'The bundle is damaged; publish it again with `pipewright run`.',
    });
  }
  switch (json.kind) {
    case KIND_OF_TYPE.gbdt:
      return GradientBoostingModel.fromJSON(json);
    case KIND_OF_TYPE.random_forest:
      return RandomForestModel.fromJSON(json);
    case KIND_OF_TYPE.logistic:
      return LogisticRegressionModel.fromJSON(json);
    default:
      throw new errors.PW_BUNDLE_INVALID(`Unknown model kind ${JSON.stringify(json.kind)}`, {
        hint: `This version knows ${Object.values(KIND_OF_TYPE).join(', ')}; a newer Pipewright may have written the bundle.`,
      });
  }
}
