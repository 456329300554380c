// Scoring for the prediction routes: coercing records (a batch is refused whole), scoring them with the
// served model, shaping the answer for the model's task, and the bookkeeping every scored record gets
// (metrics by label, values unseen in training, the drift window, the sampled prediction log).
import { errors, type PipewrightError } from '../core/errors.js';
import type { UnseenReason } from '../ml/unseen.js';
import type { Coercer, FieldError, TypedRecord } from '../schema/coerce.js';
import { truncate } from './error-response.js';
import { sampleAttribution, type ServedExplainer } from './explanation.js';
import type { ServedModel } from './model.js';
import type { PredictionDocument } from './prediction-log.js';
import type { ServeRuntime } from './runtime.js';

const MAX_REPORTED_ERRORS = 100;
const ROW_HINT =
  'Send every feature field with a value of its type and within its range; GET /docs (or /openapi.json) lists the fields.';

type Label = string | number | boolean;
type Task = ServedModel['task'];

/** A scored record, ready for the answer and the prediction log. */
export interface Scored {
  probability?: number;
  label?: Label;
  value?: number;
  probabilities?: Record<string, number>;
  /** The label as text for metrics (`value` for regression). */
  metricLabel: string;
  /** Values of the record that training never saw: scored, and flagged in the answer. */
  warnings?: UnseenWarning[];
  /** When asked for: why the model scores the record so, as the JSON text of the answer's `explanation`. */
  explanationJson?: string;
}

/** One flag in an answer: the field and why (above_range, below_range, unseen_category, unseen_missing). */
export interface UnseenWarning {
  field: string;
  reason: UnseenReason;
}

/** The answer for one record, in the shape of the model's task. */
export type PredictionAnswer = (
  | { probability: number; label: Label }
  | { value: number }
  | { label: Label; probability: number; probabilities: Record<string, number> }
) & { warnings?: UnseenWarning[] };

export interface ReportedFieldError {
  field: string;
  reason: string;
  record?: number;
  line?: number;
}

/**
 * With an explainer, the record is encoded once, by the explainer, and the model scores and explains
 * that row (the same columns the predictor's own encoding would make).
 */
function score(model: ServedModel, record: TypedRecord, explainer?: ServedExplainer): Scored {
  const predictor = model.predictor;
  const row = explainer?.explainer.encodeRecord(record);
  let scored: Scored;
  if (model.task === 'binary') {
    const probability = row ? predictor.scoreEncoded(row) : predictor.score(record);
    const index = probability >= predictor.threshold ? 1 : 0;
    scored = { probability, label: model.classes[index], metricLabel: model.classNames[index] };
  } else if (model.task === 'regression') {
    scored = { value: row ? predictor.scoreEncoded(row) : predictor.score(record), metricLabel: 'value' };
  } else {
    const prediction = (row ? predictor.predictEncoded(row) : predictor.predictRecord(record)) as {
      label: Label;
      probabilities: number[];
    };
    scored = multiclassScored(model, prediction.label, prediction.probabilities);
  }
  if (row) scored.explanationJson = explainer!.explainJson(row);
  return scored;
}

function multiclassScored(model: ServedModel, label: Label, classProbabilities: number[]): Scored {
  const probabilities: Record<string, number> = {};
  let best = 0;
  classProbabilities.forEach((probability, index) => {
    probabilities[model.classNames[index]] = probability;
    if (probability > best) best = probability;
  });
  return { label, probability: best, probabilities, metricLabel: String(label) };
}

/** The one place the binary, regression and multiclass answers get their shape (and key order). */
export function formatPrediction(task: Task, scored: Scored): PredictionAnswer {
  const answer: PredictionAnswer =
    task === 'binary'
      ? { probability: scored.probability!, label: scored.label! }
      : task === 'regression'
        ? { value: scored.value! }
        : { label: scored.label!, probability: scored.probability!, probabilities: scored.probabilities! };
  if (scored.warnings) answer.warnings = scored.warnings;
  return answer;
}

/**
 * The JSON text of formatPrediction's answer followed by `explanation` (the scored record's text) and by
 * `rest` (`,"key":value` pairs): byte for byte JSON.stringify of the same object, without building it.
 */
export function explainedAnswerJson(task: Task, scored: Scored, rest = ''): string {
  const answer = JSON.stringify(formatPrediction(task, scored));
  return `${answer.slice(0, -1)},"explanation":${scored.explanationJson}${rest}}`;
}

/** The CSV columns of an answer: its fields that hold one value. */
export function predictionColumns(task: Task): (keyof Scored)[] {
  const sample = formatPrediction(task, { metricLabel: '' });
  return Object.keys(sample).filter(
    (key) => key !== 'probabilities' && key !== 'warnings',
  ) as (keyof Scored)[];
}

function reportField(error: FieldError, where: { record?: number; line?: number } = {}): ReportedFieldError {
  return { field: error.field, reason: truncate(error.reason), ...where };
}

function describeFieldErrors(fields: ReportedFieldError[], total: number): string {
  const shown = fields.slice(0, 3).map((error) => {
    const where =
      error.line !== undefined
        ? `line ${error.line}, `
        : error.record !== undefined
          ? `record ${error.record}, `
          : '';
    return `${where}${error.field} ${error.reason}`;
  });
  const more = total > shown.length ? `; and ${total - shown.length} more` : '';
  return `Invalid input: ${shown.join('; ')}${more}`;
}

/** PW_ROW_INVALID naming the first problems (up to 100) and how many more were left out. */
export function rowInvalid(fields: ReportedFieldError[], total: number): PipewrightError {
  const details: Record<string, unknown> = { fields };
  if (total > fields.length) details.omitted = total - fields.length;
  return new errors.PW_ROW_INVALID(describeFieldErrors(fields, total), { hint: ROW_HINT, details });
}

export function coerceOne(coerce: Coercer, raw: Record<string, unknown>): TypedRecord {
  const result = coerce(raw);
  if (result.ok) return result.record;
  const fields = result.errors.slice(0, MAX_REPORTED_ERRORS).map((error) => reportField(error));
  throw rowInvalid(fields, result.errors.length);
}

/** Coerces every record first, so a batch is scored whole or refused whole. */
export function coerceAll(coerce: Coercer, records: unknown[], lines?: number[]): TypedRecord[] {
  const typed: TypedRecord[] = new Array(records.length);
  const fields: ReportedFieldError[] = [];
  let total = 0;
  for (let index = 0; index < records.length; index++) {
    const raw = records[index];
    const where = lines ? { line: lines[index] } : { record: index };
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      total++;
      if (fields.length < MAX_REPORTED_ERRORS)
        fields.push({ field: '(record)', reason: 'is not an object of field values', ...where });
      continue;
    }
    const result = coerce(raw as Record<string, unknown>);
    if (result.ok) typed[index] = result.record;
    else {
      total += result.errors.length;
      for (const error of result.errors) {
        if (fields.length >= MAX_REPORTED_ERRORS) break;
        fields.push(reportField(error, where));
      }
    }
  }
  if (total > 0) throw rowInvalid(fields, total);
  return typed;
}

function logPrediction(
  runtime: ServeRuntime,
  model: ServedModel,
  requestId: string,
  input: TypedRecord,
  scored: Scored,
): void {
  const document: PredictionDocument = {
    time: new Date().toISOString(),
    version: model.version,
    requestId,
    input,
  };
  if (scored.probability !== undefined) document.probability = scored.probability;
  if (scored.label !== undefined) document.label = scored.label;
  if (scored.value !== undefined) document.value = scored.value;
  runtime.predictionLog.add(document);
}

function observe(runtime: ServeRuntime, model: ServedModel, record: TypedRecord, scored: Scored): void {
  const flags = model.unseen(record);
  if (flags) {
    scored.warnings = flags.map((flag) => ({ field: flag.field, reason: flag.reason }));
    runtime.countUnseen(model, flags);
  }
  runtime.observe(
    model,
    record,
    (model.task === 'regression' ? scored.value : scored.probability) ?? Number.NaN,
  );
  sampleAttribution(runtime.monitor(), model, record);
}

/** Scores records and does every record's bookkeeping; metrics are counted once per label. */
export function scoreAll(
  runtime: ServeRuntime,
  model: ServedModel,
  typed: TypedRecord[],
  requestId: string,
  explainer?: ServedExplainer,
): Scored[] {
  const results: Scored[] = new Array(typed.length);
  const counts = new Map<string, number>();
  for (let index = 0; index < typed.length; index++) {
    const scored = score(model, typed[index], explainer);
    results[index] = scored;
    observe(runtime, model, typed[index], scored);
    counts.set(scored.metricLabel, (counts.get(scored.metricLabel) ?? 0) + 1);
    if (runtime.predictionLog.sample()) logPrediction(runtime, model, requestId, typed[index], scored);
  }
  for (const [label, count] of counts) runtime.metrics.countPredictions(label, model.version, count);
  return results;
}

/** The hot path for one record: the same bookkeeping as `scoreAll` without the batch's arrays. */
export function scoreOne(
  runtime: ServeRuntime,
  model: ServedModel,
  record: TypedRecord,
  requestId: string,
  explainer?: ServedExplainer,
): Scored {
  const scored = score(model, record, explainer);
  runtime.metrics.countPredictions(scored.metricLabel, model.version);
  observe(runtime, model, record, scored);
  if (runtime.predictionLog.sample()) logPrediction(runtime, model, requestId, record, scored);
  return scored;
}
