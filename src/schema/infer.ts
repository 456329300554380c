// Infers a data contract from a stream of raw records (text from CSV, JSON values from JSONL): each
// column's type, nullability, range and categories, a key, the target's task, and warnings about
// likely leakage. Pure: the caller reads the file and hands the records over one at a time.
import { errors } from '../core/errors.js';
import { nearest } from '../core/suggest.js';
import {
  DEFAULT_MISSING_VALUES,
  type CategoryValue,
  type FieldRole,
  type FieldType,
  type SchemaFile,
  type Task,
  TASKS,
} from './schema.js';

/** What inference reads as "missing": the schema's defaults plus `?` (common in public data sets). */
export const INFER_MISSING_VALUES = [...DEFAULT_MISSING_VALUES, '?'];
export const DEFAULT_SAMPLE_ROWS = 100_000;
/** A text column with more distinct values than this is free text, not a category. */
export const DEFAULT_MAX_CATEGORIES = 100;
/** A whole-number target with more distinct values than this (or than 5% of the rows) is a quantity. */
export const MAX_CLASSES = 20;
/** Distinct values counted per column; past it a column only knows that it has "many". */
const DISTINCT_LIMIT = 1000;
/** Distinct values of a feature tracked against the target for the leakage check. */
const LEAKAGE_LEVELS = 200;
/** Distinct target values beyond which the feature-to-target tables are dropped (a quantity, not classes). */
const LEAKAGE_TARGET_LEVELS = 100;
const EXAMPLES = 3;
const DUPLICATE_ROWS_TRACKED = 1_000_000;
/** A class with fewer rows than this can hardly be learned, nor appear in the test part. */
const RARE_CLASS_ROWS = 5;
/** Unique text longer than this is free text (comments, descriptions), not a proposed key. */
const KEY_TEXT_LENGTH = 64;

export interface InferOptions {
  /** The column to predict; without one the schema has no target and no task. */
  target?: string;
  /** The column that identifies a row; proposed from the data when absent. */
  key?: string;
  /** Forces the task instead of deciding it from the target's values. */
  task?: Task;
  /** Text values read as missing (default INFER_MISSING_VALUES). */
  missingValues?: string[];
  maxCategories?: number;
}

export interface ColumnSummary {
  /** Rows that held a value (not a missing marker, not absent). */
  present: number;
  missing: number;
  /** Distinct values among the present ones; a lower bound when `distinctOverflow`. */
  distinct: number;
  distinctOverflow: boolean;
  /** Every present value differs from every other (known only for whole numbers and text). */
  unique: boolean;
  /** The first repeated value and the lines it is on, when not unique. */
  duplicate?: { value: string; lines: [number, number] };
  /** The first line where the value is missing. */
  firstMissingLine?: number;
  /** Observed range: numbers, or epoch milliseconds for date-times. */
  min?: number;
  max?: number;
  /** Missing markers seen in this column, e.g. ['', '?']. */
  markers: string[];
  examples: string[];
  /** Length of the longest value, in characters. */
  longest: number;
  /** Value counts, most frequent first, when the column has at most 1000 distinct values. */
  counts?: [string, number][];
}

export interface InferredField {
  name: string;
  type: FieldType;
  role: FieldRole;
  nullable: boolean;
  min?: number;
  max?: number;
  values?: CategoryValue[];
  summary: ColumnSummary;
  /** Why the type, role and limits are what they are: a comment above the field. */
  notes: string[];
  /** Likely problems (leakage, identifiers used as features): in the comment and on stderr. */
  warnings: string[];
  /** The name reads like an identifier (id, customer_id, userId, uuid...). */
  idLike: boolean;
}

export interface ClassCount {
  label: CategoryValue;
  count: number;
}

export interface InferredSchema {
  /** Data rows read (the header is not a row). */
  rows: number;
  fields: InferredField[];
  key: string | undefined;
  /** Why this key, or why none. */
  keyNote: string;
  target: string | undefined;
  task: Task | undefined;
  taskNote: string | undefined;
  /** Classification: rows per class, in the schema's class order. */
  classes: ClassCount[] | undefined;
  /** The markers the schema must list (`missing_values`), or undefined when the defaults do. */
  missingValues: string[] | undefined;
  /** Missing markers seen anywhere in the file. */
  markersSeen: string[];
  /** Rows that repeat an earlier row exactly. */
  duplicateRows: number;
  /** Lines the reader could not read as a record (push rejects them too). */
  unreadable: { count: number; examples: { line: number; problem: string }[] };
  /** Everything worth a warning on stderr, each naming its column. */
  warnings: string[];
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INTEGRAL_TEXT = /^[+-]?\d+(?:\.0+)?$/;
const LEADING_ZERO = /^[+-]?0\d/;
const BOOLEAN_TEXT = /^(?:true|false)$/i;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const YEAR_FIRST_SLASH = /^\d{4}\/\d{1,2}\/\d{1,2}$/;
const SLASH_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const TEXT_MONTH_DATE = /^(?:\d{1,2} [A-Za-z]{3,9},? \d{4}|[A-Za-z]{3,9} \d{1,2},? \d{4})$/;

/** Names that read as identifiers: id, ID, key, uuid, index, row_id, customer_id, userId, order-no... */
export function isIdLikeName(name: string): boolean {
  const trimmed = name.trim();
  if (
    /^(?:id|key|uuid|guid|index|idx|row|rowid|row_?num(?:ber)?|record|obs|#|no\.?|unnamed: ?0)$/i.test(
      trimmed,
    )
  )
    return true;
  if (/[_\-\s.](?:id|key|uuid|guid|idx|no|num|number)$/i.test(trimmed)) return true;
  return /[a-z0-9](?:Id|ID|Key|Uuid|UUID)$/.test(trimmed);
}

/** Compares category values the way they are listed: numbers by value, text by code point. */
function compareValues(a: CategoryValue, b: CategoryValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function countText(count: number, one: string, many = `${one}s`): string {
  return `${count.toLocaleString('en')} ${count === 1 ? one : many}`;
}

function share(part: number, whole: number): string {
  const percent = whole > 0 ? (100 * part) / whole : 0;
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)}%`;
}

/** One column's running observations. */
class ColumnProfile {
  present = 0;
  missing = 0;
  firstMissingLine: number | undefined;
  markers = new Set<string>();
  booleans = 0;
  integers = 0;
  integrals = 0;
  numbers = 0;
  datetimes = 0;
  nested = 0;
  leadingZeros = 0;
  /** Slash dates whose first part is above 12 (day first) and whose second part is (month first). */
  dayFirst = 0;
  monthFirst = 0;
  min = Infinity;
  max = -Infinity;
  timeMin = Infinity;
  timeMax = -Infinity;
  counts: Map<string, number> | undefined = new Map();
  distinctOverflow = false;
  /** First line of each value, kept while the column could still be a key (unique whole numbers or text). */
  lines: Map<string, number> | undefined = new Map();
  unique = true;
  duplicate: { value: string; lines: [number, number] } | undefined;
  examples: string[] = [];
  /** Length of the longest value, in characters. */
  longest = 0;
  // Against the target, for the leakage check.
  pairs = 0;
  equalToTarget = 0;
  joint: Map<string, Map<string, number>> | undefined = new Map();
  // Running means and co-moments (Welford's update: no cancellation with large values such as epochs).
  numericPairs = 0;
  meanX = 0;
  meanY = 0;
  squaresX = 0;
  squaresY = 0;
  coMoment = 0;

  constructor(readonly name: string) {}

  addMissing(marker: string | undefined, line: number): void {
    this.missing++;
    this.firstMissingLine ??= line;
    if (marker !== undefined) this.markers.add(marker);
  }

  /** A present value as text, with what its JSON form already says about it. */
  addValue(text: string, json: 'string' | 'number' | 'boolean', line: number): void {
    this.present++;
    if (text.length > this.longest) this.longest = text.length;
    if (json === 'boolean' || (json === 'string' && BOOLEAN_TEXT.test(text))) this.booleans++;
    let numeric = NaN;
    if (json === 'number') {
      numeric = Number(text);
    } else if (json === 'string' && NUMBER_TEXT.test(text)) {
      if (LEADING_ZERO.test(text)) this.leadingZeros++;
      else numeric = Number(text);
    }
    if (Number.isFinite(numeric)) {
      this.numbers++;
      if (numeric < this.min) this.min = numeric;
      if (numeric > this.max) this.max = numeric;
      if (Number.isSafeInteger(numeric)) {
        this.integrals += json === 'number' || INTEGRAL_TEXT.test(text) ? 1 : 0;
        if (json === 'number' || INTEGER_TEXT.test(text)) this.integers++;
        else this.lines = undefined; // "3.0": a number column, never a key
      } else {
        this.lines = undefined;
      }
    } else if (json === 'string') {
      this.checkDatetime(text);
    }
    this.countDistinct(text, line);
  }

  addNested(line: number): void {
    this.present++;
    this.nested++;
    this.lines = undefined;
    this.countDistinct('[nested]', line);
  }

  private checkDatetime(text: string): void {
    let time = NaN;
    if (ISO_DATE.test(text) || YEAR_FIRST_SLASH.test(text) || TEXT_MONTH_DATE.test(text)) {
      time = Date.parse(text);
    } else {
      const slash = SLASH_DATE.exec(text);
      if (slash) {
        const first = Number(slash[1]);
        const second = Number(slash[2]);
        if (first > 12) this.dayFirst++;
        if (second > 12) this.monthFirst++;
        time = Date.parse(text);
        // Day-first dates cannot be read as dates at all; count them so the column is not a date.
        if (first > 12) time = NaN;
      }
    }
    if (Number.isFinite(time)) {
      this.datetimes++;
      if (time < this.timeMin) this.timeMin = time;
      if (time > this.timeMax) this.timeMax = time;
    }
  }

  private countDistinct(text: string, line: number): void {
    if (this.examples.length < EXAMPLES && !this.examples.includes(text)) this.examples.push(text);
    if (this.counts) {
      const count = this.counts.get(text);
      if (count !== undefined) this.counts.set(text, count + 1);
      else if (this.counts.size < DISTINCT_LIMIT) this.counts.set(text, 1);
      else {
        this.counts = undefined;
        this.distinctOverflow = true;
      }
    }
    if (this.unique && this.lines) {
      const first = this.lines.get(text);
      if (first !== undefined) {
        this.unique = false;
        this.duplicate = { value: text, lines: [first, line] };
        this.lines = undefined;
      } else {
        this.lines.set(text, line);
      }
    } else if (this.unique && this.counts && (this.counts.get(text) ?? 0) > 1) {
      this.unique = false;
    }
  }

  /** Records the target's value for this row, for the leakage check. */
  pairWithTarget(text: string | undefined, targetText: string | undefined, targetLevels: number): void {
    if (text === undefined || targetText === undefined) return;
    this.pairs++;
    if (text === targetText) this.equalToTarget++;
    if (this.joint) {
      if (targetLevels > LEAKAGE_TARGET_LEVELS) {
        this.joint = undefined;
      } else {
        let byTarget = this.joint.get(text);
        if (!byTarget) {
          if (this.joint.size >= LEAKAGE_LEVELS) {
            this.joint = undefined;
            return this.pairNumbers(text, targetText);
          }
          byTarget = new Map();
          this.joint.set(text, byTarget);
        }
        byTarget.set(targetText, (byTarget.get(targetText) ?? 0) + 1);
      }
    }
    this.pairNumbers(text, targetText);
  }

  private pairNumbers(text: string, targetText: string): void {
    if (!NUMBER_TEXT.test(text) || !NUMBER_TEXT.test(targetText)) return;
    const x = Number(text);
    const y = Number(targetText);
    if (!Number.isFinite(x) || !Number.isFinite(y)) return;
    const n = ++this.numericPairs;
    const dx = x - this.meanX;
    const dy = y - this.meanY;
    this.meanX += dx / n;
    this.meanY += dy / n;
    this.squaresX += dx * (x - this.meanX);
    this.squaresY += dy * (y - this.meanY);
    this.coMoment += dx * (y - this.meanY);
  }

  get distinct(): number {
    return this.counts ? this.counts.size : DISTINCT_LIMIT + 1;
  }

  /** Pearson correlation of the numeric pairs with the target. */
  correlation(): number {
    if (this.numericPairs < 3 || this.squaresX <= 0 || this.squaresY <= 0) return NaN;
    return this.coMoment / Math.sqrt(this.squaresX * this.squaresY);
  }

  summary(): ColumnSummary {
    const hasNumbers = this.numbers > 0 && this.numbers === this.present;
    const hasTimes = !hasNumbers && this.datetimes > 0 && this.datetimes === this.present;
    return {
      present: this.present,
      missing: this.missing,
      distinct: this.distinct,
      distinctOverflow: this.distinctOverflow,
      unique: this.unique && this.lines !== undefined,
      ...(this.duplicate ? { duplicate: this.duplicate } : {}),
      ...(this.firstMissingLine !== undefined ? { firstMissingLine: this.firstMissingLine } : {}),
      ...(hasNumbers ? { min: this.min, max: this.max } : {}),
      ...(hasTimes ? { min: this.timeMin, max: this.timeMax } : {}),
      markers: [...this.markers].sort(),
      examples: this.examples,
      longest: this.longest,
      ...(this.counts
        ? { counts: [...this.counts.entries()].sort((a, b) => b[1] - a[1] || compareValues(a[0], b[0])) }
        : {}),
    };
  }
}

/**
 * Watches records go by and, at the end, proposes a schema. Feed it with `add` (values by column name,
 * as the CSV or JSONL reader gives them) and `addUnreadable` for lines the reader could not parse.
 */
export class SchemaInferrer {
  private readonly profiles = new Map<string, ColumnProfile>();
  private readonly missing: Set<string>;
  private readonly missingList: string[];
  private readonly customMissing: boolean;
  private readonly maxCategories: number;
  private readonly rowsSeen = new Set<string>();
  private rowsTracked = true;
  private firstLine: number | undefined;
  private duplicateRows = 0;
  private rows = 0;
  private readonly unreadable: InferredSchema['unreadable'] = { count: 0, examples: [] };
  private readonly markersSeen = new Set<string>();
  private readonly targetLevels = new Set<string>();

  constructor(
    columns: readonly string[],
    private readonly options: InferOptions = {},
  ) {
    this.missingList = options.missingValues ?? INFER_MISSING_VALUES;
    this.customMissing = options.missingValues !== undefined;
    this.missing = new Set(this.missingList);
    this.maxCategories = options.maxCategories ?? DEFAULT_MAX_CATEGORIES;
    // `_id` is the store's own key (in exports from MongoDB): push ignores it, and so does inference.
    for (const column of columns) if (column !== '_id') this.profiles.set(column, new ColumnProfile(column));
    const known = [...this.profiles.keys()];
    for (const [flag, name] of [
      ['--target', options.target],
      ['--key', options.key],
    ] as const) {
      if (name !== undefined && !this.profiles.has(name)) {
        const suggestion = nearest(name, known);
        throw new errors.PW_USAGE(`${flag} ${name}: the file has no column ${JSON.stringify(name)}`, {
          hint: suggestion
            ? `Did you mean ${JSON.stringify(suggestion)}? The columns are: ${known.join(', ')}.`
            : `The columns are: ${known.join(', ')}.`,
        });
      }
    }
    if (options.target !== undefined && options.target === options.key) {
      throw new errors.PW_USAGE(`${options.target} cannot be both the key and the target`, {
        hint: 'Name another column with --key, or leave --key out to have one proposed.',
      });
    }
  }

  /** Text of a raw value, or undefined when it is missing (marker, null, absent). */
  private textOf(raw: unknown): string | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw === 'string') return this.missing.has(raw) ? undefined : raw.trim();
    if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
    return undefined;
  }

  add(values: Record<string, unknown>, line: number): void {
    this.rows++;
    this.firstLine ??= line;
    for (const name of Object.keys(values)) {
      if (!this.profiles.has(name) && name !== '_id') {
        // A JSONL record may bring a field the first record did not have: the rows before it lacked it.
        const profile = new ColumnProfile(name);
        profile.missing = this.rows - 1;
        if (this.rows > 1) profile.firstMissingLine = this.firstLine;
        this.profiles.set(name, profile);
      }
    }
    const targetName = this.options.target;
    const targetText = targetName === undefined ? undefined : this.textOf(values[targetName]);
    if (targetText !== undefined && this.targetLevels.size <= LEAKAGE_TARGET_LEVELS)
      this.targetLevels.add(targetText);
    let rowText = this.rowsTracked ? '' : undefined;
    for (const profile of this.profiles.values()) {
      const raw = values[profile.name];
      let text: string | undefined;
      if (raw === undefined || raw === null) {
        profile.addMissing(undefined, line);
      } else if (typeof raw === 'string') {
        if (this.missing.has(raw)) {
          profile.addMissing(raw, line);
          this.markersSeen.add(raw);
        } else {
          text = raw.trim();
          profile.addValue(text, 'string', line);
        }
      } else if (typeof raw === 'number') {
        text = String(raw);
        profile.addValue(text, Number.isFinite(raw) ? 'number' : 'string', line);
      } else if (typeof raw === 'boolean') {
        text = String(raw);
        profile.addValue(text, 'boolean', line);
      } else {
        profile.addNested(line);
      }
      if (rowText !== undefined) rowText += `${text === undefined ? '\u0000' : text}\u0001`;
      if (targetName !== undefined && profile.name !== targetName) {
        profile.pairWithTarget(text, targetText, this.targetLevels.size);
      }
    }
    if (rowText !== undefined) {
      if (this.rowsSeen.has(rowText)) this.duplicateRows++;
      else this.rowsSeen.add(rowText);
      // Repeated rows are counted among the first million; past that the memory is not worth it.
      if (this.rowsSeen.size >= DUPLICATE_ROWS_TRACKED) this.rowsTracked = false;
    }
  }

  addUnreadable(line: number, problem: string): void {
    this.unreadable.count++;
    if (this.unreadable.examples.length < EXAMPLES) this.unreadable.examples.push({ line, problem });
  }

  finish(): InferredSchema {
    const warnings: string[] = [];
    const rows = this.rows;
    if (rows === 0) {
      throw new errors.PW_FILE_INVALID('The file has a header but no rows to learn a schema from', {
        hint: 'Add rows to the file (at least a few dozen), then run the command again.',
      });
    }
    const fields: InferredField[] = [...this.profiles.values()].map((profile) =>
      this.decideField(profile, rows),
    );
    const byName = new Map(fields.map((field) => [field.name, field]));
    const targetName = this.options.target;
    let task: Task | undefined;
    let taskNote: string | undefined;
    let classes: ClassCount[] | undefined;
    if (targetName !== undefined) {
      const decided = this.decideTarget(byName.get(targetName)!, rows);
      task = decided.task;
      taskNote = decided.note;
      classes = decided.classes;
    }
    const { key, keyNote } = this.decideKey(fields, rows);
    for (const field of fields) {
      if (field.role !== 'feature') continue;
      this.checkIdentifier(field, rows);
      if (targetName !== undefined && task)
        this.checkLeakage(field, this.profiles.get(field.name)!, byName.get(targetName)!, task);
    }
    if (fields.every((field) => field.role !== 'feature')) {
      throw new errors.PW_USAGE(
        'No column is left to learn from: every column is the key, the target or ignored',
        {
          hint: 'Check the file has feature columns; a column of free text or identifiers is ignored by inference.',
        },
      );
    }
    for (const field of fields)
      for (const warning of field.warnings) warnings.push(`${field.name}: ${warning}`);
    if (this.unreadable.count > 0) {
      const first = this.unreadable.examples[0];
      warnings.push(
        `${countText(this.unreadable.count, 'line')} could not be read as a record (first: line ${first.line}, ${first.problem}); push rejects them too`,
      );
    }
    if (!key && this.duplicateRows > 0) {
      warnings.push(
        `${countText(this.duplicateRows, 'row')} ${this.duplicateRows === 1 ? 'repeats' : 'repeat'} an earlier row exactly; without a key, push stores identical rows once`,
      );
    }
    const seenOutsideDefaults = [...this.markersSeen].some(
      (marker) => !DEFAULT_MISSING_VALUES.includes(marker),
    );
    const sameAsDefaults =
      this.missingList.length === DEFAULT_MISSING_VALUES.length &&
      DEFAULT_MISSING_VALUES.every((marker) => this.missing.has(marker));
    const missingValues = this.customMissing
      ? sameAsDefaults
        ? undefined
        : [...this.missingList]
      : seenOutsideDefaults
        ? [...this.missingList]
        : undefined;
    return {
      rows,
      fields,
      key,
      keyNote,
      target: targetName,
      task,
      taskNote,
      classes,
      missingValues,
      markersSeen: [...this.markersSeen].sort(),
      duplicateRows: this.duplicateRows,
      unreadable: this.unreadable,
      warnings,
    };
  }

  /** The type from the values, and the role a column gets unless it is the key or the target. */
  private decideField(profile: ColumnProfile, rows: number): InferredField {
    const summary = profile.summary();
    const n = summary.present;
    const notes: string[] = [];
    const warnings: string[] = [];
    const field: InferredField = {
      name: profile.name,
      type: 'string',
      role: 'feature',
      nullable: summary.missing > 0,
      summary,
      notes,
      warnings,
      idLike: isIdLikeName(profile.name),
    };
    if (summary.missing > 0) {
      const markers = summary.markers.map((marker) => JSON.stringify(marker));
      notes.push(
        `${countText(summary.missing, 'missing value')} (${share(summary.missing, rows)}${markers.length ? `, written ${markers.join(', ')}` : ''}): nullable`,
      );
    }
    if (n === 0) {
      field.role = 'ignore';
      notes.push('every value is missing: nothing to learn from, ignored');
      return field;
    }
    if (profile.nested > 0) {
      field.role = 'ignore';
      warnings.push(
        'holds nested JSON objects or arrays, which a schema field cannot describe; push rejects such rows: flatten or remove the field',
      );
      return field;
    }
    if (profile.booleans === n) {
      field.type = 'boolean';
      notes.push(`true/false values`);
    } else if (profile.integers === n) {
      field.type = 'integer';
      field.min = profile.min;
      field.max = profile.max;
      notes.push(`whole numbers from ${profile.min} to ${profile.max} (${distinctText(summary)})`);
    } else if (profile.numbers === n) {
      field.type = 'number';
      field.min = profile.min;
      field.max = profile.max;
      notes.push(`numbers from ${profile.min} to ${profile.max} (${distinctText(summary)})`);
    } else if (profile.datetimes === n && profile.dayFirst === 0) {
      field.type = 'datetime';
      notes.push(
        `dates from ${isoDay(profile.timeMin)} to ${isoDay(profile.timeMax)}; no min/max is written, since new rows come later`,
      );
      if (
        profile.monthFirst === 0 &&
        profile.dayFirst === 0 &&
        [...(summary.counts ?? [])].some(([text]) => SLASH_DATE.test(text))
      ) {
        notes.push(
          'slash dates are read month first (MM/DD/YYYY); write them as YYYY-MM-DD if they are day first',
        );
      }
    } else {
      if (profile.dayFirst > 0) {
        warnings.push(
          'holds dates written day first (DD/MM/YYYY), which cannot be read as dates: kept as text; write them as YYYY-MM-DD to use them as dates',
        );
      }
      if (profile.leadingZeros > 0 && profile.leadingZeros + profile.numbers === n) {
        notes.push('numbers with leading zeros (codes, not quantities): kept as text');
      }
      const distinct = summary.distinct;
      const category =
        !summary.distinctOverflow &&
        distinct <= this.maxCategories &&
        distinct < n &&
        distinct <= Math.max(2, n / 2);
      if (category) {
        field.type = 'category';
        field.values = (summary.counts ?? []).map(([text]) => text).sort(compareValues);
        notes.push(`text with ${countText(distinct, 'distinct value')}: a category`);
      } else {
        field.type = 'string';
        const mostlyUnique = summary.distinctOverflow || distinct > n / 2;
        if (mostlyUnique) {
          field.role = 'ignore';
          notes.push(
            `text with ${summary.distinctOverflow ? `more than ${DISTINCT_LIMIT.toLocaleString('en')}` : distinct.toLocaleString('en')} distinct values in ${n.toLocaleString('en')} rows (free text or an identifier): ignored`,
          );
        } else {
          notes.push(
            `text with ${distinct.toLocaleString('en')} distinct values (more than ${this.maxCategories} for a category): learned from as text; values not seen in training count as missing`,
          );
        }
      }
    }
    return field;
  }

  private decideTarget(
    field: InferredField,
    rows: number,
  ): { task: Task; note: string; classes: ClassCount[] | undefined } {
    const summary = field.summary;
    const name = field.name;
    const forced = this.options.task;
    const fail = (message: string, hint: string): never => {
      throw new errors.PW_USAGE(`--target ${name}: ${message}`, { hint });
    };
    if (forced !== undefined && !TASKS.includes(forced)) {
      throw new errors.PW_USAGE(`--task ${forced}: not a task`, { hint: `Use one of ${TASKS.join(', ')}.` });
    }
    if (summary.present === 0)
      fail('every value is missing', 'Choose a column that holds the value to predict.');
    if (summary.distinct < 2)
      fail(
        `holds a single value (${summary.examples[0]}): there is nothing to predict`,
        'Choose a column whose values vary.',
      );
    field.role = 'target';
    field.nullable = false;
    field.warnings.length = 0;
    if (summary.missing > 0) {
      field.warnings.push(
        `${countText(summary.missing, 'row')} (${share(summary.missing, rows)}, the first on line ${summary.firstMissingLine}) have no target value; push rejects them, since a row without its answer cannot be learned from`,
      );
    }
    const counts = summary.counts ?? [];
    const profile = this.profiles.get(name)!;
    const n = summary.present;
    const classLimit = Math.min(MAX_CLASSES, Math.max(3, Math.floor(n * 0.05)));
    const numeric = field.type === 'integer' || field.type === 'number';
    const wholeNumbers = numeric && profile.integrals === n;

    if (field.type === 'boolean') {
      if (forced !== undefined && forced !== 'binary')
        fail(`holds true/false values, which make a binary task, not ${forced}`, 'Leave --task out.');
      field.notes.length = 0;
      const countOf = new Map(counts.map(([text, count]) => [text.toLowerCase(), count] as [string, number]));
      return {
        task: 'binary',
        note: 'binary: true/false; predictions give the probability of true',
        classes: [
          { label: false, count: countOf.get('false') ?? 0 },
          { label: true, count: countOf.get('true') ?? 0 },
        ],
      };
    }
    if (field.type === 'datetime')
      fail('holds dates, which cannot be predicted', 'Choose a column with classes or quantities.');

    let labels: CategoryValue[];
    let classes: ClassCount[];
    if (numeric) {
      // "1" and "1.0" are the same class once read as whole numbers.
      const byLabel = new Map<number, number>();
      if (wholeNumbers)
        for (const [text, count] of counts)
          byLabel.set(Number(text), (byLabel.get(Number(text)) ?? 0) + count);
      const distinct = summary.distinctOverflow ? Infinity : wholeNumbers ? byLabel.size : summary.distinct;
      const task =
        forced ??
        (wholeNumbers && distinct <= Math.max(2, classLimit)
          ? distinct === 2
            ? 'binary'
            : 'multiclass'
          : 'regression');
      if (task === 'regression') {
        const why =
          wholeNumbers && forced === undefined
            ? ` (more than ${classLimit} for classes; pass --task multiclass to treat them as classes)`
            : '';
        return {
          task,
          note: `regression: ${field.type === 'integer' ? 'whole numbers' : 'numbers'} with ${distinctText(summary)}${why}`,
          classes: undefined,
        };
      }
      if (!wholeNumbers)
        fail(
          `holds numbers with decimals, which make a regression task, not ${task}`,
          'Use --task regression, or leave --task out.',
        );
      if (distinct > this.maxCategories)
        fail(
          `has ${distinctText(summary)}, too many to be classes`,
          'Use --task regression, or leave --task out.',
        );
      field.type = 'integer';
      labels = [...byLabel.keys()].sort(compareValues);
      classes = labels.map((label) => ({ label, count: byLabel.get(label as number) ?? 0 }));
    } else {
      if (forced === 'regression')
        fail(
          'holds text, which cannot be a regression target',
          'Leave --task out, or choose a numeric column.',
        );
      if (summary.distinctOverflow || summary.distinct > this.maxCategories) {
        fail(
          `holds text with ${distinctText(summary)}, too many to be classes`,
          'Choose a column with classes or numbers to predict.',
        );
      }
      field.type = 'category';
      const countOf = new Map(counts);
      labels = counts.map(([text]) => text).sort(compareValues);
      classes = labels.map((label) => ({ label, count: countOf.get(label as string) ?? 0 }));
    }
    const task: Task = forced ?? (labels.length === 2 ? 'binary' : 'multiclass');
    if (task === 'binary' && labels.length !== 2)
      fail(
        `--task binary needs two classes; the column has ${labels.length}`,
        'Use --task multiclass, or leave --task out.',
      );
    if (task === 'multiclass' && labels.length < 3)
      fail(
        '--task multiclass needs three classes or more; the column has two',
        'Use --task binary, or leave --task out.',
      );
    delete field.min;
    delete field.max;
    field.values = labels;
    field.notes.length = 0;
    const rare = classes.filter((entry) => entry.count < RARE_CLASS_ROWS);
    if (rare.length > 0) {
      field.warnings.push(
        `${rare.map((entry) => `class ${JSON.stringify(entry.label)} has ${countText(entry.count, 'row')}`).join(', ')}: too few to learn from and to test on; collect more rows of ${rare.length > 1 ? 'these classes' : 'this class'} or merge ${rare.length > 1 ? 'them' : 'it'} into another`,
      );
    }
    const note =
      task === 'binary'
        ? `binary: two classes; predictions give the probability of ${JSON.stringify(labels[1])} (the second value)`
        : `multiclass: ${labels.length} classes; predictions give a probability per class`;
    return { task, note, classes };
  }

  private decideKey(fields: InferredField[], rows: number): { key: string | undefined; keyNote: string } {
    const requested = this.options.key;
    if (requested !== undefined) {
      const field = fields.find((f) => f.name === requested)!;
      const summary = field.summary;
      const fail = (message: string, hint: string): never => {
        throw new errors.PW_USAGE(`--key ${requested}: ${message}`, { hint });
      };
      if (summary.missing > 0)
        fail(
          `the value is missing on line ${summary.firstMissingLine} (${countText(summary.missing, 'row')} in all)`,
          'A key needs a value in every row: fill it in, or leave --key out to have a row key generated.',
        );
      if (summary.duplicate)
        fail(
          `the value ${JSON.stringify(summary.duplicate.value)} appears on lines ${summary.duplicate.lines[0]} and ${summary.duplicate.lines[1]}`,
          'A key identifies one row: choose a column whose values are all different, or leave --key out.',
        );
      if (field.type !== 'integer' && field.type !== 'string' && field.type !== 'category') {
        fail(
          `holds ${field.type === 'number' ? 'numbers with decimals' : `${field.type} values`}; a key is a whole number or text`,
          'Choose an identifier column, or leave --key out.',
        );
      }
      if (!summary.unique)
        fail(
          'its values are not all different',
          'Choose a column whose values are all different, or leave --key out.',
        );
      this.makeKey(field);
      return { key: field.name, keyNote: 'key: given with --key; every value is different' };
    }
    let best: { field: InferredField; score: number; why: string } | undefined;
    for (const field of fields) {
      if (field.role === 'target') continue;
      const summary = field.summary;
      if (summary.missing > 0 || !summary.unique || (field.type !== 'integer' && field.type !== 'string'))
        continue;
      let score = 0;
      let why = '';
      if (field.idLike) [score, why] = [3, 'its name reads as an identifier and every value is different'];
      else if (field.type === 'integer' && isRowNumber(summary, rows))
        [score, why] = [2, `it numbers the rows (${summary.min} to ${summary.max}, each once)`];
      else if (field.type === 'string' && summary.longest <= KEY_TEXT_LENGTH)
        [score, why] = [1, 'every value is different (short) text'];
      if (score > (best?.score ?? 0)) best = { field, score, why };
    }
    if (!best) {
      return {
        key: undefined,
        keyNote:
          'no key: no column is a whole number or text that differs in every row, so push keys each row by a hash of its values (pushing the same file again adds nothing; identical rows are stored once)',
      };
    }
    this.makeKey(best.field);
    return { key: best.field.name, keyNote: `key: ${best.why}` };
  }

  private makeKey(field: InferredField): void {
    field.role = 'key';
    field.nullable = false;
    if (field.type === 'category') field.type = 'string';
    delete field.values;
    // New rows bring new identifiers: a range would reject them.
    delete field.min;
    delete field.max;
    field.notes.length = 0;
    field.warnings.length = 0;
  }

  /** An identifier used as a feature: ignored when it names each row, a warning when it repeats. */
  private checkIdentifier(field: InferredField, rows: number): void {
    const summary = field.summary;
    const rowNumber =
      field.type === 'integer' && summary.unique && summary.missing === 0 && isRowNumber(summary, rows);
    if (
      (field.idLike && summary.unique && (field.type === 'integer' || field.type === 'string')) ||
      rowNumber
    ) {
      field.role = 'ignore';
      delete field.values;
      field.warnings.push(
        `${rowNumber ? 'numbers the rows' : 'looks like an identifier'} (every value different): ignored, since a model that learns row identifiers memorises rows instead of generalising; set role: feature only if it carries meaning`,
      );
      return;
    }
    if (field.idLike) {
      field.warnings.push(
        `looks like an identifier but is learned from as a feature (${distinctText(summary)}): likely leakage or memorisation; set role: ignore unless its values mean something at prediction time`,
      );
    }
  }

  private checkLeakage(
    field: InferredField,
    profile: ColumnProfile,
    target: InferredField,
    task: Task,
  ): void {
    const pairs = profile.pairs;
    if (pairs < 10) return;
    if (profile.equalToTarget >= 0.99 * pairs) {
      field.role = 'ignore';
      field.warnings.push(
        `equals the target ${target.name} in ${share(profile.equalToTarget, pairs)} of rows: likely leakage (the answer copied into a feature), ignored; set role: feature only if it is known before the target is`,
      );
      return;
    }
    if (task === 'regression') {
      const r = profile.correlation();
      if (Math.abs(r) >= 0.99 && profile.numericPairs >= 10) {
        field.warnings.push(
          `is almost a copy of the target ${target.name} (correlation ${r.toFixed(3)}): likely leakage; make sure it is known before the target is, or set role: ignore`,
        );
      }
      return;
    }
    if (!profile.joint || profile.joint.size > Math.max(2, pairs / 10)) return;
    let explained = 0;
    for (const byTarget of profile.joint.values()) {
      let best = 0;
      for (const count of byTarget.values()) if (count > best) best = count;
      explained += best;
    }
    const majority =
      Math.max(...(target.summary.counts ?? []).map(([, count]) => count)) / target.summary.present;
    const purity = explained / pairs;
    if (purity < 1 - 0.02 * (1 - majority) || majority >= 0.999) return;
    field.warnings.push(
      `determines the target ${target.name} in ${share(explained, pairs)} of rows (each of its ${profile.joint.size} values goes with one class): likely leakage; make sure it is known before the target is, or set role: ignore`,
    );
  }
}

function isRowNumber(summary: ColumnSummary, rows: number): boolean {
  return (
    summary.present === rows &&
    summary.unique &&
    (summary.min === 0 || summary.min === 1) &&
    summary.max === summary.min! + rows - 1
  );
}

function distinctText(summary: ColumnSummary): string {
  return summary.distinctOverflow
    ? `more than ${DISTINCT_LIMIT.toLocaleString('en')} distinct values`
    : countText(summary.distinct, 'distinct value');
}

function isoDay(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

/** The `schema.yaml` content as data: fields in file order, with the inferred types, roles and limits. */
export function schemaDefinition(
  inferred: InferredSchema,
  options: { name: string; description?: string },
): SchemaFile {
  const fields: SchemaFile['fields'] = {};
  for (const field of inferred.fields) {
    fields[field.name] = {
      type: field.type,
      role: field.role,
      nullable: field.nullable,
      ...(field.min !== undefined ? { min: field.min } : {}),
      ...(field.max !== undefined ? { max: field.max } : {}),
      ...(field.values !== undefined ? { values: field.values } : {}),
    };
  }
  return {
    name: options.name,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(inferred.task !== undefined ? { task: inferred.task } : {}),
    ...(inferred.missingValues !== undefined ? { missing_values: inferred.missingValues } : {}),
    fields,
  };
}
