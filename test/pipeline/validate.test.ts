// Validation grades ranges and categories against the contract only: values beyond what production's
// model saw in training are a warning beside drift, never a failure.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import { frameFromColumns } from '../../src/ml/frame.js';
import { computeReferenceStats } from '../../src/ml/stats.js';
import { validate } from '../../src/pipeline/steps/validate.js';
import type { IngestOutput } from '../../src/pipeline/steps/ingest.js';
import { parseSchema } from '../../src/schema/schema.js';

const schema = parseSchema(
  [
    'name: shop',
    'fields:',
    '  size: { type: number, nullable: true }',
    '  maker: { type: category, nullable: true }',
    '  y: { type: boolean, role: target }',
    '',
  ].join('\n'),
);
const settings = parseConfig('project: shop\nschema: schema.yaml\n', 'pipewright.yaml').validation;

function ingestOf(size: number[], maker: string[]): IngestOutput {
  const frame = frameFromColumns(schema, {
    size,
    maker,
    y: size.map((_, i) => i % 2 === 0),
  });
  const noIssues = { missing: {}, type: {}, range: {}, category: {} };
  return {
    frame,
    dataHash: 'test',
    rowsRead: frame.rows,
    issues: noIssues,
    extraColumns: [],
    missingColumns: [],
    duplicateKeys: { count: 0, examples: [] },
    rejectedRows: 0,
  };
}

describe('validation against the production reference', () => {
  const rows = 200;
  const training = ingestOf(
    Array.from({ length: rows }, (_, i) => i % 50),
    Array.from({ length: rows }, (_, i) => ['ford', 'fiat'][i % 2]),
  );
  const reference = { version: 'v1', stats: computeReferenceStats(training.frame) };

  it('warns about numbers beyond the range seen and categories never seen, and does not fail the run', () => {
    const newer = ingestOf(
      Array.from({ length: rows }, (_, i) => (i < 3 ? 120 + i : i % 50)),
      Array.from({ length: rows }, (_, i) => (i < 2 ? 'tesla' : ['ford', 'fiat'][i % 2])),
    );
    const report = validate({ ingest: newer, settings: { ...settings, min_rows: 1 }, reference });
    const check = report.checks.find((entry) => entry.check === 'outside_reference')!;
    expect(check).toMatchObject({ status: 'warn', count: 5 });
    expect(check.details).toEqual([
      { field: 'size', reason: 'outside_range', count: 3 },
      { field: 'maker', reason: 'unseen_category', count: 2 },
    ]);
    expect(report.checks.find((entry) => entry.check === 'out_of_range')!.status).toBe('pass');
    expect(report.checks.find((entry) => entry.check === 'unknown_categories')!.status).toBe('pass');
    expect(report.status).not.toBe('fail');
  });

  it('passes when every value is within what production saw', () => {
    const report = validate({ ingest: training, settings: { ...settings, min_rows: 1 }, reference });
    expect(report.checks.find((entry) => entry.check === 'outside_reference')).toMatchObject({
      status: 'pass',
      count: 0,
    });
  });
});
