// Reads a YAML file and validates it with a zod schema, reporting every problem as
// `file:line:column key.path: message`, with the nearest valid key for a misspelt one.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { errors, type ErrorClass } from './errors.js';
import { displayPath } from './paths.js';
import { nearest } from './suggest.js';

export interface YamlProblem {
  where: string;
  path: string;
  message: string;
}

export interface LoadedYaml<T> {
  value: T;
  file: string;
  /** The `file:line:column` of a key path, for errors found after validation. */
  locate(path: (string | number)[]): string;
}

export function loadYaml<S extends z.ZodType>(
  file: string,
  schema: S,
  ErrorType: ErrorClass = errors.PW_CONFIG_INVALID,
): LoadedYaml<z.infer<S>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new errors.PW_CONFIG_NOT_FOUND(`Cannot read ${displayPath(file)}`, { cause });
  }
  return parseYaml(text, file, schema, ErrorType);
}

export function parseYaml<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  ErrorType: ErrorClass = errors.PW_CONFIG_INVALID,
): LoadedYaml<z.infer<S>> {
  const shown = displayPath(file);
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const locateOffset = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${shown}:${line}:${col}`;
  };
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new ErrorType(`${shown} is not valid YAML: ${first.message.split('\n')[0]}`, {
      where: locateOffset(first.pos[0]),
      hint: 'Check the indentation and quoting at that line.',
      details: {
        problems: document.errors.map((e) => ({ where: locateOffset(e.pos[0]), message: e.message })),
      },
    });
  }
  const data = document.toJS() ?? {};
  const locate = (path: (string | number)[]) => locateOffset(offsetOf(document, path));
  const result = schema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.flatMap((issue) =>
      describeIssue(issue, data, schema, locate, document),
    );
    const first = problems[0];
    const more =
      problems.length > 1
        ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})`
        : '';
    throw new ErrorType(`${first.where} ${first.path}: ${first.message}${more}`, {
      where: first.where,
      details: { problems },
    });
  }
  return { value: result.data, file, locate };
}

function describeIssue(
  issue: z.core.$ZodIssue,
  data: unknown,
  schema: z.ZodType,
  locate: (path: (string | number)[]) => string,
  document: Document,
): YamlProblem[] {
  const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(schema, path);
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      const suggestion = nearest(key, known);
      return {
        where: locate(keyPath),
        path: joinPath(keyPath),
        message: `unknown key${suggestion ? `; did you mean "${suggestion}"?` : known.length ? `; valid keys: ${known.join(', ')}` : ''}`,
      };
    });
  }
  const exists = valueAt(data, path) !== undefined;
  let message = issue.message;
  if (!exists && issue.code === 'invalid_type') message = 'is required';
  // Point at the closest node that exists: a missing key is reported at its parent.
  let located = path;
  while (located.length > 0 && !nodeAt(document, located)) located = located.slice(0, -1);
  return [{ where: locate(located), path: joinPath(path) || '(top level)', message }];
}

function joinPath(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

function valueAt(data: unknown, path: (string | number)[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

function nodeAt(document: Document, path: (string | number)[]): Node | undefined {
  const node = document.getIn(path, true);
  return node && typeof node === 'object' && 'range' in (node as object) ? (node as Node) : undefined;
}

/** Offset of a key path: the key itself when it exists, else the value, else the document start. */
function offsetOf(document: Document, path: (string | number)[]): number {
  if (path.length > 0) {
    const parent = path.length === 1 ? document.contents : document.getIn(path.slice(0, -1), true);
    if (isMap(parent)) {
      const last = path[path.length - 1];
      const pair = parent.items.find((item) => isScalar(item.key) && String(item.key.value) === String(last));
      if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
    }
  }
  const node = path.length === 0 ? document.contents : nodeAt(document, path);
  return (node as Node | null)?.range?.[0] ?? 0;
}

/** The keys the schema allows for the object at `path`. */
export function knownKeys(schema: z.ZodType, path: (string | number)[]): string[] {
  let current: any = schema;
  for (const key of [...path, null]) {
    // unwrap optional, default, nullable, pipes and records to reach the object at this level
    for (let guard = 0; guard < 10 && current; guard++) {
      const def = current._zod?.def;
      if (!def) break;
      if (
        def.type === 'optional' ||
        def.type === 'default' ||
        def.type === 'nullable' ||
        def.type === 'prefault'
      ) {
        current = def.innerType;
      } else if (def.type === 'pipe') {
        current = def.in;
      } else break;
    }
    if (!current) return [];
    const def = current._zod?.def;
    if (key === null) return def?.type === 'object' ? Object.keys(def.shape) : [];
    if (def?.type === 'object') current = def.shape[key];
    else if (def?.type === 'record') current = def.valueType;
    else if (def?.type === 'array') current = def.element;
    else return [];
  }
  return [];
}
