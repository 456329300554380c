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
  /**
   * predict's values, bit for bit, computed on up to `threads` threads; for models that can share a
   * batch's rows between threads (see predictOn, which decides when it pays).
   */
  predictOnThreads?(X: Matrix, threads: number): Promise<Float64Array>;
  /** One row (length cols); allocates nothing when `out` is given. */
  predictRow(row: Float64Array, out?: Float64Array): number;
  featureImportance(): Float64Array;
  toJSON(): EstimatorJSON;
  /**
   * Threads this object's last fit trained on (the threads asked, or fewer for a table too small to share
   * them); undefined until it has fitted (a model read back from JSON has not).
   */
  readonly fitThreads?: number;
  /**
   * Why the last fit trained on fewer threads than it would have (its worker threads could not be
   * started: the model is the same, only slower to learn); undefined when nothing was given up.
   */
  readonly fitFallback?: string;
}

/** What an estimator learns: one of two classes, one of k classes, or a number (the schema's task). */
export type Task = 'binary' | 'multiclass' | 'regression';

/** What the run, not the model's hyperparameters, decides: the task, the seed and the threads. */
export interface EstimatorOptions {
  /** The target's task; the model's task-dependent parameters (loss, criterion) follow it. */
  task?: Task;
  /** Seeds a model that draws at random, unless its parameters give a seed. */
  seed?: number;
  /** Threads for fitting (any count learns the same model); models that fit on one thread ignore it. */
  threads?: number;
}

export interface EstimatorJSON {
  kind: string;
  params: Record<string, unknown>;
  state: unknown;
}

/**
 * A fitted column transformation (imputer, scaler, encoder, the whole preprocessor): hyperparameters
 * in the constructor, learned state set only by `fit` (or restored by the class's static `fromJSON`),
 * `transform` refused with PW_MODEL_NOT_FITTED before either. `rows` selects input rows (all when absent).
 */
export interface Transformer<Input, Output, FitInput = Input, JSON = unknown> {
  readonly isFitted: boolean;
  fit(input: FitInput, rows?: ArrayLike<number>): this;
  transform(input: Input, rows?: ArrayLike<number>): Output;
  toJSON(): JSON;
}

/**
 * `cols` zeroed columns of `rows` values. With `shared`, all of them are views into one
 * SharedArrayBuffer, which worker threads read in place (a fit on several threads copies nothing).
 */
export function allocateColumns(rows: number, cols: number, shared = false): Float64Array[] {
  if (!shared) return Array.from({ length: cols }, () => new Float64Array(rows));
  const buffer = new SharedArrayBuffer(Math.max(8, rows * cols * 8));
  return Array.from({ length: cols }, (_, c) => new Float64Array(buffer, c * rows * 8, rows));
}

/** A copy of `values`, in shared memory when `shared` (worker threads then read it in place). */
export function copyValues(values: Float64Array, shared: boolean): Float64Array {
  const [copy] = allocateColumns(values.length, 1, shared);
  copy.set(values);
  return copy;
}

/** A typed array of `size` entries holding `array`'s first ones (the rest zero): one grown or cut to size. */
export function resized<T extends Int32Array | Float64Array | Uint8Array>(array: T, size: number): T {
  const next = new (array.constructor as new (length: number) => T)(size);
  next.set(array.subarray(0, Math.min(array.length, size)) as never);
  return next;
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
