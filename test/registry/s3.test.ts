// The S3 registry against a real S3-compatible server (s3rver on loopback): the shared contract with
// and without conditional writes, its object layout, and errors that say what to fix.
import { readdirSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { S3Registry } from '../../src/registry/s3.js';
import { startS3, useS3rverCredentials, type S3Fixture } from '../fixtures/s3.js';
import { bundleBytes, defineRegistryContract, meta } from './contract.js';

useS3rverCredentials();

function rawClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function keysUnder(endpoint: string, bucket: string, prefix: string): Promise<string[]> {
  const client = rawClient(endpoint);
  try {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    return (page.Contents ?? []).map((object) => object.Key!).sort();
  } finally {
    client.destroy();
  }
}

let prefixCounter = 0;

for (const conditionalWrites of [false, true]) {
  let server: S3Fixture;
  describe(conditionalWrites ? 'with conditional writes' : 'without conditional writes (claims)', () => {
    beforeAll(async () => {
      server = await startS3({ conditionalWrites });
    });
    afterAll(async () => {
      await server.close();
    });
    defineRegistryContract(
      `s3 ${conditionalWrites ? 'conditional' : 'claims'}`,
      async () => {
        // Each test gets its own prefix in the shared bucket: an empty registry without a restart.
        const prefix = `team/registry-${++prefixCounter}/`;
        const settings = { bucket: server.bucket, prefix, endpoint: server.endpoint, forcePathStyle: true };
        return {
          registry: new S3Registry(settings),
          reopen: async () => new S3Registry(settings),
          corruptBundle: async (info) => {
            const client = rawClient(server.endpoint);
            await client.send(
              new PutObjectCommand({
                Bucket: server.bucket,
                Key: `${prefix}bundles/${info.sha256}.json`,
                Body: 'not the bundle',
              }),
            );
            client.destroy();
          },
          cleanup: async () => {},
        };
      },
      { atomicAliasMoves: conditionalWrites },
    );
  });
}

describe('s3 registry objects and errors', () => {
  let server: S3Fixture;
  beforeAll(async () => {
    server = await startS3();
  });
  afterAll(async () => {
    await server.close();
  });
  const open = (prefix: string, extra: Partial<ConstructorParameters<typeof S3Registry>[0]> = {}) =>
    new S3Registry({
      bucket: server.bucket,
      prefix,
      endpoint: server.endpoint,
      forcePathStyle: true,
      ...extra,
    });

  it('stores one manifest per version, bundles by hash, one object per alias and per history event', async () => {
    const registry = open('layout');
    const first = await registry.publish(bundleBytes('one'), meta('run-1'));
    await registry.publish(bundleBytes('two'), meta('run-2'));
    await registry.setAlias('production', 'v1');
    await registry.setAlias('production', 'v2');
    const keys = await keysUnder(server.endpoint, server.bucket, 'layout/');
    expect(keys.filter((key) => key.includes('/versions/'))).toEqual([
      'layout/versions/v1/manifest.json',
      'layout/versions/v2/manifest.json',
    ]);
    expect(keys).toContain(`layout/bundles/${first.sha256}.json`);
    expect(keys.filter((key) => key.includes('/aliases/'))).toEqual(['layout/aliases/production.json']);
    expect(keys.filter((key) => key.includes('/history/'))).toHaveLength(4);
    // Claims and probes are removed once a version is allocated.
    expect(keys.filter((key) => key.includes('/claims/') || key.includes('/probes/'))).toEqual([]);
    const client = rawClient(server.endpoint);
    const stored = await client.send(
      new GetObjectCommand({ Bucket: server.bucket, Key: 'layout/versions/v1/manifest.json' }),
    );
    expect(JSON.parse(await stored.Body!.transformToString())).toMatchObject({
      version: 'v1',
      runId: 'run-1',
    });
    client.destroy();
    await registry.close();
  });

  it('stores a bundle exactly as many bytes as it has (checksums off the wire)', async () => {
    const registry = open('exact');
    const bytes = new Uint8Array(3 * 1024 * 1024 + 17).fill(7);
    const info = await registry.publish(bytes, meta('run-exact'));
    const client = rawClient(server.endpoint);
    const head = await client.send(
      new GetObjectCommand({ Bucket: server.bucket, Key: `exact/bundles/${info.sha256}.json` }),
    );
    expect(head.ContentLength).toBe(bytes.byteLength);
    await head.Body!.transformToByteArray();
    client.destroy();
    await registry.close();
  });

  it('takes over a version number whose claim was abandoned long ago', async () => {
    const registry = open('stale');
    await registry.publish(bundleBytes('one'), meta('run-1'));
    // A claim for v2 from a publisher that died: s3rver keeps the modification time of the file.
    const client = rawClient(server.endpoint);
    await client.send(
      new PutObjectCommand({ Bucket: server.bucket, Key: 'stale/claims/v2/0-dead.json', Body: '{}' }),
    );
    client.destroy();
    const claimFolder = join(server.directory, server.bucket, 'stale', 'claims', 'v2');
    const old = new Date(Date.now() - 60 * 60 * 1000);
    for (const name of readdirSync(claimFolder)) utimesSync(join(claimFolder, name), old, old);
    const fresh = await registry.publish(bundleBytes('two'), meta('run-2'));
    expect(fresh.version).toBe('v2');
    await registry.close();
  });

  it('says the bucket does not exist, with a hint to create it or fix the config', async () => {
    const registry = open('any', { bucket: 'no-such-bucket' });
    const error = (await registry
      .publish(bundleBytes('one'), meta('run-1'))
      .catch((caught: unknown) => caught)) as PipewrightError;
    expect(error.code).toBe('PW_REGISTRY_FAILED');
    expect(error.hint).toMatch(/Create the bucket no-such-bucket/);
    await registry.close();
  });

  it('reports refused credentials without printing them', async () => {
    const keyId = 'WRONG-KEY-ID-EXAMPLE';
    const secret = 'wrong-secret-value-4242';
    process.env.AWS_ACCESS_KEY_ID = keyId;
    process.env.AWS_SECRET_ACCESS_KEY = secret;
    try {
      const registry = open('any');
      const error = (await registry.list().catch((caught: unknown) => caught)) as PipewrightError;
      expect(error.code).toBe('PW_REGISTRY_FAILED');
      expect(error.message).toMatch(/InvalidAccessKeyId/);
      expect(error.hint).toMatch(/refused the credentials/);
      const shown = JSON.stringify({ ...error.toJSON(), stack: error.stack });
      expect(shown).not.toContain(keyId);
      expect(shown).not.toContain(secret);
      await registry.close();
    } finally {
      useS3rverCredentials();
    }
  });

  it('reports an endpoint it cannot reach', async () => {
    const registry = new S3Registry({
      bucket: 'models',
      prefix: 'x',
      endpoint: 'http://127.0.0.1:9',
      forcePathStyle: true,
    });
    const error = (await registry.list().catch((caught: unknown) => caught)) as PipewrightError;
    expect(error.code).toBe('PW_REGISTRY_FAILED');
    expect(error.hint).toMatch(/Cannot reach http:\/\/127\.0\.0\.1:9/);
    await registry.close();
  });
});

describe('s3 registry on a store that stops answering', () => {
  let server: S3Fixture;
  beforeAll(async () => {
    server = await startS3();
  });
  afterAll(async () => {
    server.resume();
    await server.close();
  });
  // a request that moves no byte for 200 ms is abandoned (3 tries in all)
  const open = (prefix: string) =>
    new S3Registry({
      bucket: server.bucket,
      prefix,
      endpoint: server.endpoint,
      forcePathStyle: true,
      timeoutMs: 200,
    });

  /** Runs `body` on a registry under `prefix`; after it the store answers again and the registry is closed. */
  async function withRegistry(prefix: string, body: (registry: S3Registry) => Promise<void>): Promise<void> {
    const registry = open(prefix);
    try {
      await body(registry);
    } finally {
      server.resume();
      await registry.close();
    }
  }

  it('gives up on every request it makes to a stalled store, with PW_REGISTRY_FAILED, instead of waiting for ever', () =>
    withRegistry('stalled/', async (registry) => {
      server.stall();
      const heldBefore = server.held();
      for (const operation of [
        () => registry.list(),
        () => registry.load('production'),
        () => registry.publish(bundleBytes('never stored'), meta('run-stalled')),
      ]) {
        const error = (await operation().catch((caught: unknown) => caught)) as PipewrightError;
        expect(error.code).toBe('PW_REGISTRY_FAILED');
        expect(error.details).toMatchObject({ s3Error: 'TimeoutError' });
      }
      // every operation tried its request three times before giving up
      expect(server.held() - heldBefore).toBe(9);
    }));

  it('leaves the registry as it was when a publish stalls, and publishes once the store answers again', () =>
    withRegistry('stalls-then-recovers/', async (registry) => {
      const first = await registry.publish(bundleBytes('first'), meta('run-1'));
      await registry.setAlias('production', first.version);
      // the bundle upload is held, then every try after it
      server.stall();
      const error = (await registry
        .publish(bundleBytes('stalled'), meta('run-2'))
        .catch((caught: unknown) => caught)) as PipewrightError;
      expect(error.code).toBe('PW_REGISTRY_FAILED');
      server.resume();
      expect((await registry.list()).map((info) => info.version)).toEqual([first.version]);
      expect((await registry.resolve('production')).version).toBe(first.version);
      expect((await registry.load('production')).bytes).toEqual(bundleBytes('first'));
      const next = await registry.publish(bundleBytes('after the stall'), meta('run-3'));
      expect(next.number).toBe(first.number + 1);
      expect((await registry.load(next.version)).bytes).toEqual(bundleBytes('after the stall'));
    }));

  it('rides out a store that stalls for a moment: the held request is tried again and the operation succeeds', () =>
    withRegistry('stalls-once/', async (registry) => {
      const info = await registry.publish(bundleBytes('kept'), meta('run-1'));
      await registry.setAlias('production', info.version);
      for (const requests of [1, 2]) {
        const heldBefore = server.held();
        server.stall(requests);
        const loaded = await registry.load('production');
        expect(loaded.info.version).toBe(info.version);
        expect(loaded.bytes).toEqual(bundleBytes('kept'));
        expect(server.held() - heldBefore).toBe(requests);
      }
      server.stall(1);
      const next = await registry.publish(bundleBytes('published through a stall'), meta('run-2'));
      expect((await registry.load(next.version)).bytes).toEqual(bundleBytes('published through a stall'));
    }));
});
