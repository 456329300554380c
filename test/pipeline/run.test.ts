import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/ml/bundle.js';
import { listRunIds, readRunRecord, type RunRecord } from '../../src/pipeline/record.js';
import { runLockFile } from '../../src/pipeline/run.js';
import { SNAPSHOTS_DIR } from '../../src/pipeline/steps/ingest.js';
import { acquireLock } from '../../src/core/lock.js';
import { openRegistry } from '../../src/registry/index.js';
import { openStore } from '../../src/store/index.js';
import { createTestProject, type TestProject } from '../helpers/project.js';
import { PipewrightError } from '../../src/core/errors.js';

async function failure(promise: Promise<unknown>): Promise<PipewrightError> {
  try {
    await promise;
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the run to fail');
}

describe('training pipeline', () => {
  let project: TestProject;
  let first: RunRecord;

  beforeAll(async () => {
    project = createTestProject('pipeline');
    project.set(['model', 'params', 'max_iter'], 60);
    project.set(['evaluate', 'bootstrap'], 50);
    await project.push(project.writeCsv('train.csv', 6000, 7));
    first = await project.run();
  });

  it('publishes the first model and records the run', async () => {
    expect(first.status).toBe('succeeded');
    expect(first.outcome).toMatchObject({ published: true, version: 'v1', alias: 'production' });
    expect(first.steps.map((s) => [s.name, s.status])).toEqual([
      ['ingest', 'ok'],
      ['validate', 'ok'],
      ['split', 'ok'],
      ['transform', 'ok'],
      ['train', 'ok'],
      ['evaluate', 'ok'],
      ['publish', 'ok'],
    ]);
    const record = readRunRecord(join(project.dir, 'artifacts'), first.id);
    expect(record.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(record.rows).toEqual({ total: 6000, train: 4800, test: 1200 });
    expect(record.schemaFingerprint).toBe(project.schema().fingerprint);
    expect(record.code.node).toBe(process.version);
    expect(record.metrics!.roc_auc).toBeGreaterThan(0.75);
    expect(record.seed).toBe(42);
    expect((record.config as { model: { params: { max_iter: number } } }).model.params.max_iter).toBe(60);
    for (const artifact of [
      'ingest/frame.arrow',
      'validate/report.json',
      'split/train.i32',
      'transform/preprocessor.json',
      'train/model.json',
      'evaluate/evaluation.json',
    ]) {
      expect(existsSync(join(project.dir, 'artifacts', first.id, artifact)), artifact).toBe(true);
    }
    // the snapshot, written while the later steps ran, is recorded once whole, under its own name only
    expect(record.steps.find((step) => step.name === 'ingest')!.artifacts).toEqual([
      `${first.id}/ingest/frame.arrow`,
    ]);
    expect(existsSync(join(project.dir, 'artifacts', first.id, 'ingest', 'frame.arrow.partial'))).toBe(false);
  });

  it('snapshots the ingested frame as an Arrow file that reads back with the same values', async () => {
    const table = tableFromIPC(
      readFileSync(join(project.dir, 'artifacts', first.id, 'ingest', 'frame.arrow')),
    );
    expect(table.numRows).toBe(6000);
    expect(table.schema.fields.map((f) => f.name)).toEqual([
      'id',
      ...project.schema().features.map((f) => f.name),
      'Response',
    ]);
    const config = project.config();
    const store = await openStore(config, project.dir, {});
    const documents = [];
    for await (const doc of store.collection(config.store.collection).find({}, { limit: 3 }))
      documents.push(doc);
    await store.close();
    for (let row = 0; row < 3; row++) {
      expect(table.getChild('id')!.get(row)).toBe(documents[row].id);
      expect(table.getChild('Vehicle_Age')!.get(row)).toBe(documents[row].Vehicle_Age);
      expect(table.getChild('Annual_Premium')!.get(row)).toBe(documents[row].Annual_Premium);
      expect(table.getChild('Response')!.get(row)).toBe(documents[row].Response);
    }
  });

  it('publishes a bundle that reproduces the evaluated model', async () => {
    const registry = await openRegistry(project.config(), project.dir);
    const { bytes, info } = await registry.load('production');
    const bundle = parseBundle(bytes, project.schema());
    expect(info.runId).toBe(first.id);
    expect(bundle.metadata.dataHash).toBe(first.dataHash);
    expect(bundle.metadata.metrics).toMatchObject({ roc_auc: first.metrics!.roc_auc });
    expect(bundle.metadata.referenceStats?.features.length).toBe(10);
  });

  it('reuses unchanged steps on a second run and does not publish a model that is no better', async () => {
    const second = await project.run();
    const status = Object.fromEntries(second.steps.map((s) => [s.name, s.status]));
    expect(status).toMatchObject({
      ingest: 'ok',
      split: 'cached',
      transform: 'cached',
      train: 'cached',
      publish: 'skipped',
    });
    expect(second.steps.find((s) => s.name === 'train')!.cachedFrom).toBe(first.id);
    expect(second.dataHash).toBe(first.dataHash);
    expect(second.outcome!.published).toBe(false);
    expect(second.outcome!.reasons.join('\n')).toMatch(
      /fail beats_production: roc_auc .* vs production v1 .* on the same 1200 test rows: improvement 0\.0000 <= 0/,
    );
    expect(second.productionMetrics!.roc_auc).toBe(first.metrics!.roc_auc);
  });

  it('recomputes every step with noCache', async () => {
    const third = await project.run({ noCache: true });
    expect(third.steps.filter((s) => s.status === 'cached')).toEqual([]);
    expect(third.metrics).toEqual(first.metrics);
  });

  it('publishes a second version when a better model is trained', async () => {
    project.set(['model', 'params', 'max_iter'], 200);
    project.set(['model', 'params', 'learning_rate'], 0.05);
    const better = await project.run();
    expect(better.steps.find((s) => s.name === 'transform')!.status).toBe('cached');
    expect(better.steps.find((s) => s.name === 'train')!.status).toBe('ok');
    if (better.metrics!.roc_auc > first.metrics!.roc_auc) {
      expect(better.outcome).toMatchObject({ published: true, version: 'v2' });
    } else {
      expect(better.outcome!.published).toBe(false);
    }
  });
});

describe('data snapshots on disk', () => {
  let project: TestProject;
  const artifacts = () => join(project.dir, 'artifacts');
  const snapshotOf = (run: RunRecord) => join(artifacts(), run.id, 'ingest', 'frame.arrow');
  const stored = () =>
    readdirSync(join(artifacts(), SNAPSHOTS_DIR)).filter((name) => name.endsWith('.arrow'));

  beforeAll(() => {
    project = createTestProject('snapshots');
    project.set(['model', 'params', 'max_iter'], 10);
    project.set(['evaluate', 'bootstrap'], 20);
    project.set(['artifacts', 'keep_data'], 2);
  });

  it('stores one snapshot a data hash: a run on unchanged data links to it rather than writing another', async () => {
    await project.push(project.writeCsv('first.csv', 3000, 11));
    const first = await project.run();
    const second = await project.run();
    expect(second.dataHash).toBe(first.dataHash);
    // the same file on disk, under both runs' names and the store's
    expect(statSync(snapshotOf(second)).ino).toBe(statSync(snapshotOf(first)).ino);
    expect(statSync(snapshotOf(second)).nlink).toBe(3);
    expect(stored()).toEqual([`${first.dataHash}.arrow`]);
    // and it still reads back as the data
    const table = tableFromIPC(readFileSync(snapshotOf(second)));
    expect(table.numRows).toBe(3000);
  });

  it('keeps the snapshots of the newest artifacts.keep_data runs only, and every run’s record', async () => {
    const before = listRunIds(artifacts()).length;
    const runs: RunRecord[] = [];
    for (const [rows, seed] of [
      [3100, 12],
      [3200, 13],
      [3300, 14],
    ]) {
      await project.push(project.writeCsv(`more-${seed}.csv`, rows, seed));
      runs.push(await project.run());
    }
    const all = listRunIds(artifacts());
    expect(all).toHaveLength(before + 3);
    const kept = runs.slice(-2).map((run) => run.id);
    for (const id of all) {
      const record = readRunRecord(artifacts(), id);
      expect(existsSync(join(artifacts(), id, 'ingest', 'frame.arrow'))).toBe(kept.includes(id));
      // the record names the snapshot while it is there, and says it was removed once it is not
      expect(record.artifacts.frame).toBe(kept.includes(id) ? `${id}/ingest/frame.arrow` : undefined);
      expect(record.artifacts.frameRemoved).toBe(kept.includes(id) ? undefined : 'artifacts.keep_data: 2');
    }
    // the store keeps only what a kept run links to
    expect(stored().sort()).toEqual(
      runs
        .slice(-2)
        .map((run) => `${run.dataHash}.arrow`)
        .sort(),
    );
    expect(tableFromIPC(readFileSync(snapshotOf(runs[2]))).numRows).toBeGreaterThan(0);
  });
});

function validationReport(project: TestProject): {
  status: string;
  checks: { check: string; status: string; count: number; message: string }[];
} {
  const runs = listRunIds(join(project.dir, 'artifacts'));
  return JSON.parse(
    readFileSync(join(project.dir, 'artifacts', runs[runs.length - 1], 'validate', 'report.json'), 'utf8'),
  );
}

describe('training pipeline with bad data', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = createTestProject('bad');
    project.set(['model', 'params', 'max_iter'], 30);
    project.set(['evaluate', 'bootstrap'], 0);
    await project.push(project.writeCsv('train.csv', 2000, 3));
    const config = project.config();
    const store = await openStore(config, project.dir, {});
    // Written around push's validation, as another writer of the database could.
    await store.collection(config.store.collection).upsertMany([
      {
        _id: 900001,
        id: 900001,
        Gender: 'Robot',
        Age: 300,
        Driving_License: 1,
        Region_Code: 28,
        Previously_Insured: 0,
        Vehicle_Age: '1-2 Year',
        Vehicle_Damage: 'Yes',
        Annual_Premium: 3000,
        Policy_Sales_Channel: 26,
        Vintage: 100,
        Response: 0,
      },
      {
        _id: 900002,
        id: 900002,
        Gender: 'Male',
        Age: 'old',
        Driving_License: 1,
        Region_Code: 28,
        Previously_Insured: 0,
        Vehicle_Age: '1-2 Year',
        Vehicle_Damage: 'Yes',
        Annual_Premium: 3000,
        Policy_Sales_Channel: 26,
        Vintage: 100,
        Response: 0,
        Comment: 'extra',
      },
    ]);
    await store.close();
  });

  it('fails validation on values the schema forbids, with a report naming check, field and count', async () => {
    const error = await failure(project.run());
    expect(error.code).toBe('PW_VALIDATION_FAILED');
    expect(error.message).toContain('out_of_range');
    expect(error.message).toContain('unknown_categories');
    expect(error.message).toContain('type_errors');
    const report = validationReport(project);
    expect(report.status).toBe('fail');
    const byCheck = Object.fromEntries(report.checks.map((c) => [c.check, c]));
    expect(byCheck.out_of_range).toMatchObject({ status: 'fail', count: 1 });
    expect(byCheck.out_of_range.message).toContain('Age (1)');
    expect(byCheck.unknown_categories.message).toContain('Gender (1)');
    expect(byCheck.extra_columns).toMatchObject({ status: 'warn', count: 1 });
    expect(byCheck.extra_columns.message).toContain('Comment');
  });

  it('passes with warnings when the config grades those checks warn, leaving the bad rows out', async () => {
    for (const check of ['out_of_range', 'unknown_categories', 'type_errors'])
      project.set(['validation', check], 'warn');
    const record = await project.run();
    expect(record.status).toBe('succeeded');
    expect(record.rows!.total).toBe(2000);
    expect(validationReport(project).status).toBe('warn');
  });

  it('detects drift against the production model, graded by the config', async () => {
    project.set(['validation', 'drift', 'level'], 'fail');
    const config = project.config();
    const store = await openStore(config, project.dir, {});
    const collection = store.collection(config.store.collection);
    const shifted = [];
    for await (const doc of collection.find({}))
      shifted.push({ ...doc, Annual_Premium: Number(doc.Annual_Premium) * 3 + 20000 });
    await collection.upsertMany(shifted);
    await store.close();
    const error = await failure(project.run());
    expect(error.code).toBe('PW_VALIDATION_FAILED');
    expect(error.message).toMatch(/drift against v1 in Annual_Premium \(PSI \d/);
    const drift = validationReport(project).checks.find((c) => c.check === 'drift')!;
    expect(drift.status).toBe('fail');
    expect(drift.message).not.toContain('Age');
  });

  it('refuses a second run of the project while one holds the run lock, and leaves no record of it', async () => {
    const before = listRunIds(join(project.dir, 'artifacts'));
    const holder = acquireLock(runLockFile(project.dir), { purpose: 'pipewright run' });
    try {
      const error = await failure(project.run({ noPublish: true }));
      expect(error.code).toBe('PW_LOCKED');
      expect(listRunIds(join(project.dir, 'artifacts'))).toEqual(before);
    } finally {
      holder.release();
    }
    // Once released, the next run gets past the lock (this project's data may still fail validation).
    const next = await project.run({ noPublish: true }).then(
      () => undefined,
      (error: PipewrightError) => error.code,
    );
    expect(next).not.toBe('PW_LOCKED');
    expect(existsSync(runLockFile(project.dir))).toBe(false);
  });
});
