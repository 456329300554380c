// Real `pipewright serve` processes for deployment tests: starts them on free loopback ports, keeps
// track of every child so none outlives the test run, and drives a bounded load against them.
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN } from '../helpers/cli.js';

export interface ServingProcess {
  url: string;
  child: ChildProcess;
  /** What the process wrote to stderr so far, for failure messages. */
  stderr(): string;
}

const children = new Set<ChildProcess>();

// A test runner that dies on an uncaught failure still takes its servers down with it.
process.once('exit', () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The environment of a child: this one without database, token or test-runner variables, plus `extra`. */
export function childEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('MONGODB_') && !name.startsWith('PIPEWRIGHT_') && !name.startsWith('VITEST'))
      env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `pipewright serve --port 0` in `cwd` and resolves once it prints the address it listens on. */
export function startServing(
  cwd: string,
  args: string[] = [],
  env = childEnvironment(),
): Promise<ServingProcess> {
  const child = spawn(process.execPath, [BIN, '--json', ...args, 'serve', '--port', '0'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /"url": "(http:\/\/127\.0\.0\.1:\d+)"/.exec(stdout);
      if (!match) return;
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      // Later output is not needed, but the pipe must keep draining.
      child.stdout!.resume();
      resolve({ url: match[1], child, stderr: () => stderr });
    };
    const onExit = (code: number | null) =>
      reject(new Error(`pipewright serve exited with ${code} before listening:\n${stdout}\n${stderr}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Stops a child with SIGTERM (it finishes its requests), or SIGKILL when it does not exit in time. */
export async function stopProcess(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Stops every child started here that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((child) => stopProcess(child)));
}

/** Runs the real CLI to completion; resolves with its exit code and output. */
export function runPipewright(
  cwd: string,
  args: string[],
  env = childEnvironment(),
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface LoadOptions {
  /** Requests per second sent to each target. */
  ratePerTarget: number;
  /** Concurrent request loops per target. */
  loopsPerTarget: number;
  /** The loops stop by themselves after this long, whatever happens. */
  limitMs: number;
  body: (sequence: number) => unknown;
}

export interface LoadReport {
  sent: number;
  /** One line per request that did not get a 200 with a version. */
  failures: string[];
  /** The model versions each target answered with, in the order first seen. */
  versions: Map<string, string[]>;
  seconds: number;
}

export interface RunningLoad {
  sent(): number;
  stop(): Promise<LoadReport>;
}

/**
 * Sends POST /predict to every target at a steady rate, over keep-alive connections, until stopped
 * or until `limitMs` has passed; records every failure and the versions that answered.
 */
export function startLoad(targets: string[], options: LoadOptions): RunningLoad {
  const started = performance.now();
  const deadline = started + options.limitMs;
  const failures: string[] = [];
  const versions = new Map<string, string[]>(targets.map((target) => [target, []]));
  let sent = 0;
  let stopped = false;
  const gapMs = (1000 * options.loopsPerTarget) / options.ratePerTarget;

  async function loop(target: string, offsetMs: number): Promise<void> {
    let next = performance.now() + offsetMs;
    while (!stopped && performance.now() < deadline) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      next += gapMs;
      const sequence = sent++;
      try {
        const response = await fetch(`${target}/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(options.body(sequence)),
          signal: AbortSignal.timeout(10_000),
        });
        const text = await response.text();
        const version =
          response.status === 200 ? (JSON.parse(text) as { version?: string }).version : undefined;
        if (!version) {
          failures.push(`${target} request ${sequence}: ${response.status} ${text.slice(0, 300)}`);
          continue;
        }
        const seen = versions.get(target)!;
        if (!seen.includes(version)) seen.push(version);
      } catch (error) {
        failures.push(
          `${target} request ${sequence}: ${(error as Error).message} ${String((error as Error).cause ?? '')}`,
        );
      }
    }
  }

  const loops = targets.flatMap((target) =>
    Array.from({ length: options.loopsPerTarget }, (_, index) =>
      loop(target, (index * gapMs) / options.loopsPerTarget),
    ),
  );
  const finished = Promise.all(loops);
  return {
    sent: () => sent,
    async stop() {
      stopped = true;
      await finished;
      return { sent, failures, versions, seconds: (performance.now() - started) / 1000 };
    },
  };
}

/** Polls `read` until `done` holds; throws after `limitMs` (a liveness bound for a hung process). */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  limitMs: number,
): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`not reached within ${limitMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
