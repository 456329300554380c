// Reference statistics of the training data, stored in every bundle, and the drift measures that
// compare new data with them: population stability index (PSI), Kolmogorov-Smirnov, chi-square.
// Validation uses them against the production model's data; serving monitoring on logged requests.
import { errors } from '../core/errors.js';
import type { CategoryValue } from '../schema/schema.js';
import type { Frame } from './frame.js';
import { quantileOfSorted } from './transform/column.js';
import { edgesBelow } from './search.js';

/** Bins of a numeric distribution: `edges` are right-closed inner edges, bins are (-∞, e0], (e0, e1], …, (e_last, ∞), then missing. */
export interface NumericReference {
  kind: 'numeric';
  field: string;
  rows: number;
  edges: number[];
  /** Share of all rows per bin; the last entry is the share of missing values. */
  proportions: number[];
  /** True when every distinct value has its own bin (few distinct values): the distribution is then exact. */
  discrete: boolean;
  /** The 0th, 1st, …, 100th percentiles of the present values, for Kolmogorov-Smirnov against new data. */
  quantiles: number[];
  mean: number;
  std: number;
  min: number;
  max: number;
}

export interface CategoryReference {
  kind: 'category';
  field: string;
  rows: number;
  categories: CategoryValue[];
  /** Share of all rows per category, then one entry for categories not listed, then one for missing values. */
  proportions: number[];
}

export type FeatureReference = NumericReference | CategoryReference;

export interface ReferenceStats {
  version: 1;
  rows: number;
  features: FeatureReference[];
  /** The distribution of the model's scores (P(class 1), or the predicted value) on the same rows. */
  predictions?: NumericReference;
}

const DEFAULT_BINS = 10;

/** Reference statistics of the feature fields of rows `rows` of `frame`, and of the model's `predictions` on them. */
export function computeReferenceStats(
  frame: Frame,
  rows?: ArrayLike<number>,
  predictions?: Float64Array,
  bins: number = DEFAULT_BINS,
): ReferenceStats {
  const features = frame.schema.features.map((field): FeatureReference => {
    const column = frame.column(field.name);
    if (column.kind === 'numeric') return numericReference(field.name, column.values, rows, bins);
    return categoryReference(field.name, column.codes, column.dictionary, rows);
  });
  const count = rows ? rows.length : frame.rows;
  return {
    version: 1,
    rows: count,
    features,
    ...(predictions ? { predictions: numericReference('prediction', predictions, undefined, bins) } : {}),
  };
}

/** Quantile bins of a numeric column (NaN = missing); values with at most `bins` distinct values get one bin each. */
export function numericReference(
  field: string,
  values: Float64Array,
  rows?: ArrayLike<number>,
  bins: number = DEFAULT_BINS,
): NumericReference {
  const count = rows ? rows.length : values.length;
  const present = new Float64Array(count);
  let kept = 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const value = values[rows ? rows[i] : i];
    if (value === value) {
      present[kept++] = value;
      sum += value;
    }
  }
  const sorted = present.subarray(0, kept).sort();
  const mean = kept > 0 ? sum / kept : 0;
  let squares = 0;
  for (let i = 0; i < kept; i++) squares += (sorted[i] - mean) ** 2;
  const distinct: number[] = [];
  for (let i = 0; i < kept && distinct.length <= bins; i++)
    if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]);
  const discrete = distinct.length <= bins;
  let edges: number[];
  if (discrete) edges = distinct.slice(0, -1);
  else {
    edges = [];
    for (let b = 1; b < bins; b++) {
      const edge = quantileOfSorted(sorted, b / bins);
      if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
    }
  }
  const quantiles: number[] = [];
  if (kept > 0) for (let q = 0; q <= 100; q++) quantiles.push(quantileOfSorted(sorted, q / 100));
  return {
    kind: 'numeric',
    field,
    rows: count,
    edges,
    proportions: binProportions(edges, values, rows),
    discrete,
    quantiles,
    mean,
    std: kept > 0 ? Math.sqrt(squares / kept) : 0,
    min: kept > 0 ? sorted[0] : 0,
    max: kept > 0 ? sorted[kept - 1] : 0,
  };
}

/** Share of the rows in each bin of `edges` (right-closed), then the share of missing values. */
export function binProportions(
  edges: readonly number[],
  values: Float64Array,
  rows?: ArrayLike<number>,
): number[] {
  const count = rows ? rows.length : values.length;
  const counts = new Float64Array(edges.length + 2);
  for (let i = 0; i < count; i++) {
    const value = values[rows ? rows[i] : i];
    if (value !== value) {
      counts[edges.length + 1]++;
      continue;
    }
    counts[edgesBelow(edges, value)]++;
  }
  return Array.from(counts, (c) => (count > 0 ? c / count : 0));
}

export function categoryReference(
  field: string,
  codes: Int32Array,
  dictionary: readonly CategoryValue[],
  rows?: ArrayLike<number>,
): CategoryReference {
  const counts = categoryCounts(codes, dictionary.length, rows);
  const count = rows ? rows.length : codes.length;
  const categories: CategoryValue[] = [];
  const proportions: number[] = [];
  dictionary.forEach((value, code) => {
    if (counts.byCode[code] > 0) {
      categories.push(value);
      proportions.push(counts.byCode[code] / Math.max(1, count));
    }
  });
  proportions.push(0, counts.missing / Math.max(1, count));
  return { kind: 'category', field, rows: count, categories, proportions };
}

function categoryCounts(
  codes: Int32Array,
  size: number,
  rows?: ArrayLike<number>,
): { byCode: Float64Array; missing: number } {
  const byCode = new Float64Array(size);
  let missing = 0;
  const count = rows ? rows.length : codes.length;
  for (let i = 0; i < count; i++) {
    const code = codes[rows ? rows[i] : i];
    if (code < 0) missing++;
    else byCode[code]++;
  }
  return { byCode, missing };
}

/** Shares of the rows per reference category, then the share of other categories, then of missing values. */
export function categoryProportions(
  reference: CategoryReference,
  codes: Int32Array,
  dictionary: readonly CategoryValue[],
  rows?: ArrayLike<number>,
): number[] {
  const counts = categoryCounts(codes, dictionary.length, rows);
  const count = rows ? rows.length : codes.length;
  const position = new Map(reference.categories.map((value, index) => [String(value), index]));
  const out = new Array<number>(reference.categories.length + 2).fill(0);
  dictionary.forEach((value, code) => {
    const index = position.get(String(value)) ?? reference.categories.length;
    out[index] += counts.byCode[code];
  });
  out[reference.categories.length + 1] = counts.missing;
  return out.map((c) => (count > 0 ? c / count : 0));
}

/**
 * Population stability index Σ (a − e) · ln(a / e) over bins of proportions; shares below `floor` are
 * raised to it so that an empty bin gives a large but finite value. Above 0.2 is usually read as a shift.
 */
export function psi(expected: readonly number[], actual: readonly number[], floor = 1e-4): number {
  if (expected.length !== actual.length)
    throw new errors.PW_USAGE(`psi: ${expected.length} expected bins but ${actual.length} actual bins`);
  let sum = 0;
  for (let b = 0; b < expected.length; b++) {
    if (expected[b] === 0 && actual[b] === 0) continue;
    const e = Math.max(floor, expected[b]);
    const a = Math.max(floor, actual[b]);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

/** Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical distribution functions (NaN ignored). */
export function ksStatistic(sampleA: ArrayLike<number>, sampleB: ArrayLike<number>): number {
  const a = sortedPresent(sampleA);
  const b = sortedPresent(sampleB);
  if (a.length === 0 || b.length === 0) return NaN;
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < a.length && j < b.length) {
    // Step past every copy of the smaller value in both samples, so ties move together.
    const value = Math.min(a[i], b[j]);
    while (i < a.length && a[i] === value) i++;
    while (j < b.length && b[j] === value) j++;
    largest = Math.max(largest, Math.abs(i / a.length - j / b.length));
  }
  return largest;
}

function sortedPresent(sample: ArrayLike<number>): Float64Array {
  const out = new Float64Array(sample.length);
  let kept = 0;
  for (let i = 0; i < sample.length; i++) if (sample[i] === sample[i]) out[kept++] = sample[i];
  return out.subarray(0, kept).sort();
}

/**
 * Kolmogorov-Smirnov statistic between a reference distribution and new values. Exact for discrete
 * references; otherwise the reference CDF is interpolated between its stored percentiles.
 */
export function ksAgainstReference(
  reference: NumericReference,
  values: Float64Array,
  rows?: ArrayLike<number>,
): number {
  const count = rows ? rows.length : values.length;
  const sample = new Float64Array(count);
  for (let i = 0; i < count; i++) sample[i] = values[rows ? rows[i] : i];
  const sorted = sortedPresent(sample);
  if (sorted.length === 0 || reference.quantiles.length === 0) return NaN;
  if (reference.discrete) {
    // Compare cumulative shares of present values bin by bin.
    const expected = reference.proportions.slice(0, -1);
    const actual = binProportions(reference.edges, sorted).slice(0, -1);
    const expectedTotal = expected.reduce((s, p) => s + p, 0);
    let cumulativeExpected = 0;
    let cumulativeActual = 0;
    let largest = 0;
    for (let b = 0; b < expected.length; b++) {
      cumulativeExpected += expected[b] / (expectedTotal || 1);
      cumulativeActual += actual[b];
      largest = Math.max(largest, Math.abs(cumulativeExpected - cumulativeActual));
    }
    return largest;
  }
  let largest = 0;
  const n = sorted.length;
  for (let i = 0; i < n;) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const below = referenceCdf(reference.quantiles, sorted[i], true);
    const atOrBelow = referenceCdf(reference.quantiles, sorted[i], false);
    largest = Math.max(largest, Math.abs(below - i / n), Math.abs(atOrBelow - j / n));
    i = j;
  }
  return largest;
}

/** The reference CDF at x from percentiles q[0..100], linear between them; `strict` gives P(X < x). */
function referenceCdf(quantiles: readonly number[], x: number, strict: boolean): number {
  const last = quantiles.length - 1;
  if (strict ? x <= quantiles[0] : x < quantiles[0]) return 0;
  if (strict ? x > quantiles[last] : x >= quantiles[last]) return 1;
  // The first percentile at or above x.
  let low = 0;
  let high = last;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (quantiles[middle] < x) low = middle + 1;
    else high = middle;
  }
  if (quantiles[low] === x) {
    // A run of equal percentiles is a point mass: P(X < x) at its start, P(X <= x) at its end.
    let end = low;
    while (end < last && quantiles[end + 1] === x) end++;
    return (strict ? low : end) / last;
  }
  const previous = low - 1;
  const fraction = (x - quantiles[previous]) / (quantiles[low] - quantiles[previous]);
  return (previous + fraction) / last;
}

export interface ChiSquareResult {
  statistic: number;
  degreesOfFreedom: number;
  /** P(χ² ≥ statistic) under the reference distribution. */
  pValue: number;
}

/**
 * Pearson's chi-square goodness of fit of observed counts against expected proportions (as
 * scipy.stats.chisquare with f_exp = proportions × total). Expected shares below `floor` are raised to it.
 */
export function chiSquare(
  expectedProportions: readonly number[],
  observedCounts: readonly number[],
  floor = 1e-6,
): ChiSquareResult {
  if (expectedProportions.length !== observedCounts.length) {
    throw new errors.PW_USAGE(
      `chiSquare: ${expectedProportions.length} expected bins but ${observedCounts.length} observed bins`,
    );
  }
  const total = observedCounts.reduce((s, c) => s + c, 0);
  const proportionTotal = expectedProportions.reduce((s, p) => s + Math.max(floor, p), 0);
  let statistic = 0;
  let used = 0;
  for (let b = 0; b < observedCounts.length; b++) {
    if (expectedProportions[b] === 0 && observedCounts[b] === 0) continue;
    used++;
    const expected = (Math.max(floor, expectedProportions[b]) / proportionTotal) * total;
    statistic += (observedCounts[b] - expected) ** 2 / expected;
  }
  const degreesOfFreedom = Math.max(1, used - 1);
  return { statistic, degreesOfFreedom, pValue: chiSquareSurvival(statistic, degreesOfFreedom) };
}

/** P(χ²_k ≥ x) = Q(k/2, x/2), the regularised upper incomplete gamma function. */
export function chiSquareSurvival(x: number, degreesOfFreedom: number): number {
  if (!(x > 0)) return 1;
  return upperRegularizedGamma(degreesOfFreedom / 2, x / 2);
}

function logGamma(x: number): number {
  // Lanczos approximation (g = 7, n = 9): about 15 significant digits.
  const coefficients = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = coefficients[0];
  for (let i = 1; i < 9; i++) sum += coefficients[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

function upperRegularizedGamma(a: number, x: number): number {
  if (x < a + 1) {
    // Series for the lower function P, then Q = 1 − P.
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - logGamma(a)));
  }
  // Continued fraction for Q (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(-x + a * Math.log(x) - logGamma(a)) * h);
}

export interface FeatureDrift {
  field: string;
  kind: 'numeric' | 'category';
  psi: number;
  /** Numeric fields: Kolmogorov-Smirnov statistic against the reference. */
  ks?: number;
  /** Category fields: chi-square test of the category counts. */
  chiSquare?: ChiSquareResult;
  referenceMissingShare: number;
  currentMissingShare: number;
}

export interface DriftReport {
  rows: number;
  features: FeatureDrift[];
  predictions?: { psi: number; ks: number };
}

/** Compares rows `rows` of `frame` (and optionally the model's scores on them) with the reference statistics. */
export function driftAgainstReference(
  reference: ReferenceStats,
  frame: Frame,
  rows?: ArrayLike<number>,
  predictions?: Float64Array,
): DriftReport {
  const count = rows ? rows.length : frame.rows;
  const features: FeatureDrift[] = [];
  for (const feature of reference.features) {
    if (!frame.hasColumn(feature.field)) continue;
    const column = frame.column(feature.field);
    if (feature.kind === 'numeric' && column.kind === 'numeric') {
      const actual = binProportions(feature.edges, column.values, rows);
      features.push({
        field: feature.field,
        kind: 'numeric',
        psi: psi(feature.proportions, actual),
        ks: ksAgainstReference(feature, column.values, rows),
        referenceMissingShare: feature.proportions[feature.proportions.length - 1],
        currentMissingShare: actual[actual.length - 1],
      });
    } else if (feature.kind === 'category' && column.kind === 'category') {
      const actual = categoryProportions(feature, column.codes, column.dictionary, rows);
      features.push({
        field: feature.field,
        kind: 'category',
        psi: psi(feature.proportions, actual),
        chiSquare: chiSquare(
          feature.proportions,
          actual.map((share) => share * count),
        ),
        referenceMissingShare: feature.proportions[feature.proportions.length - 1],
        currentMissingShare: actual[actual.length - 1],
      });
    }
  }
  let predictionDrift: DriftReport['predictions'];
  if (reference.predictions && predictions) {
    predictionDrift = {
      psi: psi(reference.predictions.proportions, binProportions(reference.predictions.edges, predictions)),
      ks: ksAgainstReference(reference.predictions, predictions),
    };
  }
  return { rows: count, features, ...(predictionDrift ? { predictions: predictionDrift } : {}) };
}
