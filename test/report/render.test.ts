// The run report rendered from hand-made artifacts: tasks without curves, text from the data escaped,
// and a report that cannot be written never failing the run that asked for it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { writeRunRecord, type RunRecord } from '../../src/pipeline/record.js';
import { escapeHtml, markup } from '../../src/report/html.js';
import {
  renderRunReport,
  writeRunReport,
  writeRunReportSafely,
  type EvaluationFile,
} from '../../src/report/run-report.js';
import { tempDir } from '../helpers/cli.js';

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  return {
    id: '20250101-000000-abcdef',
    project: 'prices <script>alert(1)</script>',
    status: 'succeeded',
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:00:02.000Z',
    seconds: 2,
    config: {
      evaluate: { threshold: 'f1' },
      validation: { drift: { psi_threshold: 0.2, ks_threshold: 0.1 } },
    },
    schemaFingerprint: 'f'.repeat(64),
    dataHash: 'd'.repeat(64),
    rows: { total: 500, train: 400, test: 100 },
    code: { pipewright: '0.1.0', node: 'v20.0.0' },
    seed: 42,
    model: { type: 'gbdt', params: { max_iter: 10 } },
    metrics: { rmse: 1.5, mae: 1.1, r2: 0.62 },
    steps: [
      { name: 'ingest', status: 'ok', seconds: 0.2 },
      { name: 'evaluate', status: 'ok', seconds: 0.1 },
      { name: 'publish', status: 'skipped', summary: { reason: 'publishing turned off (--no-publish)' } },
    ],
    artifacts: {},
    outcome: {
      published: false,
      reasons: ['pass expected_score: r2 0.6200 >= expected 0.5', 'publishing turned off (--no-publish)'],
    },
    ...overrides,
  };
}

const REGRESSION: EvaluationFile = {
  metric: 'r2',
  threshold: null,
  metrics: { rmse: 1.5, mae: 1.1, r2: 0.62 },
  intervals: { r2: { estimate: 0.62, low: 0.55, high: 0.69, confidence: 0.95, resamples: 200 } },
  gates: [
    { name: 'expected_score', passed: true, reason: 'r2 0.6200 >= expected 0.5' },
    { name: 'beats_production', passed: true, reason: 'no production model yet' },
  ],
  passed: true,
  featureImportance: [
    { feature: 'size<m2>', importance: 0.7 },
    { feature: 'rooms', importance: 0.3 },
  ],
};

describe('markup', () => {
  it('escapes interpolated text and keeps nested markup', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(markup`<p>${'<b>'}${markup`<i>${'&'}</i>`}${[1, 2]}${undefined}${false}</p>`.value).toBe(
      '<p>&lt;b&gt;<i>&amp;</i>12</p>',
    );
  });
});

describe('renderRunReport', () => {
  it('renders a regression run without curves, with its metrics, importance and the text of the data escaped', async () => {
    const root = tempDir();
    const page = await renderRunReport({ artifactsRoot: root, record: record(), evaluation: REGRESSION });
    expect(page).not.toContain('<script>');
    expect(page).toContain('prices &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).not.toContain('id="curves"');
    expect(page).toContain('aria-label="Feature importance"');
    expect(page).toContain('size&lt;m2&gt;');
    expect(page).toMatch(
      /<strong>r2<\/strong> <span class="muted">\(gate\)<\/span><\/td><td class="num">0\.6200<\/td><td class="num">0\.5500 to 0\.6900<\/td>/,
    );
    expect(page).toContain('no production model yet: this run trained the first model.');
    expect(page).toContain('publishing turned off (--no-publish)');
    // No schema was given and nothing was published: the report says why there is no card.
    expect(page).toContain('No model card: the run did not publish');
  });
});

describe('writeRunReportSafely', () => {
  it('returns the file for a readable run', async () => {
    const root = tempDir();
    writeRunRecord(root, record());
    const logger = pino({ level: 'silent' });
    const file = await writeRunReportSafely(root, record().id, { logger });
    expect(file).toBe(join(root, record().id, 'report.html'));
  });

  it('logs a warning instead of throwing when the artifacts cannot be read', async () => {
    const root = tempDir();
    writeRunRecord(root, record());
    mkdirSync(join(root, record().id, 'evaluate'), { recursive: true });
    writeFileSync(join(root, record().id, 'evaluate', 'evaluation.json'), '{ damaged');
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    await expect(writeRunReport(root, record().id)).rejects.toThrow();
    expect(await writeRunReportSafely(root, record().id, { logger })).toBeUndefined();
    expect(lines.map((line) => JSON.parse(line) as { level: number; msg: string })).toEqual([
      expect.objectContaining({
        level: 40,
        msg: expect.stringContaining(`the report of run ${record().id} could not be written`),
      }),
    ]);
  });

  it('does nothing for a run that left no record', async () => {
    const logger = pino({ level: 'silent' });
    expect(await writeRunReportSafely(tempDir(), 'missing', { logger })).toBeUndefined();
  });
});
