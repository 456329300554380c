// Writes a new project from the templates in `templates/project`: names starting with `_` become
// dot-files (npm drops dot-files from published packages), and `%%key%%` placeholders are filled.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from '../core/errors.js';

export const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/project/', import.meta.url));

export interface ScaffoldFile {
  path: string;
  content: string;
}

export interface ScaffoldOptions {
  force?: boolean;
  values: Record<string, string>;
  /** Replaces the content of a template file (for example a schema inferred from data). */
  overrides?: Record<string, string>;
}

function listTemplates(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...listTemplates(full, join(prefix, name)));
    else out.push(join(prefix, name));
  }
  return out;
}

function targetName(templatePath: string): string {
  return templatePath
    .split(/[\\/]/)
    .map((part) => (part.startsWith('_') ? `.${part.slice(1)}` : part))
    .join('/');
}

export function render(text: string, values: Record<string, string>): string {
  return text.replace(/%%([a-z_]+)%%/g, (whole, key: string) => values[key] ?? whole);
}

export function scaffoldFiles(options: ScaffoldOptions): ScaffoldFile[] {
  return listTemplates(TEMPLATE_DIR).map((templatePath) => {
    const path = targetName(templatePath);
    const content =
      options.overrides?.[path] ??
      render(readFileSync(join(TEMPLATE_DIR, templatePath), 'utf8'), options.values);
    return { path, content };
  });
}

/** Writes the project into `dir`; refuses to overwrite any existing file unless `force`. */
export function scaffold(dir: string, options: ScaffoldOptions): string[] {
  const files = scaffoldFiles(options);
  const existing = files.filter(
    (file) => existsSync(join(dir, file.path)) && !file.path.endsWith('.gitkeep'),
  );
  if (existing.length > 0 && !options.force) {
    const names = existing.map((file) => file.path);
    throw new errors.PW_INIT_EXISTS(
      `${relative(process.cwd(), dir) || '.'} already has ${names.join(', ')}`,
      { details: { files: names } },
    );
  }
  for (const file of files) {
    const target = join(dir, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.content);
  }
  for (const folder of ['logs', 'artifacts']) mkdirSync(join(dir, folder), { recursive: true });
  return files.map((file) => file.path);
}
