// `pipewright predict <file> -o <out.csv>`: scores a CSV or JSONL file with a published model.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import type { DataFormat } from '../../data/records.js';
import { addReadOptions, readOptions, type ReadFlags } from '../read-options.js';
import type { Wrap } from '../wrap.js';

export function register(program: Command, wrap: Wrap): void {
  addReadOptions(
    program
      .command('predict')
      .description(
        'score a CSV, JSONL, Excel or Parquet file with a published model; invalid rows go to <output>.rejects.jsonl, values unseen in training are flagged in <output>.warnings.jsonl',
      )
      .argument('<file>', 'input file (.csv, .jsonl, .xlsx, .parquet)'),
  )
    .requiredOption('-o, --output <file>', 'where to write the predictions (CSV)')
    .option('-m, --model <alias|version>', 'model to use', 'production')
    .option('--format <format>', 'csv, jsonl, xlsx or parquet (default: from the extension)')
    .option('--allow-rejects', 'exit 0 even when some rows were rejected')
    .option('--explain', 'add exact SHAP values: shap_base and one shap_<field> column per feature field')
    .action(
      wrap(
        'predict',
        async (
          context,
          file: string,
          options: ReadFlags & {
            output: string;
            model: string;
            format?: DataFormat;
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
              read: readOptions(options, project.config.input),
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
                ...(summary.flagged > 0
                  ? [
                      `  flagged ${summary.flagged.toLocaleString('en')} scored rows with values unseen in training (${Object.entries(
                        summary.warnings_by_reason,
                      )
                        .map(([reason, count]) => `${reason} ${count}`)
                        .join(', ')}): ${summary.warnings_file}`,
                    ]
                  : []),
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
