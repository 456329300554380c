// `pipewright report`: one self-contained HTML page per run (artifacts/<run-id>/report.html) with the
// run summary, validation and drift, metrics, curves, confusion matrix, calibration, feature
// importance, the comparison with production and the model card. Written after every run.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { replaceFileSync } from '../core/durable.js';
import { dirname, join, relative, resolve } from 'node:path';
import type { Logger } from '../core/logger.js';
import { buildModelCard, type ModelCard } from '../ml/card.js';
import { listRuns, readRunRecord, runDir, type RunRecord } from '../pipeline/record.js';
import type { Evaluation } from '../pipeline/steps/evaluate.js';
import type { ValidationReport } from '../pipeline/steps/validate.js';
import type { Schema } from '../schema/schema.js';
import { modelCardHtml } from './card.js';
import {
  calibrationSpec,
  chartFigure,
  featureImportanceSpec,
  shapImportanceSpec,
  shapSummarySpec,
  precisionRecallSpec,
  rocSpec,
  type Curve,
} from './charts.js';
import {
  badge,
  code,
  formatNumber,
  formatSeconds,
  formatSigned,
  formatTime,
  markup,
  improvement,
  keyValues,
  page,
  parameters,
  raw,
  section,
  table,
  type SafeHtml,
} from './html.js';
import { packageVersion } from '../core/version.js';

/** evaluation.json: the evaluate step's output as written (the in-memory test scores are left out). */
export type EvaluationFile = Omit<Evaluation, 'testScores'>;

export interface RunArtifacts {
  artifactsRoot: string;
  record: RunRecord;
  validation?: ValidationReport;
  evaluation?: EvaluationFile;
  card?: ModelCard;
  /** The run that trained the production model this run was compared with, when it is in the same artifacts folder. */
  productionRun?: RunRecord;
}

export interface ReportOptions {
  /** Where to write the page; default artifacts/<run-id>/report.html. */
  output?: string;
  /** The project's schema: lets the report show the model card of a run that did not publish. */
  schema?: Schema;
}

function readJson<T>(file: string): T | undefined {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as T) : undefined;
}

interface RunConfig {
  evaluate?: { threshold?: 'f1' | number; metric?: string };
  validation?: { drift?: { psi_threshold?: number; ks_threshold?: number } };
}

function configOf(record: RunRecord): RunConfig {
  return (record.config ?? {}) as RunConfig;
}

/** Everything a run left behind that the report shows. */
export function loadRunArtifacts(
  artifactsRoot: string,
  runId: string,
  options: { schema?: Schema } = {},
): RunArtifacts {
  const record = readRunRecord(artifactsRoot, runId);
  // A step reused from an earlier run left its files in that run's folder.
  const stepDir = (name: string) => {
    const step = record.steps.find((entry) => entry.name === name);
    return join(
      runDir(artifactsRoot, step?.status === 'cached' && step.cachedFrom ? step.cachedFrom : record.id),
      name,
    );
  };
  const validation = readJson<ValidationReport>(join(stepDir('validate'), 'report.json'));
  const evaluation = readJson<EvaluationFile>(join(stepDir('evaluate'), 'evaluation.json'));
  let card = readJson<ModelCard>(join(stepDir('publish'), 'card.json'));
  const schema = options.schema;
  if (
    !card &&
    evaluation &&
    record.dataHash &&
    record.rows &&
    schema?.target &&
    schema.fingerprint === record.schemaFingerprint
  ) {
    card = buildModelCard({
      schema,
      runId: record.id,
      model: record.model,
      dataHash: record.dataHash,
      rows: record.rows,
      evaluation,
      ...(configOf(record).evaluate?.threshold !== undefined
        ? { thresholdSetting: configOf(record).evaluate!.threshold }
        : {}),
      ...(validation ? { validation } : {}),
    });
  }
  let productionRun: RunRecord | undefined;
  if (evaluation?.productionVersion) {
    productionRun = listRuns(artifactsRoot)
      .filter(
        (run) =>
          run.id !== record.id &&
          run.startedAt <= record.startedAt &&
          run.outcome?.published &&
          run.outcome.version === evaluation.productionVersion,
      )
      .pop();
  }
  return {
    artifactsRoot,
    record,
    ...(validation ? { validation } : {}),
    ...(evaluation ? { evaluation } : {}),
    ...(card ? { card } : {}),
    ...(productionRun ? { productionRun } : {}),
  };
}

function outcomeBadge(record: RunRecord): SafeHtml {
  if (record.outcome?.published) return badge(`published ${record.outcome.version}`, 'good');
  if (record.status === 'running') return badge('running');
  return badge('not published', record.status === 'failed' ? 'bad' : 'muted');
}

function codeVersions(record: RunRecord): string {
  const git = record.code.git
    ? `, git ${record.code.git.commit.slice(0, 12)}${record.code.git.dirty ? ' (uncommitted changes)' : ''}`
    : '';
  return `pipewright ${record.code.pipewright}, node ${record.code.node}${git}`;
}

function tiles(artifacts: RunArtifacts): SafeHtml {
  const { record, evaluation } = artifacts;
  const finished = record.steps.filter((step) => step.status === 'ok' || step.status === 'cached').length;
  const metric = evaluation?.metric;
  const interval = metric ? evaluation?.intervals?.[metric] : undefined;
  const failedGate = evaluation?.gates.find((gate) => !gate.passed);
  const tile = (label: string, value: unknown, detail?: unknown) =>
    markup`<div class="tile"><div class="label">${label}</div><div class="value">${value}</div>${detail ? markup`<div class="detail">${detail}</div>` : ''}</div>`;
  return markup`<div class="tiles" aria-label="Run at a glance">
${tile('Status', record.status, `${finished} of ${record.steps.length} steps done`)}
${tile('Outcome', record.outcome?.published ? `${record.outcome.version}` : 'not published', record.outcome?.published ? `now ${record.outcome.alias}` : failedGate ? `gate failed: ${failedGate.name}` : record.status === 'failed' ? 'the run failed' : '')}
${metric && evaluation ? tile(metric, formatNumber(evaluation.metrics[metric]), interval ? `95% interval ${formatNumber(interval.low)} to ${formatNumber(interval.high)}` : evaluation.productionMetrics ? `production ${formatNumber(evaluation.productionMetrics[metric])}` : '') : ''}
${tile('Rows', formatNumber(record.rows?.total), record.rows?.train !== undefined ? `train ${formatNumber(record.rows.train)}, test ${formatNumber(record.rows.test)}` : '')}
${tile('Duration', formatSeconds(record.seconds), formatTime(record.startedAt))}
</div>`;
}

function summarySection(artifacts: RunArtifacts): SafeHtml {
  const { record } = artifacts;
  const longest = Math.max(0.001, ...record.steps.map((step) => step.seconds ?? 0));
  const steps = table(
    'Steps',
    ['Step', 'Status', { title: 'Time', numeric: true }, '', 'Summary'],
    record.steps.map((step) => [
      step.name,
      markup`${badge(step.status)}${step.cachedFrom ? markup` <span class="muted">from ${step.cachedFrom}</span>` : ''}`,
      formatSeconds(step.seconds),
      markup`<div class="bar" aria-hidden="true"><span style="width:${raw(((100 * (step.seconds ?? 0)) / longest).toFixed(1))}%"></span></div>`,
      step.error
        ? markup`<span class="bad-text">${step.error.code}: ${step.error.message}</span>`
        : String(step.summary?.text ?? step.summary?.reason ?? ''),
    ]),
  );
  const reasons = record.outcome?.reasons ?? [];
  return section(
    'summary',
    'Run summary',
    markup`<div class="columns"><div>${keyValues('Run details', [
      ['Project', record.project],
      ['Run', record.id],
      ['Started', formatTime(record.startedAt)],
      ['Ended', formatTime(record.endedAt)],
      ['Data hash', record.dataHash ? code(record.dataHash) : '–'],
      [
        'Rows',
        record.rows
          ? `${formatNumber(record.rows.total)} (train ${formatNumber(record.rows.train)}, test ${formatNumber(record.rows.test)})`
          : '–',
      ],
      ['Model', markup`${record.model.type} ${parameters(record.model.params)}`],
      ['Seed', String(record.seed)],
      ['Schema', code(record.schemaFingerprint.slice(0, 16))],
      ['Code', codeVersions(record)],
    ])}</div><div><h3>Outcome ${outcomeBadge(record)}</h3>${
      reasons.length
        ? markup`<ul class="reasons" aria-label="Gate results">${reasons.map((reason) => {
            const verdict = reason.startsWith('pass ')
              ? 'pass'
              : reason.startsWith('fail ')
                ? 'fail'
                : undefined;
            return markup`<li>${verdict ? badge(verdict) : ''} ${verdict ? reason.slice(5) : reason}</li>`;
          })}</ul>`
        : markup`<p class="muted">No outcome recorded.</p>`
    }</div></div><h3 style="margin-top:16px">Steps</h3>${steps}`,
  );
}

function examplesText(examples: unknown[] | undefined): string {
  if (!examples?.length) return '';
  const shown = examples.slice(0, 3).map((example) => {
    const text = typeof example === 'string' ? example : JSON.stringify(example);
    return text.length > 120 ? `${text.slice(0, 117)}…` : text;
  });
  return `${shown.join('; ')}${examples.length > 3 ? `; … (${examples.length} kept)` : ''}`;
}

function validationSection(artifacts: RunArtifacts): SafeHtml {
  const report = artifacts.validation;
  if (!report)
    return section(
      'validation',
      'Data validation',
      markup`<p class="muted">This run has no validation report: it stopped before the validate step.</p>`,
    );
  return section(
    'validation',
    'Data validation',
    table(
      'Validation checks',
      ['Check', 'Status', { title: 'Count', numeric: true }, 'Result', 'Examples'],
      report.checks.map((check) => [
        check.check,
        badge(check.status),
        formatNumber(check.count),
        check.message,
        markup`<div class="examples">${examplesText(check.examples)}</div>`,
      ]),
    ),
    markup`${badge(report.status)} ${report.rows.toLocaleString('en-US')} rows checked against the schema; each check is graded pass, warn or fail by <code>validation</code> in pipewright.yaml.`,
  );
}

function driftSection(artifacts: RunArtifacts): SafeHtml {
  const report = artifacts.validation;
  const features = [...(report?.drift.features ?? [])].sort((a, b) => b.psi - a.psi);
  if (!report || features.length === 0) {
    const check = report?.checks.find((c) => c.check === 'drift');
    return section(
      'drift',
      'Drift',
      markup`<p class="muted">${check ? `No drift table: ${check.message}.` : 'No drift table: the run stopped before validation.'}</p>`,
    );
  }
  const thresholds = configOf(artifacts.record).validation?.drift;
  const drifted = features.filter((feature) => feature.drifted).length;
  return section(
    'drift',
    'Drift',
    table(
      'Drift by feature',
      [
        'Feature',
        'Kind',
        { title: 'PSI', numeric: true },
        { title: 'KS / chi-square', numeric: true },
        { title: 'Missing (training → now)', numeric: true },
        'Drifted',
      ],
      features.map((feature) => [
        feature.field,
        feature.kind,
        formatNumber(feature.psi, 3),
        feature.ks !== undefined
          ? `KS ${formatNumber(feature.ks, 3)}`
          : feature.chiSquare
            ? `χ² ${formatNumber(feature.chiSquare.statistic, 1)}, p ${formatNumber(feature.chiSquare.pValue, 3)}`
            : '–',
        `${(feature.referenceMissingShare * 100).toFixed(1)}% → ${(feature.currentMissingShare * 100).toFixed(1)}%`,
        feature.drifted ? badge('drifted') : badge('stable', 'good'),
      ]),
    ),
    markup`Today's data against the training data of production ${report.drift.reference}: ${drifted} of ${features.length} features drifted (PSI above ${thresholds?.psi_threshold ?? '?'} or KS above ${thresholds?.ks_threshold ?? '?'}).`,
  );
}

function metricsSection(artifacts: RunArtifacts): SafeHtml {
  const evaluation = artifacts.evaluation;
  if (!evaluation)
    return section(
      'metrics',
      'Metrics',
      markup`<p class="muted">No metrics: the run stopped before the evaluate step.</p>`,
    );
  const production = evaluation.productionMetrics;
  const names = Object.keys(evaluation.metrics);
  const rows = names.map((name) => {
    const interval = evaluation.intervals?.[name];
    const value = evaluation.metrics[name];
    const previous = production?.[name];
    const difference = previous !== undefined ? value - previous : undefined;
    const better = improvement(name, difference);
    return [
      name === evaluation.metric ? markup`<strong>${name}</strong> <span class="muted">(gate)</span>` : name,
      formatNumber(value),
      interval ? `${formatNumber(interval.low)} to ${formatNumber(interval.high)}` : '–',
      ...(production
        ? [
            formatNumber(previous),
            markup`<span class="${better === undefined ? '' : better ? 'good-text' : 'bad-text'}">${formatSigned(difference)}</span>`,
          ]
        : []),
    ];
  });
  const comparison = evaluation.comparison;
  return section(
    'metrics',
    'Metrics',
    markup`${table(
      'Metrics',
      [
        'Metric',
        { title: 'This run', numeric: true },
        { title: '95% interval', numeric: true },
        ...(production
          ? [
              { title: `Production ${evaluation.productionVersion}`, numeric: true },
              { title: 'Difference', numeric: true },
            ]
          : []),
      ],
      rows,
    )}${
      evaluation.crossValidation
        ? markup`<p class="note">Cross-validated: ${evaluation.crossValidation.repeats} × ${evaluation.crossValidation.folds}-fold, stratified, over every row; ${evaluation.metric} ${formatNumber(evaluation.crossValidation.model.mean)}, 95% interval ${formatNumber(evaluation.crossValidation.model.low)} to ${formatNumber(evaluation.crossValidation.model.high)}${evaluation.crossValidation.production && evaluation.crossValidation.difference ? markup`; production ${evaluation.crossValidation.production.version} (${evaluation.crossValidation.production.refit}) ${formatNumber(evaluation.crossValidation.production.mean)}, improvement ${formatSigned(evaluation.crossValidation.difference.mean)} (95% interval ${formatSigned(evaluation.crossValidation.difference.low)} to ${formatSigned(evaluation.crossValidation.difference.high)})` : ''}. The published model was then fitted on every row.</p>`
        : comparison
          ? markup`<p class="note">Bootstrap of the ${evaluation.metric} difference (this run − production) on the same test rows: ${formatSigned(comparison.difference)}, 95% interval ${formatSigned(comparison.low)} to ${formatSigned(comparison.high)} over ${comparison.resamples} resamples; this run was better in ${(comparison.shareABetter * 100).toFixed(0)}% of them.</p>`
          : ''
    }`,
    evaluation.crossValidation
      ? markup`Means over ${evaluation.crossValidation.repeats * evaluation.crossValidation.folds} cross-validation folds, each model scored on rows it did not learn from${evaluation.threshold !== null ? markup`; the published threshold ${formatNumber(evaluation.threshold)} was chosen on the out-of-fold scores` : ''}. Intervals are corrected resampled-t intervals over the folds.`
      : markup`Measured on the ${formatNumber(artifacts.record.rows?.test)} test rows the model never saw${evaluation.threshold !== null ? markup`, at the threshold ${formatNumber(evaluation.threshold)}` : ''}. Intervals are percentile bootstrap intervals over the test rows.`,
  );
}

function confusionTable(evaluation: EvaluationFile, classes: string[]): SafeHtml {
  const [[tn, fp], [fn, tp]] = evaluation.confusion!;
  const total = tn + fp + fn + tp;
  const cell = (count: number, correct: boolean) => {
    const alpha = total > 0 ? 0.08 + 0.5 * (count / total) : 0;
    const colour = correct
      ? `rgba(37,99,235,${alpha.toFixed(3)})`
      : `rgba(239,68,68,${(alpha * 0.8).toFixed(3)})`;
    return markup`<td style="background:${raw(colour)}"><span class="count">${count.toLocaleString('en-US')}</span><small>${total ? ((100 * count) / total).toFixed(1) : '0'}% of rows</small></td>`;
  };
  const precision = tp + fp > 0 ? tp / (tp + fp) : NaN;
  const recall = tp + fn > 0 ? tp / (tp + fn) : NaN;
  return markup`<figure class="chart" id="chart-confusion" aria-label="Confusion matrix"><h3>Confusion matrix at threshold ${formatNumber(evaluation.threshold ?? 0.5)}</h3>
<table class="confusion" aria-label="Confusion matrix"><thead><tr><th></th><th scope="col">Predicted ${classes[0]}</th><th scope="col">Predicted ${classes[1]}</th></tr></thead>
<tbody><tr><th scope="row">Actual ${classes[0]}</th>${cell(tn, true)}${cell(fp, false)}</tr><tr><th scope="row">Actual ${classes[1]}</th>${cell(fn, false)}${cell(tp, true)}</tr></tbody></table>
<figcaption>${tp.toLocaleString('en-US')} true positives, ${fp.toLocaleString('en-US')} false positives, ${fn.toLocaleString('en-US')} false negatives, ${tn.toLocaleString('en-US')} true negatives: precision ${formatNumber(precision, 3)}, recall ${formatNumber(recall, 3)}.</figcaption></figure>`;
}

async function curvesSection(artifacts: RunArtifacts): Promise<SafeHtml | undefined> {
  const evaluation = artifacts.evaluation;
  const curves = evaluation?.curves;
  if (!evaluation || !curves) return undefined;
  const productionName = `Production ${evaluation.productionVersion ?? ''}`.trim();
  const roc: Curve[] = [
    {
      name: `This run (AUC ${formatNumber(evaluation.metrics.roc_auc, 3)})`,
      x: curves.roc.fpr,
      y: curves.roc.tpr,
    },
  ];
  if (curves.productionRoc) {
    roc.push({
      name: `${productionName} (AUC ${formatNumber(evaluation.productionMetrics?.roc_auc, 3)})`,
      x: curves.productionRoc.fpr,
      y: curves.productionRoc.tpr,
    });
  }
  let positiveShare: number | undefined;
  if (evaluation.confusion) {
    const [[tn, fp], [fn, tp]] = evaluation.confusion;
    positiveShare = (fn + tp) / Math.max(1, tn + fp + fn + tp);
  }
  const classes = artifacts.card?.classes.map(String) ?? ['negative', 'positive'];
  const figures = [
    await chartFigure(
      'roc',
      'ROC curve',
      rocSpec(roc),
      curves.productionRoc
        ? `Both models on the same ${formatNumber(artifacts.record.rows?.test)} test rows; the dashed line is chance.`
        : 'On the test rows; the dashed line is chance.',
    ),
    await chartFigure(
      'pr',
      'Precision-recall curve',
      precisionRecallSpec(
        [
          {
            name: `This run (average precision ${formatNumber(evaluation.metrics.pr_auc, 3)})`,
            x: curves.pr.recall,
            y: curves.pr.precision,
          },
        ],
        positiveShare,
      ),
      positiveShare !== undefined
        ? `The dashed line is the share of positives (${(positiveShare * 100).toFixed(1)}%), what a random ranking achieves.`
        : undefined,
    ),
    await chartFigure(
      'calibration',
      'Calibration',
      calibrationSpec(curves.calibration),
      'Test rows in ten bins of predicted probability: a calibrated model follows the diagonal.',
    ),
    ...(evaluation.confusion ? [confusionTable(evaluation, classes)] : []),
  ];
  return section('curves', 'Curves and confusion matrix', markup`<div class="grid">${figures}</div>`);
}

const SPACE_UNITS: Record<string, string> = {
  log_odds: 'log-odds',
  probability: 'probability',
  value: 'predicted value',
  class_scores: 'class score, summed over classes',
};

async function importanceSection(artifacts: RunArtifacts): Promise<SafeHtml | undefined> {
  const importance = artifacts.evaluation?.featureImportance;
  const explanations = artifacts.evaluation?.explanations;
  if (!importance?.length && !explanations) return undefined;
  const figures: SafeHtml[] = [];
  if (explanations) {
    const unit = SPACE_UNITS[explanations.space] ?? explanations.space;
    figures.push(
      await chartFigure(
        'shap-importance',
        'Importance by explanation (mean |SHAP|)',
        shapImportanceSpec(explanations.importance, unit),
        `How far, on average, each field moves a prediction away from the average one: the mean absolute exact SHAP value over ${explanations.rows.toLocaleString('en-US')} test rows, per schema field (encoded columns summed back).`,
      ),
      await chartFigure(
        'shap-summary',
        'Summary plot',
        shapSummarySpec(
          explanations.points,
          explanations.importance.map((item) => item.field),
          unit,
        ),
        'One dot per test row and field: right of the dashed line the field raised that prediction, left it lowered it; red dots are high values of the field and blue low ones, so red on the right means “the higher, the more likely”.',
      ),
    );
  }
  if (importance?.length) {
    const top = importance.slice(0, 20);
    figures.push(
      await chartFigure(
        'importance',
        'Feature importance',
        featureImportanceSpec(top),
        `${importance.length > 20 ? `The top 20 of ${importance.length}` : `All ${importance.length}`} model inputs (after preprocessing), as the ${artifacts.record.model.type} model weighs them.`,
      ),
    );
  }
  return section('importance', 'Feature importance', markup`${figures}`);
}

function comparisonSection(artifacts: RunArtifacts, output: string): SafeHtml {
  const { record, evaluation, productionRun } = artifacts;
  const gate = evaluation?.gates.find((g) => g.name === 'beats_production');
  if (!evaluation)
    return section(
      'production',
      'Comparison with production',
      markup`<p class="muted">No comparison: the run stopped before the evaluate step.</p>`,
    );
  if (!evaluation.productionVersion) {
    return section(
      'production',
      'Comparison with production',
      markup`<p>${gate ? gate.reason : 'No production model to compare with.'}${gate?.reason === 'no production model yet' ? ': this run trained the first model.' : ''}</p>`,
    );
  }
  const metric = evaluation.metric;
  const pairs: [string, unknown][] = [['Production', evaluation.productionVersion]];
  if (productionRun) {
    const report = join(runDir(artifacts.artifactsRoot, productionRun.id), 'report.html');
    const link = relative(dirname(resolve(output)), resolve(report))
      .split('\\')
      .join('/');
    pairs.push([
      'Trained by run',
      existsSync(report) ? markup`<a href="${link}">${productionRun.id}</a>` : productionRun.id,
    ]);
    pairs.push([
      'Training data',
      productionRun.dataHash === record.dataHash
        ? markup`${badge('same', 'muted')} the same rows (${code((record.dataHash ?? '').slice(0, 12))})`
        : markup`${badge('changed', 'info')} ${code((productionRun.dataHash ?? '').slice(0, 12))} → ${code((record.dataHash ?? '').slice(0, 12))}; rows ${formatNumber(productionRun.rows?.total)} → ${formatNumber(record.rows?.total)}`,
    ]);
    const changed = Object.keys({ ...productionRun.model.params, ...record.model.params }).filter(
      (key) => JSON.stringify(productionRun.model.params[key]) !== JSON.stringify(record.model.params[key]),
    );
    pairs.push([
      'Model',
      productionRun.model.type !== record.model.type
        ? `${productionRun.model.type} → ${record.model.type}`
        : changed.length
          ? markup`${record.model.type}, changed: ${changed.map((key, index) => markup`${index ? ', ' : ''}${code(`${key} ${JSON.stringify(productionRun.model.params[key] ?? null)} → ${JSON.stringify(record.model.params[key] ?? null)}`)}`)}`
          : `${record.model.type}, same parameters`,
    ]);
  }
  pairs.push([
    metric,
    markup`${formatNumber(evaluation.productionMetrics?.[metric])} → ${formatNumber(evaluation.metrics[metric])}${evaluation.comparison ? markup` <span class="muted">(difference ${formatSigned(evaluation.comparison.difference)}, 95% interval ${formatSigned(evaluation.comparison.low)} to ${formatSigned(evaluation.comparison.high)})</span>` : ''}`,
  ]);
  if (gate) pairs.push(['Verdict', markup`${badge(gate.passed ? 'pass' : 'fail')} ${gate.reason}`]);
  return section(
    'production',
    'Comparison with production',
    keyValues('Comparison with production', pairs),
    `The model in production when this run started, scored on the same test rows. Its ROC curve is drawn next to this run's above.`,
  );
}

/** The run report as an HTML document. */
export async function renderRunReport(
  artifacts: RunArtifacts,
  options: { output?: string; generatedAt?: Date; version?: string } = {},
): Promise<string> {
  const { record, card } = artifacts;
  const output = options.output ?? join(runDir(artifacts.artifactsRoot, record.id), 'report.html');
  const curves = await curvesSection(artifacts);
  const importance = await importanceSection(artifacts);
  const failedStep = record.steps.find((step) => step.status === 'failed');
  const cardSection = card
    ? section(
        'card',
        'Model card',
        modelCardHtml(card, {
          published: Boolean(record.outcome?.published),
          ...(record.outcome?.version ? { version: record.outcome.version } : {}),
        }),
      )
    : section(
        'card',
        'Model card',
        markup`<p class="muted">No model card: ${artifacts.evaluation ? 'the run did not publish and the current schema is not the one it trained on.' : 'the run stopped before a model was evaluated.'}</p>`,
      );
  const nav: [string, string][] = [
    ['summary', 'Summary'],
    ['validation', 'Validation'],
    ['drift', 'Drift'],
    ['metrics', 'Metrics'],
    ...(curves ? ([['curves', 'Curves']] as [string, string][]) : []),
    ...(importance ? ([['importance', 'Feature importance']] as [string, string][]) : []),
    ['production', 'Production'],
    ['card', 'Model card'],
  ];
  const body = markup`${failedStep ? markup`<section class="failure" aria-label="Failure"><h2>${badge('failed')} The run stopped at ${failedStep.name}</h2><p>${failedStep.error?.code}: ${failedStep.error?.message}</p>${failedStep.error?.hint ? markup`<p class="muted">${failedStep.error.hint}</p>` : ''}</section>` : ''}
${tiles(artifacts)}
${summarySection(artifacts)}
${validationSection(artifacts)}
${driftSection(artifacts)}
${metricsSection(artifacts)}
${curves ?? ''}
${importance ?? ''}
${comparisonSection(artifacts, output)}
${cardSection}`;
  return page({
    title: `Run ${record.id} · ${record.project}`,
    heading: markup`Run report <span style="font-weight:400;color:#cbd5e1">${record.id}</span>`,
    subtitle: markup`${record.project} · ${record.model.type} · started ${formatTime(record.startedAt)} · ${formatSeconds(record.seconds)} ${badge(record.status)}${outcomeBadge(record)}`,
    nav,
    body,
    footer: markup`Written by Pipewright${options.version ? ` ${options.version}` : ''} at ${formatTime((options.generatedAt ?? new Date()).toISOString())} from ${runDir(artifacts.artifactsRoot, record.id)}. This page has no scripts and loads nothing: it works offline.`,
  });
}

/** Writes a page atomically and durably, so a reader never sees half a page. */
export function writeFileAtomic(file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  replaceFileSync(file, text);
}

/** Renders the report of a run and writes it (default artifacts/<run-id>/report.html). */
export async function writeRunReport(
  artifactsRoot: string,
  runId: string,
  options: ReportOptions = {},
): Promise<{ file: string; runId: string }> {
  const artifacts = loadRunArtifacts(artifactsRoot, runId, options.schema ? { schema: options.schema } : {});
  const file = resolve(options.output ?? join(runDir(artifactsRoot, artifacts.record.id), 'report.html'));
  const version = packageVersion();
  const text = await renderRunReport(artifacts, { output: file, ...(version ? { version } : {}) });
  writeFileAtomic(file, text);
  return { file, runId: artifacts.record.id };
}

/** As writeRunReport, after a run: a report that cannot be written is a warning, never a failed run. */
export async function writeRunReportSafely(
  artifactsRoot: string,
  runId: string,
  options: ReportOptions & { logger: Logger },
): Promise<string | undefined> {
  if (!existsSync(join(runDir(artifactsRoot, runId), 'run.json'))) return undefined;
  try {
    const { file } = await writeRunReport(artifactsRoot, runId, options);
    options.logger.info({ report: file }, `report: ${file}`);
    return file;
  } catch (error) {
    options.logger.warn(
      { err: error },
      `the report of run ${runId} could not be written: ${(error as Error)?.message ?? error}`,
    );
    return undefined;
  }
}
