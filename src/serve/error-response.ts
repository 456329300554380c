// The one place an error becomes an HTTP response. Every error is first made a catalogue error
// (src/core/errors.ts); the response carries that error's HTTP status and code, its hint and details.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errors, isPipewrightError, type PipewrightError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { LineBudget, loggedUrl } from './operations.js';

const MAX_REASON_LENGTH = 200;
const INTERNAL_HINT = 'The server log has the details; quote the request id.';

/** Input echoed in a message is cut short, so a huge body cannot make a huge error. */
export function truncate(text: string, length = MAX_REASON_LENGTH): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

/** Refusals Fastify raises while reading a request (limits, content types, JSON syntax). */
function fromFramework(error: FastifyError, request: FastifyRequest, bodyLimit: number): PipewrightError {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new errors.PW_REQUEST_TOO_LARGE(`The body is larger than the limit of ${bodyLimit} bytes`, {
        details: { limit: bodyLimit, unit: 'bytes' },
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new errors.PW_MEDIA_TYPE(
        `Content-Type ${truncate(String(request.headers['content-type'] ?? '(none)'), 80)} is not accepted`,
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new errors.PW_REQUEST_INVALID('The body is empty');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new errors.PW_REQUEST_INVALID(`The body is not valid JSON: ${truncate(error.message)}`);
    default:
      if (error instanceof SyntaxError)
        return new errors.PW_REQUEST_INVALID(`The body is not valid JSON: ${truncate(error.message)}`);
      return new errors.PW_REQUEST_INVALID(truncate(error.message));
  }
}

/**
 * The catalogue error to answer with. Catalogue errors with an HTTP meaning (a status other than 500)
 * are answered as they are; anything else is a failure of the server: logged with its stack, and
 * answered as PW_INTERNAL without its message.
 */
function toCatalogueError(
  error: unknown,
  request: FastifyRequest,
  logger: Logger,
  bodyLimit: number,
  failures: LineBudget,
): PipewrightError {
  if (isPipewrightError(error) && error.statusCode !== 500) return error;
  const status = (error as FastifyError).statusCode;
  if (!isPipewrightError(error) && status !== undefined && status >= 400 && status < 500)
    return fromFramework(error as FastifyError, request, bodyLimit);
  if (failures.take())
    logger.error(
      { err: error, requestId: request.id, url: loggedUrl(request.url) },
      `request ${request.id} failed: ${(error as Error)?.message ?? String(error)}`,
    );
  return new errors.PW_INTERNAL(`The server could not handle request ${request.id}`, { hint: INTERNAL_HINT });
}

/** The body every error response has: `{ error: { code, message, hint, ...details }, requestId }`. */
export function sendCatalogueError(reply: FastifyReply, error: PipewrightError): FastifyReply {
  return reply.code(error.statusCode).send({
    error: { code: error.code, message: error.message, hint: error.hint, ...error.details },
    requestId: reply.request.id,
  });
}

/** Failures logged with their stack per second; a burst beyond is counted in one line instead. */
const FAILURES_LOGGED_PER_SECOND = 10;

/** The server's error handler, for route errors and for errors raised before routing alike. */
export function errorHandler(
  logger: Logger,
  bodyLimit: number,
): (error: unknown, request: FastifyRequest, reply: FastifyReply) => FastifyReply {
  const failures = new LineBudget(FAILURES_LOGGED_PER_SECOND, Date.now, (skipped, perSecond) =>
    logger.error(
      { skippedFailures: skipped, perSecond },
      `${skipped} more failed requests were not logged (logging at most ${perSecond} a second)`,
    ),
  );
  return (error, request, reply) =>
    sendCatalogueError(reply, toCatalogueError(error, request, logger, bodyLimit, failures));
}
