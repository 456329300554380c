// `pipewright monitor [--since <time>] [--model <alias|version>]`: drift of the predictions `serve`
// logged against the training data of the model that made them. Exits 1 on drift, so a cron job or CI
// can start retraining; too few predictions give no verdict and exit 0.
import type { Command } from 'commander';
import type { LoggedDriftReport } from '../../batch/monitor.js';
import type { Wrap } from '../wrap.js';

interface MonitorOptions {
  since: string;
  model?: string;
}

function fixed(value: number | undefined, digits = 3): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

/** The report as a table: one line per feature, then the predictions, then the verdict. */
export function formatDriftReport(report: LoggedDriftReport): string {
  const header = `Predictions of ${report.version}${report.model !== report.version ? ` (${report.model})` : ''} logged since ${report.since}: ${report.count.toLocaleString('en-US')}`;
  const lines = [header];
  if (report.status !== 'insufficient') {
    const rows: string[][] = [['feature', 'type', 'PSI', 'KS / chi-square', 'status']];
    for (const feature of report.features) {
      const test =
        feature.ks !== undefined
          ? `KS ${fixed(feature.ks)}`
          : feature.chiSquare
            ? `χ² ${fixed(feature.chiSquare.statistic, 1)} (p ${feature.chiSquare.pValue < 0.001 ? '< 0.001' : fixed(feature.chiSquare.pValue)})`
            : '–';
      rows.push([feature.field, feature.kind, fixed(feature.psi), test, feature.drifted ? 'DRIFT' : 'ok']);
    }
    if (report.predictions) {
      rows.push([
        '(predictions)',
        'score',
        fixed(report.predictions.psi),
        `KS ${fixed(report.predictions.ks)}`,
        report.predictions.drifted ? 'DRIFT' : 'ok',
      ]);
    }
    const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
    for (const row of rows)
      lines.push(
        `  ${row
          .map((cell, column) => (column === 2 ? cell.padStart(widths[column]) : cell.padEnd(widths[column])))
          .join('  ')
          .trimEnd()}`,
      );
    lines.push(
      `  thresholds: PSI > ${report.thresholds.psi} or KS > ${report.thresholds.ks} (validation.drift)`,
    );
  }
  lines.push(report.message);
  if (report.status === 'drift') lines.push('Retrain with `pipewright run` (exit code 1).');
  return lines.join('\n');
}

export function register(program: Command, wrap: Wrap): void {
  program
    .command('monitor')
    .description(
      'drift of the logged predictions against the training data of the model that made them; exit 1 on drift',
    )
    .option('--since <time>', 'ISO 8601 time, or a span back from now: 30m, 24h, 7d', '24h')
    .option(
      '-m, --model <alias|version>',
      'whose predictions to check, against its own training data (default: serve.model, production)',
    )
    .action(
      wrap('monitor', async (context, options: MonitorOptions) => {
        const project = context.project();
        const { config } = project;
        const [{ driftOfLoggedPredictions, parseSince }, { openRegistry }, { openStore }] = await Promise.all(
          [
            import('../../batch/monitor.js'),
            import('../../registry/index.js'),
            import('../../store/index.js'),
          ],
        );
        const since = parseSince(options.since);
        const registry = await openRegistry(config, project.dir);
        try {
          const store = await openStore(config, project.dir, process.env, { readOnly: true });
          try {
            const report = await driftOfLoggedPredictions({
              predictions: store.collection(config.serve.predictions_collection),
              registry,
              model: options.model ?? config.serve.model,
              since,
              thresholds: {
                psi: config.validation.drift.psi_threshold,
                ks: config.validation.drift.ks_threshold,
              },
              minCount: config.monitor.min_count,
            });
            context.logger.info(
              {
                console: false,
                version: report.version,
                count: report.count,
                status: report.status,
                drifted: report.features.filter((feature) => feature.drifted).map((feature) => feature.field),
              },
              report.message,
            );
            context.print(report, () => formatDriftReport(report));
            return report.status === 'drift' ? 1 : 0;
          } finally {
            await store.close();
          }
        } finally {
          await registry.close();
        }
      }),
    );
}
