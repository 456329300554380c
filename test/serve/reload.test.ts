// Hot reload: when the alias moves the server loads the new version and swaps it in; a bundle that is
// damaged or does not reproduce its golden sample is refused and the model in service stays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  trainBundle,
  validRecord,
  withWrongGolden,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;
/** /model shows refusal messages (they name the registry's location) only to the token holder. */
const TOKEN = 'reload-test-token-3c1f9d2b7a6e4f08b5c2';

/** Polls `read` until `done` holds; fails after `limitMs` (a liveness bound, not a timing assertion). */
async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  limitMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached within ${limitMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('hot reload', () => {
  let project: TestProject;
  let server: TestServer;
  const model = async () =>
    (await (
      await fetch(`${server.url}/model`, { headers: { authorization: `Bearer ${TOKEN}` } })
    ).json()) as Json;
  const refusals = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(/pipewright_model_reloads_total\{outcome="refused"\} (\d+)/.exec(text)?.[1] ?? 0);
  };
  const predict = async () =>
    (await (
      await fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(validRecord()),
      })
    ).json()) as Json;

  beforeAll(async () => {
    project = await createTestProject({ serve: { reload_interval_ms: 100 } });
    server = await startTestServer(project, { apiToken: TOKEN });
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('serves the new version on /model and /predict after the alias moves', async () => {
    expect((await predict()).version).toBe('v1');
    const before = await predict();
    await publishBundle(
      project.registry,
      await trainBundle(project.schema, { seed: 11, rows: 800, params: { C: 0.05 } }),
    );
    await eventually(model, (body) => body.version === 'v2');
    const after = await predict();
    expect(after.version).toBe('v2');
    expect(after.probability).not.toBe(before.probability);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/pipewright_model_info\{version="v2",alias="production"[^}]*\} 1/);
    expect(metrics).not.toMatch(/pipewright_model_info\{version="v1"/);
    expect(metrics).toMatch(/pipewright_model_reloads_total\{outcome="loaded"\} 1/);
  });

  it('refuses a damaged bundle and keeps serving the previous version', async () => {
    const refusedBefore = await refusals();
    const damaged = new TextEncoder().encode('{"format": "pipewright-bundle", "formatVersion": 1, "model": ');
    const info = await publishBundle(project.registry, damaged);
    await eventually(refusals, (count) => count > refusedBefore);
    const body = await model();
    expect(body.version).toBe('v2');
    expect(body.reload.refused).toMatchObject({ version: info.version, code: 'PW_BUNDLE_INVALID' });
    expect((await predict()).version).toBe('v2');
  });

  it('refuses a bundle whose golden sample the model does not reproduce', async () => {
    const refusedBefore = await refusals();
    const info = await publishBundle(
      project.registry,
      withWrongGolden(await trainBundle(project.schema, { seed: 12, rows: 600 })),
    );
    await eventually(refusals, (count) => count > refusedBefore);
    const body = await model();
    expect(body.version).toBe('v2');
    expect(body.reload.refused.version).toBe(info.version);
    expect(body.reload.refused.message).toMatch(/golden/);
  });

  it('follows the alias back, e.g. after a rollback to a good version', async () => {
    await project.registry.setAlias('production', 'v1');
    await eventually(model, (body) => body.version === 'v1');
    expect((await predict()).version).toBe('v1');
    expect((await model()).reload.refused).toBeNull();
  });

  it('keeps the model a request started with while another is swapped in', async () => {
    const holder = server.app.pipewright.models;
    const started = holder.current!;
    await publishBundle(project.registry, await trainBundle(project.schema, { seed: 13, rows: 600 }));
    await holder.check();
    expect(holder.current!.version).not.toBe(started.version);
    // The old model object is intact and still scores: swapping replaced a reference, nothing else.
    expect(started.version).toBe('v1');
    const coerced = (await import('../../src/schema/coerce.js')).compileCoercer(project.schema, {
      fields: 'inputs',
    })(validRecord());
    expect(started.predictor.score(coerced.record)).toBeGreaterThan(0);
  });
});
