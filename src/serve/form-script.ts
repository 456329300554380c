/// <reference lib="dom" />
// The prediction form's script, run in the browser (served as /form.js from the compiled output, so
// the page carries no inline script): checks the controls with the browser's constraint API, then
// sends the record as JSON to POST /predict and shows the answer or the server's field errors.
import type { ControlSpec } from './form.js';

type Control = HTMLInputElement | HTMLSelectElement;

interface Problem {
  field: string;
  reason: string;
}

interface Contributions {
  base: number;
  contributions: Record<string, number>;
}

interface Explanation extends Partial<Contributions> {
  space: string;
  per_class?: Record<string, Contributions>;
}

interface Answer {
  explanation?: Explanation;
  label?: unknown;
  value?: unknown;
  probability?: number;
  version: string;
  requestId: string;
  error?: { code?: string; message?: string; fields?: Problem[] };
}

function element<Type extends HTMLElement>(id: string): Type {
  return document.getElementById(id) as Type;
}

const form = element<HTMLFormElement>('predict-form');
const specs = JSON.parse(element('field-spec').textContent ?? '[]') as ControlSpec[];
const statusLine = element('status');
const summary = element('summary');
const result = element('result');
const button = form.querySelector<HTMLButtonElement>('button[type=submit]')!;

function control(name: string): Control | null {
  return form.elements.namedItem(name) as Control | null;
}

function errorSlot(name: string): HTMLElement {
  return element(`error-${name}`);
}

function clearErrors(): void {
  summary.textContent = '';
  for (const spec of specs) {
    control(spec.name)?.removeAttribute('aria-invalid');
    errorSlot(spec.name).textContent = '';
  }
}

function showErrors(problems: Problem[]): void {
  let first: Control | undefined;
  for (const problem of problems) {
    const input = control(problem.field);
    if (!input) continue;
    input.setAttribute('aria-invalid', 'true');
    errorSlot(problem.field).textContent = problem.reason;
    first = first ?? input;
  }
  summary.textContent =
    problems.length === 1 ? 'One field needs attention.' : `${problems.length} fields need attention.`;
  first?.focus();
}

function readRecord(): { record: Record<string, unknown>; problems: Problem[] } {
  const record: Record<string, unknown> = {};
  const problems: Problem[] = [];
  for (const spec of specs) {
    const input = control(spec.name)!;
    if (spec.control === 'checkbox') {
      record[spec.name] = (input as HTMLInputElement).checked;
      continue;
    }
    const text = input.value.trim();
    if (text === '') {
      if (spec.nullable) record[spec.name] = null;
      else
        problems.push({
          field: spec.name,
          reason: spec.control === 'select' ? 'Choose a value.' : 'Enter a value.',
        });
      continue;
    }
    if (!input.checkValidity()) {
      problems.push({ field: spec.name, reason: input.validationMessage });
      continue;
    }
    if (spec.control === 'select') record[spec.name] = spec.values![Number(text)];
    else if (spec.control === 'number') record[spec.name] = Number(text);
    else if (spec.control === 'datetime') record[spec.name] = new Date(text).toISOString();
    else record[spec.name] = text;
  }
  return { record, problems };
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

function showResult(body: Answer): void {
  const label = element('result-label');
  const probabilityRow = element('result-probability-row');
  if (body.value !== undefined) {
    label.textContent = String(body.value);
    probabilityRow.hidden = true;
  } else {
    label.textContent = String(body.label);
    probabilityRow.hidden = body.probability === undefined;
    if (body.probability !== undefined) {
      element('result-probability').textContent = percent(body.probability);
      element('result-bar').style.width = percent(body.probability);
    }
  }
  showExplanation(body);
  element('result-version').textContent = body.version;
  element('result-request').textContent = body.requestId;
  result.hidden = false;
}

const SVG = 'http://www.w3.org/2000/svg';
/** How many fields the chart shows: the largest contributions, whichever their sign. */
const SHOWN = 8;
const SPACES: Record<string, string> = {
  log_odds: 'log-odds',
  probability: 'probability',
  value: 'predicted value',
  class_scores: 'class score',
};

function svgElement(name: string, attributes: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function signed(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 1 ? 2 : 3;
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
}

/**
 * The top contributions as a bar chart: bars to the right (red) push the answer up, to the left (blue)
 * push it down; every bar carries its field's name and its signed value, so colour is never needed.
 */
function showExplanation(body: Answer): void {
  const figure = element('result-why');
  const chart = element('result-why-chart');
  chart.textContent = '';
  const explanation = body.explanation;
  const chosen =
    explanation?.per_class?.[String(body.label)] ??
    (explanation?.contributions ? (explanation as Contributions) : undefined);
  if (!explanation || !chosen) {
    figure.hidden = true;
    return;
  }
  const top = Object.entries(chosen.contributions)
    .filter(([, value]) => value !== 0)
    .sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))
    .slice(0, SHOWN);
  const space = SPACES[explanation.space] ?? explanation.space;
  const forClass = explanation.per_class ? ` of ${String(body.label)}` : '';
  element('result-why-caption').textContent =
    `Why: the fields that moved the ${space}${forClass} most from its average of ${chosen.base.toFixed(3)} (+ pushes up, − pushes down).`;
  const rowHeight = 24;
  const width = 560;
  const labelWidth = 190;
  const valueWidth = 64;
  const middle = labelWidth + (width - labelWidth - valueWidth) / 2;
  const half = (width - labelWidth - valueWidth) / 2 - 4;
  const largest = Math.max(...top.map(([, value]) => Math.abs(value)), 1e-12);
  const height = top.length * rowHeight + 8;
  const svg = svgElement('svg', {
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-labelledby': 'result-why-caption',
  });
  svg.appendChild(svgElement('line', { x1: middle, x2: middle, y1: 0, y2: height, stroke: '#888' }));
  top.forEach(([field, value], index) => {
    const y = 4 + index * rowHeight;
    const length = Math.max(1, (Math.abs(value) / largest) * half);
    const row = svgElement('g', { class: value > 0 ? 'up' : 'down' });
    row.appendChild(svgElement('title', {}, `${field}: ${signed(value)}`));
    row.appendChild(
      svgElement('text', { x: labelWidth - 8, y: y + rowHeight / 2 + 4, 'text-anchor': 'end' }, field),
    );
    row.appendChild(
      svgElement('rect', {
        x: value > 0 ? middle : middle - length,
        y: y + 3,
        width: length,
        height: rowHeight - 8,
        fill: value > 0 ? '#c62828' : '#1565c0',
      }),
    );
    row.appendChild(
      svgElement(
        'text',
        { x: width - 4, y: y + rowHeight / 2 + 4, 'text-anchor': 'end', class: 'value' },
        signed(value),
      ),
    );
    svg.appendChild(row);
  });
  chart.appendChild(svg);
  figure.hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearErrors();
  const { record, problems } = readRecord();
  if (problems.length > 0) {
    showErrors(problems);
    statusLine.textContent = '';
    return;
  }
  button.disabled = true;
  statusLine.textContent = 'Scoring…';
  try {
    const send = (path: string): Promise<Response> =>
      fetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(record),
      });
    let response = await send('predict?explain=true');
    let body = (await response.json()) as Answer;
    // a model trained before explanations were possible still answers, without the chart
    if (body.error?.code === 'PW_EXPLAIN_UNAVAILABLE') {
      response = await send('predict');
      body = (await response.json()) as Answer;
    }
    if (response.ok) {
      showResult(body);
      statusLine.textContent = 'Done.';
    } else {
      const fields = body.error?.fields;
      if (Array.isArray(fields) && fields.length > 0) showErrors(fields);
      statusLine.textContent = body.error?.message || `The server refused the request (${response.status}).`;
    }
  } catch (error) {
    statusLine.textContent = `Could not reach the server: ${(error as Error).message}`;
  } finally {
    button.disabled = false;
  }
});
