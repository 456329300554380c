// The columnar table the learning core reads: one typed array per field, built from a stream of typed
// records without holding them, so memory is bounded by the columns and not by the records.
import { errors } from '../core/errors.js';
import type { Value, TypedRecord } from '../schema/coerce.js';
import { classLabels, type CategoryValue, type Field, type Schema } from '../schema/schema.js';

/** integer, number, datetime (epoch ms) and boolean (0/1) fields: NaN marks null. */
export interface NumericColumn {
  kind: 'numeric';
  field: Field;
  values: Float64Array;
  /** One byte a row, 1 = null: hot loops read it without bit arithmetic. */
  nulls: Uint8Array;
  nullCount: number;
}

/** category and string fields: codes index `dictionary`; -1 marks null. */
export interface CategoryColumn {
  kind: 'category';
  field: Field;
  codes: Int32Array;
  /** Shared (not copied) by frames selected from this one. */
  dictionary: CategoryValue[];
  nullCount: number;
}

export type FrameColumn = NumericColumn | CategoryColumn;

export function isNumericField(field: Field): boolean {
  return (
    field.type === 'integer' ||
    field.type === 'number' ||
    field.type === 'datetime' ||
    field.type === 'boolean'
  );
}

/** A field's value as a number for learning: datetimes are epoch milliseconds, booleans 0/1, null NaN. */
export function numericOf(field: Field, value: Value | undefined): number {
  if (value === null || value === undefined) return NaN;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (field.type === 'datetime') return Date.parse(value);
  const number = Number(value);
  return value.trim() === '' ? NaN : number;
}

export class Frame {
  constructor(
    readonly schema: Schema,
    readonly rows: number,
    private readonly columnsByName: Map<string, FrameColumn>,
    /** Row identity: the key field's values, when the schema has a key. */
    readonly keys: Value[] | undefined,
    /** Class index (classification, in `classes` order) or value (regression), when the schema has a target. */
    readonly target: Float64Array | undefined,
  ) {}

  /** The class labels, in the order the target indices refer to; empty for regression. */
  get classes(): CategoryValue[] {
    return classLabels(this.schema);
  }

  /** The feature columns, in schema order (the key and target are kept apart; ignored fields are not stored). */
  get columnNames(): string[] {
    return [...this.columnsByName.keys()];
  }

  hasColumn(name: string): boolean {
    return this.columnsByName.has(name);
  }

  column(name: string): FrameColumn {
    const column = this.columnsByName.get(name);
    if (!column) {
      throw new errors.PW_USAGE(`The frame has no column ${JSON.stringify(name)}`, {
        hint: `Known columns: ${this.columnNames.join(', ')}.`,
      });
    }
    return column;
  }

  numeric(name: string): NumericColumn {
    const column = this.column(name);
    if (column.kind !== 'numeric')
      throw new errors.PW_USAGE(`Column ${name} is a ${column.field.type} column, not a numeric one`);
    return column;
  }

  category(name: string): CategoryColumn {
    const column = this.column(name);
    if (column.kind !== 'category')
      throw new errors.PW_USAGE(`Column ${name} is a ${column.field.type} column, not a category one`);
    return column;
  }

  /** The typed value of one cell, as the coercer would have produced it. */
  value(name: string, row: number): Value {
    const column = this.column(name);
    if (column.kind === 'category') {
      const code = column.codes[row];
      return code < 0 ? null : column.dictionary[code];
    }
    if (column.nulls[row]) return null;
    const value = column.values[row];
    switch (column.field.type) {
      case 'boolean':
        return value === 1;
      case 'datetime':
        return new Date(value).toISOString();
      default:
        return value;
    }
  }

  /** Row `row` as a typed record of the key (when present) and the features: golden samples, reports. */
  record(row: number): TypedRecord {
    const record: TypedRecord = {};
    if (this.keys) record[this.schema.key!.name] = this.keys[row];
    for (const name of this.columnsByName.keys()) record[name] = this.value(name, row);
    return record;
  }

  /** Rows `indices`, in that order, as a new frame (the gather copies values; dictionaries are shared). */
  selectRows(indices: ArrayLike<number>): Frame {
    const count = indices.length;
    const columns = new Map<string, FrameColumn>();
    for (const [name, column] of this.columnsByName) {
      if (column.kind === 'numeric') {
        const values = new Float64Array(count);
        const nulls = new Uint8Array(count);
        let nullCount = 0;
        for (let i = 0; i < count; i++) {
          const row = indices[i];
          values[i] = column.values[row];
          nullCount += nulls[i] = column.nulls[row];
        }
        columns.set(name, { kind: 'numeric', field: column.field, values, nulls, nullCount });
      } else {
        const codes = new Int32Array(count);
        let nullCount = 0;
        for (let i = 0; i < count; i++) {
          const code = column.codes[indices[i]];
          codes[i] = code;
          if (code < 0) nullCount++;
        }
        columns.set(name, {
          kind: 'category',
          field: column.field,
          codes,
          dictionary: column.dictionary,
          nullCount,
        });
      }
    }
    const keys = this.keys ? Array.from({ length: count }, (_, i) => this.keys![indices[i]]) : undefined;
    let target: Float64Array | undefined;
    if (this.target) {
      target = new Float64Array(count);
      for (let i = 0; i < count; i++) target[i] = this.target[indices[i]];
    }
    return new Frame(this.schema, count, columns, keys, target);
  }

  /** Rows [start, end) as a frame whose columns are views of this one's (no copy). */
  sliceRows(start: number, end: number = this.rows): Frame {
    const from = Math.max(0, Math.min(start, this.rows));
    const to = Math.max(from, Math.min(end, this.rows));
    const columns = new Map<string, FrameColumn>();
    for (const [name, column] of this.columnsByName) {
      if (column.kind === 'numeric') {
        const nulls = column.nulls.subarray(from, to);
        columns.set(name, {
          kind: 'numeric',
          field: column.field,
          values: column.values.subarray(from, to),
          nulls,
          nullCount: countOnes(nulls),
        });
      } else {
        const codes = column.codes.subarray(from, to);
        let nullCount = 0;
        for (let i = 0; i < codes.length; i++) if (codes[i] < 0) nullCount++;
        columns.set(name, {
          kind: 'category',
          field: column.field,
          codes,
          dictionary: column.dictionary,
          nullCount,
        });
      }
    }
    return new Frame(
      this.schema,
      to - from,
      columns,
      this.keys?.slice(from, to),
      this.target?.subarray(from, to),
    );
  }
}

function countOnes(bytes: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i++) count += bytes[i];
  return count;
}

/** A column being built: the chunk being filled, and the full ones before it (see FrameBuilder). */
interface NumericBuffer {
  kind: 'numeric';
  field: Field;
  values: Float64Array;
  nulls: Uint8Array;
  fullValues: Float64Array[];
  fullNulls: Uint8Array[];
  nullCount: number;
}

interface CategoryBuffer {
  kind: 'category';
  field: Field;
  codes: Int32Array;
  fullCodes: Int32Array[];
  dictionary: CategoryValue[];
  /** Keyed by text so that 3 and "3" are the same category, as the coercer compares them. */
  lookup: Map<string, number>;
  nullCount: number;
}

/** The most rows a chunk of a column being built holds (see FrameBuilder). */
const MAX_CHUNK_ROWS = 1 << 20;

/**
 * Appends typed records into columns, then hands out a Frame. Category codes follow the schema's
 * `values` order, so they are stable across frames of one schema.
 *
 * A column grows by chunks, not by doubling: when the chunk being filled is full, a new one holds as
 * many rows as came before it (up to MAX_CHUNK_ROWS), and `finish` joins a column's chunks into one
 * array, a column at a time. Nothing is copied while rows come in, so the row count need not be known
 * beforehand (no counting pass over a store), and the memory at its highest is the columns once plus
 * one column, where doubling held the old and the new buffers together.
 */
export class FrameBuilder {
  /** Rows the chunk being filled holds. */
  private capacity: number;
  /** Rows in the full chunks before it. */
  private chunkStart = 0;
  private count = 0;
  private readonly buffers: (NumericBuffer | CategoryBuffer)[];
  private keys: Value[] | undefined;
  private target: Float64Array | undefined;
  private readonly fullTargets: Float64Array[] = [];
  private readonly classIndex: Map<string, number> | undefined;
  private finished = false;

  constructor(
    readonly schema: Schema,
    initialCapacity = 1024,
    /** Names the source in error messages, e.g. the collection. */
    private readonly source = 'the data',
  ) {
    this.capacity = Math.max(1, initialCapacity);
    const stored = schema.fields.filter((field) => field.role === 'feature');
    this.buffers = stored.map((field) => {
      if (isNumericField(field)) {
        return {
          kind: 'numeric',
          field,
          values: new Float64Array(this.capacity),
          nulls: new Uint8Array(this.capacity),
          fullValues: [],
          fullNulls: [],
          nullCount: 0,
        };
      }
      const dictionary: CategoryValue[] = [];
      const lookup = new Map<string, number>();
      for (const value of field.values ?? []) {
        const text = String(value);
        if (!lookup.has(text)) {
          lookup.set(text, dictionary.length);
          dictionary.push(value);
        }
      }
      return {
        kind: 'category',
        field,
        codes: new Int32Array(this.capacity),
        fullCodes: [],
        dictionary,
        lookup,
        nullCount: 0,
      };
    });
    if (schema.key) this.keys = [];
    if (schema.target) {
      this.target = new Float64Array(this.capacity);
      if (schema.task !== 'regression') {
        this.classIndex = new Map(classLabels(schema).map((label, index) => [String(label), index]));
      }
    }
  }

  get rows(): number {
    return this.count;
  }

  /** The keys pushed so far, in order (a view, not a copy), when the schema has a key. */
  keysSoFar(): readonly Value[] | undefined {
    return this.keys;
  }

  push(record: TypedRecord): void {
    if (this.finished) throw new errors.PW_INTERNAL('FrameBuilder.push after finish');
    if (this.count === this.chunkStart + this.capacity) this.nextChunk();
    const row = this.count;
    const at = row - this.chunkStart;
    for (const buffer of this.buffers) {
      const value = record[buffer.field.name];
      if (buffer.kind === 'numeric') {
        const number = numericOf(buffer.field, value);
        if (Number.isNaN(number)) {
          buffer.values[at] = NaN;
          buffer.nulls[at] = 1;
          buffer.nullCount++;
        } else {
          buffer.values[at] = number;
          buffer.nulls[at] = 0;
        }
      } else if (value === null || value === undefined) {
        buffer.codes[at] = -1;
        buffer.nullCount++;
      } else {
        const text = String(value);
        let code = buffer.lookup.get(text);
        if (code === undefined) {
          code = buffer.dictionary.length;
          buffer.lookup.set(text, code);
          buffer.dictionary.push(value);
        }
        buffer.codes[at] = code;
      }
    }
    if (this.keys) this.keys.push(record[this.schema.key!.name] ?? null);
    if (this.target) this.target[at] = this.targetValue(record, row);
    this.count++;
  }

  private targetValue(record: TypedRecord, row: number): number {
    const field = this.schema.target!;
    const value = record[field.name];
    if (value === null || value === undefined) {
      throw new errors.PW_ROW_INVALID(`Row ${row + 1} of ${this.source}: the target ${field.name} is empty`, {
        hint: `Every training row needs a ${field.name}; remove the row or fill it in, then push again.`,
        details: { row: row + 1, field: field.name },
      });
    }
    if (!this.classIndex) {
      const number = numericOf(field, value);
      if (Number.isNaN(number)) {
        throw new errors.PW_ROW_INVALID(
          `Row ${row + 1} of ${this.source}: the target ${field.name} is not a number (${JSON.stringify(value)})`,
          {
            details: { row: row + 1, field: field.name },
          },
        );
      }
      return number;
    }
    const index = this.classIndex.get(String(value));
    if (index === undefined) {
      throw new errors.PW_ROW_INVALID(
        `Row ${row + 1} of ${this.source}: the target ${field.name} is ${JSON.stringify(value)}, not one of the classes ${[...this.classIndex.keys()].join(', ')}`,
        {
          hint: `Fix the row, or list the class in schema.yaml under fields.${field.name}.values.`,
          details: { row: row + 1, field: field.name },
        },
      );
    }
    return index;
  }

  /** Closes the chunk being filled and opens the next one. */
  private nextChunk(): void {
    this.chunkStart += this.capacity;
    const capacity = Math.min(MAX_CHUNK_ROWS, Math.max(this.capacity, this.chunkStart));
    for (const buffer of this.buffers) {
      if (buffer.kind === 'numeric') {
        buffer.fullValues.push(buffer.values);
        buffer.fullNulls.push(buffer.nulls);
        buffer.values = new Float64Array(capacity);
        buffer.nulls = new Uint8Array(capacity);
      } else {
        buffer.fullCodes.push(buffer.codes);
        buffer.codes = new Int32Array(capacity);
      }
    }
    if (this.target) {
      this.fullTargets.push(this.target);
      this.target = new Float64Array(capacity);
    }
    this.capacity = capacity;
  }

  /** The frame; its columns are the buffers trimmed to the row count. */
  finish(): Frame {
    this.finished = true;
    const rows = this.count;
    const columns = new Map<string, FrameColumn>();
    // Columns without a null share one array of zeros: a byte a row per column saved on large tables.
    let noNulls: Uint8Array | undefined;
    for (const buffer of this.buffers) {
      if (buffer.kind === 'numeric') {
        columns.set(buffer.field.name, {
          kind: 'numeric',
          field: buffer.field,
          values: (buffer.values = joined(buffer.fullValues, buffer.values, rows)),
          nulls:
            buffer.nullCount === 0
              ? (noNulls ??= new Uint8Array(rows))
              : (buffer.nulls = joined(buffer.fullNulls, buffer.nulls, rows)),
          nullCount: buffer.nullCount,
        });
      } else {
        columns.set(buffer.field.name, {
          kind: 'category',
          field: buffer.field,
          codes: (buffer.codes = joined(buffer.fullCodes, buffer.codes, rows)),
          dictionary: buffer.dictionary,
          nullCount: buffer.nullCount,
        });
      }
    }
    return new Frame(
      this.schema,
      rows,
      columns,
      this.keys,
      this.target ? (this.target = joined(this.fullTargets, this.target, rows)) : undefined,
    );
  }
}

/**
 * A column's `rows` values, from its full chunks (emptied, so that each chunk can be freed as soon as
 * it is copied) and the one being filled. A single chunk at least half used is kept as it is (a view of
 * its rows): a builder sized from the store's estimate fills one chunk, whose unused end was never
 * written, so it holds no memory; a copy would write the whole column again. Otherwise a tight copy,
 * so the frame does not pin a mostly unused chunk.
 */
function joined<T extends Float64Array | Uint8Array | Int32Array>(full: T[], current: T, rows: number): T {
  if (full.length === 0) {
    if (current.length === rows) return current;
    return (2 * rows >= current.length ? current.subarray(0, rows) : current.slice(0, rows)) as T;
  }
  const out = new (current.constructor as new (length: number) => T)(rows);
  let at = 0;
  for (const chunk of full) {
    out.set(chunk, at);
    at += chunk.length;
  }
  full.length = 0;
  out.set(current.subarray(0, rows - at), at);
  return out;
}

/** Builds a frame from typed records (e.g. a store cursor mapped through compileCoercer). */
export async function frameFromRecords(
  schema: Schema,
  records: AsyncIterable<TypedRecord> | Iterable<TypedRecord>,
  options: { source?: string; capacity?: number } = {},
): Promise<Frame> {
  const builder = new FrameBuilder(schema, options.capacity, options.source);
  for await (const record of records) builder.push(record);
  return builder.finish();
}

export function frameFromRecordsSync(
  schema: Schema,
  records: Iterable<TypedRecord>,
  options: { source?: string; capacity?: number } = {},
): Frame {
  const builder = new FrameBuilder(schema, options.capacity, options.source);
  for (const record of records) builder.push(record);
  return builder.finish();
}

/** Builds a frame from whole columns of typed values (tests, small tables). */
export function frameFromColumns(schema: Schema, columns: Record<string, Value[]>): Frame {
  const lengths = new Set(Object.values(columns).map((values) => values.length));
  if (lengths.size > 1) {
    throw new errors.PW_USAGE(
      `frameFromColumns: columns have different lengths (${[...lengths].join(', ')})`,
    );
  }
  const rows = lengths.size === 0 ? 0 : [...lengths][0];
  const names = Object.keys(columns);
  const builder = new FrameBuilder(schema, rows);
  const record: TypedRecord = {};
  for (let row = 0; row < rows; row++) {
    for (const name of names) record[name] = columns[name][row];
    builder.push(record);
  }
  return builder.finish();
}
