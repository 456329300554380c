// What a caller can ask of schema inference, its defaults, and the usage error that names the option
// at fault (the command line maps an option to its flag when it prints the error).
import { errors, type PipewrightError } from '../../core/errors.js';
import { DEFAULT_MISSING_VALUES, type Task } from '../schema.js';

/** What inference reads as "missing": the schema's defaults plus `?` (common in public data sets). */
export const INFER_MISSING_VALUES = [...DEFAULT_MISSING_VALUES, '?'];
export const DEFAULT_SAMPLE_ROWS = 100_000;
/** A text column with more distinct values than this is free text, not a category. */
export const DEFAULT_MAX_CATEGORIES = 100;
/** A whole-number target with more distinct values than this (or than 5% of the rows) is a quantity. */
export const MAX_CLASSES = 20;

export interface InferOptions {
  /** The column to predict; without one the schema has no target and no task. */
  target?: string;
  /** The column that identifies a row; proposed from the data when absent. */
  key?: string;
  /** Forces the task instead of deciding it from the target's values. */
  task?: Task;
  /** A binary target's positive class, as written in the data; decided from the labels when absent. */
  positiveClass?: string;
  /** Text values read as missing (default INFER_MISSING_VALUES). */
  missingValues?: string[];
  maxCategories?: number;
  /**
   * Category columns whose values seen are the whole list: written as a closed `values`, so a new
   * value is refused. Every other category stays open (a new value is scored and flagged).
   */
  closedCategories?: string[];
}

/** The options a usage error can be about: inference's own, and the sample size its callers add. */
export type InferOptionName = 'target' | 'key' | 'task' | 'positiveClass' | 'sample' | 'closed';

/**
 * A PW_USAGE error about one option's value: `target Churn: the file has no column "Churn"`. The
 * option and value are in `details`, so a command line can name its flag instead.
 */
export function optionError(
  option: InferOptionName,
  value: string | number,
  problem: string,
  hint: string,
): PipewrightError {
  return new errors.PW_USAGE(`${option} ${value}: ${problem}`, { hint, details: { option, value } });
}
