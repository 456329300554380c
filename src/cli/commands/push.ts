// `pipewright push <file>`: streams a CSV or JSONL file into the project's document store, validating
// every row against the schema; a progress line on a terminal, a summary at the end.
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { errors } from '../../core/errors.js';
import { displayPath } from '../../core/paths.js';
import type { PushProgress, PushSummary } from '../../batch/push.js';
import type { DataFormat } from '../../data/records.js';
import { addReadOptions, readOptions, type ReadFlags } from '../read-options.js';
import type { Wrap } from '../wrap.js';

interface PushFlags extends ReadFlags {
  collection?: string;
  format?: DataFormat;
  batchSize?: string;
  replace?: boolean;
  dryRun?: boolean;
  allowRejects?: boolean;
}

function positiveInteger(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new errors.PW_USAGE(`${flag} must be a whole number above 0, not "${text}"`, {
      hint: `For example ${flag} 5000.`,
    });
  }
  return value;
}

function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const whole = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(whole / 60);
  return `${minutes}:${String(whole % 60).padStart(2, '0')}`;
}

/** A one-line progress display on a terminal, redrawn in place. */
function progressPrinter(stream: NodeJS.WritableStream): {
  update(progress: PushProgress): void;
  clear(): void;
} {
  let shown = false;
  return {
    update(progress) {
      const rate = progress.seconds > 0 ? progress.rows / progress.seconds : 0;
      const share = progress.totalBytes > 0 ? Math.min(1, progress.bytesRead / progress.totalBytes) : 0;
      const remaining = share > 0 ? (progress.seconds * (1 - share)) / share : Infinity;
      const width = 24;
      const filled = Math.round(share * width);
      stream.write(
        `\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.round(share * 100)}%  ${formatCount(progress.rows)} rows  ${formatCount(Math.round(rate))} rows/s  ETA ${formatDuration(remaining)}`,
      );
      shown = true;
    },
    clear() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}

function humanSummary(summary: PushSummary): string {
  const lines = [
    `${summary.dry_run ? 'Checked' : 'Pushed'} ${displayPath(summary.file)} ${summary.dry_run ? `against the schema (dry run: nothing written)` : `into ${summary.store}, collection "${summary.collection}"${summary.replace ? ' (replaced)' : ''}`}`,
    `  read ${formatCount(summary.read)}  ${summary.dry_run ? `valid ${formatCount(summary.valid ?? 0)}` : `inserted ${formatCount(summary.inserted)}  updated ${formatCount(summary.updated)}  unchanged ${formatCount(summary.unchanged)}`}  rejected ${formatCount(summary.rejected)}`,
    `  ${summary.seconds.toFixed(2)} s, ${formatCount(summary.rows_per_s)} rows/s`,
  ];
  if (summary.rejected > 0) {
    lines.push(
      summary.rejects_file
        ? `  rejected rows: ${displayPath(summary.rejects_file)}`
        : '  rejected rows (first few):',
    );
    for (const reject of summary.rejects_sample) lines.push(`    line ${reject.line}: ${reject.reason}`);
    if (summary.rejected > summary.rejects_sample.length)
      lines.push(`    … and ${formatCount(summary.rejected - summary.rejects_sample.length)} more`);
  }
  return lines.join('\n');
}

export function register(program: Command, wrap: Wrap): void {
  addReadOptions(
    program
      .command('push')
      .description(
        'validate a CSV, JSONL, Excel or Parquet file against the schema and upsert its rows into the store',
      )
      .argument('<file>', 'the data file (.csv, .jsonl, .xlsx, .parquet)'),
  )
    .option('--collection <name>', 'collection to write (default: store.collection in pipewright.yaml)')
    .addOption(
      new Option('--format <format>', 'file format (default: from the extension)').choices([
        'csv',
        'jsonl',
        'xlsx',
        'parquet',
      ]),
    )
    .option('--batch-size <n>', 'rows per write (default: store.batch_size)')
    .option(
      '--replace',
      "replace the collection's documents with the file's (swapped in only when all are written)",
    )
    .option('--dry-run', 'validate only; write nothing')
    .option('--allow-rejects', 'exit 0 even when some rows are rejected')
    .action(
      wrap('push', async (context, file: string, flags: PushFlags) => {
        const project = context.project();
        const { config } = project;
        const batchSize = positiveInteger(flags.batchSize, '--batch-size') ?? config.store.batch_size;
        const collection = flags.collection ?? config.store.collection;
        const path = resolve(file);
        const stderr = context.stderr as NodeJS.WriteStream;
        const progress = stderr.isTTY && !context.globals.quiet ? progressPrinter(stderr) : undefined;
        const [{ pushFile }, { openStore }] = await Promise.all([
          import('../../batch/push.js'),
          import('../../store/index.js'),
        ]);
        const store = await openStore(config, project.dir);
        let summary: PushSummary;
        try {
          summary = await pushFile({
            file: path,
            schema: project.schema,
            store,
            collection,
            format: flags.format,
            read: readOptions(flags, config.input),
            batchSize,
            replace: flags.replace,
            dryRun: flags.dryRun,
            duplicateKeys: config.validation.duplicate_keys,
            logger: context.logger,
            ...(progress ? { onProgress: progress.update } : {}),
          });
        } finally {
          progress?.clear();
          await store.close();
        }
        context.logger.info(
          { ...summary, rejects_sample: undefined, console: false },
          `pushed ${summary.read} rows from ${displayPath(path)}: ${summary.inserted} inserted, ${summary.updated} updated, ${summary.unchanged} unchanged, ${summary.rejected} rejected`,
        );
        const failed = summary.rejected > 0 && !flags.allowRejects;
        const failure = failed
          ? new errors.PW_ROWS_REJECTED(
              `${formatCount(summary.rejected)} of ${formatCount(summary.read)} rows of ${displayPath(path)} were rejected${summary.rejects_file ? `; they are in ${displayPath(summary.rejects_file)}` : ''}`,
              {
                where: summary.rejects_sample[0]
                  ? `${displayPath(path)}:${summary.rejects_sample[0].line}`
                  : displayPath(path),
              },
            )
          : undefined;
        context.print({ ok: !failed, ...summary, ...(failure ? { error: failure.toJSON() } : {}) }, () =>
          humanSummary(summary),
        );
        if (failure) {
          context.stderr.write(`error ${failure.code}: ${failure.message}\n  hint: ${failure.hint}\n`);
          return failure.exitCode;
        }
      }),
    );
}
