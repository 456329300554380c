// The model card as text (for `pipewright models show --card`) and as an HTML section (for the run
// report). The card itself is built in src/ml/card.ts and stored in the bundle.
import type { ModelCard } from '../ml/card.js';
import { badge, formatNumber, markup, keyValues, parameters, table, type SafeHtml } from './html.js';

function intervalText(card: ModelCard, metric: string): string {
  const interval = card.evaluation.intervals[metric];
  return interval ? `${formatNumber(interval.low)} to ${formatNumber(interval.high)}` : '–';
}

const METRIC_ORDER = [
  'roc_auc',
  'pr_auc',
  'f1',
  'precision',
  'recall',
  'accuracy',
  'macro_f1',
  'log_loss',
  'brier',
  'rmse',
  'mae',
  'r2',
];

/** A cross-validated run holds no rows out: its card's metrics are means over folds. */
function crossValidated(card: ModelCard): boolean {
  return card.evaluation.testRows === 0;
}

/** Metrics in a fixed reading order (a bundle stores keys sorted), those with intervals first. */
function metricRows(card: ModelCard): string[] {
  const rank = (name: string) =>
    (card.evaluation.intervals[name] ? 0 : 100) +
    (METRIC_ORDER.includes(name) ? METRIC_ORDER.indexOf(name) : 50);
  return Object.keys(card.evaluation.metrics).sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
}

function thresholdText(card: ModelCard): string {
  if (card.evaluation.threshold === null)
    return card.task === 'multiclass' ? 'none (the likeliest class wins)' : 'none (regression)';
  return `${formatNumber(card.evaluation.threshold)}${card.evaluation.thresholdRule ? ` (${card.evaluation.thresholdRule})` : ''}`;
}

function balanceText(card: ModelCard): string {
  const balance = card.trainingData.classBalance;
  if (!balance) return '–';
  return balance
    .map((entry) => `${entry.label}: ${formatNumber(entry.count)} (${(entry.share * 100).toFixed(1)}%)`)
    .join(', ');
}

function rowsText(card: ModelCard): string {
  const rows = card.trainingData.rows;
  return `${formatNumber(rows.total)} (train ${formatNumber(rows.train)}, test ${formatNumber(rows.test)})`;
}

/** The card as plain text, a few dozen lines. */
export function modelCardText(card: ModelCard, heading?: string): string {
  const lines: string[] = [];
  lines.push(heading ?? `Model card: ${card.name}`);
  if (card.description) lines.push(`  ${card.description}`);
  lines.push('');
  lines.push(
    `  task        ${card.task}, target ${card.target}${card.classes.length ? ` (${card.classes.map(String).join(', ')})` : ''}`,
  );
  lines.push(`  model       ${card.model.type} ${JSON.stringify(card.model.params)}`);
  lines.push(`  run         ${card.runId}`);
  lines.push('', 'Training data');
  lines.push(`  data hash   ${card.trainingData.dataHash}`);
  lines.push(`  rows        ${rowsText(card)}`);
  if (card.trainingData.classBalance) lines.push(`  classes     ${balanceText(card)}`);
  lines.push(
    '',
    crossValidated(card)
      ? `Cross-validated on every row: means over folds (95% intervals over ${card.evaluation.intervals[card.evaluation.metric]?.resamples ?? 0} folds)`
      : `Evaluation on ${formatNumber(card.evaluation.testRows)} held-out rows (95% bootstrap intervals)`,
  );
  const names = metricRows(card);
  const width = Math.max(6, ...names.map((name) => name.length));
  for (const name of names) {
    const mark = name === card.evaluation.metric ? '*' : ' ';
    lines.push(
      `${mark} ${name.padEnd(width)}  ${formatNumber(card.evaluation.metrics[name]).padStart(7)}  ${card.evaluation.intervals[name] ? `[${intervalText(card, name)}]` : ''}`,
    );
  }
  lines.push(`  threshold   ${thresholdText(card)}`);
  const production = card.evaluation.production;
  if (production) {
    const difference = production.difference;
    lines.push(
      `  vs ${production.version}       ${card.evaluation.metric} ${formatNumber(production.metrics[card.evaluation.metric])}${difference ? `, difference ${formatNumber(difference.value)} [${formatNumber(difference.low)} to ${formatNumber(difference.high)}]` : ''}`,
    );
  }
  if (card.explanations) {
    lines.push(
      '',
      `What drives it (mean |SHAP|, ${card.explanations.space}, ${card.explanations.rows} test rows)`,
    );
    for (const item of card.explanations.meanAbsShap.slice(0, 10))
      lines.push(`  ${item.field.padEnd(24)} ${formatNumber(item.value)}`);
  }
  lines.push('', 'Intended use');
  for (const item of card.intendedUse) lines.push(`  - ${item}`);
  lines.push('', 'Known limits');
  for (const item of card.limits) lines.push(`  - ${item}`);
  return lines.join('\n');
}

/** The card as an HTML fragment (inside a report section). */
export function modelCardHtml(card: ModelCard, status: { published: boolean; version?: string }): SafeHtml {
  const names = metricRows(card);
  const production = card.evaluation.production;
  return markup`<div class="model-card">
<p>${status.published ? markup`${badge(`published ${status.version ?? ''}`.trim(), 'good')} This card is stored in the bundle; <code>pipewright models show ${status.version ?? ''} --card</code> prints it.` : markup`${badge('not published', 'muted')} The card this model would carry, had it been published.`}</p>
<div class="columns">
<div>
<h3>Model</h3>
${keyValues('Model', [
  [
    'Data',
    markup`${card.name}${card.description ? markup` <span class="muted">– ${card.description}</span>` : ''}`,
  ],
  [
    'Task',
    `${card.task}, target ${card.target}${card.classes.length ? ` (${card.classes.map(String).join(', ')})` : ''}`,
  ],
  ['Model', markup`${card.model.type} ${parameters(card.model.params)}`],
  ['Threshold', thresholdText(card)],
  ['Run', card.runId],
])}
<h3 style="margin-top:14px">Training data</h3>
${keyValues('Training data', [
  ['Data hash', markup`<code>${card.trainingData.dataHash}</code>`],
  ['Rows', rowsText(card)],
  ['Class balance', balanceText(card)],
  ['Features', card.features.map((f) => f.name).join(', ')],
])}
</div>
<div>
<h3>${crossValidated(card) ? 'Metrics cross-validated over every row' : markup`Metrics on ${formatNumber(card.evaluation.testRows)} held-out rows`}</h3>
${table(
  'Model card metrics',
  [
    'Metric',
    { title: 'Value', numeric: true },
    { title: '95% interval', numeric: true },
    ...(production ? [{ title: production.version, numeric: true }] : []),
  ],
  names.map((name) => [
    name === card.evaluation.metric ? markup`<strong>${name}</strong>` : name,
    formatNumber(card.evaluation.metrics[name]),
    intervalText(card, name),
    ...(production ? [formatNumber(production.metrics[name])] : []),
  ]),
)}
${crossValidated(card) ? markup`<p class="note">Means over ${card.evaluation.intervals[names[0]]?.resamples ?? 0} cross-validation folds, with corrected resampled t intervals; the model was then fitted on every row.</p>` : Object.keys(card.evaluation.intervals).length ? markup`<p class="note">Percentile bootstrap over ${card.evaluation.intervals[names[0]]?.resamples ?? 0} resamples of the test rows.</p>` : ''}
</div>
</div>
${card.explanations ? markup`<p class="note">What drives it, as mean |SHAP| on ${card.explanations.rows} test rows (${card.explanations.space}): ${card.explanations.meanAbsShap.slice(0, 5).map((item, index) => markup`${index > 0 ? ', ' : ''}${item.field} ${formatNumber(item.value)}`)}.</p>` : ''}
<div class="columns" style="margin-top:10px">
<div><h3>Intended use</h3><ul class="plain">${card.intendedUse.map((item) => markup`<li>${item}</li>`)}</ul></div>
<div><h3>Known limits</h3><ul class="plain">${card.limits.map((item) => markup`<li>${item}</li>`)}</ul></div>
</div>
</div>`;
}
