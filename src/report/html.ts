// HTML building blocks for the offline reports: an escaping template tag, number formats, tables,
// badges and the page shell with its inline stylesheet (no scripts, no external assets).

/** Markup that is already safe; anything else interpolated into `markup` is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/** Template tag: interpolated values are escaped unless they are SafeHtml; arrays are joined; null, undefined and false vanish. */
export function markup(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

const LOWER_IS_BETTER = new Set(['log_loss', 'brier', 'rmse', 'mae']);

/** Whether `difference` (new − old) of a metric is an improvement, a setback, or no change (undefined). */
export function improvement(metric: string, difference: number | undefined): boolean | undefined {
  if (difference === undefined || !Number.isFinite(difference) || Math.abs(difference) < 5e-7)
    return undefined;
  return LOWER_IS_BETTER.has(metric) ? difference < 0 : difference > 0;
}

/** A metric or statistic: integers as they are, others to `digits` decimals; '–' when absent. */
export function formatNumber(value: unknown, digits = 4): string {
  if (typeof value !== 'number') return value === undefined || value === null ? '–' : String(value);
  if (Number.isNaN(value)) return 'n/a';
  if (!Number.isFinite(value)) return value > 0 ? '∞' : '−∞';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value.toFixed(digits);
}

export function formatSigned(value: number | undefined, digits = 4): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  const text = Math.abs(value).toFixed(digits);
  return Number(text) === 0 ? text : `${value > 0 ? '+' : '−'}${text}`;
}

export function formatSeconds(seconds: number | undefined): string {
  if (seconds === undefined) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 120) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function formatTime(iso: string | undefined): string {
  return iso
    ? iso
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
        .replace(/Z$/, ' UTC')
    : '–';
}

const TONES: Record<string, string> = {
  pass: 'good',
  ok: 'good',
  succeeded: 'good',
  published: 'good',
  passed: 'good',
  better: 'good',
  warn: 'warn',
  cached: 'info',
  running: 'info',
  pending: 'muted',
  skipped: 'muted',
  off: 'muted',
  same: 'muted',
  fail: 'bad',
  failed: 'bad',
  drifted: 'bad',
  worse: 'bad',
};

export function badge(text: string, tone?: string): SafeHtml {
  return markup`<span class="badge ${tone ?? TONES[text] ?? 'muted'}">${text}</span>`;
}

export interface Column {
  title: string;
  numeric?: boolean;
}

/** A table with a caption-like label for assistive technology; cells are text or SafeHtml. */
export function table(
  label: string,
  columns: (string | Column)[],
  rows: unknown[][],
  className = '',
): SafeHtml {
  const specs = columns.map((column) => (typeof column === 'string' ? { title: column } : column));
  return markup`<div class="table-wrap"><table aria-label="${label}" class="${className}"><thead><tr>${specs.map((c) => markup`<th scope="col"${raw(c.numeric ? ' class="num"' : '')}>${c.title}</th>`)}</tr></thead><tbody>${rows.map(
    (row) =>
      markup`<tr>${row.map((cell, index) => markup`<td${raw(specs[index]?.numeric ? ' class="num"' : '')}>${cell}</td>`)}</tr>`,
  )}</tbody></table></div>`;
}

/** A definition list of label → value pairs. */
export function keyValues(label: string, pairs: [string, unknown][]): SafeHtml {
  return markup`<dl class="kv" aria-label="${label}">${pairs.map(([key, value]) => markup`<dt>${key}</dt><dd>${value}</dd>`)}</dl>`;
}

export function section(id: string, title: string, body: unknown, intro?: unknown): SafeHtml {
  return markup`<section id="${id}" aria-labelledby="${id}-title"><h2 id="${id}-title">${title}</h2>${intro ? markup`<p class="intro">${intro}</p>` : ''}${body}</section>`;
}

export function code(text: string): SafeHtml {
  return markup`<code>${text}</code>`;
}

/** Hyperparameters as `name value` chips, easier to scan than JSON. */
export function parameters(params: Record<string, unknown>): SafeHtml {
  const entries = Object.entries(params);
  if (entries.length === 0) return markup`<span class="muted">defaults</span>`;
  return markup`<span class="chips">${entries.map(([name, value]) => markup`<code>${name} ${typeof value === 'string' ? value : JSON.stringify(value)}</code>`)}</span>`;
}

const STYLE = `
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f5f6f8;--card:#fff;--accent:#2563eb;--head:#111827}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
header.top{background:var(--head);color:#f9fafb;padding:22px 0 18px}
header.top .inner,main,footer{max-width:1180px;margin:0 auto;padding:0 28px}
header.top h1{margin:0;font-size:22px;font-weight:650;letter-spacing:-.01em}
header.top .sub{margin-top:4px;color:#cbd5e1;font-size:13px}
header.top .sub .badge{margin-left:6px}
nav.toc{margin-top:12px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:13px}
nav.toc a{color:#93c5fd;text-decoration:none}
nav.toc a:hover{text-decoration:underline}
main{padding-top:18px;padding-bottom:36px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 22px;margin:0 0 16px}
h2{font-size:17px;margin:0 0 10px;font-weight:650}
h3{font-size:14px;margin:0 0 8px;font-weight:600;color:#374151}
p{margin:6px 0}
p.intro,.note{color:var(--muted);font-size:13px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(170px,1fr));gap:12px;margin:0 0 16px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.tile .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.tile .value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;margin-top:2px}
.tile .detail{font-size:12px;color:var(--muted)}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;font-size:13px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:#374151;background:#f9fafb;border-bottom:1px solid #d1d5db;white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
tr.changed td{background:#fffbeb}
table.diff{table-layout:fixed}
table.diff td{overflow-wrap:anywhere;word-break:break-all}
table.diff th:first-child{width:26%}table.diff th:last-child{width:90px}
tr.primary td{font-weight:600}
.badge{display:inline-block;padding:0 8px;border-radius:999px;font-size:12px;font-weight:600;line-height:20px;white-space:nowrap}
.badge.good{background:#dcfce7;color:#166534}.badge.warn{background:#fef3c7;color:#92400e}.badge.bad{background:#fee2e2;color:#991b1b}
.badge.info{background:#dbeafe;color:#1e40af}.badge.muted{background:#f3f4f6;color:#4b5563}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:3px 18px;margin:0}
.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;background:#f3f4f6;padding:1px 5px;border-radius:4px}
.chips{display:inline-flex;flex-wrap:wrap;gap:4px;vertical-align:middle}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px}
.columns{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px}
@media (max-width:900px){.columns{grid-template-columns:1fr}.grid{grid-template-columns:1fr}}
figure.chart{margin:0;border:1px solid var(--line);border-radius:8px;padding:12px 14px}
figure.chart svg{display:block;max-width:100%;height:auto;margin:0 auto}
figure.chart figcaption{font-size:12px;color:var(--muted);margin-top:6px}
.bar{position:relative;height:8px;background:#f3f4f6;border-radius:4px;min-width:80px}
.bar span{position:absolute;left:0;top:0;bottom:0;background:#60a5fa;border-radius:4px}
ul.reasons{margin:6px 0 0;padding-left:0;list-style:none}
ul.reasons li{margin:3px 0}
ul.plain{margin:4px 0 0;padding-left:18px}
ul.plain li{margin:3px 0}
table.confusion{width:auto;margin:4px 0 8px}
table.confusion td,table.confusion th{text-align:center;min-width:110px;padding:10px 14px}
table.confusion td{font-size:18px;font-weight:650}
table.confusion td small{display:block;font-size:11px;font-weight:400;color:var(--muted)}
.muted{color:var(--muted)}
.good-text{color:#15803d}.bad-text{color:#b91c1c}
.examples{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:11px;color:#4b5563;max-width:360px;overflow-wrap:anywhere}
footer{color:var(--muted);font-size:12px;padding-bottom:28px}
@media print{body{background:#fff}header.top{background:#fff;color:var(--ink)}header.top .sub{color:var(--muted)}nav.toc{display:none}section,figure.chart{break-inside:avoid}}
`;

/** A complete document: inline stylesheet, no scripts, nothing fetched. */
export function page(options: {
  title: string;
  heading: unknown;
  subtitle?: unknown;
  nav?: [string, string][];
  body: unknown;
  footer?: unknown;
}): string {
  const document = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${options.title}</title>
<style>${raw(STYLE)}</style>
</head>
<body>
<header class="top"><div class="inner"><h1>${options.heading}</h1>${options.subtitle ? markup`<div class="sub">${options.subtitle}</div>` : ''}${
    options.nav
      ? markup`<nav class="toc" aria-label="Sections">${options.nav.map(([id, title]) => markup`<a href="#${id}">${title}</a>`)}</nav>`
      : ''
  }</div></header>
<main>
${options.body}
</main>
<footer>${options.footer ?? ''}</footer>
</body>
</html>
`;
  return document.value;
}
