// The pipeline settings an inferred schema implies: encoders for wide categories and text, the loss,
// the minimum rows, and the metric (with its gate) chosen by task and class balance.
import type { InferredSchema } from '../schema/infer/index.js';

export type MetricChoice = 'roc_auc' | 'pr_auc' | 'accuracy' | 'macro_f1' | 'r2';

export interface ProjectSettings {
  metric: MetricChoice;
  expectedScore: number;
  /** Why this metric and this floor. */
  metricNote: string;
  /** Per-field encoder overrides, with the reason for each. */
  fieldOverrides: { field: string; encoder: 'ordinal'; reason: string }[];
  loss: 'log_loss' | 'squared_error';
  minRows: number;
}

/** Categories with more values than this are coded as one ordinal column instead of one column each. */
export const ONE_HOT_LIMIT = 30;
/** Binary tasks whose smaller class is rarer than this are scored by PR-AUC instead of ROC-AUC. */
export const RARE_CLASS_SHARE = 0.1;

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A floor a little above what guessing scores: chance plus a tenth of the way to a perfect score. */
function floorAbove(chance: number): number {
  return round(chance + 0.1 * (1 - chance));
}

/** The pipeline settings the data implies: transformers per type, the metric per task and class balance. */
export function chooseSettings(inferred: InferredSchema): ProjectSettings {
  const features = inferred.fields.filter((field) => field.role === 'feature');
  const fieldOverrides: ProjectSettings['fieldOverrides'] = [];
  for (const field of features) {
    if (field.type === 'category' && (field.values?.length ?? 0) > ONE_HOT_LIMIT) {
      fieldOverrides.push({
        field: field.name,
        encoder: 'ordinal',
        reason: `${field.values!.length} categories: one ordinal column instead of ${field.values!.length} one-hot columns`,
      });
    } else if (field.type === 'string') {
      fieldOverrides.push({
        field: field.name,
        encoder: 'ordinal',
        reason: `text with ${field.summary.distinct} values: one ordinal column; values not seen in training count as missing`,
      });
    }
  }
  const minRows = Math.max(1, Math.min(100, Math.floor(inferred.rows / 2)));
  const base = { fieldOverrides, minRows };
  if (inferred.task === 'regression' || inferred.task === undefined) {
    return {
      ...base,
      metric: 'r2',
      expectedScore: 0.1,
      metricNote:
        'regression: R² (the share of the variance explained; 0 is what predicting the mean scores); the floor asks for a tenth',
      loss: 'squared_error',
    };
  }
  const classes = inferred.classes ?? [];
  const total = classes.reduce((sum, entry) => sum + entry.count, 0);
  const shares = classes.map((entry) => (total > 0 ? entry.count / total : 0));
  const smallest = Math.min(...shares);
  const largest = Math.max(...shares);
  const describe = classes
    .map(
      (entry, index) =>
        `${String(entry.label)} ${(100 * shares[index]).toFixed(shares[index] < 0.1 ? 1 : 0)}%`,
    )
    .join(', ');
  if (inferred.task === 'binary') {
    const positive = shares[1] ?? 0.5;
    if (smallest < RARE_CLASS_SHARE) {
      return {
        ...base,
        metric: 'pr_auc',
        expectedScore: floorAbove(positive),
        metricNote: `binary with a rare class (${describe}): PR-AUC, which ROC-AUC's optimism about rare classes does not hide; guessing scores ${round(positive)}`,
        loss: 'log_loss',
      };
    }
    return {
      ...base,
      metric: 'roc_auc',
      expectedScore: 0.6,
      metricNote: `binary (${describe}): ROC-AUC; guessing scores 0.5`,
      loss: 'log_loss',
    };
  }
  const k = classes.length;
  if (smallest < 0.5 / k) {
    return {
      ...base,
      metric: 'macro_f1',
      expectedScore: floorAbove(1 / k),
      metricNote: `multiclass with unequal classes (${describe}): macro-F1, which weighs every class the same; guessing scores about ${round(1 / k)}`,
      loss: 'log_loss',
    };
  }
  return {
    ...base,
    metric: 'accuracy',
    expectedScore: floorAbove(largest),
    metricNote: `multiclass with classes of similar size (${describe}): accuracy; always answering the largest class scores ${round(largest)}`,
    loss: 'log_loss',
  };
}
