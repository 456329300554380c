// The protected training endpoints: POST /train starts a pipeline run, GET /runs/:id reads its record.
// The bearer token is checked before the body is read, so an unauthenticated caller cannot make the
// server parse anything; an address that keeps failing it is turned away for a while.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '../../core/errors.js';
import { truncate } from '../error-response.js';
import { checkBearer } from '../operations.js';
import { definePlugin } from '../plugin.js';
import { RUN_ID_PATTERN } from '../training.js';

export const trainingPlugin = definePlugin(
  (app, _options, done) => {
    const runtime = app.pipewright;
    const training = runtime.training;
    const throttle = runtime.authThrottle;

    const requireToken = (
      request: FastifyRequest,
      reply: FastifyReply,
      next: (error?: Error) => void,
    ): void => {
      if (!runtime.apiToken || !training)
        return next(new errors.PW_TRAIN_DISABLED('Training over HTTP is disabled on this server'));
      // Checked before the token, so a turned-away address learns nothing from its guesses.
      const wait = throttle.retryAfterSeconds(request.ip);
      if (wait > 0) {
        reply.header('retry-after', String(wait));
        return next(
          new errors.PW_TOO_MANY_ATTEMPTS('Too many failed authentications from this address', {
            details: { retryAfterSeconds: wait },
          }),
        );
      }
      const result = checkBearer(request.headers.authorization, runtime.apiToken);
      if (result === 'ok') return next();
      throttle.recordFailure(request.ip);
      reply.header('www-authenticate', 'Bearer realm="pipewright"');
      next(
        new errors.PW_UNAUTHORIZED(
          result === 'missing' ? 'This endpoint needs a bearer token' : 'The bearer token is not valid',
        ),
      );
    };

    app.post('/train', { onRequest: requireToken }, (request, reply) => {
      const running = training!.running();
      if (running) {
        throw new errors.PW_TRAIN_BUSY(`Pipeline run ${running} is still going`, {
          details: { runId: running, statusUrl: `/runs/${running}` },
        });
      }
      // A run started by another worker, another server or `pipewright run` holds the project's lock.
      const holder = training!.runLockHolder();
      if (holder) {
        throw new errors.PW_TRAIN_BUSY(
          `A pipeline run of this project is going (pid ${holder.pid}, since ${holder.since})`,
          {
            details: { pid: holder.pid, since: holder.since },
          },
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
          requestId: request.id,
        });
    });

    app.get<{ Params: { id: string } }>('/runs/:id', { onRequest: requireToken }, (request, reply) => {
      const id = request.params.id;
      if (!RUN_ID_PATTERN.test(id)) {
        throw new errors.PW_REQUEST_INVALID(`"${truncate(id, 40)}" is not a run id`, {
          hint: 'A run id looks like 20260101-120000-3fa9c1, as POST /train returns it.',
        });
      }
      const status = training!.status(id);
      if (!status) throw new errors.PW_RUN_NOT_FOUND(`No run ${id}`);
      return reply.send(status);
    });
    done();
  },
  {
    name: 'pipewright-training',
    encapsulate: true,
    dependencies: ['pipewright-hygiene'],
    decorators: { fastify: ['pipewright'] },
  },
);
