// The data contract read from `schema.yaml`: fields with a type, nullability, range, allowed values
// and a role. Everything that knows a column (push, ingest, serve, the form) learns it from here.
// A field's `observed` block (what inference saw) is information only: not contract, not fingerprint.
import { z } from 'zod';
import { errors } from '../core/errors.js';
import { canonicalJson, sha256 } from '../core/hash.js';
import { loadYaml, parseYaml } from '../core/yaml.js';
import { formatProblem } from './datetime-format.js';

export const FIELD_TYPES = ['integer', 'number', 'boolean', 'category', 'string', 'datetime'] as const;
export const FIELD_ROLES = ['key', 'feature', 'target', 'ignore'] as const;
export const TASKS = ['binary', 'multiclass', 'regression'] as const;

export type FieldType = (typeof FIELD_TYPES)[number];
export type FieldRole = (typeof FIELD_ROLES)[number];
export type Task = (typeof TASKS)[number];
export type CategoryValue = string | number | boolean;

/** Values that mean "missing" in text input unless the schema lists its own. */
export const DEFAULT_MISSING_VALUES = ['', 'NA', 'N/A', 'NaN', 'null', 'NULL', 'None'];

/**
 * The longest text a category or string field takes unless its `max_length` says otherwise: long
 * enough for any name or label, short enough that a hostile request cannot fill the prediction log.
 */
export const DEFAULT_MAX_LENGTH = 1000;

/**
 * What inference saw in a column, written beside the contract for a person to read: never a limit.
 * Loose on purpose (extra keys pass), since nothing is checked against it.
 */
const observedSchema = z
  .object({
    rows: z.number().optional(),
    missing: z.number().optional(),
    min: z.union([z.number(), z.string()]).optional(),
    max: z.union([z.number(), z.string()]).optional(),
    categories: z.record(z.string(), z.number()).optional(),
  })
  .passthrough();

const fieldSchema = z
  .object({
    type: z.enum(FIELD_TYPES),
    role: z.enum(FIELD_ROLES).default('feature'),
    nullable: z.boolean().default(false),
    min: z.number().optional(),
    max: z.number().optional(),
    values: z
      .array(z.union([z.string(), z.number(), z.boolean()]))
      .min(1)
      .optional(),
    max_length: z.number().int().positive().optional(),
    description: z.string().optional(),
    observed: observedSchema.optional(),
    /** How a datetime is written: DD/MM/YYYY, %d.%m.%Y %H:%M, epoch_s, epoch_ms... (default: ISO 8601). */
    format: z.string().min(1).optional(),
    /** The time zone of wall-clock datetimes without an offset (IANA name or +01:00; default UTC). */
    timezone: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((field, context) => {
    if ((field.format !== undefined || field.timezone !== undefined) && field.type !== 'datetime') {
      context.addIssue({
        code: 'custom',
        path: [field.format !== undefined ? 'format' : 'timezone'],
        message: `format and timezone apply to datetime fields, not ${field.type}`,
      });
    }
    const formatIssue =
      field.type === 'datetime' && (field.format !== undefined || field.timezone !== undefined)
        ? formatProblem(field.format ?? 'YYYY-MM-DD', field.timezone)
        : undefined;
    if (formatIssue) context.addIssue({ code: 'custom', path: ['format'], message: formatIssue });
    if (field.min !== undefined && field.max !== undefined && field.min > field.max) {
      context.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min (${field.min}) is above max (${field.max})`,
      });
    }
    if (field.values && !['category', 'integer', 'string'].includes(field.type)) {
      context.addIssue({
        code: 'custom',
        path: ['values'],
        message: `\`values\` applies to category, integer and string fields, not ${field.type}`,
      });
    }
    if (field.max_length !== undefined && !['category', 'string'].includes(field.type)) {
      context.addIssue({
        code: 'custom',
        path: ['max_length'],
        message: `max_length applies to category and string fields, not ${field.type}`,
      });
    }
    if (
      (field.min !== undefined || field.max !== undefined) &&
      !['integer', 'number', 'datetime'].includes(field.type)
    ) {
      context.addIssue({
        code: 'custom',
        path: ['min'],
        message: `min/max apply to integer, number and datetime fields, not ${field.type}`,
      });
    }
  });

export const schemaFileSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().optional(),
    task: z.enum(TASKS).optional(),
    missing_values: z.array(z.string()).optional(),
    fields: z
      .record(z.string().min(1), fieldSchema)
      .refine((fields) => Object.keys(fields).length > 0, 'at least one field is required'),
  })
  .strict();

export type SchemaFile = z.infer<typeof schemaFileSchema>;

export interface Field {
  name: string;
  type: FieldType;
  role: FieldRole;
  nullable: boolean;
  min?: number;
  max?: number;
  /** The closed list of allowed values; a category field without it is open (any text or number). */
  values?: CategoryValue[];
  /** The longest text accepted, in characters (DEFAULT_MAX_LENGTH unless the schema says). */
  maxLength?: number;
  description?: string;
  /** How a datetime field is written (see datetime-format.ts); ISO 8601 when absent. */
  format?: string;
  timezone?: string;
}

export interface Schema {
  name: string;
  description?: string;
  /** binary, multiclass or regression; undefined when the schema has no target. */
  task: Task | undefined;
  fields: Field[];
  key: Field | undefined;
  target: Field | undefined;
  features: Field[];
  missingValues: string[];
  /** sha256 of the contract's canonical form: names, types, roles, nullability, ranges, values. */
  fingerprint: string;
  /** The `file:line:column` of a field's definition, when read from a file. */
  locate(path: (string | number)[]): string | undefined;
}

export function loadSchema(file: string): Schema {
  const loaded = loadYaml(file, schemaFileSchema, errors.PW_SCHEMA_INVALID);
  return buildSchema(loaded.value, loaded.locate);
}

export function parseSchema(text: string, file = 'schema.yaml'): Schema {
  const loaded = parseYaml(text, file, schemaFileSchema, errors.PW_SCHEMA_INVALID);
  return buildSchema(loaded.value, loaded.locate);
}

export function buildSchema(
  definition: SchemaFile,
  locate: (path: (string | number)[]) => string | undefined = () => undefined,
): Schema {
  const fields: Field[] = Object.entries(definition.fields).map(([name, spec]) => ({
    name,
    type: spec.type,
    role: spec.role,
    nullable: spec.nullable,
    ...(spec.min !== undefined ? { min: spec.min } : {}),
    ...(spec.max !== undefined ? { max: spec.max } : {}),
    ...(spec.values !== undefined ? { values: spec.values } : {}),
    ...(spec.max_length !== undefined ? { maxLength: spec.max_length } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    ...(spec.format !== undefined ? { format: spec.format } : {}),
    ...(spec.timezone !== undefined ? { timezone: spec.timezone } : {}),
  }));
  const fail = (message: string, path: (string | number)[], hint?: string): never => {
    const where = locate(path);
    throw new errors.PW_SCHEMA_INVALID(`${where ? `${where} ` : ''}${path.join('.')}: ${message}`, {
      ...(where ? { where } : {}),
      ...(hint ? { hint } : {}),
    });
  };
  const keys = fields.filter((f) => f.role === 'key');
  const targets = fields.filter((f) => f.role === 'target');
  if (keys.length > 1)
    fail(`only one field may have role key; found ${keys.map((f) => f.name).join(', ')}`, [
      'fields',
      keys[1].name,
      'role',
    ]);
  if (targets.length > 1)
    fail(`only one field may have role target; found ${targets.map((f) => f.name).join(', ')}`, [
      'fields',
      targets[1].name,
      'role',
    ]);
  const key = keys[0];
  const target = targets[0];
  if (key && key.nullable) fail('the key cannot be nullable', ['fields', key.name, 'nullable']);
  if (key && !['integer', 'string'].includes(key.type))
    fail(`the key must be an integer or a string, not ${key.type}`, ['fields', key.name, 'type']);
  if (target && target.nullable) fail('the target cannot be nullable', ['fields', target.name, 'nullable']);
  const features = fields.filter((f) => f.role === 'feature');
  if (features.length === 0) fail('at least one field must have role feature', ['fields']);
  if (target && target.type === 'category' && !target.values) {
    fail(
      'a category target needs its class `values`',
      ['fields', target.name],
      'Add `values: [...]` listing the classes: the model learns one output per class.',
    );
  }
  const task = target ? (definition.task ?? inferTask(target)) : undefined;
  if (target && task !== 'regression' && !target.values && target.type !== 'boolean') {
    fail(
      `a ${task} target needs its class \`values\``,
      ['fields', target.name],
      `Add \`values: [...]\` listing the classes, or set \`task: regression\`.`,
    );
  }
  if (target && task === 'binary' && target.type !== 'boolean' && target.values?.length !== 2) {
    fail(`a binary target needs exactly two values; found ${target.values?.length}`, [
      'fields',
      target.name,
      'values',
    ]);
  }
  const missingValues = definition.missing_values ?? DEFAULT_MISSING_VALUES;
  const contract = {
    task,
    missingValues,
    // By name: the order fields are listed in is presentation, not contract.
    fields: fields
      .map(({ description: _description, ...rest }) => rest)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
  return {
    name: definition.name,
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    task,
    fields,
    key,
    target,
    features,
    missingValues,
    fingerprint: sha256(canonicalJson(contract)),
    locate,
  };
}

function inferTask(target: Field): Task {
  if (target.type === 'boolean') return 'binary';
  if (target.type === 'number') return 'regression';
  if (target.values) return target.values.length === 2 ? 'binary' : 'multiclass';
  return 'regression';
}

/** The class labels of a classification target, in the schema's order. */
export function classLabels(schema: Schema): CategoryValue[] {
  if (!schema.target || schema.task === 'regression') return [];
  if (schema.target.type === 'boolean') return [false, true];
  return schema.target.values ?? [];
}
