// Dates as model inputs: calendar parts and elapsed days, derived the same way for a batch, for one
// record and after a JSON round trip; and on a seasonal table split by time, the model with date parts
// beats the model with the raw epoch on the later period.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/core/config.js';
import type { PipewrightError } from '../../src/core/errors.js';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { rocAuc } from '../../src/ml/metrics.js';
import { GradientBoostingModel } from '../../src/ml/models/gbdt.js';
import { Preprocessor } from '../../src/ml/transform/preprocessor.js';
import { compileCoercer, type TypedRecord } from '../../src/schema/coerce.js';
import { parseSchema } from '../../src/schema/schema.js';

const schema = parseSchema(`
name: seasonal
fields:
  id: { type: integer, role: key }
  day: { type: datetime, format: DD/MM/YYYY }
  seen: { type: datetime, format: "%d.%m.%Y %H:%M", nullable: true }
  noise: { type: number }
  bought: { type: category, role: target, values: ["no", "yes"] }
`);

/** A seeded generator (mulberry32), so that the table is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const two = (n: number) => String(n).padStart(2, '0');

/** Four years of rows, bought mostly in summer and in December: the season is the signal. */
function seasonalRecords(rows: number): TypedRecord[] {
  const next = random(11);
  const coerce = compileCoercer(schema);
  const start = Date.UTC(2019, 0, 1);
  const records: TypedRecord[] = [];
  for (let i = 0; i < rows; i++) {
    const time = start + Math.floor((i / rows) * 4 * 365) * 86_400_000;
    const date = new Date(time);
    const month = date.getUTCMonth() + 1;
    const seasonal = [6, 7, 8, 12].includes(month) ? 0.8 : 0.15;
    const seen = new Date(time + Math.floor(next() * 30) * 86_400_000 + 9 * 3_600_000);
    const raw = {
      id: String(i + 1),
      day: `${two(date.getUTCDate())}/${two(month)}/${date.getUTCFullYear()}`,
      seen: `${two(seen.getUTCDate())}.${two(seen.getUTCMonth() + 1)}.${seen.getUTCFullYear()} 09:00`,
      noise: String(next()),
      bought: next() < seasonal ? 'yes' : 'no',
    };
    const result = coerce(raw);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    records.push(result.record);
  }
  return records;
}

const records = seasonalRecords(2000);
const frame = frameFromRecordsSync(schema, records);
const labels = Float64Array.from(records, (record) => (record.bought === 'yes' ? 1 : 0));
// Split by time: the first three years train, the fourth tests.
const cut = records.findIndex((record) => String(record.day) >= '2022-01-01');
const trainRows = Int32Array.from({ length: cut }, (_, i) => i);
const testRows = Int32Array.from({ length: records.length - cut }, (_, i) => cut + i);

function preprocess(yaml: string) {
  return parseConfig(`project: t\npreprocess:\n${yaml}`).preprocess;
}

async function laterAuc(preprocessor: Preprocessor): Promise<number> {
  preprocessor.fit(frame, trainRows);
  const model = await new GradientBoostingModel({
    max_iter: 60,
    early_stopping: false,
    threads: 1,
    seed: 1,
  }).fit(
    preprocessor.transform(frame, trainRows),
    labels.filter((_, i) => i < cut),
  );
  return rocAuc(
    labels.filter((_, i) => i >= cut),
    model.predict(preprocessor.transform(frame, testRows)),
  );
}

describe('date features', () => {
  it('reads day-first and strftime formats into the dates they name', () => {
    expect(records[0].day).toBe('2019-01-01T00:00:00.000Z');
    expect(String(records[0].seen)).toMatch(/^2019-0[12]-\d\dT09:00:00\.000Z$/);
    const coerce = compileCoercer(schema);
    const bad = coerce({ id: '1', day: '31/02/2020', seen: '', noise: '1', bought: 'no' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.map((error) => error.field)).toEqual(['day']);
  });

  it('beats the raw epoch on a later period when the signal is seasonal', async () => {
    const parts = await laterAuc(Preprocessor.fromConfig(schema, preprocess('  fields: {}')));
    const epoch = await laterAuc(
      Preprocessor.fromConfig(
        schema,
        preprocess('  fields: { day: { parts: [epoch] }, seen: { parts: [epoch] } }'),
      ),
    );
    expect(parts).toBeGreaterThan(0.75);
    expect(parts).toBeGreaterThan(epoch + 0.1);
  });

  it('names each derived column and maps it back to its one schema field', () => {
    const preprocessor = Preprocessor.fromConfig(
      schema,
      preprocess('  fields: { day: { elapsed_to: seen } }'),
    ).fit(frame);
    expect(preprocessor.outputNames).toEqual([
      'day.month',
      'day.weekday',
      'day.days_to_seen',
      'seen.month',
      'seen.weekday',
      'seen.hour',
      'noise',
    ]);
    expect(preprocessor.outputFields).toEqual(['day', 'day', 'day', 'seen', 'seen', 'seen', 'noise']);
  });

  it('derives the same features for one record, for the batch and after a JSON round trip', () => {
    const preprocessor = Preprocessor.fromConfig(
      schema,
      preprocess(
        '  dates: { parts: [year, month, day, weekday, hour, day_of_year], elapsed_to: scoring_time }',
      ),
    ).fit(frame);
    const copy = Preprocessor.fromJSON(JSON.parse(JSON.stringify(preprocessor.toJSON())));
    const X = preprocessor.transform(frame);
    const elapsedColumns = preprocessor.outputNames
      .map((name, column) => (name.endsWith('days_to_scoring_time') ? column : -1))
      .filter((column) => column >= 0);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: records.length - 1 }), (row) => {
        const out = copy.transformRecord(records[row], new Float64Array(copy.outputs));
        X.columns.forEach((column, c) => {
          // Elapsed days to the scoring time move on with the clock between the two calls.
          if (elapsedColumns.includes(c)) expect(out[c]).toBeCloseTo(column[row], 3);
          else expect(out[c]).toBe(column[row]);
        });
      }),
      { numRuns: 50 },
    );
    const missing = copy.transformRecord({ noise: 1 }, new Float64Array(copy.outputs));
    expect(missing.every(Number.isFinite)).toBe(true);
  });

  it('refuses an elapsed reference that is not another datetime feature, naming the setting', () => {
    let error: PipewrightError | undefined;
    try {
      Preprocessor.fromConfig(schema, preprocess('  fields: { day: { elapsed_to: noise } }'));
    } catch (caught) {
      error = caught as PipewrightError;
    }
    expect(error?.code).toBe('PW_CONFIG_INVALID');
    expect(error?.details).toEqual({ path: 'preprocess.fields.day.elapsed_to' });
  });
});
