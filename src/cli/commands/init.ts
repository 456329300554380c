// `pipewright init [dir]`: creates a ready project (config, schema, folders, Dockerfile, CI); with
// `--from <file> --target <column>` the schema and the pipeline settings are inferred from the data.
import { copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { errors } from '../../core/errors.js';
import { render, scaffold, TEMPLATE_DIR } from '../../project/scaffold.js';
import { packageVersion } from '../../core/version.js';
import type { Wrap } from '../wrap.js';
import type { CommandContext } from '../context.js';
import { inferOptions, runInference, type InferFlags } from './schema.js';

interface InitFlags extends InferFlags {
  name?: string;
  force?: boolean;
  from?: string;
}

function isInside(file: string, dir: string): boolean {
  const path = relative(dir, file);
  return path !== '' && !path.startsWith('..') && !path.startsWith(sep) && !/^[A-Za-z]:/.test(path);
}

/** The project's files inferred from `flags.from`, and where the data file goes (or already is) in it. */
async function inferredProject(
  context: CommandContext,
  target: string,
  name: string,
  values: Record<string, string>,
  flags: InitFlags,
) {
  const source = resolve(flags.from!);
  const result = await runInference(context, source, flags);
  const { inferred } = result;
  const realTarget = existsSync(target) ? realpathSync(target) : target;
  const realSource = existsSync(source) ? realpathSync(source) : source;
  // A file already inside the project is used where it is; any other is copied into data/.
  const dataFile = isInside(realSource, realTarget)
    ? relative(realTarget, realSource).split(sep).join('/')
    : `data/${basename(source)}`;
  const { chooseSettings, renderProjectConfig, renderReadme, renderSchemaText } =
    await import('../../project/infer-project.js');
  const settings = chooseSettings(inferred);
  const filled = { ...values, metric: settings.metric, expected_score: String(settings.expectedScore) };
  const config = renderProjectConfig(
    render(readFileSync(join(TEMPLATE_DIR, 'pipewright.yaml'), 'utf8'), filled),
    settings,
  );
  const schema = renderSchemaText(inferred, {
    name,
    description: `Rows of ${basename(source)}: predict ${inferred.target}`,
    source: dataFile,
    truncated: result.truncated,
  });
  const readme = renderReadme(
    render(readFileSync(join(TEMPLATE_DIR, 'README.md'), 'utf8'), filled),
    dataFile,
  );
  return {
    result,
    settings,
    dataFile,
    source,
    copy: !isInside(realSource, realTarget),
    overrides: { 'pipewright.yaml': config, 'schema.yaml': schema, 'README.md': readme },
  };
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
        'a CSV or JSONL file to infer the schema and the settings from (needs --target)',
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
        const inferenceFlags = (['target', 'key', 'sample', 'missing', 'task', 'format'] as const).filter(
          (flag) => options[flag] !== undefined,
        );
        if (!options.from && inferenceFlags.length > 0) {
          throw new errors.PW_USAGE(`--${inferenceFlags[0]} applies only with --from <file>`, {
            hint: 'Run `pipewright init <dir> --from <file> --target <column>` to infer the project from a data file.',
          });
        }
        if (options.from && !options.target) {
          throw new errors.PW_USAGE('--from needs --target <column>: the column the model will predict', {
            hint: `Run \`pipewright schema infer ${options.from}\` to see the columns, then add --target <column>.`,
          });
        }
        const inferred = options.from
          ? await inferredProject(context, target, name, values, options)
          : undefined;
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
