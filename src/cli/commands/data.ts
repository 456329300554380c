// `pipewright data stats`: which store is in use, how many documents a collection holds, and how many
// values each schema field is missing.
import type { Command } from 'commander';
import type { Wrap } from '../wrap.js';

export function register(program: Command, wrap: Wrap): void {
  const data = program.command('data').description('inspect the data in the store');
  data
    .command('stats')
    .description('count the documents of a collection and the missing values of each field')
    .option('--collection <name>', 'collection to read (default: store.collection in pipewright.yaml)')
    .action(
      wrap('data stats', async (context, flags: { collection?: string }) => {
        const project = context.project();
        const collection = flags.collection ?? project.config.store.collection;
        const [{ collectionStats }, { openStore }] = await Promise.all([
          import('../../batch/stats.js'),
          import('../../store/index.js'),
        ]);
        const store = await openStore(project.config, project.dir, process.env, { readOnly: true });
        let stats;
        try {
          stats = await collectionStats(store, collection, project.schema, project.config.store.batch_size);
        } finally {
          await store.close();
        }
        const description = store.description.startsWith('embedded :memory:')
          ? `embedded ${project.path(project.config.store.path)} (not created yet)`
          : store.description;
        const result = { ...stats, store: description };
        context.print(result, () => {
          const width = Math.max(...Object.keys(result.missing).map((name) => name.length), 5);
          const lines = [
            `store       ${result.store}`,
            `collection  ${result.collection}`,
            `documents   ${result.count.toLocaleString('en-US')}`,
          ];
          if (result.count === 0) lines.push('(empty: push data with `pipewright push <file>`)');
          else {
            lines.push('missing values:');
            for (const [name, missing] of Object.entries(result.missing)) {
              const share = ((missing / result.count) * 100).toFixed(1);
              lines.push(
                `  ${name.padEnd(width)}  ${missing.toLocaleString('en-US').padStart(10)}  ${share.padStart(5)}%`,
              );
            }
          }
          return lines.join('\n');
        });
      }),
    );
}
