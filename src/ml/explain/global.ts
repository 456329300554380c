// What drives a model over many rows: the mean |SHAP value| of every feature field over a bounded,
// evenly spaced sample of rows, and the points of a summary plot (each row's value of a field against its
// attribution), for the run report and the model card.
import type { Frame } from '../frame.js';
import type { Preprocessor } from '../transform/preprocessor.js';
import type { Estimator } from '../types.js';
import { createModelExplainer, type ExplanationSpace } from './estimator.js';

/** At most this many test rows are explained: enough for stable means, a second or so for large runs. */
export const GLOBAL_EXPLAIN_ROWS = 2_000;
/**
 * The work (ModelExplainer.workPerRow, summed over rows) the explanation may take: every row of
 * GLOBAL_EXPLAIN_ROWS for a boosting model of a few hundred small trees, fewer for deep trees, whose rows
 * cost tens of times more (a forest of 100 trees of depth 10: 270 rows, about 1.5 s here, rather than
 * 11 s for 2,000).
 */
export const GLOBAL_EXPLAIN_WORK = 1.2e9;
/** However costly the model's rows, at least this many are explained (or every test row, if fewer). */
export const MIN_GLOBAL_EXPLAIN_ROWS = 100;
/** At most this many of them are drawn in the summary plot (one mark per row and field). */
export const SUMMARY_PLOT_ROWS = 300;

export interface SummaryPoint {
  field: string;
  /** The field's SHAP value for the row. */
  shap: number;
  /** The row's value of the field as its percentile among the sampled rows (numbers), else null. */
  level: number | null;
  /** The value as shown in a tooltip. */
  value: string;
}

export interface GlobalExplanation {
  space: ExplanationSpace;
  rows: number;
  /** Per feature field, the mean |SHAP value| over the rows (summed over classes), largest first. */
  importance: { field: string; meanAbsShap: number }[];
  points: SummaryPoint[];
}

/** Evenly spaced rows of `rows`, at most `limit` of them. */
function evenly(rows: Int32Array, limit: number): Int32Array {
  if (rows.length <= limit) return rows;
  const picked = new Int32Array(limit);
  const step = rows.length / limit;
  for (let i = 0; i < limit; i++) picked[i] = rows[Math.floor(i * step)];
  return picked;
}

/** How many rows a model's global explanation takes: as many as GLOBAL_EXPLAIN_WORK pays for, within bounds. */
export function globalExplainRows(workPerRow: number): number {
  const affordable = Math.floor(GLOBAL_EXPLAIN_WORK / Math.max(1, workPerRow));
  return Math.max(MIN_GLOBAL_EXPLAIN_ROWS, Math.min(GLOBAL_EXPLAIN_ROWS, affordable));
}

/**
 * Explains evenly spaced rows of `testRows`, as many as globalExplainRows allows; `trainRows` give the
 * column means a linear model's values start from. Undefined when the model cannot be explained (e.g.
 * trees without covers).
 */
export function explainGlobally(
  model: Estimator,
  preprocessor: Preprocessor,
  frame: Frame,
  testRows: Int32Array,
  trainRows: Int32Array,
): GlobalExplanation | undefined {
  if (testRows.length === 0) return undefined;
  const json = model.toJSON();
  let columnMeans: Float64Array | undefined;
  if (json.kind === 'logistic') {
    const train = preprocessor.transform(frame, evenly(trainRows, GLOBAL_EXPLAIN_ROWS));
    columnMeans = Float64Array.from(train.columns, (column) => {
      let sum = 0;
      for (const x of column) sum += x === x ? x : 0;
      return column.length > 0 ? sum / column.length : 0;
    });
  }
  let explainer;
  try {
    explainer = createModelExplainer(json, { columnMeans });
  } catch {
    return undefined;
  }
  const rows = evenly(testRows, globalExplainRows(explainer.workPerRow));
  const fields = preprocessor.inputFields;
  const fieldOfColumn = Int32Array.from(preprocessor.outputFields, (name) => fields.indexOf(name));
  const matrix = preprocessor.transform(frame, rows);
  const columns = matrix.cols;
  const outputs = explainer.outputs;
  const row = new Float64Array(columns);
  const phi = new Float64Array(outputs * columns);
  const byField = new Float64Array(fields.length);
  const totals = new Float64Array(fields.length);
  const byOutput = new Float64Array(fields.length);
  const plotted = Math.min(rows.length, SUMMARY_PLOT_ROWS);
  const plotEvery = rows.length / plotted;
  const plotShap: number[][] = fields.map(() => []);
  const plotRows: number[] = [];
  for (let i = 0, next = 0; i < rows.length; i++) {
    for (let c = 0; c < columns; c++) row[c] = matrix.columns[c][i];
    explainer.explainRow(row, phi);
    byField.fill(0);
    // a field's value for the plot: the first output's (the positive class, or the value)
    for (let c = 0; c < columns; c++) byField[fieldOfColumn[c]] += phi[c];
    for (let o = 0; o < outputs; o++) {
      const sums = byOutput.fill(0);
      for (let c = 0; c < columns; c++) sums[fieldOfColumn[c]] += phi[o * columns + c];
      for (let j = 0; j < fields.length; j++) totals[j] += Math.abs(sums[j]);
    }
    if (i >= next && plotRows.length < plotted) {
      plotRows.push(rows[i]);
      fields.forEach((_, j) => plotShap[j].push(byField[j]));
      next += plotEvery;
    }
  }
  const points: SummaryPoint[] = [];
  fields.forEach((field, j) => {
    const values = plotRows.map((index) => frame.record(index)[field] ?? null);
    const numeric = values.map((value) =>
      typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : null,
    );
    const sorted = numeric.filter((value): value is number => value !== null).sort((a, b) => a - b);
    const percentile = (value: number): number => {
      let low = 0;
      while (low < sorted.length && sorted[low] < value) low++;
      return sorted.length > 1 ? low / (sorted.length - 1) : 0.5;
    };
    values.forEach((value, k) => {
      const level = numeric[k];
      points.push({
        field,
        shap: round(plotShap[j][k]),
        level: level === null || sorted.length === 0 ? null : round(percentile(level)),
        value: value === null ? 'missing' : String(value),
      });
    });
  });
  const importance = fields
    .map((field, j) => ({ field, meanAbsShap: round(totals[j] / rows.length) }))
    .sort((a, b) => b.meanAbsShap - a.meanAbsShap);
  return { space: explainer.space, rows: rows.length, importance, points };
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
