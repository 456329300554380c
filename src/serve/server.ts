// The prediction server (Fastify): the form, the JSON and CSV prediction API, health, readiness,
// metrics, the live drift monitor, model details, the OpenAPI document and docs page, and the protected
// training endpoints. The hot path is one coercion, one Predictor call, O(features) of drift window
// bookkeeping and a small JSON reply.
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Config } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ModelRegistry } from '../registry/types.js';
import { compileCoercer, type FieldError, type TypedRecord } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import type { Collection } from '../store/types.js';
import { CsvBodyError, formatCsv, parseCsvRecords } from './csv.js';
import { renderDocsPage } from './docs.js';
import { renderFormPage, type RenderedPage } from './form.js';
import { API_POLICY } from './html.js';
import { ServeMetrics } from './metrics.js';
import { ModelHolder, resolveServedVersion, type ServedModel } from './model.js';
import { DEFAULT_MONITOR_SETTINGS, LiveMonitor, type MonitorSettings } from './monitor.js';
import { renderMonitorPage } from './monitor-page.js';
import { buildOpenApi } from './openapi.js';
import { AccessLog, checkBearer, requestIdGenerator } from './operations.js';
import { PredictionLog, type PredictionDocument } from './prediction-log.js';
import { RUN_ID_PATTERN, TrainingLauncher, type TrainingOptions } from './training.js';

export type ServeSettings = Config['serve'];

export interface ServerOptions {
  schema: Schema;
  registry: ModelRegistry;
  /** The `serve` section of pipewright.yaml, with any command-line overrides applied. */
  settings: ServeSettings;
  logger: Logger;
  /** Where sampled predictions go (serve.predictions_collection); no prediction log when absent. */
  predictions?: Pick<Collection, 'insertMany'>;
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
    pipewright: ServeState;
  }
}

const MAX_REPORTED_ERRORS = 100;
const MAX_REASON_LENGTH = 200;
const ROW_HINT =
  'Send every feature field with a value of its type and within its range; GET /docs (or /openapi.json) lists the fields.';

interface ReportedFieldError {
  field: string;
  reason: string;
  record?: number;
  line?: number;
}

/** A scored record, ready for the response and the prediction log. */
interface Scored {
  probability?: number;
  label?: string | number | boolean;
  value?: number;
  probabilities?: Record<string, number>;
  /** The label as text for metrics (`value` for regression). */
  metricLabel: string;
}

function score(model: ServedModel, record: TypedRecord): Scored {
  const predictor = model.predictor;
  if (model.task === 'binary') {
    const probability = predictor.score(record);
    const index = probability >= predictor.threshold ? 1 : 0;
    return { probability, label: model.classes[index], metricLabel: model.classNames[index] };
  }
  if (model.task === 'regression') return { value: predictor.score(record), metricLabel: 'value' };
  const prediction = predictor.predictRecord(record) as {
    label: string | number | boolean;
    probabilities: number[];
  };
  const probabilities: Record<string, number> = {};
  let best = 0;
  prediction.probabilities.forEach((probability, index) => {
    probabilities[model.classNames[index]] = probability;
    if (probability > best) best = probability;
  });
  return { label: prediction.label, probability: best, probabilities, metricLabel: String(prediction.label) };
}

function truncate(text: string, length = MAX_REASON_LENGTH): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function reportField(error: FieldError, extra: { record?: number; line?: number } = {}): ReportedFieldError {
  return { field: error.field, reason: truncate(error.reason), ...extra };
}

function describeFieldErrors(fields: ReportedFieldError[], total: number): string {
  const shown = fields.slice(0, 3).map((error) => {
    const where =
      error.line !== undefined
        ? `line ${error.line}, `
        : error.record !== undefined
          ? `record ${error.record}, `
          : '';
    return `${where}${error.field} ${error.reason}`;
  });
  const more = total > shown.length ? `; and ${total - shown.length} more` : '';
  return `Invalid input: ${shown.join('; ')}${more}`;
}

function hintOf(code: keyof typeof errors): string {
  return new errors[code]('').hint;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const { schema, settings, logger } = options;
  const metrics = new ServeMetrics({ processMetrics: options.processMetrics ?? true });
  const monitorSettings: MonitorSettings = { ...DEFAULT_MONITOR_SETTINGS, ...options.monitor };
  // The window belongs to one model: a request scored by the previous model (it keeps the model it
  // started with) is not counted against the new model's reference.
  let live: { model: ServedModel; monitor: LiveMonitor } | undefined;
  metrics.trackDrift(() => live?.monitor.snapshot());
  let firstLoaded = false;
  const models = new ModelHolder({
    registry: options.registry,
    schema,
    reference: settings.model,
    intervalMs: settings.reload_interval_ms,
    logger,
    onLoad: (model) => {
      if (firstLoaded) metrics.countReload('loaded');
      firstLoaded = true;
      live = {
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
  // No alias (or version) at all: refuse to start. A bundle that fails to load: refuse to start when
  // waiting for it, else serve unready until the alias moves to one that loads.
  const firstVersion = await resolveServedVersion(options.registry, settings.model);
  let initialLoaded = false;
  const initial = models.loadFirst(firstVersion).finally(() => {
    initialLoaded = true;
  });
  if (options.waitForModel ?? true) await initial;
  else {
    initial.catch((error) =>
      logger.error(
        { err: error, refused: firstVersion },
        `could not load ${firstVersion}: ${(error as Error).message}; not ready until ${settings.model} moves to a model that loads`,
      ),
    );
  }
  const predictionLog = new PredictionLog(options.predictions, {
    rate: settings.log_predictions,
    logger,
    onWrite: (outcome, count) => metrics.countLoggedPredictions(outcome, count),
  });
  const training =
    options.training && options.apiToken ? new TrainingLauncher({ ...options.training, logger }) : undefined;
  const accessLog = new AccessLog(logger, options.accessLogPerSecond ?? 20);
  const coerce = compileCoercer(schema, { fields: 'inputs' });
  const keyName = schema.key?.name;
  // A schema may name a field `records`; then a body is always one record.
  const batchKey = schema.fields.some((field) => field.name === 'records') ? undefined : 'records';
  const openapi = buildOpenApi(schema, {
    maxBatch: settings.max_batch,
    trainingEnabled: Boolean(options.apiToken),
  });
  const openapiText = JSON.stringify(openapi);
  const docsPage = renderDocsPage(openapi);
  let formPage: { version: string; page: RenderedPage } | undefined;
  let draining = false;
  const hints = {
    invalid: hintOf('PW_REQUEST_INVALID'),
    tooLarge: hintOf('PW_REQUEST_TOO_LARGE'),
    mediaType: hintOf('PW_MEDIA_TYPE'),
    notFound: hintOf('PW_NOT_FOUND'),
    unauthorized: hintOf('PW_UNAUTHORIZED'),
    trainDisabled: hintOf('PW_TRAIN_DISABLED'),
    trainBusy: hintOf('PW_TRAIN_BUSY'),
    noModel: hintOf('PW_SERVE_NO_MODEL'),
    runNotFound: hintOf('PW_RUN_NOT_FOUND'),
    internal: 'The server log has the details; quote the request id.',
  };

  const app = Fastify({
    logger: false,
    bodyLimit: settings.body_limit_bytes,
    requestTimeout: settings.request_timeout_ms,
    http: {
      // Node checks request deadlines on this interval (30 s by default, longer than most timeouts),
      // and only while the headers deadline is not the later one.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(settings.request_timeout_ms / 4))),
      headersTimeout: Math.min(60_000, settings.request_timeout_ms),
    },
    genReqId: requestIdGenerator(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Errors raised before routing (a URL that cannot be decoded) get the same body as every other error.
    frameworkErrors: (error, request, reply) => {
      (reply as FastifyReply).code(400).send({
        error: {
          code: 'PW_REQUEST_INVALID',
          message: `The request cannot be read: ${truncate(error.message, 120)}`,
          hint: hints.invalid,
        },
        requestId: request.id,
      });
    },
  });
  app.decorate('pipewright', { models, metrics, predictionLog, training, monitor: () => live?.monitor });

  function sendError(
    reply: FastifyReply,
    status: number,
    code: string,
    message: string,
    hint: string,
    extra: Record<string, unknown> = {},
  ): FastifyReply {
    return reply.code(status).send({ error: { code, message, hint, ...extra }, requestId: reply.request.id });
  }

  // Bodies: JSON (Fastify's parser, which refuses __proto__ and constructor keys) and CSV, nothing else.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    app.getDefaultJsonParser('error', 'error'),
  );
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );

  const corsOrigins = new Set(settings.cors_origins);
  const corsAll = corsOrigins.has('*');
  if (corsOrigins.size > 0) {
    app.addHook('onRequest', (request, reply, done) => {
      const origin = request.headers.origin;
      if (origin && (corsAll || corsOrigins.has(origin))) {
        reply.header('access-control-allow-origin', corsAll ? '*' : origin);
        reply.header('access-control-expose-headers', 'x-request-id');
        if (!corsAll) reply.header('vary', 'Origin');
      }
      done();
    });
    app.options('/*', (request, reply) => {
      if (reply.hasHeader('access-control-allow-origin')) {
        reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
        reply.header('access-control-allow-headers', 'content-type, authorization, x-request-id');
        reply.header('access-control-max-age', '600');
      }
      return reply.code(204).send();
    });
  }

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cross-origin-opener-policy', 'same-origin');
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_POLICY);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    done(null, payload);
  });

  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? '(unmatched)';
    const status = reply.statusCode;
    const ms = reply.elapsedTime;
    metrics.observeRequest(route, request.method, status, ms / 1000);
    accessLog.record({
      requestId: request.id,
      method: request.method,
      url: request.url,
      route,
      status,
      ms,
      ip: request.ip,
    });
    done();
  });

  app.setNotFoundHandler((request, reply) => {
    sendError(
      reply,
      404,
      'PW_NOT_FOUND',
      `No endpoint ${request.method} ${truncate(request.url.split('?')[0], 100)}`,
      hints.notFound,
    );
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    if (status >= 500) {
      logger.error(
        { err: error, requestId: request.id, url: request.url },
        `request ${request.id} failed: ${error.message}`,
      );
      return sendError(
        reply,
        500,
        'PW_INTERNAL',
        `The server could not handle request ${request.id}`,
        hints.internal,
      );
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(
          reply,
          413,
          'PW_REQUEST_TOO_LARGE',
          `The body is larger than the limit of ${settings.body_limit_bytes} bytes`,
          hints.tooLarge,
        );
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(
          reply,
          415,
          'PW_MEDIA_TYPE',
          `Content-Type ${truncate(String(request.headers['content-type'] ?? '(none)'), 80)} is not accepted`,
          hints.mediaType,
        );
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'PW_REQUEST_INVALID', 'The body is empty', hints.invalid);
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(
          reply,
          400,
          'PW_REQUEST_INVALID',
          `The body is not valid JSON: ${truncate(error.message)}`,
          hints.invalid,
        );
      default:
        if (error instanceof SyntaxError) {
          return sendError(
            reply,
            400,
            'PW_REQUEST_INVALID',
            `The body is not valid JSON: ${truncate(error.message)}`,
            hints.invalid,
          );
        }
        return sendError(reply, status, 'PW_REQUEST_INVALID', truncate(error.message), hints.invalid);
    }
  });

  function rowInvalid(reply: FastifyReply, fields: ReportedFieldError[], total: number): FastifyReply {
    const message = describeFieldErrors(fields, total);
    const extra: Record<string, unknown> = { fields };
    if (total > fields.length) extra.omitted = total - fields.length;
    return sendError(reply, 400, 'PW_ROW_INVALID', message, ROW_HINT, extra);
  }

  function logPrediction(model: ServedModel, requestId: string, input: TypedRecord, scored: Scored): void {
    const document: PredictionDocument = {
      time: new Date().toISOString(),
      version: model.version,
      requestId,
      input,
    };
    if (scored.probability !== undefined) document.probability = scored.probability;
    if (scored.label !== undefined) document.label = scored.label;
    if (scored.value !== undefined) document.value = scored.value;
    predictionLog.add(document);
  }

  /** Adds a scored record to the drift window of the model that scored it. */
  function observe(model: ServedModel, record: TypedRecord, scored: Scored): void {
    const current = live;
    if (current === undefined || current.model !== model) return;
    current.monitor.observe(
      record,
      (model.task === 'regression' ? scored.value : scored.probability) ?? Number.NaN,
    );
  }

  function predictOne(
    model: ServedModel,
    body: Record<string, unknown>,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    const result = coerce(body);
    if (!result.ok) {
      const fields = result.errors.slice(0, MAX_REPORTED_ERRORS).map((error) => reportField(error));
      return rowInvalid(reply, fields, result.errors.length);
    }
    const scored = score(model, result.record);
    metrics.countPredictions(scored.metricLabel, model.version);
    observe(model, result.record, scored);
    if (predictionLog.sample()) logPrediction(model, request.id, result.record, scored);
    if (model.task === 'binary') {
      return reply.send({
        probability: scored.probability,
        label: scored.label,
        version: model.version,
        requestId: request.id,
      });
    }
    if (model.task === 'regression')
      return reply.send({ value: scored.value, version: model.version, requestId: request.id });
    return reply.send({
      label: scored.label,
      probability: scored.probability,
      probabilities: scored.probabilities,
      version: model.version,
      requestId: request.id,
    });
  }

  /** Coerces every record first, so a batch is scored whole or refused whole. */
  function coerceAll(
    records: unknown[],
    lines?: number[],
  ): { typed: TypedRecord[] } | { fields: ReportedFieldError[]; total: number } {
    const typed: TypedRecord[] = new Array(records.length);
    const fields: ReportedFieldError[] = [];
    let total = 0;
    for (let index = 0; index < records.length; index++) {
      const raw = records[index];
      const where = lines ? { line: lines[index] } : { record: index };
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        total++;
        if (fields.length < MAX_REPORTED_ERRORS)
          fields.push({ field: '(record)', reason: 'is not an object of field values', ...where });
        continue;
      }
      const result = coerce(raw as Record<string, unknown>);
      if (result.ok) typed[index] = result.record;
      else {
        total += result.errors.length;
        for (const error of result.errors) {
          if (fields.length >= MAX_REPORTED_ERRORS) break;
          fields.push(reportField(error, where));
        }
      }
    }
    return total > 0 ? { fields, total } : { typed };
  }

  function scoreAll(model: ServedModel, typed: TypedRecord[], requestId: string): Scored[] {
    const results: Scored[] = new Array(typed.length);
    const counts = new Map<string, number>();
    for (let index = 0; index < typed.length; index++) {
      const scored = score(model, typed[index]);
      results[index] = scored;
      observe(model, typed[index], scored);
      counts.set(scored.metricLabel, (counts.get(scored.metricLabel) ?? 0) + 1);
      if (predictionLog.sample()) logPrediction(model, requestId, typed[index], scored);
    }
    for (const [label, count] of counts) metrics.countPredictions(label, model.version, count);
    return results;
  }

  function tooMany(reply: FastifyReply, count: number): FastifyReply {
    return sendError(
      reply,
      413,
      'PW_REQUEST_TOO_LARGE',
      `${count} records is more than the limit of ${settings.max_batch} a request`,
      hints.tooLarge,
      {
        limit: settings.max_batch,
      },
    );
  }

  function predictBatch(
    model: ServedModel,
    records: unknown[],
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    if (records.length > settings.max_batch) return tooMany(reply, records.length);
    const coerced = coerceAll(records);
    if ('fields' in coerced) return rowInvalid(reply, coerced.fields, coerced.total);
    const predictions = scoreAll(model, coerced.typed, request.id).map((scored) => {
      if (model.task === 'binary') return { probability: scored.probability, label: scored.label };
      if (model.task === 'regression') return { value: scored.value };
      return { label: scored.label, probability: scored.probability, probabilities: scored.probabilities };
    });
    return reply.send({ predictions, version: model.version, requestId: request.id });
  }

  function predictCsv(
    model: ServedModel,
    text: string,
    request: FastifyRequest,
    reply: FastifyReply,
  ): FastifyReply {
    let parsed;
    try {
      parsed = parseCsvRecords(text);
    } catch (error) {
      if (error instanceof CsvBodyError) {
        return sendError(
          reply,
          400,
          'PW_REQUEST_INVALID',
          error.message,
          'Send a CSV file with a header row naming the fields, one record a line.',
          {
            ...(error.line !== undefined ? { line: error.line } : {}),
          },
        );
      }
      throw error;
    }
    if (parsed.records.length > settings.max_batch) return tooMany(reply, parsed.records.length);
    const columns = new Set(parsed.columns);
    if (parsed.records.length > 0) {
      const absent = schema.features.filter((field) => !field.nullable && !columns.has(field.name));
      if (absent.length > 0) {
        const fields = absent.map((field) => ({
          field: field.name,
          reason: 'is not a column of the CSV header',
          line: 1,
        }));
        return rowInvalid(reply, fields, fields.length);
      }
    }
    const coerced = coerceAll(parsed.records, parsed.lines);
    if ('fields' in coerced) return rowInvalid(reply, coerced.fields, coerced.total);
    const scored = scoreAll(model, coerced.typed, request.id);
    const withKey = keyName !== undefined && columns.has(keyName);
    const outputs =
      model.task === 'regression'
        ? ['value']
        : model.task === 'binary'
          ? ['probability', 'label']
          : ['label', 'probability'];
    const header = withKey ? [keyName!, ...outputs] : outputs;
    const rows = scored.map((result, index) => {
      const values: unknown[] =
        model.task === 'regression'
          ? [result.value]
          : model.task === 'binary'
            ? [result.probability, result.label]
            : [result.label, result.probability];
      return withKey ? [parsed.records[index][keyName!], ...values] : values;
    });
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('x-model-version', model.version);
    return reply.send(formatCsv(header, rows));
  }

  app.post('/predict', (request, reply) => {
    const model = models.current;
    if (!model) return sendError(reply, 503, 'PW_SERVE_NO_MODEL', 'No model is loaded yet', hints.noModel);
    const body = request.body;
    if (typeof body === 'string') return predictCsv(model, body, request, reply);
    if (body === undefined || body === null)
      return sendError(reply, 400, 'PW_REQUEST_INVALID', 'The body is empty', hints.invalid);
    if (typeof body !== 'object')
      return sendError(
        reply,
        400,
        'PW_REQUEST_INVALID',
        `The body is a JSON ${typeof body}, not an object`,
        hints.invalid,
      );
    if (Array.isArray(body)) {
      return sendError(
        reply,
        400,
        'PW_REQUEST_INVALID',
        'The body is a JSON array; send several records as {"records": [...]}',
        hints.invalid,
      );
    }
    if (batchKey !== undefined && Object.prototype.hasOwnProperty.call(body, batchKey)) {
      const records = (body as Record<string, unknown>)[batchKey];
      if (!Array.isArray(records)) {
        return sendError(
          reply,
          400,
          'PW_REQUEST_INVALID',
          '"records" must be an array of records',
          hints.invalid,
        );
      }
      return predictBatch(model, records, request, reply);
    }
    return predictOne(model, body as Record<string, unknown>, request, reply);
  });

  app.get('/', (_request, reply) => {
    const model = models.current;
    if (!model) return sendError(reply, 503, 'PW_SERVE_NO_MODEL', 'No model is loaded yet', hints.noModel);
    if (!formPage || formPage.version !== model.version) {
      formPage = {
        version: model.version,
        page: renderFormPage(schema, {
          version: model.version,
          task: model.task,
          classes: model.classes,
          ...(model.task === 'binary' ? { threshold: model.predictor.threshold } : {}),
        }),
      };
    }
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', formPage.page.policy)
      .header('cache-control', 'no-cache')
      .send(formPage.page.html);
  });

  app.get('/docs', (_request, reply) =>
    reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', docsPage.policy)
      .header('cache-control', 'no-cache')
      .send(docsPage.html),
  );

  app.get('/openapi.json', (_request, reply) =>
    reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(openapiText),
  );

  app.get('/favicon.ico', (_request, reply) =>
    reply.code(204).header('cache-control', 'max-age=86400').send(),
  );

  app.get('/health', (_request, reply) =>
    reply.send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
  );

  app.get('/ready', (_request, reply) => {
    const model = models.current;
    if (draining) return reply.code(503).send({ ready: false, reason: 'shutting down' });
    if (!model) {
      return reply.code(503).send({
        ready: false,
        reason: initialLoaded ? 'no model could be loaded' : 'loading the model',
        ...(models.state.refused ? { refused: models.state.refused } : {}),
      });
    }
    return reply.send({ ready: true, version: model.version });
  });

  app.get('/metrics', async (_request, reply) => {
    const text = await metrics.text();
    return reply.header('content-type', metrics.contentType).send(text);
  });

  app.get('/monitor.json', (_request, reply) => {
    const current = live;
    if (!current) return sendError(reply, 503, 'PW_SERVE_NO_MODEL', 'No model is loaded yet', hints.noModel);
    return reply.send(current.monitor.snapshot());
  });

  app.get('/monitor', (_request, reply) => {
    const current = live;
    if (!current) return sendError(reply, 503, 'PW_SERVE_NO_MODEL', 'No model is loaded yet', hints.noModel);
    const page = renderMonitorPage(schema, current.monitor.snapshot());
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('content-security-policy', page.policy)
      .header('cache-control', 'no-cache')
      .send(page.html);
  });

  app.get('/model', (_request, reply) => {
    const model = models.current;
    if (!model) return sendError(reply, 503, 'PW_SERVE_NO_MODEL', 'No model is loaded yet', hints.noModel);
    const bundle = model.predictor.bundle;
    return reply.send({
      version: model.version,
      reference: model.reference,
      loadedAt: model.loadedAt,
      task: model.task,
      classes: model.classes,
      threshold: model.task === 'binary' ? model.predictor.threshold : null,
      modelType: bundle.model.kind,
      params: bundle.metadata.params,
      metrics: bundle.metadata.metrics,
      trainedAt: bundle.metadata.createdAt,
      runId: bundle.metadata.runId,
      dataHash: bundle.metadata.dataHash,
      codeVersion: bundle.metadata.codeVersion,
      registry: {
        location: options.registry.location,
        createdAt: model.info.createdAt,
        createdBy: model.info.createdBy,
        sha256: model.info.sha256,
        size: model.info.size,
      },
      reload: {
        follows: models.follows,
        intervalMs: models.follows ? settings.reload_interval_ms : null,
        lastCheck: models.state.lastCheck ?? null,
        refused: models.state.refused ?? null,
      },
      schema: {
        name: schema.name,
        fingerprint: schema.fingerprint,
        task: schema.task ?? null,
        key: keyName ?? null,
        target: schema.target?.name ?? null,
        features: schema.features.map((field) => ({
          name: field.name,
          type: field.type,
          nullable: field.nullable,
          ...(field.min !== undefined ? { min: field.min } : {}),
          ...(field.max !== undefined ? { max: field.max } : {}),
          ...(field.values !== undefined ? { values: field.values } : {}),
          ...(field.description !== undefined ? { description: field.description } : {}),
        })),
      },
    });
  });

  /** Checked before the body is read, so an unauthenticated caller cannot make the server parse anything. */
  const requireToken = (
    request: FastifyRequest,
    reply: FastifyReply,
    done: (error?: Error) => void,
  ): void => {
    const result = checkBearer(request.headers.authorization, options.apiToken);
    if (result === 'ok' && training) return done();
    if (result === 'disabled' || !training) {
      sendError(
        reply,
        404,
        'PW_TRAIN_DISABLED',
        'Training over HTTP is disabled on this server',
        hints.trainDisabled,
      );
      return;
    }
    reply.header('www-authenticate', 'Bearer realm="pipewright"');
    sendError(
      reply,
      401,
      'PW_UNAUTHORIZED',
      result === 'missing' ? 'This endpoint needs a bearer token' : 'The bearer token is not valid',
      hints.unauthorized,
    );
  };

  app.post('/train', { onRequest: requireToken }, (_request, reply) => {
    const running = training!.running();
    if (running) {
      return sendError(
        reply,
        409,
        'PW_TRAIN_BUSY',
        `Pipeline run ${running} is still going`,
        hints.trainBusy,
        { runId: running, statusUrl: `/runs/${running}` },
      );
    }
    const started = training!.start();
    return reply
      .code(202)
      .header('location', `/runs/${started.runId}`)
      .send({
        runId: started.runId,
        status: 'started',
        statusUrl: `/runs/${started.runId}`,
        requestId: reply.request.id,
      });
  });

  app.get<{ Params: { id: string } }>('/runs/:id', { onRequest: requireToken }, (request, reply) => {
    const id = request.params.id;
    if (!RUN_ID_PATTERN.test(id)) {
      return sendError(
        reply,
        400,
        'PW_REQUEST_INVALID',
        `"${truncate(id, 40)}" is not a run id`,
        'A run id looks like 20260101-120000-3fa9c1, as POST /train returns it.',
      );
    }
    const status = training!.status(id);
    if (!status) return sendError(reply, 404, 'PW_RUN_NOT_FOUND', `No run ${id}`, hints.runNotFound);
    return reply.send(status);
  });

  app.addHook('onReady', (done) => {
    models.start();
    done();
  });
  app.addHook('preClose', (done) => {
    draining = true;
    done();
  });
  app.addHook('onClose', async () => {
    await models.stop();
    await predictionLog.close();
  });

  return app;
}
