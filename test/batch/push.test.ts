// The push use case on real files in a scaffolded project with the vehicle-insurance schema, writing to
// a real embedded store: counts, idempotence, rejects, header checks, dry runs, replace and JSONL.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { scaffold } from '../../src/project/scaffold.js';
import { pushFile, stagingName, type PushOptions, type RejectedRow } from '../../src/batch/push.js';
import { loadSchema, parseSchema, type Schema } from '../../src/schema/schema.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import type { Document } from '../../src/store/types.js';

const HEADER =
  'id,Gender,Age,Driving_License,Region_Code,Previously_Insured,Vehicle_Age,Vehicle_Damage,Annual_Premium,Policy_Sales_Channel,Vintage,Response';

function row(id: number, overrides: Partial<Record<string, string>> = {}): string {
  const values: Record<string, string> = {
    id: String(id),
    Gender: id % 2 ? 'Male' : 'Female',
    Age: String(20 + (id % 50)),
    Driving_License: '1',
    Region_Code: '28.0',
    Previously_Insured: '0',
    Vehicle_Age: '1-2 Year',
    Vehicle_Damage: 'Yes',
    Annual_Premium: String(2630 + id),
    Policy_Sales_Channel: '26.0',
    Vintage: String(10 + id),
    Response: String(id % 3 === 0 ? 1 : 0),
    ...overrides,
  };
  return HEADER.split(',')
    .map((column) => values[column])
    .join(',');
}

function csv(ids: number[], extra: string[] = []): string {
  return `${[HEADER, ...ids.map((id) => row(id)), ...extra].join('\n')}\n`;
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function collect(iterable: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const document of iterable) out.push(document);
  return out;
}

function readRejects(file: string): RejectedRow[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RejectedRow);
}

const root = mkdtempSync(join(tmpdir(), 'pipewright-push-'));
let project: string;
let schema: Schema;
let store: EmbeddedStore;
let counter = 0;

beforeAll(() => {
  project = join(root, 'project');
  scaffold(project, {
    values: {
      name: 'insurance',
      collection: 'records',
      metric: 'roc_auc',
      expected_score: '0.6',
      version: '0.0.0',
    },
  });
  schema = loadSchema(join(project, 'schema.yaml'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => {
  store = EmbeddedStore.open(join(project, '.pipewright', `store-${++counter}.db`));
});
afterEach(async () => {
  await store.close();
});

function dataFile(name: string, content: string | Buffer): string {
  const file = join(project, 'data', `${counter}-${name}`);
  writeFileSync(file, content);
  return file;
}

function push(file: string, options: Partial<PushOptions> = {}) {
  return pushFile({ file, schema, store, collection: 'records', batchSize: 7, ...options });
}

async function pushFailure(file: string, options: Partial<PushOptions> = {}): Promise<PipewrightError> {
  try {
    await push(file, options);
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the push to fail');
}

describe('pushFile', () => {
  it('writes every valid row as a typed document keyed by the schema key', async () => {
    const file = dataFile('good.csv', csv(range(1, 20)));
    const summary = await push(file);
    expect(summary).toMatchObject({
      read: 20,
      inserted: 20,
      updated: 0,
      unchanged: 0,
      rejected: 0,
      format: 'csv',
      rejects_file: null,
      collection: 'records',
    });
    expect(summary.rows_per_s).toBeGreaterThan(0);
    const documents = await collect(store.collection('records').find({ _id: { $in: [3, 4] } }));
    expect(documents[0]).toEqual({
      _id: 3,
      id: 3,
      Gender: 'Male',
      Age: 23,
      Driving_License: 1,
      Region_Code: 28,
      Previously_Insured: 0,
      Vehicle_Age: '1-2 Year',
      Vehicle_Damage: 'Yes',
      Annual_Premium: 2633,
      Policy_Sales_Channel: 26,
      Vintage: 13,
      Response: 1,
    });
    expect(documents[1]).toMatchObject({ _id: 4, Gender: 'Female', Response: 0 });
  });

  it('never duplicates: the same file again is all unchanged, and a changed row is updated', async () => {
    const file = dataFile('twice.csv', csv(range(1, 15)));
    await push(file);
    expect(await push(file)).toMatchObject({ read: 15, inserted: 0, updated: 0, unchanged: 15 });
    writeFileSync(
      file,
      `${[HEADER, ...range(1, 15).map((id) => row(id, id === 5 ? { Age: '77' } : {})), row(16)].join('\n')}\n`,
    );
    expect(await push(file)).toMatchObject({ read: 16, inserted: 1, updated: 1, unchanged: 14 });
    expect(await store.collection('records').countDocuments()).toBe(16);
    expect(await store.collection('records').countDocuments({ Age: 77 })).toBe(1);
  });

  it('writes invalid rows to <file>.rejects.jsonl with line, first field, reason, raw row and all errors', async () => {
    const file = dataFile(
      'mixed.csv',
      csv(range(1, 5), [
        row(6, { Age: 'abc' }),
        row(7),
        row(8, { Gender: 'Other', Vintage: '-4' }),
        row(9, { Age: '' }),
      ]),
    );
    const summary = await push(file);
    expect(summary).toMatchObject({
      read: 9,
      inserted: 6,
      rejected: 3,
      rejects_file: `${file}.rejects.jsonl`,
    });
    const rejects = readRejects(`${file}.rejects.jsonl`);
    expect(rejects).toHaveLength(3);
    expect(rejects[0]).toMatchObject({
      line: 7,
      field: 'Age',
      reason: 'Age "abc" is not an integer',
      row: { id: '6', Age: 'abc' },
    });
    expect(rejects[1]).toMatchObject({ line: 9, field: 'Gender' });
    expect(rejects[1].errors.map((error) => error.field)).toEqual(['Gender', 'Vintage']);
    expect(rejects[1].errors[1].reason).toContain('below the minimum 0');
    expect(rejects[2]).toMatchObject({ line: 10, field: 'Age', reason: 'Age is required but empty' });
    expect(summary.rejects_sample.map((reject) => reject.line)).toEqual([7, 9, 10]);
    expect(await store.collection('records').countDocuments()).toBe(6);
  });

  it('fails with PW_FILE_UNWRITABLE when the rejects file cannot be written', async () => {
    const file = dataFile('unwritable.csv', csv(range(1, 3), [row(4, { Age: 'x' })]));
    const rejectsFile = join(project, 'no-such-folder', 'rejects.jsonl');
    const error = await pushFailure(file, { rejectsFile });
    expect(error.code).toBe('PW_FILE_UNWRITABLE');
    expect(error.message).toContain('rejects.jsonl');
  });

  it('removes a stale rejects file once the file pushes cleanly', async () => {
    const file = dataFile('fixed.csv', csv(range(1, 3), [row(4, { Age: 'x' })]));
    await push(file);
    expect(existsSync(`${file}.rejects.jsonl`)).toBe(true);
    writeFileSync(file, csv(range(1, 4)));
    expect((await push(file)).rejected).toBe(0);
    expect(existsSync(`${file}.rejects.jsonl`)).toBe(false);
  });

  it('fails before writing anything when a column is misspelt, naming file, line 1 and the right name', async () => {
    const file = dataFile('typo.csv', csv(range(1, 3)).replace(',Age,', ',Agee,'));
    const error = await pushFailure(file);
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.where).toMatch(/typo\.csv:1$/);
    expect(error.message).toContain('unknown column "Agee" (did you mean "Age"?)');
    expect(error.message).toContain('missing required column "Age"');
    expect(error.hint).toContain('rename "Agee" to "Age"');
    expect(error.hint).toContain('Nothing was written');
    expect(await store.listCollections()).toEqual([]);
    expect(existsSync(`${file}.rejects.jsonl`)).toBe(false);
  });

  it('fails on missing required columns and on unknown ones, listing them', async () => {
    const missing = dataFile('missing.csv', 'id,Gender,Age\n1,Male,30\n');
    const error = await pushFailure(missing);
    expect(error.message).toContain('missing required columns "Driving_License", "Region_Code"');
    const unknown = dataFile('unknown.csv', `${HEADER},Colour\n${row(1)},red\n`);
    const second = await pushFailure(unknown);
    expect(second.message).toContain('unknown column "Colour"');
    expect(second.hint).toContain('role: ignore');
    expect(await store.listCollections()).toEqual([]);
  });

  it('reads a byte-order mark, CRLF line endings and quoted fields', async () => {
    const lines = [HEADER, row(1), row(2, { Vehicle_Age: '"> 2 Years"' }), row(3, { Gender: '"Female"' })];
    const file = dataFile('excel.csv', `\uFEFF${lines.join('\r\n')}\r\n`);
    const summary = await push(file);
    expect(summary).toMatchObject({ read: 3, inserted: 3, rejected: 0, bom: true });
    expect(
      await collect(store.collection('records').find({ _id: 2 }, { projection: { Vehicle_Age: 1 } })),
    ).toEqual([{ _id: 2, Vehicle_Age: '> 2 Years' }]);
  });

  it('rejects a truncated last line, naming its line, and keeps the rows before it', async () => {
    const file = dataFile('truncated.csv', `${csv(range(1, 4))}5,Male,4`);
    const summary = await push(file);
    expect(summary).toMatchObject({ read: 5, inserted: 4, rejected: 1 });
    const [reject] = readRejects(`${file}.rejects.jsonl`);
    expect(reject.line).toBe(6);
    expect(reject.field).toBeNull();
    expect(reject.reason).toContain('the last line ends early: it has 3 of the 12 columns');
  });

  it('rejects a stray quote at its line and stores every other row', async () => {
    // enough rows after the stray quote to pass the 1 MiB a record may hold
    const ids = range(1, 20_000);
    const lines = csv(ids).split('\n');
    lines[3] = lines[3].replace('Male', '"Male');
    const file = dataFile('stray-quote.csv', lines.join('\n'));
    const summary = await push(file, { batchSize: 2000 });
    expect(summary).toMatchObject({ read: 20_000, inserted: 19_999, rejected: 1 });
    const [reject] = readRejects(`${file}.rejects.jsonl`);
    expect(reject.line).toBe(4);
    expect(reject.reason).toContain('opened on line 4 does not close within');
    expect(await store.collection('records').countDocuments()).toBe(19_999);
  });

  it('fails on bytes that are not UTF-8 at their line when the encoding is set to UTF-8', async () => {
    const file = dataFile(
      'latin1.csv',
      Buffer.concat([
        Buffer.from(csv(range(1, 3))),
        Buffer.from('4,M'),
        Buffer.from([0xe4]),
        Buffer.from('le\n'),
      ]),
    );
    const error = await pushFailure(file, { read: { encoding: 'utf-8' } });
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.where).toMatch(/latin1\.csv:5$/);
  });

  it('fails on an empty file and on a file that does not exist', async () => {
    const error = await pushFailure(dataFile('empty.csv', ''));
    expect(error).toMatchObject({ code: 'PW_FILE_INVALID', where: expect.stringMatching(/empty\.csv:1$/) });
    const missing = await pushFailure(join(project, 'data', 'absent.csv'));
    expect(missing.code).toBe('PW_FILE_NOT_FOUND');
  });

  it('validates without writing anything on a dry run', async () => {
    const file = dataFile('dry.csv', csv(range(1, 10), [row(11, { Age: '7' })]));
    const summary = await push(file, { dryRun: true });
    expect(summary).toMatchObject({
      read: 11,
      inserted: 0,
      valid: 10,
      rejected: 1,
      dry_run: true,
      rejects_file: null,
    });
    expect(summary.rejects_sample[0]).toMatchObject({ line: 12, field: 'Age' });
    expect(await store.listCollections()).toEqual([]);
    expect(existsSync(`${file}.rejects.jsonl`)).toBe(false);
  });

  it('replaces the collection with exactly the file rows, through a staging collection', async () => {
    await push(dataFile('old.csv', csv(range(1, 30))));
    const file = dataFile('new.csv', csv(range(21, 40)));
    const summary = await push(file, { replace: true });
    expect(summary).toMatchObject({ read: 20, inserted: 20, replace: true });
    const ids = (await collect(store.collection('records').find({}, { projection: { _id: 1 } }))).map(
      (document) => document._id,
    );
    expect(ids).toEqual(range(21, 40));
    expect(await store.listCollections()).toEqual(['records']);
    expect(await store.collection(stagingName('records')).countDocuments()).toBe(0);
  });

  it('leaves the collection untouched when a replace fails part-way', async () => {
    await push(dataFile('keep.csv', csv(range(1, 10))));
    // Big enough that batches are written before the reader meets the bad byte.
    const broken = dataFile(
      'broken.csv',
      Buffer.concat([Buffer.from(csv(range(100, 8000))), Buffer.from([0xff, 0x0a])]),
    );
    expect((await pushFailure(broken, { replace: true, batchSize: 500 })).code).toBe('PW_FILE_INVALID');
    const ids = (await collect(store.collection('records').find())).map((document) => document._id);
    expect(ids).toEqual(range(1, 10));
    expect(await store.listCollections()).toEqual(['records']);
  });

  it('pushes JSON Lines, rejecting lines that are not objects or not valid', async () => {
    const records = range(1, 6).map((id) => {
      const values = Object.fromEntries(
        HEADER.split(',').map((column, index) => [column, row(id).split(',')[index]]),
      );
      return { ...values, id, Age: 30 + id, Region_Code: 28, Annual_Premium: 3000.5, Response: id % 2 };
    });
    const lines = records.map((record) => JSON.stringify(record));
    lines.splice(2, 0, '{"id": 99, "Gender": ', '"just a string"');
    const file = dataFile('rows.jsonl', `${lines.join('\n')}\n`);
    const summary = await push(file);
    expect(summary).toMatchObject({ format: 'jsonl', read: 8, inserted: 6, rejected: 2 });
    expect(
      readRejects(`${file}.rejects.jsonl`).map((reject) => [reject.line, reject.reason.split(':')[0]]),
    ).toEqual([
      [3, 'is not valid JSON'],
      [4, 'is string, not a JSON object'],
    ]);
    expect(
      await collect(
        store.collection('records').find({ _id: 2 }, { projection: { Age: 1, Annual_Premium: 1 } }),
      ),
    ).toEqual([{ _id: 2, Age: 32, Annual_Premium: 3000.5 }]);
  });

  it('refuses a JSONL file whose first record has a misspelt field', async () => {
    const file = dataFile('typo.jsonl', '{"id": 1, "Gendr": "Male"}\n');
    const error = await pushFailure(file);
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.message).toContain('unknown field "Gendr" (did you mean "Gender"?)');
  });

  it('keeps every row of a table without a key, identical ones included, and adds nothing on a second push', async () => {
    const keyless = parseSchema(
      'name: keyless\nfields:\n  city: { type: string }\n  note: { type: string, nullable: true }\n  score: { type: number }\n',
    );
    const file = dataFile(
      'keyless.csv',
      'city,note,score\nParis,"hello, ""world""",1.5\nLyon,"two\nlines",2\nParis,"hello, ""world""",1.5\n',
    );
    const summary = await pushFile({ file, schema: keyless, store, collection: 'keyless' });
    expect(summary).toMatchObject({ read: 3, inserted: 3, unchanged: 0, rejected: 0 });
    const documents = await collect(store.collection('keyless').find());
    expect(documents).toHaveLength(3);
    expect(
      documents.every(
        (document) => typeof document._id === 'string' && (document._id as string).length === 32,
      ),
    ).toBe(true);
    expect(documents.map((document) => document.note).sort()).toEqual([
      'hello, "world"',
      'hello, "world"',
      'two\nlines',
    ]);
    expect(await pushFile({ file, schema: keyless, store, collection: 'keyless' })).toMatchObject({
      inserted: 0,
      unchanged: 3,
    });
    expect(await collect(store.collection('keyless').find())).toHaveLength(3);
  });

  it('rejects a key given again with other values, naming the first line, under duplicate_keys: fail', async () => {
    const file = dataFile(
      'twice.csv',
      csv(range(1, 20), [row(3, { Age: '77' }), row(15), row(15, { Age: '33' })]),
    );
    const summary = await push(file);
    expect(summary).toMatchObject({
      rejected: 2,
      duplicate_keys: { policy: 'fail', identical: 1, conflicting: 2 },
    });
    const rejects = readRejects(`${file}.rejects.jsonl`);
    expect(rejects.map((r) => [r.line, r.field])).toEqual([
      [22, 'id'],
      [24, 'id'],
    ]);
    expect(rejects[0].reason).toContain('line 4');
    const documents = await collect(store.collection('records').find({ _id: 3 }));
    expect(documents[0].Age).toBe(23);
    expect((await collect(store.collection('records').find())).length).toBe(20);
  });

  it('keeps the last row of a repeated key and reports it under duplicate_keys: warn', async () => {
    const file = dataFile('warned.csv', csv(range(1, 20), [row(3, { Age: '77' })]));
    const summary = await push(file, { duplicateKeys: 'warn' });
    expect(summary.duplicate_keys).toEqual({ policy: 'warn', identical: 0, conflicting: 1 });
    expect(summary.rejected).toBe(0);
    const documents = await collect(store.collection('records').find({ _id: 3 }));
    expect(documents[0].Age).toBe(77);
  });

  it('never merges silently: for any file, every row is stored, rejected as a conflicting repeat, or an identical repeat', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ id: fc.integer({ min: 1, max: 12 }), age: fc.integer({ min: 20, max: 22 }) }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.constantFrom('fail' as const, 'warn' as const),
        async (rows, policy) => {
          const local = EmbeddedStore.open(join(project, '.pipewright', `store-${++counter}.db`));
          try {
            const file = dataFile(
              'any.csv',
              csv(
                [],
                rows.map((r) => row(r.id, { Age: String(r.age) })),
              ),
            );
            const summary = await pushFile({
              file,
              schema,
              store: local,
              collection: 'records',
              batchSize: 5,
              duplicateKeys: policy,
            });
            const first = new Map<number, number>();
            let identical = 0;
            let conflicting = 0;
            for (const r of rows) {
              if (!first.has(r.id)) first.set(r.id, r.age);
              else if (first.get(r.id) === r.age && policy === 'fail') identical++;
              else if (policy === 'fail') conflicting++;
            }
            const stored = await collect(local.collection('records').find());
            expect(stored).toHaveLength(first.size);
            if (policy === 'fail') {
              expect(summary.duplicate_keys).toEqual({ policy, identical, conflicting });
              expect(summary.rejected).toBe(conflicting);
              for (const document of stored) expect(document.Age).toBe(first.get(document._id as number));
            } else {
              const last = new Map(rows.map((r) => [r.id, r.age]));
              for (const document of stored) expect(document.Age).toBe(last.get(document._id as number));
              expect(summary.rejected).toBe(0);
            }
            expect(
              summary.inserted + summary.unchanged + summary.updated + summary.rejected,
            ).toBeGreaterThanOrEqual(rows.length - identical);
          } finally {
            await local.close();
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('reports progress with rows and bytes as it goes', async () => {
    const file = dataFile('progress.csv', csv(range(1, 200)));
    const seen: number[] = [];
    await push(file, {
      batchSize: 10,
      progressIntervalMs: 0,
      onProgress: (progress) => seen.push(progress.rows),
    });
    expect(seen.length).toBe(20);
    expect(seen[seen.length - 1]).toBe(200);
  });
});
