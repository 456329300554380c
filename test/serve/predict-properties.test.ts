// Property-based fuzzing of POST /predict with fast-check: every field gets odd values of its own type
// and of others (huge and tiny floats, numbers beyond the date range, long strings, odd Unicode, wrong
// types, nested objects), as one record, a batch and CSV. The answer is never a 5xx, and no body carries
// a stack or a file path.
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Field } from '../../src/schema/schema.js';
import {
  createTestProject,
  ROOT,
  startTestServer,
  validRecord,
  type TestProject,
  type TestServer,
} from '../fixtures/model.js';

/** The template schema plus one nullable field of each type it lacks. */
function everyFieldType(text: string): string {
  return text.replace(
    /\n {2}Response:/,
    `
  Signed_Up:
    type: datetime
    nullable: true
  Note:
    type: string
    nullable: true
  Active:
    type: boolean
    nullable: true
  Response:`,
  );
}

/** The last millisecond a JavaScript date can hold, and a step beyond it. */
const DATE_LIMIT = 8.64e15;

const oddNumber = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(
    1e308,
    -1e308,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    5e-324,
    -0,
    2 ** 53 + 2,
    -(2 ** 63),
    DATE_LIMIT,
    DATE_LIMIT + 1,
    -DATE_LIMIT - 1,
    1e21,
  ),
);

const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    'NaN',
    'Infinity',
    '-Infinity',
    '1e309',
    '8640000000000001',
    '+275760-09-13T00:00:00.001Z',
    '-271821-04-20T00:00:00.000Z',
    '9999-99-99',
    '0x1F',
    '４２',
    '\u0000',
    '\ud800',
    '\udfff\ud800',
    '\u202e\u0646\u0635',
    'e\u0301\u0301\u0301',
    '🙂'.repeat(200),
    'x'.repeat(20_000),
    '../../../etc/passwd',
    '%s%n%x',
    '<script>alert(1)</script>',
  ),
);

const nested: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, true, false),
    oddNumber,
    oddText,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 3 }),
  ),
})).value;

/** A value for one field: usually odd for its type, sometimes valid, sometimes of another type. */
function valueFor(field: Field, valid: unknown): fc.Arbitrary<unknown> {
  const ofType: fc.Arbitrary<unknown>[] = (() => {
    switch (field.type) {
      case 'integer':
      case 'number':
        return [oddNumber, oddNumber.map(String)];
      case 'datetime':
        return [oddNumber, oddText, fc.date({ noInvalidDate: true }).map((date) => date.toISOString())];
      case 'boolean':
        return [fc.constantFrom(true, false, 'true', 'no', 'Y', 0, 1, 2, 'yes\u0000')];
      default:
        return [oddText, fc.constantFrom(...(field.values ?? []).map(String), 'male', ' Male')];
    }
  })();
  return fc.oneof(
    ...ofType,
    fc.constant(valid),
    fc.constantFrom(null, undefined, true, [], {}, [1, 2]),
    nested,
  );
}

describe('POST /predict under generated odd values', () => {
  let project: TestProject;
  let server: TestServer;
  let record: fc.Arbitrary<Record<string, unknown>>;
  let leaks: string[];

  beforeAll(async () => {
    project = await createTestProject({ schema: everyFieldType, serve: { max_batch: 20 } });
    server = await startTestServer(project);
    const valid: Record<string, unknown> = {
      ...validRecord(),
      Signed_Up: '2024-05-01T12:00:00Z',
      Note: 'a note',
      Active: true,
    };
    const shape: Record<string, fc.Arbitrary<unknown>> = {};
    for (const field of project.schema.features) shape[field.name] = valueFor(field, valid[field.name]);
    record = fc
      .tuple(
        fc.record(shape, { requiredKeys: [] }),
        fc.dictionary(
          fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor', 'prototype')),
          nested,
          { maxKeys: 2 },
        ),
      )
      .map(([fields, extra]) => ({ ...extra, ...fields }));
    leaks = [project.dir, tmpdir(), ROOT, 'node_modules', '.ts:', '.js:'];
  });
  afterAll(async () => {
    await server?.close();
    project?.cleanup();
  });

  async function check(body: string, contentType = 'application/json'): Promise<void> {
    const response = await fetch(`${server.url}/predict`, {
      method: 'POST',
      headers: { 'content-type': contentType },
      body,
    });
    const text = await response.text();
    expect(response.status, text.slice(0, 500)).toBeLessThan(500);
    expect(text).not.toMatch(/\n\s+at /);
    for (const leak of leaks) expect(text).not.toContain(leak);
  }

  it('answers one generated record without a 5xx, a stack or a path', async () => {
    await fc.assert(
      fc.asyncProperty(record, (value) => check(JSON.stringify(value))),
      { numRuns: 300, seed: 1401 },
    );
  });

  it('answers a generated batch without a 5xx, a stack or a path', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(record, { maxLength: 25 }), (records) => check(JSON.stringify({ records }))),
      { numRuns: 100, seed: 1402 },
    );
  });

  it('answers generated CSV without a 5xx, a stack or a path', async () => {
    const names = project.schema.features.map((field) => field.name);
    const cell = (value: unknown) => {
      const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
      return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 25 }), (records) =>
        check(
          `${names.join(',')}\n${records.map((row) => names.map((name) => cell(row[name])).join(',')).join('\n')}\n`,
          'text/csv',
        ),
      ),
      { numRuns: 100, seed: 1403 },
    );
  });
});
