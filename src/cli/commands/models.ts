// `pipewright models list|show|promote|rollback|history`: the published model versions, their
// aliases and the audit trail of every publish and alias move, from the project's registry.
import { InvalidArgumentError, type Command } from 'commander';
import type { ModelCard } from '../../ml/card.js';
import { openRegistry } from '../../registry/index.js';
import type { HistoryEvent, ModelRegistry } from '../../registry/types.js';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../wrap.js';

const DEFAULT_ALIAS = 'production';

interface AliasOption {
  alias: string;
  reason?: string;
}

export function register(program: Command, wrap: Wrap): void {
  const models = program
    .command('models')
    .description('list, inspect, promote and roll back the published model versions');

  models
    .command('list')
    .description('list every version with its metrics and aliases')
    .action(
      wrap('models list', (context) =>
        withRegistry(context, async (registry) => {
          const [versions, aliases] = await Promise.all([registry.list(), registry.aliases()]);
          context.print({ registry: registry.location, versions, aliases }, () => {
            if (versions.length === 0)
              return `No versions in ${registry.location} yet: publish one with \`pipewright run\`.`;
            const rows = versions.map((info) => [
              info.version,
              shortTime(info.createdAt),
              info.runId,
              formatBytes(info.size),
              formatMetrics(info.metrics, 3),
              info.aliases.join(', '),
            ]);
            return table(['VERSION', 'CREATED', 'RUN', 'SIZE', 'METRICS', 'ALIASES'], rows);
          });
        }),
      ),
    );

  models
    .command('show')
    .description('print the manifest of a version: metrics, run id, creation time, size, sha256, aliases')
    .argument('<version>', 'a version (v3) or an alias (production)')
    .option(
      '--card',
      'print the model card stored in the bundle: training data, metrics with intervals, intended use, limits',
    )
    .action(
      wrap('models show', (context, requested: string, options: { card?: boolean }) =>
        withRegistry(context, async (registry) => {
          const info = await registry.resolve(requested);
          const aliases = (await registry.aliases())
            .filter((alias) => alias.version === info.version)
            .map((alias) => alias.name);
          const card = options.card ? await loadCard(registry, info.version) : undefined;
          const cardText = card
            ? (await import('../../report/card.js')).modelCardText(
                card,
                `Model card of ${info.version}${aliases.length > 0 ? ` (${aliases.join(', ')})` : ''}: ${card.name}`,
              )
            : undefined;
          context.print(
            {
              ...info,
              aliases,
              registry: registry.location,
              ...(options.card ? { card: card ?? null } : {}),
            },
            () => {
              if (options.card)
                return (
                  cardText ??
                  `${info.version} has no model card: it was published before bundles carried one. Retrain it with \`pipewright run\` to get one.`
                );
              const metricNames = Object.keys(info.metrics);
              const width = Math.max(0, ...metricNames.map((name) => name.length));
              const lines = [
                `${info.version}${aliases.length > 0 ? `  (${aliases.join(', ')})` : ''}`,
                `  created   ${info.createdAt} by ${info.createdBy}`,
                `  run       ${info.runId}`,
                `  size      ${formatBytes(info.size)} (${info.size} bytes)`,
                `  sha256    ${info.sha256}`,
                `  schema    ${info.schemaFingerprint}`,
              ];
              if (info.task || info.modelType)
                lines.push(`  model     ${[info.modelType, info.task].filter(Boolean).join(', ')}`);
              if (info.dataHash) lines.push(`  data      ${info.dataHash}`);
              metricNames.forEach((name, index) =>
                lines.push(
                  `  ${index === 0 ? 'metrics' : '       '}   ${name.padEnd(width)}  ${formatNumber(info.metrics[name])}`,
                ),
              );
              return lines.join('\n');
            },
          );
        }),
      ),
    );

  models
    .command('promote')
    .description(`point an alias (default: ${DEFAULT_ALIAS}) at a version`)
    .argument('<version>', 'a version (v3), or an alias whose version to take (staging)')
    .option('-a, --alias <name>', 'the alias to move', DEFAULT_ALIAS)
    .option('-r, --reason <text>', 'why, kept in the history')
    .action(
      wrap('models promote', (context, requested: string, options: AliasOption) =>
        withRegistry(context, async (registry) => {
          const before = await registry.getAlias(options.alias);
          const after = await registry.setAlias(options.alias, requested, { reason: options.reason });
          const changed = before?.version !== after.version;
          context.logger.debug(
            { alias: after.name, from: before?.version ?? null, to: after.version },
            'alias moved',
          );
          context.print(
            { alias: after.name, version: after.version, previous: before?.version ?? null, changed },
            () =>
              changed
                ? `${after.name}: ${before?.version ?? '(none)'} -> ${after.version}`
                : `${after.name} already points at ${after.version}; nothing changed.`,
          );
        }),
      ),
    );

  models
    .command('rollback')
    .description(
      `move an alias (default: ${DEFAULT_ALIAS}) back to the version it pointed at before its last move`,
    )
    .option('-a, --alias <name>', 'the alias to move back', DEFAULT_ALIAS)
    .option('-r, --reason <text>', 'why, kept in the history')
    .action(
      wrap('models rollback', (context, options: AliasOption) =>
        withRegistry(context, async (registry) => {
          const result = await registry.rollback(options.alias, { reason: options.reason });
          context.logger.debug(result, 'alias rolled back');
          context.print(result, `${result.alias} rolled back: ${result.from} -> ${result.to}`);
        }),
      ),
    );

  models
    .command('history')
    .description('print every publish, promotion and rollback, oldest first')
    .option('-a, --alias <name>', 'only the moves of this alias')
    .option('-n, --limit <count>', 'only the last <count> events', parseCount)
    .action(
      wrap('models history', (context, options: { alias?: string; limit?: number }) =>
        withRegistry(context, async (registry) => {
          let events = await registry.history();
          if (options.alias) events = events.filter((event) => event.alias === options.alias);
          if (options.limit !== undefined) events = events.slice(-options.limit);
          context.print({ registry: registry.location, events }, () =>
            events.length === 0
              ? `No history in ${registry.location} yet.`
              : table(['TIME', 'ACTION', 'CHANGE', 'WHO', 'NOTE'], events.map(historyRow)),
          );
        }),
      ),
    );
}

/** The card in a version's bundle (checked like any bundle load); undefined for bundles older than cards. */
async function loadCard(registry: ModelRegistry, version: string): Promise<ModelCard | undefined> {
  const { bytes } = await registry.load(version);
  const { parseBundle } = await import('../../ml/bundle.js');
  return parseBundle(bytes, undefined, { source: `${registry.location} ${version}` }).metadata.card;
}

async function withRegistry(
  context: CommandContext,
  work: (registry: ModelRegistry) => Promise<void>,
): Promise<void> {
  const project = context.project();
  const registry = await openRegistry(project.config, project.dir);
  try {
    await work(registry);
  } finally {
    await registry.close();
  }
}

function historyRow(event: HistoryEvent): string[] {
  const change =
    event.action === 'publish' ? event.to : `${event.alias}: ${event.from ?? '(none)'} -> ${event.to}`;
  const note = [event.runId ? `run ${event.runId}` : '', event.reason ?? ''].filter(Boolean).join('; ');
  return [shortTime(event.time), event.action, change, event.who, note];
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count <= 0) {
    throw new InvalidArgumentError('expected a positive whole number, for example 20.');
  }
  return count;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function shortTime(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19);
}

function formatBytes(size: number): string {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  if (size < 1024 ** 3) return `${(size / 1024 ** 2).toFixed(1)} MB`;
  return `${(size / 1024 ** 3).toFixed(2)} GB`;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}

function formatMetrics(metrics: Record<string, number>, limit: number): string {
  const entries = Object.entries(metrics);
  const shown = entries.slice(0, limit).map(([name, value]) => `${name} ${formatNumber(value)}`);
  return entries.length > limit ? `${shown.join(', ')}, …` : shown.join(', ');
}
