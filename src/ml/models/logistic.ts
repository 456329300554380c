// L2-regularised logistic regression with an intercept, as scikit-learn's LogisticRegression (C is
// the inverse regularisation strength). Binary problems are solved by Newton's method (the Hessian is
// small: one row and column per feature), multiclass (multinomial) ones and wide binary ones by L-BFGS.
import { errors } from '../../core/errors.js';
import { classWeights } from '../imbalance.js';
import { sigmoid } from '../math.js';
import { readParams, rule, type ParamsSpec } from '../params.js';
import type { Estimator, EstimatorJSON, EstimatorOptions, FitOptions, Matrix } from '../types.js';
import { checkFitInputs, describeTarget, expectKind } from './estimator.js';
import { fitLbfgs, fitNewton, withoutNaN, type Problem } from './logistic-solvers.js';

export interface LogisticParams {
  /** Inverse of the L2 strength; smaller is stronger (scikit-learn's C). */
  C: number;
  max_iter: number;
  /** Stops when the largest gradient component of the (sample-averaged) objective is at most tol. */
  tol: number;
  fit_intercept: boolean;
  /** newton (binary only), lbfgs, or auto: newton for binary problems with at most 100 features. */
  solver: 'auto' | 'newton' | 'lbfgs';
  /** `balanced` weights each class by n / (classes * count), on top of any sample weights. */
  class_weight: 'balanced' | null;
}

export const DEFAULT_LOGISTIC_PARAMS: LogisticParams = {
  C: 1,
  max_iter: 100,
  tol: 1e-4,
  fit_intercept: true,
  solver: 'auto',
  class_weight: null,
};

const LOGISTIC_PARAMS: ParamsSpec<LogisticParams> = {
  model: 'logistic regression',
  defaults: DEFAULT_LOGISTIC_PARAMS,
  rules: {
    C: rule.number(0, Infinity),
    max_iter: rule.integer(1),
    tol: rule.number(0, Infinity),
    fit_intercept: rule.choice([true, false]),
    solver: rule.choice(['auto', 'newton', 'lbfgs']),
    class_weight: rule.choice(['balanced', null]),
  },
  // a classifier: deterministic, and fitted on one thread, so it takes neither seed nor threads
  tasks: { binary: {}, multiclass: {} },
};

interface LogisticState {
  /** Number of classes; 2 means one set of coefficients for P(class 1). */
  classes: number;
  features: number;
  /** The matrix's column names at fit time, so a bundle can check its preprocessor makes the same columns. */
  featureNames: string[];
  /** One row of `features` coefficients per output (1 for binary, k for multinomial). */
  coefficients: number[][];
  intercepts: number[];
  iterations: number;
  converged: boolean;
}

export class LogisticRegressionModel implements Estimator {
  readonly kind = 'logistic';
  readonly params: LogisticParams;
  private state: LogisticState | undefined;
  /** Flat copies of the state for the scoring loop. */
  private weights = new Float64Array(0);
  private biases = new Float64Array(0);
  /** See Estimator.fitThreads: logistic regression fits on the calling thread. */
  fitThreads: number | undefined;

  constructor(
    params: Partial<LogisticParams> & Record<string, unknown> = {},
    options: EstimatorOptions = {},
  ) {
    this.params = readParams(LOGISTIC_PARAMS, params, options);
  }

  get outputs(): number {
    return this.state && this.state.classes > 2 ? this.state.classes : 1;
  }

  /** Iterations the solver ran and whether it met the tolerance (for run reports). */
  get convergence(): { iterations: number; converged: boolean } {
    const state = this.requireState();
    return { iterations: state.iterations, converged: state.converged };
  }

  fit(X: Matrix, y: Float64Array, options: FitOptions = {}): this {
    checkFitInputs(X, y, options, 'logistic regression');
    this.fitThreads = 1;
    const { classes } = describeTarget(y, false, {
      hint: 'Logistic regression is for classification targets.',
    });
    const n = X.rows;
    const weights = new Float64Array(n);
    if (options.sampleWeight) weights.set(options.sampleWeight);
    else weights.fill(1);
    if (this.params.class_weight === 'balanced') {
      const balanced = classWeights(y, 'balanced');
      for (let i = 0; i < n; i++) weights[i] *= balanced[i];
    }
    const columns = X.columns.map(withoutNaN);
    const solver =
      this.params.solver === 'auto'
        ? classes === 2 && X.cols <= 100
          ? 'newton'
          : 'lbfgs'
        : this.params.solver;
    if (solver === 'newton' && classes > 2) {
      throw new errors.PW_USAGE(
        'The newton solver handles two classes; use solver lbfgs (or auto) for more',
        { hint: 'Set model.params.solver: auto.' },
      );
    }
    const problem: Problem = { columns, rows: n, cols: X.cols, y, weights, classes, params: this.params };
    const result = solver === 'newton' ? fitNewton(problem) : fitLbfgs(problem);
    this.setState({
      classes,
      features: X.cols,
      featureNames: [...X.names],
      coefficients: result.coefficients,
      intercepts: result.intercepts,
      iterations: result.iterations,
      converged: result.converged,
    });
    return this;
  }

  private setState(state: LogisticState): void {
    this.state = state;
    const outputs = state.coefficients.length;
    this.weights = new Float64Array(outputs * state.features);
    state.coefficients.forEach((row, o) => this.weights.set(row, o * state.features));
    this.biases = Float64Array.from(state.intercepts);
  }

  private requireState(): LogisticState {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED('The logistic regression is not fitted');
    return this.state;
  }

  /** Binary: P(class 1) per row. Multiclass: k probabilities a row, row after row. */
  predict(X: Matrix): Float64Array {
    const state = this.requireState();
    if (X.cols !== state.features)
      throw new errors.PW_USAGE(`predict: the model has ${state.features} features, the matrix ${X.cols}`);
    const outputs = state.coefficients.length;
    const n = X.rows;
    const scores = Array.from({ length: outputs }, (_, o) => new Float64Array(n).fill(this.biases[o]));
    for (let j = 0; j < state.features; j++) {
      const column = X.columns[j];
      for (let o = 0; o < outputs; o++) {
        const weight = this.weights[o * state.features + j];
        if (weight === 0) continue;
        const score = scores[o];
        for (let i = 0; i < n; i++) {
          const value = column[i];
          if (value === value) score[i] += weight * value;
        }
      }
    }
    if (outputs === 1) {
      const probability = scores[0];
      for (let i = 0; i < n; i++) probability[i] = sigmoid(probability[i]);
      return probability;
    }
    const out = new Float64Array(n * outputs);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let o = 0; o < outputs; o++) if (scores[o][i] > max) max = scores[o][i];
      let sum = 0;
      for (let o = 0; o < outputs; o++) sum += out[i * outputs + o] = Math.exp(scores[o][i] - max);
      for (let o = 0; o < outputs; o++) out[i * outputs + o] /= sum;
    }
    return out;
  }

  /** Binary: returns P(class 1). Multiclass: writes the k probabilities into `out` and returns the likeliest class. */
  predictRow(row: Float64Array, out?: Float64Array): number {
    const state = this.requireState();
    const features = state.features;
    const outputs = this.biases.length;
    if (outputs === 1) {
      let score = this.biases[0];
      for (let j = 0; j < features; j++) {
        const value = row[j];
        if (value === value) score += this.weights[j] * value;
      }
      const probability = sigmoid(score);
      if (out) out[0] = probability;
      return probability;
    }
    const target = out ?? new Float64Array(outputs);
    let max = -Infinity;
    for (let o = 0; o < outputs; o++) {
      let score = this.biases[o];
      for (let j = 0; j < features; j++) {
        const value = row[j];
        if (value === value) score += this.weights[o * features + j] * value;
      }
      target[o] = score;
      if (score > max) max = score;
    }
    let sum = 0;
    let best = 0;
    for (let o = 0; o < outputs; o++) {
      sum += target[o] = Math.exp(target[o] - max);
      if (target[o] > target[best]) best = o;
    }
    for (let o = 0; o < outputs; o++) target[o] /= sum;
    return best;
  }

  /** |coefficient| per feature (summed over classes), normalised to sum to 1: comparable when features are scaled. */
  featureImportance(): Float64Array {
    const state = this.requireState();
    const importance = new Float64Array(state.features);
    for (const row of state.coefficients)
      for (let j = 0; j < state.features; j++) importance[j] += Math.abs(row[j]);
    const total = importance.reduce((sum, value) => sum + value, 0);
    if (total > 0) for (let j = 0; j < importance.length; j++) importance[j] /= total;
    return importance;
  }

  toJSON(): EstimatorJSON {
    const state = this.requireState();
    return {
      kind: this.kind,
      params: { ...this.params },
      state: {
        classes: state.classes,
        features: state.features,
        featureNames: [...state.featureNames],
        coefficients: state.coefficients.map((row) => [...row]),
        intercepts: [...state.intercepts],
        iterations: state.iterations,
        converged: state.converged,
      } satisfies LogisticState,
    };
  }

  static fromJSON(json: EstimatorJSON): LogisticRegressionModel {
    expectKind(json, 'logistic');
    const model = new LogisticRegressionModel(json.params as Partial<LogisticParams>);
    const state = json.state as LogisticState;
    const outputs = state?.classes > 2 ? state.classes : 1;
    const valid =
      state &&
      Number.isInteger(state.classes) &&
      state.classes >= 2 &&
      Number.isInteger(state.features) &&
      Array.isArray(state.featureNames) &&
      state.featureNames.length === state.features &&
      state.featureNames.every((name) => typeof name === 'string') &&
      Array.isArray(state.coefficients) &&
      state.coefficients.length === outputs &&
      state.coefficients.every(
        (row) => Array.isArray(row) && row.length === state.features && row.every(Number.isFinite),
      ) &&
      Array.isArray(state.intercepts) &&
      state.intercepts.length === outputs &&
      state.intercepts.every(Number.isFinite);
    if (!valid)
      throw new errors.PW_BUNDLE_INVALID(
        'Logistic model state: coefficients and intercepts do not match classes and features',
      );
    model.setState({
      classes: state.classes,
      features: state.features,
      featureNames: [...state.featureNames],
      coefficients: state.coefficients.map((row) => [...row]),
      intercepts: [...state.intercepts],
      iterations: Number(state.iterations) || 0,
      converged: state.converged === true,
    });
    return model;
  }
}
