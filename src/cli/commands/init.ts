// `pipewright init [dir]`: creates a ready project (config, schema, folders, Dockerfile, CI); with
// `--from <file> --target <column>` the schema and the pipeline settings are inferred from the data.
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import { packageVersion } from '../../core/version.js';
import { scaffold } from '../../project/scaffold.js';
import type { Wrap } from '../wrap.js';
import { inferFileOptions, inferOptions, withFlagNames, type InferFlags } from './schema.js';

interface InitFlags extends InferFlags {
  name?: string;
  force?: boolean;
  from?: string;
}

export function register(program: Command, wrap: Wrap): void {
  inferOptions(
    program
      .command('init')
      .description(
        'create a new project in <dir> (default: the current folder); --from infers it from a data file',
      )
      .argument('[dir]', 'project folder', '.')
      .option('-n, --name <name>', 'project name (default: the folder name)')
      .option('-f, --force', 'overwrite existing files')
      .option(
        '--from <file>',
        'a CSV, JSONL, Excel or Parquet file to infer the schema and the settings from (needs --target)',
      ),
    'with --from: the column to predict',
  ).action(
    wrap(
      'init',
      async (context, dir: string, options: InitFlags) => {
        const target = resolve(dir);
        const name = options.name ?? (basename(target).replace(/[^A-Za-z0-9_-]+/g, '-') || 'project');
        const values = {
          name,
          collection: name.replace(/-/g, '_'),
          metric: 'roc_auc',
          expected_score: '0.6',
          version: packageVersion(),
        };
        const inferenceFlags = (
          ['target', 'key', 'sample', 'missing', 'task', 'positiveClass', 'format', 'closed'] as const
        ).filter((flag) => options[flag] !== undefined);
        if (!options.from && inferenceFlags.length > 0) {
          throw new errors.PW_USAGE(
            `--${inferenceFlags[0].replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)} applies only with --from <file>`,
            {
              hint: 'Run `pipewright init <dir> --from <file> --target <column>` to infer the project from a data file.',
            },
          );
        }
        if (options.from && !options.target) {
          throw new errors.PW_USAGE('--from needs --target <column>: the column the model will predict', {
            hint: `Run \`pipewright schema infer ${options.from}\` to see the columns, then add --target <column>.`,
          });
        }
        let inferred;
        if (options.from) {
          const from = options.from;
          // Loaded on use, so that a plain `init` starts without the inference code.
          const { inferredProject } = await import('../../project/from-data.js');
          inferred = await withFlagNames(() =>
            inferredProject(context.logger, target, name, values, from, inferFileOptions(options)),
          );
        }
        if (inferred?.copy) {
          const destination = join(target, inferred.dataFile);
          if (existsSync(destination) && !options.force) {
            throw new errors.PW_INIT_EXISTS(
              `${relative(process.cwd(), destination) || destination} already exists`,
              {
                hint: 'Pass --force to overwrite it, or move the file into the project folder and name it with --from.',
              },
            );
          }
        }
        const written = scaffold(target, {
          force: options.force,
          values,
          ...(inferred ? { overrides: inferred.overrides } : {}),
        });
        if (inferred?.copy) {
          mkdirSync(join(target, 'data'), { recursive: true });
          copyFileSync(inferred.source, join(target, inferred.dataFile));
          written.push(inferred.dataFile);
        }
        context.logger.info({ dir: target, files: written }, `created project ${name} in ${target}`);
        const summary = inferred
          ? {
              data: inferred.dataFile,
              rows: inferred.result.inferred.rows,
              key: inferred.result.inferred.key ?? null,
              target: inferred.result.inferred.target,
              task: inferred.result.inferred.task,
              metric: inferred.settings.metric,
              expected_score: inferred.settings.expectedScore,
              warnings: inferred.result.inferred.warnings,
            }
          : undefined;
        context.print(
          { project: name, dir: target, files: written, ...(summary ? { inferred: summary } : {}) },
          () =>
            [
              `Created ${name} in ${target}:`,
              ...written.map((file) => `  ${file}`),
              ...(summary
                ? [
                    '',
                    `Inferred from ${summary.data} (${summary.rows.toLocaleString('en')} rows): target ${summary.target} (${summary.task}), key ${summary.key ?? '(none: rows keyed by content)'}, gate ${summary.metric} >= ${summary.expected_score}.`,
                    `Review schema.yaml: the comment above each field says what was seen${summary.warnings.length ? `; ${summary.warnings.length} warning${summary.warnings.length > 1 ? 's' : ''} above` : ''}.`,
                  ]
                : []),
              '',
              'Next:',
              `  cd ${dir}`,
              '  pipewright check',
              ...(summary
                ? [
                    `  pipewright push ${summary.data}`,
                    '  pipewright run',
                    `  pipewright predict ${summary.data} -o predictions.csv`,
                    '  pipewright serve',
                  ]
                : ['  pipewright push data/<file>.csv']),
            ].join('\n'),
        );
      },
      { projectDir: (dir: string) => resolve(dir) },
    ),
  );
}
