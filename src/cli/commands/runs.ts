// `pipewright runs list | show <id> | compare <a> <b>`: the run records, side by side.
import type { Command } from 'commander';
import { listRuns, readRunRecord, type RunRecord } from '../../pipeline/record.js';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../wrap.js';

function artifactsRoot(context: CommandContext): string {
  const project = context.project();
  return project.path(project.config.artifacts.path);
}

function formatNumber(value: unknown): string {
  if (typeof value !== 'number') return value === undefined || value === null ? '-' : String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(4);
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows
    .map((row) =>
      row
        .map((cell, column) => (cell ?? '').padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function outcomeText(run: RunRecord): string {
  if (!run.outcome) return run.status;
  return run.outcome.published ? `published ${run.outcome.version}` : `not published`;
}

/** Flattens nested objects into dotted keys, for a side-by-side diff. */
function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, out);
  } else {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : value;
  }
  return out;
}

export interface RunComparison {
  a: string;
  b: string;
  rows: { key: string; a: unknown; b: unknown; changed: boolean }[];
}

export function compareRuns(a: RunRecord, b: RunRecord): RunComparison {
  const pick = (run: RunRecord) =>
    flatten({
      status: run.status,
      outcome: outcomeText(run),
      dataHash: run.dataHash,
      schemaFingerprint: run.schemaFingerprint,
      rows: run.rows,
      seed: run.seed,
      model: run.model,
      metrics: run.metrics,
      git: run.code.git
        ? `${run.code.git.commit.slice(0, 12)}${run.code.git.dirty ? '+dirty' : ''}`
        : undefined,
      seconds: run.seconds,
    });
  const left = pick(a);
  const right = pick(b);
  const keys = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  return {
    a: a.id,
    b: b.id,
    rows: keys.map((key) => ({
      key,
      a: left[key],
      b: right[key],
      changed: JSON.stringify(left[key]) !== JSON.stringify(right[key]),
    })),
  };
}

export function register(program: Command, wrap: Wrap): void {
  const runs = program.command('runs').description('list, show and compare pipeline runs');
  runs
    .command('list')
    .description('list the runs, newest last')
    .action(
      wrap('runs-list', async (context) => {
        const records = listRuns(artifactsRoot(context));
        const summary = records.map((run) => ({
          id: run.id,
          status: run.status,
          startedAt: run.startedAt,
          seconds: run.seconds,
          model: run.model.type,
          metrics: run.metrics ?? {},
          dataHash: run.dataHash,
          outcome: run.outcome ?? null,
        }));
        context.print(summary, () => {
          if (records.length === 0) return 'No runs yet: start one with `pipewright run`.';
          const metric = context.project().config.evaluate.metric;
          return table([
            ['run', 'status', 'model', metric, 'data', 'outcome'],
            ...records.map((run) => [
              run.id,
              run.status,
              run.model.type,
              formatNumber(run.metrics?.[metric]),
              (run.dataHash ?? '').slice(0, 12),
              outcomeText(run),
            ]),
          ]);
        });
      }),
    );
  runs
    .command('show')
    .description('print a run record')
    .argument('<id>', 'run id (or its unique end)')
    .action(
      wrap('runs-show', async (context, id: string) => {
        const run = readRunRecord(artifactsRoot(context), id);
        context.print(run, () =>
          [
            `run ${run.id}  ${run.status}  ${run.startedAt}  ${formatNumber(run.seconds)} s`,
            `data ${run.dataHash ?? '-'}  rows ${formatNumber(run.rows?.total)} (train ${formatNumber(run.rows?.train)}, test ${formatNumber(run.rows?.test)})`,
            `model ${run.model.type} ${JSON.stringify(run.model.params)}`,
            `code pipewright ${run.code.pipewright}, node ${run.code.node}${run.code.git ? `, git ${run.code.git.commit.slice(0, 12)}${run.code.git.dirty ? ' (dirty)' : ''}` : ''}`,
            '',
            table([
              ['step', 'status', 'seconds', 'summary'],
              ...run.steps.map((s) => [
                s.name,
                s.status + (s.cachedFrom ? ` (${s.cachedFrom})` : ''),
                formatNumber(s.seconds),
                String(s.summary?.text ?? s.error?.message ?? ''),
              ]),
            ]),
            '',
            table([
              ['metric', 'new', 'production'],
              ...Object.entries(run.metrics ?? {}).map(([name, value]) => [
                name,
                formatNumber(value),
                formatNumber(run.productionMetrics?.[name]),
              ]),
            ]),
            '',
            `outcome: ${outcomeText(run)}${run.outcome?.reasons.length ? ` (${run.outcome.reasons.join('; ')})` : ''}`,
          ].join('\n'),
        );
      }),
    );
  runs
    .command('compare')
    .description('params, metrics and data hash of two runs side by side')
    .argument('<a>', 'first run id')
    .argument('<b>', 'second run id')
    .option('--html', 'write the comparison as an HTML page, with both ROC curves')
    .option(
      '-o, --output <file>',
      'with --html: where to write the page (default: artifacts/compare-<a>-<b>.html)',
    )
    .action(
      wrap(
        'runs-compare',
        async (context, a: string, b: string, options: { html?: boolean; output?: string }) => {
          const root = artifactsRoot(context);
          const comparison = compareRuns(readRunRecord(root, a), readRunRecord(root, b));
          if (options.html) {
            const { writeComparisonReport } = await import('../../report/compare.js');
            const { file } = await writeComparisonReport(
              root,
              comparison,
              options.output ? { output: options.output } : {},
            );
            context.print(
              { ...comparison, file },
              `comparison of ${comparison.a} and ${comparison.b}: ${file}`,
            );
            return;
          }
          context.print(comparison, () =>
            table([
              ['', comparison.a, comparison.b],
              ...comparison.rows.map((row) => [
                `${row.changed ? '*' : ' '} ${row.key}`,
                formatNumber(row.a),
                formatNumber(row.b),
              ]),
            ]),
          );
        },
      ),
    );
}
