// Infers a data contract from a stream of raw records (text from CSV, JSON values from JSONL): each
// column's type, nullability, range and categories, a key, the target's task, and warnings about
// likely leakage. Pure: the caller reads the file and hands the records over one at a time.
// The evidence is gathered in profile.ts, the decisions are made in decide.ts and warnings.ts, and
// render.ts writes the commented schema.yaml.
import { errors } from '../../core/errors.js';
import { nearest } from '../../core/suggest.js';
import { DEFAULT_MISSING_VALUES, type Task } from '../schema.js';
import { decideField, decideKey, decideTarget } from './decide.js';
import { DEFAULT_MAX_CATEGORIES, INFER_MISSING_VALUES, optionError, type InferOptions } from './options.js';
import { ColumnProfile, countText, EXAMPLES, LEAKAGE_TARGET_LEVELS } from './profile.js';
import type { ClassCount, InferredField, InferredSchema } from './types.js';
import { checkIdentifier, checkLeakage } from './warnings.js';

export { DEFAULT_SAMPLE_ROWS, INFER_MISSING_VALUES, optionError, type InferOptions } from './options.js';
export { isIdLikeName } from './decide.js';
export { renderSchemaText, schemaDefinition, wrapComment, yamlScalar } from './render.js';
export type { InferredSchema } from './types.js';

const DUPLICATE_ROWS_TRACKED = 1_000_000;

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
    for (const option of ['target', 'key'] as const) {
      const name = options[option];
      if (name !== undefined && !this.profiles.has(name)) {
        const suggestion = nearest(name, known);
        throw optionError(
          option,
          name,
          `the file has no column ${JSON.stringify(name)}`,
          suggestion
            ? `Did you mean ${JSON.stringify(suggestion)}? The columns are: ${known.join(', ')}.`
            : `The columns are: ${known.join(', ')}.`,
        );
      }
    }
    if (options.target !== undefined && options.target === options.key) {
      throw optionError(
        'key',
        options.key!,
        `${options.target} cannot be both the key and the target`,
        'Name another column as the key, or leave the key out to have one proposed.',
      );
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
      } else if (raw instanceof Date) {
        // A spreadsheet or Parquet date.
        text = Number.isFinite(raw.getTime()) ? raw.toISOString() : '';
        profile.addValue(text, 'string', line);
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

  /** The schema learnt from the rows; `source` names the file in an error that points at one of its lines. */
  finish(source?: string): InferredSchema {
    const warnings: string[] = [];
    const rows = this.rows;
    if (rows === 0 && this.unreadable.count > 0) {
      // every line after the header was unreadable: the cause is that line, not an empty file
      const first = this.unreadable.examples[0];
      throw new errors.PW_FILE_INVALID(
        `No row of the file could be read: ${countText(this.unreadable.count, 'line')} could not be read as a record (first: line ${first.line}, ${first.problem})`,
        {
          where: source ? `${source}:${first.line}` : `line ${first.line}`,
          hint: 'Fix that line (a stray quote that opens a field is the usual cause: write a quote inside a field as ""), then run the command again.',
        },
      );
    }
    if (rows === 0) {
      throw new errors.PW_FILE_INVALID('The file has a header but no rows to learn a schema from', {
        hint: 'Add rows to the file (at least a few dozen), then run the command again.',
      });
    }
    const fields: InferredField[] = [...this.profiles.values()].map((profile) =>
      decideField(profile, rows, this.maxCategories),
    );
    const byName = new Map(fields.map((field) => [field.name, field]));
    const targetName = this.options.target;
    let task: Task | undefined;
    let taskNote: string | undefined;
    let classes: ClassCount[] | undefined;
    if (targetName !== undefined) {
      const decided = decideTarget(byName.get(targetName)!, this.profiles.get(targetName)!, rows, {
        task: this.options.task,
        maxCategories: this.maxCategories,
        ...(this.options.positiveClass !== undefined ? { positiveClass: this.options.positiveClass } : {}),
      });
      task = decided.task;
      taskNote = decided.note;
      classes = decided.classes;
    }
    const { key, keyNote } = decideKey(fields, rows, this.options.key);
    for (const name of this.options.closedCategories ?? []) {
      const field = byName.get(name);
      if (!field)
        throw optionError(
          'closed',
          name,
          'the file has no such column',
          `Name category columns of the file: ${fields.map((f) => f.name).join(', ')}.`,
        );
      if (field.type !== 'category' || field.role !== 'feature')
        throw optionError(
          'closed',
          name,
          `is ${field.role === 'feature' ? `a ${field.type} column` : `the ${field.role}`}, not a category feature`,
          'Only a category feature can have a closed list of values.',
        );
      field.closed = true;
    }
    for (const field of fields) {
      if (field.role !== 'feature') continue;
      checkIdentifier(field, rows);
      if (targetName !== undefined && task)
        checkLeakage(field, this.profiles.get(field.name)!, byName.get(targetName)!, task);
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
        `${countText(this.duplicateRows, 'row')} ${this.duplicateRows === 1 ? 'repeats' : 'repeat'} an earlier row exactly; without a key, push keeps each as its own row: if they are the same record twice, give the table a key`,
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
}
