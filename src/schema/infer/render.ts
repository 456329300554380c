// The commented schema.yaml a person reviews: the inferred contract (only what inference is sure of)
// with, per field, what was seen (an `observed` block, information only) and why it was chosen.
// The text is parsed back and must give the same contract.
import { errors } from '../../core/errors.js';
import {
  buildSchema,
  DEFAULT_MISSING_VALUES,
  parseSchema,
  type CategoryValue,
  type SchemaFile,
} from '../schema.js';
import type { InferredField, InferredSchema } from './types.js';

/** The `schema.yaml` content as data: fields in file order, with the inferred types, roles and limits. */
export function schemaDefinition(
  inferred: InferredSchema,
  options: { name: string; description?: string },
): SchemaFile {
  const fields: SchemaFile['fields'] = {};
  for (const field of inferred.fields) {
    // A range or a list seen in one file is not a limit: new rows go beyond it. The contract keeps the
    // target's classes and a category the user declared closed; features take missing values, which
    // the preprocessor imputes. Keys and targets need a value in every row.
    const required = field.role === 'key' || field.role === 'target';
    const closedValues = field.role === 'target' || (field.closed === true && field.type === 'category');
    const observed = observedOf(field);
    fields[field.name] = {
      type: field.type,
      role: field.role,
      nullable: required ? field.nullable : true,
      ...(closedValues && field.values !== undefined ? { values: field.values } : {}),
      ...(observed ? { observed } : {}),
      ...(field.format !== undefined ? { format: field.format } : {}),
    };
  }
  return {
    name: options.name,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(inferred.task !== undefined ? { task: inferred.task } : {}),
    ...(inferred.missingValues !== undefined ? { missing_values: inferred.missingValues } : {}),
    fields,
  };
}

type Observed = NonNullable<SchemaFile['fields'][string]['observed']>;

/** What was seen in a feature or target column: missing cells, the range, the categories with their counts. */
export function observedOf(field: InferredField): Observed | undefined {
  if (field.role !== 'feature' && field.role !== 'target') return undefined;
  const summary = field.summary;
  const observed: Observed = { missing: summary.missing };
  if (field.type === 'integer' || field.type === 'number') {
    const min = field.min ?? summary.min;
    const max = field.max ?? summary.max;
    if (min !== undefined && max !== undefined) Object.assign(observed, { min, max });
  } else if (field.type === 'datetime' && summary.min !== undefined && summary.max !== undefined) {
    Object.assign(observed, {
      min: new Date(summary.min).toISOString(),
      max: new Date(summary.max).toISOString(),
    });
  } else if (field.type === 'category' && field.role === 'feature' && field.values) {
    const countOf = new Map(summary.counts ?? []);
    const categories: Record<string, number> = {};
    for (const value of field.values) categories[String(value)] = countOf.get(String(value)) ?? 0;
    observed.categories = categories;
  }
  return observed;
}

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

/** A comment wrapped to `width` columns, continuation lines indented by two spaces. */
export function wrapComment(text: string, indent: string, width = 100): string[] {
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
  return flowPieces(values.map(yamlScalar), '[', ']', start, indent, width);
}

/** `{a: 1, b: 2}`, wrapped as `flowList` wraps. */
function flowMap(entries: Record<string, number>, start = 0, indent = '        ', width = 100): string {
  const pieces = Object.entries(entries).map(([key, count]) => `${yamlScalar(key)}: ${count}`);
  return flowPieces(pieces, '{', '}', start, indent, width);
}

function flowPieces(
  items: string[],
  open: string,
  close: string,
  start: number,
  indent: string,
  width: number,
): string {
  const lines: string[] = [];
  let line = open;
  let limit = width - start;
  items.forEach((item, index) => {
    const piece = `${item}${index < items.length - 1 ? ',' : ''}`;
    const fresh = line === open || line === indent;
    if (!fresh && line.length + 1 + piece.length + 1 > limit) {
      lines.push(line);
      line = indent;
      limit = width;
    }
    line += `${line === open || line === indent ? '' : ' '}${piece}`;
  });
  lines.push(`${line}${close}`);
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
    '# Push, predict and serve refuse a value that breaks the contract: below `min` or above `max`, not',
    '# one of a closed `values` list, or missing where the field is not nullable. Inference writes only',
    '# what it is sure of: features are nullable (a missing value is imputed; write `nullable: false` to',
    '# refuse it), a category without `values` is open (any value; one never seen in training is scored',
    '# as unknown; `--closed <column>` writes the list seen as `values`), and no number gets a min or',
    '# max. Add them by hand where a value is truly impossible.',
    '# `observed` is what this file held (missing cells, the range, the rows per category): information',
    '# only, never a limit. Predict and serve score a value beyond it and flag it as unseen in training.',
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
    if (spec.observed) {
      out.push('    observed:');
      const { missing, min, max, categories } = spec.observed;
      if (missing !== undefined) out.push(`      missing: ${missing}`);
      if (min !== undefined) out.push(`      min: ${yamlScalar(min)}`);
      if (max !== undefined) out.push(`      max: ${yamlScalar(max)}`);
      if (categories) out.push(`      categories: ${flowMap(categories, '      categories: '.length)}`);
    }
    if (spec.format !== undefined) out.push(`    format: ${yamlScalar(spec.format)}`);
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
