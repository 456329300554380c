// Signed bundles: a reader with the public key refuses what the private key did not sign.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../src/core/hash.js';
import { openRegistry } from '../../src/registry/index.js';
import { tempDir } from '../helpers/cli.js';
import { bundleBytes, meta } from './contract.js';

function keyPair(type: 'ed25519' | 'ec' = 'ed25519') {
  const pair =
    type === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );
}

function project(publicPem?: string) {
  const dir = tempDir();
  if (publicPem) writeFileSync(join(dir, 'public.pem'), publicPem);
  const settings = (required: boolean, key = 'public.pem') => ({
    type: 'folder' as const,
    path: 'registry',
    prefix: 'pipewright/',
    force_path_style: false,
    timeout_ms: 30_000,
    public_key: key,
    require_signature: required,
  });
  return { dir, settings };
}

describe('signed bundles', () => {
  it('signs with the key from the environment and loads with the matching public key', async () => {
    const keys = keyPair();
    const { dir, settings } = project(keys.publicPem);
    const publisher = await openRegistry(settings(true), dir, { PIPEWRIGHT_SIGNING_KEY: keys.privatePem });
    const info = await publisher.publish(bundleBytes('signed'), meta('run-1'));
    expect(info.meta.signature).toMatchObject({ algorithm: 'ed25519' });
    const reader = await openRegistry(settings(true), dir, {});
    expect((await reader.load(info.version)).info.version).toBe(info.version);
    expect(
      readFileSync(join(dir, 'registry', 'versions', info.version, 'manifest.json'), 'utf8'),
    ).not.toContain(keys.privatePem.split('\n')[1]);
  });

  it('refuses a bundle whose bytes and checksum were both replaced by someone without the key', async () => {
    const keys = keyPair();
    const { dir, settings } = project(keys.publicPem);
    const publisher = await openRegistry(settings(true), dir, { PIPEWRIGHT_SIGNING_KEY: keys.privatePem });
    const info = await publisher.publish(bundleBytes('original'), meta('run-1'));
    const folder = join(dir, 'registry', 'versions', info.version);
    const forged = bundleBytes('forged model');
    writeFileSync(join(folder, 'bundle.json'), forged);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
    writeFileSync(
      join(folder, 'manifest.json'),
      JSON.stringify({ ...manifest, sha256: sha256(forged), size: forged.byteLength }),
    );
    const reader = await openRegistry(settings(false), dir, {});
    expect(await codeOf(reader.load(info.version))).toBe('PW_SIGNATURE_INVALID');
  });

  it('refuses a bundle signed with another key, and an unsigned one when signatures are required', async () => {
    const signing = keyPair();
    const other = keyPair();
    const { dir, settings } = project(other.publicPem);
    const signed = await (
      await openRegistry(settings(false), dir, { PIPEWRIGHT_SIGNING_KEY: signing.privatePem })
    ).publish(bundleBytes('a'), meta('run-1'));
    const unsigned = await (
      await openRegistry(settings(false), dir, {})
    ).publish(bundleBytes('b'), meta('run-2'));
    const lenient = await openRegistry(settings(false), dir, {});
    expect(await codeOf(lenient.load(signed.version))).toBe('PW_SIGNATURE_INVALID');
    expect((await lenient.load(unsigned.version)).info.version).toBe(unsigned.version);
    const strict = await openRegistry(settings(true), dir, {});
    expect(await codeOf(strict.load(unsigned.version))).toBe('PW_SIGNATURE_INVALID');
  });

  it('refuses a signing key that is not Ed25519 and a required signature without a public key', async () => {
    const { dir, settings } = project();
    expect(
      await codeOf(openRegistry(settings(false), dir, { PIPEWRIGHT_SIGNING_KEY: keyPair('ec').privatePem })),
    ).toBe('PW_CONFIG_INVALID');
    expect(await codeOf(openRegistry({ ...settings(true), public_key: undefined }, dir, {}))).toBe(
      'PW_CONFIG_INVALID',
    );
    expect(await codeOf(openRegistry(settings(false, 'missing.pem'), dir, {}))).toBe('PW_CONFIG_INVALID');
  });
});
