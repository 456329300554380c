// `pipewright sample vehicle-insurance`: writes a seeded synthetic table shaped like the reference data
// set (CSV, or JSONL by extension), and says plainly that the rows are synthetic.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import { displayPath } from '../../core/paths.js';
import { syntheticCsv, syntheticVehicleInsurance } from '../../data/synthetic.js';
import type { Wrap } from '../wrap.js';

const DATASETS = ['vehicle-insurance'];

function wholeNumber(text: string, flag: string, minimum: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new errors.PW_USAGE(
      `${flag} must be a whole number${minimum === 0 ? ' of 0 or more' : ''}, not "${text}"`,
    );
  }
  return value;
}

function* jsonLines(rows: number, seed: number): Generator<string> {
  let chunk: string[] = [];
  for (const record of syntheticVehicleInsurance({ rows, seed })) {
    chunk.push(`${JSON.stringify(record)}\n`);
    if (chunk.length === 10_000) {
      yield chunk.join('');
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk.join('');
}

function writeFile(file: string, chunks: Iterable<string>): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    const descriptor = openSync(file, 'w');
    try {
      for (const chunk of chunks) writeSync(descriptor, chunk);
    } finally {
      closeSync(descriptor);
    }
  } catch (cause) {
    throw new errors.PW_FILE_UNWRITABLE(`Cannot write ${displayPath(file)}: ${(cause as Error).message}`, {
      cause,
      where: displayPath(file),
    });
  }
}

export function register(program: Command, wrap: Wrap): void {
  program
    .command('sample')
    .description('write a synthetic sample table (deterministic for a seed; not real data)')
    .argument('<dataset>', `which table: ${DATASETS.join(', ')}`)
    .option('--rows <n>', 'rows to write', '50000')
    .option('--seed <s>', 'random seed: the same seed gives the same rows', '42')
    .option('-o, --output <file>', 'where to write (.csv or .jsonl); standard output when absent')
    .action(
      wrap(
        'sample',
        async (context, dataset: string, flags: { rows: string; seed: string; output?: string }) => {
          if (!DATASETS.includes(dataset)) {
            throw new errors.PW_USAGE(`Unknown sample data set "${dataset}"`, {
              hint: `Available: ${DATASETS.join(', ')}.`,
            });
          }
          const rows = wholeNumber(flags.rows, '--rows', 0);
          const seed = wholeNumber(flags.seed, '--seed', Number.MIN_SAFE_INTEGER);
          const jsonl = flags.output !== undefined && /\.(jsonl|ndjson)$/i.test(flags.output);
          const table = syntheticCsv({ rows, seed });
          const chunks = jsonl ? jsonLines(rows, seed) : table;
          const notice = `${rows.toLocaleString('en-US')} SYNTHETIC rows (${dataset}, seed ${seed}): generated data shaped like the reference set, not real customers`;
          if (flags.output === undefined) {
            for (const chunk of chunks) {
              if (!context.stdout.write(chunk)) await once(context.stdout, 'drain');
            }
            context.stderr.write(`${notice}\n`);
            return;
          }
          const file = resolve(flags.output);
          writeFile(file, chunks);
          context.logger.info(
            { file, rows, seed, synthetic: true, console: false },
            `wrote ${rows} synthetic rows`,
          );
          context.stderr.write(`${notice}\n`);
          context.print(
            { ...table.metadata, file, format: jsonl ? 'jsonl' : 'csv' },
            `Wrote ${displayPath(file)}`,
          );
        },
      ),
    );
}
