// How MongoDB failures reach the user: each real failure (nothing listening, an unknown SRV host, a
// malformed URL, refused credentials) becomes a PW_STORE_* error with a hint and no password anywhere.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isPipewrightError, type PipewrightError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { describeUrl } from '../../src/store/mongo-errors.js';
import { openMongoStore } from '../../src/store/mongodb.js';
import { startWireServer } from '../fixtures/wire-server.js';

/** Opens a store that is expected to fail, and returns the error. */
async function openFailure(url: string, timeoutMs = 300): Promise<PipewrightError> {
  let failure: unknown;
  try {
    const store = await openMongoStore({ url, database: 'errors', timeoutMs });
    await store.close();
  } catch (error) {
    failure = error;
  }
  expect(isPipewrightError(failure), `expected a Pipewright error, got ${inspect(failure)}`).toBe(true);
  return failure as PipewrightError;
}

function expectNoSecret(error: PipewrightError, secret: string): void {
  expect(error.hint.length).toBeGreaterThan(0);
  for (const text of [
    error.message,
    error.hint,
    error.where ?? '',
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
  ]) {
    expect(text).not.toContain(secret);
  }
}

/** A loopback port with nothing listening on it. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const temporary = mkdtempSync(join(tmpdir(), 'pipewright-mongo-errors-'));
afterAll(() => rmSync(temporary, { recursive: true, force: true }));

describe('MongoDB connection failures', () => {
  it('reports nothing listening on the port as PW_STORE_UNREACHABLE after the configured timeout, not the driver’s 30 s', async () => {
    const port = await freePort();
    const secret = 'Refused-Pass-2291';
    const error = await openFailure(`mongodb://app:${secret}@127.0.0.1:${port}/`);
    expect(error.code).toBe('PW_STORE_UNREACHABLE');
    expect(error.details).toMatchObject({ driverError: 'MongoServerSelectionError' });
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.message).toContain('app:***@');
    expectNoSecret(error, secret);
  });

  it('reports a mongodb+srv cluster name that does not resolve as PW_STORE_UNREACHABLE, naming the host', async () => {
    const secret = 'Srv-Pass-5521';
    const error = await openFailure(`mongodb+srv://user:${secret}@nonexistent.invalid/`);
    expect(error.code).toBe('PW_STORE_UNREACHABLE');
    // DNS failures are plain Errors from Node, not MongoErrors.
    expect(error.details).toMatchObject({ driverError: 'Error' });
    expect(error.message).toContain('nonexistent.invalid');
    expect(error.hint).toContain('nonexistent.invalid');
    expectNoSecret(error, secret);
  });

  const malformed: [string, string, string][] = [
    ['a port out of range', 'mongodb://user:Bad-Port-Pass1@127.0.0.1:99999/', 'Bad-Port-Pass1'],
    ['a port that is not a number', 'mongodb://user:Text-Port-Pass2@db.example.com:abc/', 'Text-Port-Pass2'],
    ['another scheme', 'http://user:Http-Pass3@db.example.com/', 'Http-Pass3'],
    ['no host', 'mongodb://user:example-no-host-pw@', 'example-no-host-pw'],
    [
      'a port on a mongodb+srv URL',
      'mongodb+srv://user:Srv-Port-Pass5@cluster.example.net:27017/',
      'Srv-Port-Pass5',
    ],
    ['an unescaped @ in the password', 'mongodb://user:At@Sign-Pass6@db.example.com/', 'Sign-Pass6'],
    ['a broken percent escape', 'mongodb://user:Percent-Pass7%zz@db.example.com/', 'Percent-Pass7'],
    ['no scheme at all', 'user:Bare-Pass8@db.example.com:27017', 'Bare-Pass8'],
    ['an unknown option', 'mongodb://user:Option-Pass9@db.example.com/?retryWritez=true', 'Option-Pass9'],
    ['an empty string', '', 'never-present'],
  ];
  for (const [label, url, secret] of malformed) {
    it(`reports a URL with ${label} as PW_STORE_URL_INVALID without the password`, async () => {
      const error = await openFailure(url);
      expect(error.code).toBe('PW_STORE_URL_INVALID');
      expect(error.where).toBe('MONGODB_URL');
      expect(['MongoParseError', 'MongoRuntimeError']).toContain(error.details?.driverError);
      expectNoSecret(error, secret);
    });
  }

  it('distinguishes the driver errors behind malformed URLs: MongoRuntimeError for a bad port, MongoParseError otherwise', async () => {
    expect((await openFailure('mongodb://127.0.0.1:99999/')).details).toMatchObject({
      driverError: 'MongoRuntimeError',
    });
    expect((await openFailure('mongodb://')).details).toMatchObject({ driverError: 'MongoParseError' });
  });

  it('reports credentials the server refuses as PW_STORE_AUTH', async () => {
    const server = await startWireServer({ rejectAuthentication: true });
    try {
      const secret = 'Wrong-Pass-7734';
      const error = await openFailure(server.url.replace('mongodb://', `mongodb://analyst:${secret}@`), 2000);
      expect(error.code).toBe('PW_STORE_AUTH');
      expect(error.details).toMatchObject({
        driverError: 'MongoServerError',
        driverCode: 18,
        codeName: 'AuthenticationFailed',
      });
      expect(error.where).toBe('MONGODB_URL');
      expect(server.received.map((command) => command.name)).toContain('saslStart');
      expectNoSecret(error, secret);
    } finally {
      await server.close();
    }
  });

  it('keeps the password out of the log file when the error and its cause chain are logged', async () => {
    const port = await freePort();
    const secret = 'Logged-Pass-4410';
    const error = await openFailure(`mongodb://app:${secret}@127.0.0.1:${port}/`);
    expect(error.cause).toBeInstanceOf(Error);
    const { logger, file } = createLogger({
      dir: temporary,
      runId: '20250101-000000-abcdef',
      command: 'push',
      level: 'silent',
    });
    logger.error({ err: error }, 'push failed');
    logger.flush();
    const logged = readFileSync(file!, 'utf8');
    expect(logged).toContain('PW_STORE_UNREACHABLE');
    expect(logged).toContain('ECONNREFUSED');
    expect(logged).not.toContain(secret);
  });
});

describe('describing a connection string', () => {
  it('masks the whole password even when it holds an unescaped @', () => {
    expect(describeUrl('mongodb://ops:Pa@ss:w0rd@db.example.com:27017/app')).toBe(
      'mongodb://ops:***@db.example.com:27017/app',
    );
  });

  it('keeps a URL without credentials as it is', () => {
    expect(describeUrl('mongodb://db.example.com:27017/app')).toBe('mongodb://db.example.com:27017/app');
  });

  it('masks the user information of a string that has no scheme', () => {
    expect(describeUrl('ops:Hidden-1234@db.example.com')).toBe('"***@db.example.com"');
  });
});
