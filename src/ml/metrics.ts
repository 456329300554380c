// Evaluation metrics, computed as scikit-learn 1.2 computes them (tested against its numbers):
// classification, ranking (ROC-AUC, average precision), probability (log-loss, Brier, calibration),
// threshold selection, regression, multiclass, and a seeded bootstrap of a metric difference.
import { errors } from '../core/errors.js';
import { Random } from '../core/random.js';
import { Resampler } from './resample.js';

/** Labels are 0/1 (binary) or class indices; scores are P(class 1) unless said otherwise; weights are optional per-row weights. */
type Labels = ArrayLike<number>;
type Weights = ArrayLike<number> | undefined;

function weightOf(weights: Weights, i: number): number {
  return weights ? weights[i] : 1;
}

function checkLengths(name: string, a: ArrayLike<number>, b: ArrayLike<number>, weights?: Weights): void {
  if (a.length !== b.length || (weights && weights.length !== a.length)) {
    throw new errors.PW_USAGE(
      `${name}: inputs have different lengths (${a.length}, ${b.length}${weights ? `, ${weights.length}` : ''})`,
    );
  }
}

/** 1 where score >= threshold. */
export function labelsAtThreshold(scores: ArrayLike<number>, threshold: number): Float64Array {
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = scores[i] >= threshold ? 1 : 0;
  return out;
}

/** Rows are true classes, columns predicted classes (scikit-learn's layout). */
export function confusionMatrix(
  yTrue: Labels,
  yPred: Labels,
  classes?: number,
  weights?: Weights,
): number[][] {
  checkLengths('confusionMatrix', yTrue, yPred, weights);
  let k = classes ?? 2;
  if (classes === undefined)
    for (let i = 0; i < yTrue.length; i++) k = Math.max(k, yTrue[i] + 1, yPred[i] + 1);
  const matrix = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < yTrue.length; i++) matrix[yTrue[i]][yPred[i]] += weightOf(weights, i);
  return matrix;
}

export function accuracy(yTrue: Labels, yPred: Labels, weights?: Weights): number {
  checkLengths('accuracy', yTrue, yPred, weights);
  let right = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    total += w;
    if (yTrue[i] === yPred[i]) right += w;
  }
  return total > 0 ? right / total : NaN;
}

function binaryCounts(
  yTrue: Labels,
  yPred: Labels,
  weights: Weights,
): { tp: number; fp: number; fn: number; tn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    if (yPred[i] === 1) {
      if (yTrue[i] === 1) tp += w;
      else fp += w;
    } else if (yTrue[i] === 1) fn += w;
    else tn += w;
  }
  return { tp, fp, fn, tn };
}

/** Precision of class 1; 0 when nothing is predicted positive (scikit-learn's zero_division). */
export function precision(yTrue: Labels, yPred: Labels, weights?: Weights): number {
  checkLengths('precision', yTrue, yPred, weights);
  const { tp, fp } = binaryCounts(yTrue, yPred, weights);
  return tp + fp > 0 ? tp / (tp + fp) : 0;
}

export function recall(yTrue: Labels, yPred: Labels, weights?: Weights): number {
  checkLengths('recall', yTrue, yPred, weights);
  const { tp, fn } = binaryCounts(yTrue, yPred, weights);
  return tp + fn > 0 ? tp / (tp + fn) : 0;
}

export function f1Score(yTrue: Labels, yPred: Labels, weights?: Weights): number {
  checkLengths('f1Score', yTrue, yPred, weights);
  const { tp, fp, fn } = binaryCounts(yTrue, yPred, weights);
  return tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0;
}

/** Bits of a descendingOrder pass's digit, and the digit's values. */
const DIGIT_BITS = 11;
const DIGITS = 1 << DIGIT_BITS;
/** Where each pass's digit starts in the 64-bit key: three in its low word, then three in its high word. */
const DIGIT_SHIFTS = [0, 11, 22, 0, 11, 22];

/**
 * Row indices by descending score, ties in index order (-0 ties with 0). A stable least-significant-digit
 * radix sort of 64-bit keys that order the doubles the other way round: 11 bits a pass, each pass's
 * counts taken in one read of the keys, a pass skipped where every row has the same digit. On the
 * 2,000,000 test rows of a ten-million-row table it takes a fifth of a comparison sort's time.
 */
export function descendingOrder(scores: ArrayLike<number>): Int32Array {
  const n = scores.length;
  const value = new Float64Array(1);
  const words = new Uint32Array(value.buffer);
  let order = new Int32Array(n);
  let high = new Uint32Array(n);
  let low = new Uint32Array(n);
  const counts = new Int32Array(DIGIT_SHIFTS.length * DIGITS);
  for (let i = 0; i < n; i++) {
    const score = scores[i];
    if (score !== score)
      throw new errors.PW_USAGE(`Scores hold NaN at row ${i}`, { hint: 'Every row needs a score to rank.' });
    // +0 for -0; then a negative keeps its bits (more negative, larger key) and a positive's are
    // inverted below the sign (larger, smaller key, and below every negative's)
    value[0] = score === 0 ? 0 : score;
    const negative = words[1] >>> 31 === 1;
    const keyLow = negative ? words[0] : ~words[0] >>> 0;
    const keyHigh = negative ? words[1] : ~words[1] & 0x7fffffff;
    order[i] = i;
    low[i] = keyLow;
    high[i] = keyHigh;
    counts[keyLow & (DIGITS - 1)]++;
    counts[DIGITS + ((keyLow >>> 11) & (DIGITS - 1))]++;
    counts[2 * DIGITS + (keyLow >>> 22)]++;
    counts[3 * DIGITS + (keyHigh & (DIGITS - 1))]++;
    counts[4 * DIGITS + ((keyHigh >>> 11) & (DIGITS - 1))]++;
    counts[5 * DIGITS + (keyHigh >>> 22)]++;
  }
  let nextOrder = new Int32Array(n);
  let nextHigh = new Uint32Array(n);
  let nextLow = new Uint32Array(n);
  for (let pass = 0; pass < DIGIT_SHIFTS.length; pass++) {
    const at = pass * DIGITS;
    // every row with the same digit: the pass would leave the order as it is
    let skip = false;
    for (let d = 0; d < DIGITS && !skip; d++) skip = counts[at + d] === n;
    if (skip) continue;
    for (let d = 0, total = 0; d < DIGITS; d++) {
      const count = counts[at + d];
      counts[at + d] = total;
      total += count;
    }
    const shift = DIGIT_SHIFTS[pass];
    const lowWord = pass < 3;
    for (let i = 0; i < n; i++) {
      const keyHigh = high[i];
      const digit = ((lowWord ? low[i] : keyHigh) >>> shift) & (DIGITS - 1);
      const to = counts[at + digit]++;
      nextOrder[to] = order[i];
      nextHigh[to] = keyHigh;
      // the low word is read by the passes over it only
      if (lowWord) nextLow[to] = low[i];
    }
    [order, nextOrder] = [nextOrder, order];
    [high, nextHigh] = [nextHigh, high];
    [low, nextLow] = [nextLow, low];
  }
  return order;
}

export interface ClassifierCurve {
  /** Weighted false and true positives at or above each distinct threshold, thresholds descending. */
  fps: Float64Array;
  tps: Float64Array;
  thresholds: Float64Array;
}

/**
 * scikit-learn's _binary_clf_curve: the weighted false and true positives at each distinct score, best
 * first. ROC and precision-recall points are both read from it (rocPoints, precisionRecallPoints).
 */
export function binaryClassifierCurve(
  yTrue: Labels,
  scores: ArrayLike<number>,
  weights?: Weights,
  order?: Int32Array,
): ClassifierCurve {
  checkLengths('curve', yTrue, scores, weights);
  const sorted = order ?? descendingOrder(scores);
  // a point a distinct score: at most one a row, trimmed to those found
  const fps = new Float64Array(sorted.length);
  const tps = new Float64Array(sorted.length);
  const thresholds = new Float64Array(sorted.length);
  let points = 0;
  let tp = 0;
  let fp = 0;
  for (let r = 0; r < sorted.length; r++) {
    const i = sorted[r];
    const w = weightOf(weights, i);
    if (yTrue[i] === 1) tp += w;
    else fp += w;
    if (r === sorted.length - 1 || scores[sorted[r + 1]] !== scores[i]) {
      fps[points] = fp;
      tps[points] = tp;
      thresholds[points] = scores[i];
      points++;
    }
  }
  return { fps: fps.slice(0, points), tps: tps.slice(0, points), thresholds: thresholds.slice(0, points) };
}

/** Area under the ROC curve, ties counted as half (the trapezoid over distinct thresholds); NaN with a single class. */
export function rocAuc(yTrue: Labels, scores: ArrayLike<number>, weights?: Weights): number {
  return rocAucOrdered(yTrue, scores, weights, undefined);
}

function rocAucOrdered(
  yTrue: Labels,
  scores: ArrayLike<number>,
  weights: Weights,
  order: Int32Array | undefined,
): number {
  checkLengths('rocAuc', yTrue, scores, weights);
  const sorted = order ?? descendingOrder(scores);
  let tp = 0;
  let fp = 0;
  let previousTp = 0;
  let previousFp = 0;
  let area = 0;
  for (let r = 0; r < sorted.length; r++) {
    const i = sorted[r];
    const w = weightOf(weights, i);
    if (yTrue[i] === 1) tp += w;
    else fp += w;
    if (r === sorted.length - 1 || scores[sorted[r + 1]] !== scores[i]) {
      area += ((fp - previousFp) * (tp + previousTp)) / 2;
      previousTp = tp;
      previousFp = fp;
    }
  }
  return tp > 0 && fp > 0 ? area / (tp * fp) : NaN;
}

/** Average precision: Σ (R_n − R_{n−1}) P_n over distinct thresholds (scikit-learn's, not interpolated). */
export function averagePrecision(yTrue: Labels, scores: ArrayLike<number>, weights?: Weights): number {
  return averagePrecisionOrdered(yTrue, scores, weights, undefined);
}

function averagePrecisionOrdered(
  yTrue: Labels,
  scores: ArrayLike<number>,
  weights: Weights,
  order: Int32Array | undefined,
): number {
  const { fps, tps } = binaryClassifierCurve(yTrue, scores, weights, order);
  const positives = tps[tps.length - 1];
  if (!(positives > 0)) return NaN;
  let sum = 0;
  let previousRecall = 0;
  for (let t = 0; t < tps.length; t++) {
    const recallHere = tps[t] / positives;
    const predicted = tps[t] + fps[t];
    sum += (recallHere - previousRecall) * (predicted > 0 ? tps[t] / predicted : 0);
    previousRecall = recallHere;
  }
  return sum;
}

/** ROC curve points as scikit-learn's roc_curve (first threshold = highest score + 1). */
export function rocCurve(
  yTrue: Labels,
  scores: ArrayLike<number>,
  options: { weights?: Weights; dropIntermediate?: boolean; order?: Int32Array } = {},
): { fpr: number[]; tpr: number[]; thresholds: number[] } {
  const points = rocPoints(
    binaryClassifierCurve(yTrue, scores, options.weights, options.order),
    options.dropIntermediate ?? true,
  );
  return {
    fpr: Array.from(points.fpr),
    tpr: Array.from(points.tpr),
    thresholds: Array.from(points.thresholds),
  };
}

/** rocCurve's points, as typed arrays, from a classifier curve. */
export function rocPoints(
  curve: ClassifierCurve,
  dropIntermediate = true,
): { fpr: Float64Array; tpr: Float64Array; thresholds: Float64Array } {
  let { fps, tps, thresholds } = curve;
  if (dropIntermediate && fps.length > 2) {
    // the points where the curve bends, and both ends
    const keep = new Int32Array(fps.length);
    let kept = 0;
    keep[kept++] = 0;
    for (let t = 1; t < fps.length - 1; t++) {
      const secondFp = fps[t + 1] - 2 * fps[t] + fps[t - 1];
      const secondTp = tps[t + 1] - 2 * tps[t] + tps[t - 1];
      if (secondFp !== 0 || secondTp !== 0) keep[kept++] = t;
    }
    keep[kept++] = fps.length - 1;
    const picked = keep.subarray(0, kept);
    fps = gathered(fps, picked);
    tps = gathered(tps, picked);
    thresholds = gathered(thresholds, picked);
  }
  const count = fps.length;
  const negatives = fps[count - 1];
  const positives = tps[count - 1];
  const fpr = new Float64Array(count + 1);
  const tpr = new Float64Array(count + 1);
  const cuts = new Float64Array(count + 1);
  cuts[0] = thresholds[0] + 1;
  for (let t = 0; t < count; t++) {
    fpr[t + 1] = negatives > 0 ? fps[t] / negatives : NaN;
    tpr[t + 1] = positives > 0 ? tps[t] / positives : NaN;
    cuts[t + 1] = thresholds[t];
  }
  return { fpr, tpr, thresholds: cuts };
}

function gathered(values: Float64Array, at: Int32Array): Float64Array {
  const out = new Float64Array(at.length);
  for (let k = 0; k < at.length; k++) out[k] = values[at[k]];
  return out;
}

/**
 * Precision-recall points as scikit-learn's precision_recall_curve: recall decreasing, ending at (recall
 * 0, precision 1). `order`: the rows by descending score, when the caller has it (descendingOrder).
 */
export function precisionRecallCurve(
  yTrue: Labels,
  scores: ArrayLike<number>,
  weights?: Weights,
  order?: Int32Array,
): { precision: number[]; recall: number[]; thresholds: number[] } {
  const points = precisionRecallPoints(binaryClassifierCurve(yTrue, scores, weights, order));
  return {
    precision: Array.from(points.precision),
    recall: Array.from(points.recall),
    thresholds: Array.from(points.thresholds),
  };
}

/** precisionRecallCurve's points, as typed arrays, from a classifier curve. */
export function precisionRecallPoints(curve: ClassifierCurve): {
  precision: Float64Array;
  recall: Float64Array;
  thresholds: Float64Array;
} {
  const { fps, tps, thresholds } = curve;
  const count = tps.length;
  const positives = tps[count - 1];
  const precision = new Float64Array(count + 1);
  const recall = new Float64Array(count + 1);
  for (let t = count - 1, k = 0; t >= 0; t--, k++) {
    const predicted = tps[t] + fps[t];
    precision[k] = predicted > 0 ? tps[t] / predicted : 0;
    recall[k] = positives > 0 ? tps[t] / positives : 1;
  }
  precision[count] = 1;
  recall[count] = 0;
  return { precision, recall, thresholds: thresholds.slice().reverse() };
}

/** Binary cross-entropy; probabilities are clipped to [ε, 1 − ε] with ε the float64 epsilon (scikit-learn 1.2's "auto"). */
export function logLoss(yTrue: Labels, probabilities: ArrayLike<number>, weights?: Weights): number {
  checkLengths('logLoss', yTrue, probabilities, weights);
  const epsilon = Number.EPSILON;
  let sum = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    const p = Math.min(1 - epsilon, Math.max(epsilon, probabilities[i]));
    const q = Math.min(1 - epsilon, Math.max(epsilon, 1 - probabilities[i]));
    // scikit-learn renormalises the clipped pair [1 - p, p].
    const probability = (yTrue[i] === 1 ? p : q) / (p + q);
    sum -= w * Math.log(probability);
    total += w;
  }
  return sum / total;
}

export function brierScore(yTrue: Labels, probabilities: ArrayLike<number>, weights?: Weights): number {
  checkLengths('brierScore', yTrue, probabilities, weights);
  let sum = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    sum += w * (probabilities[i] - yTrue[i]) ** 2;
    total += w;
  }
  return sum / total;
}

export interface CalibrationBin {
  /** The bin covers (low, high]; the first bin includes 0. */
  low: number;
  high: number;
  count: number;
  meanPredicted: number;
  fractionPositive: number;
}

/** Reliability diagram data: `bins` equal-width bins of [0, 1], empty bins left out (scikit-learn's calibration_curve, uniform). */
export function calibrationBins(
  yTrue: Labels,
  probabilities: ArrayLike<number>,
  bins = 10,
): CalibrationBin[] {
  checkLengths('calibrationBins', yTrue, probabilities);
  const sums = new Float64Array(bins);
  const positives = new Float64Array(bins);
  const counts = new Float64Array(bins);
  for (let i = 0; i < yTrue.length; i++) {
    const p = probabilities[i];
    // The number of inner edges strictly below p, as numpy's searchsorted(side="left").
    let bin = 0;
    while (bin < bins - 1 && (bin + 1) / bins < p) bin++;
    sums[bin] += p;
    positives[bin] += yTrue[i];
    counts[bin]++;
  }
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    if (counts[b] === 0) continue;
    out.push({
      low: b / bins,
      high: (b + 1) / bins,
      count: counts[b],
      meanPredicted: sums[b] / counts[b],
      fractionPositive: positives[b] / counts[b],
    });
  }
  return out;
}

export interface ThresholdChoice {
  /** Predict class 1 when the score is at or above it. */
  threshold: number;
  f1: number;
  precision: number;
  recall: number;
  /** fp × costFalsePositive + fn × costFalseNegative at this threshold (weighted counts). */
  cost: number;
}

/**
 * The score threshold that maximises F1 (default) or minimises fp·costFalsePositive + fn·costFalseNegative,
 * over every distinct score. On a tie the higher threshold wins (fewer positive predictions).
 */
export function selectThreshold(
  yTrue: Labels,
  scores: ArrayLike<number>,
  options: {
    objective?: 'f1' | 'cost';
    costFalsePositive?: number;
    costFalseNegative?: number;
    weights?: Weights;
  } = {},
): ThresholdChoice {
  const objective =
    options.objective ??
    (options.costFalsePositive !== undefined || options.costFalseNegative !== undefined ? 'cost' : 'f1');
  const costFp = options.costFalsePositive ?? 1;
  const costFn = options.costFalseNegative ?? 1;
  const { fps, tps, thresholds } = binaryClassifierCurve(yTrue, scores, options.weights);
  const positives = tps[tps.length - 1];
  const describe = (t: number): ThresholdChoice => {
    const tp = t < 0 ? 0 : tps[t];
    const fp = t < 0 ? 0 : fps[t];
    const fn = positives - tp;
    return {
      threshold: t < 0 ? (thresholds.length > 0 ? thresholds[0] + 1 : 1) : thresholds[t],
      f1: tp > 0 ? (2 * tp) / (2 * tp + fp + fn) : 0,
      precision: tp + fp > 0 ? tp / (tp + fp) : 0,
      recall: positives > 0 ? tp / positives : 0,
      cost: fp * costFp + fn * costFn,
    };
  };
  // t = -1 stands for "predict nothing positive" (a threshold above every score).
  let best = describe(-1);
  for (let t = 0; t < thresholds.length; t++) {
    const candidate = describe(t);
    if (objective === 'f1' ? candidate.f1 > best.f1 : candidate.cost < best.cost) best = candidate;
  }
  return best;
}

// Regression

export function rmse(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, weights?: Weights): number {
  checkLengths('rmse', yTrue, yPred, weights);
  let sum = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    sum += w * (yTrue[i] - yPred[i]) ** 2;
    total += w;
  }
  return Math.sqrt(sum / total);
}

export function mae(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, weights?: Weights): number {
  checkLengths('mae', yTrue, yPred, weights);
  let sum = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    sum += w * Math.abs(yTrue[i] - yPred[i]);
    total += w;
  }
  return sum / total;
}

/** Coefficient of determination; 1 for a perfect fit of a constant target, 0 otherwise, as scikit-learn. */
export function r2(yTrue: ArrayLike<number>, yPred: ArrayLike<number>, weights?: Weights): number {
  checkLengths('r2', yTrue, yPred, weights);
  let total = 0;
  let mean = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    mean += w * yTrue[i];
    total += w;
  }
  mean /= total;
  let residual = 0;
  let spread = 0;
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    residual += w * (yTrue[i] - yPred[i]) ** 2;
    spread += w * (yTrue[i] - mean) ** 2;
  }
  if (spread === 0) return residual === 0 ? 1 : 0;
  return 1 - residual / spread;
}

// Multiclass

/** Unweighted mean of per-class F1 over `classes` classes (classes absent from both true and predicted labels score 0). */
export function macroF1(yTrue: Labels, yPred: Labels, classes: number, weights?: Weights): number {
  checkLengths('macroF1', yTrue, yPred, weights);
  const tp = new Float64Array(classes);
  const fp = new Float64Array(classes);
  const fn = new Float64Array(classes);
  for (let i = 0; i < yTrue.length; i++) {
    const w = weightOf(weights, i);
    if (yTrue[i] === yPred[i]) tp[yTrue[i]] += w;
    else {
      fp[yPred[i]] += w;
      fn[yTrue[i]] += w;
    }
  }
  let sum = 0;
  for (let c = 0; c < classes; c++) sum += tp[c] > 0 ? (2 * tp[c]) / (2 * tp[c] + fp[c] + fn[c]) : 0;
  return sum / classes;
}

/** The likeliest class of each row of row-major probabilities (k a row). */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Float64Array {
  const rows = probabilities.length / classes;
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (probabilities[i * classes + c] > probabilities[i * classes + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** Cross-entropy of row-major probabilities (k a row), clipped and renormalised as scikit-learn 1.2. */
export function multiclassLogLoss(
  yTrue: Labels,
  probabilities: ArrayLike<number>,
  classes: number,
  weights?: Weights,
): number {
  if (probabilities.length !== yTrue.length * classes) {
    throw new errors.PW_USAGE(
      `multiclassLogLoss: ${yTrue.length} labels need ${yTrue.length * classes} probabilities, got ${probabilities.length}`,
    );
  }
  const epsilon = Number.EPSILON;
  let sum = 0;
  let total = 0;
  for (let i = 0; i < yTrue.length; i++) {
    let rowSum = 0;
    for (let c = 0; c < classes; c++)
      rowSum += Math.min(1 - epsilon, Math.max(epsilon, probabilities[i * classes + c]));
    const p = Math.min(1 - epsilon, Math.max(epsilon, probabilities[i * classes + yTrue[i]])) / rowSum;
    const w = weightOf(weights, i);
    sum -= w * Math.log(p);
    total += w;
  }
  return sum / total;
}

// Metrics by name (the `evaluate.metric` setting)

export const METRIC_NAMES = [
  'roc_auc',
  'pr_auc',
  'f1',
  'accuracy',
  'log_loss',
  'macro_f1',
  'rmse',
  'mae',
  'r2',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export function higherIsBetter(metric: MetricName): boolean {
  return !['log_loss', 'rmse', 'mae'].includes(metric);
}

export interface MetricContext {
  /** Binary: the decision threshold for f1 and accuracy (default 0.5). */
  threshold?: number;
  /** Multiclass: the number of classes; scores are then row-major probabilities. */
  classes?: number;
}

/** A metric as a function of labels, scores and row weights. */
export type MetricFunction = (yTrue: Labels, scores: ArrayLike<number>, weights?: Weights) => number;

/**
 * The named metric. Binary tasks pass P(class 1) as scores; multiclass tasks pass k probabilities a
 * row and `classes`; regression passes predicted values.
 */
export function metricFunction(metric: MetricName, context: MetricContext = {}): MetricFunction {
  return namedMetric(metric, context, false);
}

/** With `reuseOrder`, the ranking metrics sort once and reuse the order while the same (unchanged) scores array comes back. */
function namedMetric(metric: MetricName, context: MetricContext, reuseOrder: boolean): MetricFunction {
  const threshold = context.threshold ?? 0.5;
  const classes = context.classes;
  const multiclass = classes !== undefined && classes > 2;
  let cachedScores: ArrayLike<number> | undefined;
  let cachedOrder: Int32Array | undefined;
  const orderOf = (scores: ArrayLike<number>): Int32Array => {
    if (!reuseOrder || scores !== cachedScores) {
      cachedScores = scores;
      cachedOrder = descendingOrder(scores);
    }
    return cachedOrder!;
  };
  switch (metric) {
    case 'roc_auc':
      return (y, s, w) => rocAucOrdered(y, s, w, orderOf(s));
    case 'pr_auc':
      return (y, s, w) => averagePrecisionOrdered(y, s, w, orderOf(s));
    case 'f1':
      return (y, s, w) => f1Score(y, labelsAtThreshold(s, threshold), w);
    case 'accuracy':
      return multiclass
        ? (y, s, w) => accuracy(y, argmaxRows(s, classes), w)
        : (y, s, w) => accuracy(y, labelsAtThreshold(s, threshold), w);
    case 'log_loss':
      return multiclass ? (y, s, w) => multiclassLogLoss(y, s, classes, w) : (y, s, w) => logLoss(y, s, w);
    case 'macro_f1':
      if (!multiclass) return (y, s, w) => macroF1(y, labelsAtThreshold(s, threshold), 2, w);
      return (y, s, w) => macroF1(y, argmaxRows(s, classes), classes, w);
    case 'rmse':
      return (y, s, w) => rmse(y, s, w);
    case 'mae':
      return (y, s, w) => mae(y, s, w);
    case 'r2':
      return (y, s, w) => r2(y, s, w);
    default:
      throw new errors.PW_CONFIG_INVALID(`Unknown metric ${JSON.stringify(metric)}`, {
        hint: `Use one of ${METRIC_NAMES.join(', ')}.`,
      });
  }
}

export interface BinaryReport {
  rows: number;
  positives: number;
  threshold: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number;
  pr_auc: number;
  log_loss: number;
  brier: number;
  /** [[tn, fp], [fn, tp]]. */
  confusion: number[][];
}

/**
 * Every binary metric at once, for the evaluation report; `order`: the rows by descending probability,
 * when the caller has it (descendingOrder).
 */
export function binaryReport(
  yTrue: Labels,
  probabilities: ArrayLike<number>,
  threshold: number,
  order: Int32Array = descendingOrder(probabilities),
): BinaryReport {
  const predicted = labelsAtThreshold(probabilities, threshold);
  let positives = 0;
  for (let i = 0; i < yTrue.length; i++) positives += yTrue[i] === 1 ? 1 : 0;
  return {
    rows: yTrue.length,
    positives,
    threshold,
    accuracy: accuracy(yTrue, predicted),
    precision: precision(yTrue, predicted),
    recall: recall(yTrue, predicted),
    f1: f1Score(yTrue, predicted),
    roc_auc: rocAucOrdered(yTrue, probabilities, undefined, order),
    pr_auc: averagePrecisionOrdered(yTrue, probabilities, undefined, order),
    log_loss: logLoss(yTrue, probabilities),
    brier: brierScore(yTrue, probabilities),
    confusion: confusionMatrix(yTrue, predicted, 2),
  };
}

export interface BootstrapResult {
  /** metric(A) − metric(B) on all rows. */
  difference: number;
  /** Percentile interval of the difference over the resamples. */
  low: number;
  high: number;
  confidence: number;
  resamples: number;
  /** Share of resamples where A scored better than B (by the metric's direction). */
  shareABetter: number;
}

/**
 * A seeded percentile-bootstrap interval of metric(A) − metric(B) on the same rows: each resample draws
 * rows with replacement (as per-row counts used as weights), and both models are scored on it.
 */
export function bootstrapMetricDifference(options: {
  yTrue: Labels;
  scoresA: ArrayLike<number>;
  scoresB: ArrayLike<number>;
  metric: MetricName | MetricFunction;
  /** For a metric given by name: its context for each model (thresholds may differ). */
  contextA?: MetricContext;
  contextB?: MetricContext;
  resamples?: number;
  seed: number;
  confidence?: number;
}): BootstrapResult {
  const { yTrue, scoresA, scoresB, seed } = options;
  const resamples = options.resamples ?? 200;
  const confidence = options.confidence ?? 0.95;
  // The scores do not change between resamples, so the ranking metrics sort each model's scores once.
  const functionA =
    typeof options.metric === 'string'
      ? namedMetric(options.metric, options.contextA ?? {}, true)
      : options.metric;
  const functionB =
    typeof options.metric === 'string'
      ? namedMetric(options.metric, options.contextB ?? {}, true)
      : options.metric;
  const better = typeof options.metric === 'string' ? (higherIsBetter(options.metric) ? 1 : -1) : 1;
  const difference = functionA(yTrue, scoresA) - functionB(yTrue, scoresB);
  const random = new Random(seed);
  const n = yTrue.length;
  const resampler = n > 0 ? Resampler.create(n) : undefined;
  const differences: number[] = [];
  let aBetter = 0;
  for (let r = 0; r < resamples && resampler; r++) {
    // each row's draws, as random.nextInt(n) draws the rows
    resampler.draw(random);
    const counts = resampler.counts();
    const value = functionA(yTrue, scoresA, counts) - functionB(yTrue, scoresB, counts);
    if (Number.isNaN(value)) continue;
    differences.push(value);
    if (better * value > 0) aBetter++;
  }
  differences.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const sorted = Float64Array.from(differences);
  return {
    difference,
    low: quantileLinear(sorted, tail),
    high: quantileLinear(sorted, 1 - tail),
    confidence,
    resamples: differences.length,
    shareABetter: differences.length > 0 ? aBetter / differences.length : NaN,
  };
}

function quantileLinear(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  const position = q * (sorted.length - 1);
  const low = Math.floor(position);
  const high = Math.min(sorted.length - 1, low + 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (position - low);
}
