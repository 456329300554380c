// The run record: everything needed to explain or repeat a run, written to artifacts/<run-id>/run.json
// after every step so that even a crashed run leaves a readable account of itself.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileSync } from '../core/durable.js';
import { errors } from '../core/errors.js';
import { redactDeep } from '../core/redact.js';
import type { CrossValidation } from './steps/cross-validate.js';

export type StepStatus = 'pending' | 'running' | 'ok' | 'cached' | 'failed' | 'skipped';

export interface StepRecord {
  name: string;
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  seconds?: number;
  /** The process's resident memory when the step ended, and its peak so far (MB): what each step adds. */
  memory?: { rssMb: number; peakRssMb: number };
  /** sha256 of the step's inputs (upstream outputs and the settings it reads). */
  inputHash?: string;
  /** sha256 of what the step produced, which keys the steps after it. */
  outputHash?: string;
  /** The run whose outputs were reused when status is `cached`. */
  cachedFrom?: string;
  summary?: Record<string, unknown>;
  artifacts?: string[];
  error?: { code: string; message: string; hint?: string };
}

export interface Outcome {
  published: boolean;
  version?: string;
  alias?: string;
  reasons: string[];
}

export interface RunRecord {
  id: string;
  project: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  endedAt?: string;
  seconds?: number;
  config: unknown;
  schemaFingerprint: string;
  dataHash?: string;
  rows?: { total?: number; train?: number; test?: number };
  code: { pipewright: string; node: string; git?: { commit: string; dirty: boolean } };
  seed: number;
  model: { type: string; params: Record<string, unknown> };
  metrics?: Record<string, number>;
  productionMetrics?: Record<string, number>;
  /** Small data: the metric's mean and 95% interval over the cross-validation folds (then `metrics` are fold means). */
  crossValidation?: CrossValidation;
  steps: StepRecord[];
  artifacts: Record<string, string>;
  outcome?: Outcome;
}

export function runDir(artifactsRoot: string, runId: string): string {
  return join(artifactsRoot, runId);
}

/** Writes run.json atomically and durably, so readers never see half a record, even after a power loss. */
export function writeRunRecord(artifactsRoot: string, record: RunRecord): string {
  const dir = runDir(artifactsRoot, record.id);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'run.json');
  // Messages of errors from libraries (a driver, the SDK) can quote a URL or a key: redact them all.
  replaceFileSync(file, `${JSON.stringify(redactDeep(record), null, 2)}\n`);
  return file;
}

export function readRunRecord(artifactsRoot: string, runId: string): RunRecord {
  const file = join(runDir(artifactsRoot, runId), 'run.json');
  if (!existsSync(file)) {
    const known = existsSync(artifactsRoot)
      ? readdirSync(artifactsRoot, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => e.name)
          .sort()
      : [];
    const matches = known.filter((id) => id.endsWith(runId) || id.startsWith(runId));
    if (matches.length === 1) return readRunRecord(artifactsRoot, matches[0]);
    throw new errors.PW_RUN_NOT_FOUND(`No run ${runId} in ${artifactsRoot}`, {
      hint: known.length
        ? `Known runs: ${known.slice(-5).join(', ')}${known.length > 5 ? ', …' : ''}`
        : 'Run `pipewright run` first.',
    });
  }
  return JSON.parse(readFileSync(file, 'utf8')) as RunRecord;
}

/** Run ids, oldest first by start time (ids made in the same second do not sort by time). */
export function listRunIds(artifactsRoot: string): string[] {
  return listRuns(artifactsRoot).map((run) => run.id);
}

export function listRuns(artifactsRoot: string): RunRecord[] {
  if (!existsSync(artifactsRoot)) return [];
  const records: RunRecord[] = [];
  for (const entry of readdirSync(artifactsRoot, { withFileTypes: true })) {
    const file = join(artifactsRoot, entry.name, 'run.json');
    if (!entry.isDirectory() || !existsSync(file)) continue;
    try {
      records.push(JSON.parse(readFileSync(file, 'utf8')) as RunRecord);
    } catch {
      // a record being replaced right now, or damaged: it is not listed
    }
  }
  return records.sort((a, b) =>
    a.startedAt < b.startedAt ? -1 : a.startedAt > b.startedAt ? 1 : a.id < b.id ? -1 : 1,
  );
}

/** The git commit of `dir` and whether the work tree has changes, when it is in a repository. */
export function gitState(dir: string): { commit: string; dirty: boolean } | undefined {
  try {
    const options = {
      cwd: dir,
      encoding: 'utf8' as const,
      stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'],
      timeout: 5000,
    };
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], options).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], options).trim().length > 0;
    return { commit, dirty };
  } catch {
    return undefined;
  }
}
