// Schema inference of a data file: streams its first rows through the inferrer, logs the warnings a
// person should read, and sums the result up for `--json`. Used by `schema infer` and `init --from`.
import { resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { displayPath } from '../core/paths.js';
import type { CsvDialect, DataFormat, ReadOptions } from '../data/records.js';
import { statedDialect } from '../data/dialect.js';
import { openReader } from '../data/reader.js';
import {
  DEFAULT_SAMPLE_ROWS,
  optionError,
  SchemaInferrer,
  type InferOptions,
  type InferredSchema,
} from '../schema/infer/index.js';
import { schemaDefinition } from '../schema/infer/render.js';

export interface InferFileOptions extends InferOptions {
  /** Rows read at most (default 100,000). */
  sample?: number;
  format?: DataFormat;
  /** The CSV dialect or Excel sheet as set; the rest is sniffed. */
  read?: ReadOptions;
}

export interface InferredFile {
  file: string;
  format: DataFormat;
  inferred: InferredSchema;
  /** The file has more rows than were read. */
  truncated: boolean;
  /** The CSV dialect the file was read in, and which parts of it were sniffed. */
  dialect?: CsvDialect;
  sniffed?: (keyof CsvDialect)[];
  /** The Excel sheet read, when one was named. */
  sheet?: string;
}

/** Streams the first `sample` rows of a CSV or JSONL file through inference. */
export async function inferFile(file: string, options: InferFileOptions = {}): Promise<InferredFile> {
  const sample = options.sample ?? DEFAULT_SAMPLE_ROWS;
  if (!Number.isInteger(sample) || sample < 1) {
    throw optionError(
      'sample',
      sample,
      'not a whole number of rows',
      'Ask for a whole number of rows above 0.',
    );
  }
  const reader = await openReader(file, { ...options.read, format: options.format });
  let truncated = false;
  try {
    const inferrer = new SchemaInferrer(reader.columns, options);
    let read = 0;
    reading: for await (const batch of reader.batches(Math.min(sample + 1, 2000))) {
      for (const record of batch) {
        if (read >= sample) {
          truncated = true;
          break reading;
        }
        read++;
        if (record.problem) inferrer.addUnreadable(record.line, record.problem);
        else inferrer.add(record.values, record.line);
      }
    }
    return {
      file,
      format: reader.format,
      inferred: inferrer.finish(displayPath(file)),
      truncated,
      ...(reader.dialect ? { dialect: reader.dialect, sniffed: reader.sniffed ?? [] } : {}),
      ...(options.read?.sheet !== undefined ? { sheet: options.read.sheet } : {}),
    };
  } finally {
    await reader.close();
  }
}

/** Infers the file's schema and logs what the user should know: the sample cut and every warning. */
export async function runInference(
  logger: Logger,
  file: string,
  options: InferFileOptions,
): Promise<InferredFile> {
  const result = await inferFile(resolve(file), options);
  const { inferred } = result;
  if (result.dialect) {
    const stated = statedDialect(result);
    if (stated)
      logger.info({ dialect: result.dialect, sniffed: result.sniffed }, `read ${file} as ${stated}`);
  }
  logger.debug(
    { file, rows: inferred.rows, key: inferred.key, task: inferred.task, warnings: inferred.warnings },
    'schema inferred',
  );
  if (result.truncated)
    logger.warn(
      `read the first ${inferred.rows.toLocaleString('en')} rows of ${file}: ranges and categories come from them only (raise --sample to read more)`,
    );
  for (const warning of inferred.warnings) logger.warn(warning);
  return result;
}

/** A short account of the inferred schema, for --json. */
export function inferenceSummary(result: InferredFile): Record<string, unknown> {
  const { inferred } = result;
  return {
    file: result.file,
    format: result.format,
    rows: inferred.rows,
    truncated: result.truncated,
    key: inferred.key ?? null,
    target: inferred.target ?? null,
    task: inferred.task ?? null,
    classes: inferred.classes?.map((entry) => ({ label: entry.label, rows: entry.count })) ?? null,
    missing_values: inferred.missingValues ?? null,
    duplicate_rows: inferred.duplicateRows,
    // The contract as schema.yaml states it, with what was seen beside it.
    fields: Object.entries(schemaDefinition(inferred, { name: 'summary' }).fields).map(([name, spec]) => {
      const field = inferred.fields.find((entry) => entry.name === name)!;
      return {
        name,
        type: spec.type,
        role: spec.role,
        nullable: spec.nullable,
        ...(spec.values !== undefined ? { values: spec.values } : {}),
        ...(spec.observed !== undefined ? { observed: spec.observed } : {}),
        missing: field.summary.missing,
        distinct: field.summary.distinctOverflow ? null : field.summary.distinct,
      };
    }),
    warnings: inferred.warnings,
  };
}
