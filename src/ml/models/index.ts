// The model catalogue: the only place that makes an estimator from the config's `model.type` and
// `model.params` (with the run's task, seed and threads), and restores a saved one from its JSON by
// `kind`. A model's kind is its type; nothing outside this folder branches on either.
import { errors } from '../../core/errors.js';
import type { Estimator, EstimatorJSON, EstimatorOptions } from '../types.js';
import { RandomForestModel } from './forest.js';
import { GradientBoostingModel } from './gbdt.js';
import { LogisticRegressionModel } from './logistic.js';

export const MODEL_TYPES = ['gbdt', 'random_forest', 'logistic'] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

interface ModelEntry {
  create(params: Record<string, unknown>, options: EstimatorOptions): Estimator;
  fromJSON(json: EstimatorJSON): Estimator;
}

const MODELS: Record<ModelType, ModelEntry> = {
  gbdt: {
    create: (params, options) => new GradientBoostingModel(params, options),
    fromJSON: (json) => GradientBoostingModel.fromJSON(json),
  },
  random_forest: {
    create: (params, options) => new RandomForestModel(params, options),
    fromJSON: (json) => RandomForestModel.fromJSON(json),
  },
  logistic: {
    create: (params, options) => new LogisticRegressionModel(params, options),
    fromJSON: (json) => LogisticRegressionModel.fromJSON(json),
  },
};

function isModelType(name: unknown): name is ModelType {
  return typeof name === 'string' && (MODEL_TYPES as readonly string[]).includes(name);
}

/**
 * An unfitted estimator with the given hyperparameters, checked (unknown or invalid ones are refused
 * with PW_CONFIG_INVALID). `task` sets the task-dependent parameters (a regression target gets a
 * regression loss) and refuses a model that cannot learn it; `seed` seeds a model that draws at random
 * unless its params give a seed; `threads` (the config's model.threads) reaches models that use threads.
 */
export function createEstimator(
  type: ModelType,
  params: Record<string, unknown> = {},
  options: EstimatorOptions = {},
): Estimator {
  if (!isModelType(type)) {
    throw new errors.PW_CONFIG_INVALID(`Unknown model type ${JSON.stringify(type)}`, {
      hint: `Set model.type in pipewright.yaml to one of ${MODEL_TYPES.join(', ')}.`,
    });
  }
  return MODELS[type].create(params, options);
}

/** A fitted estimator from its JSON; refuses a kind it does not know rather than guessing. */
export function estimatorFromJSON(json: EstimatorJSON): Estimator {
  if (!json || typeof json !== 'object' || typeof json.kind !== 'string') {
    throw new errors.PW_BUNDLE_INVALID('The model entry has no kind', {
      hint: 'The bundle is damaged; publish it again with `pipewright run`.',
    });
  }
  if (!isModelType(json.kind)) {
    throw new errors.PW_BUNDLE_INVALID(`Unknown model kind ${JSON.stringify(json.kind)}`, {
      hint: `This version knows ${MODEL_TYPES.join(', ')}; a newer Pipewright may have written the bundle.`,
    });
  }
  return MODELS[json.kind].fromJSON(json);
}
