// Cross-validated evaluation of small data: the configuration is refitted on every fold of a repeated
// stratified k-fold and scored on the fold's held-out rows; production's configuration is refitted on
// the same folds, so neither model is scored on rows it learned from. The published model is fitted on
// every row by the train step; this module only estimates how well that configuration generalises.
import type { Config } from '../../core/config.js';
import type { MetricInterval } from '../../ml/card.js';
import type { Frame } from '../../ml/frame.js';
import { balanceTrainingSet } from '../../ml/imbalance.js';
import { selectThreshold, type MetricName } from '../../ml/metrics.js';
import { createEstimator, type ModelType } from '../../ml/models/index.js';
import { foldsOf, type CrossValidationFolds, type Fold } from '../../ml/split.js';
import { Preprocessor } from '../../ml/transform/preprocessor.js';
import type { Estimator } from '../../ml/types.js';
import { targetOf } from './train.js';

/** What a model is made from: the settings `run` reads for preprocessing, resampling and the model. */
export interface TrainingRecipe {
  model: Config['model'];
  imbalance: Config['imbalance'];
  preprocess: Config['preprocess'];
}

/** A mean over folds with its 95% interval (Nadeau and Bengio's correction for overlapping folds). */
export interface FoldEstimate {
  mean: number;
  low: number;
  high: number;
  /** The value on each fold, repeat after repeat. */
  folds: number[];
}

export interface CrossValidation {
  folds: number;
  repeats: number;
  metric: MetricName;
  model: FoldEstimate;
  production?: FoldEstimate & { version: string; refit: string };
  /** metric(new) − metric(production) per fold, in the metric's direction of better. */
  difference?: FoldEstimate;
}

/** One fitted fold: the held-out rows' scores and the threshold chosen on the fold's training rows. */
export interface FoldScores {
  fold: Fold;
  scores: Float64Array;
  threshold: number;
}

/** The standard normal quantile for 0.975 and a Cornish-Fisher step to Student's t with `df` degrees. */
function studentT975(df: number): number {
  const z = 1.959964;
  if (!(df > 0)) return Infinity;
  return (
    z +
    (z ** 3 + z) / (4 * df) +
    (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2) +
    (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3)
  );
}

/**
 * The mean of per-fold values and its 95% interval. Folds share training rows, so the plain standard
 * error is too narrow; the corrected resampled t interval (Nadeau and Bengio 2003, Bouckaert and Frank
 * 2004) widens the variance by the held-out to training ratio.
 */
export function foldEstimate(values: number[], heldOutShare: number): FoldEstimate {
  const n = values.length;
  const mean = values.reduce((sum, value) => sum + value, 0) / n;
  if (n < 2) return { mean, low: mean, high: mean, folds: values };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (n - 1);
  const corrected = (1 / n + heldOutShare / (1 - heldOutShare)) * variance;
  const half = studentT975(n - 1) * Math.sqrt(corrected);
  return { mean, low: mean - half, high: mean + half, folds: values };
}

/** As a card interval (the card's `resamples` counts folds here). */
export function asInterval(estimate: FoldEstimate): MetricInterval {
  return {
    estimate: estimate.mean,
    low: estimate.low,
    high: estimate.high,
    confidence: 0.95,
    resamples: estimate.folds.length,
  };
}

async function fitRecipe(
  frame: Frame,
  recipe: TrainingRecipe,
  rows: Int32Array,
  seed: number,
): Promise<{ preprocessor: Preprocessor; model: Estimator }> {
  const preprocessor = Preprocessor.fromConfig(frame.schema, recipe.preprocess).fit(frame, rows);
  const X = preprocessor.transform(frame, rows);
  const balanced = balanceTrainingSet(X, targetOf(frame, rows), recipe.imbalance, seed);
  const model = createEstimator(recipe.model.type as ModelType, recipe.model.params, {
    ...(frame.schema.task !== undefined ? { task: frame.schema.task } : {}),
    seed,
    ...(recipe.model.threads !== undefined ? { threads: recipe.model.threads } : {}),
  });
  await model.fit(
    balanced.X,
    balanced.y,
    balanced.sampleWeight ? { sampleWeight: balanced.sampleWeight } : {},
  );
  return { preprocessor, model };
}

/**
 * The recipe fitted on each fold's training rows and scored on its held-out rows. A binary threshold
 * chosen by `f1` is chosen on the fold's training rows, as the hold-out chooses it on the training part.
 */
export async function scoreFolds(
  frame: Frame,
  plan: CrossValidationFolds,
  recipe: TrainingRecipe,
  options: { seed: number; threshold: 'f1' | number },
): Promise<FoldScores[]> {
  const out: FoldScores[] = [];
  for (const fold of foldsOf(plan)) {
    const { preprocessor, model } = await fitRecipe(frame, recipe, fold.train, options.seed);
    const scores = model.predict(preprocessor.transform(frame, fold.test));
    let threshold = typeof options.threshold === 'number' ? options.threshold : 0.5;
    if (frame.schema.task === 'binary' && options.threshold === 'f1') {
      const trainScores = model.predict(preprocessor.transform(frame, fold.train));
      threshold = selectThreshold(targetOf(frame, fold.train), trainScores).threshold;
    }
    out.push({ fold, scores, threshold });
  }
  return out;
}

/**
 * Out-of-fold scores of one repeat, in row order (every row is held out once per repeat); `outputs`
 * values a row for a multiclass model.
 */
export function outOfFoldScores(
  folds: FoldScores[],
  rows: number,
  repeat: number,
  outputs: number,
): Float64Array {
  const out = new Float64Array(rows * outputs);
  for (const { fold, scores } of folds) {
    if (fold.repeat !== repeat) continue;
    for (let i = 0; i < fold.test.length; i++)
      for (let k = 0; k < outputs; k++) out[fold.test[i] * outputs + k] = scores[i * outputs + k];
  }
  return out;
}
