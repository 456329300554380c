// `pipewright report <run-id> [-o file.html]`: the run's self-contained HTML report (charts as inline
// SVG, no scripts), by default artifacts/<run-id>/report.html. `pipewright run` writes it too.
import { relative } from 'node:path';
import type { Command } from 'commander';
import type { Wrap } from '../wrap.js';

export function register(program: Command, wrap: Wrap): void {
  program
    .command('report')
    .description('write the HTML report of a run: summary, validation, drift, metrics, curves, model card')
    .argument('<run-id>', 'run id (or its unique end)')
    .option('-o, --output <file>', 'where to write the page (default: artifacts/<run-id>/report.html)')
    .action(
      wrap('report', async (context, runId: string, options: { output?: string }) => {
        const project = context.project();
        const { writeRunReport } = await import('../../report/run-report.js');
        const { file, runId: id } = await writeRunReport(project.path(project.config.artifacts.path), runId, {
          schema: project.schema,
          ...(options.output ? { output: options.output } : {}),
        });
        context.logger.debug({ run: id, file }, 'report written');
        context.print({ run: id, file }, `report of run ${id}: ${relative(process.cwd(), file) || file}`);
      }),
    );
}
