import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

describe('pipewright CLI foundation', () => {
  let project: string;

  beforeAll(async () => {
    project = join(tempDir(), 'insurance');
    const result = await runCli(['init', project]);
    expect(result.code, result.stderr).toBe(0);
  });

  it('prints help, per-command help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Usage: pipewright/);
    for (const option of ['--config', '--log-level', '--quiet', '--json', '--debug'])
      expect(help.stdout).toContain(option);
    const initHelp = await runCli(['init', '--help']);
    expect(initHelp.stdout).toContain('--force');
    const version = await runCli(['--version']);
    expect(version.stdout.trim()).toBe(
      JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version,
    );
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await runCli(['frobnicate'])).code).toBe(2);
    expect((await runCli(['check', '--no-such-flag'], { cwd: project })).code).toBe(2);
  });

  it('creates a complete project that passes check with no edits', async () => {
    for (const file of [
      'pipewright.yaml',
      'schema.yaml',
      'data',
      '.env.example',
      '.gitignore',
      'Dockerfile',
      '.dockerignore',
      '.github/workflows/pipeline.yml',
      'README.md',
    ]) {
      expect(existsSync(join(project, file)), file).toBe(true);
    }
    expect(readFileSync(join(project, '.gitignore'), 'utf8')).toMatch(/^\.env$/m);
    expect(readFileSync(join(project, '.env.example'), 'utf8')).toMatch(/^MONGODB_URL=$/m);
    const check = await runCli(['check'], { cwd: join(project, 'data') });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('target Response (binary)');
    const json = await runCli(['check', '--json'], { cwd: project });
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: true,
      project: 'insurance',
      schema: { key: 'id', target: 'Response' },
    });
  });

  it('refuses to init over an existing project, naming the files, unless --force', async () => {
    const again = await runCli(['init', project]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('PW_INIT_EXISTS');
    expect(again.stderr).toContain('pipewright.yaml');
    expect(again.stderr).toContain('schema.yaml');
    const forced = await runCli(['init', project, '--force', '--name', 'insurance']);
    expect(forced.code).toBe(0);
  });

  it('exits 2 with file:line:column and the nearest key for a misspelt config key', async () => {
    const dir = join(tempDir(), 'typo');
    await runCli(['init', dir]);
    const file = join(dir, 'pipewright.yaml');
    const lines = readFileSync(file, 'utf8').split('\n');
    const index = lines.findIndex((line) => line.startsWith('  test_size:'));
    lines[index] = lines[index].replace('test_size', 'test_sise');
    writeFileSync(file, lines.join('\n'));
    const check = await runCli(['check'], { cwd: dir });
    expect(check.code).toBe(2);
    expect(check.stderr).toContain(
      `pipewright.yaml:${index + 1}:3 split.test_sise: unknown key; did you mean "test_size"?`,
    );
    expect(check.stderr.trim().split('\n').length).toBeLessThanOrEqual(5);
  });

  it('leaves a log file for every invocation and never shows a connection string password', async () => {
    const dir = join(tempDir(), 'secret');
    await runCli(['init', dir]);
    const before = readdirSync(join(dir, 'logs')).length;
    const url = 'mongodb://admin:Sup3rSecretPw@127.0.0.1:1/prod';
    const check = await runCli(['check', '--debug'], { cwd: dir, env: { MONGODB_URL: url } });
    expect(check.code).toBe(0);
    writeFileSync(join(dir, 'pipewright.yaml'), 'project: x\nstore: {colection: y}\n');
    const broken = await runCli(['check', '--debug', '--json'], { cwd: dir, env: { MONGODB_URL: url } });
    expect(broken.code).toBe(2);
    const logs = readdirSync(join(dir, 'logs'));
    expect(logs.length).toBe(before + 2);
    const everything = [
      check.stdout,
      check.stderr,
      broken.stdout,
      broken.stderr,
      ...logs.map((name) => readFileSync(join(dir, 'logs', name), 'utf8')),
    ].join('\n');
    expect(everything).toContain('mongodb://admin:***@127.0.0.1:1/prod');
    expect(everything).not.toContain('Sup3rSecretPw');
  });

  it('reads secrets from .env but lets the environment win', async () => {
    const dir = join(tempDir(), 'dotenv');
    await runCli(['init', dir]);
    writeFileSync(join(dir, '.env'), 'MONGODB_URL=mongodb://a:fromdotenv1@dotenv.example.net/x\n');
    const fromFile = await runCli(['check', '--json'], { cwd: dir });
    expect(JSON.parse(fromFile.stdout).store).toContain('mongodb://a:***@dotenv.example.net/x');
    const fromEnv = await runCli(['check', '--json'], {
      cwd: dir,
      env: { MONGODB_URL: 'mongodb://b:fromenv22@env.example.net/y' },
    });
    expect(JSON.parse(fromEnv.stdout).store).toContain('mongodb://b:***@env.example.net/y');
  });

  it('prints an unexpected error with the .ts file and line where it happened', async () => {
    // An internal function called with a value it cannot handle throws a plain TypeError inside dist/;
    // the report must point at the TypeScript source, not the compiled file.
    const script = `
      process.setSourceMapsEnabled(true);
      const { reportError } = await import('./dist/cli/main.js');
      const { editDistance } = await import('./dist/core/suggest.js');
      try { editDistance(null, 'x'); } catch (error) {
        reportError(error, { context: undefined, globals: {}, stdout: process.stdout, stderr: process.stderr });
      }`;
    const { spawnSync } = await import('node:child_process');
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: join(import.meta.dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(result.stderr).toMatch(/^error PW_INTERNAL: Unexpected error: Cannot read properties of null/);
    expect(result.stderr).toMatch(/ {2}at: src\/core\/suggest\.ts:\d+:\d+/);
  });
});
