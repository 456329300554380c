// Scalers, imputers and encoders (against scikit-learn's numbers where they apply) and the config-driven
// Preprocessor: training rows only, unseen and missing values, one record equals the batch, JSON round trip.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import type { PipewrightError } from '../../src/core/errors.js';
import { frameFromColumns, frameFromRecordsSync } from '../../src/ml/frame.js';
import { quantileOf, quantileOfSorted } from '../../src/ml/transform/column.js';
import { OneHotEncoder, OrdinalEncoder } from '../../src/ml/transform/encoders.js';
import { CategoryImputer, NumericImputer } from '../../src/ml/transform/imputers.js';
import { Preprocessor } from '../../src/ml/transform/preprocessor.js';
import {
  MinMaxScaler,
  RobustScaler,
  StandardScaler,
  scalerFromJSON,
} from '../../src/ml/transform/scalers.js';
import { customerRecords, customerSchema } from './fixtures.js';

const column = Float64Array.from([4, 1, NaN, 10, 7, 2, 2, 30]);

function preprocessSection(yaml: string) {
  return parseConfig(`project: t\n${yaml}`).preprocess;
}

describe('scalers and imputers', () => {
  it('match scikit-learn StandardScaler, MinMaxScaler and RobustScaler fitted with a NaN (value 5 transformed)', () => {
    // StandardScaler().fit(x).transform([[5]]) etc. on x = [4, 1, nan, 10, 7, 2, 2, 30]
    expect(new StandardScaler().fit(column).apply(5)).toBeCloseTo(-0.3172364695866204, 12);
    expect(new MinMaxScaler().fit(column).apply(5)).toBeCloseTo(0.13793103448275862, 12);
    expect(new RobustScaler().fit(column).apply(5)).toBeCloseTo(0.15384615384615385, 12);
    expect(new StandardScaler().fit(column).apply(NaN)).toBeNaN();
  });

  it('match scikit-learn SimpleImputer statistics for mean, median and most_frequent', () => {
    expect(new NumericImputer('mean').fit(column).fillValue).toBe(8);
    expect(new NumericImputer('median').fit(column).fillValue).toBe(4);
    expect(new NumericImputer('most_frequent').fit(column).fillValue).toBe(2);
    expect(new NumericImputer('constant', -1).fit(column).apply(NaN)).toBe(-1);
  });

  it('learn only from the rows they are given', () => {
    const rows = Int32Array.from([0, 1, 3]);
    expect(new NumericImputer('mean').fit(column, rows).fillValue).toBe(5);
    const scaler = new MinMaxScaler().fit(column, rows);
    expect([scaler.center, scaler.scale]).toEqual([1, 9]);
  });

  it('leave a constant column unscaled and round-trip through JSON exactly', () => {
    const constant = new StandardScaler().fit(Float64Array.from([3, 3, 3]));
    expect(constant.apply(4)).toBe(1);
    const scaler = new RobustScaler().fit(column);
    const copy = scalerFromJSON(JSON.parse(JSON.stringify(scaler.toJSON())));
    expect(copy.apply(12.345)).toBe(scaler.apply(12.345));
  });

  it('impute a missing category with the most frequent one', () => {
    const imputer = new CategoryImputer('most_frequent').fit({
      categories: ['a', 'b', 'c'],
      counts: [3, 9, 9],
    });
    expect(imputer.apply(null)).toBe('b');
    expect(imputer.apply('c')).toBe('c');
  });
});

describe('encoders', () => {
  it('one-hot encode, with all zeros for an unseen category and a dropped first column when asked', () => {
    const encoder = new OneHotEncoder().fit(['red', 'green', 'blue']);
    expect(encoder.outputNames('colour')).toEqual(['colour=red', 'colour=green', 'colour=blue']);
    const [red, green, blue] = encoder.transform(['green', 'purple', null, 'red']);
    expect([Array.from(red), Array.from(green), Array.from(blue)]).toEqual([
      [0, 0, 0, 1],
      [1, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
    const dropped = new OneHotEncoder('first').fit(['red', 'green', 'blue']);
    expect(dropped.outputNames('colour')).toEqual(['colour=green', 'colour=blue']);
    expect(dropped.transform(['blue']).map((c) => c[0])).toEqual([0, 1]);
    expect(new OneHotEncoder('if_binary').fit(['no', 'yes']).outputs).toBe(1);
  });

  it('ordinal encode, with NaN for unseen and missing categories', () => {
    const encoder = new OrdinalEncoder().fit(['low', 'mid', 'high']);
    expect(Array.from(encoder.transform(['high', 'unknown', null, 'low'])[0])).toEqual([2, NaN, NaN, 0]);
  });
});

describe('Preprocessor', () => {
  const schema = customerSchema();
  const records = customerRecords(300, 11, 0.1);
  const frame = frameFromRecordsSync(schema, records);
  const settings = preprocessSection(`
preprocess:
  numeric: { scaler: standard, imputer: median }
  categorical: { encoder: onehot, imputer: most_frequent }
  fields:
    income: { scaler: robust, imputer: mean }
    city: { encoder: ordinal, imputer: none }
    active: { imputer: constant, fill_value: 0, scaler: none }
`);

  it('maps the feature fields to named columns from the config, with per-field overrides', () => {
    const preprocessor = Preprocessor.fromConfig(schema, settings).fit(frame);
    expect(preprocessor.outputNames).toEqual([
      'age',
      'income',
      'plan=basic',
      'plan=plus',
      'plan=premium',
      'city',
      'active',
      'joined.month',
      'joined.weekday',
    ]);
    const X = preprocessor.transform(frame);
    expect(X.rows).toBe(300);
    expect(X.cols).toBe(9);
    // Imputed and scaled numeric columns hold no missing values; the ordinal city keeps NaN for missing.
    expect(X.columns[0].some(Number.isNaN)).toBe(false);
    expect(X.columns[5].some(Number.isNaN)).toBe(true);
    expect(new Set(X.columns[6])).toEqual(new Set([0, 1]));
    // Every row has exactly one plan (missing plans are imputed with the most frequent).
    for (let i = 0; i < X.rows; i++) expect(X.columns[2][i] + X.columns[3][i] + X.columns[4][i]).toBe(1);
  });

  it('fits on the training rows only: test rows do not move the learned statistics', () => {
    const train = Int32Array.from({ length: 200 }, (_, i) => i);
    const shifted = records.map((record, i) => (i >= 200 ? { ...record, age: 110, income: 1e9 } : record));
    const shiftedFrame = frameFromRecordsSync(schema, shifted);
    const a = Preprocessor.fromConfig(schema, settings).fit(frame, train).toJSON();
    const b = Preprocessor.fromConfig(schema, settings).fit(shiftedFrame, train).toJSON();
    expect(b).toEqual(a);
    const all = Preprocessor.fromConfig(schema, settings).fit(shiftedFrame).toJSON();
    expect(all).not.toEqual(a);
  });

  it('puts the matrix in shared memory when asked, with the same values', () => {
    const preprocessor = Preprocessor.fromConfig(schema, settings).fit(frame);
    const rows = Int32Array.from({ length: 120 }, (_, i) => (i * 7) % records.length);
    const plain = preprocessor.transform(frame, rows);
    const shared = preprocessor.transform(frame, rows, { shared: true });
    expect(plain.columns[0].buffer).toBeInstanceOf(ArrayBuffer);
    for (const column of shared.columns) expect(column.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.columns.map((column) => Array.from(column))).toEqual(
      plain.columns.map((column) => Array.from(column)),
    );
  });

  it('gives one record the same row as the batch transform, reusing the output row', () => {
    const preprocessor = Preprocessor.fromConfig(schema, settings).fit(frame);
    const X = preprocessor.transform(frame);
    const out = new Float64Array(preprocessor.outputs);
    for (let row = 0; row < 50; row++) {
      const returned = preprocessor.transformRecord(records[row], out);
      expect(returned).toBe(out);
      expect(Array.from(out)).toEqual(X.columns.map((c) => c[row]));
    }
  });

  it('handles unseen categories and missing values at prediction time', () => {
    const preprocessor = Preprocessor.fromConfig(schema, settings).fit(frame);
    const out = new Float64Array(preprocessor.outputs);
    preprocessor.transformRecord(
      { id: 1, age: null, income: null, plan: 'enterprise', city: 'Atlantis', active: null, joined: null },
      out,
    );
    const named = Object.fromEntries(preprocessor.outputNames.map((name, i) => [name, out[i]]));
    const json = preprocessor.toJSON();
    const ageStep = json.steps[0] as {
      imputer: { fillValue: number };
      scaler: { center: number; scale: number };
    };
    expect(named.age).toBeCloseTo(
      (ageStep.imputer.fillValue - ageStep.scaler.center) / ageStep.scaler.scale,
      12,
    );
    expect([named['plan=basic'], named['plan=plus'], named['plan=premium']]).toEqual([0, 0, 0]);
    expect(named.city).toBeNaN();
    expect(named.active).toBe(0);
    expect(Number.isFinite(named['joined.month'])).toBe(true);
    // A field absent from the record counts as missing.
    preprocessor.transformRecord({}, out);
    expect(out[5]).toBeNaN();
  });

  it('round-trips through JSON exactly: identical JSON and identical outputs', () => {
    const preprocessor = Preprocessor.fromConfig(schema, settings).fit(frame);
    const text = JSON.stringify(preprocessor.toJSON());
    const copy = Preprocessor.fromJSON(JSON.parse(text));
    expect(JSON.stringify(copy.toJSON())).toBe(text);
    const a = preprocessor.transform(frame);
    const b = copy.transform(frame);
    expect(b.names).toEqual(a.names);
    b.columns.forEach((columnB, c) => expect(Array.from(columnB)).toEqual(Array.from(a.columns[c])));
  });

  it('encodes a numeric field as categories when a field override sets an encoder', () => {
    const preprocessor = Preprocessor.fromConfig(
      schema,
      preprocessSection('preprocess:\n  fields:\n    active: { encoder: onehot }\n'),
    ).fit(frameFromColumns(schema, { id: [1, 2, 3], active: [true, false, null], churned: [0, 1, 0] }));
    expect(preprocessor.outputNames).toContain('active=0');
    expect(preprocessor.outputNames).toContain('active=1');
    const out = new Float64Array(preprocessor.outputs);
    preprocessor.transformRecord({ active: true }, out);
    expect(out[preprocessor.outputNames.indexOf('active=1')]).toBe(1);
  });

  it('refuses a config that scales a category field or names an unknown field, naming the setting', () => {
    const refused = (yaml: string): PipewrightError => {
      try {
        Preprocessor.fromConfig(schema, preprocessSection(yaml));
      } catch (error) {
        return error as PipewrightError;
      }
      throw new Error('expected a refusal');
    };
    const scaled = refused('preprocess:\n  fields:\n    plan: { scaler: standard }\n');
    expect(scaled.code).toBe('PW_CONFIG_INVALID');
    expect(scaled.message).toContain('preprocess.fields.plan.scaler');
    const unknown = refused('preprocess:\n  fields:\n    salary: { scaler: standard }\n');
    expect(unknown.message).toContain('salary');
    expect(unknown.hint).toContain('age');
    const badImputer = refused('preprocess:\n  categorical: { imputer: median }\n');
    expect(badImputer.message).toContain('median');
  });

  it('refuses to transform before fit', () => {
    expect(() => Preprocessor.fromConfig(schema).transform(frame)).toThrow(
      expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' }),
    );
  });
});

describe('quantileOf', () => {
  it('gives the quantile of the sorted values, to the bit and the sign of zero, in any order', () => {
    const values = fc.oneof(
      fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 400 }),
      // many ties and both zeros: where the selection's scans meet values equal to the pivot
      fc.array(fc.constantFrom(-0, 0, 1, -1, 2, Infinity, -Infinity), { minLength: 1, maxLength: 400 }),
      // already in order, or in reverse: the orders a pivot rule does worst on
      fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 400 }).chain((list) =>
        fc.constantFrom(
          list.sort((a, b) => a - b),
          list.sort((a, b) => b - a),
        ),
      ),
    );
    const share = fc.oneof(
      fc.constantFrom(0, 0.25, 0.5, 0.75, 1),
      fc.double({ min: 0, max: 1, noNaN: true }),
    );
    fc.assert(
      fc.property(values, share, (list, q) => {
        const expected = quantileOfSorted(Float64Array.from(list).sort(), q);
        const actual = quantileOf(Float64Array.from(list), q);
        expect(Object.is(actual, expected), `${actual} against ${expected}`).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
