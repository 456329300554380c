// The prediction server: loads the first model into the shared state (runtime.ts), makes the Fastify
// instance with its limits, and registers one plugin per concern (plugins/): HTTP hygiene first, then
// the prediction routes, the pages, the operational endpoints and the training endpoints.
import Fastify, { type FastifyInstance } from 'fastify';
import { errors } from '../core/errors.js';
import { sendCatalogueError, truncate } from './error-response.js';
import { requestIdGenerator } from './operations.js';
import { hygienePlugin, setResponseHeaders } from './plugins/hygiene.js';
import { operationsPlugin } from './plugins/operations.js';
import { pagesPlugin } from './plugins/pages.js';
import { predictionPlugin } from './plugins/prediction.js';
import { trainingPlugin } from './plugins/training.js';
import { ServeRuntime, type ServerOptions } from './runtime.js';

export type { ServerOptions, ServeSettings } from './runtime.js';

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const runtime = await ServeRuntime.start(options);
  const { settings } = options;
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
      setResponseHeaders(request, reply);
      sendCatalogueError(
        reply,
        new errors.PW_REQUEST_INVALID(`The request cannot be read: ${truncate(error.message, 120)}`),
      );
    },
  });
  app.decorate('pipewright', runtime);
  app.register(hygienePlugin, { accessLogPerSecond: options.accessLogPerSecond ?? 20 });
  app.register(predictionPlugin);
  app.register(pagesPlugin);
  app.register(operationsPlugin);
  app.register(trainingPlugin);

  app.addHook('onReady', (done) => {
    runtime.models.start();
    done();
  });
  app.addHook('preClose', (done) => {
    runtime.draining = true;
    runtime.shutdownDeadline ??= Date.now() + settings.shutdown_timeout_ms;
    done();
  });
  app.addHook('onClose', async () => {
    await runtime.models.stop();
    // What the store has not taken by the deadline is counted as dropped: a stalled store cannot hold
    // the exit past the orchestrator's kill.
    await runtime.predictionLog.close(runtime.shutdownDeadline);
  });
  return app;
}
