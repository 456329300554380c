import { readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, pruneLogs } from '../../src/core/logger.js';
import { registerSecret } from '../../src/core/redact.js';
import { tempDir } from '../helpers/cli.js';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk) => (text += chunk));
  return { stream, text: () => text };
}

describe('logger', () => {
  it('writes JSON lines to a per-invocation file and readable lines to the console', () => {
    const dir = tempDir();
    const consoleOut = capture();
    const { logger, file } = createLogger({
      dir,
      runId: '20260101-120000-abcdef',
      command: 'push',
      consoleStream: consoleOut.stream,
      colorize: false,
    });
    logger.child({ step: 'train' }).info({ rows: 10 }, 'fitted the model');
    logger.debug('only in the file');
    expect(file).toBe(join(dir, '20260101T120000-push-abcdef.log'));
    const lines = readFileSync(file!, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines[0]).toMatchObject({
      msg: 'fitted the model',
      rows: 10,
      step: 'train',
      run: '20260101-120000-abcdef',
      command: 'push',
    });
    expect(lines[1].msg).toBe('only in the file');
    expect(consoleOut.text()).toMatch(/^\d\d:\d\d:\d\d info {2}\[train\] fitted the model\n$/);
  });

  it('redacts passwords and secrets from messages and fields', () => {
    const dir = tempDir();
    registerSecret('s3cr3t-api-token');
    const { logger, file } = createLogger({
      dir,
      runId: '20260101-120000-000001',
      consoleStream: capture().stream,
    });
    logger.info(
      { url: 'mongodb://u:pa55word@db.example.net/db', headers: { authorization: 'Bearer x' } },
      'connecting to mongodb://u:pa55word@db.example.net/db with s3cr3t-api-token',
    );
    const text = readFileSync(file!, 'utf8');
    expect(text).not.toContain('pa55word');
    expect(text).not.toContain('s3cr3t-api-token');
    expect(text).not.toContain('Bearer x');
    expect(text).toContain('mongodb://u:***@db.example.net/db');
  });

  it('keeps only the newest log files', () => {
    const dir = tempDir();
    for (const name of ['20260101T000001-a-1.log', '20260101T000002-a-2.log', '20260101T000003-a-3.log']) {
      writeFileSync(join(dir, name), '');
    }
    pruneLogs(dir, 2);
    expect(readdirSync(dir).sort()).toEqual(['20260101T000002-a-2.log', '20260101T000003-a-3.log']);
  });

  it('sets a log file aside past its size limit and goes on in a new one, losing no line', () => {
    const dir = tempDir();
    const { logger, file } = createLogger({
      dir,
      runId: '20260101-120000-abcdef',
      command: 'serve',
      level: 'silent',
      maxFileBytes: 20_000,
    });
    for (let i = 0; i < 2000; i++) logger.info({ request: i, url: '/predict' }, 'request completed');
    const names = readdirSync(dir).sort();
    expect(names.length).toBeGreaterThan(3);
    expect(names).toContain('20260101T120000-serve-abcdef.0001.log');
    const longestLine = 200;
    let seen = 0;
    for (const name of names) {
      expect(statSync(join(dir, name)).size).toBeLessThan(20_000 + longestLine);
      seen += readFileSync(join(dir, name), 'utf8').trim().split('\n').length;
    }
    expect(seen).toBe(2000);
    expect(file).toBe(join(dir, '20260101T120000-serve-abcdef.log'));
  });

  it('keeps the newest files of every kind it writes, training output and rotated parts included', () => {
    const dir = tempDir();
    const names = ['train-r1.out', 'a.0001.log', 'a.log', 'train-r2.out', 'b.log'];
    names.forEach((name, age) => {
      writeFileSync(join(dir, name), 'x');
      utimesSync(join(dir, name), 1_000 + age, 1_000 + age);
    });
    pruneLogs(dir, 3);
    expect(readdirSync(dir).sort()).toEqual(['a.log', 'b.log', 'train-r2.out']);
  });
});
