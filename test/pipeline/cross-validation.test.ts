// Small data is cross-validated: the gates read the mean over repeated stratified k-fold, production's
// configuration is refitted on the same folds, and the published model is fitted on every row.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseBundle } from '../../src/ml/bundle.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { openRegistry } from '../../src/registry/index.js';
import { loadRunArtifacts, renderRunReport } from '../../src/report/run-report.js';
import { parseConfig } from '../../src/core/config.js';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { crossValidationReason } from '../../src/pipeline/steps/split.js';
import { createTestProject, type TestProject } from '../helpers/project.js';
import { customerRecords, customerSchema } from '../ml/fixtures.js';

describe('cross-validated evaluation of small data', () => {
  let project: TestProject;
  let first: RunRecord;

  beforeAll(async () => {
    project = createTestProject('small');
    project.set(['model', 'params', 'max_iter'], 30);
    project.set(['evaluate', 'expected_score'], 0.55);
    await project.push(project.writeCsv('train.csv', 400, 5));
    first = await project.run();
  });

  it('estimates the metric over 3 × 5 folds of every row and publishes a model fitted on all of them', async () => {
    expect(first.status).toBe('succeeded');
    expect(first.rows).toEqual({ total: 400, train: 400, test: 0 });
    const cv = first.crossValidation!;
    expect(cv).toMatchObject({ folds: 5, repeats: 3, metric: 'roc_auc' });
    expect(cv.model.folds).toHaveLength(15);
    expect(cv.model.low).toBeLessThanOrEqual(cv.model.mean);
    expect(cv.model.high).toBeGreaterThanOrEqual(cv.model.mean);
    expect(first.metrics!.roc_auc).toBeCloseTo(cv.model.mean, 5);
    expect(first.outcome).toMatchObject({ published: true, version: 'v1' });
    expect(first.outcome!.reasons.join('\n')).toMatch(/mean of 3 × 5-fold cross-validation, 95% interval/);
    expect(existsSync(join(project.dir, 'artifacts', first.id, 'split', 'folds.i32'))).toBe(true);
    const registry = await openRegistry(project.config(), project.dir);
    const { bytes } = await registry.load('production');
    await registry.close();
    const bundle = parseBundle(bytes, project.schema());
    expect(bundle.metadata.params).toHaveProperty('preprocess');
    expect(bundle.metadata.golden.inputs.length).toBeGreaterThan(0);
  });

  it('says in the report that the metrics are fold means, with their interval', async () => {
    const artifactsRoot = join(project.dir, 'artifacts');
    const html = await renderRunReport(loadRunArtifacts(artifactsRoot, first.id), {
      output: join(project.dir, 'first-report.html'),
    });
    expect(html).toContain('Cross-validated: 3 × 5-fold, stratified, over every row');
    expect(html).toContain('Means over 15 cross-validation folds');
  });

  it("compares with production's configuration refitted on the same folds, never production scored on rows it learned", async () => {
    // The same configuration again: refitted on the same folds it scores exactly what it scored before;
    // production itself, scored on rows it was fitted on, would score higher and win.
    const second = await project.run();
    const cv = second.crossValidation!;
    expect(cv.production!.folds).toEqual(first.crossValidation!.model.folds);
    expect(cv.difference!.mean).toBe(0);
    expect(second.productionMetrics!.roc_auc).toBe(first.metrics!.roc_auc);
    expect(second.outcome!.published).toBe(false);
    expect(second.outcome!.reasons.join('\n')).toMatch(
      /fail beats_production: .*production's configuration refitted on the same folds: improvement 0\.0000 <= 0/,
    );
  });

  it("keeps production's own configuration when this run's configuration changes", async () => {
    project.set(['model', 'params', 'max_iter'], 8);
    const third = await project.run();
    expect(third.crossValidation!.production!.folds).toEqual(first.crossValidation!.model.folds);
    expect(third.crossValidation!.model.folds).not.toEqual(first.crossValidation!.model.folds);
    project.set(['model', 'params', 'max_iter'], 30);
  });

  it('keeps the hold-out when cross-validation is turned off', async () => {
    project.set(['evaluate', 'cross_validation', 'use'], 'never');
    const holdout = await project.run();
    expect(holdout.rows).toEqual({ total: 400, train: 320, test: 80 });
    expect(holdout.crossValidation).toBeUndefined();
    project.set(['evaluate', 'cross_validation', 'use'], 'auto');
  });
});

describe('small-table defaults', () => {
  it('publish a model better than a trivial one from 60 rows', async () => {
    const project = createTestProject('tiny');
    project.set(['validation', 'min_rows'], 50);
    project.set(['evaluate', 'expected_score'], 0.55);
    await project.push(project.writeCsv('train.csv', 60, 9));
    const record = await project.run();
    expect(record.outcome).toMatchObject({ published: true });
    expect(record.crossValidation!.model.mean).toBeGreaterThan(0.55);
  });
});

describe('when auto cross-validates', () => {
  const settings = (extra: Record<string, unknown> = {}) => ({
    ...parseConfig('project: p\n').evaluate.cross_validation,
    ...extra,
  });

  it('below max_rows rows, or when the rarest class is short of min_class_rows; never above both', () => {
    const frame = frameFromRecordsSync(customerSchema(), customerRecords(1200, 4));
    const counts = [0, 0];
    for (const label of frame.target!) counts[label]++;
    const rarest = Math.min(...counts);
    expect(crossValidationReason(frame, settings())).toBeUndefined();
    expect(crossValidationReason(frame, settings({ max_rows: 1201 }))).toMatch(/1200 rows, under 1201/);
    expect(crossValidationReason(frame, settings({ min_class_rows: rarest + 1 }))).toMatch(
      new RegExp(`rarest class has ${rarest} rows`),
    );
    // ten times max_rows bounds the rare-class rule: beyond it a hold-out is kept
    expect(
      crossValidationReason(frame, settings({ min_class_rows: rarest + 1, max_rows: 100 })),
    ).toBeUndefined();
    expect(crossValidationReason(frame, settings({ use: 'always' }))).toMatch(/always/);
    expect(crossValidationReason(frame, settings({ use: 'never', max_rows: 5000 }))).toBeUndefined();
  });
});
