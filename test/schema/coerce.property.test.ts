// Property tests of the record coercer: whatever a file or a request holds, every field type answers
// with a typed value or a clean per-field error, never a throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileCoercer } from '../../src/schema/coerce.js';
import { DEFAULT_MAX_LENGTH, parseSchema, type FieldType } from '../../src/schema/schema.js';

const SCHEMA = parseSchema(
  [
    'name: every-type',
    'fields:',
    '  id: { type: string, role: key }',
    '  count: { type: integer, nullable: true }',
    '  amount: { type: number, nullable: true }',
    '  bounded: { type: number, nullable: true, min: -10, max: 10 }',
    '  flag: { type: boolean, nullable: true }',
    '  colour: { type: category, nullable: true, values: [red, green, 3] }',
    '  note: { type: string, nullable: true }',
    '  short: { type: string, nullable: true, max_length: 8 }',
    '  seen: { type: datetime, nullable: true }',
    '  label: { type: boolean, role: target }',
  ].join('\n'),
);
const coerce = compileCoercer(SCHEMA);
const FIELDS = SCHEMA.fields.map((f) => f.name);
const TYPE_OF = new Map<string, FieldType>(SCHEMA.fields.map((f) => [f.name, f.type]));

/** Values a CSV cell, a JSON body or a form can carry, with the awkward ones made likely. */
const rawValue = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.double(),
  fc.double({ noNaN: true, min: -1e300, max: 1e300 }),
  fc.constantFrom(8.64e15 + 1, -8.64e15 - 1, 1e308, -1e308, 5e-324, Number.MAX_SAFE_INTEGER + 2, -0),
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('1e309', '-1e309', '+8640000000000001', '275760-09-13T00:00:00.001Z', '\u0000', '\ufeff1'),
  fc.string({ minLength: DEFAULT_MAX_LENGTH + 1, maxLength: DEFAULT_MAX_LENGTH + 50 }),
  fc.boolean(),
  fc.constant(null),
);

function typedAs(type: FieldType, value: unknown): boolean {
  if (value === null) return true;
  switch (type) {
    case 'integer':
      return Number.isSafeInteger(value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'category':
      return ['string', 'number', 'boolean'].includes(typeof value);
    case 'string':
      return typeof value === 'string' && value.length <= DEFAULT_MAX_LENGTH;
    case 'datetime':
      return typeof value === 'string' && Number.isFinite(Date.parse(value));
  }
}

describe('record coercion under any input', () => {
  it('answers every field of any record with a typed value or a per-field error, never a throw', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...FIELDS), rawValue), (raw) => {
        const result = coerce(raw);
        const failed = new Set(result.ok ? [] : result.errors.map((e) => e.field));
        for (const name of FIELDS) {
          if (failed.has(name)) {
            expect(result.record[name]).toBeNull();
            continue;
          }
          expect(typedAs(TYPE_OF.get(name)!, result.record[name])).toBe(true);
        }
        if (!result.ok) {
          for (const error of result.errors) {
            expect(FIELDS).toContain(error.field);
            expect(['missing', 'type', 'range', 'category']).toContain(error.kind);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads back every finite number written as text, and refuses what a double cannot hold', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => {
        const result = coerce({ id: 'a', label: 'true', amount: String(value) });
        expect(result.ok).toBe(true);
        expect(result.record.amount).toBe(value === 0 ? 0 : value);
      }),
    );
    const beyond = coerce({ id: 'a', label: 'true', amount: '1e309' });
    expect(beyond.ok).toBe(false);
    if (!beyond.ok) expect(beyond.errors[0]).toMatchObject({ field: 'amount', kind: 'type' });
  });

  it('keeps every time a date can hold and refuses, as out of range, the numbers beyond it', () => {
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (time) => {
        const result = coerce({ id: 'a', label: 'true', seen: time });
        expect(result.ok).toBe(true);
        expect(Date.parse(result.record.seen as string)).toBe(time);
      }),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ min: 8.64e15 + 1, noNaN: true }), fc.double({ max: -8.64e15 - 1, noNaN: true })),
        (time) => {
          const result = coerce({ id: 'a', label: 'true', seen: time });
          expect(result.ok).toBe(false);
          if (!result.ok) expect(result.errors.map((e) => e.field)).toEqual(['seen']);
        },
      ),
    );
  });

  it('refuses text longer than the field allows, naming the field, and keeps text up to the limit', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ minLength: 9, maxLength: 200 }), (fits, long) => {
        fc.pre(!SCHEMA.missingValues.includes(fits));
        expect(coerce({ id: 'a', label: 'true', short: fits }).record.short).toBe(fits);
        const refused = coerce({ id: 'a', label: 'true', short: long });
        expect(refused.ok).toBe(false);
        if (!refused.ok) expect(refused.errors[0]).toMatchObject({ field: 'short', kind: 'range' });
      }),
    );
    const huge = coerce({ id: 'a', label: 'true', note: 'x'.repeat(DEFAULT_MAX_LENGTH + 1) });
    expect(huge.ok).toBe(false);
    if (!huge.ok) expect(huge.errors[0]).toMatchObject({ field: 'note', kind: 'range' });
  });

  it('refuses max_length on a field that holds no text, naming the line', () => {
    let code: string | undefined;
    try {
      parseSchema(
        'name: x\nfields:\n  a: { type: number, max_length: 4 }\n  y: { type: boolean, role: target }\n',
      );
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    expect(code).toBe('PW_SCHEMA_INVALID');
  });
});
