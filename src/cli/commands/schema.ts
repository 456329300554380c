// `pipewright schema infer <file>`: reads a CSV or JSONL file and writes a commented schema.yaml
// (types, nullability, ranges, categories, a key and the target's task), warning about likely leakage.
import { existsSync, writeFileSync } from 'node:fs';
import { basename, extname, relative, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { errors, isPipewrightError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { InferFileOptions, InferredFile } from '../../project/infer-file.js';
import { TASKS, type Task } from '../../schema/schema.js';
import { DATA_FORMATS } from '../../data/reader.js';
import type { DataFormat } from '../../data/records.js';
import { addReadOptions, readOptions, type ReadFlags } from '../read-options.js';
import type { Wrap } from '../wrap.js';

export interface InferFlags extends ReadFlags {
  target?: string;
  key?: string;
  sample?: number;
  missing?: string[];
  task?: Task;
  positiveClass?: string;
  format?: DataFormat;
  closed?: string[];
}

export function parseSample(value: string): number {
  const rows = Number(value.replace(/[_,]/g, ''));
  if (!/^\d[\d_,]*$/.test(value.trim()) || !Number.isSafeInteger(rows) || rows < 1) {
    throw new InvalidArgumentError('the sample is a whole number of rows above 0');
  }
  return rows;
}

/** `--missing "NA,?,-"`: a comma-separated list; `""` inside it (or a leading/trailing comma) is the empty value. */
export function parseMissing(value: string): string[] {
  return [...new Set(value.split(',').map((marker) => (marker.trim() === '""' ? '' : marker.trim())))];
}

export function parseColumns(value: string): string[] {
  return [...new Set(value.split(',').map((name) => name.trim()))].filter((name) => name !== '');
}

export function parseTask(value: string): Task {
  if (!(TASKS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`a task is one of ${TASKS.join(', ')}`);
  return value as Task;
}

/** Adds the inference flags shared by `schema infer` and `init --from`. */
export function inferOptions(command: Command, targetHelp: string): Command {
  return addReadOptions(command)
    .option('-t, --target <column>', targetHelp)
    .option('-k, --key <column>', 'the column that identifies a row (default: proposed from the data)')
    .option('--sample <rows>', 'rows read at most (default 100,000)', parseSample)
    .option(
      '--missing <values>',
      'comma-separated values that mean missing (default: "",NA,N/A,NaN,null,NULL,None,?)',
      parseMissing,
    )
    .option(
      '--task <task>',
      `force the task: ${TASKS.join(', ')} (default: from the target's values)`,
      parseTask,
    )
    .option(
      '--positive-class <value>',
      "a binary target's positive class (default: a yes-like value, else the rarer class)",
    )
    .option('--format <format>', 'csv, jsonl, xlsx or parquet (default: from the extension)')
    .option(
      '--closed <columns>',
      'comma-separated category columns whose values seen are the whole list: a new value is refused (default: categories are open, a new value is scored and flagged)',
      parseColumns,
    );
}

/** The flag that sets each inference option, for errors that name the option. */
const OPTION_FLAGS: Record<string, string> = {
  target: '--target',
  key: '--key',
  task: '--task',
  positiveClass: '--positive-class',
  sample: '--sample',
  closed: '--closed',
};

/** The inference options the flags ask for; the format is checked here, where its flag is known. */
export function inferFileOptions(flags: InferFlags): InferFileOptions {
  if (flags.format !== undefined && !DATA_FORMATS.includes(flags.format)) {
    throw new errors.PW_USAGE(`--format ${flags.format}: not a format`, {
      hint: 'Use --format csv, jsonl, xlsx or parquet.',
    });
  }
  return {
    read: readOptions(flags),
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    ...(flags.key !== undefined ? { key: flags.key } : {}),
    ...(flags.sample !== undefined ? { sample: flags.sample } : {}),
    ...(flags.missing !== undefined ? { missingValues: flags.missing } : {}),
    ...(flags.task !== undefined ? { task: flags.task } : {}),
    ...(flags.positiveClass !== undefined ? { positiveClass: flags.positiveClass } : {}),
    ...(flags.format !== undefined ? { format: flags.format } : {}),
    ...(flags.closed !== undefined ? { closedCategories: flags.closed } : {}),
  };
}

/**
 * Runs `work`, and reports an error about an inference option (`target Churn: ...`) with the flag the
 * user typed (`--target Churn: ...`).
 */
export async function withFlagNames<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isPipewrightError(error) && error.code === 'PW_USAGE') {
      const { option, value } = error.details ?? {};
      const flag = typeof option === 'string' ? OPTION_FLAGS[option] : undefined;
      const prefix = `${String(option)} ${String(value)}: `;
      // Renamed in place, so the error keeps its origin (the line that found the problem).
      if (flag && error.message.startsWith(prefix))
        error.message = `${flag} ${String(value)}: ${error.message.slice(prefix.length)}`;
    }
    throw error;
  }
}

/** Infers the file's schema (code loaded on use, so that other commands start without it). */
export async function inferFromFlags(logger: Logger, file: string, flags: InferFlags): Promise<InferredFile> {
  const { runInference } = await import('../../project/infer-file.js');
  return withFlagNames(() => runInference(logger, file, inferFileOptions(flags)));
}

export function register(program: Command, wrap: Wrap): void {
  const schema = program.command('schema').description('work with the data contract (schema.yaml)');
  inferOptions(
    schema
      .command('infer')
      .description('infer a commented schema.yaml from a CSV, JSONL, Excel or Parquet file')
      .argument('<file>', 'the data file to read (.csv, .jsonl, .xlsx, .parquet)'),
    'the column to predict (without one the schema has no target)',
  )
    .option('-o, --output <file>', 'write the schema to this file (default: print it)')
    .option('-n, --name <name>', 'the schema name (default: from the file name)')
    .option('-f, --force', 'overwrite the output file')
    .action(
      wrap(
        'schema infer',
        async (
          context,
          file: string,
          flags: InferFlags & { output?: string; name?: string; force?: boolean },
        ) => {
          if (flags.output && existsSync(flags.output) && !flags.force) {
            throw new errors.PW_INIT_EXISTS(`${flags.output} already exists`, {
              hint: 'Pass --force to overwrite it, or name another file with -o.',
            });
          }
          const result = await inferFromFlags(context.logger, file, flags);
          const name =
            flags.name ?? (basename(file, extname(file)).replace(/[^A-Za-z0-9_-]+/g, '-') || 'data');
          const source =
            relative(flags.output ? resolve(flags.output, '..') : process.cwd(), resolve(file)) || file;
          const { renderSchemaText } = await import('../../schema/infer/index.js');
          const { inferenceSummary } = await import('../../project/infer-file.js');
          const text = renderSchemaText(result.inferred, { name, source, truncated: result.truncated });
          if (flags.output) {
            writeFileSync(flags.output, text);
            context.logger.info({ file: flags.output }, `wrote ${flags.output}`);
          }
          const { inferred } = result;
          context.print(
            { ...inferenceSummary(result), ...(flags.output ? { output: flags.output } : {}) },
            () =>
              flags.output
                ? [
                    `Wrote ${flags.output}: ${inferred.fields.length} fields from ${inferred.rows.toLocaleString('en')} rows, key ${inferred.key ?? '(none: rows keyed by content)'}, ${inferred.target ? `target ${inferred.target} (${inferred.task})` : 'no target'}${inferred.warnings.length ? `, ${inferred.warnings.length} warning${inferred.warnings.length > 1 ? 's' : ''}` : ''}.`,
                    'Review it: the comment above each field says what was seen.',
                  ].join('\n')
                : text,
          );
        },
      ),
    );
}
