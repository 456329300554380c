// The state one server's plugins share through the `pipewright` decorator: the model being served and
// the drift window that belongs to it, metrics, the prediction log, the training launcher, the OpenAPI
// document and whether the server is ready.
import type { Config } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../registry/types.js';
import type { TypedRecord } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import { AuthThrottle } from './auth-throttle.js';
import { ServeMetrics } from './metrics.js';
import { ModelHolder, resolveServedVersion, type ServedModel } from './model.js';
import { DEFAULT_MONITOR_SETTINGS, LiveMonitor, type MonitorSettings } from './monitor.js';
import { buildOpenApi } from './openapi.js';
import { PredictionLog, type PredictionSink } from './prediction-log.js';
import { TrainingLauncher, type TrainingOptions } from './training.js';
import type { UnseenValue } from '../ml/unseen.js';

export type ServeSettings = Config['serve'];

export interface ServerOptions {
  schema: Schema;
  registry: ModelRegistry;
  /** The `serve` section of pipewright.yaml, with any command-line overrides applied. */
  settings: ServeSettings;
  logger: Logger;
  /** Where sampled predictions go (serve.predictions_collection); no prediction log when absent. */
  predictions?: PredictionSink;
  /** The live drift window and its thresholds (monitor.* and validation.drift.*); defaults otherwise. */
  monitor?: Partial<MonitorSettings>;
  /** PIPEWRIGHT_API_TOKEN: enables POST /train and GET /runs/:id when set. */
  apiToken?: string;
  /** How to start pipeline runs (the project's config and folders); POST /train needs it. */
  training?: Omit<TrainingOptions, 'logger'>;
  /** Wait for the first model before returning (default true); otherwise /ready says false until it loads. */
  waitForModel?: boolean;
  /** Access log lines per second before sampling starts (default 20). */
  accessLogPerSecond?: number;
  /** Collect process metrics (CPU, memory, event loop) on /metrics (default true). */
  processMetrics?: boolean;
}

/** What the CLI and tests can reach on the instance. */
export interface ServeState {
  models: ModelHolder;
  metrics: ServeMetrics;
  predictionLog: PredictionLog;
  training: TrainingLauncher | undefined;
  /** The drift window of the model being served; undefined until a model is loaded. */
  monitor(): LiveMonitor | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    pipewright: ServeRuntime;
  }
}

export class ServeRuntime implements ServeState {
  readonly schema: Schema;
  readonly settings: ServeSettings;
  readonly logger: Logger;
  readonly registry: ModelRegistry;
  readonly apiToken: string | undefined;
  /** Failed token checks per client address, shared by every endpoint that reads the token. */
  readonly authThrottle = new AuthThrottle();
  readonly metrics: ServeMetrics;
  readonly models: ModelHolder;
  readonly predictionLog: PredictionLog;
  readonly training: TrainingLauncher | undefined;
  readonly openapi: Record<string, any>;
  /** Set when the server starts closing: /ready turns false so load balancers stop sending. */
  draining = false;
  /** When shutdown must be over (ms since the epoch; serve.shutdown_timeout_ms after it began). */
  shutdownDeadline: number | undefined;
  /** Whether the first load has finished, loaded or not. */
  initialLoadDone = false;
  // The window belongs to one model: a request scored by the previous model (it keeps the model it
  // started with) is not counted against the new model's reference.
  private live: { model: ServedModel; monitor: LiveMonitor } | undefined;

  private constructor(options: ServerOptions) {
    const { schema, settings, logger } = options;
    this.schema = schema;
    this.settings = settings;
    this.logger = logger;
    this.registry = options.registry;
    this.apiToken = options.apiToken;
    const metrics = new ServeMetrics({ processMetrics: options.processMetrics ?? true });
    this.metrics = metrics;
    metrics.trackDrift(() => this.live?.monitor.snapshot());
    const monitorSettings: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, ...options.monitor };
    let firstLoaded = false;
    this.models = new ModelHolder({
      registry: options.registry,
      schema,
      reference: settings.model,
      intervalMs: settings.reload_interval_ms,
      logger,
      onLoad: (model) => {
        if (firstLoaded) metrics.countReload('loaded');
        firstLoaded = true;
        this.live = {
          model,
          monitor: new LiveMonitor(
            model.version,
            schema,
            model.predictor.bundle.metadata.referenceStats,
            monitorSettings,
            // Multiclass bundles keep every class's probability as the reference; requests score one label.
            { trackPredictions: model.task !== 'multiclass' },
          ),
        };
        metrics.setModel({
          version: model.version,
          alias: model.reference,
          model_type: model.predictor.model.kind,
          schema_fingerprint: schema.fingerprint,
        });
      },
      onRefuse: () => metrics.countReload('refused'),
    });
    const bounds = settings.prediction_log;
    this.predictionLog = new PredictionLog(options.predictions, {
      rate: settings.log_predictions,
      maxPending: bounds.max_pending,
      writeTimeoutMs: bounds.write_timeout_ms,
      logger,
      onWrite: (outcome, count, reason) => metrics.countLoggedPredictions(outcome, count, reason),
    });
    metrics.trackPredictionLog(() => this.predictionLog.pending);
    this.training =
      options.training && options.apiToken
        ? new TrainingLauncher({ ...options.training, logger })
        : undefined;
    this.openapi = buildOpenApi(schema, {
      maxBatch: settings.max_batch,
      trainingEnabled: Boolean(options.apiToken),
    });
  }

  /**
   * No alias (or version) at all: refuse to start. A bundle that fails to load: refuse to start when
   * waiting for it, else serve unready until the alias moves to one that loads.
   */
  static async start(options: ServerOptions): Promise<ServeRuntime> {
    const firstVersion = await resolveServedVersion(options.registry, options.settings.model);
    const runtime = new ServeRuntime(options);
    const initial = runtime.models.loadFirst(firstVersion).finally(() => {
      runtime.initialLoadDone = true;
    });
    if (options.waitForModel ?? true) {
      try {
        await initial;
      } catch (error) {
        await runtime.predictionLog.close();
        throw error;
      }
    } else {
      initial.catch((error) =>
        options.logger.error(
          { err: error, refused: firstVersion },
          `could not load ${firstVersion}: ${(error as Error).message}; not ready until a model loads`,
        ),
      );
    }
    return runtime;
  }

  /** The model a request is scored with, or PW_SERVE_NO_MODEL while none is loaded. */
  requireModel(): ServedModel {
    const model = this.models.current;
    if (!model) throw new errors.PW_SERVE_NO_MODEL('No model is loaded yet');
    return model;
  }

  monitor(): LiveMonitor | undefined {
    return this.live?.monitor;
  }

  /** Counts a scored record's values unseen in training: in /metrics, and on the model's /monitor. */
  countUnseen(model: ServedModel, flags: readonly UnseenValue[]): void {
    for (const flag of flags) this.metrics.countUnseen(flag.field, flag.reason);
    const current = this.live;
    if (current !== undefined && current.model === model) current.monitor.countUnseen(flags);
  }

  /** Adds a scored record to the drift window of the model that scored it. */
  observe(model: ServedModel, record: TypedRecord, score: number): void {
    const current = this.live;
    if (current === undefined || current.model !== model) return;
    current.monitor.observe(record, score);
  }
}
