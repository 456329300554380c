// `pipewright monitor` end to end: a real `pipewright serve` logs predictions to the project's embedded
// store, then the real CLI compares them with the training data of the model that made them and exits
// 1 on drift, 0 without (needs dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import { createTestProject, publishBundle, ROOT, type TestProject } from '../fixtures/model.js';
import { BIN, runCli } from '../helpers/cli.js';
import { requestRecords, shifted, trainMonitoredBundle } from '../serve/monitor-fixture.js';

const RECORDS = 1000;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
      env[name] = value;
  return env;
}

describe('pipewright monitor', () => {
  let project: TestProject;
  let server: ChildProcess | undefined;
  let exited: Promise<number | null>;
  let url = '';
  let stderr = '';
  let steadyUntil = '';

  async function send(records: Record<string, unknown>[]): Promise<void> {
    for (let index = 0; index < records.length; index += 100) {
      const response = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records: records.slice(index, index + 100) }),
      });
      expect(response.status).toBe(200);
    }
  }

  async function written(): Promise<number> {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^pipewright_prediction_log_total\{outcome="written"\} (\d+)/m.exec(text)?.[1] ?? 0);
  }

  beforeAll(async () => {
    expect(
      existsSync(join(ROOT, 'dist', 'cli', 'commands', 'monitor.js')),
      'dist/ is missing: run `npx tsc -p tsconfig.build.json`',
    ).toBe(true);
    project = await createTestProject({ publish: false });
    const config = parse(readFileSync(project.configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(project.configFile, stringify({ ...config, monitor: { min_count: 500 } }));
    await publishBundle(project.registry, (await trainMonitoredBundle(project.schema)).bundle);

    server = spawn(process.execPath, [BIN, '--json', 'serve', '--port', '0'], {
      cwd: project.dir,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    exited = new Promise((resolve) => server!.on('exit', (code) => resolve(code)));
    server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let stdout = '';
    url = await new Promise<string>((resolve, reject) => {
      server!.stdout!.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /"url": "(http:\/\/127\.0\.0\.1:\d+)"/.exec(stdout);
        if (match) resolve(match[1]);
      });
      server!.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${stderr}`)));
    });
  });
  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    project?.cleanup();
  });

  it('exits 0 when the logged predictions look like the training data', async () => {
    await send(requestRecords(project.schema, RECORDS, 31));
    await expect.poll(written, { timeout: 10_000, interval: 50 }).toBe(RECORDS);
    steadyUntil = new Date().toISOString();

    const result = await runCli(['monitor'], { cwd: project.dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Predictions of v1 (production) logged since`);
    expect(result.stdout).toMatch(/Age\s+numeric\s+\d\.\d{3}\s+KS \d\.\d{3}\s+ok/);
    expect(result.stdout).toMatch(/Gender\s+category\s+\d\.\d{3}\s+χ² /);
    expect(result.stdout).toContain('No drift: 1,000 predictions of v1');

    const json = await runCli(['monitor', '--json', '--since', '1h'], { cwd: project.dir });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ status: 'ok', version: 'v1', count: RECORDS, byVersion: { v1: RECORDS } });
    expect(report.features).toHaveLength(project.schema.features.length);
    expect(report.predictions.drifted).toBe(false);
  });

  it('exits 1 and names the drifted features when the logged traffic shifted', async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await send(requestRecords(project.schema, RECORDS, 32).map(shifted));
    await expect.poll(written, { timeout: 10_000, interval: 50 }).toBe(2 * RECORDS);

    const since = new Date(Date.parse(steadyUntil) + 1).toISOString();
    const result = await runCli(['monitor', '--since', since, '--model', 'production'], { cwd: project.dir });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toMatch(/Age\s+numeric\s+\d+\.\d{3}\s+KS \d\.\d{3}\s+DRIFT/);
    expect(result.stdout).toMatch(/Vehicle_Damage\s+category\s+\d+\.\d{3}\s+χ² .*DRIFT/);
    expect(result.stdout).toMatch(/Gender\s+category.*\bok$/m);
    expect(result.stdout).toMatch(
      /^Drift in \d+ of 10 features \(Age, Vehicle_Damage, Annual_Premium.*\) and the predictions/m,
    );
    expect(result.stdout).toContain('Retrain with `pipewright run`');
  });

  it('gives no verdict and exits 0 when too few predictions were logged, and exits 2 on a time it cannot read', async () => {
    const none = await runCli(['monitor', '--since', '2099-01-01'], { cwd: project.dir });
    expect(none.code, none.stderr).toBe(0);
    expect(none.stdout).toContain('Only 0 predictions of v1 logged since 2099-01-01T00:00:00.000Z');
    expect(none.stdout).toContain('no drift verdict');

    // Predictions of another version are counted but not compared with this one's training data.
    const other = await publishBundle(
      project.registry,
      (await trainMonitoredBundle(project.schema, { seed: 9 })).bundle,
      null,
    );
    const elsewhere = await runCli(['monitor', '--json', '--model', other.version], { cwd: project.dir });
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(JSON.parse(elsewhere.stdout)).toMatchObject({
      status: 'insufficient',
      version: other.version,
      count: 0,
      byVersion: { v1: 2 * RECORDS },
    });

    const unreadable = await runCli(['monitor', '--since', 'yesterday'], { cwd: project.dir });
    expect(unreadable.code).toBe(2);
    expect(unreadable.stderr).toContain('PW_USAGE');
    expect(unreadable.stderr).toContain('24h');
  });

  it('writes the predictions still queued when the server stops', async () => {
    await send(requestRecords(project.schema, 50, 33));
    server!.kill('SIGTERM');
    expect(await exited, stderr).toBe(0);
    const store = EmbeddedStore.open(join(project.dir, '.pipewright', 'store.db'));
    try {
      expect(await store.collection('predictions').countDocuments({})).toBe(2 * RECORDS + 50);
    } finally {
      await store.close();
    }
  });
});
