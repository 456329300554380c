// Schema inference, one rule at a time: types, missing values, ranges and categories, the key, the
// target's task, and the leakage and identifier warnings.
import { describe, expect, it } from 'vitest';
import { PipewrightError } from '../../src/core/errors.js';
import {
  INFER_MISSING_VALUES,
  isIdLikeName,
  schemaDefinition,
  SchemaInferrer,
  type InferOptions,
  type InferredSchema,
} from '../../src/schema/infer/index.js';
import { buildSchema, DEFAULT_MISSING_VALUES } from '../../src/schema/schema.js';

type Cell = string | number | boolean | null | undefined | object;

/** Infers from rows given as columns of equal length. */
function infer(columns: Record<string, Cell[]>, options: InferOptions = {}): InferredSchema {
  const names = Object.keys(columns);
  const rows = columns[names[0]].length;
  const inferrer = new SchemaInferrer(names, options);
  for (let i = 0; i < rows; i++) {
    const record: Record<string, unknown> = {};
    for (const name of names) if (columns[name][i] !== undefined) record[name] = columns[name][i];
    inferrer.add(record, i + 2);
  }
  return inferrer.finish();
}

function field(inferred: InferredSchema, name: string) {
  const found = inferred.fields.find((f) => f.name === name);
  if (!found) throw new Error(`no field ${name}`);
  return found;
}

function range(n: number, f: (i: number) => Cell): Cell[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

function inferError(columns: Record<string, Cell[]>, options: InferOptions): PipewrightError {
  try {
    infer(columns, options);
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected inference to refuse');
}

/** A feature with no opinions, so that a table always has something to learn from. */
const filler = (n: number) => range(n, (i) => (i % 2 ? 'p' : 'q'));

describe('column types', () => {
  it('reads whole numbers as integer with the observed min and max', () => {
    const f = field(infer({ age: ['34', '51', '-2', '18'] }), 'age');
    expect(f).toMatchObject({ type: 'integer', min: -2, max: 51, nullable: false, role: 'feature' });
  });

  it('reads decimals (and exponents) as number with the observed range', () => {
    const f = field(infer({ weight: ['1.5', '2', '1e3', '-0.25'] }), 'weight');
    expect(f).toMatchObject({ type: 'number', min: -0.25, max: 1000 });
  });

  it('reads whole numbers written with a decimal point (3.0) as number, not integer', () => {
    expect(field(infer({ x: ['3.0', '4.0', '5.0', '6'] }), 'x').type).toBe('number');
  });

  it('keeps numbers with leading zeros as text, since they are codes', () => {
    const f = field(infer({ zip: range(40, (i) => ['007', '012', '345'][i % 3]) }), 'zip');
    expect(f.type).toBe('category');
    expect(f.values).toEqual(['007', '012', '345']);
    expect(f.notes.join(' ')).toMatch(/leading zeros/);
  });

  it('reads true/false in any case, and JSON booleans, as boolean', () => {
    expect(field(infer({ flag: ['true', 'False', 'TRUE', 'false'] }), 'flag').type).toBe('boolean');
    expect(field(infer({ flag: [true, false, true, true] }), 'flag').type).toBe('boolean');
  });

  it('keeps yes/no as a category of its two words rather than a boolean', () => {
    const f = field(infer({ smoker: range(20, (i) => (i % 3 ? 'Yes' : 'No')) }), 'smoker');
    expect(f).toMatchObject({ type: 'category', values: ['No', 'Yes'] });
  });

  it('makes text with few distinct values relative to the rows a category, values sorted', () => {
    const f = field(infer({ colour: range(30, (i) => ['red', 'green', 'blue'][i % 3]) }), 'colour');
    expect(f).toMatchObject({ type: 'category', values: ['blue', 'green', 'red'] });
  });

  it('makes text with more than half its rows distinct a string, ignored as free text', () => {
    const f = field(infer({ comment: range(30, (i) => `note ${i % 20}`), x: filler(30) }), 'comment');
    expect(f).toMatchObject({ type: 'string', role: 'ignore' });
  });

  it('makes text with more distinct values than a category allows, but repeating, a string feature', () => {
    const f = field(infer({ city: range(400, (i) => `city ${i % 150}`) }), 'city');
    expect(f).toMatchObject({ type: 'string', role: 'feature' });
    expect(f.values).toBeUndefined();
  });

  it('honours maxCategories', () => {
    const columns = { size: range(100, (i) => `s${i % 10}`) };
    expect(field(infer(columns), 'size').type).toBe('category');
    expect(field(infer(columns, { maxCategories: 5 }), 'size').type).toBe('string');
  });

  it('reads ISO 8601 dates and date-times as datetime, with no min or max (new rows come later)', () => {
    const f = field(
      infer({
        at: ['2024-05-01', '2024-05-02T10:00:00Z', '2024-06-01 12:30:00', '2023-12-31T23:59:59.5+02:00'],
      }),
      'at',
    );
    expect(f.type).toBe('datetime');
    expect(f.min).toBeUndefined();
    expect(f.max).toBeUndefined();
    expect(f.notes.join(' ')).toMatch(/from 2023-12-31 to 2024-06-01/);
  });

  it('reads month-first slash dates and written-out months as datetime', () => {
    expect(field(infer({ d: ['05/01/2024', '12/31/2023', '01/15/2024'] }), 'd').type).toBe('datetime');
    expect(field(infer({ d: ['May 1, 2024', '1 June 2024', 'Dec 31 2023'] }), 'd').type).toBe('datetime');
    expect(field(infer({ d: ['2024/05/01', '2023/12/31'] }), 'd').type).toBe('datetime');
  });

  it('reads day-first slash dates as datetime with the format the data settle', () => {
    const inferred = infer({ d: range(20, (i) => `${13 + (i % 5)}/0${1 + (i % 5)}/2024`), x: filler(20) });
    expect(field(inferred, 'd')).toMatchObject({ type: 'datetime', format: 'DD/MM/YYYY' });
    expect(inferred.warnings.join('\n')).not.toMatch(/d: /);
  });

  it('proposes a format for dates with times, and warns when no part above 12 settles the order', () => {
    const settled = infer({ d: range(20, (i) => `0${1 + (i % 9)}.${13 + (i % 5)}.2024 1${i % 10}:30`) });
    expect(field(settled, 'd')).toMatchObject({ type: 'datetime', format: 'MM.DD.YYYY HH:mm' });
    const open = infer({ d: range(20, (i) => `0${1 + (i % 9)}/0${1 + (i % 5)}/2024`), x: filler(20) });
    expect(field(open, 'd')).toMatchObject({ type: 'datetime', format: 'MM/DD/YYYY' });
    expect(open.warnings.join('\n')).toMatch(/d: no day or month above 12 settles/);
  });

  it('keeps dates written both day first and month first as text, and warns', () => {
    const inferred = infer({
      d: range(20, (i) => (i % 2 ? `${13 + (i % 5)}/01/2024` : `01/${13 + (i % 5)}/2024`)),
      x: filler(20),
    });
    expect(field(inferred, 'd').type).not.toBe('datetime');
    expect(inferred.warnings.join('\n')).toMatch(/d: holds dates written both day first and month first/);
  });

  it('falls back to text when numbers and words mix', () => {
    expect(field(infer({ grade: range(30, (i) => (i % 4 ? String(i % 3) : 'n/a')) }), 'grade').type).toBe(
      'category',
    );
  });

  it('ignores a column whose every value is missing, as nullable', () => {
    const f = field(infer({ empty: ['', 'NA', '', ''], x: filler(4) }), 'empty');
    expect(f).toMatchObject({ role: 'ignore', nullable: true });
  });

  it('ignores nested JSON values with a warning', () => {
    const inferred = infer({ tags: [{ a: 1 }, ['x'], { b: 2 }], x: filler(3) });
    expect(field(inferred, 'tags').role).toBe('ignore');
    expect(inferred.warnings.join('\n')).toMatch(/tags: holds nested JSON/);
  });

  it('reads JSON numbers by value: whole ones as integer, others as number', () => {
    const inferred = infer({ a: [1, 2, 3], b: [1.5, 2, 3] });
    expect(field(inferred, 'a').type).toBe('integer');
    expect(field(inferred, 'b').type).toBe('number');
  });
});

describe('missing values', () => {
  it.each(['', 'NA', 'N/A', '?', 'null', 'None', 'NaN', 'NULL'])(
    'reads %j as missing: the field is nullable and keeps its type',
    (marker) => {
      const f = field(infer({ x: ['1', marker, '3', '4'] }), 'x');
      expect(f).toMatchObject({ type: 'integer', nullable: true, min: 1, max: 4 });
      expect(f.summary.missing).toBe(1);
    },
  );

  it('reads JSON null and a field absent from a record as missing', () => {
    const f = field(infer({ x: [1, null, undefined, 4] }), 'x');
    expect(f).toMatchObject({ nullable: true });
    expect(f.summary.missing).toBe(2);
  });

  it('lists the missing values in the schema when the file uses ?, which the defaults lack', () => {
    const inferred = infer({ x: ['1', '?', '3'] });
    expect(inferred.missingValues).toEqual(INFER_MISSING_VALUES);
    expect(inferred.missingValues).toContain('?');
    expect(inferred.markersSeen).toEqual(['?']);
  });

  it('writes no missing_values when only the default markers appear', () => {
    expect(infer({ x: ['1', '', 'NA', '4'] }).missingValues).toBeUndefined();
  });

  it('uses a configured list: its markers are missing, others are values, and the list is written', () => {
    const inferred = infer(
      { x: ['1', '-', '3', '4'], region: range(4, (i) => (i % 2 ? 'NA' : 'EU')) },
      { missingValues: ['', '-'] },
    );
    expect(field(inferred, 'x')).toMatchObject({ type: 'integer', nullable: true });
    expect(field(inferred, 'region')).toMatchObject({
      type: 'category',
      nullable: false,
      values: ['EU', 'NA'],
    });
    expect(inferred.missingValues).toEqual(['', '-']);
  });

  it('writes no list when the configured one is the default list', () => {
    expect(
      infer({ x: ['1', '', '3'] }, { missingValues: [...DEFAULT_MISSING_VALUES] }).missingValues,
    ).toBeUndefined();
  });
});

describe('the key', () => {
  it('prefers a unique column with an identifier-like name', () => {
    const inferred = infer({
      n: range(10, (i) => i + 1),
      name: range(10, (i) => `n${i}`),
      customer_id: range(10, (i) => 100 + i * 3),
      x: filler(10),
    });
    expect(inferred.key).toBe('customer_id');
    expect(field(inferred, 'customer_id')).toMatchObject({ role: 'key', type: 'integer' });
    expect(field(inferred, 'customer_id').min).toBeUndefined();
    expect(inferred.keyNote).toMatch(/reads as an identifier/);
  });

  it('takes a column numbering the rows 1..n when no name reads as an identifier', () => {
    const inferred = infer({ n: range(10, (i) => 10 - i), x: filler(10) });
    expect(inferred.key).toBe('n');
    expect(inferred.keyNote).toMatch(/numbers the rows/);
  });

  it('takes a unique text column when nothing better exists', () => {
    expect(infer({ state: range(12, (i) => `state ${i}`), x: filler(12) }).key).toBe('state');
  });

  it('does not take unique long text (free text such as comments) as the key', () => {
    const inferred = infer({
      review: range(12, (i) => `${'a long review that goes on and on '.repeat(3)}${i}`),
      x: filler(12),
    });
    expect(inferred.key).toBeUndefined();
    expect(field(inferred, 'review').role).toBe('ignore');
  });

  it('does not take a unique measurement (whole numbers that do not number the rows) as the key', () => {
    const inferred = infer({ population: range(10, (i) => 1000 + i * i * 37), x: filler(10) });
    expect(inferred.key).toBeUndefined();
    expect(field(inferred, 'population').role).toBe('feature');
  });

  it('proposes no key when identifier columns repeat or miss values, and says rows are keyed by content', () => {
    const inferred = infer({
      id: ['1', '2', '2', '4'],
      other_id: ['1', '', '', '4'],
      x: ['a', 'b', 'b', 'd'],
    });
    expect(inferred.key).toBeUndefined();
    expect(inferred.keyNote).toMatch(/hash of its values/);
    expect(inferred.duplicateRows).toBe(1);
    expect(inferred.warnings.join('\n')).toMatch(/1 row repeats an earlier row exactly/);
  });

  it('accepts a key given as an option', () => {
    const inferred = infer(
      { code: range(5, (i) => `c${i}`), n: range(5, (i) => i + 1), x: filler(5) },
      { key: 'code' },
    );
    expect(inferred.key).toBe('code');
    expect(field(inferred, 'n').role).toBe('ignore'); // numbers the rows, and is not the key
  });

  it('refuses a key that repeats, naming the option (not a flag), the value and both lines', () => {
    const error = inferError({ id: ['1', '2', '1'], x: ['a', 'b', 'c'] }, { key: 'id' });
    expect(error.code).toBe('PW_USAGE');
    expect(error.details).toEqual({ option: 'key', value: 'id' });
    expect(error.message).toBe('key id: the value "1" appears on lines 2 and 4');
    expect(`${error.message} ${error.hint}`).not.toMatch(/--/);
  });

  it('refuses a key with a missing value, naming the line', () => {
    expect(inferError({ id: ['1', '', '3'], x: ['a', 'b', 'c'] }, { key: 'id' }).message).toMatch(
      /^key id: the value is missing on line 3/,
    );
  });

  it('refuses a key of numbers with decimals', () => {
    expect(inferError({ id: ['1.5', '2.5', '3.5'], x: ['a', 'b', 'c'] }, { key: 'id' }).message).toMatch(
      /numbers with decimals/,
    );
  });

  it('refuses a key or target the file does not have, suggesting the nearest column', () => {
    const error = inferError({ customer: ['a'], x: ['1'] }, { target: 'custome' });
    expect(error.details).toEqual({ option: 'target', value: 'custome' });
    expect(error.message).toMatch(/^target custome: the file has no column "custome"/);
    expect(error.hint).toMatch(/Did you mean "customer"/);
  });
});

describe("the target's task", () => {
  it('makes two text classes binary, the rarer (positive) second being the predicted probability, with rows per class', () => {
    const inferred = infer(
      { x: filler(30), churn: range(30, (i) => (i % 3 ? 'stayed' : 'left')) },
      { target: 'churn' },
    );
    expect(inferred.task).toBe('binary');
    expect(field(inferred, 'churn')).toMatchObject({
      type: 'category',
      role: 'target',
      values: ['stayed', 'left'],
    });
    expect(inferred.classes).toEqual([
      { label: 'stayed', count: 20 },
      { label: 'left', count: 10 },
    ]);
    expect(inferred.taskNote).toMatch(/probability of "left" \(the second value: the rarer class\)/);
  });

  it('warns about classes with fewer than five rows', () => {
    const inferred = infer(
      { x: filler(40), kind: range(40, (i) => (i < 3 ? 'rare' : ['a', 'b'][i % 2])) },
      { target: 'kind' },
    );
    expect(inferred.warnings.join('\n')).toMatch(
      /kind: class "rare" has 3 rows: too few to learn from and to test on/,
    );
  });

  it('makes three text classes or more multiclass', () => {
    const inferred = infer(
      { x: filler(30), kind: range(30, (i) => ['a', 'b', 'c'][i % 3]) },
      { target: 'kind' },
    );
    expect(inferred.task).toBe('multiclass');
  });

  it('makes whole numbers 0/1 binary, as integer classes', () => {
    const inferred = infer({ x: filler(20), y: range(20, (i) => String(i % 2)) }, { target: 'y' });
    expect(inferred.task).toBe('binary');
    expect(field(inferred, 'y')).toMatchObject({ type: 'integer', values: [0, 1] });
    expect(field(inferred, 'y').min).toBeUndefined();
  });

  it('makes a few whole numbers multiclass and many of them regression', () => {
    const few = infer({ x: filler(200), y: range(200, (i) => String(i % 5)) }, { target: 'y' });
    expect(few.task).toBe('multiclass');
    expect(field(few, 'y').values).toEqual([0, 1, 2, 3, 4]);
    const many = infer({ x: filler(200), y: range(200, (i) => String(i % 40)) }, { target: 'y' });
    expect(many.task).toBe('regression');
    expect(field(many, 'y')).toMatchObject({ type: 'integer', min: 0, max: 39 });
    expect(many.taskNote).toMatch(/pass --task multiclass/);
  });

  it('limits classes to 5% of the rows for a whole-number target', () => {
    // 8 distinct values in 100 rows: more than 5 classes, so a quantity.
    expect(infer({ x: filler(100), y: range(100, (i) => String(i % 8)) }, { target: 'y' }).task).toBe(
      'regression',
    );
  });

  it('makes numbers with decimals regression, with the observed range', () => {
    const inferred = infer(
      { x: filler(10), price: range(10, (i) => String(i * 1.5 + 0.25)) },
      { target: 'price' },
    );
    expect(inferred.task).toBe('regression');
    expect(field(inferred, 'price')).toMatchObject({ type: 'number', min: 0.25, max: 13.75 });
  });

  it('reads a class column written 1.0/0.0 as whole-number classes', () => {
    const inferred = infer({ x: filler(20), y: range(20, (i) => (i % 2 ? '1.0' : '0')) }, { target: 'y' });
    expect(inferred.task).toBe('binary');
    expect(field(inferred, 'y')).toMatchObject({ type: 'integer', values: [0, 1] });
    expect(inferred.classes).toEqual([
      { label: 0, count: 10 },
      { label: 1, count: 10 },
    ]);
  });

  it('makes a true/false target binary as a boolean', () => {
    const inferred = infer(
      { x: filler(10), bought: range(10, (i) => (i % 2 ? 'true' : 'false')) },
      { target: 'bought' },
    );
    expect(inferred.task).toBe('binary');
    expect(field(inferred, 'bought').type).toBe('boolean');
  });

  it('keeps the target not nullable and warns that rows without it are rejected', () => {
    const inferred = infer(
      { x: filler(10), y: ['a', 'b', '', 'a', 'b', 'a', 'b', 'a', 'b', 'a'] },
      { target: 'y' },
    );
    expect(field(inferred, 'y').nullable).toBe(false);
    expect(inferred.warnings.join('\n')).toMatch(
      /y: 1 row \(10%, the first on line 4\) have no target value; push rejects them/,
    );
  });

  it('follows the task asked for, and refuses a task the values cannot make', () => {
    const columns = { x: filler(200), y: range(200, (i) => String(i % 3)) };
    expect(infer(columns, { target: 'y', task: 'regression' }).task).toBe('regression');
    const binary = inferError(columns, { target: 'y', task: 'binary' });
    expect(binary.details).toEqual({ option: 'target', value: 'y' });
    expect(binary.message).toMatch(/binary task needs two classes; the column has 3/);
    expect(`${binary.message} ${binary.hint}`).not.toMatch(/--/);
    expect(
      inferError({ x: filler(10), y: range(10, (i) => String(i % 2)) }, { target: 'y', task: 'multiclass' })
        .message,
    ).toMatch(/needs three classes/);
    expect(
      inferError(
        { x: filler(10), y: range(10, (i) => ['a', 'b'][i % 2]) },
        { target: 'y', task: 'regression' },
      ).message,
    ).toMatch(/text, which cannot be a regression target/);
    expect(
      inferError({ x: filler(10), y: range(10, (i) => String(i + 0.5)) }, { target: 'y', task: 'multiclass' })
        .message,
    ).toMatch(/numbers with decimals/);
  });

  it('refuses a target with a single value, dates, or too many text values', () => {
    expect(inferError({ x: filler(5), y: ['a', 'a', 'a', 'a', 'a'] }, { target: 'y' }).message).toMatch(
      /holds a single value/,
    );
    expect(
      inferError({ x: filler(3), y: ['2024-01-01', '2024-01-02', '2024-01-03'] }, { target: 'y' }).message,
    ).toMatch(/dates, which cannot be predicted/);
    expect(
      inferError({ x: filler(300), y: range(300, (i) => `w${i % 150}`) }, { target: 'y' }).message,
    ).toMatch(/too many to be classes/);
  });

  it('has no task without a target', () => {
    const inferred = infer({ x: filler(5), y: ['a', 'b', 'a', 'b', 'a'] });
    expect(inferred.task).toBeUndefined();
    expect(inferred.fields.every((f) => f.role !== 'target')).toBe(true);
  });
});

describe('leakage and identifiers', () => {
  it('ignores a feature equal to the target, with a warning', () => {
    const label = range(50, (i) => (i % 3 ? 'yes' : 'no'));
    const inferred = infer({ x: filler(50), label_copy: label, label }, { target: 'label' });
    expect(field(inferred, 'label_copy').role).toBe('ignore');
    expect(inferred.warnings.join('\n')).toMatch(
      /label_copy: equals the target label in 100% of rows: likely leakage/,
    );
  });

  it('warns about a feature whose few values each go with one class, and keeps it', () => {
    const status = range(60, (i) => ['closed', 'open', 'closed-won'][i % 3]);
    const inferred = infer(
      { x: filler(60), status, won: range(60, (i) => (i % 3 === 2 ? 'yes' : 'no')) },
      { target: 'won' },
    );
    expect(field(inferred, 'status').role).toBe('feature');
    expect(inferred.warnings.join('\n')).toMatch(/status: determines the target won in 100% of rows/);
  });

  it('does not warn about a feature that predicts the target only in part', () => {
    const inferred = infer(
      {
        x: filler(60),
        group: range(60, (i) => `g${i % 3}`),
        y: range(60, (i) => ((i % 3) + (i % 4 === 0 ? 1 : 0) > 1 ? 'a' : 'b')),
      },
      { target: 'y' },
    );
    expect(inferred.warnings.join('\n')).not.toMatch(/group/);
  });

  it('warns about a regression feature almost proportional to the target', () => {
    const price = range(50, (i) => (i * 3.7) % 41);
    const inferred = infer(
      {
        x: filler(50),
        price_with_tax: price.map((p) => String((p as number) * 1.2 + 0.001 * Math.sin(p as number))),
        price: price.map(String),
      },
      { target: 'price' },
    );
    expect(inferred.warnings.join('\n')).toMatch(
      /price_with_tax: is almost a copy of the target price \(correlation 1\.000\)/,
    );
    expect(field(inferred, 'price_with_tax').role).toBe('feature');
  });

  it('measures that correlation without losing precision on large values', () => {
    const target = Array.from({ length: 40 }, (_, i) => 1e12 + ((i * 17) % 23) * 1000);
    const inferred = infer(
      { x: filler(40), shifted: target.map((t) => String(t + 5)), target: target.map(String) },
      { target: 'target' },
    );
    expect(inferred.warnings.join('\n')).toMatch(
      /shifted: is almost a copy of the target target \(correlation 1\.000\)/,
    );
  });

  it('ignores a unique identifier that is not the key, and warns', () => {
    const inferred = infer({
      id: range(20, (i) => i + 1),
      order_number: range(20, (i) => 1000 + i * 17),
      x: filler(20),
    });
    expect(inferred.key).toBe('id');
    expect(field(inferred, 'order_number').role).toBe('ignore');
    expect(inferred.warnings.join('\n')).toMatch(
      /order_number: looks like an identifier \(every value different\): ignored/,
    );
  });

  it('ignores a second column numbering the rows, and warns', () => {
    const inferred = infer(
      { id: range(20, (i) => `r${i}`), position: range(20, (i) => i), x: filler(20) },
      { key: 'id' },
    );
    expect(field(inferred, 'position').role).toBe('ignore');
    expect(inferred.warnings.join('\n')).toMatch(/position: numbers the rows/);
  });

  it('warns about an identifier that repeats and so stays a feature', () => {
    const inferred = infer({ customerId: range(40, (i) => String(i % 10)), x: filler(40) });
    expect(field(inferred, 'customerId').role).toBe('feature');
    expect(inferred.warnings.join('\n')).toMatch(
      /customerId: looks like an identifier but is learned from as a feature/,
    );
  });

  it('recognises identifier-like names, and not words that merely end in "id"', () => {
    for (const name of [
      'id',
      'ID',
      'Id',
      'customer_id',
      'userId',
      'order-no',
      'row_number',
      'uuid',
      'record_key',
    ])
      expect(isIdLikeName(name), name).toBe(true);
    for (const name of ['paid', 'valid', 'PID', 'Driving_License', 'idea', 'width'])
      expect(isIdLikeName(name), name).toBe(false);
  });
});

describe('the schema definition', () => {
  it('builds a valid contract: key, target, features, task, missing values and ranges', () => {
    const inferred = infer(
      {
        id: range(40, (i) => i + 1),
        size: range(40, (i) => ['S', 'M', 'L'][i % 3]),
        weight: range(40, (i) => (i % 9 ? String(i / 3) : '?')),
        ok: range(40, (i) => String(i % 2)),
      },
      { target: 'ok' },
    );
    const schema = buildSchema(schemaDefinition(inferred, { name: 'shop' }));
    expect(schema.key?.name).toBe('id');
    expect(schema.target?.name).toBe('ok');
    expect(schema.task).toBe('binary');
    expect(schema.features.map((f) => f.name)).toEqual(['size', 'weight']);
    expect(schema.missingValues).toContain('?');
    const weight = schema.fields.find((f) => f.name === 'weight')!;
    expect(weight.nullable).toBe(true);
    expect(weight.min).toBeUndefined();
    expect(schema.fields.find((f) => f.name === 'size')).toMatchObject({ nullable: true, type: 'category' });
    expect(schema.fields.find((f) => f.name === 'size')!.values).toBeUndefined();
    expect(schemaDefinition(inferred, { name: 'shop' }).fields.weight.observed).toMatchObject({
      missing: 5,
      min: 1 / 3,
    });
  });

  it('refuses a file with a header and no rows', () => {
    const inferrer = new SchemaInferrer(['a', 'b']);
    expect(() => inferrer.finish()).toThrow(/no rows/);
  });

  it('names the unreadable line, not an empty file, when no row after the header could be read', () => {
    const inferrer = new SchemaInferrer(['a', 'b']);
    inferrer.addUnreadable(2, 'a quoted field opened on line 2 is never closed');
    let failure: unknown;
    try {
      inferrer.finish('data/table.csv');
    } catch (error) {
      failure = error;
    }
    expect(failure).toMatchObject({ code: 'PW_FILE_INVALID', where: 'data/table.csv:2' });
  });

  it('refuses a file that leaves nothing to learn from', () => {
    const error = (() => {
      try {
        infer({ id: ['1', '2', '3'], y: ['a', 'b', 'a'] }, { target: 'y' });
      } catch (caught) {
        return caught as PipewrightError;
      }
      throw new Error('expected a refusal');
    })();
    expect(error.message).toMatch(/No column is left to learn from/);
  });
});
