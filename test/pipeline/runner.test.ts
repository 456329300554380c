import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { errors, PipewrightError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/core/logger.js';
import { readRunRecord, type RunRecord } from '../../src/pipeline/record.js';
import { StepRunner, type Step } from '../../src/pipeline/runner.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

/** A new artifacts folder, removed after the test. */
function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'pw-runner-'));
  folders.push(root);
  return root;
}

function newRunner(root: string, id: string): StepRunner {
  const record: RunRecord = {
    id,
    project: 'runner',
    status: 'running',
    startedAt: new Date().toISOString(),
    config: {},
    schemaFingerprint: 'none',
    code: { pipewright: '0', node: process.version },
    seed: 0,
    model: { type: 'none', params: {} },
    steps: [],
    artifacts: {},
  };
  return new StepRunner({ artifactsRoot: root, record, logger: silentLogger() });
}

/** A promise with its resolve and reject at hand. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

/** A step that can be reused, saved aside: its save writes its file once `gate` settles. */
function asideStep(gate: Promise<void>, runs: { count: number }): Step<number, number> {
  return {
    name: 'aside',
    key: (input) => input,
    async run(_context, input) {
      runs.count++;
      return input * 2;
    },
    saveAside: true,
    async save(output, dir) {
      await gate;
      const file = join(dir, 'output.txt');
      writeFileSync(file, String(output));
      return [file];
    },
    load: () => 14,
    outputHash: (output) => String(output),
  };
}

describe('StepRunner: steps saved aside', () => {
  it('goes on to the next step while a save writes, and records and caches it once written', async () => {
    const root = newRoot();
    const gate = deferred();
    const runs = { count: 0 };
    const runner = newRunner(root, 'first');
    expect(await runner.run(asideStep(gate.promise, runs), 7)).toBe(14);
    // the save is still waiting: the step is done, its file not yet written nor recorded
    const during = readRunRecord(root, 'first').steps.find((step) => step.name === 'aside')!;
    expect(during.status).toBe('ok');
    expect(during.artifacts).toBeUndefined();
    let nextRan = false;
    await runner.run(
      {
        name: 'next',
        async run() {
          nextRan = true;
          return 0;
        },
      },
      undefined,
    );
    expect(nextRan).toBe(true);
    // not cached before it is written: a run starting now does the step again
    await newRunner(root, 'meanwhile').run(asideStep(Promise.resolve(), runs), 7);
    expect(runs.count).toBe(2);

    gate.resolve();
    await runner.settle();
    const after = readRunRecord(root, 'first').steps.find((step) => step.name === 'aside')!;
    expect(after.artifacts).toEqual(['first/aside/output.txt']);
    expect(existsSync(join(root, 'first', 'aside', 'output.txt'))).toBe(true);

    const later = newRunner(root, 'later');
    await later.run(asideStep(Promise.resolve(), runs), 7);
    expect(runs.count).toBe(2);
    expect(later.record.steps.find((step) => step.name === 'aside')!.status).toBe('cached');
  });

  it('fails settle with the save’s error, marks the step failed and caches nothing', async () => {
    const root = newRoot();
    const gate = deferred();
    const runs = { count: 0 };
    const runner = newRunner(root, 'failing');
    await runner.run(asideStep(gate.promise, runs), 7);
    gate.reject(new errors.PW_CONFIG_INVALID('the disk is full'));
    const failure = await runner.settle().then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(PipewrightError);
    expect((failure as PipewrightError).code).toBe('PW_CONFIG_INVALID');
    const step = readRunRecord(root, 'failing').steps.find((entry) => entry.name === 'aside')!;
    expect(step.status).toBe('failed');
    expect(step.error?.code).toBe('PW_CONFIG_INVALID');
    // a later run does the step again rather than reading what was never written
    await newRunner(root, 'after').run(asideStep(Promise.resolve(), runs), 7);
    expect(runs.count).toBe(2);
  });

  it('settles at once when nothing is saved aside', async () => {
    const root = newRoot();
    await expect(newRunner(root, 'plain').settle()).resolves.toBeUndefined();
  });
});
