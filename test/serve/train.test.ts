// POST /train and GET /runs/:id: disabled without a token, refused with a wrong one, and with the right
// one a real `pipewright run` in a child process whose status the server reports (needs dist/).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import {
  createTestProject,
  ROOT,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;
const TOKEN = 'test-token-5f2c9a71d3';

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
      env[name] = value;
  }
  return env;
}

function trainingOptions(project: TestProject) {
  return {
    configFile: project.configFile,
    projectDir: project.dir,
    artifactsRoot: join(project.dir, project.config.artifacts.path),
    logDir: join(project.dir, project.config.logging.dir),
    env: childEnv(),
  };
}

async function call(
  url: string,
  method: string,
  token?: string,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(url, {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

describe('training over HTTP', () => {
  let project: TestProject;
  let disabled: TestServer;
  let enabled: TestServer;

  beforeAll(async () => {
    project = await createTestProject({ serve: { reload_interval_ms: 100 } });
    disabled = await startTestServer(project, { training: trainingOptions(project) });
    enabled = await startTestServer(project, { training: trainingOptions(project), apiToken: TOKEN });
  });
  afterAll(async () => {
    await disabled?.close();
    await enabled?.close();
    project?.cleanup();
  });

  it('is disabled with 404 when PIPEWRIGHT_API_TOKEN is not set, whatever the caller sends', async () => {
    for (const token of [undefined, TOKEN, 'anything']) {
      const train = await call(`${disabled.url}/train`, 'POST', token);
      expect([train.status, train.body.error.code]).toEqual([404, 'PW_TRAIN_DISABLED']);
      expect(train.body.error.hint).toMatch(/PIPEWRIGHT_API_TOKEN/);
      const run = await call(`${disabled.url}/runs/20240101-000000-abcdef`, 'GET', token);
      expect(run.status).toBe(404);
    }
  });

  it('refuses a missing or wrong bearer token with 401 and starts nothing', async () => {
    const missing = await call(`${enabled.url}/train`, 'POST');
    expect([missing.status, missing.body.error.code]).toEqual([401, 'PW_UNAUTHORIZED']);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const wrong = await call(`${enabled.url}/train`, 'POST', `${TOKEN}x`);
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'PW_UNAUTHORIZED']);
    const basic = await fetch(`${enabled.url}/train`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}` },
    });
    expect(basic.status).toBe(401);
    const status = await call(`${enabled.url}/runs/20240101-000000-abcdef`, 'GET', 'wrong');
    expect(status.status).toBe(401);
    expect(enabled.app.pipewright.training!.running()).toBeUndefined();
    expect(existsSync(join(project.dir, 'logs'))).toBe(false);
  });

  it('answers 400 for a malformed run id and 404 for an unknown one', async () => {
    expect((await call(`${enabled.url}/runs/..%2F..%2Fetc`, 'GET', TOKEN)).status).toBe(400);
    const unknown = await call(`${enabled.url}/runs/20240101-000000-abcdef`, 'GET', TOKEN);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'PW_RUN_NOT_FOUND']);
  });

  it('starts `pipewright run` in a child process, keeps serving, and reports the run until it ends', async () => {
    expect(
      existsSync(join(ROOT, 'dist', 'cli', 'main.js')),
      'dist/ is missing: run `npx tsc -p tsconfig.build.json`',
    ).toBe(true);
    const data = join(project.dir, 'data.csv');
    const sample = await runCli(
      ['sample', 'vehicle-insurance', '--rows', '3000', '--seed', '5', '-o', data],
      { cwd: project.dir },
    );
    expect(sample.code, sample.stderr).toBe(0);
    const push = await runCli(['push', data], { cwd: project.dir });
    expect(push.code, push.stderr).toBe(0);

    const started = await call(`${enabled.url}/train`, 'POST', TOKEN);
    expect(started.status).toBe(202);
    const runId: string = started.body.runId;
    expect(runId).toMatch(/^\d{8}-\d{6}-[0-9a-f]{6}$/);
    expect(started.headers.get('location')).toBe(`/runs/${runId}`);
    // One run at a time: the child has only just been spawned.
    const second = await call(`${enabled.url}/train`, 'POST', TOKEN);
    expect([second.status, second.body.error.code, second.body.error.runId]).toEqual([
      409,
      'PW_TRAIN_BUSY',
      runId,
    ]);

    const first = await call(`${enabled.url}/runs/${runId}`, 'GET', TOKEN);
    expect(first.status).toBe(200);
    expect(first.body.id).toBe(runId);
    expect(typeof first.body.process.pid).toBe('number');
    // Serving goes on while the pipeline runs.
    const prediction = await fetch(`${enabled.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(validRecord()),
    });
    expect(prediction.status).toBe(200);

    const deadline = Date.now() + 45_000;
    let status: Json = first.body;
    while (status.process.alive && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      status = (await call(`${enabled.url}/runs/${runId}`, 'GET', TOKEN)).body;
    }
    expect(status.process.alive, 'the pipeline run did not finish in time').toBe(false);
    expect(status.status, JSON.stringify(status)).toBe('succeeded');
    expect(status.process.exitCode).toBe(0);
    expect(status.steps.map((step: Json) => step.name)).toContain('train');
    expect(existsSync(join(project.dir, 'artifacts', runId, 'run.json'))).toBe(true);
    if (status.outcome?.published) {
      // The run moved the alias: the server picks up the model it published.
      const until = Date.now() + 10_000;
      let version = '';
      while (version !== status.outcome.version && Date.now() < until) {
        version = ((await (await fetch(`${enabled.url}/model`)).json()) as Json).version;
        if (version !== status.outcome.version) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(version).toBe(status.outcome.version);
    }
  }, 60_000);
});
