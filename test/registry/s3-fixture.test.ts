// The S3 test server itself: the tests of the S3 registry, its crash test above all, rely on it
// answering every request whose client is still there, whatever the clients before it did.
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3, type S3Fixture } from '../fixtures/s3.js';

function send(endpoint: string, method: string, path: string, length?: number): ClientRequest {
  const url = new URL(path, endpoint);
  const headers: Record<string, string> = {};
  if (length !== undefined) headers['content-length'] = String(length);
  return request({ host: url.hostname, port: url.port, method, path: url.pathname, headers });
}

function answer(req: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.on('response', (response) => {
      response.resume();
      response.on('end', () => resolve(response));
    });
    req.on('error', reject);
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 150));

describe('the S3 test server with conditional writes', () => {
  let server: S3Fixture;
  beforeAll(async () => {
    server = await startS3({ conditionalWrites: true });
  });
  afterAll(async () => server.close());

  it('answers a key again after a client is killed while its request waits for that key', async () => {
    const key = `/${server.bucket}/aliases/production.json`;
    const body = Buffer.from('{"version":"v1"}');
    // A PUT holds the key while its body is still arriving...
    const writer = send(server.endpoint, 'PUT', key, body.length);
    const written = answer(writer);
    writer.write(body.subarray(0, 4));
    await settle();
    // ...a GET of the same key waits behind it, and its client dies while it waits...
    const doomed = send(server.endpoint, 'GET', key);
    doomed.on('error', () => {});
    doomed.end();
    await settle();
    doomed.destroy();
    await settle();
    // ...then the PUT completes, and the next reader of the key must be answered.
    writer.end(body.subarray(4));
    expect((await written).statusCode).toBe(200);
    const reader = send(server.endpoint, 'GET', key);
    reader.setTimeout(5000, () => reader.destroy(new Error('the key was never answered again')));
    reader.end();
    expect((await answer(reader)).statusCode).toBe(200);
  });
});
