// The publish crash test: a publisher killed with SIGKILL at any point leaves the registry
// readable, every listed version intact, `production` on a complete version, and the next publish
// clean. Kills land both at named steps (via PIPEWRIGHT_TEST_PAUSE_PUBLISH) and at random times,
// against the folder registry and the S3 registry (with and without conditional writes).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { FolderRegistry } from '../../src/registry/folder.js';
import { S3Registry, type S3RegistrySettings } from '../../src/registry/s3.js';
import type { ModelRegistry } from '../../src/registry/types.js';
import { startS3, type S3Fixture } from '../fixtures/s3.js';
import { bundleBytes, meta } from './contract.js';

const CHILD = fileURLToPath(new URL('../fixtures/publish-loop.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/registry/s3.js', import.meta.url));
const BUNDLE_SIZE = 2 * 1024 * 1024;
/** Steps a publish reaches only after its version is complete and visible. */
const INSTALLED_STEPS = new Set(['version-installed', 'alias-written']);

interface Child {
  lines: string[];
  waitFor(pattern: RegExp): Promise<void>;
  kill(): Promise<void>;
}

function startChild(spec: object, count: number, pauseAt?: string): Child {
  const env = { ...process.env };
  delete env.PIPEWRIGHT_TEST_PAUSE_PUBLISH;
  if (pauseAt) env.PIPEWRIGHT_TEST_PAUSE_PUBLISH = pauseAt;
  const child: ChildProcess = spawn(
    process.execPath,
    [CHILD, JSON.stringify(spec), String(BUNDLE_SIZE), String(count)],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let partial = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer) => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const waiter of [...waiters]) {
      if (lines.some((line) => waiter.pattern.test(line))) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    lines,
    waitFor(pattern) {
      if (lines.some((line) => pattern.test(line))) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        // well within the test's own timeout, so that a publisher that hangs says what it printed
        const deadline = setTimeout(
          () => reject(new Error(`the publisher printed no ${pattern} in 30 s: ${lines.join(' | ')}`)),
          30_000,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(deadline);
            resolve();
          },
        });
        void exited.then(() => {
          clearTimeout(deadline);
          reject(new Error(`the publisher exited before printing ${pattern}: ${lines.join(' | ')}`));
        });
      });
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface Backend {
  spec: object;
  open(): ModelRegistry;
  steps: string[];
  kills: number;
  /** What the backend must look like once a clean publish followed the crashes. */
  expectTidy(registry: ModelRegistry): Promise<void>;
}

/** What must hold after any crash: everything listed loads intact, production is a complete version. */
async function expectIntact(
  backend: Backend,
  allowedProduction: Set<string>,
  verified: Set<string>,
): Promise<string> {
  const registry = backend.open();
  try {
    const versions = await registry.list();
    expect(versions.length).toBeGreaterThan(0);
    for (const info of versions) {
      if (verified.has(info.version)) continue;
      const { bytes } = await registry.load(info.version);
      expect(sha256(bytes)).toBe(info.sha256);
      verified.add(info.version);
    }
    const production = await registry.resolve('production');
    expect(allowedProduction.has(production.version), `production is ${production.version}`).toBe(true);
    await registry.load('production');
    await registry.history();
    return production.version;
  } finally {
    await registry.close();
  }
}

function defineCrashTest(name: string, prepare: () => Promise<Backend>, release: () => Promise<void>): void {
  describe(`${name}: publish interrupted by kill -9`, () => {
    let backend: Backend;
    const verified = new Set<string>();
    beforeAll(async () => {
      expect(
        existsSync(BUILT),
        'the crash test runs the built registry: run `npx tsc -p tsconfig.build.json` first',
      ).toBe(true);
      backend = await prepare();
      const registry = backend.open();
      await registry.publish(bundleBytes('first'), meta('run-1'));
      await registry.setAlias('production', 'v1');
      await registry.close();
    });
    afterAll(release);

    it('keeps the old production alias when killed at each step of a publish', async () => {
      for (const step of backend.steps) {
        const registry = backend.open();
        const before = (await registry.aliasVersion('production'))!;
        const next = Math.max(...(await registry.list()).map((info) => info.number)) + 1;
        await registry.close();
        const child = startChild(backend.spec, 1, step);
        await child.waitFor(new RegExp(`paused at ${step}`));
        await child.kill();
        expect(await expectIntact(backend, new Set([before]), verified), `killed at ${step}`).toBe(before);
        // A publish killed before its version was installed leaves its number free for the next one.
        const after = backend.open();
        const numbers = (await after.list()).map((info) => info.number);
        await after.close();
        expect(Math.max(...numbers), `killed at ${step}`).toBe(INSTALLED_STEPS.has(step) ? next : next - 1);
      }
    });

    it('stays intact when killed at random moments across many publishes', async () => {
      const registry = backend.open();
      let production = (await registry.aliasVersion('production'))!;
      await registry.close();
      for (let run = 0; run < backend.kills; run++) {
        const child = startChild(backend.spec, 0);
        await child.waitFor(/^ready$/);
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 150)));
        await child.kill();
        // production is the old version, or one the child promoted (possibly just before the kill).
        const published = child.lines
          .filter((line) => line.startsWith('published '))
          .map((line) => line.slice(10));
        production = await expectIntact(backend, new Set([production, ...published]), verified);
      }
    });

    it('publishes cleanly afterwards and clears what the killed publishers left', async () => {
      const registry = backend.open();
      const highest = Math.max(...(await registry.list()).map((info) => info.number));
      const info = await registry.publish(bundleBytes('after the crashes'), meta('run-after'));
      expect(info.number).toBe(highest + 1);
      await registry.setAlias('production', info.version);
      expect((await registry.load('production')).info.runId).toBe('run-after');
      await backend.expectTidy(registry);
      await registry.close();
    });
  });
}

let folderBase: string;
defineCrashTest(
  'folder registry',
  async () => {
    folderBase = mkdtempSync(join(tmpdir(), 'pipewright-crash-'));
    const root = join(folderBase, 'registry');
    return {
      spec: { type: 'folder', root },
      open: () => new FolderRegistry(root),
      steps: ['bundle-written', 'manifest-written', 'version-installed', 'alias-written'],
      kills: 6,
      async expectTidy(registry) {
        expect(readdirSync(join(root, 'staging'))).toEqual([]);
        expect(readdirSync(join(root, 'aliases')).filter((file) => file !== 'production.json')).toEqual([]);
        // Every folder under versions/ is a complete version: nothing half-written was installed.
        const listed = (await registry.list()).map((info) => info.version).sort();
        expect(readdirSync(join(root, 'versions')).sort()).toEqual(listed);
      },
    };
  },
  async () => rmSync(folderBase, { recursive: true, force: true }),
);

for (const conditionalWrites of [false, true]) {
  let server: S3Fixture;
  defineCrashTest(
    `s3 registry ${conditionalWrites ? 'with conditional writes' : 'with claims'}`,
    async () => {
      server = await startS3({ conditionalWrites });
      const settings: S3RegistrySettings = {
        bucket: server.bucket,
        prefix: 'crash/',
        endpoint: server.endpoint,
        forcePathStyle: true,
        // a request s3rver leaves unanswered under load is tried again rather than waited on for ever
        timeoutMs: 5000,
      };
      return {
        spec: { type: 's3', ...settings },
        open: () => new S3Registry(settings),
        steps: conditionalWrites
          ? ['bundle-written', 'version-installed']
          : ['bundle-written', 'claimed', 'version-installed'],
        kills: 3,
        async expectTidy() {
          const claims = join(server.directory, server.bucket, 'crash', 'claims');
          const leftovers = existsSync(claims)
            ? readdirSync(claims, { recursive: true }).filter((file) =>
                String(file).endsWith('_S3rver_object'),
              )
            : [];
          expect(leftovers).toEqual([]);
        },
      };
    },
    async () => server.close(),
  );
}
