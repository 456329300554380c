// `pipewright predict <file> -o <out.csv>`: scores a CSV or JSONL file with a published model.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import type { Wrap } from '../wrap.js';

export function register(program: Command, wrap: Wrap): void {
  program
    .command('predict')
    .description('score a CSV or JSONL file with a published model; invalid rows go to <file>.rejects.jsonl')
    .argument('<file>', 'input file (.csv or .jsonl)')
    .requiredOption('-o, --output <file>', 'where to write the predictions (CSV)')
    .option('-m, --model <alias|version>', 'model to use', 'production')
    .option('--format <format>', 'csv or jsonl (default: from the extension)')
    .option('--allow-rejects', 'exit 0 even when some rows were rejected')
    .option('--explain', 'add exact SHAP values: shap_base and one shap_<field> column per feature field')
    .action(
      wrap(
        'predict',
        async (
          context,
          file: string,
          options: {
            output: string;
            model: string;
            format?: 'csv' | 'jsonl';
            allowRejects?: boolean;
            explain?: boolean;
          },
        ) => {
          const project = context.project();
          const [{ predictFile }, { openRegistry }] = await Promise.all([
            import('../../batch/predict.js'),
            import('../../registry/index.js'),
          ]);
          const registry = await openRegistry(project.config, project.dir);
          try {
            const summary = await predictFile({
              file: resolve(file),
              output: resolve(options.output),
              schema: project.schema,
              registry,
              model: options.model,
              ...(options.format ? { format: options.format } : {}),
              ...(options.explain ? { explain: true } : {}),
            });
            context.logger.info(
              { summary: { ...summary, rejects_sample: undefined }, console: false },
              `scored ${summary.predicted} rows with ${summary.model}`,
            );
            context.print(summary, () =>
              [
                `Scored ${file} with ${options.model} (${summary.model}) into ${options.output}`,
                `  read ${summary.read.toLocaleString('en')}  predicted ${summary.predicted.toLocaleString('en')}  rejected ${summary.rejected.toLocaleString('en')}`,
                `  ${summary.seconds.toFixed(2)} s, ${summary.rows_per_s.toLocaleString('en')} rows/s`,
                ...summary.rejects_sample.map((row) => `  line ${row.line}: ${row.reason}`),
                ...(summary.rejects_file ? [`  rejected rows: ${summary.rejects_file}`] : []),
              ].join('\n'),
            );
            if (summary.rejected > 0 && !options.allowRejects) {
              throw new errors.PW_ROWS_REJECTED(
                `${summary.rejected} of ${summary.read} rows were rejected; see ${summary.rejects_file}`,
                {
                  hint: 'Fix the rows listed in the rejects file, or pass --allow-rejects.',
                },
              );
            }
          } finally {
            await registry.close();
          }
        },
      ),
    );
}
