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

/** What a perfect model scores on every metric the inferred gate uses. */
const PERFECT_SCORE = 1;
/** The gate asks for this share of the way from a trivial model's score to a perfect one. */
export const GATE_MARGIN_SHARE = 0.1;

/**
 * The inferred gate: what a trivial model scores on this data plus a tenth of the way to a perfect
 * score, never above the perfect score; with the sentence the config's comment gives for it.
 */
export function derivedGate(
  trivial: number,
  trivialWhat: string,
): { expectedScore: number; derivation: string } {
  const expectedScore = Math.min(
    PERFECT_SCORE,
    round(trivial + GATE_MARGIN_SHARE * (PERFECT_SCORE - trivial)),
  );
  return {
    expectedScore,
    derivation: `the gate ${expectedScore} is ${trivialWhat} (${round(trivial)}) plus a tenth of the way to a perfect ${PERFECT_SCORE}`,
  };
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
    const gate = derivedGate(0, 'what predicting the mean scores');
    return {
      ...base,
      metric: 'r2',
      expectedScore: gate.expectedScore,
      metricNote: `regression: R² (the share of the variance explained); ${gate.derivation}`,
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
    // The positive class is the second (inference puts it there: named, read as "yes", or the rarer).
    const positive = shares[1] ?? 0.5;
    if (smallest < RARE_CLASS_SHARE) {
      const gate = derivedGate(positive, `the positive class's share, what a model that cannot rank scores`);
      return {
        ...base,
        metric: 'pr_auc',
        expectedScore: gate.expectedScore,
        metricNote: `binary with a rare class (${describe}; positive ${String(classes[1]?.label)}): PR-AUC, which ROC-AUC's optimism about rare classes does not hide; ${gate.derivation}`,
        loss: 'log_loss',
      };
    }
    const gate = derivedGate(0.5, 'what a model that cannot rank scores');
    return {
      ...base,
      metric: 'roc_auc',
      expectedScore: gate.expectedScore,
      metricNote: `binary (${describe}; positive ${String(classes[1]?.label)}): ROC-AUC; ${gate.derivation}`,
      loss: 'log_loss',
    };
  }
  const k = classes.length;
  if (smallest < 0.5 / k) {
    // Always answering the largest class scores 2p/(1+p)/k; guessing in class proportions scores 1/k.
    const gate = derivedGate(
      Math.max(1 / k, (2 * largest) / (1 + largest) / k),
      'what guessing in class proportions scores',
    );
    return {
      ...base,
      metric: 'macro_f1',
      expectedScore: gate.expectedScore,
      metricNote: `multiclass with unequal classes (${describe}): macro-F1, which weighs every class the same; ${gate.derivation}`,
      loss: 'log_loss',
    };
  }
  const gate = derivedGate(largest, 'what always answering the largest class scores');
  return {
    ...base,
    metric: 'accuracy',
    expectedScore: gate.expectedScore,
    metricNote: `multiclass with classes of similar size (${describe}): accuracy; ${gate.derivation}`,
    loss: 'log_loss',
  };
}
