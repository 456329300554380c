// `pipewright serve`: serves the model an alias points at (the web form, the JSON and CSV API, health,
// readiness, metrics, docs), follows the alias as it moves, and stops gracefully on SIGTERM.
import { InvalidArgumentError, type Command } from 'commander';
import { usableCores } from '../../core/cores.js';
import { errors } from '../../core/errors.js';
import { isWorker } from '../../serve/cluster.js';
import type { CommandContext } from '../context.js';
import type { Wrap } from '../wrap.js';

interface ServeOptions {
  port?: number;
  host?: string;
  model?: string;
  workers?: number;
}

/** The fewest characters PIPEWRIGHT_API_TOKEN may have: it guards training on the serving machine. */
const MIN_TOKEN_LENGTH = 32;

/** Refuses to start with a token short enough to guess (PW_CONFIG_WEAK_TOKEN); unset means training is off. */
function refuseWeakToken(token: string | undefined): void {
  if (!token || token.length >= MIN_TOKEN_LENGTH) return;
  throw new errors.PW_CONFIG_WEAK_TOKEN(
    `PIPEWRIGHT_API_TOKEN has ${token.length} characters; at least ${MIN_TOKEN_LENGTH} are needed`,
  );
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535 (0 picks a free one)');
  }
  return port;
}

function parseWorkers(value: string): number {
  if (value.trim() === 'auto') return usableCores();
  const workers = Number(value);
  if (!/^\d+$/.test(value.trim()) || workers < 1 || workers > 256) {
    throw new InvalidArgumentError('workers is a whole number from 1 to 256, or auto (one per core)');
  }
  return workers;
}

function summary(
  url: string,
  version: string | undefined,
  reference: string,
  reloadMs: number,
  training: boolean,
  workers: number,
): string {
  return [
    `serving ${version ?? reference} (${reference}) at ${url}${workers > 1 ? ` with ${workers} worker processes` : ''}`,
    `  form     ${url}/`,
    `  API      POST ${url}/predict   docs ${url}/docs`,
    `  health   ${url}/health   ready ${url}/ready   metrics ${url}/metrics${workers > 1 ? ' (per worker)' : ''}`,
    `  drift    ${url}/monitor   ${url}/monitor.json${workers > 1 ? ' (per worker)' : ''}`,
    `  training ${training ? `POST ${url}/train (bearer token)` : 'off (set PIPEWRIGHT_API_TOKEN to enable POST /train)'}`,
    /^v\d+$/.test(reference) ? '' : `  follows alias ${reference}, checked every ${reloadMs} ms`,
    '  Ctrl-C or SIGTERM stops it after the requests in flight.',
  ]
    .filter(Boolean)
    .join('\n');
}

/** With several workers: check there is a model to serve, then supervise the worker processes. */
async function servePrimary(
  context: CommandContext,
  options: ServeOptions,
  workers: number,
): Promise<number> {
  const project = context.project();
  refuseWeakToken(process.env.PIPEWRIGHT_API_TOKEN);
  const settings = {
    ...project.config.serve,
    ...(options.host ? { host: options.host } : {}),
    ...(options.model ? { model: options.model } : {}),
  };
  const [{ openRegistry }, { resolveServedVersion }, { runPrimary }] = await Promise.all([
    import('../../registry/index.js'),
    import('../../serve/model.js'),
    import('../../serve/cluster.js'),
  ]);
  const registry = await openRegistry(project.config, project.dir);
  let version: string;
  try {
    version = await resolveServedVersion(registry, settings.model);
  } finally {
    await registry.close();
  }
  return runPrimary({
    workers,
    logger: context.logger,
    onListening: (port) => {
      const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
      const url = `http://${host}:${port}`;
      context.logger.info({ url, workers, version }, `serving ${version} at ${url} with ${workers} workers`);
      context.print(
        { url, version, model: settings.model, pid: process.pid, workers },
        summary(
          url,
          version,
          settings.model,
          settings.reload_interval_ms,
          Boolean(process.env.PIPEWRIGHT_API_TOKEN),
          workers,
        ),
      );
    },
  });
}

export async function serveCommand(context: CommandContext, options: ServeOptions): Promise<number> {
  const workers = options.workers ?? 1;
  if (workers > 1 && !isWorker()) return servePrimary(context, options, workers);
  const project = context.project();
  refuseWeakToken(process.env.PIPEWRIGHT_API_TOKEN);
  const [{ followPrimary }, { startServer }] = await Promise.all([
    import('../../serve/cluster.js'),
    import('../../serve/index.js'),
  ]);
  const primary = isWorker() ? followPrimary() : undefined;
  let server;
  try {
    server = await startServer({
      project,
      logger: context.logger,
      overrides: { host: options.host, port: options.port, model: options.model },
    });
  } catch (error) {
    primary?.release();
    throw error;
  }
  const model = server.app.pipewright.models.current;
  const { settings } = server;
  if (primary) {
    const running = server;
    primary.onShutdown(() => running.close('asked by the primary'));
    context.logger.info(
      { url: server.url, version: model?.version, pid: process.pid },
      `worker ${process.pid} serving ${model?.version} at ${server.url}`,
    );
    await server.closed;
    primary.release();
    return 0;
  }
  context.logger.info(
    {
      url: server.url,
      version: model?.version,
      reference: settings.model,
      training: Boolean(server.app.pipewright.training),
    },
    `serving ${model?.version ?? 'no model'} (${settings.model}) at ${server.url}`,
  );
  context.print(
    { url: server.url, version: model?.version ?? null, model: settings.model, pid: process.pid },
    summary(
      server.url,
      model?.version,
      settings.model,
      settings.reload_interval_ms,
      Boolean(server.app.pipewright.training),
      1,
    ),
  );
  await server.closed;
  return 0;
}

export function register(program: Command, wrap: Wrap): void {
  program
    .command('serve')
    .description('serve the model: web form, JSON and CSV API, health, metrics; reloads when the alias moves')
    .option('-p, --port <port>', 'port to listen on (default: serve.port, 8080)', parsePort)
    .option(
      '--host <host>',
      'address to listen on (default: serve.host, 127.0.0.1; use 0.0.0.0 in containers)',
    )
    .option('-m, --model <alias|version>', 'the alias or version to serve (default: serve.model, production)')
    .option(
      '-w, --workers <n>',
      'serving processes sharing the port: a number, or auto for one per core (default 1)',
      parseWorkers,
    )
    .action(wrap('serve', (context, options: ServeOptions) => serveCommand(context, options)));
}
