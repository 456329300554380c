// Ingest: streams the collection (projected to the schema's fields, in key order, in batches) into a
// columnar frame, hashing the rows as they pass. Rows that break the contract are counted with
// examples for the validation step and kept out of the frame; no document is held after its row.
import { existsSync } from 'node:fs';
import { copyFile, link, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  Dictionary,
  Float64,
  Int32,
  makeData,
  makeVector,
  RecordBatchFileWriter,
  Table,
  Utf8,
  vectorFromArray,
  type Vector,
} from 'apache-arrow';
import { errors } from '../../core/errors.js';
import { createHasher } from '../../core/hash.js';
import { FrameBuilder, type Frame } from '../../ml/frame.js';
import { compileCoercer, type FieldErrorKind } from '../../schema/coerce.js';
import type { Schema } from '../../schema/schema.js';
import type { DocumentStore } from '../../store/types.js';
import type { Step } from '../runner.js';

export interface IssueTally {
  count: number;
  examples: { key: unknown; field: string; reason: string }[];
}

export interface IngestOutput {
  frame: Frame;
  dataHash: string;
  rowsRead: number;
  /** Per kind of problem (missing, type, range, category), per field. */
  issues: Record<FieldErrorKind, Record<string, IssueTally>>;
  /** Fields seen in the documents that the schema does not define (from the first and last documents by key). */
  extraColumns: string[];
  /** Schema fields absent from every document read. */
  missingColumns: string[];
  duplicateKeys: IssueTally;
  rejectedRows: number;
}

export interface IngestInput {
  store: DocumentStore;
  collection: string;
  schema: Schema;
  batchSize: number;
}

const EXAMPLES = 5;
const EXTRA_COLUMN_SAMPLE = 1000;
const KEY_HASH_SLICE = 1 << 16;

/**
 * Whether a key was seen before. Rows come in key order, so while the keys are numbers that only
 * rise, no key can repeat and none needs remembering; a Set (ten million keys: hundreds of MB, and
 * work for every garbage collection) is built only from the first key that breaks the order.
 */
export class DuplicateKeys {
  private last = -Infinity;
  private set: Set<unknown> | undefined;

  /** `earlier` gives every key accepted so far (the frame builder holds them anyway). */
  constructor(private readonly earlier: () => Iterable<unknown>) {}

  /** Whether `key` came before; if not, it is remembered as accepted. */
  seen(key: unknown): boolean {
    if (!this.set) {
      if (typeof key === 'number' && key > this.last) {
        this.last = key;
        return false;
      }
      this.set = new Set(this.earlier());
    }
    if (this.set.has(key)) return true;
    this.set.add(key);
    return false;
  }
}

/**
 * The most rows the frame's columns are sized for up front from the store's estimate; beyond it they grow
 * by chunks as rows come (an estimate far above the rows read would reserve address space for nothing).
 */
const MAX_PRESIZED_ROWS = 2 ** 27;

export const ingestStep: Step<IngestInput, IngestOutput> = {
  name: 'ingest',
  async run(context, { store, collection: collectionName, schema, batchSize }) {
    const collection = store.collection(collectionName, {
      keyType: schema.key?.type === 'integer' ? 'integer' : 'string',
    });
    // for the progress display and the columns' size: counting the documents would be a pass over them all
    const estimate = await collection.estimatedCount();
    const extraColumns = new Set<string>();
    const known = new Set(schema.fields.map((f) => f.name));
    // The full read is projected to the schema's fields, so fields outside it are looked for in a
    // sample: the oldest and the newest keys, where older exports and newer writers show up.
    for (const direction of [1, -1] as const) {
      let sampled = 0;
      for await (const doc of collection.find(
        {},
        { limit: EXTRA_COLUMN_SAMPLE, batchSize: EXTRA_COLUMN_SAMPLE, sort: { _id: direction } },
      )) {
        sampled++;
        for (const name of Object.keys(doc)) if (name !== '_id' && !known.has(name)) extraColumns.add(name);
      }
      if (sampled === 0) {
        throw new errors.PW_DATA_EMPTY(
          `The collection ${collectionName} in ${store.description} holds no documents`,
          {
            hint: `Push data first: pipewright push <file>${collectionName ? ` --collection ${collectionName}` : ''}.`,
          },
        );
      }
    }

    const projection: Record<string, 1> = {};
    for (const field of schema.fields) if (field.role !== 'ignore') projection[field.name] = 1;
    const coerce = compileCoercer(schema);
    const checked = coerce.fields.filter((f) => f.role !== 'ignore');
    // sized from the estimate, the columns are written once, where chunks would be joined into a second copy
    const builder = new FrameBuilder(
      schema,
      estimate > 0 ? Math.min(estimate, MAX_PRESIZED_ROWS) : undefined,
      `collection ${collectionName}`,
    );
    const issues: IngestOutput['issues'] = { missing: {}, type: {}, range: {}, category: {} };
    const seenColumns = new Set<string>();
    const keyName = schema.key?.name;
    const duplicates = keyName ? new DuplicateKeys(() => builder.keysSoFar() ?? []) : undefined;
    const duplicateKeys: IssueTally = { count: 0, examples: [] };
    let rowsRead = 0;
    let rejectedRows = 0;
    const names = checked.map((f) => f.name);
    for await (const doc of collection.find({}, { projection, batchSize, sort: { _id: 1 } })) {
      rowsRead++;
      if (seenColumns.size < names.length)
        for (const name of names) if (doc[name] !== undefined) seenColumns.add(name);
      const result = coerce(doc);
      const key = keyName ? doc[keyName] : doc._id;
      if (!result.ok) {
        let rejected = false;
        for (const failure of result.errors) {
          const field = coerce.fields.find((f) => f.name === failure.field);
          if (!field || field.role === 'ignore') continue;
          rejected = true;
          const byField = issues[failure.kind ?? 'type'];
          const tally = (byField[failure.field] ??= { count: 0, examples: [] });
          tally.count++;
          if (tally.examples.length < EXAMPLES)
            tally.examples.push({ key, field: failure.field, reason: failure.reason });
        }
        if (rejected) {
          rejectedRows++;
          continue;
        }
      }
      if (duplicates) {
        const value = result.record[keyName!] ?? null;
        if (duplicates.seen(value)) {
          duplicateKeys.count++;
          if (duplicateKeys.examples.length < EXAMPLES)
            duplicateKeys.examples.push({ key: value, field: keyName!, reason: 'appears more than once' });
          continue;
        }
      }
      builder.push(result.record);
      if ((rowsRead & 0x3fff) === 0)
        context.progress(
          estimate > 0 ? Math.min(0.99, rowsRead / estimate) : undefined,
          `${rowsRead.toLocaleString('en')} rows`,
        );
    }
    const frame = builder.finish();
    const dataHash = frameHash(frame);
    const missingColumns = names.filter((name) => !seenColumns.has(name));
    return {
      frame,
      dataHash,
      rowsRead,
      issues,
      extraColumns: [...extraColumns].sort(),
      missingColumns,
      duplicateKeys,
      rejectedRows,
    };
  },
  async save(output, dir) {
    const file = join(dir, SNAPSHOT_NAME);
    // one stored snapshot a data hash: a run on data that did not change writes nothing, it links
    const stored = snapshotFile(join(dir, '..', '..'), output.dataHash);
    if (!existsSync(stored)) {
      await mkdir(dirname(stored), { recursive: true });
      await writeFrameArrow(output.frame, stored);
    }
    await linkOrCopy(stored, file);
    return [file];
  },
  // no later step reads the snapshot: it is written while they run (840 MB at ten million rows)
  saveAside: true,
  outputHash: (output) => output.dataHash,
  summary: (output) => ({
    rows: output.frame.rows,
    rejected: output.rejectedRows,
    dataHash: output.dataHash.slice(0, 12),
    text: `${output.frame.rows.toLocaleString('en')} rows${output.rejectedRows ? `, ${output.rejectedRows} rejected` : ''}, data ${output.dataHash.slice(0, 12)}`,
  }),
};

/** Where the artifacts keep the snapshot of data with `dataHash` (each run's `ingest/frame.arrow` links to it). */
export function snapshotFile(artifactsRoot: string, dataHash: string): string {
  return join(artifactsRoot, SNAPSHOTS_DIR, `${dataHash}.arrow`);
}

/** The stored snapshots' folder under the artifacts root. */
export const SNAPSHOTS_DIR = '.snapshots';

/** The snapshot's name in a run's ingest folder. */
export const SNAPSHOT_NAME = 'frame.arrow';

/** `file` as a hard link to `stored` (no second copy on disk), or a copy where the file system has no links. */
async function linkOrCopy(stored: string, file: string): Promise<void> {
  await rm(file, { force: true });
  try {
    await link(stored, file);
  } catch {
    await copyFile(stored, file);
  }
}

/**
 * A content hash of the ingested rows in key order: the key, feature and target columns as the frame
 * holds them (typed arrays hashed as bytes, categories as their values), so equal data hashes equal.
 */
export function frameHash(frame: Frame): string {
  const hasher = createHasher();
  const bytes = (array: Float64Array | Int32Array | Uint8Array) =>
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  hasher.update(`rows ${frame.rows}\n`);
  if (frame.keys) {
    // The bytes of `keys ${JSON.stringify(frame.keys)}\n`, fed in slices: ten million keys as one
    // string would be a second copy of them.
    hasher.update('keys [');
    for (let start = 0; start < frame.keys.length; start += KEY_HASH_SLICE) {
      const text = JSON.stringify(frame.keys.slice(start, start + KEY_HASH_SLICE));
      hasher.update(start === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`);
    }
    hasher.update(']\n');
  }
  for (const name of frame.columnNames) {
    const column = frame.column(name);
    hasher.update(`column ${name} ${column.kind}\n`);
    if (column.kind === 'numeric') {
      hasher.update(bytes(column.values.subarray(0, frame.rows)));
      hasher.update(bytes(column.nulls.subarray(0, frame.rows)));
    } else {
      hasher.update(`${JSON.stringify(column.dictionary)}\n`);
      hasher.update(bytes(column.codes.subarray(0, frame.rows)));
    }
  }
  if (frame.target) hasher.update(bytes(frame.target.subarray(0, frame.rows)));
  return hasher.digest('hex');
}

/** Arrow's validity bitmap (bit set = present) from a per-row predicate; none for a column without nulls. */
function validity(
  rows: number,
  nulls: number,
  isNull: (row: number) => boolean,
): { nullBitmap: Uint8Array; nullCount: number } {
  if (nulls === 0) return { nullBitmap: new Uint8Array(0), nullCount: 0 };
  const nullBitmap = new Uint8Array(Math.ceil(rows / 8));
  let nullCount = 0;
  for (let row = 0; row < rows; row++) {
    if (isNull(row)) nullCount++;
    else nullBitmap[row >> 3] |= 1 << (row & 7);
  }
  return { nullBitmap, nullCount };
}

/**
 * The frame as an Apache Arrow IPC file: numbers as float64 with a validity bitmap, categories as
 * dictionary vectors (codes and values, as the frame holds them), the target as class index or value.
 * The writer's chunks are views of the frame's arrays, so the snapshot costs no second copy of the
 * table in memory. They go to the file in one gathered write, done by the thread pool from start to end:
 * it goes on while the main thread is busy with the steps after this one, where a stream would wait for
 * the event loop between chunks. The file appears under its name only once whole.
 */
async function writeFrameArrow(frame: Frame, file: string): Promise<void> {
  const writer = new RecordBatchFileWriter();
  writer.write(frameTable(frame));
  writer.finish();
  const chunks: Uint8Array[] = [];
  for await (const chunk of writer) chunks.push(chunk);
  const temporary = `${file}.partial`;
  try {
    const handle = await open(temporary, 'w', 0o644);
    try {
      await writeAll(handle, chunks, file);
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes `chunks` in order from the start of the file, in one call: Node's thread pool goes on after a
 * partial write of a regular file until every byte is written, or fails with the system's error.
 */
async function writeAll(
  handle: Awaited<ReturnType<typeof open>>,
  chunks: Uint8Array[],
  file: string,
): Promise<void> {
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  const { bytesWritten } = await handle.writev(chunks, 0);
  if (bytesWritten !== bytes)
    throw new errors.PW_INTERNAL(`${file}: ${bytesWritten} of ${bytes} bytes written`);
}

function frameTable(frame: Frame): Table {
  const columns: Record<string, Vector> = {};
  const { schema, rows } = frame;
  if (schema.key && frame.keys) {
    const keys = frame.keys;
    columns[schema.key.name] = keys.every((k) => typeof k === 'number')
      ? makeVector(Float64Array.from(keys as number[]))
      : vectorFromArray(
          keys.map((k) => (k === null ? null : String(k))),
          new Utf8(),
        );
  }
  for (const name of frame.columnNames) {
    const column = frame.column(name);
    if (column.kind === 'numeric') {
      const { nullBitmap, nullCount } = validity(rows, column.nullCount, (row) => column.nulls[row] === 1);
      columns[name] = makeVector(
        makeData({
          type: new Float64(),
          length: rows,
          nullCount,
          nullBitmap,
          data: column.values.subarray(0, rows),
        }),
      );
    } else {
      const { nullBitmap, nullCount } = validity(rows, column.nullCount, (row) => column.codes[row] < 0);
      const dictionary = vectorFromArray(
        column.dictionary.map((value) => String(value)),
        new Utf8(),
      );
      const type = new Dictionary(new Utf8(), new Int32());
      columns[name] = makeVector(
        makeData({
          type,
          length: rows,
          nullCount,
          nullBitmap,
          data: column.codes.subarray(0, rows),
          dictionary,
        }),
      );
    }
  }
  if (schema.target && frame.target) columns[schema.target.name] = makeVector(frame.target.subarray(0, rows));
  return new Table(columns);
}
