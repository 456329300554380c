// What operators and machines read: GET /health, /ready, /metrics, /monitor.json, /model and
// /openapi.json. Without the bearer token, /model and /ready leave out what tells an attacker about
// the machine: registry locations (paths, buckets), user names and error messages that quote them.
import type { FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import type { ReloadState } from '../model.js';
import { checkBearer } from '../operations.js';
import { definePlugin } from '../plugin.js';

type LoadFailure = NonNullable<ReloadState['refused']> | NonNullable<ReloadState['retrying']>;

/** A failed load as shown: its message (which names the registry's location) only to the token holder. */
function shownFailure<T extends LoadFailure>(failure: T | undefined, full: boolean): Partial<T> | null {
  if (!failure) return null;
  if (full) return failure;
  const { message: _message, ...rest } = failure;
  return rest as Partial<T>;
}

export const operationsPlugin = definePlugin(
  (app, _options, done) => {
    const runtime = app.pipewright;
    const { models, metrics, schema, settings } = runtime;
    const openapiText = JSON.stringify(runtime.openapi);
    // A wrong token here counts against the address like one on /train: comparing the two answers
    // must not become a way round the throttle. A turned-away address gets the short answer.
    const fullDetail = (request: FastifyRequest): boolean => {
      if (request.headers.authorization === undefined || !runtime.apiToken) return false;
      if (runtime.authThrottle.retryAfterSeconds(request.ip) > 0) return false;
      const result = checkBearer(request.headers.authorization, runtime.apiToken);
      if (result !== 'ok') runtime.authThrottle.recordFailure(request.ip);
      return result === 'ok';
    };

    app.get('/openapi.json', (_request, reply) =>
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(openapiText),
    );

    app.get('/health', (_request, reply) =>
      reply.send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
    );

    app.get('/ready', (request, reply) => {
      const model = models.current;
      if (runtime.draining) return reply.code(503).send({ ready: false, reason: 'shutting down' });
      if (!model) {
        return reply.code(503).send({
          ready: false,
          reason: runtime.initialLoadDone ? 'no model could be loaded' : 'loading the model',
          ...(models.state.refused
            ? { refused: shownFailure(models.state.refused, fullDetail(request)) }
            : {}),
          ...(models.state.retrying
            ? { retrying: shownFailure(models.state.retrying, fullDetail(request)) }
            : {}),
        });
      }
      return reply.send({ ready: true, version: model.version });
    });

    app.get('/metrics', async (_request, reply) => {
      const text = await metrics.text();
      return reply.header('content-type', metrics.contentType).send(text);
    });

    app.get('/monitor.json', (_request, reply) => {
      const monitor = runtime.monitor();
      if (!monitor) throw new errors.PW_SERVE_NO_MODEL('No model is loaded yet');
      return reply.send(monitor.snapshot());
    });

    app.get('/model', (request, reply) => {
      const model = runtime.requireModel();
      const full = fullDetail(request);
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
          ...(full ? { location: runtime.registry.location } : {}),
          createdAt: model.info.createdAt,
          ...(full ? { createdBy: model.info.createdBy } : {}),
          sha256: model.info.sha256,
          size: model.info.size,
        },
        reload: {
          follows: models.follows,
          intervalMs: models.follows ? settings.reload_interval_ms : null,
          lastCheck: models.state.lastCheck ?? null,
          refused: shownFailure(models.state.refused, full),
          retrying: shownFailure(models.state.retrying, full),
        },
        schema: {
          name: schema.name,
          fingerprint: schema.fingerprint,
          task: schema.task ?? null,
          key: schema.key?.name ?? null,
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
    done();
  },
  {
    name: 'pipewright-operations',
    encapsulate: true,
    dependencies: ['pipewright-hygiene'],
    decorators: { fastify: ['pipewright'] },
  },
);
