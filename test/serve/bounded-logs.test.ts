// Bounded logs under hostile traffic: a real `pipewright serve` hit with 200 requests whose URL is
// 15,000 characters long grows logs/ by a bounded amount (URLs are cut in access lines), and a burst of
// server errors is logged on a budget with a count of the lines left out (needs dist/).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { createLogger } from '../../src/core/logger.js';
import { errorHandler } from '../../src/serve/error-response.js';
import { MAX_LOGGED_URL_LENGTH } from '../../src/serve/operations.js';
import { startServing, stopProcess } from '../deploy/fleet.js';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  validRecord,
  type TestProject,
} from '../fixtures/model.js';

const REQUESTS = 200;
const URL_LENGTH = 15_000;
/** Per request: one access line with a cut URL (twice: message and field) and its JSON fields. */
const BOUND_PER_REQUEST = 2 * MAX_LOGGED_URL_LENGTH + 1024;

function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) total += statSync(join(dir, name)).size;
  return total;
}

function logLines(dir: string): Record<string, any>[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.log'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, any>);
}

describe('bounded logs', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = await createTestProject();
  });
  afterAll(() => project?.cleanup());

  it('grows logs/ by a bounded amount under 200 requests with a 15,000-character URL', async () => {
    const logs = join(project.dir, 'logs');
    const serving = await startServing(project.dir);
    let before: number;
    try {
      before = folderBytes(logs);
      const long = `/${'a'.repeat(URL_LENGTH)}`;
      const query = `/predict?${'q'.repeat(URL_LENGTH)}`;
      for (let sent = 0; sent < REQUESTS; sent++) {
        const response = await fetch(`${serving.url}${sent % 2 === 0 ? long : query}`, {
          method: sent % 2 === 0 ? 'GET' : 'POST',
          headers: { 'content-type': 'application/json' },
          ...(sent % 2 === 0 ? {} : { body: JSON.stringify(validRecord()) }),
        });
        expect(response.status).toBeLessThan(500);
        await response.arrayBuffer();
      }
    } finally {
      await stopProcess(serving.child);
    }
    const grown = folderBytes(logs) - before;
    console.info(
      `logs/ grew by ${grown} bytes for ${REQUESTS} requests with a ${URL_LENGTH}-character URL (bound ${REQUESTS * BOUND_PER_REQUEST})`,
    );
    expect(grown).toBeLessThanOrEqual(REQUESTS * BOUND_PER_REQUEST);
    const access = logLines(logs).filter((line) => line.access);
    expect(access.length).toBeGreaterThan(0);
    for (const line of access) expect(line.access.url.length).toBeLessThan(MAX_LOGGED_URL_LENGTH + 40);
  }, 60_000);

  it('logs a burst of server errors on a budget, with a count of those left out', async () => {
    const broken = await createTestProject({ publish: false });
    await publishBundle(broken.registry, new TextEncoder().encode('not a bundle'));
    const dir = join(broken.dir, 'logs');
    const { logger } = createLogger({
      dir,
      runId: '20240101-000000-abcdef',
      command: 'serve',
      level: 'silent',
    });
    const server = await startTestServer(broken, { logger, waitForModel: false });
    const burst = 300;
    try {
      const post = async () => {
        const response = await fetch(`${server.url}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(validRecord()),
        });
        await response.arrayBuffer();
        return response.status;
      };
      const statuses = await Promise.all(Array.from({ length: burst }, post));
      expect(new Set(statuses)).toEqual(new Set([503]));
      // The next window reports how many of the burst were left out.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await post()).toBe(503);
    } finally {
      await server.close();
    }
    const lines = logLines(dir);
    const logged = lines.filter((line) => line.access?.status === 503).length;
    const skipped = lines.reduce((sum, line) => sum + (line.skippedErrors ?? 0), 0);
    console.info(`${burst + 1} server errors: ${logged} access lines, ${skipped} counted as left out`);
    expect(logged).toBeLessThan(burst);
    expect(logged + skipped).toBe(burst + 1);
    broken.cleanup();
  }, 30_000);

  it('logs a burst of failed requests (500, with their stack) on a budget, with long URLs cut', async () => {
    const dir = join(project.dir, 'failures');
    const { logger } = createLogger({
      dir,
      runId: '20240101-000000-fa11ed',
      command: 'serve',
      level: 'silent',
    });
    const app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler(logger, 1000));
    app.get('/fail', () => {
      throw new TypeError('a bug');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/fail?${'z'.repeat(URL_LENGTH)}`;
    const burst = 200;
    try {
      const get = async () => {
        const response = await fetch(url);
        await response.arrayBuffer();
        return response.status;
      };
      expect(new Set(await Promise.all(Array.from({ length: burst }, get)))).toEqual(new Set([500]));
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await get()).toBe(500);
    } finally {
      await app.close();
    }
    const lines = logLines(dir);
    const logged = lines.filter((line) => line.err);
    const skipped = lines.reduce((sum, line) => sum + (line.skippedFailures ?? 0), 0);
    expect(logged.length).toBeLessThan(burst);
    expect(logged.length + skipped).toBe(burst + 1);
    for (const line of logged) expect(line.url.length).toBeLessThan(MAX_LOGGED_URL_LENGTH + 40);
  }, 30_000);
});
