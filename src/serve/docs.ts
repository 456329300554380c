// The API documentation page at GET /docs: the OpenAPI document rendered as plain HTML on the
// server (endpoints, the input fields as a table, responses, a curl example), with no external assets.
import { markup, raw, type SafeHtml } from '../report/html.js';
import { BASE_STYLE, pagePolicy } from './html.js';
import type { RenderedPage } from './form.js';

type Json = Record<string, any>;

const DOCS_STYLE = `${BASE_STYLE}
nav ul { padding-left: 1.2rem; }
.endpoint { margin: 1.25rem 0; }
.endpoint h3 { margin: 0 0 .25rem; font-size: 1.05rem; }
.method { display: inline-block; min-width: 3.5rem; font: 700 .8rem/1.6 ui-monospace, monospace; text-align: center; border-radius: 4px; padding: 0 .4rem; margin-right: .5rem;
  color: var(--accent-fg); background: var(--accent); }
.method.get { background: var(--good); }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: .4rem .5rem; vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
ul.responses { margin: .25rem 0 0; padding-left: 1.2rem; }
`;

function typeText(schema: Json): string {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const base = types.filter((type: string) => type !== 'null').join(' | ') || 'value';
  return schema.format ? `${base} (${schema.format})` : base;
}

function constraintText(schema: Json): string {
  const parts: string[] = [];
  if (Array.isArray(schema.enum))
    parts.push(
      `one of ${schema.enum
        .filter((v: unknown) => v !== null)
        .map((v: unknown) => JSON.stringify(v))
        .join(', ')}`,
    );
  if (schema.minimum !== undefined) parts.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) parts.push(`≤ ${schema.maximum}`);
  return parts.join('; ');
}

function fieldTable(record: Json): SafeHtml {
  const required = new Set<string>(record.required ?? []);
  const rows = Object.entries<Json>(record.properties ?? {}).map(([name, property], index) => [
    index > 0 ? '\n' : '',
    markup`<tr><td><code>${name}</code></td><td>${typeText(property)}</td><td>${required.has(name) ? 'yes' : 'no'}</td><td>${constraintText(property)}</td><td>${property.description ?? ''}</td></tr>`,
  ]);
  return markup`<table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Allowed</th><th scope="col">Description</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function exampleValue(property: Json): unknown {
  if (Array.isArray(property.enum)) return property.enum[0];
  const types = Array.isArray(property.type) ? property.type : [property.type];
  if (types.includes('integer') || types.includes('number')) {
    if (property.minimum !== undefined && property.maximum !== undefined) {
      const middle = (property.minimum + property.maximum) / 2;
      return types.includes('integer') ? Math.round(middle) : middle;
    }
    return property.minimum ?? 0;
  }
  if (types.includes('boolean')) return false;
  if (property.format === 'date-time') return '2024-01-01T00:00:00Z';
  return 'text';
}

/** A record that passes validation, for the curl example. */
export function exampleRecord(openapi: Json): Record<string, unknown> {
  const record = openapi.components?.schemas?.Record ?? {};
  const required = new Set<string>(record.required ?? []);
  const example: Record<string, unknown> = {};
  for (const [name, property] of Object.entries<Json>(record.properties ?? {})) {
    if (required.has(name)) example[name] = exampleValue(property);
  }
  return example;
}

function anchorOf(path: string, method: string): string {
  return `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`.replace(/-+$/, '');
}

function endpoint(path: string, method: string, operation: Json): SafeHtml {
  const responses = Object.entries<Json>(operation.responses ?? {}).map(
    ([status, response]) => markup`<li><strong>${status}</strong>: ${response.description ?? ''}</li>`,
  );
  return markup`<section class="endpoint card" id="${anchorOf(path, method)}">
<h3><span class="method ${method}">${method.toUpperCase()}</span><code>${path}</code></h3>
<p>${operation.summary ?? ''}${operation.description ? `. ${operation.description}` : ''}</p>
<ul class="responses">${responses}</ul>
</section>`;
}

/** The docs page for an OpenAPI document. */
export function renderDocsPage(openapi: Json): RenderedPage {
  const operations: SafeHtml[] = [];
  const links: SafeHtml[] = [];
  for (const [path, methods] of Object.entries<Json>(openapi.paths ?? {})) {
    for (const [method, operation] of Object.entries<Json>(methods)) {
      operations.push(endpoint(path, method, operation));
      links.push(markup`<li><a href="#${anchorOf(path, method)}">${method.toUpperCase()} ${path}</a></li>`);
    }
  }
  const record = openapi.components?.schemas?.Record ?? {};
  const example = JSON.stringify(exampleRecord(openapi));
  const title = String(openapi.info?.title ?? 'API');
  const html = markup`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}: API</title>
<style>${raw(DOCS_STYLE)}</style>
</head>
<body>
<main>
<h1>${title}</h1>
<p class="lead">${openapi.info?.description ?? ''}</p>
<p>The machine-readable description is <a href="openapi.json">openapi.json</a> (OpenAPI ${openapi.openapi}). The <a href="./">form</a> calls the same API.</p>
<nav aria-label="Endpoints"><ul>${links}</ul></nav>
<h2>Input fields</h2>
<p>${record.description ?? ''}</p>
${fieldTable(record)}
<h2>Example</h2>
<pre><code>curl -s http://HOST:PORT/predict -H 'content-type: application/json' \\
  -d '${example}'</code></pre>
<h2>Endpoints</h2>
${operations.map((operation, index) => [index > 0 ? '\n' : '', operation])}
</main>
</body>
</html>
`;
  return { html: html.value, policy: pagePolicy([DOCS_STYLE]) };
}
