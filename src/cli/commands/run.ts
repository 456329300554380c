// `pipewright run`: the training pipeline, with a live step display on a terminal and the run record
// as JSON with --json. Exit 1 when a step fails; a model that does not pass the gates is not a failure.
import type { Command } from 'commander';
import type { RunRecord } from '../../pipeline/record.js';
import type { Wrap } from '../wrap.js';

function describe(record: RunRecord, metric: string): string {
  const lines = [`run ${record.id} ${record.status} in ${record.seconds} s`];
  for (const step of record.steps) {
    const detail = step.summary?.text ?? step.error?.message ?? '';
    lines.push(
      `  ${step.name.padEnd(9)} ${step.status.padEnd(7)} ${step.seconds !== undefined ? `${step.seconds.toFixed(2)} s`.padStart(8) : ''.padStart(8)}  ${detail}`,
    );
  }
  if (record.metrics) {
    const names = Object.keys(record.metrics);
    lines.push(
      '',
      `  ${'metric'.padEnd(10)} ${'new'.padStart(8)} ${record.productionMetrics ? 'production'.padStart(11) : ''}`,
    );
    for (const name of names) {
      const mark = name === metric ? '*' : ' ';
      const production = record.productionMetrics?.[name];
      lines.push(
        `${mark} ${name.padEnd(10)} ${record.metrics[name].toFixed(4).padStart(8)} ${production !== undefined ? production.toFixed(4).padStart(11) : ''}`,
      );
    }
  }
  if (record.outcome) {
    lines.push(
      '',
      record.outcome.published
        ? `published ${record.outcome.version} as ${record.outcome.alias}`
        : 'not published',
    );
    for (const reason of record.outcome.reasons) lines.push(`  ${reason}`);
  }
  return lines.join('\n');
}

export function register(program: Command, wrap: Wrap): void {
  program
    .command('run')
    .description('run the training pipeline: ingest, validate, split, transform, train, evaluate, publish')
    .option('--no-cache', 'recompute every step even when its inputs are unchanged')
    .option('--no-publish', 'evaluate, but publish nothing')
    .option('--alias <name>', 'alias a better model is published to', 'production')
    .option('--run-id <id>', 'use this run id (for runs started by the server)')
    .action(
      wrap(
        'run',
        async (context, options: { cache: boolean; publish: boolean; alias: string; runId?: string }) => {
          const project = context.project();
          const [{ runPipeline }, { Progress }, { writeRunReportSafely }] = await Promise.all([
            import('../../pipeline/run.js'),
            import('../../pipeline/progress.js'),
            import('../../report/run-report.js'),
          ]);
          const interactive = !context.globals.json && !context.globals.quiet;
          const artifactsRoot = project.path(project.config.artifacts.path);
          const runId = options.runId ?? context.runId;
          // The report is written whether the run succeeded or stopped (say, at validation); it never fails the run.
          const record = await runPipeline({
            config: project.config,
            schema: project.schema,
            projectDir: project.dir,
            artifactsRoot,
            logger: context.logger,
            runId,
            noCache: !options.cache,
            noPublish: !options.publish,
            alias: options.alias,
            progress: new Progress(interactive ? (process.stderr as NodeJS.WriteStream) : undefined),
          }).finally(() =>
            writeRunReportSafely(artifactsRoot, runId, { schema: project.schema, logger: context.logger }),
          );
          context.print(record, () => describe(record, project.config.evaluate.metric));
        },
      ),
    );
}
