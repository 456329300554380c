// Seeded matrices with known structure for the tree-model tests (boosting and forests).
import { Random } from '../../src/core/random.js';
import type { Matrix } from '../../src/ml/types.js';

export interface Dataset {
  X: Matrix;
  y: Float64Array;
}

export function matrixOf(columns: Float64Array[]): Matrix {
  return {
    rows: columns[0]?.length ?? 0,
    cols: columns.length,
    names: columns.map((_, f) => `x${f}`),
    columns,
  };
}

/**
 * Binary labels from a noisy rule on x0 and x1 (x2 is noise, x3 a flag and x4 a skewed code that
 * matter a little), so a good model reaches a high ROC-AUC and an uninformed one 0.5.
 */
export function classification(rows: number, seed = 1): Dataset {
  const random = new Random(seed);
  const columns = Array.from({ length: 5 }, () => new Float64Array(rows));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x0 = random.next() * 10;
    const x1 = random.nextNormal();
    const x2 = random.next();
    const x3 = random.next() < 0.3 ? 1 : 0;
    const x4 = random.next() < 0.5 ? 7 : random.nextInt(40);
    columns[0][i] = x0;
    columns[1][i] = x1;
    columns[2][i] = x2;
    columns[3][i] = x3;
    columns[4][i] = x4;
    const logit = 1.2 * (x0 - 5) + 1.5 * x1 + 0.8 * x3 + (x4 === 7 ? -0.5 : 0) + 0.8 * random.nextNormal();
    y[i] = logit > 0 ? 1 : 0;
  }
  return { X: matrixOf(columns), y };
}

/** y = 3·sin(x0) + x1² + noise. */
export function regression(rows: number, seed = 2): Dataset {
  const random = new Random(seed);
  const columns = Array.from({ length: 3 }, () => new Float64Array(rows));
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const x0 = random.next() * 6;
    const x1 = random.next() * 2 - 1;
    columns[0][i] = x0;
    columns[1][i] = x1;
    columns[2][i] = random.next();
    y[i] = 3 * Math.sin(x0) + x1 * x1 + 0.1 * random.nextNormal();
  }
  return { X: matrixOf(columns), y };
}

/**
 * x0 is missing in a fifth of the rows, and those rows are all positive; elsewhere y = [x0 > 0.5]. A
 * model that learned where missing values go predicts them as positives.
 */
export function withMissing(rows: number, seed = 3): Dataset {
  const random = new Random(seed);
  const columns = [new Float64Array(rows), new Float64Array(rows)];
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const missing = random.next() < 0.2;
    const x0 = random.next();
    columns[0][i] = missing ? NaN : x0;
    columns[1][i] = random.next();
    y[i] = missing || x0 > 0.5 ? 1 : 0;
  }
  return { X: matrixOf(columns), y };
}

/** Rows [from, to) of a data set. */
export function slice(data: Dataset, from: number, to: number): Dataset {
  return { X: matrixOf(data.X.columns.map((column) => column.slice(from, to))), y: data.y.slice(from, to) };
}

export function row(X: Matrix, i: number): Float64Array {
  return Float64Array.from(X.columns, (column) => column[i]);
}

export function meanSquaredError(y: Float64Array, predictions: Float64Array): number {
  let total = 0;
  for (let i = 0; i < y.length; i++) total += (y[i] - predictions[i]) ** 2;
  return total / y.length;
}

export function variance(y: Float64Array): number {
  let mean = 0;
  for (let i = 0; i < y.length; i++) mean += y[i] / y.length;
  return meanSquaredError(y, new Float64Array(y.length).fill(mean));
}

export function mean(values: Float64Array): number {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i];
  return total / values.length;
}
