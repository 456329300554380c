// The shapes the learning core is built on: a dense column-major matrix of features (NaN = missing),
// and the estimator and transformer contracts (scikit-learn's: hyperparameters in the constructor,
// state learned by fit, an exact JSON round trip).

/** Dense features, one Float64Array per column; NaN marks a missing value. */
export interface Matrix {
  rows: number;
  cols: number;
  columns: Float64Array[];
  names: string[];
}

export interface FitOptions {
  /** One weight per row (class weights are applied through this). */
  sampleWeight?: Float64Array;
  /** Held-out rows for early stopping; when absent an estimator may carve its own from the training part. */
  validation?: { X: Matrix; y: Float64Array };
}

/** Learned-model output: for binary tasks P(class 1); for regression the value; for k classes k probabilities a row. */
export interface Estimator {
  readonly kind: string;
  /** Values per row in predict's output: 1 for binary and regression, k for multiclass. */
  readonly outputs: number;
  fit(X: Matrix, y: Float64Array, options?: FitOptions): this | Promise<this>;
  predict(X: Matrix): Float64Array;
  /** One row (length cols); allocates nothing when `out` is given. */
  predictRow(row: Float64Array, out?: Float64Array): number;
  featureImportance(): Float64Array;
  toJSON(): EstimatorJSON;
}

export interface EstimatorJSON {
  kind: string;
  params: Record<string, unknown>;
  state: unknown;
}

export function emptyMatrix(rows: number, names: string[]): Matrix {
  return { rows, cols: names.length, names, columns: names.map(() => new Float64Array(rows)) };
}

/** Rows `indices` of `X`, as a new matrix. */
export function takeRows(X: Matrix, indices: ArrayLike<number>): Matrix {
  const columns = X.columns.map((column) => {
    const out = new Float64Array(indices.length);
    for (let i = 0; i < indices.length; i++) out[i] = column[indices[i]];
    return out;
  });
  return { rows: indices.length, cols: X.cols, names: X.names, columns };
}
