// Small helpers the generated pages share: field labels, data for script blocks, the look, and the
// Content-Security-Policy for each page's inline style and own scripts (pages load nothing from
// elsewhere). Escaping is the report's `markup` tag (src/report/html.ts).
import { createHash } from 'node:crypto';

/** JSON that is safe inside a `<script type="application/json">` block. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** `Annual_Premium` -> `Annual premium`: field names read as labels. */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\s-]+/g, ' ')
    .trim();
  if (!words) return name;
  return words.charAt(0).toUpperCase() + words.slice(1).toLowerCase();
}

/** The CSP source expression for an inline block with exactly this text. */
export function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * A page's policy: nothing from anywhere, except its own inline style, scripts from `scriptSource`
 * (`'self'` for a page that loads its script from the server, else none), and requests to itself.
 */
export function pagePolicy(styles: string[], scriptSource: "'self'" | "'none'" = "'none'"): string {
  return [
    "default-src 'none'",
    `style-src ${styles.map(cspHash).join(' ') || "'none'"}`,
    `script-src ${scriptSource}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The policy for everything that is not a page: nothing may be loaded or framed. */
export const API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/** The look the pages share: system fonts, readable measure, visible focus, dark mode. */
export const BASE_STYLE = `
:root { color-scheme: light dark; --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #ffffff; --line: #d0d7de;
  --accent: #0a58ca; --accent-fg: #ffffff; --bad: #b42318; --good: #067647; --focus: #f59e0b; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9da7b3; --bg: #0d1117; --card: #161b22; --line: #30363d;
  --accent: #4493f8; --accent-fg: #0d1117; --bad: #ff7b72; --good: #3fb950; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 46rem; margin: 0 auto; padding: 2rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .75rem; }
p.lead { color: var(--muted); margin: 0 0 1.5rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1.25rem 1.5rem; }
code, pre { font: 0.9em/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .75rem; overflow-x: auto; }
footer { margin-top: 2rem; color: var(--muted); font-size: .9rem; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: var(--card); padding: .5rem; }
`;
