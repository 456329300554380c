// What every model does the same way before and after learning: checking the inputs of fit, reading
// the target as classes or numbers, refusing JSON written by another kind of model, and scoring a large
// batch on several threads.
import { errors } from '../../core/errors.js';
import type { Estimator, EstimatorJSON, FitOptions, Matrix, Task } from '../types.js';

/** One target per row, at least one row, and one sample weight per row when weights are given. */
export function checkFitInputs(X: Matrix, y: Float64Array, options: FitOptions, model: string): void {
  if (y.length !== X.rows)
    throw new errors.PW_USAGE(`fit: ${X.rows} rows of features but ${y.length} targets`);
  if (X.rows === 0) throw new errors.PW_DATA_EMPTY(`Cannot fit a ${model} model on zero rows`);
  if (options.sampleWeight && options.sampleWeight.length !== X.rows)
    throw new errors.PW_USAGE(`fit: ${X.rows} rows but ${options.sampleWeight.length} sample weights`);
}

/**
 * The task a target is learned as, and its classes (at least 2; 0 for regression). A regression target
 * must be finite numbers; a class target whole numbers from 0, at most `maxClasses` of them.
 */
export function describeTarget(
  y: Float64Array,
  regression: boolean,
  options: { maxClasses?: number; hint: string },
): { task: Task; classes: number } {
  if (regression) {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i]))
        throw new errors.PW_USAGE(`fit: target value ${y[i]} at row ${i} is not a finite number`, {
          hint: 'Remove rows with missing targets.',
        });
    }
    return { task: 'regression', classes: 0 };
  }
  const maxClasses = options.maxClasses ?? Infinity;
  let classes = 2;
  for (let i = 0; i < y.length; i++) {
    const label = y[i];
    if (!Number.isInteger(label) || label < 0 || label + 1 > maxClasses) {
      throw new errors.PW_USAGE(
        `fit: label ${label} at row ${i} is not a class index (0${maxClasses === 2 ? ' or 1' : ', 1, ...'})`,
        { hint: options.hint },
      );
    }
    if (label + 1 > classes) classes = label + 1;
  }
  return { task: classes > 2 ? 'multiclass' : 'binary', classes };
}

/** Refuses JSON of another kind of model, so a bundle never restores into the wrong class. */
export function expectKind(json: EstimatorJSON, kind: string): void {
  if (!json || json.kind !== kind)
    throw new errors.PW_BUNDLE_INVALID(`Expected a ${kind} model, got kind ${JSON.stringify(json?.kind)}`);
}

/**
 * Rows from which a batch is scored on several threads: about a third of a second of a hundred trees on
 * one thread, against a few milliseconds to hand a pooled worker its share (tens more to start one).
 */
export const THREADED_PREDICT_ROWS = 1 << 18;

/**
 * The model's predictions for X: on up to `threads` threads for a model that can share a batch
 * (predictOnThreads) of at least THREADED_PREDICT_ROWS rows, else predict. Either way the same values.
 * X's columns should then be in shared memory (allocateColumns), or each worker is sent a copy.
 */
export function predictOn(
  model: Estimator,
  X: Matrix,
  threads: number,
): Promise<Float64Array> | Float64Array {
  return model.predictOnThreads && predictsOnThreads(model, X.rows, threads)
    ? model.predictOnThreads(X, threads)
    : model.predict(X);
}

/** Whether predictOn scores `rows` rows with `model` on several threads (their matrix then best shared). */
export function predictsOnThreads(model: Estimator, rows: number, threads: number): boolean {
  return model.predictOnThreads !== undefined && threads > 1 && rows >= THREADED_PREDICT_ROWS;
}
