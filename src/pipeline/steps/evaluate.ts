// Evaluate: scores the new model on the untouched test part with every metric, scores the production
// model on the same rows, and decides. Gate 1: the configured metric reaches `expected_score`. Gate 2:
// the new model beats production by more than `min_improvement`, with a bootstrap interval of the
// difference on the same rows. Small data (a split with folds) is cross-validated instead: both gates
// read the mean over the folds, production's configuration refitted on the same folds.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { errors, isPipewrightError } from '../../core/errors.js';
import { scoreFrame, type Predictor } from '../../ml/bundle.js';
import { resolveThreads } from '../../ml/tree/threads.js';
import { cardMetrics, metricIntervals, type MetricInterval } from '../../ml/card.js';
import { explainGlobally, type GlobalExplanation } from '../../ml/explain/global.js';
import type { Frame } from '../../ml/frame.js';
import {
  binaryClassifierCurve,
  binaryReport,
  confusionMatrix,
  descendingOrder,
  bootstrapMetricDifference,
  calibrationBins,
  higherIsBetter,
  labelsAtThreshold,
  mae,
  metricFunction,
  precisionRecallPoints,
  r2,
  rmse,
  rocPoints,
  selectThreshold,
  type BootstrapResult,
  type CalibrationBin,
  type MetricName,
} from '../../ml/metrics.js';
import type { SplitIndices } from '../../ml/split.js';
import type { Preprocessor } from '../../ml/transform/preprocessor.js';
import type { Estimator } from '../../ml/types.js';
import type { Step } from '../runner.js';
import {
  asInterval,
  foldEstimate,
  outOfFoldScores,
  scoreFolds,
  type CrossValidation,
  type FoldScores,
  type TrainingRecipe,
} from './cross-validate.js';
import { targetOf } from './train.js';

export interface ProductionModel {
  version: string;
  /** Absent when production cannot score this data (another schema); `reason` says why. */
  predictor?: Predictor;
  reason?: string;
  /** How production was made (for refitting it on cross-validation folds); `note` says what was assumed. */
  recipe?: TrainingRecipe & { note?: string };
}

export interface EvaluateInput {
  frame: Frame;
  split: SplitIndices;
  preprocessor: Preprocessor;
  model: Estimator;
  production?: ProductionModel;
  settings: Config['evaluate'];
  seed: number;
  /** How the new model is made: cross-validation refits it on every fold. */
  training?: TrainingRecipe;
}

export interface Gate {
  name: 'expected_score' | 'beats_production';
  passed: boolean;
  reason: string;
}

export interface Evaluation {
  metric: MetricName;
  threshold: number | null;
  metrics: Record<string, number>;
  productionMetrics?: Record<string, number>;
  productionVersion?: string;
  comparison?: BootstrapResult;
  /** Small data: the fold-by-fold estimate that replaced the hold-out. */
  crossValidation?: CrossValidation;
  /** 95% bootstrap intervals of the main metrics on the test part (absent when evaluate.bootstrap is 0). */
  intervals?: Record<string, MetricInterval>;
  gates: Gate[];
  passed: boolean;
  confusion?: number[][];
  curves?: {
    roc: { fpr: number[]; tpr: number[] };
    pr: { precision: number[]; recall: number[] };
    calibration: CalibrationBin[];
    productionRoc?: { fpr: number[]; tpr: number[] };
  };
  featureImportance: { feature: string; importance: number }[];
  /** Mean |SHAP| per field and the summary plot's points, on at most 2,000 test rows. */
  explanations?: GlobalExplanation;
  /** Model outputs on the test rows (kept in memory for reference statistics; not written to JSON). */
  testScores: Float64Array;
}

/**
 * Keeps at most `limit` points of a curve, evenly spaced, for a compact report: the points picked from
 * the curve's (typed) arrays, none of which is copied whole.
 */
function thin<K extends string>(curve: Record<K, ArrayLike<number>>, limit = 200): Record<K, number[]> {
  const entries = Object.entries(curve) as [K, ArrayLike<number>][];
  const length = entries[0]?.[1].length ?? 0;
  const step = (length - 1) / (limit - 1);
  const indices =
    length <= limit
      ? Array.from({ length }, (_, i) => i)
      : Array.from({ length: limit }, (_, i) => Math.round(i * step));
  return Object.fromEntries(entries.map(([key, values]) => [key, indices.map((i) => values[i])])) as Record<
    K,
    number[]
  >;
}

/** The model's importance per encoded column, largest first. */
function importanceOf(model: Estimator, names: readonly string[]): Evaluation['featureImportance'] {
  return Array.from(model.featureImportance(), (value, index) => ({
    feature: names[index] ?? `f${index}`,
    importance: round(value),
  })).sort((a, b) => b.importance - a.importance);
}

/** ROC, precision-recall and calibration curves and the confusion matrix of a binary model's scores. */
function binaryCharts(
  task: string | undefined,
  y: Float64Array,
  scores: Float64Array,
  threshold: number | null | undefined,
  productionRoc?: { fpr: number[]; tpr: number[] },
  order: Int32Array | undefined = task === 'binary' ? descendingOrder(scores) : undefined,
): { curves: Evaluation['curves']; confusion: number[][] | undefined } {
  if (task !== 'binary') return { curves: undefined, confusion: undefined };
  // one pass over the rows for both curves, and no curve built whole as JavaScript arrays
  const curve = binaryClassifierCurve(y, scores, undefined, order);
  const roc = rocPoints(curve);
  const pr = precisionRecallPoints(curve);
  return {
    curves: {
      roc: thin({ fpr: roc.fpr, tpr: roc.tpr }),
      pr: thin({ precision: pr.precision, recall: pr.recall }),
      calibration: calibrationBins(y, scores),
      ...(productionRoc ? { productionRoc } : {}),
    },
    confusion: confusionMatrix(y, labelsAtThreshold(scores, threshold ?? 0.5), 2),
  };
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
}

/** `order`: a binary task's rows by descending score, when the caller has it (descendingOrder). */
function metricsFor(
  task: string,
  y: Float64Array,
  scores: Float64Array,
  threshold: number,
  classes: number,
  order?: Int32Array,
): Record<string, number> {
  if (task === 'binary') {
    const report = binaryReport(y, scores, threshold, order);
    return {
      roc_auc: report.roc_auc,
      pr_auc: report.pr_auc,
      f1: report.f1,
      precision: report.precision,
      recall: report.recall,
      accuracy: report.accuracy,
      log_loss: report.log_loss,
      brier: report.brier,
    };
  }
  if (task === 'regression') return { rmse: rmse(y, scores), mae: mae(y, scores), r2: r2(y, scores) };
  return {
    macro_f1: metricFunction('macro_f1', { classes })(y, scores),
    accuracy: metricFunction('accuracy', { classes })(y, scores),
    log_loss: metricFunction('log_loss', { classes })(y, scores),
  };
}

/** At most this many training rows choose the threshold: enough for a stable F1 optimum. */
export const THRESHOLD_ROWS = 50_000;

/** Evenly spaced training rows (all of them when there are few), so the choice is deterministic. */
function thresholdRows(train: Int32Array): Int32Array {
  if (train.length <= THRESHOLD_ROWS) return train;
  const rows = new Int32Array(THRESHOLD_ROWS);
  const step = train.length / THRESHOLD_ROWS;
  for (let i = 0; i < THRESHOLD_ROWS; i++) rows[i] = train[Math.floor(i * step)];
  return rows;
}

export async function evaluate(input: EvaluateInput): Promise<Evaluation> {
  const { frame, split, preprocessor, model, settings } = input;
  const task = frame.schema.task ?? 'binary';
  const classes = frame.classes.length;
  const metric = settings.metric as MetricName;
  const yTest = targetOf(frame, split.test);
  // the run's thread budget (model.threads: every core the run may use unless set)
  const threads = resolveThreads(input.training?.model.threads);
  // a large test part is scored on every thread, its matrix in shared memory for them to read in place
  const testScores = await scoreFrame(model, preprocessor, frame, split.test, threads);
  // a binary task's test rows by descending score, sorted once for its metrics, curves and intervals
  const testOrder = task === 'binary' ? descendingOrder(testScores) : undefined;

  let threshold: number | null = null;
  if (task === 'binary') {
    if (settings.threshold === 'f1') {
      // Chosen on the training part, so the test part stays an honest estimate.
      const rows = thresholdRows(split.train);
      const trainScores = model.predict(preprocessor.transform(frame, rows));
      threshold = selectThreshold(targetOf(frame, rows), trainScores).threshold;
    } else {
      threshold = settings.threshold;
    }
  }
  const metrics = metricsFor(task, yTest, testScores, threshold ?? 0.5, classes, testOrder);
  if (!(metric in metrics)) {
    metrics[metric] = metricFunction(metric, { threshold: threshold ?? 0.5, classes })(yTest, testScores);
  }
  const better = higherIsBetter(metric) ? 1 : -1;
  const value = metrics[metric];
  const gates: Gate[] = [];
  const reaches = better * (value - settings.expected_score) >= 0;
  gates.push({
    name: 'expected_score',
    passed: reaches,
    reason: `${metric} ${value.toFixed(4)} ${reaches ? (better > 0 ? '>=' : '<=') : better > 0 ? '<' : '>'} expected ${settings.expected_score}`,
  });

  let productionMetrics: Record<string, number> | undefined;
  let comparison: BootstrapResult | undefined;
  let productionRoc: { fpr: number[]; tpr: number[] } | undefined;
  const production = input.production;
  if (!production) {
    gates.push({ name: 'beats_production', passed: true, reason: 'no production model yet' });
  } else if (!production.predictor) {
    gates.push({
      name: 'beats_production',
      passed: true,
      reason: `production ${production.version} cannot score this data (${production.reason}); not compared`,
    });
  } else {
    const productionScores = await production.predictor.predictFrameOn(frame, split.test, threads);
    const productionThreshold = production.predictor.threshold;
    productionMetrics = metricsFor(task, yTest, productionScores, productionThreshold, classes);
    if (!(metric in productionMetrics)) {
      productionMetrics[metric] = metricFunction(metric, { threshold: productionThreshold, classes })(
        yTest,
        productionScores,
      );
    }
    comparison = bootstrapMetricDifference({
      yTrue: yTest,
      scoresA: testScores,
      scoresB: productionScores,
      metric,
      contextA: { threshold: threshold ?? 0.5, classes },
      contextB: { threshold: productionThreshold, classes },
      resamples: settings.bootstrap,
      seed: input.seed,
    });
    const improvement = better * (value - productionMetrics[metric]);
    const passed = improvement > settings.min_improvement;
    const interval =
      settings.bootstrap > 0
        ? ` (95% interval of the difference ${comparison.low.toFixed(4)} to ${comparison.high.toFixed(4)})`
        : '';
    gates.push({
      name: 'beats_production',
      passed,
      reason: `${metric} ${value.toFixed(4)} vs production ${production.version} ${productionMetrics[metric].toFixed(4)} on the same ${split.test.length} test rows: improvement ${improvement.toFixed(4)} ${passed ? '>' : '<='} ${settings.min_improvement}${interval}`,
    });
    if (task === 'binary') {
      productionRoc = thin(rocPoints(binaryClassifierCurve(yTest, productionScores)));
    }
  }

  const featureImportance = importanceOf(model, preprocessor.outputNames);
  const explanations = explainGlobally(model, preprocessor, frame, split.test, split.train);
  const { curves, confusion } = binaryCharts(task, yTest, testScores, threshold, productionRoc, testOrder);
  const intervals =
    settings.bootstrap > 0
      ? metricIntervals({
          yTrue: yTest,
          scores: testScores,
          metrics: cardMetrics(task, metric),
          context: { threshold: threshold ?? 0.5, classes },
          resamples: settings.bootstrap,
          seed: input.seed,
          order: testOrder,
          threads,
        })
      : undefined;
  const rounded = (values: Record<string, number>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v)]));
  return {
    metric,
    threshold: threshold === null ? null : round(threshold),
    metrics: rounded(metrics),
    ...(productionMetrics
      ? { productionMetrics: rounded(productionMetrics), productionVersion: production!.version }
      : {}),
    ...(comparison ? { comparison } : {}),
    ...(intervals ? { intervals } : {}),
    gates,
    passed: gates.every((gate) => gate.passed),
    ...(confusion ? { confusion } : {}),
    ...(curves ? { curves } : {}),
    featureImportance,
    ...(explanations ? { explanations } : {}),
    testScores,
  };
}

/** Every metric of each fold, averaged; the main metric is added when the task's set lacks it. */
function foldMetrics(
  frame: Frame,
  folds: FoldScores[],
  metric: MetricName,
): { mean: Record<string, number>; perFold: Record<string, number[]> } {
  const task = frame.schema.task ?? 'binary';
  const classes = frame.classes.length;
  const perFold: Record<string, number[]> = {};
  for (const { fold, scores, threshold } of folds) {
    const y = targetOf(frame, fold.test);
    const values = metricsFor(task, y, scores, threshold, classes);
    if (!(metric in values)) values[metric] = metricFunction(metric, { threshold, classes })(y, scores);
    for (const [name, value] of Object.entries(values)) (perFold[name] ??= []).push(value);
  }
  const mean = Object.fromEntries(
    Object.entries(perFold).map(([name, values]) => [
      name,
      values.reduce((sum, value) => sum + value, 0) / values.length,
    ]),
  );
  return { mean, perFold };
}

/**
 * Small data: the metric is the mean over repeated stratified k-fold, each fold refitting the
 * configuration on its training rows; production's configuration is refitted on the same folds. The
 * model to publish (fitted on every row by the train step) keeps a threshold chosen on the pooled
 * out-of-fold scores, which no fold model saw while learning.
 */
export async function crossValidatedEvaluate(input: EvaluateInput): Promise<Evaluation> {
  const { frame, split, preprocessor, model, settings } = input;
  const plan = split.folds!;
  if (!input.training) {
    throw new errors.PW_INTERNAL('Cross-validation needs the training recipe (model, imbalance, preprocess)');
  }
  const task = frame.schema.task ?? 'binary';
  const metric = settings.metric as MetricName;
  const better = higherIsBetter(metric) ? 1 : -1;
  const heldOutShare = 1 / plan.folds;
  const options = { seed: input.seed, threshold: settings.threshold };
  const folds = await scoreFolds(frame, plan, input.training, options);
  const measured = foldMetrics(frame, folds, metric);
  const estimate = foldEstimate(measured.perFold[metric], heldOutShare);
  const metrics = measured.mean;
  const intervals = Object.fromEntries(
    cardMetrics(task, metric)
      .filter((name) => measured.perFold[name])
      .map((name) => [name, asInterval(foldEstimate(measured.perFold[name], heldOutShare))]),
  );
  const rows = frame.rows;
  const outputs = model.outputs;
  const y = targetOf(frame, split.train);
  const pooled = outOfFoldScores(folds, rows, 0, outputs);
  let threshold: number | null = null;
  if (task === 'binary') {
    if (settings.threshold === 'f1') {
      const allRepeats = new Float64Array(rows * plan.repeats);
      const allY = new Float64Array(rows * plan.repeats);
      for (let repeat = 0; repeat < plan.repeats; repeat++) {
        allRepeats.set(outOfFoldScores(folds, rows, repeat, 1), repeat * rows);
        allY.set(y, repeat * rows);
      }
      threshold = selectThreshold(allY, allRepeats).threshold;
    } else threshold = settings.threshold;
  }

  const value = metrics[metric];
  const within = `mean of ${plan.repeats} × ${plan.folds}-fold cross-validation, 95% interval ${estimate.low.toFixed(4)} to ${estimate.high.toFixed(4)}`;
  const gates: Gate[] = [];
  const reaches = better * (value - settings.expected_score) >= 0;
  gates.push({
    name: 'expected_score',
    passed: reaches,
    reason: `${metric} ${value.toFixed(4)} (${within}) ${reaches ? (better > 0 ? '>=' : '<=') : better > 0 ? '<' : '>'} expected ${settings.expected_score}`,
  });

  let productionMetrics: Record<string, number> | undefined;
  let crossValidation: CrossValidation = {
    folds: plan.folds,
    repeats: plan.repeats,
    metric,
    model: estimate,
  };
  const production = input.production;
  // Production's configuration may no longer fit (a parameter this version refuses): then it is not
  // compared, as a production model that cannot score this data is not.
  let productionFolds: FoldScores[] | undefined;
  let refitFailure: string | undefined;
  if (production?.predictor && production.recipe) {
    try {
      productionFolds = await scoreFolds(frame, plan, production.recipe, options);
    } catch (error) {
      if (!isPipewrightError(error)) throw error;
      refitFailure = `its configuration cannot be refitted: ${error.code}: ${error.message}`;
    }
  }
  if (!production) {
    gates.push({ name: 'beats_production', passed: true, reason: 'no production model yet' });
  } else if (!production.recipe || !productionFolds) {
    gates.push({
      name: 'beats_production',
      passed: true,
      reason: `production ${production.version} cannot score this data (${refitFailure ?? production.reason ?? 'its configuration is unknown'}); not compared`,
    });
  } else {
    const productionMeasured = foldMetrics(frame, productionFolds, metric);
    productionMetrics = productionMeasured.mean;
    const productionEstimate = foldEstimate(productionMeasured.perFold[metric], heldOutShare);
    const differences = measured.perFold[metric].map(
      (foldValue, index) => better * (foldValue - productionMeasured.perFold[metric][index]),
    );
    const difference = foldEstimate(differences, heldOutShare);
    const refit = `production's configuration refitted on the same folds${production.recipe.note ? ` (${production.recipe.note})` : ''}`;
    crossValidation = {
      ...crossValidation,
      production: { ...productionEstimate, version: production.version, refit },
      difference,
    };
    const passed = difference.mean > settings.min_improvement;
    gates.push({
      name: 'beats_production',
      passed,
      reason: `${metric} ${value.toFixed(4)} vs production ${production.version} ${productionMetrics[metric].toFixed(4)}, ${refit}: improvement ${difference.mean.toFixed(4)} ${passed ? '>' : '<='} ${settings.min_improvement} (95% interval of the difference ${difference.low.toFixed(4)} to ${difference.high.toFixed(4)})`,
    });
  }

  const featureImportance = importanceOf(model, preprocessor.outputNames);
  const { curves, confusion } = binaryCharts(task, y, pooled, threshold);
  const rounded = (values: Record<string, number>) =>
    Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round(v)]));
  const roundEstimate = <T extends { mean: number; low: number; high: number; folds: number[] }>(
    entry: T,
  ): T => ({
    ...entry,
    mean: round(entry.mean),
    low: round(entry.low),
    high: round(entry.high),
    folds: entry.folds.map(round),
  });
  return {
    metric,
    threshold: threshold === null ? null : round(threshold),
    metrics: rounded(metrics),
    ...(productionMetrics
      ? { productionMetrics: rounded(productionMetrics), productionVersion: production!.version }
      : {}),
    ...(crossValidation.difference
      ? {
          comparison: {
            // metric(new) − metric(production), as the bootstrap states it, whichever way is better
            difference: better * crossValidation.difference.mean,
            low: better > 0 ? crossValidation.difference.low : -crossValidation.difference.high,
            high: better > 0 ? crossValidation.difference.high : -crossValidation.difference.low,
            confidence: 0.95,
            resamples: crossValidation.difference.folds.length,
            shareABetter:
              crossValidation.difference.folds.filter((entry) => entry > 0).length /
              crossValidation.difference.folds.length,
          },
        }
      : {}),
    crossValidation: {
      ...crossValidation,
      model: roundEstimate(crossValidation.model),
      ...(crossValidation.production ? { production: roundEstimate(crossValidation.production) } : {}),
      ...(crossValidation.difference ? { difference: roundEstimate(crossValidation.difference) } : {}),
    },
    ...(settings.bootstrap > 0 ? { intervals } : {}),
    gates,
    passed: gates.every((gate) => gate.passed),
    ...(confusion ? { confusion } : {}),
    ...(curves ? { curves } : {}),
    featureImportance,
    testScores: pooled,
  };
}

export const evaluateStep: Step<EvaluateInput, Evaluation> = {
  name: 'evaluate',
  async run(context, input) {
    const evaluation = input.split.folds ? await crossValidatedEvaluate(input) : await evaluate(input);
    const { testScores: _scores, ...written } = evaluation;
    writeFileSync(join(context.dir, 'evaluation.json'), `${JSON.stringify(written, null, 2)}\n`);
    return evaluation;
  },
  save: (_evaluation, dir) => [join(dir, 'evaluation.json')],
  summary: (evaluation) => ({
    [evaluation.metric]: evaluation.metrics[evaluation.metric],
    passed: evaluation.passed,
    text: `${evaluation.metric} ${evaluation.metrics[evaluation.metric].toFixed(4)}${evaluation.crossValidation ? ` [${evaluation.crossValidation.model.low.toFixed(4)}, ${evaluation.crossValidation.model.high.toFixed(4)}] over ${evaluation.crossValidation.repeats} × ${evaluation.crossValidation.folds} folds` : ''}${evaluation.productionMetrics ? ` (production ${evaluation.productionMetrics[evaluation.metric].toFixed(4)})` : ''}, ${evaluation.passed ? 'gates passed' : 'gates failed'}`,
  }),
};
