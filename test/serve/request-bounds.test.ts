// Bounded request work on POST /predict: a CSV body is read no further than max_batch + 1 records, a
// body over the limit is refused with 413 naming the limit, and the content type alone decides the
// parser (a JSON string is never read as CSV).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;
const MAX_BATCH = 50;
const BODY_LIMIT = 20_000;

function csv(rows: number, tail = ''): string {
  const record = validRecord();
  const header = Object.keys(record).join(',');
  const line = Object.values(record)
    .map((value) => (String(value).includes(' ') ? `"${String(value)}"` : String(value)))
    .join(',');
  return `${header}\n${`${line}\n`.repeat(rows)}${tail}`;
}

async function post(
  url: string,
  contentType: string,
  body: string,
): Promise<{ status: number; body: Json; contentType: string | null }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  const text = await response.text();
  const type = response.headers.get('content-type');
  return {
    status: response.status,
    body: type?.includes('json') ? (JSON.parse(text) as Json) : { text },
    contentType: type,
  };
}

describe('bounded work per /predict request', () => {
  let project: TestProject;
  let server: TestServer;

  beforeAll(async () => {
    project = await createTestProject({ serve: { max_batch: MAX_BATCH, body_limit_bytes: BODY_LIMIT } });
    server = await startTestServer(project);
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('answers a CSV body of max_batch records', async () => {
    const answer = await post(`${server.url}/predict`, 'text/csv', csv(MAX_BATCH));
    expect(answer.status).toBe(200);
    expect(answer.contentType).toMatch(/^text\/csv/);
  });

  it('stops reading a CSV body after max_batch + 1 records: what follows is never parsed', async () => {
    // Whatever comes after record max_batch + 1 (here, an unterminated quote that the parser would
    // refuse with 400) is not read: the answer is the 413 for the record count.
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: MAX_BATCH + 1, max: MAX_BATCH + 40 }),
        fc.constantFrom('"never closed', 'a,"b\n"c', '\u0000,\u0000\n"'),
        async (rows, tail) => {
          const answer = await post(`${server.url}/predict`, 'text/csv', csv(rows, tail));
          expect([answer.status, answer.body.error?.code]).toEqual([413, 'PW_REQUEST_TOO_LARGE']);
          expect(answer.body.error).toMatchObject({ limit: MAX_BATCH, unit: 'records' });
        },
      ),
      { numRuns: 15, seed: 14 },
    );
  });

  it('refuses a body over the body limit with 413 naming the limit in bytes', async () => {
    for (const [type, body] of [
      ['text/csv', csv(600)],
      ['application/json', JSON.stringify({ records: Array.from({ length: 600 }, validRecord) })],
    ]) {
      expect(body.length).toBeGreaterThan(BODY_LIMIT);
      const answer = await post(`${server.url}/predict`, type, body);
      expect([answer.status, answer.body.error?.code]).toEqual([413, 'PW_REQUEST_TOO_LARGE']);
      expect(answer.body.error).toMatchObject({ limit: BODY_LIMIT, unit: 'bytes' });
    }
  });

  it('never reads a JSON string body as CSV', async () => {
    const answer = await post(`${server.url}/predict`, 'application/json', JSON.stringify(csv(3)));
    expect([answer.status, answer.body.error?.code]).toEqual([400, 'PW_REQUEST_INVALID']);
    // The same text sent as CSV is answered.
    expect((await post(`${server.url}/predict`, 'text/csv', csv(3))).status).toBe(200);
  });
});
