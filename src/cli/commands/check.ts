// `pipewright check`: validates pipewright.yaml and schema.yaml and summarises the project.
import { relative } from 'node:path';
import type { Command } from 'commander';
import { describeStore } from '../../project/describe.js';
import type { Wrap } from '../wrap.js';

export function register(program: Command, wrap: Wrap): void {
  program
    .command('check')
    .description('validate pipewright.yaml and schema.yaml and print a summary')
    .action(
      wrap('check', async (context) => {
        const project = context.project();
        const { config, schema } = project;
        const roles = (role: string) => schema.fields.filter((f) => f.role === role).map((f) => f.name);
        const summary = {
          ok: true,
          project: config.project,
          config: project.file,
          schema: {
            file: project.schemaFile,
            name: schema.name,
            fingerprint: schema.fingerprint,
            task: schema.task ?? null,
            key: schema.key?.name ?? null,
            target: schema.target?.name ?? null,
            features: roles('feature'),
            ignored: roles('ignore'),
          },
          store: describeStore(project),
          registry:
            config.registry.type === 's3'
              ? `s3://${config.registry.bucket}/${config.registry.prefix}`
              : project.path(config.registry.path),
          model: config.model.type,
          metric: config.evaluate.metric,
        };
        context.logger.info({ fingerprint: schema.fingerprint }, 'config and schema are valid');
        context.print(summary, () =>
          [
            `ok  ${relative(process.cwd(), project.file) || project.file}  project ${config.project}`,
            `ok  ${relative(process.cwd(), project.schemaFile) || project.schemaFile}  ${schema.fields.length} fields: ${summary.schema.features.length} features, key ${summary.schema.key ?? '(none)'}, target ${summary.schema.target ?? '(none)'} (${schema.task ?? 'no task'})`,
            `    store     ${summary.store}`,
            `    registry  ${summary.registry}`,
            `    model     ${config.model.type}, gate ${config.evaluate.metric} >= ${config.evaluate.expected_score}`,
          ].join('\n'),
        );
      }),
    );
}
