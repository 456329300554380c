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

interface Answer {
  label?: unknown;
  value?: unknown;
  probability?: number;
  version: string;
  requestId: string;
  error?: { message?: string; fields?: Problem[] };
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
  element('result-version').textContent = body.version;
  element('result-request').textContent = body.requestId;
  result.hidden = false;
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
    const response = await fetch('predict', {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(record),
    });
    const body = (await response.json()) as Answer;
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
