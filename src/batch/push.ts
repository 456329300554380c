// `push`: streams a CSV or JSONL file into the document store. Each row is coerced and validated
// against the schema; valid rows are upserted by the schema's key in batches (so pushing the same file
// again never duplicates), invalid ones go to `<file>.rejects.jsonl` with their line and reason.
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { errors, isPipewrightError } from '../core/errors.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import { silentLogger } from '../core/logger.js';
import { displayPath } from '../core/paths.js';
import { nearest } from '../core/suggest.js';
import { compileCoercer, type FieldError } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import type { DataFormat, DataReader, RawRecord, ReadOptions } from '../data/records.js';
import { statedDialect } from '../data/dialect.js';
import { openReader } from '../data/reader.js';
import { batchWriter, type BatchWriter } from './batch-writer.js';
import { KeyLedger, RowLedger } from './row-ledger.js';
import type { Collection, Document, DocumentStore } from '../store/types.js';

export interface PushProgress {
  rows: number;
  bytesRead: number;
  totalBytes: number;
  seconds: number;
}

export interface PushOptions {
  file: string;
  schema: Schema;
  store: DocumentStore;
  collection: string;
  /** Default: from the file's extension (.csv, .jsonl/.ndjson/.json). */
  format?: DataFormat;
  /** The CSV dialect or Excel sheet, as set by flags or pipewright.yaml (the rest is sniffed). */
  read?: ReadOptions;
  /** Rows per write transaction (config.store.batch_size). */
  batchSize?: number;
  /** Replace the collection's documents with the file's, swapping them in only once all are written. */
  replace?: boolean;
  /** Read and validate only; write nothing (no documents, no rejects file). */
  dryRun?: boolean;
  /** Default `<file>.rejects.jsonl`. */
  rejectsFile?: string;
  /**
   * One key given twice in this push with different values (config `validation.duplicate_keys`):
   * `fail` rejects the later row, naming the first line; `warn` keeps the later row and reports it;
   * `off` keeps the later row silently. Identical repeats are unchanged rows under every policy.
   */
  duplicateKeys?: 'fail' | 'warn' | 'off';
  onProgress?: (progress: PushProgress) => void;
  /** How often onProgress is called, in milliseconds. */
  progressIntervalMs?: number;
  logger?: Logger;
}

export interface RejectedRow {
  line: number;
  field: string | null;
  reason: string;
  row: Record<string, unknown>;
  errors: { field: string | null; reason: string }[];
}

export interface PushSummary {
  file: string;
  format: DataFormat;
  store: string;
  collection: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  rejected: number;
  /** On a dry run: the rows that would have been written. */
  valid?: number;
  seconds: number;
  rows_per_s: number;
  /** Where the rejected rows were written; null when none were (or on a dry run). */
  rejects_file: string | null;
  /** The first few rejected rows, for the console. */
  rejects_sample: RejectedRow[];
  dry_run: boolean;
  replace: boolean;
  /** The file started with a UTF-8 byte-order mark (read and dropped). */
  bom: boolean;
  /** Keys given more than once in this file: identical repeats, and repeats with other values. */
  duplicate_keys: { policy: 'fail' | 'warn' | 'off'; identical: number; conflicting: number };
}

const REJECTS_SAMPLE = 5;
/** Rows taken from the reader at a time (at most the batch size). */
const READ_ROWS = 500;
const IGNORED_INPUT_KEYS = new Set(['_id']);

export function rejectsFileFor(file: string): string {
  return `${file}.rejects.jsonl`;
}

/** The staging collection that `--replace` fills before swapping it in. */
export function stagingName(collection: string): string {
  return `${collection}__pipewright_staging`;
}

/**
 * Fails before anything is written when the header does not match the schema: duplicate or empty
 * names, columns the schema does not know (with the nearest known name), required columns missing.
 */
export function checkColumns(
  schema: Schema,
  reader: Pick<DataReader, 'columns' | 'columnsLine' | 'file' | 'format'>,
): void {
  const shown = displayPath(reader.file);
  const where = `${shown}:${reader.columnsLine}`;
  const known = schema.fields.map((field) => field.name);
  const knownSet = new Set(known);
  const problems: string[] = [];
  const fixes: string[] = [];
  const seen = new Set<string>();
  reader.columns.forEach((column, index) => {
    if (column === '') problems.push(`column ${index + 1} has no name`);
    else if (seen.has(column)) problems.push(`column "${column}" appears twice`);
    seen.add(column);
  });
  const unknown = reader.columns.filter(
    (column) => column !== '' && !knownSet.has(column) && !IGNORED_INPUT_KEYS.has(column),
  );
  const missing = schema.fields
    .filter((field) => !field.nullable && !seen.has(field.name))
    .map((field) => field.name);
  const label = reader.format === 'csv' ? 'column' : 'field';
  for (const column of [...new Set(unknown)]) {
    const suggestion = nearest(
      column,
      known.filter((name) => !seen.has(name)),
    );
    problems.push(`unknown ${label} "${column}"${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`);
    if (suggestion) fixes.push(`rename "${column}" to "${suggestion}"`);
  }
  if (reader.format === 'csv' && missing.length > 0) {
    problems.push(
      `missing required ${label}${missing.length > 1 ? 's' : ''} ${missing.map((name) => `"${name}"`).join(', ')}`,
    );
  }
  if (problems.length === 0) return;
  const unknownLeft = unknown.length - fixes.length;
  const hintParts = [
    fixes.length > 0
      ? `In the ${reader.format === 'csv' ? 'header' : 'first record'} of ${shown}, ${fixes.join(', ')}`
      : undefined,
    unknownLeft > 0
      ? 'remove the columns the schema does not know or add them to schema.yaml (role: ignore keeps a column without learning from it)'
      : undefined,
    missing.length > 0 && reader.format === 'csv'
      ? `add the missing column${missing.length > 1 ? 's' : ''} (or mark ${missing.length > 1 ? 'them' : 'it'} nullable in schema.yaml)`
      : undefined,
  ].filter(Boolean);
  throw new errors.PW_FILE_INVALID(
    `${where}: ${reader.format === 'csv' ? 'the header does not match the schema' : 'the first record does not match the schema'}: ${problems.join('; ')}`,
    {
      where,
      hint: `${hintParts.join('; ')}; then push again. Nothing was written.`,
      details: {
        file: shown,
        line: reader.columnsLine,
        unknown,
        missing: reader.format === 'csv' ? missing : [],
        expected: known,
      },
    },
  );
}

/** Appends rejected rows to the rejects file, buffered; the file is only created by the first reject. */
export class RejectsWriter {
  private descriptor: number | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  readonly sample: RejectedRow[] = [];
  count = 0;

  constructor(
    readonly file: string,
    private readonly write: boolean,
  ) {}

  add(record: RawRecord, problems: { field: string | null; reason: string }[]): void {
    this.count++;
    const rejected: RejectedRow = {
      line: record.line,
      field: problems[0].field,
      reason: problems[0].reason,
      row: record.values,
      errors: problems,
    };
    if (this.sample.length < REJECTS_SAMPLE) this.sample.push(rejected);
    if (!this.write) return;
    const line = `${JSON.stringify(rejected)}\n`;
    this.buffer.push(line);
    this.buffered += line.length;
    if (this.buffered >= 1 << 16) this.flush();
  }

  get written(): boolean {
    return this.descriptor !== undefined;
  }

  private flush(): void {
    if (this.buffer.length === 0) return;
    try {
      this.descriptor ??= openSync(this.file, 'w');
      writeSync(this.descriptor, this.buffer.join(''));
    } catch (cause) {
      throw new errors.PW_FILE_UNWRITABLE(
        `Cannot write the rejected rows to ${displayPath(this.file)}: ${(cause as Error).message}`,
        {
          cause,
          where: displayPath(this.file),
        },
      );
    }
    this.buffer = [];
    this.buffered = 0;
  }

  close(): void {
    this.flush();
    if (this.descriptor !== undefined) closeSync(this.descriptor);
  }
}

export function describeFieldErrors(errorsOfRow: FieldError[]): { field: string | null; reason: string }[] {
  return errorsOfRow.map((error) => ({ field: error.field, reason: `${error.field} ${error.reason}` }));
}

export async function pushFile(options: PushOptions): Promise<PushSummary> {
  const logger = options.logger ?? silentLogger();
  const started = performance.now();
  const { schema, store } = options;
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const dryRun = Boolean(options.dryRun);
  const replace = Boolean(options.replace);
  const reader = await openReader(options.file, { ...options.read, format: options.format });
  const shown = displayPath(options.file);
  const stated = statedDialect(reader);
  if (stated) logger.info({ dialect: reader.dialect, sniffed: reader.sniffed }, `read ${shown} as ${stated}`);
  const rejectsFile = options.rejectsFile ?? rejectsFileFor(options.file);
  let rejects: RejectsWriter | undefined;
  let staging: Collection | undefined;
  let writer: BatchWriter | undefined;
  const totals = { read: 0, inserted: 0, updated: 0, unchanged: 0 };
  try {
    checkColumns(schema, reader);
    if (!dryRun) rmSync(rejectsFile, { force: true });
    rejects = new RejectsWriter(rejectsFile, !dryRun);

    const keyType = schema.key?.type === 'integer' ? 'integer' : 'string';
    let target: Collection | undefined;
    if (!dryRun) {
      if (replace && store.renameCollection) {
        // A crash leaves only the staging collection behind: the live one is untouched until the swap.
        staging = store.collection(stagingName(options.collection), { keyType });
        await staging.drop();
        target = staging;
      } else {
        target = store.collection(options.collection, { keyType });
        if (replace) {
          logger.warn(
            `${store.kind} store cannot swap collections: deleting "${options.collection}" before loading`,
          );
          await target.deleteMany({});
        }
      }
    }

    const coerce = compileCoercer(schema);
    const key = schema.key?.name;
    const policy = options.duplicateKeys ?? 'fail';
    const duplicates = { policy, identical: 0, conflicting: 0 };
    // What this push has seen so far: a keyless table's row contents, or a table's keys (noted without
    // hashing while they come as rising numbers, see KeyLedger).
    const ledger = new RowLedger();
    const keys = new KeyLedger();
    // made at the batch's first repeated key, from its documents so far: a batch without one needs none
    let batchByKey: Map<string, Document> | undefined;
    const interval = options.progressIntervalMs ?? 200;
    let lastProgress = started;
    logger.debug(
      { file: options.file, format: reader.format, columns: reader.columns, bom: reader.info.bom },
      'push reading',
    );

    let documents: Document[] = [];
    writer = target
      ? batchWriter(store, target, keyType, (written) => {
          totals.inserted += written.inserted;
          totals.updated += written.updated;
          totals.unchanged += written.unchanged;
          logger.debug({ rows: totals.read, ...written }, 'push batch committed');
        })
      : undefined;
    const write = async () => {
      if (writer && documents.length > 0) await writer.write(documents);
      documents = [];
      batchByKey = undefined;
    };
    /** The document this push already gave for a key: in this batch, or written by an earlier one. */
    const earlier = async (id: unknown, text: string): Promise<Document | undefined> => {
      if (!batchByKey) {
        batchByKey = new Map();
        for (const document of documents) batchByKey.set(String(document._id), document);
      }
      const pending = batchByKey.get(text);
      if (pending || !target) return pending;
      // Earlier batches may still be on their way to the store.
      await writer?.drain();
      for await (const found of target.find({ _id: id }, { batchSize: 1 })) return found;
      return undefined;
    };
    // Rows are read and coerced a few hundred at a time so that their raw forms die young; only the
    // documents wait for the batch to fill (memory stays flat, garbage collection cheap).
    for await (const rows of reader.batches(Math.min(batchSize, READ_ROWS))) {
      for (let i = 0; i < rows.length; i++) {
        const record = rows[i];
        if (record.problem) {
          rejects.add(record, [{ field: null, reason: record.problem }]);
          continue;
        }
        const result = coerce(record.values);
        if (!result.ok) {
          rejects.add(record, describeFieldErrors(result.errors));
          continue;
        }
        let document: Document;
        if (key === undefined) {
          // Without a key, a row is known by its content; a repeat of the same content in one file
          // is another row (two customers alike), numbered so that pushing the file again adds nothing.
          const content = canonicalJson(result.record);
          const { seen } = ledger.see(content, record.line);
          document = Object.assign({ _id: contentId(content, seen) }, result.record);
        } else {
          document = Object.assign({ _id: result.record[key] }, result.record);
          const text = String(result.record[key]);
          const { firstLine, seen } = keys.see(result.record[key], text, record.line);
          if (seen > 0 && policy !== 'off') {
            const first = await earlier(document._id, text);
            if (first && canonicalJson(first) === canonicalJson(document)) {
              duplicates.identical++;
              totals.unchanged++;
              continue;
            }
            duplicates.conflicting++;
            if (policy === 'fail') {
              rejects.add(record, [
                {
                  field: key,
                  reason: `${key} ${text} was already given on line ${firstLine} with other values (validation.duplicate_keys: fail)`,
                },
              ]);
              continue;
            }
          }
          batchByKey?.set(text, document);
        }
        documents.push(document);
        if (documents.length >= batchSize) await write();
      }
      totals.read += rows.length;
      if (options.onProgress) {
        const now = performance.now();
        if (now - lastProgress >= interval) {
          lastProgress = now;
          options.onProgress({
            rows: totals.read,
            bytesRead: reader.bytesRead,
            totalBytes: reader.info.size,
            seconds: (now - started) / 1000,
          });
        }
      }
    }
    await write();
    await writer?.drain();
    await writer?.close();
    rejects.close();
    if (staging) {
      await store.renameCollection!(staging.name, options.collection);
      staging = undefined;
    }
    const seconds = (performance.now() - started) / 1000;
    const valid = totals.read - rejects.count;
    if (totals.read === 0) logger.warn(`${shown} has a header but no rows`);
    if (policy === 'warn' && duplicates.conflicting > 0) {
      logger.warn(
        `${duplicates.conflicting} rows of ${shown} repeat a key with other values; the last row of each key was kept (validation.duplicate_keys: warn)`,
      );
    }
    return {
      file: options.file,
      format: reader.format,
      store: store.description,
      collection: options.collection,
      read: totals.read,
      inserted: dryRun ? 0 : totals.inserted,
      updated: totals.updated,
      unchanged: totals.unchanged,
      rejected: rejects.count,
      ...(dryRun ? { valid } : {}),
      seconds: Math.round(seconds * 1000) / 1000,
      rows_per_s: seconds > 0 ? Math.round(totals.read / seconds) : totals.read,
      rejects_file: rejects.written ? rejectsFile : null,
      rejects_sample: rejects.sample,
      dry_run: dryRun,
      replace,
      bom: reader.info.bom,
      duplicate_keys: duplicates,
    };
  } catch (error) {
    // The batches already handed over finish (or fail) before anything is dropped or reported.
    await writer?.close().catch(() => undefined);
    try {
      rejects?.close();
    } catch {
      // the original error matters more
    }
    if (staging) await staging.drop().catch(() => undefined);
    if (!dryRun && totals.inserted + totals.updated > 0 && !replace) {
      logger.warn(
        `${totals.inserted + totals.updated} rows of ${shown} were written before the error; pushing the file again after fixing it upserts the rest without duplicates`,
      );
    }
    throw isPipewrightError(error)
      ? error
      : new errors.PW_INTERNAL(`push of ${shown} failed: ${(error as Error)?.message ?? error}`, {
          cause: error,
        });
  } finally {
    await reader.close();
  }
}

/** The `_id` of a row of a table without a key: its content's hash, numbered from the second repeat on. */
function contentId(content: string, repeat: number): string {
  return sha256(repeat === 0 ? content : `${content}\n#${repeat}`).slice(0, 32);
}
