import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchema } from '../../src/schema/schema.js';
import { compileCoercer } from '../../src/schema/coerce.js';
import { PipewrightError } from '../../src/core/errors.js';

const TEMPLATE = readFileSync(new URL('../../templates/project/schema.yaml', import.meta.url), 'utf8');

function schemaError(text: string): PipewrightError {
  try {
    parseSchema(text);
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the schema to be refused');
}

describe('schema contract', () => {
  it('reads the template schema: key, target, features and a binary task', () => {
    const schema = parseSchema(TEMPLATE);
    expect(schema.key?.name).toBe('id');
    expect(schema.target?.name).toBe('Response');
    expect(schema.task).toBe('binary');
    expect(schema.features.map((f) => f.name)).toContain('Vehicle_Age');
    expect(schema.features).toHaveLength(10);
  });

  it('has a fingerprint that ignores descriptions but not types or ranges', () => {
    const base = parseSchema(TEMPLATE).fingerprint;
    expect(parseSchema(TEMPLATE.replace('days as a customer', 'tenure in days')).fingerprint).toBe(base);
    expect(parseSchema(TEMPLATE.replace('max: 120', 'max: 99')).fingerprint).not.toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names the line and key of an unknown field type', () => {
    const error = schemaError(
      'name: x\nfields:\n  a:\n    type: float\n  y: { type: integer, role: target, values: [0, 1] }\n',
    );
    expect(error.code).toBe('PW_SCHEMA_INVALID');
    expect(error.where).toBe('schema.yaml:4:5');
    expect(error.message).toContain('fields.a.type');
  });

  it('suggests the right key for a misspelt field property', () => {
    const error = schemaError('name: x\nfields:\n  a:\n    type: number\n    nulable: true\n');
    expect(error.message).toContain('did you mean "nullable"');
  });

  it('refuses a category target without its class values, and two targets', () => {
    const classless = schemaError(
      'name: x\nfields:\n  a: { type: number }\n  y: { type: category, role: target }\n',
    );
    expect(classless.code).toBe('PW_SCHEMA_INVALID');
    expect(classless.where).toBe('schema.yaml:4:3');
    const two = schemaError(
      'name: x\nfields:\n  f: { type: number }\n  a: { type: number, role: target }\n  b: { type: number, role: target }\n',
    );
    expect(two.message).toContain('only one field may have role target');
    expect(two.where).toBe('schema.yaml:5:22'); // the second target's role
  });
});

describe('open categories and what was observed', () => {
  const open = [
    'name: x',
    'fields:',
    '  maker: { type: category, nullable: true }',
    '  size: { type: number }',
    '  y: { type: boolean, role: target }',
    '',
  ].join('\n');

  it('reads a category feature without values as open', () => {
    const maker = parseSchema(open).fields.find((field) => field.name === 'maker')!;
    expect(maker.type).toBe('category');
    expect(maker.values).toBeUndefined();
  });

  it('accepts any text or number for an open category, as trimmed text, and still refuses objects', () => {
    const coerce = compileCoercer(parseSchema(open), { fields: 'inputs' });
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 50 }), fc.integer(), fc.double({ noNaN: true })),
        (value) => {
          const result = coerce({ maker: value, size: 1 });
          if (typeof value === 'string' && value === '') return; // the empty text is a missing value
          expect(result.ok).toBe(true);
          expect(result.record.maker).toBe(typeof value === 'string' ? value.trim() : String(value));
        },
      ),
    );
    const objectValue = coerce({ maker: { name: 'x' }, size: 1 });
    expect(objectValue.ok).toBe(false);
    if (!objectValue.ok) expect(objectValue.errors[0]).toMatchObject({ field: 'maker', kind: 'type' });
  });

  it('has a fingerprint that ignores the observed block', () => {
    const base = parseSchema(open).fingerprint;
    const observed = open
      .replace(
        '  maker: { type: category, nullable: true }',
        '  maker:\n    type: category\n    nullable: true\n    observed: { missing: 3, categories: { ford: 10, fiat: 2 } }',
      )
      .replace(
        '  size: { type: number }',
        '  size:\n    type: number\n    observed: { missing: 0, min: 1, max: 9.5, anything: else }',
      );
    const parsed = parseSchema(observed);
    expect(parsed.fingerprint).toBe(base);
    expect(parsed.fields.find((field) => field.name === 'size')!.max).toBeUndefined();
    // A closed list is contract: it changes the fingerprint.
    expect(
      parseSchema(open.replace('{ type: category, nullable: true }', '{ type: category, values: [ford] }'))
        .fingerprint,
    ).not.toBe(base);
  });
});

describe('record coercion', () => {
  const schema = parseSchema(TEMPLATE);
  const coerce = compileCoercer(schema);
  const row = {
    id: '7',
    Gender: 'Male',
    Age: '44',
    Driving_License: '1',
    Region_Code: '28.0',
    Previously_Insured: '0',
    Vehicle_Age: '> 2 Years',
    Vehicle_Damage: 'Yes',
    Annual_Premium: '40454',
    Policy_Sales_Channel: '26',
    Vintage: '217',
    Response: '1',
  };

  it('turns CSV strings into typed values', () => {
    const result = coerce(row);
    expect(result.ok).toBe(true);
    expect(result.record).toMatchObject({ id: 7, Age: 44, Region_Code: 28, Gender: 'Male', Response: 1 });
  });

  it('rejects a row whose Age is not a number, naming the field and the value', () => {
    const result = coerce({ ...row, Age: 'forty' });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.errors).toEqual([
        { field: 'Age', reason: '"forty" is not an integer', value: 'forty', kind: 'type' },
      ]);
  });

  it('reports every bad field: range, category, missing', () => {
    const { id: _id, ...withoutId } = row;
    const result = coerce({ ...withoutId, Age: '130', Vehicle_Damage: 'Maybe', Gender: '' });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => e.field)).toEqual(['id', 'Gender', 'Age', 'Vehicle_Damage']);
      expect(result.errors[2].reason).toBe('130 is above the maximum 120');
      expect(result.errors[3].reason).toContain('is not one of "Yes", "No"');
    }
  });

  it('reads only the inputs for serving, ignoring the target', () => {
    const inputs = compileCoercer(schema, { fields: 'inputs' });
    const { Response: _target, id: _key, ...features } = row;
    expect(inputs(features).ok).toBe(true);
  });
});

describe('schema fingerprint and field order', () => {
  it('does not depend on the order the fields are listed in', () => {
    const a = parseSchema(
      'name: x\nfields:\n  a: { type: number }\n  b: { type: integer, role: target, values: [0, 1] }\n',
    );
    const b = parseSchema(
      'name: x\nfields:\n  b: { type: integer, role: target, values: [0, 1] }\n  a: { type: number }\n',
    );
    expect(a.fingerprint).toBe(b.fingerprint);
  });
});
