// HTTP hygiene for every route: the accepted body types, CORS, security headers, the request id
// header, the access log with request metrics, and the one error handler (also for unknown routes).
// Not encapsulated: its hooks and handlers must reach the routes every other plugin adds.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { CsvBody } from '../csv.js';
import { errorHandler, truncate } from '../error-response.js';
import { API_POLICY } from '../html.js';
import { AccessLog } from '../operations.js';
import { definePlugin } from '../plugin.js';

export interface HygieneOptions extends Record<string, unknown> {
  /** Access log lines per second before sampling starts. */
  accessLogPerSecond: number;
}

/**
 * The request id and security headers every response carries. Fastify runs no hooks for errors raised
 * before routing, so the server's `frameworkErrors` calls this itself.
 */
export function setResponseHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('x-frame-options', 'DENY');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('cross-origin-opener-policy', 'same-origin');
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_POLICY);
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

export const hygienePlugin = definePlugin<HygieneOptions>(
  (app, options, done) => {
    const { settings, logger, metrics } = app.pipewright;

    // Bodies: JSON (Fastify's parser, which refuses __proto__ and constructor keys) and CSV, nothing else.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      'application/json',
      { parseAs: 'string' },
      app.getDefaultJsonParser('error', 'error'),
    );
    app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, next) =>
      next(null, new CsvBody(body as string)),
    );

    const corsOrigins = new Set(settings.cors_origins);
    const corsAll = corsOrigins.has('*');
    if (corsOrigins.size > 0) {
      app.addHook('onRequest', (request, reply, next) => {
        const origin = request.headers.origin;
        if (origin && (corsAll || corsOrigins.has(origin))) {
          reply.header('access-control-allow-origin', corsAll ? '*' : origin);
          reply.header('access-control-expose-headers', 'x-request-id');
          if (!corsAll) reply.header('vary', 'Origin');
        }
        next();
      });
      app.options('/*', (_request, reply) => {
        if (reply.hasHeader('access-control-allow-origin')) {
          reply.header('access-control-allow-methods', 'GET, POST, OPTIONS');
          reply.header('access-control-allow-headers', 'content-type, authorization, x-request-id');
          reply.header('access-control-max-age', '600');
        }
        return reply.code(204).send();
      });
    }

    app.addHook('onSend', (request, reply, payload, next) => {
      setResponseHeaders(request, reply);
      next(null, payload);
    });

    const accessLog = new AccessLog(logger, options.accessLogPerSecond);
    app.addHook('onResponse', (request, reply, next) => {
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
      next();
    });

    app.setNotFoundHandler((request) => {
      throw new errors.PW_NOT_FOUND(
        `No endpoint ${request.method} ${truncate(request.url.split('?')[0], 100)}`,
      );
    });
    app.setErrorHandler(errorHandler(logger, settings.body_limit_bytes));
    done();
  },
  { name: 'pipewright-hygiene', encapsulate: false, decorators: { fastify: ['pipewright'] } },
);
