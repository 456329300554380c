// A stalled store under load, with real processes: another process holds an exclusive lock on the
// embedded store while a real `pipewright serve` takes 30 s of 1,000-record batches on 8 connections.
// Bounds: RSS grows by at most 200 MB, /health answers throughout, the drops show in /metrics, and
// SIGTERM ends the process with code 0 within 12 s (serve.shutdown_timeout_ms 10 s + 2 s). Needs dist/.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, waitFor } from '../helpers/cli.js';
import { createTestProject, ROOT, validRecord, type TestProject } from '../fixtures/model.js';

const LOAD_SECONDS = 30;
const CONNECTIONS = 8;
const BATCH = 1000;
const MAX_RSS_GROWTH_MB = 200;
const MAX_EXIT_MS = 12_000;

/** The resident memory of a process, in MB, from /proc. */
function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

/** A child process that takes SQLite's exclusive lock on `file` and holds it until its stdin closes. */
function holdExclusiveLock(file: string): ChildProcess {
  const script = `
    const Database = require('better-sqlite3');
    const db = new Database(${JSON.stringify(file)});
    db.pragma('busy_timeout = 10000');
    db.exec('BEGIN EXCLUSIVE');
    process.stdout.write('locked\\n');
    process.stdin.resume();
    process.stdin.on('end', () => { db.exec('ROLLBACK'); db.close(); process.exit(0); });
  `;
  return spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] });
}

describe('pipewright serve with the embedded store locked by another process', () => {
  let project: TestProject | undefined;
  let server: ChildProcess | undefined;
  let locker: ChildProcess | undefined;
  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    if (locker && locker.exitCode === null) locker.kill('SIGKILL');
    project?.cleanup();
  });

  it('stays within its memory bound, answers /health, counts the dropped log records, and exits 0 promptly on SIGTERM', async () => {
    expect(
      existsSync(join(ROOT, 'dist', 'serve', 'prediction-writer-worker.js')),
      'dist/ is missing: run `npm run build`',
    ).toBe(true);
    project = await createTestProject();
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
        env[name] = value;
    }
    server = spawn(process.execPath, [BIN, '--json', 'serve', '--port', '0'], {
      cwd: project.dir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const pid = server.pid!;
    const stdout = { text: '' };
    const stderr = { text: '' };
    server.stderr!.on('data', (chunk: Buffer) => (stderr.text += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => server!.on('exit', (code) => resolve(code)));
    const [, url] = await waitFor(server.stdout!, /"url": "(http:\/\/127\.0\.0\.1:\d+)"/, stdout);

    const records = Array.from({ length: BATCH }, (_, index) => ({
      ...validRecord(),
      Age: 20 + (index % 60),
    }));
    const body = JSON.stringify({ records });
    const statuses = new Map<number, number>();
    const post = async () => {
      const response = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    };

    // Warm-up without the lock, so that the baseline holds the server's working set under load.
    for (let round = 0; round < 3; round++) await Promise.all(Array.from({ length: CONNECTIONS }, post));
    const baseline = rssMb(pid);

    const storeFile = join(project.dir, '.pipewright', 'store.db');
    expect(existsSync(storeFile)).toBe(true);
    locker = holdExclusiveLock(storeFile);
    await waitFor(locker.stdout!, /locked/, { text: '' });

    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 250);
    const health = { ok: 0, failed: 0 };
    let loading = true;
    const healthChecks = (async () => {
      while (loading) {
        try {
          const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
          await response.arrayBuffer();
          if (response.status === 200) health.ok++;
          else health.failed++;
        } catch {
          health.failed++;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const end = performance.now() + LOAD_SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < end) await post();
      }),
    );
    loading = false;
    await healthChecks;
    clearInterval(sampler);
    peak = Math.max(peak, rssMb(pid));

    const metrics = await (await fetch(`${url}/metrics`)).text();
    const dropped = [
      ...metrics.matchAll(/^pipewright_prediction_log_dropped_total\{reason="\w+"\} (\d+)/gm),
    ].reduce((sum, match) => sum + Number(match[1]), 0);

    // SIGTERM while the store is still locked: the log cannot drain, so shutdown must give up on it.
    const signalled = performance.now();
    server.kill('SIGTERM');
    const code = await exited;
    const exitMs = performance.now() - signalled;
    locker.stdin!.end();

    const growth = peak - baseline;
    const predicted = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    console.info(
      `locked store, ${LOAD_SECONDS} s of ${BATCH}-record batches on ${CONNECTIONS} connections: ${predicted} requests ${JSON.stringify(Object.fromEntries(statuses))}, RSS ${baseline.toFixed(0)} -> peak ${peak.toFixed(0)} MB (+${growth.toFixed(0)}), ${dropped} log records dropped, /health ${health.ok} ok ${health.failed} failed, exit ${code} ${exitMs.toFixed(0)} ms after SIGTERM`,
    );
    expect([...statuses.keys()]).toEqual([200]);
    expect(health.failed).toBe(0);
    expect(health.ok).toBeGreaterThan(0);
    expect(dropped).toBeGreaterThan(0);
    expect(growth).toBeLessThanOrEqual(MAX_RSS_GROWTH_MB);
    expect(code).toBe(0);
    expect(exitMs).toBeLessThanOrEqual(MAX_EXIT_MS);
    expect(stderr.text).toMatch(/server stopped/);
  }, 90_000);
});
