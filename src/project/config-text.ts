// pipewright.yaml and README.md for a project inferred from data: the template's text with the
// settings the data implies. Lines are edited in place, not re-serialised, so the template's
// comments stay where they are (the yaml package's Document API would move every aligned comment).
import { parseConfig } from '../core/config.js';
import { errors } from '../core/errors.js';
import { wrapComment, yamlScalar } from '../schema/infer/index.js';
import type { ProjectSettings } from './settings.js';

interface YamlLine {
  indent: number;
  key: string | undefined;
}

function lineShape(line: string): YamlLine {
  const match = /^(\s*)([A-Za-z_][\w-]*):(?:\s|$)/.exec(line);
  if (!match || line.trimStart().startsWith('#')) return { indent: -1, key: undefined };
  return { indent: match[1].length, key: match[2] };
}

/** The line index of the mapping key at `path` (block style), or -1. */
function findKey(lines: string[], path: string[]): number {
  let depth = 0;
  let parentIndent = -1;
  for (let i = 0; i < lines.length; i++) {
    const { indent, key } = lineShape(lines[i]);
    if (key === undefined) continue;
    if (indent <= parentIndent) return -1;
    if (key === path[depth]) {
      if (depth === path.length - 1) return i;
      depth++;
      parentIndent = indent;
    }
  }
  return -1;
}

/** The index after the last line of the block under the key at `index`. */
function blockEnd(lines: string[], index: number): number {
  const indent = lineShape(lines[index]).indent;
  let end = index + 1;
  for (let i = index + 1; i < lines.length; i++) {
    const text = lines[i];
    if (text.trim() === '' || text.trimStart().startsWith('#')) continue;
    const leading = text.length - text.trimStart().length;
    if (leading <= indent) break;
    end = i + 1;
  }
  return end;
}

/** `key: value   # comment` with the comment at the column the template uses for it. */
function keyLine(
  indent: number,
  key: string,
  value: string,
  comment: string | undefined,
  column: number,
): string {
  const head = `${' '.repeat(indent)}${key}:${value ? ` ${value}` : ''}`;
  return comment ? `${head.padEnd(Math.max(column, head.length + 1))}# ${comment}` : head;
}

function setValue(lines: string[], path: string[], value: string, comment?: string): void {
  const index = findKey(lines, path);
  if (index < 0) throw new errors.PW_INTERNAL(`The project template has no ${path.join('.')}`);
  const old = lines[index];
  const commentAt = old.indexOf(' #');
  const keep = comment ?? (commentAt >= 0 ? old.slice(commentAt).replace(/^\s*#\s?/, '') : undefined);
  const column = commentAt >= 0 ? old.length - old.slice(commentAt).trimStart().length : 33;
  lines[index] = keyLine(lineShape(old).indent, path[path.length - 1], value, keep, column);
}

function addChildren(lines: string[], path: string[], children: string[]): void {
  const index = findKey(lines, path);
  if (index < 0) throw new errors.PW_INTERNAL(`The project template has no ${path.join('.')}`);
  lines.splice(blockEnd(lines, index), 0, ...children);
}

/**
 * pipewright.yaml for an inferred project: the rendered template with the choices the data implies
 * (the metric and its floor come through the template's placeholders).
 */
export function renderProjectConfig(templateText: string, settings: ProjectSettings): string {
  const lines = templateText.split('\n');
  setValue(
    lines,
    ['preprocess', 'numeric'],
    '{ scaler: none, imputer: none }',
    'trees need no scaling; gradient boosting learns where missing values go',
  );
  setValue(
    lines,
    ['preprocess', 'categorical'],
    '{ encoder: onehot, imputer: none }',
    'one column per category; a missing one is all zeros',
  );
  if (settings.fieldOverrides.length > 0) {
    setValue(lines, ['preprocess', 'fields'], '', 'per-field overrides');
    const childIndent = lineShape(lines[findKey(lines, ['preprocess', 'fields'])]).indent + 2;
    addChildren(
      lines,
      ['preprocess', 'fields'],
      settings.fieldOverrides.map((override) =>
        keyLine(
          childIndent,
          yamlScalar(override.field),
          `{ encoder: ${override.encoder} }`,
          override.reason,
          33,
        ),
      ),
    );
  }
  setValue(lines, ['model', 'params', 'max_iter'], '100');
  setValue(
    lines,
    ['model', 'params', 'early_stopping'],
    'auto',
    'on above 10,000 training rows (it sets a tenth of them aside)',
  );
  const paramsIndent = lineShape(lines[findKey(lines, ['model', 'params', 'learning_rate'])]).indent;
  addChildren(
    lines,
    ['model', 'params'],
    [
      keyLine(
        paramsIndent,
        'loss',
        settings.loss,
        settings.loss === 'squared_error'
          ? 'regression'
          : 'classification (softmax for more than two classes)',
        33,
      ),
    ],
  );
  setValue(
    lines,
    ['validation', 'min_rows'],
    String(settings.minRows),
    'about half the rows of the inferred file, at most 100',
  );
  const evaluateIndent = lineShape(lines[findKey(lines, ['evaluate', 'metric'])]).indent;
  lines.splice(
    findKey(lines, ['evaluate', 'metric']),
    0,
    ...wrapComment(settings.metricNote, ' '.repeat(evaluateIndent)),
  );
  const text = lines.join('\n');
  parseConfig(text);
  return text;
}

/** The README of an inferred project: the template's, with the data file's name in the commands. */
export function renderReadme(templateText: string, dataFile: string): string {
  return templateText.replaceAll('data/train.csv', dataFile);
}
