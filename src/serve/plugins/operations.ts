// What operators and machines read: GET /health, /ready, /metrics, /monitor.json, /model and
// /openapi.json.
import { errors } from '../../core/errors.js';
import { definePlugin } from '../plugin.js';

export const operationsPlugin = definePlugin(
  (app, _options, done) => {
    const runtime = app.pipewright;
    const { models, metrics, schema, settings } = runtime;
    const openapiText = JSON.stringify(runtime.openapi);

    app.get('/openapi.json', (_request, reply) =>
      reply
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(openapiText),
    );

    app.get('/health', (_request, reply) =>
      reply.send({ status: 'ok', uptimeSeconds: Math.round(process.uptime()) }),
    );

    app.get('/ready', (_request, reply) => {
      const model = models.current;
      if (runtime.draining) return reply.code(503).send({ ready: false, reason: 'shutting down' });
      if (!model) {
        return reply.code(503).send({
          ready: false,
          reason: runtime.initialLoadDone ? 'no model could be loaded' : 'loading the model',
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
      const monitor = runtime.monitor();
      if (!monitor) throw new errors.PW_SERVE_NO_MODEL('No model is loaded yet');
      return reply.send(monitor.snapshot());
    });

    app.get('/model', (_request, reply) => {
      const model = runtime.requireModel();
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
          location: runtime.registry.location,
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
