// The API documentation page at GET /docs: the OpenAPI document rendered as plain HTML on the
// server (endpoints, the input fields as a table, responses, a curl example), with no external assets.
import { BASE_STYLE, escapeHtml, pagePolicy } from './html.js';
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

function fieldTable(record: Json): string {
  const required = new Set<string>(record.required ?? []);
  const rows = Object.entries<Json>(record.properties ?? {})
    .map(
      ([name, property]) =>
        `<tr><td><code>${escapeHtml(name)}</code></td><td>${escapeHtml(typeText(property))}</td><td>${required.has(name) ? 'yes' : 'no'}</td><td>${escapeHtml(constraintText(property))}</td><td>${escapeHtml(property.description ?? '')}</td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Allowed</th><th scope="col">Description</th></tr></thead><tbody>${rows}</tbody></table>`;
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

function endpoint(path: string, method: string, operation: Json): string {
  const responses = Object.entries<Json>(operation.responses ?? {})
    .map(
      ([status, response]) =>
        `<li><strong>${escapeHtml(status)}</strong>: ${escapeHtml(response.description ?? '')}</li>`,
    )
    .join('');
  const anchor = `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`.replace(/-+$/, '');
  return `<section class="endpoint card" id="${escapeHtml(anchor)}">
<h3><span class="method ${escapeHtml(method)}">${escapeHtml(method.toUpperCase())}</span><code>${escapeHtml(path)}</code></h3>
<p>${escapeHtml(operation.summary ?? '')}${operation.description ? `. ${escapeHtml(operation.description)}` : ''}</p>
<ul class="responses">${responses}</ul>
</section>`;
}

/** The docs page for an OpenAPI document. */
export function renderDocsPage(openapi: Json): RenderedPage {
  const operations: string[] = [];
  const links: string[] = [];
  for (const [path, methods] of Object.entries<Json>(openapi.paths ?? {})) {
    for (const [method, operation] of Object.entries<Json>(methods)) {
      operations.push(endpoint(path, method, operation));
      const anchor = `${method}-${path.replace(/[^a-z0-9]+/gi, '-')}`.replace(/-+$/, '');
      links.push(
        `<li><a href="#${escapeHtml(anchor)}">${escapeHtml(method.toUpperCase())} ${escapeHtml(path)}</a></li>`,
      );
    }
  }
  const record = openapi.components?.schemas?.Record ?? {};
  const example = JSON.stringify(exampleRecord(openapi));
  const title = String(openapi.info?.title ?? 'API');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}: API</title>
<style>${DOCS_STYLE}</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
<p class="lead">${escapeHtml(openapi.info?.description ?? '')}</p>
<p>The machine-readable description is <a href="openapi.json">openapi.json</a> (OpenAPI ${escapeHtml(openapi.openapi)}). The <a href="./">form</a> calls the same API.</p>
<nav aria-label="Endpoints"><ul>${links.join('')}</ul></nav>
<h2>Input fields</h2>
<p>${escapeHtml(record.description ?? '')}</p>
${fieldTable(record)}
<h2>Example</h2>
<pre><code>curl -s http://HOST:PORT/predict -H 'content-type: application/json' \\
  -d '${escapeHtml(example)}'</code></pre>
<h2>Endpoints</h2>
${operations.join('\n')}
</main>
</body>
</html>
`;
  return { html, policy: pagePolicy([DOCS_STYLE], []) };
}
