// The model card: what a model was trained on, how well it did (with bootstrap confidence intervals on
// the test part), its decision threshold, what it is for and where it should not be trusted. Built from
// plain data at publish time and stored in the bundle, so it travels with the model.
import type { CategoryValue, Schema, Task } from '../schema/schema.js';
import { descendingOrder, metricFunction, type MetricContext, type MetricName } from './metrics.js';
import { Random } from '../core/random.js';
import { Resampler, ResampleThread, sumsOfCells, type RankedLayout, type RankedSums } from './resample.js';
import type { ReferenceStats } from './stats.js';

export const MODEL_CARD_VERSION = 1;

export interface MetricInterval {
  /** The metric on every test row. */
  estimate: number;
  /** Percentile bootstrap interval. */
  low: number;
  high: number;
  confidence: number;
  /** Resamples that gave a defined value (a resample without both classes has no ROC-AUC). */
  resamples: number;
}

export interface ModelCard {
  cardVersion: typeof MODEL_CARD_VERSION;
  /** The schema's name and description: what a row is. */
  name: string;
  description?: string;
  task: Task;
  target: string;
  /** Classification: the class labels; binary scores are P(classes[1]). */
  classes: CategoryValue[];
  model: { type: string; params: Record<string, unknown> };
  runId: string;
  features: { name: string; type: string; description?: string }[];
  trainingData: {
    dataHash: string;
    rows: { total?: number; train?: number; test?: number };
    /** Classification: rows per class over all the data, in class order. */
    classBalance?: { label: string; count: number; share: number }[];
  };
  evaluation: {
    /** The metric the gates use. */
    metric: string;
    /** Binary: predict classes[1] when the score is at or above it; null otherwise. */
    threshold: number | null;
    thresholdRule?: string;
    testRows?: number;
    metrics: Record<string, number>;
    /** 95% bootstrap intervals on the test part, by metric. */
    intervals: Record<string, MetricInterval>;
    production?: {
      version: string;
      metrics: Record<string, number>;
      /** metric(new) − metric(production) on the same test rows, with its bootstrap interval. */
      difference?: { value: number; low: number; high: number; confidence: number };
    };
  };
  intendedUse: string[];
  limits: string[];
  /**
   * What drives the model: mean |SHAP value| per feature field on a sample of the test rows, in the
   * model's raw output (`space`), largest first. Absent for models that cannot be explained.
   */
  explanations?: { space: string; rows: number; meanAbsShap: { field: string; value: number }[] };
}

/** The metrics a card states with intervals, by task; the gate metric is always among them. */
export function cardMetrics(task: Task, metric: string): MetricName[] {
  const base: MetricName[] =
    task === 'binary'
      ? ['roc_auc', 'pr_auc', 'f1']
      : task === 'regression'
        ? ['rmse', 'mae', 'r2']
        : ['macro_f1', 'accuracy'];
  return base.includes(metric as MetricName) ? base : [...base, metric as MetricName];
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}

function round(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : value;
}

const RANKED = new Set<string>(['roc_auc', 'pr_auc', 'f1']);

/**
 * Draws (rows × resamples) from which a ranked bootstrap takes a second thread: 40,000,000 take about half
 * a second on one, against tens of milliseconds to start a worker.
 */
const HELPED_DRAWS = 40_000_000;
/**
 * The calling thread's share of the resamples when a worker helps: the worker first moves the generator
 * past the calling thread's resamples, at about a seventh of a resample's time each.
 */
const OWN_SHARE = 0.55;

/** Sorts the scores once; every resample after that costs its draws and one pass over the groups. */
export function rankedLayout(
  yTrue: ArrayLike<number>,
  scores: ArrayLike<number>,
  threshold: number,
  order: Int32Array = descendingOrder(scores),
): RankedLayout {
  const n = yTrue.length;
  const cellAtRank = new Int32Array(n);
  const aboveThreshold = new Uint8Array(n);
  let group = 0;
  for (let r = 0; r < n; r++) {
    const i = order[r];
    if (r > 0 && scores[i] !== scores[order[r - 1]]) group++;
    cellAtRank[r] = 2 * group + (yTrue[i] === 1 ? 1 : 0);
    if (scores[i] >= threshold) aboveThreshold[group] = 1;
  }
  return {
    order,
    cellAtRank,
    groups: n > 0 ? group + 1 : 0,
    aboveThreshold: aboveThreshold.subarray(0, group + 1),
  };
}

/**
 * ROC-AUC, average precision and F1 at the layout's threshold of one resample, from its draws per cell
 * (negatives and positives of each tied group): the same definitions as metrics.ts (ties grouped,
 * scikit-learn's average precision).
 */
export function rankedMetricsOfCounts(
  layout: RankedLayout,
  cellCounts: ArrayLike<number>,
): { roc_auc: number; pr_auc: number; f1: number } {
  return rankedMetricsOfSums(sumsOfCells(layout, cellCounts));
}

/** ROC-AUC, average precision and F1 from a resample's sums over its groups of tied scores. */
function rankedMetricsOfSums(sums: RankedSums): { roc_auc: number; pr_auc: number; f1: number } {
  const { tp, fp, area, precisionSum, tpAtThreshold, fpAtThreshold } = sums;
  const fn = tp - tpAtThreshold;
  return {
    roc_auc: tp > 0 && fp > 0 ? area / (tp * fp) : NaN,
    pr_auc: tp > 0 ? precisionSum / tp : NaN,
    f1: tpAtThreshold > 0 ? (2 * tpAtThreshold) / (2 * tpAtThreshold + fpAtThreshold + fn) : 0,
  };
}

/**
 * Seeded percentile-bootstrap intervals of several metrics on one set of predictions: each resample
 * draws rows with replacement (per-row counts used as weights) and every metric is scored on the same
 * resample. `scores` holds P(class 1) a row (binary), the prediction, or `classes` probabilities a row.
 */
export function metricIntervals(options: {
  yTrue: ArrayLike<number>;
  scores: ArrayLike<number>;
  metrics: readonly MetricName[];
  context?: MetricContext;
  resamples: number;
  seed: number;
  confidence?: number;
  /** The rows by descending score (descendingOrder), when the caller has it (binary scores). */
  order?: Int32Array;
  /** Threads the bootstrap may use (1 by default): a second one takes part of a large ranked bootstrap. */
  threads?: number;
}): Record<string, MetricInterval> {
  const confidence = options.confidence ?? 0.95;
  const { yTrue, scores, metrics } = options;
  const context = options.context ?? {};
  const n = yTrue.length;
  const binary = scores.length === n && (context.classes === undefined || context.classes <= 2);
  // Binary ranking metrics share one sort, and a resample is scored from its draws per tied group;
  // the others are plain sums over per-row draw counts.
  const ranked = binary ? metrics.filter((metric) => RANKED.has(metric)) : [];
  const layout =
    ranked.length > 0 ? rankedLayout(yTrue, scores, context.threshold ?? 0.5, options.order) : undefined;
  const others = metrics
    .filter((metric) => !ranked.includes(metric))
    .map((metric) => [metric, metricFunction(metric, context)] as const);
  // each resample is drawn, a byte a row, and its draws summed over the groups of tied scores in one pass
  // over the rows best first, in the kernels (resample.ts): at a byte a row the draws of a test part of
  // millions of rows mostly stay in a core's cache while the pass gathers them in rank order
  const resampler = n > 0 ? Resampler.create(n, layout) : undefined;
  /** The metrics of the resampler's last resample (none: of no rows). */
  const score = (): Record<string, number> => {
    const out: Record<string, number> = layout
      ? resampler
        ? rankedMetricsOfSums(resampler.rankedSums())
        : rankedMetricsOfCounts(layout, new Int32Array(0))
      : {};
    const counts = resampler ? resampler.counts() : new Uint8Array(0);
    for (const [metric, compute] of others) out[metric] = compute(yTrue, scores, counts);
    return out;
  };
  const values = metrics.map(() => [] as number[]);
  const keep = (scored: Record<string, number>): void =>
    metrics.forEach((metric, index) => {
      if (Number.isFinite(scored[metric])) values[index].push(scored[metric]);
    });
  const random = new Random(options.seed);
  // With ranked metrics only, a bootstrap of many draws gives its last resamples to a worker thread,
  // which starts where those resamples' draws start: the same resamples, so the same intervals.
  const helped =
    layout !== undefined &&
    others.length === 0 &&
    (options.threads ?? 1) > 1 &&
    n * options.resamples >= HELPED_DRAWS;
  const own = helped ? Math.ceil(options.resamples * OWN_SHARE) : options.resamples;
  let helper: ResampleThread | undefined;
  if (helped) {
    const state = new Uint32Array(4);
    random.saveState(state);
    helper = ResampleThread.start({
      rows: n,
      ranked: layout,
      state,
      first: own,
      count: options.resamples - own,
    });
  }
  let r = 0;
  for (; r < own && resampler; r++) {
    resampler.draw(random);
    keep(score());
  }
  if (helper && resampler) {
    const done = helper.finish();
    for (const sums of done) keep(rankedMetricsOfSums(sums));
    // those the worker did not draw (it failed, stalled or never started): from where its last ended
    resampler.skip(random, done.length);
    r += done.length;
  }
  for (; r < options.resamples && resampler; r++) {
    resampler.draw(random);
    keep(score());
  }
  // The estimates: every row once.
  resampler?.drawEveryRowOnce();
  const estimates = score();
  const tail = (1 - confidence) / 2;
  const out: Record<string, MetricInterval> = {};
  metrics.forEach((metric, index) => {
    const sorted = Float64Array.from(values[index]).sort();
    out[metric] = {
      estimate: round(estimates[metric]),
      low: round(quantile(sorted, tail)),
      high: round(quantile(sorted, 1 - tail)),
      confidence,
      resamples: sorted.length,
    };
  });
  return out;
}

/** What the card is built from: the schema, the run, and the evaluate and validate outputs (structurally). */
export interface ModelCardInput {
  schema: Schema;
  runId: string;
  model: { type: string; params: Record<string, unknown> };
  dataHash: string;
  rows: { total?: number; train?: number; test?: number };
  evaluation: {
    metric: string;
    threshold: number | null;
    metrics: Record<string, number>;
    intervals?: Record<string, MetricInterval>;
    productionVersion?: string;
    productionMetrics?: Record<string, number>;
    comparison?: { difference: number; low: number; high: number; confidence: number };
    explanations?: { space: string; rows: number; importance: { field: string; meanAbsShap: number }[] };
  };
  /** How a binary threshold was chosen: `f1` (on the training part) or a fixed number. */
  thresholdSetting?: 'f1' | number;
  validation?: {
    checks: { check: string; status: string; message: string; details?: unknown }[];
    drift: {
      reference: string | null;
      features: { field: string; psi: number; ks?: number; drifted: boolean }[];
    };
  };
  /** Training-data statistics, for the ranges the model has seen. */
  referenceStats?: ReferenceStats | null;
}

function formatNumber(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

function count(value: number | undefined): string {
  return value === undefined ? '?' : value.toLocaleString('en-US');
}

function listNames(names: string[], limit = 8): string {
  return names.length <= limit
    ? names.join(', ')
    : `${names.slice(0, limit).join(', ')} and ${names.length - limit} more`;
}

function classBalanceOf(input: ModelCardInput): ModelCard['trainingData']['classBalance'] {
  const check = input.validation?.checks.find((c) => c.check === 'class_balance');
  const details = check?.details;
  if (!details || typeof details !== 'object') return undefined;
  const entries = Object.entries(details as Record<string, unknown>).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number',
  );
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return undefined;
  return entries.map(([label, count]) => ({ label, count, share: round(count / total) }));
}

function intendedUse(input: ModelCardInput, classes: CategoryValue[], threshold: number | null): string[] {
  const { schema } = input;
  const target = schema.target!.name;
  const features = schema.features.map((field) => field.name);
  const out = [
    `Predicts ${target} for ${schema.name} records, one at a time or in batches, from ${features.length} input fields: ${listNames(features, 12)}.`,
  ];
  if (schema.task === 'binary') {
    out.push(
      `Outputs the probability that ${target} is ${String(classes[1])}; the predicted label is ${String(classes[1])} when that probability is at least ${threshold === null ? 0.5 : formatNumber(threshold)}.`,
    );
  } else if (schema.task === 'multiclass') {
    out.push(
      `Outputs a probability for each class (${classes.map(String).join(', ')}); the predicted label is the likeliest one.`,
    );
  } else {
    out.push(`Outputs an estimate of ${target}.`);
  }
  out.push(
    'Meant for records drawn from the same population and period as the training data, to rank or triage them; not for decisions about a person without a human able to review and override them.',
  );
  return out;
}

function knownLimits(input: ModelCardInput, card: Omit<ModelCard, 'limits' | 'intendedUse'>): string[] {
  const limits: string[] = [];
  const rows = input.rows;
  limits.push(
    `Trained on ${count(rows.train ?? rows.total)} rows (data hash ${input.dataHash.slice(0, 12)}) and tested on ${count(rows.test)} held-out rows of the same data: the metrics say how it does on data like that, not on data from another source or a later period.`,
  );
  const ranges = (input.referenceStats?.features ?? [])
    .filter((feature) => feature.kind === 'numeric')
    .map((feature) => `${feature.field} ${formatNumber(feature.min)} to ${formatNumber(feature.max)}`);
  if (ranges.length > 0)
    limits.push(`Seen in training (outside these ranges it extrapolates): ${listNames(ranges, 12)}.`);
  const balance = card.trainingData.classBalance;
  if (balance && balance.length > 1) {
    const minority = balance.reduce((least, entry) => (entry.share < least.share ? entry : least));
    if (minority.share < 0.2) {
      limits.push(
        `Class imbalance: ${card.target} = ${minority.label} is only ${(minority.share * 100).toFixed(1)}% of the rows; accuracy alone overstates the model, so read precision, recall and PR-AUC, and expect fewer correct positives than the ROC-AUC suggests.`,
      );
    }
  }
  const drifted = input.validation?.drift.features.filter((feature) => feature.drifted) ?? [];
  if (drifted.length > 0) {
    limits.push(
      `Drift was flagged in ${drifted.map((f) => `${f.field} (PSI ${f.psi.toFixed(3)})`).join(', ')} against ${input.validation!.drift.reference}: the data moved since the previous model, so watch these features in production.`,
    );
  }
  const warned =
    input.validation?.checks.filter(
      (check) => check.status === 'warn' && check.check !== 'drift' && check.check !== 'class_balance',
    ) ?? [];
  for (const check of warned)
    limits.push(`Validation warned at training time: ${check.check}: ${check.message}.`);
  const intervals = Object.entries(card.evaluation.intervals);
  if (intervals.length === 0) {
    limits.push(
      'No confidence intervals: evaluate.bootstrap is 0, so the metrics are single estimates of unknown precision.',
    );
  } else {
    const wide = intervals.filter(([, interval]) => interval.high - interval.low > 0.1).map(([name]) => name);
    if (wide.length > 0)
      limits.push(
        `Wide intervals for ${wide.join(', ')}: the test part is small, so these metrics are imprecise.`,
      );
  }
  if (card.task === 'binary' && input.thresholdSetting !== undefined) {
    limits.push(
      input.thresholdSetting === 'f1'
        ? 'The threshold maximises F1 on the training part; another cost of false positives against false negatives needs another threshold.'
        : `The threshold is fixed at ${input.thresholdSetting} by the configuration, not tuned on the data.`,
    );
  }
  return limits;
}

/** The model card for a trained model; pure, so the report and the bundle build the same card. */
export function buildModelCard(input: ModelCardInput): ModelCard {
  const { schema, evaluation } = input;
  const task = schema.task ?? 'binary';
  const classes: CategoryValue[] =
    task === 'regression'
      ? []
      : schema.target!.type === 'boolean'
        ? [false, true]
        : [...(schema.target!.values ?? [])];
  const production =
    evaluation.productionVersion && evaluation.productionMetrics
      ? {
          version: evaluation.productionVersion,
          metrics: evaluation.productionMetrics,
          ...(evaluation.comparison
            ? {
                difference: {
                  value: round(evaluation.comparison.difference),
                  low: round(evaluation.comparison.low),
                  high: round(evaluation.comparison.high),
                  confidence: evaluation.comparison.confidence,
                },
              }
            : {}),
        }
      : undefined;
  const classBalance = classBalanceOf(input);
  const base: Omit<ModelCard, 'limits' | 'intendedUse'> = {
    cardVersion: MODEL_CARD_VERSION,
    name: schema.name,
    ...(schema.description !== undefined ? { description: schema.description.trim() } : {}),
    task,
    target: schema.target!.name,
    classes,
    model: input.model,
    runId: input.runId,
    features: schema.features.map((field) => ({
      name: field.name,
      type: field.type,
      ...(field.description ? { description: field.description } : {}),
    })),
    trainingData: { dataHash: input.dataHash, rows: input.rows, ...(classBalance ? { classBalance } : {}) },
    evaluation: {
      metric: evaluation.metric,
      threshold: evaluation.threshold,
      ...(task === 'binary' && input.thresholdSetting !== undefined
        ? {
            thresholdRule:
              input.thresholdSetting === 'f1'
                ? 'maximises F1 on the training part'
                : 'fixed in pipewright.yaml',
          }
        : {}),
      ...(input.rows.test !== undefined ? { testRows: input.rows.test } : {}),
      metrics: evaluation.metrics,
      intervals: evaluation.intervals ?? {},
      ...(production ? { production } : {}),
    },
  };
  return {
    ...base,
    intendedUse: intendedUse(input, classes, evaluation.threshold),
    limits: knownLimits(input, base),
    ...(evaluation.explanations
      ? {
          explanations: {
            space: evaluation.explanations.space,
            rows: evaluation.explanations.rows,
            meanAbsShap: evaluation.explanations.importance.map((item) => ({
              field: item.field,
              value: item.meanAbsShap,
            })),
          },
        }
      : {}),
  };
}
