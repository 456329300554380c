import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, isLocked } from '../../src/core/lock.js';
import { ROOT, tempDir } from '../helpers/cli.js';

function lockCode(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

describe('locks between processes', () => {
  it('lets one holder in at a time and frees the lock on release', () => {
    const file = join(tempDir(), 'run.lock');
    const first = acquireLock(file, { purpose: 'pipewright run' });
    expect(lockCode(() => acquireLock(file, { purpose: 'pipewright run' }))).toBe('PW_LOCKED');
    expect(isLocked(file)?.pid).toBe(process.pid);
    first.release();
    expect(existsSync(file)).toBe(false);
    acquireLock(file, { purpose: 'pipewright run' }).release();
  });

  it('takes a lock whose owner process is gone, or that was left half-written', () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const file = join(dir, 'dead.lock');
    writeFileSync(
      file,
      JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString(), purpose: 'x' }),
    );
    expect(isLocked(file)).toBeUndefined();
    acquireLock(file, { purpose: 'pipewright run' }).release();
    const torn = join(dir, 'torn.lock');
    writeFileSync(torn, '{"pid": 12');
    acquireLock(torn, { purpose: 'pipewright run' }).release();
  });

  it("honours another host's lock until it is older than the stale limit", () => {
    const file = join(tempDir(), 'shared.lock');
    const owner = { pid: 1, host: 'another-host.example', purpose: 'pipewright run' };
    writeFileSync(file, JSON.stringify({ ...owner, since: new Date().toISOString() }));
    expect(lockCode(() => acquireLock(file, { purpose: 'p', staleAfterMs: 60_000 }))).toBe('PW_LOCKED');
    writeFileSync(file, JSON.stringify({ ...owner, since: new Date(Date.now() - 120_000).toISOString() }));
    acquireLock(file, { purpose: 'p', staleAfterMs: 60_000 }).release();
  });

  it('is held by a live process in another program and taken over after that process is killed with SIGKILL', async () => {
    const file = join(tempDir(), 'run.lock');
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { acquireLock } from ${JSON.stringify(join(ROOT, 'dist/core/lock.js'))};
         acquireLock(${JSON.stringify(file)}, { purpose: 'pipewright run' });
         console.log('held');
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout!.once('data', () => resolve()));
    expect(lockCode(() => acquireLock(file, { purpose: 'pipewright run' }))).toBe('PW_LOCKED');
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    acquireLock(file, { purpose: 'pipewright run' }).release();
  });
});
