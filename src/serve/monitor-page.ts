// The drift page at GET /monitor: the rolling window of live requests against the training data, one
// table row per feature with its PSI, KS, status and inline SVG bars of reference and live shares.
// Rendered on the server with no script; everything is inline, so it works offline and under the CSP.
import type { Schema } from '../schema/schema.js';
import type { RenderedPage } from './form.js';
import { markup, raw, type SafeHtml } from '../report/html.js';
import { BASE_STYLE, humanize, pagePolicy } from './html.js';
import type { BinShare, DistributionStatus, MonitorSnapshot } from './monitor-report.js';

const MONITOR_STYLE = `${BASE_STYLE}
main { max-width: 70rem; }
.summary { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; }
.summary p { margin: 0; }
.badge { display: inline-block; font-weight: 700; font-size: .85rem; border-radius: 999px; padding: .1rem .65rem; border: 1px solid currentColor; white-space: nowrap; }
.badge.ok { color: var(--good); } .badge.drift { color: var(--bad); } .badge.muted { color: var(--muted); }
.big { font-size: 1.05rem; padding: .25rem .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .45rem .5rem; vertical-align: middle; }
th { color: var(--muted); font-weight: 600; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
th.number { text-align: right; }
.table-wrap { overflow-x: auto; }
svg.bars { display: block; }
svg.bars .reference { fill: var(--muted); opacity: .55; }
svg.bars .live { fill: var(--accent); }
svg.bars .live.drifted { fill: var(--bad); }
svg.bars .axis { stroke: var(--line); }
.legend { display: flex; gap: 1.25rem; color: var(--muted); font-size: .9rem; margin: .75rem 0 0; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -.05rem; margin-right: .35rem; }
.swatch.reference { background: var(--muted); opacity: .55; } .swatch.live { background: var(--accent); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .75rem 0 0; }
dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

const BAR_HEIGHT = 40;
const BAR_WIDTH = 7;
const BAR_GAP = 1;
const BIN_GAP = 5;

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function fixed(value: number | null, digits = 3): string {
  return value === null || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** Reference and live shares of each bin as pairs of bars, tallest share at full height. */
function bars(name: string, bins: BinShare[], drifted: boolean): SafeHtml {
  const tallest = Math.max(1e-9, ...bins.map((bin) => Math.max(bin.reference, bin.live)));
  const step = 2 * BAR_WIDTH + BAR_GAP + BIN_GAP;
  const width = bins.length * step - BIN_GAP;
  const groups = bins.map((bin, index) => {
    const x = index * step;
    const referenceHeight = Math.max(bin.reference > 0 ? 1 : 0, (bin.reference / tallest) * BAR_HEIGHT);
    const liveHeight = Math.max(bin.live > 0 ? 1 : 0, (bin.live / tallest) * BAR_HEIGHT);
    return markup`<g><title>${`${bin.label}: reference ${percent(bin.reference)}, live ${percent(bin.live)}`}</title><rect class="reference" x="${x}" y="${(BAR_HEIGHT - referenceHeight).toFixed(2)}" width="${BAR_WIDTH}" height="${referenceHeight.toFixed(2)}"/><rect class="live${drifted ? ' drifted' : ''}" x="${x + BAR_WIDTH + BAR_GAP}" y="${(BAR_HEIGHT - liveHeight).toFixed(2)}" width="${BAR_WIDTH}" height="${liveHeight.toFixed(2)}"/></g>`;
  });
  const label = `Shares of ${name} by bin, reference then live: ${bins
    .map((bin) => `${bin.label} ${percent(bin.reference)} / ${percent(bin.live)}`)
    .join('; ')}`;
  return markup`<svg class="bars" role="img" aria-label="${label}" width="${width}" height="${BAR_HEIGHT + 1}" viewBox="0 0 ${width} ${BAR_HEIGHT + 1}">${groups}<line class="axis" x1="0" y1="${BAR_HEIGHT + 0.5}" x2="${width}" y2="${BAR_HEIGHT + 0.5}"/></svg>`;
}

function statusBadge(distribution: DistributionStatus, snapshot: MonitorSnapshot): SafeHtml {
  if (snapshot.window.count < snapshot.window.minCount)
    return markup`<span class="badge muted">collecting</span>`;
  return distribution.drifted
    ? markup`<span class="badge drift">drift</span>`
    : markup`<span class="badge ok">stable</span>`;
}

function featureRow(feature: DistributionStatus, snapshot: MonitorSnapshot): SafeHtml {
  return markup`<tr data-feature="${feature.field}"${feature.drifted ? raw(' class="drifted"') : ''}><th scope="row"><code>${feature.field}</code></th><td>${feature.kind}</td><td class="number psi">${fixed(feature.psi)}</td><td class="number">${fixed(feature.ks)}</td><td class="status">${statusBadge(feature, snapshot)}</td><td>${bars(feature.field, feature.bins, feature.drifted)}</td></tr>`;
}

function headline(snapshot: MonitorSnapshot): SafeHtml {
  const { window } = snapshot;
  switch (snapshot.status) {
    case 'unavailable':
      return markup`<span class="badge muted big">not monitored</span><p>${snapshot.reason ?? 'No reference statistics.'}</p>`;
    case 'collecting':
      return markup`<span class="badge muted big">collecting</span><p>${count(window.count)} of the ${count(window.minCount)} requests needed before drift is flagged.</p>`;
    case 'drift': {
      const drifted = snapshot.features.filter((feature) => feature.drifted).map((feature) => feature.field);
      const parts = [
        ...(drifted.length > 0
          ? [`${drifted.length} of ${snapshot.features.length} features (${drifted.join(', ')})`]
          : []),
        ...(snapshot.predictions?.drifted ? ['the predictions'] : []),
      ];
      return markup`<span class="badge drift big">drift</span><p>Drift in ${parts.join(' and ')}.</p>`;
    }
    default:
      return markup`<span class="badge ok big">no drift</span><p>Every feature${snapshot.predictions ? ' and the predictions' : ''} within the thresholds.</p>`;
  }
}

function predictionSection(snapshot: MonitorSnapshot): SafeHtml | '' {
  const predictions = snapshot.predictions;
  if (!predictions) return '';
  return markup`<h2 id="predictions-heading">Predictions</h2>
<section class="card" aria-labelledby="predictions-heading" id="predictions">
<div class="summary"><div>${bars('the predictions', predictions.bins, predictions.drifted)}</div>
<dl class="facts">
<dt>PSI</dt><dd class="psi">${fixed(predictions.psi)}</dd>
<dt>KS (bin edges)</dt><dd>${fixed(predictions.ks)}</dd>
<dt>Mean score</dt><dd>${fixed(predictions.meanLive)} live, ${fixed(predictions.meanReference)} reference</dd>
<dt>Status</dt><dd>${statusBadge(predictions, snapshot)}</dd>
</dl></div>
</section>`;
}

const UNSEEN_REASON_TEXT: Record<string, string> = {
  above_range: 'above the largest value seen',
  below_range: 'below the smallest value seen',
  unseen_category: 'a category never seen',
  unseen_missing: 'missing, where training had no missing value',
};

/** Values scored though training never saw them: valid under the contract, so scored, but worth a look. */
function unseenSection(snapshot: MonitorSnapshot): SafeHtml {
  const rows = [...snapshot.unseen].sort((a, b) => b.count - a.count);
  const body =
    rows.length > 0
      ? markup`<div class="table-wrap"><table id="unseen-values">
<caption class="visually-hidden">Values unseen in training, most frequent first</caption>
<thead><tr><th scope="col">Feature</th><th scope="col">Reason</th><th scope="col" class="number">Values</th></tr></thead>
<tbody>
${rows.map((row, index) => [index > 0 ? '\n' : '', markup`<tr data-feature="${row.field}" data-reason="${row.reason}"><th scope="row"><code>${row.field}</code></th><td>${UNSEEN_REASON_TEXT[row.reason] ?? row.reason}</td><td class="number">${count(row.count)}</td></tr>`])}
</tbody></table></div>`
      : markup`<p>None: every value scored so far was within what training held.</p>`;
  return markup`<h2 id="unseen-heading">Values unseen in training</h2>
<section class="card" aria-labelledby="unseen-heading" id="unseen">
<p>Scored, not refused; counted since model ${snapshot.version} was loaded.</p>
${body}
</section>`;
}

function attributionSection(snapshot: MonitorSnapshot): SafeHtml | '' {
  const attributions = snapshot.attributions;
  if (!attributions) return '';
  return markup`<h2 id="attributions-heading">What drives predictions</h2>
<section class="card" aria-labelledby="attributions-heading" id="attributions">
<p>Mean |SHAP value| per field (${attributions.space}): how far each field moves a prediction from the average one, on ${count(attributions.count)} sampled live requests (at most one in ${count(attributions.every)}, within 0.5 % of the server’s time; the last ${count(attributions.size)} kept) beside the model’s test rows. A field whose live value moves away from its reference changed what the model’s answers rest on.</p>
<div class="table-wrap"><table>
<thead><tr><th scope="col">Field</th><th scope="col" class="number">Live</th><th scope="col" class="number">Reference</th></tr></thead>
<tbody>
${attributions.fields.map((item, index) => [index > 0 ? '\n' : '', markup`<tr><th scope="row">${item.field}</th><td class="number">${fixed(item.live, 4)}</td><td class="number">${item.reference === null ? '—' : fixed(item.reference, 4)}</td></tr>`])}
</tbody></table></div>
</section>`;
}

/** The page for a snapshot of the live window. */
export function renderMonitorPage(schema: Schema, snapshot: MonitorSnapshot): RenderedPage {
  const title = `${humanize(schema.name)}: drift monitor`;
  const features = [...snapshot.features].sort((a, b) => (b.psi ?? -1) - (a.psi ?? -1));
  const { window, thresholds } = snapshot;
  const table =
    features.length > 0
      ? markup`<div class="table-wrap"><table id="features">
<caption class="visually-hidden">Drift per feature, largest PSI first</caption>
<thead><tr><th scope="col">Feature</th><th scope="col">Type</th><th scope="col" class="number">PSI</th><th scope="col" class="number">KS</th><th scope="col">Status</th><th scope="col">Reference vs live shares</th></tr></thead>
<tbody>
${features.map((feature, index) => [index > 0 ? '\n' : '', featureRow(feature, snapshot)])}
</tbody></table></div>
<p class="legend"><span><span class="swatch reference"></span>training data (reference)</span><span><span class="swatch live"></span>live requests</span></p>`
      : markup`<p>No feature is monitored.</p>`;
  const html = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="30">
<title>${title}</title>
<style>${raw(MONITOR_STYLE)}</style>
</head>
<body>
<a class="skip" href="#features">Skip to the features</a>
<main>
<h1>${title}</h1>
<p class="lead">The last ${count(window.count)} requests (window of ${count(window.size)}) against the ${count(snapshot.referenceRows)} training rows of model ${snapshot.version}. Drift means PSI above ${thresholds.psi} or KS above ${thresholds.ks}, once the window holds ${count(window.minCount)} requests.</p>
<section class="card summary" id="status" aria-live="polite">${headline(snapshot)}</section>
${predictionSection(snapshot)}
${attributionSection(snapshot)}
<h2>Features</h2>
${table}
${unseenSection(snapshot)}
<footer>Model ${snapshot.version} · ${count(window.observed)} requests since it was loaded · refreshes every 30 s · <a href="monitor.json">monitor.json</a> · <a href="metrics">metrics</a> · <a href="./">form</a></footer>
</main>
</body>
</html>
`;
  return { html: html.value, policy: pagePolicy([MONITOR_STYLE]) };
}
