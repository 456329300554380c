// The run report and the run comparison page, from real runs of a scaffolded project through the CLI,
// opened in Chromium with every non-file request blocked (so they must work offline), and the model
// card the run publishes in the bundle.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium } from '../helpers/browser.js';
import { main } from '../../src/cli/main.js';
import type { ModelCard } from '../../src/ml/card.js';
import { listRunIds, readRunRecord, type RunRecord } from '../../src/pipeline/record.js';
import type { EvaluationFile } from '../../src/report/run-report.js';
import { openStore } from '../../src/store/index.js';
import { ROOT } from '../helpers/cli.js';
import { createTestProject, type TestProject } from '../helpers/project.js';

const available = chromiumAvailable;
const RESULTS = join(ROOT, 'test-results');

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

async function cli(
  project: TestProject,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await main(
    ['node', 'pipewright', '--config', join(project.dir, 'pipewright.yaml'), '--quiet', ...args],
    { stdout, stderr },
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Multiplies one numeric field in every stored row, as a change in the source data would. */
async function shift(project: TestProject, field: string, factor: number): Promise<void> {
  const config = project.config();
  const store = await openStore(config, project.dir, {});
  const collection = store.collection(config.store.collection);
  const shifted = [];
  for await (const doc of collection.find({}))
    shifted.push({ ...doc, [field]: Math.round(Number(doc[field]) * factor) });
  await collection.upsertMany(shifted);
  await store.close();
}

/** `pipewright run`, returning the record it prints (run ids made in the same second do not sort by time). */
async function run(): Promise<RunRecord> {
  const result = await cli(project, '--json', 'run');
  expect(result.code, result.stderr).toBe(0);
  return readRunRecord(artifacts, (JSON.parse(result.stdout) as RunRecord).id);
}

function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

let project: TestProject;
let artifacts: string;
let first: RunRecord;
let second: RunRecord;
let browser: Browser | undefined;

async function openOffline(file: string): Promise<{ page: Page; blocked: string[]; problems: string[] }> {
  const page = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
  const blocked: string[] = [];
  const problems: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    blocked.push(url);
    return route.abort();
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(pathToFileURL(file).href);
  return { page, blocked, problems };
}

beforeAll(async () => {
  project = createTestProject('report');
  project.set(['model', 'params', 'max_iter'], 40);
  project.set(['evaluate', 'bootstrap'], 100);
  await project.push(project.writeCsv('train.csv', 3000, 7));
  artifacts = join(project.dir, 'artifacts');
  first = await run();
  // New data whose premiums moved (drift, graded warn) and a model with other settings.
  await shift(project, 'Annual_Premium', 1.6);
  project.set(['model', 'params', 'learning_rate'], 0.05);
  second = await run();
  if (available) {
    browser = await launchChromium();
  }
  mkdirSync(RESULTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('pipewright run', () => {
  it('writes the report of every run next to its record', () => {
    expect(first.outcome).toMatchObject({ published: true, version: 'v1' });
    for (const run of [first, second])
      expect(existsSync(join(artifacts, run.id, 'report.html')), run.id).toBe(true);
  });
});

describe.skipIf(!available)('the run report in Chromium', () => {
  it('shows every section, chart and table with the run’s numbers, offline', async () => {
    const evaluation = readJson<EvaluationFile>(join(artifacts, second.id, 'evaluate', 'evaluation.json'));
    const validation = readJson<{
      checks: unknown[];
      drift: { features: { field: string; drifted: boolean }[] };
    }>(join(artifacts, second.id, 'validate', 'report.json'));
    const { page, blocked, problems } = await openOffline(join(artifacts, second.id, 'report.html'));

    const headings = await page.locator('h2').allTextContents();
    expect(headings).toEqual([
      'Run summary',
      'Data validation',
      'Drift',
      'Metrics',
      'Curves and confusion matrix',
      'Feature importance',
      'Comparison with production',
      'Model card',
    ]);

    // Each chart is an inline SVG with its marks drawn: the ROC chart holds chance, this run and production.
    for (const chart of ['ROC curve', 'Precision-recall curve', 'Calibration', 'Feature importance']) {
      expect(await page.locator(`figure[aria-label="${chart}"] svg[role="img"]`).count(), chart).toBe(1);
    }
    expect(await page.locator('figure[aria-label="ROC curve"] .mark-line path').count()).toBe(3);
    const rocText = await page.locator('figure[aria-label="ROC curve"]').textContent();
    expect(rocText).toContain(`This run (AUC ${evaluation.metrics.roc_auc.toFixed(3)})`);
    expect(rocText).toContain(`Production v1 (AUC ${evaluation.productionMetrics!.roc_auc.toFixed(3)})`);
    expect(await page.locator('figure[aria-label="Feature importance"] .mark-rect path').count()).toBe(
      Math.min(20, evaluation.featureImportance.length),
    );
    expect(await page.locator('figure[aria-label="Feature importance"]').textContent()).toContain(
      evaluation.featureImportance[0].feature,
    );
    expect(await page.locator('figure[aria-label="Calibration"] .mark-symbol path').count()).toBe(
      evaluation.curves!.calibration.length,
    );

    // The confusion matrix holds the evaluated counts at the chosen threshold.
    const [[tn, fp], [fn, tp]] = evaluation.confusion!;
    const cells = await page.locator('table[aria-label="Confusion matrix"] td .count').allTextContents();
    expect(cells.map((cell) => Number(cell.replace(/,/g, '')))).toEqual([tn, fp, fn, tp]);
    expect(await page.locator('#chart-confusion h3').textContent()).toBe(
      `Confusion matrix at threshold ${evaluation.threshold!.toFixed(4)}`,
    );

    // Tables: one row per check and per drift feature, metrics with intervals and production's values.
    expect(await page.locator('table[aria-label="Validation checks"] tbody tr').count()).toBe(
      validation.checks.length,
    );
    expect(await page.locator('table[aria-label="Drift by feature"] tbody tr').count()).toBe(
      validation.drift.features.length,
    );
    const premium = page.locator('table[aria-label="Drift by feature"] tbody tr', {
      hasText: 'Annual_Premium',
    });
    expect(await premium.textContent()).toContain('drifted');
    const rocRow = await page.locator('table[aria-label="Metrics"] tbody tr').first().allTextContents();
    const interval = evaluation.intervals!.roc_auc;
    expect(rocRow[0]).toContain(evaluation.metrics.roc_auc.toFixed(4));
    expect(rocRow[0]).toContain(`${interval.low.toFixed(4)} to ${interval.high.toFixed(4)}`);
    expect(rocRow[0]).toContain(evaluation.productionMetrics!.roc_auc.toFixed(4));

    // Summary, comparison and card carry the run's own facts.
    const summary = await page.locator('#summary').textContent();
    expect(summary).toContain(second.dataHash);
    expect(summary).toContain(`pipewright ${second.code.pipewright}, node ${process.version}`);
    for (const step of second.steps)
      expect(await page.locator('table[aria-label="Steps"]').textContent()).toContain(step.name);
    const comparison = page.locator('#production');
    expect(await comparison.textContent()).toContain('v1');
    expect(await comparison.locator(`a[href="../${first.id}/report.html"]`).count()).toBe(1);
    expect(await comparison.textContent()).toContain('learning_rate');
    const card = await page.locator('#card').textContent();
    expect(card).toContain('Intended use');
    expect(card).toContain('Known limits');
    expect(card).toMatch(/Drift was flagged in .*Annual_Premium/);

    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(RESULTS, 'report.png'), fullPage: true });
    await page.close();
  });
});

describe('pipewright report', () => {
  it('writes the report where -o says and names the file', async () => {
    const output = join(project.dir, 'out', 'second.html');
    const result = await cli(project, '--json', 'report', second.id.slice(-6), '-o', output);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ run: second.id, file: output });
    const text = readFileSync(output, 'utf8');
    expect(text).toContain(`Run report <span style="font-weight:400;color:#cbd5e1">${second.id}</span>`);
    expect(text).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('fails with PW_RUN_NOT_FOUND for an unknown run', async () => {
    const result = await cli(project, '--json', 'report', 'no-such-run');
    expect(result.code).not.toBe(0);
    expect(JSON.parse(result.stdout).error.code).toBe('PW_RUN_NOT_FOUND');
  });
});

describe.skipIf(!available)('the run comparison page in Chromium', () => {
  it('shows both runs, their metrics and differences, parameters and both ROC curves, offline', async () => {
    const output = join(project.dir, 'out', 'compare.html');
    const result = await cli(project, 'runs', 'compare', first.id, second.id, '--html', '-o', output);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(output);
    const { page, blocked, problems } = await openOffline(output);
    const a = readJson<EvaluationFile>(join(artifacts, first.id, 'evaluate', 'evaluation.json'));
    const b = readJson<EvaluationFile>(join(artifacts, second.id, 'evaluate', 'evaluation.json'));

    expect(await page.locator('h2').allTextContents()).toEqual([
      'Runs',
      'Metrics',
      'Parameters',
      'Curves',
      'Everything compared',
    ]);
    const runs = await page.locator('table[aria-label="Runs"]').textContent();
    expect(runs).toContain(first.dataHash!.slice(0, 16));
    expect(runs).toContain(second.dataHash!.slice(0, 16));
    const metricRow = await page
      .locator('table[aria-label="Metrics side by side"] tbody tr', { hasText: 'roc_auc' })
      .textContent();
    expect(metricRow).toContain(a.metrics.roc_auc.toFixed(4));
    expect(metricRow).toContain(b.metrics.roc_auc.toFixed(4));
    const difference = b.metrics.roc_auc - a.metrics.roc_auc;
    expect(metricRow).toContain(Math.abs(difference).toFixed(4));
    const changed = page.locator('table[aria-label="Parameters side by side"] tr.changed');
    expect(await changed.allTextContents()).toEqual([expect.stringContaining('model.params.learning_rate')]);
    expect(await page.locator('figure[aria-label="ROC curves of both runs"] .mark-line path').count()).toBe(
      3,
    );
    const legend = await page.locator('figure[aria-label="ROC curves of both runs"]').textContent();
    expect(legend).toContain(`A ${first.id}`);
    expect(legend).toContain(`B ${second.id}`);
    expect(await page.locator(`a[href="../artifacts/${first.id}/report.html"]`).count()).toBe(1);

    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);
    await page.screenshot({ path: join(RESULTS, 'compare.png'), fullPage: true });
    await page.close();
  });
});

describe('pipewright runs compare --html', () => {
  it('writes the page into the artifacts folder by default and names it', async () => {
    const result = await cli(project, '--json', 'runs', 'compare', first.id, second.id, '--html');
    expect(result.code).toBe(0);
    const file = join(artifacts, `compare-${first.id}-${second.id}.html`);
    expect(JSON.parse(result.stdout)).toMatchObject({ a: first.id, b: second.id, file });
    expect(readFileSync(file, 'utf8')).toMatch(/^<!doctype html>/);
  });
});

describe('the model card', () => {
  it('is stored in the published bundle and printed by `models show --card`, with intervals around each metric', async () => {
    const result = await cli(project, '--json', 'models', 'show', 'v1', '--card');
    expect(result.code).toBe(0);
    const shown = JSON.parse(result.stdout) as { version: string; card: ModelCard };
    const card = shown.card;
    expect(shown.version).toBe('v1');
    expect(card.runId).toBe(first.id);
    expect(card.trainingData.dataHash).toBe(first.dataHash);
    expect(card.trainingData.rows).toEqual(first.rows);
    const balance = card.trainingData.classBalance!;
    expect(balance.map((entry) => entry.label)).toEqual(['0', '1']);
    expect(balance.reduce((sum, entry) => sum + entry.count, 0)).toBe(3000);
    expect(card.evaluation.threshold).toBe(
      readJson<EvaluationFile>(join(artifacts, first.id, 'evaluate', 'evaluation.json')).threshold,
    );
    expect(Object.keys(card.evaluation.intervals).sort()).toEqual(['f1', 'pr_auc', 'roc_auc']);
    for (const [metric, interval] of Object.entries(card.evaluation.intervals)) {
      expect(interval.estimate, metric).toBeCloseTo(first.metrics![metric], 6);
      expect(interval.low, metric).toBeLessThanOrEqual(interval.estimate);
      expect(interval.high, metric).toBeGreaterThanOrEqual(interval.estimate);
      expect(interval.high - interval.low, metric).toBeGreaterThan(0);
      expect(interval.resamples, metric).toBe(100);
    }
    expect(card.intendedUse.join(' ')).toContain('Response');
    expect(card.limits.join(' ')).toMatch(/Class imbalance: Response = 1 is only \d+\.\d% of the rows/);

    const human = await cli(project, 'models', 'show', 'production', '--card');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Model card of');
    expect(human.stdout).toMatch(/\* roc_auc\s+0\.\d{4}\s+\[0\.\d{4} to 0\.\d{4}\]/);
  });
});

describe('a run that fails validation', () => {
  it('still gets a report that says where it stopped and shows the checks', async () => {
    project.set(['validation', 'drift', 'level'], 'fail');
    await shift(project, 'Annual_Premium', 2);
    const result = await cli(project, 'run');
    expect(result.code).not.toBe(0);
    const failed = listRunIds(artifacts).find((id) => id !== first.id && id !== second.id)!;
    const text = readFileSync(join(artifacts, failed, 'report.html'), 'utf8');
    expect(text).toContain('The run stopped at validate');
    expect(text).toContain('PW_VALIDATION_FAILED');
    expect(text).toContain('aria-label="Drift by feature"');
    expect(text).toContain('No metrics: the run stopped before the evaluate step.');
  });
});

describe.skipIf(!available)('the run report’s explanations', () => {
  it('shows mean |SHAP| per field beside split-count importance, and a summary plot', async () => {
    const evaluation = readJson<EvaluationFile>(join(artifacts, second.id, 'evaluate', 'evaluation.json'));
    const explanations = evaluation.explanations!;
    expect(explanations.space).toBe('log_odds');
    expect(explanations.rows).toBeGreaterThan(0);
    expect(explanations.rows).toBeLessThanOrEqual(2000);
    const fields = explanations.importance.map((item) => item.field);
    expect(fields.length).toBeGreaterThan(0);
    expect(explanations.importance.every((item) => item.meanAbsShap >= 0)).toBe(true);
    const { page, blocked, problems } = await openOffline(join(artifacts, second.id, 'report.html'));
    const importance = page.locator('figure[aria-label="Importance by explanation (mean |SHAP|)"]');
    expect(await importance.locator('svg[role="img"]').count()).toBe(1);
    expect(await importance.locator('.mark-rect path').count()).toBe(fields.length);
    expect(await importance.textContent()).toContain(fields[0]);
    const summary = page.locator('figure[aria-label="Summary plot"]');
    expect(await summary.locator('svg[role="img"]').count()).toBe(1);
    expect(await summary.locator('.mark-symbol path').count()).toBe(explanations.points.length);
    expect(await summary.textContent()).toMatch(/right of the dashed line/);
    expect(await page.locator('figure[aria-label="Feature importance"] svg[role="img"]').count()).toBe(1);
    expect(blocked).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});

describe('the model card’s explanations', () => {
  it('states mean |SHAP| per field, as the run’s evaluation measured it', async () => {
    const result = await cli(project, '--json', 'models', 'show', 'v1', '--card');
    expect(result.code).toBe(0);
    const card = (JSON.parse(result.stdout) as { card: ModelCard }).card;
    const evaluation = readJson<EvaluationFile>(join(artifacts, first.id, 'evaluate', 'evaluation.json'));
    expect(card.explanations).toEqual({
      space: 'log_odds',
      rows: evaluation.explanations!.rows,
      meanAbsShap: evaluation.explanations!.importance.map((item) => ({
        field: item.field,
        value: item.meanAbsShap,
      })),
    });
    const text = await cli(project, 'models', 'show', 'v1', '--card');
    expect(text.stdout).toContain('What drives it (mean |SHAP|');
  });
});
