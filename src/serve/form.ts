// The prediction page at GET /: one labelled control per feature, generated from the schema (number
// inputs with the field's range, selects for allowed values, checkboxes for booleans), validated in
// the page and scored through POST /predict. Everything it needs is inline, so it works offline.
import type { Field, Schema } from '../schema/schema.js';
import { BASE_STYLE, escapeHtml, humanize, jsonForScript, pagePolicy } from './html.js';

export interface PageModel {
  version: string;
  task: string;
  threshold?: number;
  classes: (string | number | boolean)[];
}

/** What the page script learns about each control. */
interface ControlSpec {
  name: string;
  type: Field['type'];
  control: 'number' | 'select' | 'checkbox' | 'text' | 'datetime';
  nullable: boolean;
  values?: (string | number | boolean)[];
}

export interface RenderedPage {
  html: string;
  /** The Content-Security-Policy that allows exactly this page's inline style and script. */
  policy: string;
}

const FORM_STYLE = `${BASE_STYLE}
form .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: 1rem 1.25rem; }
.field { display: flex; flex-direction: column; gap: .3rem; }
.field label { font-weight: 600; }
.field .help { color: var(--muted); font-size: .85rem; margin: 0; }
.field .error { color: var(--bad); font-size: .85rem; margin: 0; min-height: 0; }
.field .error:empty { display: none; }
input[type=number], input[type=text], input[type=datetime-local], select {
  font: inherit; color: inherit; background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .45rem .6rem; width: 100%; }
input[aria-invalid=true], select[aria-invalid=true] { border-color: var(--bad); box-shadow: 0 0 0 1px var(--bad); }
.check { flex-direction: row; align-items: center; gap: .6rem; padding-top: 1.6rem; }
.check input { width: 1.25rem; height: 1.25rem; margin: 0; accent-color: var(--accent); }
.actions { display: flex; align-items: center; gap: 1rem; margin-top: 1.5rem; }
button { font: inherit; font-weight: 600; color: var(--accent-fg); background: var(--accent); border: 0; border-radius: 6px; padding: .6rem 1.4rem; cursor: pointer; }
button[disabled] { opacity: .6; cursor: progress; }
#status { color: var(--muted); }
#summary:empty { display: none; }
#summary { color: var(--bad); border: 1px solid var(--bad); border-radius: 6px; padding: .5rem .75rem; margin-top: 1rem; }
#result[hidden] { display: none; }
#result { margin-top: 1.5rem; } #result h2 { margin-top: 0; }
#result .label { font-size: 2rem; font-weight: 700; margin: 0; }
#result dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: .75rem 0 0; }
#result .row { display: contents; } #result .row[hidden] { display: none; }
#result dt { color: var(--muted); } #result dd { margin: 0; font-variant-numeric: tabular-nums; }
.bar { height: .6rem; background: var(--line); border-radius: 999px; overflow: hidden; margin-top: .5rem; }
.bar span { display: block; height: 100%; width: 0; background: var(--accent); }
`;

/** The page script: client-side checks with the browser's constraint API, then a JSON request. */
const FORM_SCRIPT = `
(() => {
  const form = document.getElementById('predict-form');
  const specs = JSON.parse(document.getElementById('field-spec').textContent);
  const statusLine = document.getElementById('status');
  const summary = document.getElementById('summary');
  const result = document.getElementById('result');
  const button = form.querySelector('button[type=submit]');

  function control(name) { return form.elements.namedItem(name); }
  function errorSlot(name) { return document.getElementById('error-' + name); }
  function clearErrors() {
    summary.textContent = '';
    for (const spec of specs) {
      const element = control(spec.name);
      element.removeAttribute('aria-invalid');
      errorSlot(spec.name).textContent = '';
    }
  }
  function showErrors(problems) {
    let first;
    for (const problem of problems) {
      const element = control(problem.field);
      if (!element) continue;
      element.setAttribute('aria-invalid', 'true');
      errorSlot(problem.field).textContent = problem.reason;
      first = first || element;
    }
    summary.textContent = problems.length === 1 ? 'One field needs attention.' : problems.length + ' fields need attention.';
    if (first) first.focus();
  }
  function readRecord() {
    const record = {};
    const problems = [];
    for (const spec of specs) {
      const element = control(spec.name);
      if (spec.control === 'checkbox') { record[spec.name] = element.checked; continue; }
      const text = element.value.trim();
      if (text === '') {
        if (spec.nullable) record[spec.name] = null;
        else problems.push({ field: spec.name, reason: spec.control === 'select' ? 'Choose a value.' : 'Enter a value.' });
        continue;
      }
      if (!element.checkValidity()) { problems.push({ field: spec.name, reason: element.validationMessage }); continue; }
      if (spec.control === 'select') record[spec.name] = spec.values[Number(text)];
      else if (spec.control === 'number') record[spec.name] = Number(text);
      else if (spec.control === 'datetime') record[spec.name] = new Date(text).toISOString();
      else record[spec.name] = text;
    }
    return { record, problems };
  }
  function percent(value) { return (value * 100).toFixed(1) + '%'; }
  function showResult(body) {
    const label = document.getElementById('result-label');
    const probabilityRow = document.getElementById('result-probability-row');
    if (body.value !== undefined) {
      label.textContent = String(body.value);
      probabilityRow.hidden = true;
    } else {
      label.textContent = String(body.label);
      probabilityRow.hidden = body.probability === undefined;
      if (body.probability !== undefined) {
        document.getElementById('result-probability').textContent = percent(body.probability);
        document.getElementById('result-bar').style.width = percent(body.probability);
      }
    }
    document.getElementById('result-version').textContent = body.version;
    document.getElementById('result-request').textContent = body.requestId;
    result.hidden = false;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const { record, problems } = readRecord();
    if (problems.length > 0) { showErrors(problems); statusLine.textContent = ''; return; }
    button.disabled = true;
    statusLine.textContent = 'Scoring…';
    try {
      const response = await fetch('predict', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(record),
      });
      const body = await response.json();
      if (response.ok) {
        showResult(body);
        statusLine.textContent = 'Done.';
      } else {
        if (body.error && Array.isArray(body.error.fields) && body.error.fields.length > 0) showErrors(body.error.fields);
        statusLine.textContent = (body.error && body.error.message) || 'The server refused the request (' + response.status + ').';
      }
    } catch (error) {
      statusLine.textContent = 'Could not reach the server: ' + error.message;
    } finally {
      button.disabled = false;
    }
  });
})();
`;

function controlSpec(field: Field): ControlSpec {
  const base = { name: field.name, type: field.type, nullable: field.nullable };
  if (field.type === 'boolean') return { ...base, control: 'checkbox' };
  if (field.values) return { ...base, control: 'select', values: field.values };
  if (field.type === 'integer' || field.type === 'number') return { ...base, control: 'number' };
  if (field.type === 'datetime') return { ...base, control: 'datetime' };
  return { ...base, control: 'text' };
}

function rangeText(field: Field): string {
  if (field.type === 'datetime') return '';
  if (field.min !== undefined && field.max !== undefined) return `${field.min} to ${field.max}`;
  if (field.min !== undefined) return `at least ${field.min}`;
  if (field.max !== undefined) return `at most ${field.max}`;
  return '';
}

function renderControl(field: Field, spec: ControlSpec): string {
  const id = `field-${field.name}`;
  const name = escapeHtml(field.name);
  const helpParts = [
    field.description,
    rangeText(field),
    field.nullable && spec.control !== 'checkbox' ? 'optional' : '',
  ].filter(Boolean);
  const helpId = `help-${field.name}`;
  const errorId = `error-${field.name}`;
  const describedBy = `${helpParts.length ? `${escapeHtml(helpId)} ` : ''}${escapeHtml(errorId)}`;
  const help = helpParts.length
    ? `<p class="help" id="${escapeHtml(helpId)}">${escapeHtml(helpParts.join(' · '))}</p>`
    : '';
  const error = `<p class="error" id="${escapeHtml(errorId)}" aria-live="polite"></p>`;
  const label = `<label for="${escapeHtml(id)}">${escapeHtml(humanize(field.name))}</label>`;
  const required = field.nullable ? '' : ' required';
  switch (spec.control) {
    case 'checkbox':
      return `<div class="field"><div class="field check"><input type="checkbox" id="${escapeHtml(id)}" name="${name}" aria-describedby="${describedBy}">${label}</div>${help}${error}</div>`;
    case 'select': {
      const options = (spec.values ?? [])
        .map((value, index) => `<option value="${index}">${escapeHtml(String(value))}</option>`)
        .join('');
      const placeholder = `<option value="">${field.nullable ? '(not given)' : 'Choose…'}</option>`;
      return `<div class="field">${label}<select id="${escapeHtml(id)}" name="${name}"${required} aria-describedby="${describedBy}">${placeholder}${options}</select>${help}${error}</div>`;
    }
    case 'number': {
      const limits = `${field.min !== undefined ? ` min="${field.min}"` : ''}${field.max !== undefined ? ` max="${field.max}"` : ''}`;
      const step = field.type === 'integer' ? '1' : 'any';
      return `<div class="field">${label}<input type="number" id="${escapeHtml(id)}" name="${name}" step="${step}"${limits}${required} inputmode="${field.type === 'integer' ? 'numeric' : 'decimal'}" aria-describedby="${describedBy}">${help}${error}</div>`;
    }
    case 'datetime':
      return `<div class="field">${label}<input type="datetime-local" id="${escapeHtml(id)}" name="${name}"${required} aria-describedby="${describedBy}">${help}${error}</div>`;
    default:
      return `<div class="field">${label}<input type="text" id="${escapeHtml(id)}" name="${name}"${required} autocomplete="off" aria-describedby="${describedBy}">${help}${error}</div>`;
  }
}

/** The page for a schema and the model being served. */
export function renderFormPage(schema: Schema, model: PageModel): RenderedPage {
  const specs = schema.features.map(controlSpec);
  const controls = schema.features.map((field, index) => renderControl(field, specs[index])).join('\n');
  const title = `${humanize(schema.name)}: prediction`;
  const target = schema.target ? humanize(schema.target.name) : 'the outcome';
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${FORM_STYLE}</style>
</head>
<body>
<a class="skip" href="#predict-form">Skip to the form</a>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(schema.description ?? `Predicts ${target} from the fields below.`)}</p>
<form id="predict-form" class="card" novalidate aria-describedby="form-help">
<p class="help" id="form-help">Fill in every field (fields marked optional may stay empty), then press Predict.</p>
<div class="grid">
${controls}
</div>
<div id="summary" role="alert"></div>
<div class="actions"><button type="submit">Predict</button><span id="status" role="status" aria-live="polite"></span></div>
</form>
<section id="result" class="card" hidden aria-labelledby="result-heading">
<h2 id="result-heading">Predicted ${escapeHtml(target)}</h2>
<p class="label" id="result-label"></p>
<dl>
<div id="result-probability-row" class="row"><dt>Probability${model.task === 'binary' && model.classes.length === 2 ? ` of ${escapeHtml(String(model.classes[1]))}` : ''}</dt><dd><span id="result-probability"></span><div class="bar" aria-hidden="true"><span id="result-bar"></span></div></dd></div>
${model.threshold !== undefined ? `<dt>Threshold</dt><dd>${escapeHtml(model.threshold.toFixed(3))}</dd>` : ''}
<dt>Model version</dt><dd id="result-version"></dd>
<dt>Request id</dt><dd><code id="result-request"></code></dd>
</dl>
</section>
<footer>Model ${escapeHtml(model.version)} · <a href="docs">API documentation</a> · <a href="model">model details</a> · <a href="monitor">drift monitor</a></footer>
</main>
<script type="application/json" id="field-spec">${jsonForScript(specs)}</script>
<script>${FORM_SCRIPT}</script>
</body>
</html>
`;
  return { html, policy: pagePolicy([FORM_STYLE], [FORM_SCRIPT]) };
}
