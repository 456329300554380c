// The columnar frame: typed columns, dictionaries, null masks, streaming growth, selection and slicing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  frameFromColumns,
  frameFromRecords,
  frameFromRecordsSync,
  FrameBuilder,
} from '../../src/ml/frame.js';
import type { PipewrightError } from '../../src/core/errors.js';
import { parseSchema } from '../../src/schema/schema.js';
import { customerRecords, customerSchema } from './fixtures.js';

describe('Frame', () => {
  const schema = customerSchema();

  it('stores numbers as Float64Array with NaN and a null mask, booleans as 0/1 and datetimes as epoch ms', () => {
    const frame = frameFromColumns(schema, {
      id: [1, 2, 3],
      age: [30, null, 41],
      income: [1.5, 2.5, null],
      active: [true, false, null],
      joined: ['2024-01-01T00:00:00.000Z', null, '2024-01-02T00:00:00.000Z'],
      churned: [0, 1, 0],
    });
    const age = frame.numeric('age');
    expect(age.values).toBeInstanceOf(Float64Array);
    expect(Array.from(age.values)).toEqual([30, NaN, 41]);
    expect(Array.from(age.nulls)).toEqual([0, 1, 0]);
    expect(age.nullCount).toBe(1);
    expect(Array.from(frame.numeric('active').values)).toEqual([1, 0, NaN]);
    expect(frame.numeric('joined').values[1]).toBeNaN();
    expect(frame.numeric('joined').values[2]).toBe(Date.UTC(2024, 0, 2));
    expect(frame.value('joined', 0)).toBe('2024-01-01T00:00:00.000Z');
    expect(frame.value('active', 1)).toBe(false);
  });

  it('dictionary-encodes categories in the schema order and strings in order of appearance, with -1 for null', () => {
    const frame = frameFromColumns(schema, {
      id: [1, 2, 3, 4],
      plan: ['premium', null, 'basic', 'premium'],
      city: ['Riga', 'Oslo', null, 'Riga'],
      churned: [0, 1, 0, 1],
    });
    const plan = frame.category('plan');
    expect(plan.dictionary).toEqual(['basic', 'plus', 'premium']);
    expect(Array.from(plan.codes)).toEqual([2, -1, 0, 2]);
    const city = frame.category('city');
    expect(city.dictionary).toEqual(['Riga', 'Oslo']);
    expect(Array.from(city.codes)).toEqual([0, 1, -1, 0]);
    expect(city.nullCount).toBe(1);
  });

  it('keeps the key values for row identity and the target as class indices; ignored fields are not stored', () => {
    const frame = frameFromRecordsSync(schema, customerRecords(5));
    expect(frame.keys).toEqual([1, 2, 3, 4, 5]);
    expect(frame.target).toBeInstanceOf(Float64Array);
    expect(frame.columnNames).toEqual(['age', 'income', 'plan', 'city', 'active', 'joined']);
    expect(frame.hasColumn('note')).toBe(false);
  });

  it('builds the same frame from an async stream as from a list, growing past its initial capacity', async () => {
    const records = customerRecords(3000, 5);
    async function* stream() {
      for (const record of records) yield record;
    }
    const fromStream = await frameFromRecords(schema, stream(), { capacity: 16 });
    const fromList = frameFromRecordsSync(schema, records);
    expect(fromStream.rows).toBe(3000);
    expect(Array.from(fromStream.numeric('income').values)).toEqual(
      Array.from(fromList.numeric('income').values),
    );
    expect(Array.from(fromStream.category('city').codes)).toEqual(
      Array.from(fromList.category('city').codes),
    );
    expect(Array.from(fromStream.target!)).toEqual(Array.from(fromList.target!));
    expect(fromStream.numeric('income').values.length).toBe(3000);
  });

  it('joins the chunks a column grew by into the frame an exactly sized builder makes', () => {
    const pool = customerRecords(2500, 8, 0.2);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2500 }), fc.integer({ min: 1, max: 300 }), (rows, capacity) => {
        const records = pool.slice(0, rows);
        const chunked = new FrameBuilder(schema, capacity);
        const exact = new FrameBuilder(schema, rows);
        for (const record of records) {
          chunked.push(record);
          exact.push(record);
        }
        const [got, want] = [chunked.finish(), exact.finish()];
        expect(got.rows).toBe(rows);
        for (const name of ['age', 'income', 'active', 'joined']) {
          const [a, b] = [got.numeric(name), want.numeric(name)];
          expect(a.values.length).toBe(rows);
          expect(a.nulls.length).toBe(rows);
          expect(a.values).toEqual(b.values);
          expect(a.nulls).toEqual(b.nulls);
          expect(a.nullCount).toBe(b.nullCount);
        }
        for (const name of ['plan', 'city']) {
          expect(got.category(name).codes).toEqual(want.category(name).codes);
          expect(got.category(name).codes.length).toBe(rows);
          expect(got.category(name).dictionary).toEqual(want.category(name).dictionary);
        }
        expect(got.target).toEqual(want.target);
        expect(got.keys).toEqual(want.keys);
      }),
      { numRuns: 60 },
    );
  });

  it('keeps every row of a column that grew past the largest chunk', () => {
    // 2^21 + 3 rows from a builder that starts at one row: chunks double up to 2^20 rows, then stay there
    const small = parseSchema(`
name: wide
fields:
  x: { type: number, nullable: true }
  y: { type: integer, role: target, values: [0, 1] }
`);
    const rows = (1 << 21) + 3;
    const builder = new FrameBuilder(small, 1);
    const record = { x: 0 as number | null, y: 0 };
    for (let i = 0; i < rows; i++) {
      record.x = i % 1001 === 0 ? null : i;
      record.y = i & 1;
      builder.push(record);
    }
    const frame = builder.finish();
    const x = frame.numeric('x');
    expect(x.values.length).toBe(rows);
    let wrong = 0;
    for (let i = 0; i < rows; i++) {
      const missing = i % 1001 === 0;
      if (missing ? x.nulls[i] !== 1 || !Number.isNaN(x.values[i]) : x.nulls[i] !== 0 || x.values[i] !== i)
        wrong++;
      if (frame.target![i] !== (i & 1)) wrong++;
    }
    expect(wrong).toBe(0);
    expect(x.nullCount).toBe(Math.floor((rows - 1) / 1001) + 1);
  });

  it('keeps a single chunk at least half full as a view, and copies one mostly empty to its rows', () => {
    const small = parseSchema(`
name: sized
fields:
  x: { type: number }
  y: { type: integer, role: target, values: [0, 1] }
`);
    const built = (capacity: number, rows: number) => {
      const builder = new FrameBuilder(small, capacity);
      for (let i = 0; i < rows; i++) builder.push({ x: i / 2, y: i & 1 });
      return builder.finish();
    };
    // sized from an estimate a little above the rows read: the column is the builder's buffer
    const near = built(1000, 990);
    expect(near.numeric('x').values.length).toBe(990);
    expect(near.numeric('x').values.buffer.byteLength).toBe(1000 * 8);
    expect(near.target!.buffer.byteLength).toBe(1000 * 8);
    // an estimate far above them: a tight copy, so the frame does not pin the unused end
    const far = built(1000, 400);
    expect(far.numeric('x').values.buffer.byteLength).toBe(400 * 8);
    expect(far.target!.buffer.byteLength).toBe(400 * 8);
    expect(Array.from(far.numeric('x').values.subarray(398))).toEqual([199, 199.5]);
    expect(Array.from(near.numeric('x').values.subarray(988))).toEqual([494, 494.5]);
  });

  it('round-trips a row back to the typed record it came from', () => {
    const records = customerRecords(20, 9, 0.3);
    const frame = frameFromRecordsSync(schema, records);
    for (let row = 0; row < records.length; row++) {
      const { note: _note, churned: _churned, ...inputs } = records[row];
      expect(frame.record(row)).toEqual(inputs);
    }
  });

  it('selects rows by index (sharing dictionaries) and slices rows as views without copying', () => {
    const frame = frameFromRecordsSync(schema, customerRecords(50, 2));
    const selected = frame.selectRows(Int32Array.from([10, 3, 3]));
    expect(selected.rows).toBe(3);
    expect(selected.keys).toEqual([11, 4, 4]);
    expect(selected.value('income', 0)).toBe(frame.value('income', 10));
    expect(selected.category('plan').dictionary).toBe(frame.category('plan').dictionary);
    const slice = frame.sliceRows(5, 15);
    expect(slice.rows).toBe(10);
    expect(slice.numeric('income').values.buffer).toBe(frame.numeric('income').values.buffer);
    expect(slice.value('age', 0)).toBe(frame.value('age', 5));
    expect(Array.from(slice.target!)).toEqual(Array.from(frame.target!.subarray(5, 15)));
  });

  it('refuses a target that is not one of the classes, naming the row, field and classes', () => {
    const builder = new FrameBuilder(schema, 4, 'collection customers');
    builder.push({ id: 1, churned: 0 });
    let error: PipewrightError | undefined;
    try {
      builder.push({ id: 2, churned: 7 });
    } catch (caught) {
      error = caught as PipewrightError;
    }
    expect(error?.code).toBe('PW_ROW_INVALID');
    expect(error?.message).toContain('Row 2 of collection customers');
    expect(error?.message).toContain('churned');
    expect(error?.message).toContain('0, 1');
  });
});
