// Runs the real `pipewright` binary (built into dist/) in a child process, for end-to-end CLI tests.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'pipewright.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempDir(prefix = 'pipewright-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Runs `pipewright ...args` in `cwd` with a clean environment plus `env`. */
export function runCli(
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; input?: string } = {},
): Promise<CliResult> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (
      value !== undefined &&
      !name.startsWith('MONGODB_') &&
      !name.startsWith('PIPEWRIGHT_') &&
      !name.startsWith('VITEST')
    )
      env[name] = value;
  }
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  env.XDG_STATE_HOME = env.XDG_STATE_HOME ?? join(tmpdir(), 'pipewright-test-state');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Resolves with the first match of `pattern` in what `stream` prints (accumulated in `collected`). */
export function waitFor(
  stream: NodeJS.ReadableStream,
  pattern: RegExp,
  collected: { text: string },
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = pattern.exec(collected.text);
      if (!match) return;
      stream.off('data', onData);
      stream.off('end', onEnd);
      resolve(match);
    };
    const onData = (chunk: Buffer) => {
      collected.text += chunk.toString();
      check();
    };
    const onEnd = () => reject(new Error(`stream ended before ${pattern}; got:\n${collected.text}`));
    stream.on('data', onData);
    stream.on('end', onEnd);
    check();
  });
}
