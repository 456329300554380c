// `pipewright models …` run in-process against a scaffolded project whose folder registry holds a
// few published versions: listing, showing, promoting, rolling back and the history, human and JSON.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/core/config.js';
import { scaffold } from '../../src/project/scaffold.js';
import { openRegistry } from '../../src/registry/index.js';

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('pipewright models', () => {
  let base: string;
  let project: string;

  async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await main(
      ['node', 'pipewright', '--config', join(project, 'pipewright.yaml'), '--quiet', ...args],
      { stdout, stderr },
    );
    return { code, stdout: stdout.text, stderr: stderr.text };
  }

  beforeAll(async () => {
    process.env.USER = 'model-owner';
    base = mkdtempSync(join(tmpdir(), 'pipewright-models-'));
    project = join(base, 'churn');
    scaffold(project, {
      values: {
        name: 'churn',
        collection: 'churn',
        metric: 'roc_auc',
        expected_score: '0.6',
        version: '0.0.0',
      },
    });
    const { config, dir } = loadConfig(join(project, 'pipewright.yaml'));
    const registry = await openRegistry(config, dir);
    await registry.publish(new TextEncoder().encode('{"bundle":1}'), {
      runId: 'run-one',
      metrics: { roc_auc: 0.8123456, f1: 0.5 },
      schemaFingerprint: 'fp-1',
      task: 'binary',
      modelType: 'gbdt',
    });
    await registry.publish(new TextEncoder().encode('{"bundle":2}'), {
      runId: 'run-two',
      metrics: { roc_auc: 0.85 },
      schemaFingerprint: 'fp-1',
    });
    await registry.setAlias('production', 'v1');
    await registry.close();
  });
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('lists versions with their metrics and aliases', async () => {
    const human = await run('models', 'list');
    expect(human.code, human.stderr).toBe(0);
    const lines = human.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+CREATED\s+RUN\s+SIZE\s+METRICS\s+ALIASES$/);
    expect(lines[1]).toMatch(/^v1\s.*run-one.*roc_auc 0\.8123, f1 0\.5\s+production$/);
    expect(lines[2]).toMatch(/^v2\s.*run-two/);
    const json = await run('models', 'list', '--json');
    const parsed = JSON.parse(json.stdout) as {
      versions: { version: string; aliases: string[] }[];
      registry: string;
    };
    expect(parsed.versions.map((info) => [info.version, info.aliases])).toEqual([
      ['v1', ['production']],
      ['v2', []],
    ]);
    expect(parsed.registry).toBe(join(project, '.pipewright', 'registry'));
  });

  it('shows the manifest of a version or of an alias', async () => {
    const human = await run('models', 'show', 'production');
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^v1 {2}\(production\)/);
    expect(human.stdout).toMatch(/run\s+run-one/);
    expect(human.stdout).toMatch(/size\s+12 B \(12 bytes\)/);
    expect(human.stdout).toMatch(/sha256\s+[0-9a-f]{64}/);
    expect(human.stdout).toMatch(/metrics\s+roc_auc\s+0\.8123/);
    const json = JSON.parse((await run('--json', 'models', 'show', 'v2')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      version: 'v2',
      runId: 'run-two',
      metrics: { roc_auc: 0.85 },
      size: 12,
      aliases: [],
    });
    expect(typeof json.createdAt).toBe('string');
  });

  it('refuses an unknown version, naming the versions that exist', async () => {
    const shown = await run('models', 'show', 'v7');
    expect(shown.code).toBe(1);
    expect(shown.stderr).toMatch(/error PW_REGISTRY_NOT_FOUND: No version or alias "v7"/);
    expect(shown.stderr).toMatch(/hint: Existing versions: v1, v2; aliases: production -> v1/);
    const promoted = await run('models', 'promote', 'v9', '--json');
    expect(promoted.code).toBe(1);
    expect(JSON.parse(promoted.stdout).error).toMatchObject({
      code: 'PW_REGISTRY_NOT_FOUND',
      details: { versions: ['v1', 'v2'] },
    });
  });

  it('promotes to production by default, rolls back, and records both in the history', async () => {
    const promoted = await run('models', 'promote', 'v2', '--reason', 'higher roc_auc');
    expect(promoted.code, promoted.stderr).toBe(0);
    expect(promoted.stdout.trim()).toBe('production: v1 -> v2');
    const again = JSON.parse((await run('models', 'promote', 'v2', '--json')).stdout);
    expect(again).toEqual({ alias: 'production', version: 'v2', previous: 'v2', changed: false });
    const staged = JSON.parse((await run('models', 'promote', 'v1', '--alias', 'staging', '--json')).stdout);
    expect(staged).toMatchObject({ alias: 'staging', version: 'v1', previous: null, changed: true });

    const rolled = await run('models', 'rollback');
    expect(rolled.code, rolled.stderr).toBe(0);
    expect(rolled.stdout.trim()).toBe('production rolled back: v2 -> v1');
    expect(JSON.parse((await run('models', 'show', 'production', '--json')).stdout).version).toBe('v1');

    const history = JSON.parse((await run('models', 'history', '--json')).stdout) as {
      events: { action: string; alias?: string; to: string; who: string; reason?: string }[];
    };
    expect(history.events.map((event) => [event.action, event.alias ?? '', event.to])).toEqual([
      ['publish', '', 'v1'],
      ['publish', '', 'v2'],
      ['alias', 'production', 'v1'],
      ['alias', 'production', 'v2'],
      ['alias', 'staging', 'v1'],
      ['rollback', 'production', 'v1'],
    ]);
    expect(history.events[3]).toMatchObject({ who: 'model-owner', reason: 'higher roc_auc' });
    const human = await run('models', 'history', '--alias', 'production', '--limit', '2');
    expect(
      human.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(/\s{2,}/).slice(1, 3)),
    ).toEqual([
      ['alias', 'production: v1 -> v2'],
      ['rollback', 'production: v2 -> v1'],
    ]);
  });

  it('refuses to roll back an alias with nowhere to go back to', async () => {
    const result = await run('models', 'rollback', '--alias', 'nightly');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PW_REGISTRY_NOT_FOUND: No alias "nightly"/);
    expect(result.stderr).toMatch(/Existing aliases: production, staging/);
  });
});
