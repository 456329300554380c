// `pipewright runs compare <a> <b> --markup`: two runs side by side as one offline page: the runs, their
// metrics with differences and intervals, the parameters and data that changed, and both ROC curves.
import { existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { runDir } from '../pipeline/record.js';
import { chartFigure, precisionRecallSpec, rocSpec, type Curve } from './charts.js';
import {
  badge,
  code,
  formatNumber,
  formatSeconds,
  formatSigned,
  formatTime,
  markup,
  improvement,
  page,
  section,
  table,
  type SafeHtml,
} from './html.js';
import { loadRunArtifacts, writeFileAtomic, type RunArtifacts } from './run-report.js';

export interface ComparisonRow {
  key: string;
  a: unknown;
  b: unknown;
  changed: boolean;
}

/** The side-by-side rows of `pipewright runs compare` (dotted keys of each run's summary). */
export interface RunComparisonRows {
  a: string;
  b: string;
  rows: ComparisonRow[];
}

function cellText(value: unknown): string {
  if (value === undefined || value === null) return '–';
  if (typeof value === 'number') return formatNumber(value);
  return String(value);
}

function reportLink(artifacts: RunArtifacts, output: string): SafeHtml | string {
  const report = join(runDir(artifacts.artifactsRoot, artifacts.record.id), 'report.html');
  if (!existsSync(report)) return artifacts.record.id;
  const link = relative(dirname(resolve(output)), resolve(report))
    .split('\\')
    .join('/');
  return markup`<a href="${link}">${artifacts.record.id}</a>`;
}

function outcomeOf(artifacts: RunArtifacts): SafeHtml {
  const { record } = artifacts;
  if (record.outcome?.published) return badge(`published ${record.outcome.version}`, 'good');
  return markup`${badge(record.status)} ${badge('not published', 'muted')}`;
}

function runsTable(a: RunArtifacts, b: RunArtifacts, output: string): SafeHtml {
  const row = (label: string, left: unknown, right: unknown, same?: boolean) => [
    label,
    left,
    right,
    same === undefined ? '' : same ? badge('same') : badge('changed', 'info'),
  ];
  const hash = (artifacts: RunArtifacts) =>
    artifacts.record.dataHash ? code(artifacts.record.dataHash.slice(0, 16)) : '–';
  const rows = (artifacts: RunArtifacts) => {
    const counts = artifacts.record.rows;
    return counts
      ? `${formatNumber(counts.total)} (train ${formatNumber(counts.train)}, test ${formatNumber(counts.test)})`
      : '–';
  };
  return table(
    'Runs',
    ['', 'Run A', 'Run B', ''],
    [
      row('Run', reportLink(a, output), reportLink(b, output)),
      row('Outcome', outcomeOf(a), outcomeOf(b)),
      row('Started', formatTime(a.record.startedAt), formatTime(b.record.startedAt)),
      row('Duration', formatSeconds(a.record.seconds), formatSeconds(b.record.seconds)),
      row('Data hash', hash(a), hash(b), a.record.dataHash === b.record.dataHash),
      row('Rows', rows(a), rows(b), JSON.stringify(a.record.rows) === JSON.stringify(b.record.rows)),
      row(
        'Schema',
        code(a.record.schemaFingerprint.slice(0, 16)),
        code(b.record.schemaFingerprint.slice(0, 16)),
        a.record.schemaFingerprint === b.record.schemaFingerprint,
      ),
      row('Model', a.record.model.type, b.record.model.type, a.record.model.type === b.record.model.type),
      row('Seed', String(a.record.seed), String(b.record.seed), a.record.seed === b.record.seed),
      row(
        'Code',
        `${a.record.code.pipewright}${a.record.code.git ? ` ${a.record.code.git.commit.slice(0, 12)}` : ''}`,
        `${b.record.code.pipewright}${b.record.code.git ? ` ${b.record.code.git.commit.slice(0, 12)}` : ''}`,
      ),
    ],
  );
}

function metricsTable(a: RunArtifacts, b: RunArtifacts): SafeHtml {
  const left = a.evaluation?.metrics ?? a.record.metrics ?? {};
  const right = b.evaluation?.metrics ?? b.record.metrics ?? {};
  const names = [...new Set([...Object.keys(left), ...Object.keys(right)])];
  if (names.length === 0) return markup`<p class="muted">Neither run has metrics.</p>`;
  const gate = b.evaluation?.metric ?? a.evaluation?.metric;
  const interval = (artifacts: RunArtifacts, name: string) => {
    const found = artifacts.evaluation?.intervals?.[name];
    return found ? `${formatNumber(found.low)} to ${formatNumber(found.high)}` : '–';
  };
  return table(
    'Metrics side by side',
    [
      'Metric',
      { title: 'Run A', numeric: true },
      { title: 'A: 95% interval', numeric: true },
      { title: 'Run B', numeric: true },
      { title: 'B: 95% interval', numeric: true },
      { title: 'B − A', numeric: true },
    ],
    names.map((name) => {
      const difference =
        left[name] !== undefined && right[name] !== undefined ? right[name] - left[name] : undefined;
      const better = improvement(name, difference);
      return [
        name === gate ? markup`<strong>${name}</strong> <span class="muted">(gate)</span>` : name,
        formatNumber(left[name]),
        interval(a, name),
        formatNumber(right[name]),
        interval(b, name),
        markup`<span class="${better === undefined ? '' : better ? 'good-text' : 'bad-text'}">${formatSigned(difference)}</span>`,
      ];
    }),
  );
}

function differencesTable(
  comparison: RunComparisonRows,
  filter: (row: ComparisonRow) => boolean,
  label: string,
): SafeHtml {
  const rows = comparison.rows.filter(filter);
  if (rows.length === 0) return markup`<p class="muted">None.</p>`;
  return markup`<div class="table-wrap"><table class="diff" aria-label="${label}"><thead><tr><th scope="col">Setting</th><th scope="col">Run A</th><th scope="col">Run B</th><th scope="col"></th></tr></thead><tbody>${rows.map(
    (row) =>
      markup`<tr class="${row.changed ? 'changed' : ''}"><td><code>${row.key}</code></td><td>${cellText(row.a)}</td><td>${cellText(row.b)}</td><td>${row.changed ? badge('changed', 'info') : badge('same')}</td></tr>`,
  )}</tbody></table></div>`;
}

async function curvesSection(a: RunArtifacts, b: RunArtifacts): Promise<SafeHtml> {
  const left = a.evaluation?.curves;
  const right = b.evaluation?.curves;
  if (!left || !right) {
    const missing = [!left ? 'A' : '', !right ? 'B' : ''].filter(Boolean).join(' and ');
    return section(
      'curves',
      'Curves',
      markup`<p class="muted">No curves to overlay: run ${missing} has no binary evaluation (evaluate/evaluation.json with curves).</p>`,
    );
  }
  const label = (name: string, artifacts: RunArtifacts, metric: string, title: string) =>
    `${name} ${artifacts.record.id} (${title} ${formatNumber(artifacts.evaluation?.metrics[metric], 3)})`;
  const roc: Curve[] = [
    { name: label('A', a, 'roc_auc', 'AUC'), x: left.roc.fpr, y: left.roc.tpr },
    { name: label('B', b, 'roc_auc', 'AUC'), x: right.roc.fpr, y: right.roc.tpr },
  ];
  const pr: Curve[] = [
    { name: label('A', a, 'pr_auc', 'AP'), x: left.pr.recall, y: left.pr.precision },
    { name: label('B', b, 'pr_auc', 'AP'), x: right.pr.recall, y: right.pr.precision },
  ];
  const sameRows = a.record.dataHash === b.record.dataHash;
  return section(
    'curves',
    'Curves',
    markup`<div class="grid">${await chartFigure('roc', 'ROC curves of both runs', rocSpec(roc), sameRows ? 'Both on the same test rows; the dashed line is chance.' : 'Each run on its own test rows (the data changed between the runs); the dashed line is chance.')}${await chartFigure(
      'pr',
      'Precision-recall curves of both runs',
      precisionRecallSpec(pr),
    )}</div>`,
  );
}

/** The comparison page as an HTML document. */
export async function renderComparisonPage(input: {
  a: RunArtifacts;
  b: RunArtifacts;
  comparison: RunComparisonRows;
  output: string;
  generatedAt?: Date;
}): Promise<string> {
  const { a, b, comparison, output } = input;
  const isParameter = (row: ComparisonRow) => row.key.startsWith('model.') || row.key === 'seed';
  const changed = comparison.rows.filter((row) => row.changed && !row.key.startsWith('metrics.'));
  const body = markup`
${section('runs', 'Runs', runsTable(a, b, output), markup`Run A is ${a.record.id}, run B is ${b.record.id}. ${changed.length} settings differ outside the metrics.`)}
${section('metrics', 'Metrics', metricsTable(a, b), `${a.record.dataHash === b.record.dataHash ? 'Both runs on the same data and split' : 'Each run on its own data'}; differences are B − A, green where B is better.`)}
${section('params', 'Parameters', differencesTable(comparison, isParameter, 'Parameters side by side'), 'The model and its hyperparameters; changed rows are highlighted.')}
${await curvesSection(a, b)}
${section(
  'all',
  'Everything compared',
  differencesTable(comparison, () => true, 'Every compared setting'),
  'The same rows as `pipewright runs compare` prints.',
)}`;
  return page({
    title: `Runs ${a.record.id} and ${b.record.id} · ${b.record.project}`,
    heading: markup`Run comparison <span style="font-weight:400;color:#cbd5e1">${a.record.id} → ${b.record.id}</span>`,
    subtitle: markup`${b.record.project} · ${a.record.model.type}${a.record.model.type !== b.record.model.type ? ` → ${b.record.model.type}` : ''} · ${a.record.dataHash === b.record.dataHash ? 'same data' : 'different data'}`,
    nav: [
      ['runs', 'Runs'],
      ['metrics', 'Metrics'],
      ['params', 'Parameters'],
      ['curves', 'Curves'],
      ['all', 'Everything'],
    ],
    body,
    footer: markup`Written by Pipewright at ${formatTime((input.generatedAt ?? new Date()).toISOString())}. This page has no scripts and loads nothing: it works offline.`,
  });
}

/** Writes the comparison page (default artifacts/compare-<a>-<b>.html). */
export async function writeComparisonReport(
  artifactsRoot: string,
  comparison: RunComparisonRows,
  options: { output?: string } = {},
): Promise<{ file: string }> {
  const a = loadRunArtifacts(artifactsRoot, comparison.a);
  const b = loadRunArtifacts(artifactsRoot, comparison.b);
  const file = resolve(options.output ?? join(artifactsRoot, `compare-${a.record.id}-${b.record.id}.html`));
  writeFileAtomic(file, await renderComparisonPage({ a, b, comparison, output: file }));
  return { file };
}
