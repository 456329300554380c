// Scripts run in processes of their own, against the compiled build: for what a test cannot do in its own
// process, such as refusing every worker thread.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The compiled build's module at `path` (under dist/), as a quoted URL for a script to import. */
export function distModule(path: string): string {
  return JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', ...path.split('/'))).href);
}

/**
 * Runs `source` as a script twice, each in a process of its own: `refused`, where every worker thread
 * fails as it starts (a preload throws off the main thread, as when a limit on threads refuses them),
 * and `normal`.
 */
export function runWithAndWithoutThreads(source: string): {
  refused: SpawnSyncReturns<string>;
  normal: SpawnSyncReturns<string>;
} {
  const dir = mkdtempSync(join(tmpdir(), 'pw-no-threads-'));
  const preload = join(dir, 'no-threads.mjs');
  writeFileSync(
    preload,
    `import { isMainThread } from 'node:worker_threads';
if (!isMainThread) throw new Error('no thread for this process');`,
  );
  const script = join(dir, 'script.mjs');
  writeFileSync(script, source);
  const run = (args: string[]) =>
    spawnSync(process.execPath, [...args, script], { encoding: 'utf8', timeout: 120_000 });
  return { refused: run(['--import', pathToFileURL(preload).href]), normal: run([]) };
}
