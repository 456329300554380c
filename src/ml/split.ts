// Seeded train/test splits as row indices: stratified by class (or by quantile bin of a regression
// target) so both parts keep the label distribution, and identical for a given seed.
import { errors } from '../core/errors.js';
import type { Frame } from './frame.js';
import { deriveSeed, Random } from '../core/random.js';

export interface SplitIndices {
  /** Ascending row indices. */
  train: Int32Array;
  /** Ascending row indices. */
  test: Int32Array;
  /**
   * Cross-validation folds over every row (then `train` holds every row and `test` none): the estimate
   * comes from the folds and the published model is fitted on all rows.
   */
  folds?: CrossValidationFolds;
}

/** Repeated k-fold: `assignment[repeat * rows + row]` is the fold that holds `row` out in that repeat. */
export interface CrossValidationFolds {
  folds: number;
  repeats: number;
  assignment: Int32Array;
}

/** One fold: the rows a model is fitted on and the rows it is scored on (both ascending). */
export interface Fold {
  repeat: number;
  fold: number;
  train: Int32Array;
  test: Int32Array;
}

export interface SplitOptions {
  /** Share of rows in the test part, in (0, 1). */
  testSize: number;
  seed: number;
}

/** Rows split without regard to labels. */
export function randomSplit(rows: number, options: SplitOptions): SplitIndices {
  return splitStrata(new Int32Array(rows), 1, options);
}

/**
 * Rows split so that each class keeps its share in both parts. Labels are class indices; for a
 * regression target pass `regressionBins` and rows are stratified by quantile bin of the value.
 */
export function stratifiedSplit(
  labels: Float64Array,
  options: SplitOptions & { regressionBins?: number },
): SplitIndices {
  const rows = labels.length;
  const strata = new Int32Array(rows);
  let strataCount: number;
  if (options.regressionBins !== undefined) {
    strataCount = quantileStrata(labels, options.regressionBins, strata);
  } else {
    strataCount = 0;
    for (let i = 0; i < rows; i++) {
      const label = labels[i];
      if (!Number.isInteger(label) || label < 0) {
        throw new errors.PW_USAGE(`stratifiedSplit: label ${label} at row ${i} is not a class index`, {
          hint: 'Pass class indices (0, 1, ...), or regressionBins for a numeric target.',
        });
      }
      strata[i] = label;
      if (label + 1 > strataCount) strataCount = label + 1;
    }
  }
  return splitStrata(strata, strataCount, options);
}

/** The strata of a frame's rows: class index, quantile bin of a regression target, or one stratum. */
function frameStrata(frame: Frame, stratify: boolean): { strata: Int32Array; count: number } {
  const strata = new Int32Array(frame.rows);
  if (!stratify || !frame.target) return { strata, count: 1 };
  if (frame.schema.task === 'regression') return { strata, count: quantileStrata(frame.target, 10, strata) };
  let count = 0;
  for (let i = 0; i < frame.rows; i++) {
    strata[i] = frame.target[i];
    if (strata[i] + 1 > count) count = strata[i] + 1;
  }
  return { strata, count };
}

/**
 * Repeated k-fold over every row of the frame, stratified as the hold-out split is: each repeat
 * shuffles the rows of each stratum (seeded) and deals them to the folds in turn, carrying the turn
 * from one stratum to the next so the folds' sizes differ by at most one row.
 */
export function kFoldFrame(
  frame: Frame,
  options: { folds: number; repeats: number; seed: number; stratify: boolean },
): CrossValidationFolds {
  const { folds, repeats, seed } = options;
  const rows = frame.rows;
  if (!(Number.isInteger(folds) && folds >= 2 && folds <= rows)) {
    throw new errors.PW_USAGE(`Cannot cross-validate ${rows} rows with ${folds} folds`, {
      hint: 'Set evaluate.cross_validation.folds in pipewright.yaml to a number from 2 to the row count.',
    });
  }
  const { strata, count } = frameStrata(frame, options.stratify);
  const grouped: number[][] = Array.from({ length: count }, () => []);
  for (let i = 0; i < rows; i++) grouped[strata[i]].push(i);
  const assignment = new Int32Array(repeats * rows);
  for (let repeat = 0; repeat < repeats; repeat++) {
    const random = new Random(deriveSeed(seed, repeat + 1));
    let turn = 0;
    for (const group of grouped) {
      const order = Int32Array.from(group);
      for (let i = order.length - 1; i > 0; i--) {
        const j = random.nextInt(i + 1);
        const swap = order[i];
        order[i] = order[j];
        order[j] = swap;
      }
      for (const row of order) {
        assignment[repeat * rows + row] = turn;
        turn = (turn + 1) % folds;
      }
    }
  }
  return { folds, repeats, assignment };
}

/** The folds as row lists, repeat after repeat. */
export function foldsOf(plan: CrossValidationFolds): Fold[] {
  const rows = plan.assignment.length / plan.repeats;
  const out: Fold[] = [];
  for (let repeat = 0; repeat < plan.repeats; repeat++) {
    const assigned = plan.assignment.subarray(repeat * rows, (repeat + 1) * rows);
    for (let fold = 0; fold < plan.folds; fold++) {
      let held = 0;
      for (let i = 0; i < rows; i++) if (assigned[i] === fold) held++;
      const train = new Int32Array(rows - held);
      const test = new Int32Array(held);
      let t = 0;
      let h = 0;
      for (let i = 0; i < rows; i++) {
        if (assigned[i] === fold) test[h++] = i;
        else train[t++] = i;
      }
      out.push({ repeat, fold, train, test });
    }
  }
  return out;
}

/** The split the pipeline uses: stratified by the frame's target when asked and possible. */
export function splitFrame(frame: Frame, options: SplitOptions & { stratify: boolean }): SplitIndices {
  if (!options.stratify || !frame.target) return randomSplit(frame.rows, options);
  if (frame.schema.task === 'regression')
    return stratifiedSplit(frame.target, { ...options, regressionBins: 10 });
  return stratifiedSplit(frame.target, options);
}

function splitStrata(strata: Int32Array, strataCount: number, options: SplitOptions): SplitIndices {
  const { testSize, seed } = options;
  if (!(testSize > 0 && testSize < 1)) {
    throw new errors.PW_USAGE(`test size must be between 0 and 1, got ${testSize}`, {
      hint: 'Set split.test_size in pipewright.yaml to e.g. 0.2.',
    });
  }
  const rows = strata.length;
  if (rows < 2)
    throw new errors.PW_DATA_EMPTY(
      `Cannot split ${rows} row${rows === 1 ? '' : 's'} into a training and a test part`,
    );

  // Group rows by stratum with a counting sort (stable: rows ascending inside each stratum).
  const counts = new Int32Array(strataCount);
  for (let i = 0; i < rows; i++) counts[strata[i]]++;
  const starts = new Int32Array(strataCount + 1);
  for (let s = 0; s < strataCount; s++) starts[s + 1] = starts[s] + counts[s];
  const grouped = new Int32Array(rows);
  const cursor = starts.slice(0, strataCount);
  for (let i = 0; i < rows; i++) grouped[cursor[strata[i]]++] = i;

  // As scikit-learn: the test part has ceil(testSize * rows) rows and the training part at least one.
  const testTotal = Math.min(rows - 1, Math.max(1, Math.ceil(testSize * rows)));
  const testCounts = allocate(counts, testTotal);

  const random = new Random(seed);
  const inTest = new Uint8Array(rows);
  for (let s = 0; s < strataCount; s++) {
    const group = grouped.subarray(starts[s], starts[s + 1]);
    // Shuffle only as far as needed: the first testCounts[s] positions of a partial Fisher-Yates.
    const take = testCounts[s];
    for (let i = 0; i < take; i++) {
      const j = i + random.nextInt(group.length - i);
      const swap = group[i];
      group[i] = group[j];
      group[j] = swap;
      inTest[group[i]] = 1;
    }
  }
  const train = new Int32Array(rows - testTotal);
  const test = new Int32Array(testTotal);
  let trainCount = 0;
  let testCount = 0;
  for (let i = 0; i < rows; i++) {
    if (inTest[i]) test[testCount++] = i;
    else train[trainCount++] = i;
  }
  return { train, test };
}

/** Shares `total` among strata in proportion to their sizes (largest remainder; ties to the larger stratum). */
function allocate(counts: Int32Array, total: number): Int32Array {
  const rows = counts.reduce((sum, count) => sum + count, 0);
  const out = new Int32Array(counts.length);
  const remainders: { stratum: number; remainder: number }[] = [];
  let given = 0;
  for (let s = 0; s < counts.length; s++) {
    const exact = (counts[s] * total) / rows;
    out[s] = Math.floor(exact);
    given += out[s];
    remainders.push({ stratum: s, remainder: exact - out[s] });
  }
  remainders.sort(
    (a, b) => b.remainder - a.remainder || counts[b.stratum] - counts[a.stratum] || a.stratum - b.stratum,
  );
  for (let r = 0; given < total && r < remainders.length; r++) {
    const s = remainders[r].stratum;
    if (out[s] < counts[s]) {
      out[s]++;
      given++;
    }
  }
  return out;
}

/** Assigns each row the quantile bin of its value; returns the number of bins used. */
function quantileStrata(values: Float64Array, bins: number, strata: Int32Array): number {
  const sorted = Float64Array.from(values).sort();
  const edges: number[] = [];
  for (let b = 1; b < bins; b++) {
    const edge = sorted[Math.min(sorted.length - 1, Math.floor((b * sorted.length) / bins))];
    if (edges.length === 0 || edge > edges[edges.length - 1]) edges.push(edge);
  }
  for (let i = 0; i < values.length; i++) {
    // The bin is the number of edges at or below the value.
    let low = 0;
    let high = edges.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (edges[middle] <= values[i]) low = middle + 1;
      else high = middle;
    }
    strata[i] = low;
  }
  return edges.length + 1;
}
