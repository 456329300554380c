// Every error the server answers with carries the catalogue's HTTP status and code: checked for every
// catalogue code through the one error handler, and for representative refusals of the real server.
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors, type ErrorCode } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { errorHandler } from '../../src/serve/error-response.js';
import {
  createTestProject,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;

const CODES = Object.keys(errors) as ErrorCode[];

function catalogueStatus(code: ErrorCode): number {
  return new errors[code]('').statusCode;
}

describe('the error handler', () => {
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler(silentLogger(), 1000));
    app.post<{ Body: { code: ErrorCode; message: string; hint?: string } }>('/throw', (request) => {
      const { code, message, hint } = request.body;
      throw new errors[code](message, hint === undefined ? {} : { hint, details: { extra: 1 } });
    });
    app.post<{ Body: { message: string } }>('/fail', (request) => {
      throw new TypeError(request.body.message);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app?.close();
  });

  it('answers a catalogue error with its status, code, hint and details, and a status-500 error as PW_INTERNAL', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...CODES),
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.option(fc.string({ minLength: 1, maxLength: 60 }), { nil: undefined }),
        async (code, message, hint) => {
          const response = await fetch(`${url}/throw`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ code, message, hint }),
          });
          const body = (await response.json()) as Json;
          const status = catalogueStatus(code);
          if (status === 500) {
            // A failure of the server: its message stays in the log.
            expect([response.status, body.error.code]).toEqual([500, 'PW_INTERNAL']);
            expect(body.error.extra).toBeUndefined();
            return;
          }
          expect([response.status, body.error.code]).toEqual([status, code]);
          const expected = new errors[code](message, hint === undefined ? {} : { hint });
          expect(body.error.hint).toBe(expected.hint);
          expect(body.error.message).toBe(expected.message);
          if (hint !== undefined) expect(body.error.extra).toBe(1);
        },
      ),
      { numRuns: 120, seed: 20261205 },
    );
  });

  it('answers an error that is not from the catalogue as PW_INTERNAL without its message', async () => {
    const response = await fetch(`${url}/fail`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'secret internals' }),
    });
    const body = (await response.json()) as Json;
    expect([response.status, body.error.code]).toEqual([catalogueStatus('PW_INTERNAL'), 'PW_INTERNAL']);
    expect(JSON.stringify(body)).not.toContain('secret internals');
  });
});

describe('error responses of the prediction server', () => {
  let project: TestProject;
  let server: TestServer;
  let protectedServer: TestServer;

  beforeAll(async () => {
    project = await createTestProject({ serve: { max_batch: 5, body_limit_bytes: 5_000 } });
    server = await startTestServer(project);
    protectedServer = await startTestServer(project, {
      apiToken: 'example-token-not-a-secret',
      training: {
        configFile: project.configFile,
        projectDir: project.dir,
        artifactsRoot: join(project.dir, project.config.artifacts.path),
        logDir: join(project.dir, project.config.logging.dir),
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    await protectedServer?.close();
    project?.cleanup();
  });

  const cases: { name: string; code: ErrorCode; path: string; init?: RequestInit; protect?: boolean }[] = [
    { name: 'an unknown route', code: 'PW_NOT_FOUND', path: '/nowhere' },
    { name: 'a URL that cannot be decoded', code: 'PW_REQUEST_INVALID', path: '/%E0%A4%A' },
    {
      name: 'a body that is not JSON or CSV',
      code: 'PW_MEDIA_TYPE',
      path: '/predict',
      init: { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Age=30' },
    },
    {
      name: 'JSON that does not parse',
      code: 'PW_REQUEST_INVALID',
      path: '/predict',
      init: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"Age":' },
    },
    {
      name: 'a CSV body with an unclosed quote',
      code: 'PW_REQUEST_INVALID',
      path: '/predict',
      init: { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'Age,Gender\n"30,Male\n' },
    },
    {
      name: 'more records than serve.max_batch',
      code: 'PW_REQUEST_TOO_LARGE',
      path: '/predict',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records: Array.from({ length: 6 }, validRecord) }),
      },
    },
    {
      name: 'a body over serve.body_limit_bytes',
      code: 'PW_REQUEST_TOO_LARGE',
      path: '/predict',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...validRecord(), padding: 'x'.repeat(6_000) }),
      },
    },
    {
      name: 'a record with a value out of range',
      code: 'PW_ROW_INVALID',
      path: '/predict',
      init: {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...validRecord(), Age: 7 }),
      },
    },
    {
      name: 'training while it is disabled',
      code: 'PW_TRAIN_DISABLED',
      path: '/train',
      init: { method: 'POST' },
    },
    {
      name: 'training without a bearer token',
      code: 'PW_UNAUTHORIZED',
      path: '/train',
      init: { method: 'POST' },
      protect: true,
    },
    {
      name: 'a run that does not exist',
      code: 'PW_RUN_NOT_FOUND',
      path: '/runs/20260101-120000-3fa9c1',
      init: { headers: { authorization: 'Bearer example-token-not-a-secret' } },
      protect: true,
    },
  ];

  for (const { name, code, path, init, protect } of cases) {
    it(`answers ${name} with ${code} and the catalogue's status`, async () => {
      const response = await fetch(`${protect ? protectedServer.url : server.url}${path}`, init);
      const body = (await response.json()) as Json;
      expect([response.status, body.error.code]).toEqual([catalogueStatus(code), code]);
      expect(body.error.hint).toEqual(expect.any(String));
      expect(body.requestId).toBe(response.headers.get('x-request-id'));
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    });
  }

  it('names the line of a CSV body that cannot be read and the fields of a refused record', async () => {
    const csv = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'Age,Gender\n"30,Male\n',
    });
    expect(((await csv.json()) as Json).error.line).toEqual(expect.any(Number));
    const row = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...validRecord(), Age: 7 }),
    });
    expect(((await row.json()) as Json).error.fields).toEqual([
      expect.objectContaining({ field: 'Age', reason: expect.any(String) }),
    ]);
  });

  it('asks for a bearer token on the header a client reads', async () => {
    const response = await fetch(`${protectedServer.url}/train`, { method: 'POST' });
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer /);
  });
});
