// The behaviour every registry backend must show, written once and run against each backend.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import type { ModelRegistry, PublishMeta, VersionInfo } from '../../src/registry/types.js';

export interface RegistryUnderTest {
  registry: ModelRegistry;
  /** A second, independent handle on the same registry (another process would see this). */
  reopen(): Promise<ModelRegistry>;
  /** Replaces the stored bundle of `info` with other bytes, as disk or bucket damage would. */
  corruptBundle(info: VersionInfo): Promise<void>;
  cleanup(): Promise<void>;
}

export function meta(runId: string, extra: Partial<PublishMeta> = {}): PublishMeta {
  return {
    runId,
    metrics: { roc_auc: 0.81, f1: 0.5 },
    schemaFingerprint: 'fingerprint-1',
    task: 'binary',
    modelType: 'gbdt',
    ...extra,
  };
}

export function bundleBytes(label: string, size = 256): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(Buffer.from(label).subarray(0, size));
  return bytes;
}

async function codeOf(promise: Promise<unknown>): Promise<PipewrightError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected the call to fail').toBeInstanceOf(Error);
  return error as PipewrightError;
}

export function defineRegistryContract(
  name: string,
  open: () => Promise<RegistryUnderTest>,
  /** Whether the backend can swap an alias atomically (an S3 store without conditional writes cannot). */
  options: { atomicAliasMoves?: boolean } = {},
): void {
  describe(`${name} registry contract`, () => {
    const opened: RegistryUnderTest[] = [];
    const handles: ModelRegistry[] = [];
    const start = async (): Promise<RegistryUnderTest> => {
      const subject = await open();
      opened.push(subject);
      handles.push(subject.registry);
      return subject;
    };
    const reopen = async (subject: RegistryUnderTest): Promise<ModelRegistry> => {
      const handle = await subject.reopen();
      handles.push(handle);
      return handle;
    };
    afterEach(async () => {
      for (const handle of handles.splice(0)) await handle.close();
      for (const subject of opened.splice(0)) await subject.cleanup();
    });

    it('starts empty and says so when asked for an alias', async () => {
      const { registry } = await start();
      expect(await registry.list()).toEqual([]);
      expect(await registry.aliases()).toEqual([]);
      expect(await registry.history()).toEqual([]);
      expect(await registry.aliasVersion('production')).toBeUndefined();
      const error = await codeOf(registry.resolve('production'));
      expect(error.code).toBe('PW_REGISTRY_NOT_FOUND');
      expect(error.hint).toMatch(/no versions yet/);
    });

    it('numbers versions v1, v2, … and keeps what publish was given', async () => {
      const subject = await start();
      const { registry } = subject;
      const first = await registry.publish(
        bundleBytes('first'),
        meta('run-1', { dataHash: 'data-1', params: { depth: 4 } }),
      );
      const second = await registry.publish(
        bundleBytes('second'),
        meta('run-2', { metrics: { roc_auc: 0.9 } }),
      );
      expect([first.version, second.version]).toEqual(['v1', 'v2']);
      expect(first).toMatchObject({
        number: 1,
        runId: 'run-1',
        metrics: { roc_auc: 0.81, f1: 0.5 },
        schemaFingerprint: 'fingerprint-1',
        task: 'binary',
        modelType: 'gbdt',
        dataHash: 'data-1',
        size: 256,
        sha256: createHash('sha256').update(bundleBytes('first')).digest('hex'),
        meta: { params: { depth: 4 } },
      });
      expect(Number.isNaN(Date.parse(first.createdAt))).toBe(false);
      const other = await reopen(subject);
      expect(await other.resolve('v1')).toEqual(first);
      expect((await other.list()).map((info) => [info.version, info.runId])).toEqual([
        ['v1', 'run-1'],
        ['v2', 'run-2'],
      ]);
    });

    it('loads the exact bytes of a version and of an alias', async () => {
      const { registry } = await start();
      const bytes = randomBytes(4096);
      const info = await registry.publish(bytes, meta('run-1'));
      await registry.setAlias('production', info.version);
      const byVersion = await registry.load(info.version);
      const byAlias = await registry.load('production');
      expect(Buffer.from(byVersion.bytes).equals(bytes)).toBe(true);
      expect(Buffer.from(byAlias.bytes).equals(bytes)).toBe(true);
      expect(byAlias.info.version).toBe('v1');
    });

    it('round-trips a 20 MB bundle with the exact byte count and hash', async () => {
      const { registry } = await start();
      const bytes = randomBytes(20 * 1024 * 1024);
      const expected = createHash('sha256').update(bytes).digest('hex');
      const info = await registry.publish(bytes, meta('run-big'));
      expect(info.size).toBe(20 * 1024 * 1024);
      expect(info.sha256).toBe(expected);
      const loaded = await registry.load(info.version);
      expect(loaded.bytes.byteLength).toBe(20 * 1024 * 1024);
      expect(createHash('sha256').update(loaded.bytes).digest('hex')).toBe(expected);
    });

    it('refuses to load a bundle whose bytes no longer match its manifest', async () => {
      const subject = await start();
      const info = await subject.registry.publish(bundleBytes('genuine'), meta('run-1'));
      await subject.corruptBundle(info);
      const fresh = await reopen(subject);
      const error = await codeOf(fresh.load('v1'));
      expect(error.code).toBe('PW_BUNDLE_INVALID');
      expect(error.message).toMatch(/v1.*damaged/);
    });

    it('moves aliases, lists them with their versions and answers aliasVersion', async () => {
      const subject = await start();
      const { registry } = subject;
      await registry.publish(bundleBytes('one'), meta('run-1'));
      await registry.publish(bundleBytes('two'), meta('run-2'));
      const poller = await reopen(subject);
      await registry.setAlias('production', 'v1');
      expect(await poller.aliasVersion('production')).toBe('v1');
      // Polling an alias that has not moved answers the same (S3 answers from the ETag).
      expect(await poller.aliasVersion('production')).toBe('v1');
      await registry.setAlias('staging', 'v2');
      await registry.setAlias('production', 'staging');
      expect(await poller.aliasVersion('production')).toBe('v2');
      expect(await registry.getAlias('production')).toMatchObject({
        name: 'production',
        version: 'v2',
        previous: 'v1',
      });
      expect((await registry.aliases()).map((alias) => [alias.name, alias.version])).toEqual([
        ['production', 'v2'],
        ['staging', 'v2'],
      ]);
      const listed = await registry.list();
      expect(listed.map((info) => [info.version, info.aliases])).toEqual([
        ['v1', []],
        ['v2', ['production', 'staging']],
      ]);
      expect((await registry.resolve('production')).runId).toBe('run-2');
    });

    it('refuses an unknown version with a hint naming the existing ones', async () => {
      const { registry } = await start();
      await registry.publish(bundleBytes('one'), meta('run-1'));
      await registry.publish(bundleBytes('two'), meta('run-2'));
      const error = await codeOf(registry.setAlias('production', 'v9'));
      expect(error.code).toBe('PW_REGISTRY_NOT_FOUND');
      expect(error.hint).toContain('v1, v2');
      expect(await registry.getAlias('production')).toBeUndefined();
      expect((await codeOf(registry.load('missing-alias'))).code).toBe('PW_REGISTRY_NOT_FOUND');
    });

    it('refuses alias names that are unsafe or look like versions', async () => {
      const { registry } = await start();
      await registry.publish(bundleBytes('one'), meta('run-1'));
      for (const bad of ['../escape', 'v2', '', 'with space', 'a/b']) {
        expect((await codeOf(registry.setAlias(bad, 'v1'))).code).toBe('PW_USAGE');
      }
    });

    it('refuses publish metadata that would not round-trip', async () => {
      const { registry } = await start();
      const error = await codeOf(
        registry.publish(bundleBytes('one'), meta('run-1', { metrics: { roc_auc: Number.NaN } })),
      );
      expect(error.code).toBe('PW_REGISTRY_FAILED');
      expect(error.message).toMatch(/roc_auc/);
      expect((await codeOf(registry.publish(new Uint8Array(0), meta('run-1')))).code).toBe(
        'PW_BUNDLE_INVALID',
      );
      expect(await registry.list()).toEqual([]);
    });

    it('rolls an alias back to the version it pointed at before its last move', async () => {
      const { registry } = await start();
      for (const run of ['run-1', 'run-2', 'run-3']) await registry.publish(bundleBytes(run), meta(run));
      await registry.setAlias('production', 'v1');
      await registry.setAlias('production', 'v3');
      expect(await registry.rollback('production', { reason: 'v3 misbehaves' })).toEqual({
        alias: 'production',
        from: 'v3',
        to: 'v1',
      });
      expect(await registry.aliasVersion('production')).toBe('v1');
      // A second rollback undoes the first.
      expect(await registry.rollback('production')).toEqual({ alias: 'production', from: 'v1', to: 'v3' });
    });

    it('refuses to roll back an alias that has nowhere to go back to', async () => {
      const { registry } = await start();
      await registry.publish(bundleBytes('one'), meta('run-1'));
      expect((await codeOf(registry.rollback('production'))).code).toBe('PW_REGISTRY_NOT_FOUND');
      await registry.setAlias('production', 'v1');
      const error = await codeOf(registry.rollback('production'));
      expect(error.code).toBe('PW_REGISTRY_NOT_FOUND');
      expect(error.message).toMatch(/no earlier version/);
      expect(await registry.aliasVersion('production')).toBe('v1');
    });

    it('records publishes, alias moves and rollbacks in order, with who and why', async () => {
      process.env.USER = 'registry-tester';
      const subject = await start();
      const { registry } = subject;
      await registry.publish(bundleBytes('one'), meta('run-1'));
      await registry.publish(bundleBytes('two'), meta('run-2'));
      await registry.setAlias('production', 'v1');
      await registry.setAlias('production', 'v2', { reason: 'better roc_auc' });
      await registry.setAlias('production', 'v2');
      await registry.rollback('production', { reason: 'latency' });
      const events = await (await reopen(subject)).history();
      expect(
        events.map((event) => [
          event.action,
          event.alias ?? null,
          event.from ?? null,
          event.to,
          event.reason ?? null,
        ]),
      ).toEqual([
        ['publish', null, null, 'v1', null],
        ['publish', null, null, 'v2', null],
        ['alias', 'production', null, 'v1', null],
        ['alias', 'production', 'v1', 'v2', 'better roc_auc'],
        ['rollback', 'production', 'v2', 'v1', 'latency'],
      ]);
      expect(
        events.every((event) => event.who === 'registry-tester' && !Number.isNaN(Date.parse(event.time))),
      ).toBe(true);
      expect(events[0].runId).toBe('run-1');
    });

    it('gives concurrent publishers distinct versions, each holding its own bundle', async () => {
      const subject = await start();
      const other = await reopen(subject);
      const publishers = [subject.registry, other];
      const bundles = Array.from({ length: 8 }, (_, index) =>
        bundleBytes(`concurrent-${index}`, 1024 + index),
      );
      const published = await Promise.all(
        bundles.map((bytes, index) => publishers[index % 2].publish(bytes, meta(`run-${index}`))),
      );
      const versions = published.map((info) => info.version);
      expect(new Set(versions).size).toBe(8);
      const byNumber = [...versions].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
      expect((await subject.registry.list()).map((info) => info.version)).toEqual(byNumber);
      for (const [index, info] of published.entries()) {
        const loaded = await subject.registry.load(info.version);
        expect(loaded.info.runId).toBe(`run-${index}`);
        expect(Buffer.from(loaded.bytes).equals(Buffer.from(bundles[index]))).toBe(true);
      }
      expect((await subject.registry.history()).filter((event) => event.action === 'publish')).toHaveLength(
        8,
      );
    });

    it.skipIf(options.atomicAliasMoves === false)(
      'loses no alias move when processes promote at the same time: every move records the one before it',
      async () => {
        const subject = await start();
        const versions: string[] = [];
        for (let index = 0; index < 6; index++) {
          versions.push(
            (await subject.registry.publish(bundleBytes(`cas-${index}`), meta(`run-${index}`))).version,
          );
        }
        const promoters = [subject.registry, ...(await Promise.all([1, 2, 3].map(() => reopen(subject))))];
        await Promise.all(
          versions.map((version, index) =>
            promoters[index % promoters.length].setAlias('production', version),
          ),
        );
        const moves = (await subject.registry.history()).filter((event) => event.action === 'alias');
        expect(moves).toHaveLength(versions.length);
        expect(moves[0].from).toBeNull();
        for (let index = 1; index < moves.length; index++)
          expect(moves[index].from).toBe(moves[index - 1].to);
        const final = await subject.registry.getAlias('production');
        expect(final?.version).toBe(moves.at(-1)!.to);
        expect(final?.previous).toBe(moves.at(-2)!.to);
        expect(new Set(moves.map((move) => move.to))).toEqual(new Set(versions));
      },
    );
  });
}
