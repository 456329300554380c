// Starts `pipewright serve` for a project: opens the registry and the prediction log's store, builds
// the server, listens, and shuts down gracefully on SIGTERM or SIGINT (stop accepting, finish the
// requests in flight, write the queued predictions, close the store), within serve.shutdown_timeout_ms.
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { openRegistry } from '../registry/index.js';
import type { ModelRegistry } from '../registry/types.js';
import type { Schema } from '../schema/schema.js';
import { embeddedStorePath, openStore } from '../store/index.js';
import type { MongoStore } from '../store/mongodb.js';
import type { Collection, Document } from '../store/types.js';
import type { PredictionSink } from './prediction-log.js';
import { PredictionWriter, writerAvailable } from './prediction-writer.js';
import { buildServer, type ServeSettings } from './server.js';

export { type ServeSettings } from './server.js';

export interface ServeProject {
  config: Config;
  /** The project folder. */
  dir: string;
  /** pipewright.yaml, handed to pipeline runs started by POST /train. */
  file: string;
  schema: Schema;
}

export interface StartOptions {
  project: ServeProject;
  logger: Logger;
  /** Command-line settings that win over pipewright.yaml. */
  overrides?: Partial<Pick<ServeSettings, 'host' | 'port' | 'model'>>;
  env?: NodeJS.ProcessEnv;
  /** Handle SIGTERM and SIGINT (default true). */
  handleSignals?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  settings: ServeSettings;
  /** Resolves when the server has shut down and released everything. */
  closed: Promise<void>;
  close(reason?: string): Promise<void>;
}

/** How long after serve.shutdown_timeout_ms a signalled process exits even if something still holds it. */
const BACKSTOP_GRACE_MS = 1500;

/** The Date field MongoDB's TTL index reads (`time` is text, which a TTL index ignores). */
export const LOGGED_AT_FIELD = 'loggedAt';

/** On MongoDB, stamps each batch with the Date its TTL index expires it by. */
function stampedForExpiry(collection: Collection): PredictionSink {
  return {
    insertMany(documents: Document[]) {
      const now = new Date();
      for (const document of documents) document[LOGGED_AT_FIELD] = now;
      return collection.insertMany(documents);
    },
  };
}

/**
 * Where logged predictions go. The embedded store is written from a worker thread that owns its
 * connection (and deletes what is past retention every hour); MongoDB's driver already does its I/O
 * off the request thread, and a TTL index does its retention.
 */
async function openPredictionLog(
  config: Config,
  dir: string,
  settings: ServeSettings,
  env: NodeJS.ProcessEnv,
  logger: Logger,
): Promise<{ store?: { close(): Promise<void> }; collection?: PredictionSink }> {
  if (settings.log_predictions <= 0) return {};
  const { retention_days: retentionDays } = settings.prediction_log;
  let store: { close(): Promise<void> } | undefined;
  try {
    if (!env.MONGODB_URL && writerAvailable()) {
      const writer = await PredictionWriter.start(
        embeddedStorePath(config, dir),
        settings.predictions_collection,
        { retentionDays },
      );
      return { store: writer, collection: writer };
    }
    const opened = await openStore(config, dir, env);
    store = opened;
    const collection: Collection = opened.collection(settings.predictions_collection);
    await collection.createIndex('time');
    if (opened.kind !== 'mongodb') return { store, collection };
    try {
      await (opened as MongoStore).expireAfter(
        settings.predictions_collection,
        LOGGED_AT_FIELD,
        retentionDays > 0 ? retentionDays * 86_400 : undefined,
      );
    } catch (error) {
      logger.warn(
        { err: error },
        `logged predictions will not expire: the TTL index could not be set (${(error as Error).message})`,
      );
    }
    return { store, collection: stampedForExpiry(collection) };
  } catch (error) {
    // Serving matters more than its log: run without it and say so.
    logger.warn(
      { err: error },
      `predictions will not be logged: the store could not be opened (${(error as Error).message})`,
    );
    await store?.close().catch(() => undefined);
    return {};
  }
}

export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { project, logger } = options;
  const env = options.env ?? process.env;
  const settings: ServeSettings = { ...project.config.serve };
  for (const [name, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) (settings as Record<string, unknown>)[name] = value;
  }
  const registry: ModelRegistry = await openRegistry(project.config, project.dir);
  const { store, collection } = await openPredictionLog(project.config, project.dir, settings, env, logger);
  const release = async () => {
    await store?.close().catch((error) => logger.warn({ err: error }, 'could not close the store'));
    await registry.close().catch((error) => logger.warn({ err: error }, 'could not close the registry'));
  };
  let app: FastifyInstance;
  try {
    app = await buildServer({
      schema: project.schema,
      registry,
      settings,
      logger,
      ...(collection ? { predictions: collection } : {}),
      monitor: {
        window: project.config.monitor.window,
        minCount: project.config.monitor.min_count,
        psiThreshold: project.config.validation.drift.psi_threshold,
        ksThreshold: project.config.validation.drift.ks_threshold,
        explainTimeShare: project.config.monitor.explain_time_share,
      },
      ...(env.PIPEWRIGHT_API_TOKEN ? { apiToken: env.PIPEWRIGHT_API_TOKEN } : {}),
      training: {
        configFile: project.file,
        projectDir: project.dir,
        artifactsRoot: resolve(project.dir, project.config.artifacts.path),
        logDir: resolve(project.dir, project.config.logging.dir),
        env,
      },
    });
    await app.listen({ host: settings.host, port: settings.port });
  } catch (error) {
    await release();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new errors.PW_USAGE(`Port ${settings.port} on ${settings.host} is already in use`, {
        hint: 'Stop the other server, or pass --port <another port> (or set serve.port in pipewright.yaml).',
        cause: error,
      });
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  const shownHost = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  const url = `http://${shownHost}:${port}`;

  let resolveClosed!: () => void;
  const closed = new Promise<void>((done) => (resolveClosed = done));
  let closing: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (closing) {
      // A second signal: stop waiting for slow clients.
      logger.warn(`${signal} again: closing open connections now`);
      app.server.closeAllConnections();
      return;
    }
    void close(signal);
    // The budget covers the server's own steps; should anything else hold the process (a socket a
    // library left open), it still ends before an orchestrator's kill, with the same code as a clean exit.
    const backstop = setTimeout(() => {
      logger.warn(
        { shutdownTimeoutMs: settings.shutdown_timeout_ms },
        'shutdown took longer than serve.shutdown_timeout_ms: exiting now',
      );
      process.exit(0);
    }, settings.shutdown_timeout_ms + BACKSTOP_GRACE_MS);
    backstop.unref();
  };
  const close = (reason = 'close'): Promise<void> => {
    closing ??= (async () => {
      const budget = settings.shutdown_timeout_ms;
      app.pipewright.shutdownDeadline = Date.now() + budget;
      logger.info(
        { reason, shutdownTimeoutMs: budget },
        `shutting down (${reason}): finishing the requests in flight and the prediction log (at most ${budget} ms)`,
      );
      // Requests in flight get the request timeout to finish, within the shutdown budget; then their
      // connections are cut.
      const force = setTimeout(
        () => app.server.closeAllConnections(),
        Math.min(settings.request_timeout_ms + 1000, budget),
      );
      force.unref();
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        await release();
        if (options.handleSignals ?? true) {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
        }
        logger.info('server stopped');
        resolveClosed();
      }
    })();
    return closing;
  };
  if (options.handleSignals ?? true) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  return { app, url, settings, closed, close };
}
