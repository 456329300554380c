// `pipewright init [dir]`: creates a ready project (config, schema, folders, Dockerfile, CI).
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { scaffold } from '../../project/scaffold.js';
import { packageVersion, type Wrap } from '../main.js';

export function register(program: Command, wrap: Wrap): void {
  program
    .command('init')
    .description('create a new project in <dir> (default: the current folder)')
    .argument('[dir]', 'project folder', '.')
    .option('-n, --name <name>', 'project name (default: the folder name)')
    .option('-f, --force', 'overwrite existing files')
    .action(
      wrap(
        'init',
        async (context, dir: string, options: { name?: string; force?: boolean }) => {
          const target = resolve(dir);
          const name = options.name ?? (basename(target).replace(/[^A-Za-z0-9_-]+/g, '-') || 'project');
          const written = scaffold(target, {
            force: options.force,
            values: {
              name,
              collection: name.replace(/-/g, '_'),
              metric: 'roc_auc',
              expected_score: '0.6',
              version: packageVersion(),
            },
          });
          context.logger.info({ dir: target, files: written }, `created project ${name} in ${target}`);
          context.print({ project: name, dir: target, files: written }, () =>
            [
              `Created ${name} in ${target}:`,
              ...written.map((file) => `  ${file}`),
              '',
              'Next:',
              `  cd ${dir}`,
              '  pipewright check',
              '  pipewright push data/<file>.csv',
            ].join('\n'),
          );
        },
        { projectDir: (dir: string) => resolve(dir) },
      ),
    );
}
