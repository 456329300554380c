// The folder registry: the shared contract, its on-disk layout, and what it does with the debris of
// crashed writers.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderRegistry } from '../../src/registry/folder.js';
import { bundleBytes, defineRegistryContract, meta } from './contract.js';

defineRegistryContract('folder', async () => {
  const root = join(mkdtempSync(join(tmpdir(), 'pipewright-registry-')), 'registry');
  return {
    registry: new FolderRegistry(root),
    reopen: async () => new FolderRegistry(root),
    corruptBundle: async (info) => {
      const file = join(root, 'versions', info.version, 'bundle.json');
      const bytes = readFileSync(file);
      bytes[0] ^= 0xff;
      writeFileSync(file, bytes);
    },
    cleanup: async () => rmSync(join(root, '..'), { recursive: true, force: true }),
  };
});

describe('folder registry on disk', () => {
  const folders: string[] = [];
  const fresh = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pipewright-registry-'));
    folders.push(dir);
    return join(dir, 'registry');
  };
  afterEach(() => {
    for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('lays a version out as versions/vN/bundle.json + manifest.json, aliases as files, history as JSON lines', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    await registry.publish(bundleBytes('one'), meta('run-1'));
    await registry.setAlias('production', 'v1');
    expect(readdirSync(join(root, 'versions', 'v1')).sort()).toEqual(['bundle.json', 'manifest.json']);
    expect(JSON.parse(readFileSync(join(root, 'versions', 'v1', 'manifest.json'), 'utf8'))).toMatchObject({
      version: 'v1',
      runId: 'run-1',
      size: 256,
    });
    expect(JSON.parse(readFileSync(join(root, 'aliases', 'production.json'), 'utf8'))).toMatchObject({
      name: 'production',
      version: 'v1',
    });
    expect(readdirSync(join(root, 'aliases'))).toEqual(['production.json']);
    expect(readFileSync(join(root, 'history.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    expect(readdirSync(join(root, 'staging'))).toEqual([]);
  });

  it('records the user the caller names as the author of a publish and of an alias move', async () => {
    const registry = new FolderRegistry(fresh(), { user: 'release-bot' });
    const info = await registry.publish(bundleBytes('one'), meta('run-1'));
    await registry.setAlias('production', 'v1');
    expect(info.createdBy).toBe('release-bot');
    expect((await registry.getAlias('production'))?.updatedBy).toBe('release-bot');
  });

  it('reports each durable step of a publish and of an alias move, in order', async () => {
    const steps: string[] = [];
    const registry = new FolderRegistry(fresh(), { onStep: (step) => void steps.push(step) });
    await registry.publish(bundleBytes('one'), meta('run-1'));
    await registry.setAlias('production', 'v1');
    expect(steps).toEqual(['bundle-written', 'manifest-written', 'version-installed', 'alias-written']);
  });

  it('reads a registry that does not exist yet as empty, without creating it', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    expect(await registry.list()).toEqual([]);
    expect(await registry.history()).toEqual([]);
    expect(existsSync(root)).toBe(false);
  });

  it('hides a version folder that has no manifest and publishes past it', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    await registry.publish(bundleBytes('one'), meta('run-1'));
    mkdirSync(join(root, 'versions', 'v2'));
    writeFileSync(join(root, 'versions', 'v2', 'bundle.json'), 'half a bundle');
    expect((await registry.list()).map((info) => info.version)).toEqual(['v1']);
    expect((await registry.publish(bundleBytes('three'), meta('run-3'))).version).toBe('v3');
    expect((await registry.list()).map((info) => info.version)).toEqual(['v1', 'v3']);
  });

  it('keeps the history readable when a crash tore its last line, and appends on a fresh line', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    await registry.publish(bundleBytes('one'), meta('run-1'));
    appendFileSync(join(root, 'history.jsonl'), '{"time":"2026-01-01T00:00:00.000Z","act');
    expect((await registry.history()).map((event) => event.to)).toEqual(['v1']);
    await registry.publish(bundleBytes('two'), meta('run-2'));
    expect((await registry.history()).map((event) => event.to)).toEqual(['v1', 'v2']);
  });

  it('removes staging folders and alias temp files left by dead processes', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    await registry.publish(bundleBytes('one'), meta('run-1'));
    const host = (await import('node:os')).hostname().replace(/[^A-Za-z0-9.-]/g, '_');
    // pid 2^22 + 1 is above Linux's pid_max, so no live process owns these.
    const deadStage = join(root, 'staging', `.publish~4194305~abcd0123~${host}`);
    mkdirSync(deadStage);
    writeFileSync(join(deadStage, 'bundle.json'), 'partial');
    const liveStage = join(root, 'staging', `.publish~${process.pid}~abcd0123~${host}`);
    mkdirSync(liveStage);
    mkdirSync(join(root, 'aliases'), { recursive: true });
    const deadTemp = join(root, 'aliases', `.production~4194305~abcd0123~${host}.tmp`);
    writeFileSync(deadTemp, '{"name":"production"');
    await registry.publish(bundleBytes('two'), meta('run-2'));
    await registry.setAlias('production', 'v2');
    expect(existsSync(deadStage)).toBe(false);
    expect(existsSync(liveStage)).toBe(true);
    expect(existsSync(deadTemp)).toBe(false);
    expect((await registry.aliases()).map((alias) => alias.name)).toEqual(['production']);
  });

  it('names the manifest file when a manifest is damaged', async () => {
    const root = fresh();
    const registry = new FolderRegistry(root);
    await registry.publish(bundleBytes('one'), meta('run-1'));
    writeFileSync(join(root, 'versions', 'v1', 'manifest.json'), '{"version": ');
    const error = await new FolderRegistry(root)
      .resolve('v1')
      .catch((caught: unknown) => caught as { code: string; where: string });
    expect(error).toMatchObject({
      code: 'PW_BUNDLE_INVALID',
      where: join(root, 'versions', 'v1', 'manifest.json'),
    });
  });
});
