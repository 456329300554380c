// Training controls on the serving machine: a guessable token refuses to start; failed authentications
// are throttled per address; a run of the project held anywhere (the run lock) answers 409; and the
// training child runs at a lower priority with a thread cap (needs dist/).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { childEnvironment, startServing, stopProcess } from '../deploy/fleet.js';
import {
  createTestProject,
  ROOT,
  startTestServer,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;
const TOKEN = 'a3f1c9e07b2d4c6e8f0a1b3c5d7e9f21';

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

/** Polls `read` until it gives a value; fails after `limitMs` (a liveness bound, not a timing assertion). */
async function eventually<T>(read: () => T | undefined, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`nothing within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Another process that holds the project's run lock, as `pipewright run` does, until it is stopped. */
async function holdRunLock(file: string): Promise<ChildProcess> {
  const lockModule = pathToFileURL(join(ROOT, 'dist', 'core', 'lock.js')).href;
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { acquireLock } from ${JSON.stringify(lockModule)};
       acquireLock(${JSON.stringify(file)}, { purpose: 'pipewright run' });
       console.log('held');
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return child;
}

describe('training controls', () => {
  let project: TestProject;
  let server: TestServer;
  const probeOut = () => join(project.dir, 'probe.json');

  beforeAll(async () => {
    expect(existsSync(join(ROOT, 'dist', 'core', 'lock.js')), 'dist/ is missing: run `npm run build`').toBe(
      true,
    );
    project = await createTestProject();
    // The "pipeline" the server starts: a script that reports how it was started.
    const probe = join(project.dir, 'probe.mjs');
    writeFileSync(
      probe,
      `import { getPriority } from 'node:os';
       import { writeFileSync } from 'node:fs';
       writeFileSync(process.env.PROBE_OUT, JSON.stringify({
         priority: getPriority(),
         threads: process.env.PIPEWRIGHT_TRAIN_THREADS ?? null,
         args: process.argv.slice(2),
       }));`,
    );
    server = await startTestServer(project, {
      apiToken: TOKEN,
      training: {
        configFile: project.configFile,
        projectDir: project.dir,
        artifactsRoot: join(project.dir, 'artifacts'),
        logDir: join(project.dir, 'logs'),
        bin: probe,
        env: childEnvironment({ PROBE_OUT: probeOut() }),
        threads: 1,
      },
    });
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('refuses to start `serve` with a token under 32 characters, and starts with a longer one', async () => {
    for (const weak of ['abc', 'x'.repeat(31)]) {
      const result = await runCli(['--json', 'serve', '--port', '0'], {
        cwd: project.dir,
        env: { PIPEWRIGHT_API_TOKEN: weak },
      });
      expect(result.code, result.stderr).toBe(2);
      expect(JSON.parse(result.stdout).error.code).toBe('PW_CONFIG_WEAK_TOKEN');
      if (weak.length > 3) expect(result.stdout + result.stderr).not.toContain(weak);
    }
    const serving = await startServing(project.dir, [], childEnvironment({ PIPEWRIGHT_API_TOKEN: TOKEN }));
    try {
      expect((await call(`${serving.url}/runs/20240101-000000-abcdef`, 'GET', TOKEN)).status).toBe(404);
    } finally {
      await stopProcess(serving.child);
    }
  }, 30_000);

  it('answers 409 PW_TRAIN_BUSY while another process holds the project run lock', async () => {
    const holder = await holdRunLock(join(project.dir, '.pipewright', 'run.lock'));
    try {
      const busy = await call(`${server.url}/train`, 'POST', TOKEN);
      expect([busy.status, busy.body.error.code]).toEqual([409, 'PW_TRAIN_BUSY']);
      expect(busy.body.error.pid).toBe(holder.pid);
      expect(existsSync(probeOut())).toBe(false);
    } finally {
      await stopProcess(holder);
    }
  });

  it('starts the training child at a lower priority with the thread cap once the lock is free', async () => {
    const started = await call(`${server.url}/train`, 'POST', TOKEN);
    expect(started.status).toBe(202);
    const report = await eventually(() =>
      existsSync(probeOut()) ? (JSON.parse(readFileSync(probeOut(), 'utf8')) as Json) : undefined,
    );
    expect(report.args[0]).toBe('run');
    expect(report.priority).toBe(10);
    expect(report.threads).toBe('1');
  });

  it('turns an address away with 429 and Retry-After after repeated failed authentications', async () => {
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10; attempt++)
      statuses.push((await call(`${server.url}/train`, 'POST', `wrong-${attempt}`)).status);
    expect(statuses).toEqual(Array(10).fill(401));
    for (const token of ['wrong-again', undefined, TOKEN]) {
      const refused = await call(`${server.url}/train`, 'POST', token);
      expect([refused.status, refused.body.error.code]).toEqual([429, 'PW_TOO_MANY_ATTEMPTS']);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    // Nor can /model, whose answer differs with the right token, be used to go on guessing.
    const model = await call(`${server.url}/model`, 'GET', TOKEN);
    expect(model.status).toBe(200);
    expect(model.body.registry.location).toBeUndefined();
    // Prediction is not throttled: only what the token guards is.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
