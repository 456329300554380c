// The operational helpers of the server: the access log's sampling under load (server errors on their
// own budget, URLs cut short), request ids, and the constant-time bearer-token check.
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AccessLog, checkBearer, requestIdGenerator } from '../../src/serve/operations.js';

function capture(): { logger: pino.Logger; lines: () => Record<string, any>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => lines.map((line) => JSON.parse(line)) };
}

const entry = (status = 200) => ({
  requestId: 'r',
  method: 'POST',
  url: '/predict',
  route: '/predict',
  status,
  ms: 1.5,
});

describe('the access log', () => {
  it('logs every request while traffic is light', () => {
    const { logger, lines } = capture();
    let now = 0;
    const log = new AccessLog(logger, 5, () => now);
    for (let second = 0; second < 3; second++) {
      for (let i = 0; i < 5; i++) log.record(entry());
      now += 1000;
    }
    expect(lines().filter((line) => line.access)).toHaveLength(15);
    expect(lines().some((line) => line.skipped)).toBe(false);
  });

  it('logs the first requests of a busy second and then one line counting the rest', () => {
    const { logger, lines } = capture();
    let now = 0;
    const log = new AccessLog(logger, 5, () => now);
    for (let i = 0; i < 1000; i++) log.record(entry());
    now = 1000;
    log.record(entry());
    expect(lines().filter((line) => line.access)).toHaveLength(6);
    expect(lines().find((line) => line.skipped)).toMatchObject({
      skipped: 995,
      msg: expect.stringMatching(/995 requests were not logged/),
    });
  });

  it('logs server errors on their own budget, whatever the rate of other requests', () => {
    const { logger, lines } = capture();
    const log = new AccessLog(logger, 1, () => 0);
    for (let i = 0; i < 10; i++) log.record(entry(200));
    for (let i = 0; i < 10; i++) log.record(entry(500));
    expect(lines().filter((line) => line.access?.status === 500)).toHaveLength(10);
    expect(
      lines()
        .filter((line) => line.access?.status === 500)
        .every((line) => line.level === 50),
    ).toBe(true);
  });
});

describe('access lines', () => {
  it('cut a long URL to the limit with a marker, in the message and the field alike', () => {
    const { logger, lines } = capture();
    const log = new AccessLog(logger, 5, () => 0);
    log.record({ ...entry(), url: `/predict?${'x'.repeat(15_000)}` });
    const [line] = lines();
    expect(line.access.url.length).toBeLessThan(600);
    expect(line.access.url).toMatch(/more characters\]$/);
    expect(line.msg.length).toBeLessThan(700);
  });
});

describe('request ids', () => {
  it('keeps a sane x-request-id and makes a fresh, distinct one otherwise', () => {
    const next = requestIdGenerator();
    const request = (value?: string) =>
      ({ headers: value === undefined ? {} : { 'x-request-id': value } }) as never;
    expect(next(request('abc-123.def'))).toBe('abc-123.def');
    const fresh = [
      next(request()),
      next(request('has space')),
      next(request('x'.repeat(200))),
      next(request('<tag>')),
    ];
    expect(new Set(fresh).size).toBe(4);
    for (const id of fresh) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-z]+$/);
  });
});

describe('the bearer token check', () => {
  it('is disabled without a token, and accepts only the exact token in a Bearer header', () => {
    expect(checkBearer('Bearer abc', undefined)).toBe('disabled');
    expect(checkBearer(undefined, 'secret-token')).toBe('missing');
    expect(checkBearer('Basic c2VjcmV0LXRva2Vu', 'secret-token')).toBe('missing');
    expect(checkBearer('Bearer secret-token', 'secret-token')).toBe('ok');
    expect(checkBearer('bearer   secret-token ', 'secret-token')).toBe('ok');
    expect(checkBearer('Bearer secret-toke', 'secret-token')).toBe('wrong');
    expect(checkBearer('Bearer secret-token2', 'secret-token')).toBe('wrong');
  });
});
