// The solvers of logistic regression: Newton's method for binary problems (the Hessian is one row and
// column per feature, estimated on a sample of rows when the table is large) and L-BFGS for
// multinomial and wide problems, both minimising the L2-penalised weighted log loss.
import { sigmoid, softplus } from '../math.js';
import type { LogisticParams } from './logistic.js';

/** Rows per block in the Newton pass: a block of every column stays in the CPU cache. */
const BLOCK = 1024;
/** Rows the Newton Hessian is estimated on when the table has more than twice as many. */
const HESSIAN_ROWS = 65536;

export interface Problem {
  columns: Float64Array[];
  rows: number;
  cols: number;
  y: Float64Array;
  weights: Float64Array;
  classes: number;
  params: LogisticParams;
}

export interface Solution {
  coefficients: number[][];
  intercepts: number[];
  iterations: number;
  converged: boolean;
}

/** Missing values count as 0 (the mean, once scaled); the column is copied only when it holds one. */
export function withoutNaN(column: Float64Array): Float64Array {
  let copy: Float64Array | undefined;
  for (let i = 0; i < column.length; i++) {
    if (column[i] !== column[i]) {
      copy ??= Float64Array.from(column);
      copy[i] = 0;
    }
  }
  return copy ?? column;
}

/**
 * Newton's method on the sample-averaged objective
 *   (1/S) Σ s_i [log(1 + e^{z_i}) - y_i z_i] + ||w||² / (2 C S),
 * which has the same minimiser as scikit-learn's; a backtracking line search keeps every step a descent.
 */
export function fitNewton(problem: Problem): Solution {
  const { columns, rows: n, cols: d, y, weights, params } = problem;
  const intercept = params.fit_intercept;
  const size = d + (intercept ? 1 : 0);
  let totalWeight = 0;
  let positive = 0;
  for (let i = 0; i < n; i++) {
    totalWeight += weights[i];
    positive += weights[i] * y[i];
  }
  const penalty = 1 / (params.C * totalWeight);
  const theta = new Float64Array(size);
  // Starting from the prior log-odds saves an iteration or two.
  if (intercept && positive > 0 && positive < totalWeight)
    theta[d] = Math.log(positive / (totalWeight - positive));

  const z = new Float64Array(n);
  const dz = new Float64Array(n);
  const residualAll = new Float64Array(n);
  const curvature = new Float64Array(BLOCK);
  const scratch = new Float64Array(BLOCK);
  const ones = new Float64Array(BLOCK).fill(1);
  // On large tables the Hessian is estimated on evenly spaced rows (subsampled Newton): the gradient,
  // and so the solution and the stopping test, stay exact; only the steps are approximate.
  const sampleRows =
    n > 2 * HESSIAN_ROWS
      ? Int32Array.from({ length: HESSIAN_ROWS }, (_, i) => Math.floor((i * n) / HESSIAN_ROWS))
      : undefined;
  const curvatureRows = sampleRows ? sampleRows.length : n;
  const curvatureColumns = sampleRows
    ? columns.map((column) => Float64Array.from(sampleRows, (row) => column[row]))
    : columns;
  let curvatureWeight = totalWeight;
  if (sampleRows) {
    curvatureWeight = 0;
    for (const row of sampleRows) curvatureWeight += weights[row];
  }
  const gradient = new Float64Array(size);
  const hessian = new Float64Array(size * size);
  const step = new Float64Array(size);

  const scoresOf = (parameters: Float64Array, out: Float64Array): void => {
    out.fill(intercept ? parameters[d] : 0);
    for (let j = 0; j < d; j++) {
      const w = parameters[j];
      if (w === 0) continue;
      const column = columns[j];
      for (let i = 0; i < n; i++) out[i] += w * column[i];
    }
  };
  const objectiveAt = (
    scores: Float64Array,
    direction: Float64Array | undefined,
    length: number,
    parameters: Float64Array,
  ): number => {
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const score = direction ? scores[i] + length * direction[i] : scores[i];
      loss += weights[i] * (softplus(score) - y[i] * score);
    }
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const w = direction ? parameters[j] + length * step[j] : parameters[j];
      norm += w * w;
    }
    return loss / totalWeight + 0.5 * penalty * norm;
  };

  scoresOf(theta, z);
  let objective = objectiveAt(z, undefined, 0, theta);
  let iterations = 0;
  let converged = false;
  while (iterations < params.max_iter) {
    // The gradient first: when it is small enough, the Hessian is not needed.
    gradient.fill(0);
    for (let i = 0; i < n; i++) {
      const p = sigmoid(z[i]);
      residualAll[i] = (weights[i] * (p - y[i])) / totalWeight;
    }
    for (let j = 0; j < d; j++) gradient[j] = dot(residualAll, columns[j]) + penalty * theta[j];
    if (intercept) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += residualAll[i];
      gradient[d] = sum;
    }
    if (maxAbs(gradient) <= params.tol) {
      converged = true;
      break;
    }
    iterations++;
    hessian.fill(0);
    // Rows in blocks small enough for the cache, so the d² products read each column block once.
    for (let start = 0; start < curvatureRows; start += BLOCK) {
      const end = Math.min(curvatureRows, start + BLOCK);
      const length = end - start;
      for (let i = start; i < end; i++) {
        const row = sampleRows ? sampleRows[i] : i;
        const p = sigmoid(z[row]);
        curvature[i - start] = (weights[row] * p * (1 - p)) / curvatureWeight;
      }
      for (let j = 0; j < size; j++) {
        const columnJ = j < d ? curvatureColumns[j] : ones;
        const offsetJ = j < d ? start : 0;
        for (let i = 0; i < length; i++) scratch[i] = curvature[i] * columnJ[offsetJ + i];
        for (let k = j; k < size; k++) {
          hessian[j * size + k] +=
            k < d ? dotAt(scratch, curvatureColumns[k], start, length) : dotAt(scratch, ones, 0, length);
        }
      }
    }
    for (let j = 0; j < size; j++) {
      if (j < d) hessian[j * size + j] += penalty;
      for (let k = j + 1; k < size; k++) hessian[k * size + j] = hessian[j * size + k];
    }
    for (let j = 0; j < size; j++) step[j] = -gradient[j];
    solveSymmetric(hessian, step, size);
    // The change of scores along the step, so the line search costs O(n) a trial.
    dz.fill(intercept ? step[d] : 0);
    for (let j = 0; j < d; j++) {
      const s = step[j];
      if (s === 0) continue;
      const column = columns[j];
      for (let i = 0; i < n; i++) dz[i] += s * column[i];
    }
    let slope = 0;
    for (let j = 0; j < size; j++) slope += gradient[j] * step[j];
    let length = 1;
    let next = objectiveAt(z, dz, length, theta);
    while (next > objective + 1e-4 * length * slope && length > 1e-10) {
      length *= 0.5;
      next = objectiveAt(z, dz, length, theta);
    }
    for (let j = 0; j < size; j++) theta[j] += length * step[j];
    for (let i = 0; i < n; i++) z[i] += length * dz[i];
    const improvement = objective - next;
    objective = next;
    if (improvement <= 1e-15 * Math.max(1, Math.abs(objective)) && length < 1) break;
  }
  return {
    coefficients: [Array.from(theta.subarray(0, d))],
    intercepts: [intercept ? theta[d] : 0],
    iterations,
    converged,
  };
}

/** Solves A x = b in place of b for symmetric positive definite A (Cholesky; a small ridge when A is near singular). */
function solveSymmetric(matrix: Float64Array, vector: Float64Array, size: number): void {
  const lower = new Float64Array(size * size);
  let ridge = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    let ok = true;
    for (let i = 0; i < size && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = matrix[i * size + j] + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) sum -= lower[i * size + k] * lower[j * size + k];
        if (i === j) {
          if (!(sum > 0)) {
            ok = false;
            break;
          }
          lower[i * size + i] = Math.sqrt(sum);
        } else lower[i * size + j] = sum / lower[j * size + j];
      }
    }
    if (ok) break;
    let trace = 0;
    for (let i = 0; i < size; i++) trace += Math.abs(matrix[i * size + i]);
    ridge = ridge === 0 ? Math.max(1e-12, (1e-10 * trace) / size) : ridge * 10;
  }
  for (let i = 0; i < size; i++) {
    let sum = vector[i];
    for (let k = 0; k < i; k++) sum -= lower[i * size + k] * vector[k];
    vector[i] = sum / lower[i * size + i];
  }
  for (let i = size - 1; i >= 0; i--) {
    let sum = vector[i];
    for (let k = i + 1; k < size; k++) sum -= lower[k * size + i] * vector[k];
    vector[i] = sum / lower[i * size + i];
  }
}

/**
 * L-BFGS (10 corrections, backtracking Armijo line search) on the binary or the multinomial objective;
 * parameters are laid out output after output, each as `cols` coefficients then the intercept.
 */
export function fitLbfgs(problem: Problem): Solution {
  const { rows: n, cols: d, weights, params } = problem;
  const outputs = problem.classes > 2 ? problem.classes : 1;
  const stride = d + 1;
  const size = outputs * stride;
  let totalWeight = 0;
  for (let i = 0; i < n; i++) totalWeight += weights[i];
  const penalty = 1 / (params.C * totalWeight);
  const evaluate =
    outputs === 1
      ? binaryObjective(problem, totalWeight, penalty)
      : multinomialObjective(problem, totalWeight, penalty);

  const memory = 10;
  const sHistory: Float64Array[] = [];
  const yHistory: Float64Array[] = [];
  const rhoHistory: number[] = [];
  const alpha = new Float64Array(memory);
  let x = new Float64Array(size);
  let gradient = new Float64Array(size);
  let value = evaluate(x, gradient);
  const direction = new Float64Array(size);
  let candidate = new Float64Array(size);
  let candidateGradient = new Float64Array(size);
  let iterations = 0;
  let converged = false;
  while (iterations < params.max_iter) {
    if (maxAbs(gradient) <= params.tol) {
      converged = true;
      break;
    }
    iterations++;
    // Two-loop recursion: direction = -H·g.
    for (let j = 0; j < size; j++) direction[j] = -gradient[j];
    for (let m = sHistory.length - 1; m >= 0; m--) {
      alpha[m] = rhoHistory[m] * dot(sHistory[m], direction);
      axpy(-alpha[m], yHistory[m], direction);
    }
    if (sHistory.length > 0) {
      const last = sHistory.length - 1;
      const scale = dot(sHistory[last], yHistory[last]) / dot(yHistory[last], yHistory[last]);
      for (let j = 0; j < size; j++) direction[j] *= scale;
    } else {
      const norm = Math.sqrt(dot(gradient, gradient));
      if (norm > 1) for (let j = 0; j < size; j++) direction[j] /= norm;
    }
    for (let m = 0; m < sHistory.length; m++) {
      const beta = rhoHistory[m] * dot(yHistory[m], direction);
      axpy(alpha[m] - beta, sHistory[m], direction);
    }
    let slope = dot(gradient, direction);
    if (!(slope < 0)) {
      // Not a descent direction: restart from steepest descent.
      sHistory.length = 0;
      yHistory.length = 0;
      rhoHistory.length = 0;
      for (let j = 0; j < size; j++) direction[j] = -gradient[j];
      slope = dot(gradient, direction);
    }
    let length = 1;
    let next = 0;
    for (let trial = 0; trial < 40; trial++) {
      for (let j = 0; j < size; j++) candidate[j] = x[j] + length * direction[j];
      next = evaluate(candidate, candidateGradient);
      if (next <= value + 1e-4 * length * slope) break;
      length *= 0.5;
    }
    const s = new Float64Array(size);
    const yDifference = new Float64Array(size);
    for (let j = 0; j < size; j++) {
      s[j] = candidate[j] - x[j];
      yDifference[j] = candidateGradient[j] - gradient[j];
    }
    const curvature = dot(s, yDifference);
    if (curvature > 1e-12) {
      if (sHistory.length === memory) {
        sHistory.shift();
        yHistory.shift();
        rhoHistory.shift();
      }
      sHistory.push(s);
      yHistory.push(yDifference);
      rhoHistory.push(1 / curvature);
    }
    const improvement = value - next;
    [x, candidate] = [candidate, x];
    [gradient, candidateGradient] = [candidateGradient, gradient];
    value = next;
    if (improvement <= 1e-15 * Math.max(1, Math.abs(value))) {
      converged = maxAbs(gradient) <= params.tol;
      break;
    }
  }
  const coefficients: number[][] = [];
  const intercepts: number[] = [];
  for (let o = 0; o < outputs; o++) {
    coefficients.push(Array.from(x.subarray(o * stride, o * stride + d)));
    intercepts.push(params.fit_intercept ? x[o * stride + d] : 0);
  }
  return { coefficients, intercepts, iterations, converged };
}

type Objective = (parameters: Float64Array, gradient: Float64Array) => number;

function binaryObjective(problem: Problem, totalWeight: number, penalty: number): Objective {
  const { columns, rows: n, cols: d, y, weights, params } = problem;
  const z = new Float64Array(n);
  return (parameters, gradient) => {
    z.fill(params.fit_intercept ? parameters[d] : 0);
    for (let j = 0; j < d; j++) {
      const w = parameters[j];
      if (w === 0) continue;
      const column = columns[j];
      for (let i = 0; i < n; i++) z[i] += w * column[i];
    }
    let loss = 0;
    let interceptGradient = 0;
    for (let i = 0; i < n; i++) {
      const score = z[i];
      loss += weights[i] * (softplus(score) - y[i] * score);
      const residual = (weights[i] * (sigmoid(score) - y[i])) / totalWeight;
      z[i] = residual;
      interceptGradient += residual;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const column = columns[j];
      let sum = 0;
      for (let i = 0; i < n; i++) sum += z[i] * column[i];
      gradient[j] = sum + penalty * parameters[j];
      norm += parameters[j] * parameters[j];
    }
    gradient[d] = params.fit_intercept ? interceptGradient : 0;
    return loss / totalWeight + 0.5 * penalty * norm;
  };
}

function multinomialObjective(problem: Problem, totalWeight: number, penalty: number): Objective {
  const { columns, rows: n, cols: d, y, weights, params, classes } = problem;
  const stride = d + 1;
  const scores = Array.from({ length: classes }, () => new Float64Array(n));
  return (parameters, gradient) => {
    for (let c = 0; c < classes; c++) {
      const score = scores[c];
      score.fill(params.fit_intercept ? parameters[c * stride + d] : 0);
      for (let j = 0; j < d; j++) {
        const w = parameters[c * stride + j];
        if (w === 0) continue;
        const column = columns[j];
        for (let i = 0; i < n; i++) score[i] += w * column[i];
      }
    }
    let loss = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let c = 0; c < classes; c++) if (scores[c][i] > max) max = scores[c][i];
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(scores[c][i] - max);
      const logSum = max + Math.log(sum);
      loss += weights[i] * (logSum - scores[y[i]][i]);
      // Scores become residuals: w_i (P_ic - [y_i = c]) / S.
      for (let c = 0; c < classes; c++) {
        const probability = Math.exp(scores[c][i] - logSum);
        scores[c][i] = (weights[i] * (probability - (y[i] === c ? 1 : 0))) / totalWeight;
      }
    }
    let norm = 0;
    for (let c = 0; c < classes; c++) {
      const residual = scores[c];
      for (let j = 0; j < d; j++) {
        const column = columns[j];
        let sum = 0;
        for (let i = 0; i < n; i++) sum += residual[i] * column[i];
        const w = parameters[c * stride + j];
        gradient[c * stride + j] = sum + penalty * w;
        norm += w * w;
      }
      let interceptGradient = 0;
      for (let i = 0; i < n; i++) interceptGradient += residual[i];
      gradient[c * stride + d] = params.fit_intercept ? interceptGradient : 0;
    }
    return loss / totalWeight + 0.5 * penalty * norm;
  };
}

function dot(a: Float64Array, b: Float64Array): number {
  return dotAt(a, b, 0, a.length);
}

/** Σ a[i]·b[offset + i] for i < length, with four running sums so consecutive additions do not wait on each other. */
function dotAt(a: Float64Array, b: Float64Array, offset: number, length: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < length; i += 4) {
    s0 += a[i] * b[offset + i];
    s1 += a[i + 1] * b[offset + i + 1];
    s2 += a[i + 2] * b[offset + i + 2];
    s3 += a[i + 3] * b[offset + i + 3];
  }
  for (; i < length; i++) s0 += a[i] * b[offset + i];
  return s0 + s1 + s2 + s3;
}

function axpy(scale: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += scale * x[i];
}

function maxAbs(values: Float64Array): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i]) > largest) largest = Math.abs(values[i]);
  return largest;
}
