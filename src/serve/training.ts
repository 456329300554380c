// POST /train and GET /runs/:id: a pipeline run started in a detached child process (`pipewright run`),
// so training never blocks serving; its status comes from the run record and the child's exit. The
// child runs at a lower priority with a cap on its threads, so serving on the same machine comes first.
import { runLockFile, TRAINING_THREADS_VARIABLE } from '../pipeline/run.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { usableCores } from '../core/cores.js';
import { timestampId } from '../core/ids.js';
import { isLocked, type LockOwner } from '../core/lock.js';
import type { Logger } from '../core/logger.js';
import { readRunRecord, type RunRecord } from '../pipeline/record.js';

export const RUN_ID_PATTERN = /^[0-9]{8}-[0-9]{6}-[0-9a-f]{6}$/;

/** The `pipewright` launcher of this package. */
export const DEFAULT_BIN = fileURLToPath(new URL('../../bin/pipewright.js', import.meta.url));

/** How much lower than the server the training child runs (a nice value: 19 is the lowest). */
export const TRAINING_NICENESS = 10;

/** `nice` where the system has it: the child then starts at the lower priority, all its threads too. */
const NICE = ['/usr/bin/nice', '/bin/nice'].find((file) => process.platform !== 'win32' && existsSync(file));

export interface TrainingOptions {
  /** The project's pipewright.yaml, passed to the child as --config. */
  configFile: string;
  /** The project folder: the child's working folder. */
  projectDir: string;
  /** artifacts/ of the project: where run.json records are. */
  artifactsRoot: string;
  /** Where each child's output goes (`train-<run-id>.out`). */
  logDir: string;
  logger: Logger;
  /** The CLI entry to run (default: this package's bin/pipewright.js). */
  bin?: string;
  /** Environment of the child (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Threads the child may train with (model.threads; default: half the usable cores, see core/cores.ts). */
  threads?: number;
}

interface ChildState {
  runId: string;
  child: ChildProcess;
  pid: number | undefined;
  startedAt: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  alive: boolean;
  logFile: string;
  spawnError?: string;
}

export interface StartedRun {
  runId: string;
  pid: number | undefined;
  logFile: string;
}

export interface RunStatus {
  id: string;
  /** starting (no record yet), running, succeeded, failed. */
  status: 'starting' | 'running' | 'succeeded' | 'failed';
  process?: {
    pid: number | undefined;
    alive: boolean;
    exitCode: number | null;
    signal: string | null;
    startedAt: string;
    log: string;
  };
  startedAt?: string;
  endedAt?: string;
  seconds?: number;
  steps?: { name: string; status: string; seconds?: number; error?: { code: string; message: string } }[];
  metrics?: Record<string, number>;
  outcome?: RunRecord['outcome'];
  /** Why the run is reported as failed when its record does not say so. */
  reason?: string;
}

export class TrainingLauncher {
  private readonly children = new Map<string, ChildState>();

  constructor(private readonly options: TrainingOptions) {}

  /** The run started by this server that is still going, if any. */
  running(): string | undefined {
    for (const state of this.children.values()) if (state.alive) return state.runId;
    return undefined;
  }

  /** Who holds the project's run lock (a run started anywhere else), if anyone. */
  runLockHolder(): LockOwner | undefined {
    return isLocked(runLockFile(this.options.projectDir));
  }

  start(): StartedRun {
    const runId = timestampId();
    mkdirSync(this.options.logDir, { recursive: true });
    const logFile = join(this.options.logDir, `train-${runId}.out`);
    const output = openSync(logFile, 'a');
    const args = [
      this.options.bin ?? DEFAULT_BIN,
      'run',
      '--json',
      '--config',
      this.options.configFile,
      '--run-id',
      runId,
    ];
    const threads = this.options.threads ?? Math.max(1, Math.floor(usableCores() / 2));
    const env = { ...(this.options.env ?? process.env), [TRAINING_THREADS_VARIABLE]: String(threads) };
    let child: ChildProcess;
    try {
      // Detached in its own process group: a signal to the server (Ctrl-C, SIGTERM) does not stop
      // a training run half-way, and the server never waits for it.
      const [command, commandArgs] = NICE
        ? [NICE, ['-n', String(TRAINING_NICENESS), process.execPath, ...args]]
        : [process.execPath, args];
      child = spawn(command, commandArgs, {
        detached: true,
        stdio: ['ignore', output, output],
        env,
        cwd: this.options.projectDir,
      });
    } finally {
      closeSync(output);
    }
    if (!NICE && child.pid !== undefined) {
      try {
        setPriority(child.pid, TRAINING_NICENESS);
      } catch (error) {
        this.options.logger.warn(
          { err: error, runId },
          'could not lower the priority of the pipeline process',
        );
      }
    }
    const state: ChildState = {
      runId,
      child,
      pid: child.pid,
      startedAt: new Date().toISOString(),
      exitCode: null,
      signal: null,
      alive: true,
      logFile,
    };
    child.on('error', (error) => {
      state.alive = false;
      state.spawnError = error.message;
      this.options.logger.error({ err: error, runId }, 'could not start the pipeline process');
    });
    child.on('exit', (code, signal) => {
      state.alive = false;
      state.exitCode = code;
      state.signal = signal;
      this.options.logger.info(
        { runId, exitCode: code, signal, log: logFile },
        `pipeline run ${runId} ended`,
      );
    });
    child.unref();
    this.children.set(runId, state);
    this.options.logger.info({ runId, pid: child.pid, log: logFile }, `pipeline run ${runId} started`);
    return { runId, pid: child.pid, logFile };
  }

  /** The status of a run started here or recorded in the artifacts; undefined when neither knows it. */
  status(runId: string): RunStatus | undefined {
    const state = this.children.get(runId);
    const record = this.readRecord(runId);
    if (!state && !record) return undefined;
    const status: RunStatus = { id: runId, status: 'starting' };
    if (state) {
      status.process = {
        pid: state.pid,
        alive: state.alive,
        exitCode: state.exitCode,
        signal: state.signal,
        startedAt: state.startedAt,
        log: state.logFile,
      };
    }
    if (record) {
      status.status = record.status;
      status.startedAt = record.startedAt;
      if (record.endedAt) status.endedAt = record.endedAt;
      if (record.seconds !== undefined) status.seconds = record.seconds;
      status.steps = record.steps.map((step) => ({
        name: step.name,
        status: step.status,
        ...(step.seconds !== undefined ? { seconds: step.seconds } : {}),
        ...(step.error ? { error: { code: step.error.code, message: step.error.message } } : {}),
      }));
      if (record.metrics) status.metrics = record.metrics;
      if (record.outcome) status.outcome = record.outcome;
    }
    // A child that is gone while its record still says running (or never wrote one) did not finish.
    if (state && !state.alive && (status.status === 'starting' || status.status === 'running')) {
      status.status = state.exitCode === 0 && record ? record.status : 'failed';
      if (status.status === 'failed') {
        status.reason = state.spawnError
          ? `the pipeline process could not start: ${state.spawnError}`
          : `the pipeline process exited with ${state.signal ? `signal ${state.signal}` : `code ${state.exitCode}`} before finishing the run; see ${state.logFile}`;
      }
    }
    return status;
  }

  private readRecord(runId: string): RunRecord | undefined {
    if (!existsSync(join(this.options.artifactsRoot, runId, 'run.json'))) return undefined;
    try {
      return readRunRecord(this.options.artifactsRoot, runId);
    } catch {
      // Written atomically, so a failure here is a damaged file: report what the process knows.
      return undefined;
    }
  }
}
