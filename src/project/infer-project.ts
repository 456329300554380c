// A project from a data file: streams the file through schema inference, then chooses what the data
// implies for the pipeline (transformers per type, the metric per task and class balance) and renders
// a commented schema.yaml and the pipewright.yaml that `init --from` writes.
import { parseConfig } from '../core/config.js';
import { errors } from '../core/errors.js';
import type { DataFormat } from '../data/records.js';
import { openReader } from '../data/reader.js';
import {
  DEFAULT_SAMPLE_ROWS,
  schemaDefinition,
  SchemaInferrer,
  type InferOptions,
  type InferredField,
  type InferredSchema,
} from '../schema/infer.js';
import {
  buildSchema,
  DEFAULT_MISSING_VALUES,
  parseSchema,
  type CategoryValue,
  type SchemaFile,
} from '../schema/schema.js';

export interface InferFileOptions extends InferOptions {
  /** Rows read at most (default 100,000). */
  sample?: number;
  format?: DataFormat;
}

export interface InferredFile {
  file: string;
  format: DataFormat;
  inferred: InferredSchema;
  /** The file has more rows than were read. */
  truncated: boolean;
}

/** Streams the first `sample` rows of a CSV or JSONL file through inference. */
export async function inferFile(file: string, options: InferFileOptions = {}): Promise<InferredFile> {
  const sample = options.sample ?? DEFAULT_SAMPLE_ROWS;
  if (!Number.isInteger(sample) || sample < 1) {
    throw new errors.PW_USAGE(`--sample ${sample}: not a whole number of rows`, {
      hint: 'Pass a whole number above 0, e.g. --sample 100000.',
    });
  }
  const reader = await openReader(file, options.format);
  let truncated = false;
  try {
    const inferrer = new SchemaInferrer(reader.columns, options);
    let read = 0;
    reading: for await (const batch of reader.batches(Math.min(sample + 1, 2000))) {
      for (const record of batch) {
        if (read >= sample) {
          truncated = true;
          break reading;
        }
        read++;
        if (record.problem) inferrer.addUnreadable(record.line, record.problem);
        else inferrer.add(record.values, record.line);
      }
    }
    return { file, format: reader.format, inferred: inferrer.finish(), truncated };
  } finally {
    await reader.close();
  }
}

export type MetricChoice = 'roc_auc' | 'pr_auc' | 'accuracy' | 'macro_f1' | 'r2';

export interface ProjectSettings {
  metric: MetricChoice;
  expectedScore: number;
  /** Why this metric and this floor. */
  metricNote: string;
  /** Per-field encoder overrides, with the reason for each. */
  fieldOverrides: { field: string; encoder: 'ordinal'; reason: string }[];
  loss: 'log_loss' | 'squared_error';
  minRows: number;
}

/** Categories with more values than this are coded as one ordinal column instead of one column each. */
export const ONE_HOT_LIMIT = 30;
/** Binary tasks whose smaller class is rarer than this are scored by PR-AUC instead of ROC-AUC. */
export const RARE_CLASS_SHARE = 0.1;

function round(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** A floor a little above what guessing scores: chance plus a tenth of the way to a perfect score. */
function floorAbove(chance: number): number {
  return round(chance + 0.1 * (1 - chance));
}

/** The pipeline settings the data implies: transformers per type, the metric per task and class balance. */
export function chooseSettings(inferred: InferredSchema): ProjectSettings {
  const features = inferred.fields.filter((field) => field.role === 'feature');
  const fieldOverrides: ProjectSettings['fieldOverrides'] = [];
  for (const field of features) {
    if (field.type === 'category' && (field.values?.length ?? 0) > ONE_HOT_LIMIT) {
      fieldOverrides.push({
        field: field.name,
        encoder: 'ordinal',
        reason: `${field.values!.length} categories: one ordinal column instead of ${field.values!.length} one-hot columns`,
      });
    } else if (field.type === 'string') {
      fieldOverrides.push({
        field: field.name,
        encoder: 'ordinal',
        reason: `text with ${field.summary.distinct} values: one ordinal column; values not seen in training count as missing`,
      });
    }
  }
  const minRows = Math.max(1, Math.min(100, Math.floor(inferred.rows / 2)));
  const base = { fieldOverrides, minRows };
  if (inferred.task === 'regression' || inferred.task === undefined) {
    return {
      ...base,
      metric: 'r2',
      expectedScore: 0.1,
      metricNote:
        'regression: R² (the share of the variance explained; 0 is what predicting the mean scores); the floor asks for a tenth',
      loss: 'squared_error',
    };
  }
  const classes = inferred.classes ?? [];
  const total = classes.reduce((sum, entry) => sum + entry.count, 0);
  const shares = classes.map((entry) => (total > 0 ? entry.count / total : 0));
  const smallest = Math.min(...shares);
  const largest = Math.max(...shares);
  const describe = classes
    .map(
      (entry, index) =>
        `${String(entry.label)} ${(100 * shares[index]).toFixed(shares[index] < 0.1 ? 1 : 0)}%`,
    )
    .join(', ');
  if (inferred.task === 'binary') {
    const positive = shares[1] ?? 0.5;
    if (smallest < RARE_CLASS_SHARE) {
      return {
        ...base,
        metric: 'pr_auc',
        expectedScore: floorAbove(positive),
        metricNote: `binary with a rare class (${describe}): PR-AUC, which ROC-AUC's optimism about rare classes does not hide; guessing scores ${round(positive)}`,
        loss: 'log_loss',
      };
    }
    return {
      ...base,
      metric: 'roc_auc',
      expectedScore: 0.6,
      metricNote: `binary (${describe}): ROC-AUC; guessing scores 0.5`,
      loss: 'log_loss',
    };
  }
  const k = classes.length;
  if (smallest < 0.5 / k) {
    return {
      ...base,
      metric: 'macro_f1',
      expectedScore: floorAbove(1 / k),
      metricNote: `multiclass with unequal classes (${describe}): macro-F1, which weighs every class the same; guessing scores about ${round(1 / k)}`,
      loss: 'log_loss',
    };
  }
  return {
    ...base,
    metric: 'accuracy',
    expectedScore: floorAbove(largest),
    metricNote: `multiclass with classes of similar size (${describe}): accuracy; always answering the largest class scores ${round(largest)}`,
    loss: 'log_loss',
  };
}

// ---------------------------------------------------------------------------------------------
// schema.yaml

const PLAIN_TEXT = /^[A-Za-z_][A-Za-z0-9_ ./()-]*$/;
const YAML_WORDS = /^(?:true|false|yes|no|on|off|null|y|n)$/i;

/** A YAML scalar: plain when unambiguous, double-quoted otherwise. */
export function yamlScalar(value: CategoryValue): string {
  if (typeof value === 'number')
    return Number.isFinite(value) ? String(value) : JSON.stringify(String(value));
  if (typeof value === 'boolean') return String(value);
  if (
    PLAIN_TEXT.test(value) &&
    !YAML_WORDS.test(value) &&
    !value.endsWith(' ') &&
    !value.includes(' #') &&
    !value.includes(': ')
  )
    return value;
  return JSON.stringify(value);
}

function wrapComment(text: string, indent: string, width = 100): string[] {
  const words = text.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let current = '';
  for (const word of words) {
    if (current && indent.length + 2 + current.length + 1 + word.length > width) {
      lines.push(`${indent}# ${current}`);
      current = `  ${word}`;
    } else {
      current = current ? `${current} ${word}` : word;
    }
  }
  if (current) lines.push(`${indent}# ${current}`);
  return lines;
}

/** `[a, b, c]`, continued on further lines (indented by `indent`) past `width` columns. */
function flowList(values: CategoryValue[], start = 0, indent = '      ', width = 100): string {
  const lines: string[] = [];
  let line = '[';
  let limit = width - start;
  values.forEach((value, index) => {
    const piece = `${yamlScalar(value)}${index < values.length - 1 ? ',' : ''}`;
    const fresh = line === '[' || line === indent;
    if (!fresh && line.length + 1 + piece.length + 1 > limit) {
      lines.push(line);
      line = indent;
      limit = width;
    }
    line += `${line === '[' || line === indent ? '' : ' '}${piece}`;
  });
  lines.push(`${line}]`);
  return lines.join('\n');
}

export interface SchemaTextOptions {
  name: string;
  description?: string;
  /** The data file as the user should read its name (e.g. data/iris.csv). */
  source: string;
  truncated?: boolean;
}

function fieldComments(field: InferredField, inferred: InferredSchema): string[] {
  const lines: string[] = [];
  for (const warning of field.warnings) lines.push(...wrapComment(`WARNING: ${warning}`, '  '));
  const notes = [...field.notes];
  if (field.role === 'key') notes.unshift(inferred.keyNote);
  if (field.role === 'target' && inferred.taskNote) {
    notes.unshift(`target, ${inferred.taskNote}`);
    if (inferred.classes) {
      const total = inferred.classes.reduce((sum, entry) => sum + entry.count, 0);
      notes.push(
        `rows per class: ${inferred.classes.map((entry) => `${String(entry.label)} ${entry.count.toLocaleString('en')} (${((100 * entry.count) / total).toFixed(1)}%)`).join(', ')}`,
      );
    }
  }
  for (const note of notes) lines.push(...wrapComment(note, '  '));
  return lines;
}

/** The commented `schema.yaml` a person can review; parsing it gives the inferred contract. */
export function renderSchemaText(inferred: InferredSchema, options: SchemaTextOptions): string {
  const definition = schemaDefinition(inferred, {
    name: options.name,
    ...(options.description ? { description: options.description } : {}),
  });
  const rows = inferred.rows.toLocaleString('en');
  const out: string[] = [
    `# The data contract, inferred from ${options.source} (${options.truncated ? `the first ${rows} rows; the file has more` : `${rows} rows`}).`,
    '# Review it before pushing: the comment above each field says what was seen and why it was chosen.',
    '#   type: integer | number | boolean | category | string | datetime',
    '#   role: key | feature | target | ignore   (default: feature)',
    '# Push, predict and serve reject a value that breaks the contract: below min or above max, not one',
    '# of the listed values, or missing where the field is not nullable. min and max are the range seen',
    '# in this file: widen them (or delete them) when new data may go beyond it, and add new categories',
    '# to `values` the same way.',
  ];
  if (inferred.warnings.length > 0)
    out.push('# Lines starting with WARNING name likely problems; they were also printed when inferring.');
  out.push(`name: ${yamlScalar(definition.name)}`);
  if (definition.description) out.push(`description: ${yamlScalar(definition.description)}`);
  if (definition.task) {
    out.push(...wrapComment(inferred.taskNote ?? '', ''));
    out.push(`task: ${definition.task}`);
  }
  if (definition.missing_values) {
    const extra = inferred.markersSeen.filter((marker) => !DEFAULT_MISSING_VALUES.includes(marker));
    out.push(
      ...wrapComment(
        extra.length > 0
          ? `Values read as missing. This file writes missing values as ${extra.map((marker) => JSON.stringify(marker)).join(', ')}, which the default list lacks.`
          : 'Values read as missing (the list given when the schema was inferred).',
        '',
      ),
    );
    out.push(`missing_values: ${flowList(definition.missing_values, 'missing_values: '.length, '  ')}`);
  }
  out.push('');
  out.push('fields:');
  if (!inferred.key) out.push(...wrapComment(inferred.keyNote, '  '));
  for (const field of inferred.fields) {
    const spec = definition.fields[field.name];
    out.push(...fieldComments(field, inferred));
    out.push(`  ${yamlScalar(field.name)}:`);
    out.push(`    type: ${spec.type}`);
    if (spec.role !== 'feature') out.push(`    role: ${spec.role}`);
    if (spec.nullable) out.push('    nullable: true');
    if (spec.min !== undefined) out.push(`    min: ${yamlScalar(spec.min)}`);
    if (spec.max !== undefined) out.push(`    max: ${yamlScalar(spec.max)}`);
    if (spec.values) out.push(`    values: ${flowList(spec.values, '    values: '.length)}`);
  }
  const text = `${out.join('\n')}\n`;
  // The text must say exactly what the definition says: a rendering slip would silently change the contract.
  const parsed = parseSchema(text, 'inferred schema.yaml');
  const expected = buildSchema(definition as SchemaFile);
  if (parsed.fingerprint !== expected.fingerprint) {
    throw new errors.PW_INTERNAL('The rendered schema does not read back as the inferred one', {
      details: { rendered: text },
    });
  }
  return text;
}

// ---------------------------------------------------------------------------------------------
// pipewright.yaml

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
