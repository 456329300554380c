// The prediction page at GET /: one labelled control per feature, generated from the schema (number
// inputs with the field's range, selects for allowed values, checkboxes for booleans), validated in
// the page by /form.js (form-script.ts) and scored through POST /predict. Nothing comes from elsewhere,
// so it works offline.
import { markup, raw, type SafeHtml } from '../report/html.js';
import type { Field, Schema } from '../schema/schema.js';
import { BASE_STYLE, humanize, jsonForScript, pagePolicy } from './html.js';

/** Where the page loads its script from (relative, like its request to `predict`). */
export const FORM_SCRIPT_PATH = 'form.js';

export interface PageModel {
  version: string;
  task: string;
  threshold?: number;
  classes: (string | number | boolean)[];
  /** Categories seen in training per open category field (from the bundle): offered, not imposed. */
  seenCategories?: Record<string, string[]>;
}

/** What the page script learns about each control. */
export interface ControlSpec {
  name: string;
  type: Field['type'];
  control: 'number' | 'select' | 'checkbox' | 'text' | 'datetime';
  nullable: boolean;
  values?: (string | number | boolean)[];
}

export interface RenderedPage {
  html: string;
  /** The Content-Security-Policy that allows exactly this page's inline style and its own scripts. */
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
#result-why[hidden] { display: none; }
#result-why { margin: 1rem 0 0; } #result-why figcaption { color: var(--muted); font-size: .9rem; margin-bottom: .4rem; }
#result-why svg { display: block; width: 100%; max-width: 40rem; height: auto; font: inherit; font-size: 13px; }
#result-why text { fill: currentColor; }
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

function renderControl(field: Field, spec: ControlSpec, seen?: string[]): SafeHtml {
  const id = `field-${field.name}`;
  const helpParts = [
    field.description,
    rangeText(field),
    field.nullable && spec.control !== 'checkbox' ? 'optional' : '',
  ].filter(Boolean);
  const helpId = `help-${field.name}`;
  const errorId = `error-${field.name}`;
  const describedBy = helpParts.length ? `${helpId} ${errorId}` : errorId;
  const help = helpParts.length ? markup`<p class="help" id="${helpId}">${helpParts.join(' · ')}</p>` : '';
  const error = markup`<p class="error" id="${errorId}" aria-live="polite"></p>`;
  const label = markup`<label for="${id}">${humanize(field.name)}</label>`;
  const required = field.nullable ? '' : raw(' required');
  switch (spec.control) {
    case 'checkbox':
      return markup`<div class="field"><div class="field check"><input type="checkbox" id="${id}" name="${field.name}" aria-describedby="${describedBy}">${label}</div>${help}${error}</div>`;
    case 'select': {
      const options = (spec.values ?? []).map(
        (value, index) => markup`<option value="${index}">${String(value)}</option>`,
      );
      const placeholder = markup`<option value="">${field.nullable ? '(not given)' : 'Choose…'}</option>`;
      return markup`<div class="field">${label}<select id="${id}" name="${field.name}"${required} aria-describedby="${describedBy}">${placeholder}${options}</select>${help}${error}</div>`;
    }
    case 'number': {
      const min = field.min !== undefined ? markup` min="${field.min}"` : '';
      const max = field.max !== undefined ? markup` max="${field.max}"` : '';
      const step = field.type === 'integer' ? '1' : 'any';
      const inputMode = field.type === 'integer' ? 'numeric' : 'decimal';
      return markup`<div class="field">${label}<input type="number" id="${id}" name="${field.name}" step="${step}"${min}${max}${required} inputmode="${inputMode}" aria-describedby="${describedBy}">${help}${error}</div>`;
    }
    case 'datetime':
      return markup`<div class="field">${label}<input type="datetime-local" id="${id}" name="${field.name}"${required} aria-describedby="${describedBy}">${help}${error}</div>`;
    default: {
      if (field.type === 'category' && seen && seen.length > 0) {
        // An open category: any value is accepted; the ones training saw are suggested.
        const listId = `seen-${field.name}`;
        const options = seen.map((value) => markup`<option value="${value}"></option>`);
        return markup`<div class="field">${label}<input type="text" id="${id}" name="${field.name}" list="${listId}"${required} autocomplete="off" aria-describedby="${describedBy}"><datalist id="${listId}">${options}</datalist>${help}${error}</div>`;
      }
      return markup`<div class="field">${label}<input type="text" id="${id}" name="${field.name}"${required} autocomplete="off" aria-describedby="${describedBy}">${help}${error}</div>`;
    }
  }
}

/** The page for a schema and the model being served. */
export function renderFormPage(schema: Schema, model: PageModel): RenderedPage {
  const specs = schema.features.map(controlSpec);
  const controls = schema.features.map((field, index) => [
    index > 0 ? '\n' : '',
    renderControl(field, specs[index], model.seenCategories?.[field.name]),
  ]);
  const title = `${humanize(schema.name)}: prediction`;
  const target = schema.target ? humanize(schema.target.name) : 'the outcome';
  const probabilityOf =
    model.task === 'binary' && model.classes.length === 2 ? ` of ${String(model.classes[1])}` : '';
  const threshold =
    model.threshold !== undefined ? markup`<dt>Threshold</dt><dd>${model.threshold.toFixed(3)}</dd>` : '';
  const html = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${raw(FORM_STYLE)}</style>
</head>
<body>
<a class="skip" href="#predict-form">Skip to the form</a>
<main>
<h1>${title}</h1>
<p class="lead">${schema.description ?? `Predicts ${target} from the fields below.`}</p>
<form id="predict-form" class="card" novalidate aria-describedby="form-help">
<p class="help" id="form-help">Fill in every field (fields marked optional may stay empty), then press Predict.</p>
<div class="grid">
${controls}
</div>
<div id="summary" role="alert"></div>
<div class="actions"><button type="submit">Predict</button><span id="status" role="status" aria-live="polite"></span></div>
</form>
<section id="result" class="card" hidden aria-labelledby="result-heading">
<h2 id="result-heading">Predicted ${target}</h2>
<p class="label" id="result-label"></p>
<dl>
<div id="result-probability-row" class="row"><dt>Probability${probabilityOf}</dt><dd><span id="result-probability"></span><div class="bar" aria-hidden="true"><span id="result-bar"></span></div></dd></div>
${threshold}
<dt>Model version</dt><dd id="result-version"></dd>
<dt>Request id</dt><dd><code id="result-request"></code></dd>
</dl>
<figure id="result-why" hidden><figcaption id="result-why-caption"></figcaption><div id="result-why-chart"></div></figure>
</section>
<footer>Model ${model.version} · <a href="docs">API documentation</a> · <a href="model">model details</a> · <a href="monitor">drift monitor</a></footer>
</main>
<script type="application/json" id="field-spec">${raw(jsonForScript(specs))}</script>
<script type="module" src="${FORM_SCRIPT_PATH}"></script>
</body>
</html>
`;
  return { html: html.value, policy: pagePolicy([FORM_STYLE], "'self'") };
}
