// What /model and /ready tell a caller without the bearer token: the model and its state, but no
// registry location (a path or a bucket), no user name and no error message quoting them. The token
// holder gets the full detail.
import { hostname, tmpdir, userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestProject,
  publishBundle,
  startTestServer,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

type Json = Record<string, any>;
const TOKEN = 'exposure-test-token-8d4e1a7c2b9f6035e1d7';

async function get(url: string, token?: string): Promise<{ status: number; text: string; body: Json }> {
  const response = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Json };
}

/** What must never reach an anonymous caller: the project's path, the temp folder, the user name. */
function secretsOf(project: TestProject): string[] {
  const user = userInfo().username;
  return [project.dir, tmpdir(), project.registry.location, ...(user.length >= 3 ? [user] : [])];
}

describe('what /model and /ready expose', () => {
  let project: TestProject;
  let server: TestServer;

  beforeAll(async () => {
    project = await createTestProject({ serve: { reload_interval_ms: 100 } });
    server = await startTestServer(project, { apiToken: TOKEN });
    // A refused bundle: its message names where the registry is.
    await publishBundle(project.registry, new TextEncoder().encode('not a bundle'));
    await server.app.pipewright.models.check();
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  it('shows no path, registry location or user name on /model without the token', async () => {
    for (const token of [undefined, 'a-wrong-token-of-enough-length-0123456789']) {
      const { status, text, body } = await get(`${server.url}/model`, token);
      expect(status).toBe(200);
      expect(body.version).toBe('v1');
      expect(body.reload.refused).toMatchObject({ version: 'v2', code: 'PW_BUNDLE_INVALID' });
      expect(body.registry.location).toBeUndefined();
      expect(body.registry.createdBy).toBeUndefined();
      for (const secret of secretsOf(project)) expect(text).not.toContain(secret);
    }
  });

  it('shows the full detail on /model to the token holder', async () => {
    const { body } = await get(`${server.url}/model`, TOKEN);
    expect(body.registry.location).toBe(project.registry.location);
    expect(typeof body.registry.createdBy).toBe('string');
    expect(body.reload.refused.message).toContain(project.registry.location);
  });

  it('shows no path on /ready without the token while no model loads, and the reason with it', async () => {
    const broken = await createTestProject({ serve: { reload_interval_ms: 100 }, publish: false });
    await publishBundle(broken.registry, new TextEncoder().encode('not a bundle'));
    const unready = await startTestServer(broken, { apiToken: TOKEN, waitForModel: false });
    try {
      await unready.app.pipewright.models.check();
      let anonymous = await get(`${unready.url}/ready`);
      for (let tries = 0; anonymous.body.refused === undefined && tries < 100; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        anonymous = await get(`${unready.url}/ready`);
      }
      expect(anonymous.status).toBe(503);
      expect(anonymous.body.refused).toMatchObject({ version: 'v1', code: 'PW_BUNDLE_INVALID' });
      for (const secret of [...secretsOf(broken), hostname()]) expect(anonymous.text).not.toContain(secret);
      const full = await get(`${unready.url}/ready`, TOKEN);
      expect(full.body.refused.message).toContain(broken.registry.location);
    } finally {
      await unready.close();
      broken.cleanup();
    }
  });
});
