// Turns a raw record (strings from CSV, values from JSON or an HTTP body) into typed values, or
// into precise per-field errors. Compiled once per schema: push and serve call it for every row.
import { compileDatetimeFormat } from './datetime-format.js';
import { DEFAULT_MAX_LENGTH, type CategoryValue, type Field, type Schema } from './schema.js';

export type Value = number | string | boolean | null;
export type TypedRecord = Record<string, Value>;

export type FieldErrorKind = 'missing' | 'type' | 'range' | 'category';

export interface FieldError {
  field: string;
  reason: string;
  value?: unknown;
  /** What kind of problem: a missing value, a wrong type, out of range, or not an allowed value. */
  kind?: FieldErrorKind;
}

export type CoerceResult =
  { ok: true; record: TypedRecord } | { ok: false; errors: FieldError[]; record: TypedRecord };

export interface CoerceOptions {
  /** Which fields to read: `all` (push), `inputs` (features, plus key when present; serve and predict). */
  fields?: 'all' | 'inputs';
  /** Fields absent from the record are errors unless nullable (default), or are skipped. */
  requireAll?: boolean;
}

type FieldCoercer = (raw: unknown) => Value | FieldFailure;

class FieldFailure {
  constructor(
    readonly reason: string,
    readonly kind: FieldErrorKind = 'type',
  ) {}
}

// ECMAScript dates span ±8.64e15 ms around 1970; beyond that there is no date to write.
const LATEST_TIME = 8.64e15;

const INTEGER = /^[+-]?\d+(?:\.0+)?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const TRUE_WORDS = new Set(['true', 'yes', '1', 't', 'y']);
const FALSE_WORDS = new Set(['false', 'no', '0', 'f', 'n']);

export interface Coercer {
  (raw: Record<string, unknown>): CoerceResult;
  fields: Field[];
}

export function compileCoercer(schema: Schema, options: CoerceOptions = {}): Coercer {
  const selected =
    options.fields === 'inputs'
      ? schema.fields.filter((f) => f.role === 'feature' || f.role === 'key')
      : schema.fields;
  const missing = new Set(schema.missingValues);
  const coercers = selected.map((field) => fieldCoercer(field));
  const names = selected.map((f) => f.name);
  const nullable = selected.map((f) => f.nullable || (options.fields === 'inputs' && f.role === 'key'));
  const requireAll = options.requireAll ?? true;
  const coerce = ((raw: Record<string, unknown>): CoerceResult => {
    const record: TypedRecord = {};
    let failures: FieldError[] | undefined;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = raw[name];
      if (value === undefined || value === null || (typeof value === 'string' && missing.has(value))) {
        if (value === undefined && !requireAll) continue;
        if (!nullable[i]) {
          (failures ??= []).push({
            field: name,
            reason: value === undefined ? 'is missing' : 'is required but empty',
            value,
            kind: 'missing',
          });
        }
        record[name] = null;
        continue;
      }
      const result = coercers[i](value);
      if (result instanceof FieldFailure) {
        (failures ??= []).push({ field: name, reason: result.reason, value, kind: result.kind });
        record[name] = null;
      } else {
        record[name] = result;
      }
    }
    return failures ? { ok: false, errors: failures, record } : { ok: true, record };
  }) as Coercer;
  coerce.fields = selected;
  return coerce;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return String(value);
  } catch {
    // An object from JSON such as {"toString": 1} cannot be turned into text.
    return Object.prototype.toString.call(value);
  }
}

function lengthCheck(field: Field, text: string): FieldFailure | undefined {
  const limit = field.maxLength ?? DEFAULT_MAX_LENGTH;
  if (text.length <= limit) return undefined;
  return new FieldFailure(`is ${text.length} characters long; the limit is ${limit} (max_length)`, 'range');
}

function rangeCheck(field: Field, value: number): FieldFailure | undefined {
  if (field.min !== undefined && value < field.min)
    return new FieldFailure(`${value} is below the minimum ${field.min}`, 'range');
  if (field.max !== undefined && value > field.max)
    return new FieldFailure(`${value} is above the maximum ${field.max}`, 'range');
  return undefined;
}

function allowedCheck(field: Field, value: CategoryValue): FieldFailure | undefined {
  if (!field.values) return undefined;
  const allowed = field.values;
  for (let i = 0; i < allowed.length; i++) if (allowed[i] === value) return undefined;
  return new FieldFailure(`${describe(value)} is not one of ${allowed.map(describe).join(', ')}`, 'category');
}

function fieldCoercer(field: Field): FieldCoercer {
  switch (field.type) {
    case 'integer':
      return (raw) => {
        let value: number;
        if (typeof raw === 'number') value = raw;
        else if (typeof raw === 'string') {
          const text = raw.trim();
          if (!INTEGER.test(text)) return new FieldFailure(`${describe(raw)} is not an integer`);
          value = Number(text);
        } else if (typeof raw === 'boolean') value = raw ? 1 : 0;
        else return new FieldFailure(`${describe(raw)} is not an integer`);
        if (!Number.isSafeInteger(value)) return new FieldFailure(`${describe(raw)} is not an integer`);
        return rangeCheck(field, value) ?? allowedCheck(field, value) ?? value;
      };
    case 'number':
      return (raw) => {
        let value: number;
        if (typeof raw === 'number') value = raw;
        else if (typeof raw === 'string') {
          const text = raw.trim();
          if (!NUMBER.test(text)) return new FieldFailure(`${describe(raw)} is not a number`);
          value = Number(text);
        } else return new FieldFailure(`${describe(raw)} is not a number`);
        if (!Number.isFinite(value)) return new FieldFailure(`${describe(raw)} is not a finite number`);
        return rangeCheck(field, value) ?? value;
      };
    case 'boolean':
      return (raw) => {
        if (typeof raw === 'boolean') return raw;
        if (raw === 1 || raw === 0) return raw === 1;
        if (typeof raw === 'string') {
          const word = raw.trim().toLowerCase();
          if (TRUE_WORDS.has(word)) return true;
          if (FALSE_WORDS.has(word)) return false;
        }
        return new FieldFailure(`${describe(raw)} is not a boolean (true/false, yes/no, 1/0)`);
      };
    case 'category': {
      if (!field.values) {
        // An open category: any text or number is a value; one the model never saw is the encoder's
        // unknown category. Kept as trimmed text, so a CSV "3" and a JSON 3 are one category.
        return (raw) => {
          if (typeof raw === 'string') return lengthCheck(field, raw) ?? raw.trim();
          if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
          return new FieldFailure(`${describe(raw)} is not a category value`);
        };
      }
      // Categories compare as text so that a CSV "3" matches a YAML 3.
      const byText = new Map<string, CategoryValue>();
      for (const value of field.values ?? []) byText.set(String(value), value);
      return (raw) => {
        if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean') {
          return new FieldFailure(`${describe(raw)} is not a category value`);
        }
        if (typeof raw === 'string') {
          const tooLong = lengthCheck(field, raw);
          if (tooLong) return tooLong;
        }
        const hit = byText.get(String(raw)) ?? (typeof raw === 'string' ? byText.get(raw.trim()) : undefined);
        if (hit === undefined) {
          return new FieldFailure(
            `${describe(raw)} is not one of ${[...byText.keys()].map((v) => JSON.stringify(v)).join(', ')}`,
            'category',
          );
        }
        return hit;
      };
    }
    case 'string':
      return (raw) => {
        if (typeof raw === 'object') return new FieldFailure('is not text');
        const value = String(raw);
        return lengthCheck(field, value) ?? allowedCheck(field, value) ?? value;
      };
    case 'datetime': {
      const format = field.format;
      const parse =
        format !== undefined || field.timezone !== undefined
          ? compileDatetimeFormat(format ?? 'YYYY-MM-DD', field.timezone)
          : undefined;
      const epoch = format === 'epoch_s' || format === 'epoch_ms';
      return (raw) => {
        let time: number;
        if (typeof raw === 'number') time = epoch && parse ? parse(raw) : raw;
        else if (typeof raw === 'string') {
          const tooLong = lengthCheck(field, raw);
          if (tooLong) return tooLong;
          const text = raw.trim();
          // An ISO 8601 value (a spreadsheet date, a value with its offset) says how to read itself.
          time = parse ? parse(text) : Date.parse(text);
          if (parse && time !== time && !epoch && ISO_DATETIME.test(text)) time = Date.parse(text);
        } else if (raw instanceof Date) time = raw.getTime();
        else return new FieldFailure(`${describe(raw)} is not a date-time`);
        if (!Number.isFinite(time))
          return new FieldFailure(
            format !== undefined
              ? `${describe(raw)} is not a date-time written ${format}`
              : `${describe(raw)} is not a date-time (use ISO 8601, e.g. 2024-05-01T12:00:00Z)`,
          );
        if (Math.abs(time) > LATEST_TIME)
          return new FieldFailure(`${describe(raw)} is beyond the dates a date-time can hold`, 'range');
        const failure = rangeCheck(field, time);
        return failure ?? new Date(time).toISOString();
      };
    }
  }
}

/** Numeric view of a typed value for learning: datetimes become epoch milliseconds. */
export function numericValue(field: Field, value: Value): number {
  if (value === null) return NaN;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (field.type === 'datetime') return Date.parse(value);
  return Number(value);
}
