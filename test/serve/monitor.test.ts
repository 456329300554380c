// The live drift window: PSI read from counts kept incrementally over a ring of the last N records
// must equal PSI computed from scratch over those same records, whatever wraps and evictions happened.
import { describe, expect, it } from 'vitest';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { Random } from '../../src/core/random.js';
import { driftAgainstReference, ksAgainstReference, type NumericReference } from '../../src/ml/stats.js';
import type { TypedRecord } from '../../src/schema/coerce.js';
import { loadSchema, type Schema } from '../../src/schema/schema.js';
import { LiveMonitor } from '../../src/serve/monitor.js';
import { TEMPLATE_SCHEMA, typedRecords } from '../fixtures/model.js';
import { trainMonitoredBundle } from './monitor-fixture.js';

const schema = loadSchema(TEMPLATE_SCHEMA);
const featureSchema: Schema = { ...schema, target: undefined, key: undefined, task: undefined };
const { stats } = await trainMonitoredBundle(schema);
const pool = typedRecords(schema, 2000, 99);

/** Seeded traffic with what real traffic holds: shifts, missing values, categories the training data never had. */
function traffic(random: Random, count: number): { records: TypedRecord[]; scores: number[] } {
  const records: TypedRecord[] = [];
  const scores: number[] = [];
  for (let index = 0; index < count; index++) {
    const record = { ...pool[random.nextInt(pool.length)] };
    const roll = random.next();
    if (roll < 0.1) record.Age = null;
    else if (roll < 0.3) record.Age = Math.min(120, (record.Age as number) + 30);
    if (random.next() < 0.05) record.Gender = 'Unknown';
    if (random.next() < 0.05) record.Vehicle_Age = null;
    if (random.next() < 0.2) record.Annual_Premium = (record.Annual_Premium as number) * 2;
    records.push(record);
    scores.push(random.next() < 0.02 ? Number.NaN : random.next() ** 2);
  }
  return { records, scores };
}

describe('the live drift window', () => {
  it('gives the same PSI per feature and for the predictions as a computation from scratch over the same window', () => {
    for (let seed = 1; seed <= 12; seed++) {
      const random = new Random(seed);
      const window = 1 + random.nextInt(250);
      const total = random.nextInt(3 * window + 2);
      const { records, scores } = traffic(random, total);
      const monitor = new LiveMonitor('v1', schema, stats, { window, minCount: 1 });
      for (let index = 0; index < total; index++) monitor.observe(records[index], scores[index]);
      const snapshot = monitor.snapshot();
      const kept = Math.min(window, total);
      expect(snapshot.window.count, `seed ${seed}`).toBe(kept);
      expect(snapshot.features.map((feature) => feature.field)).toEqual(schema.features.map((f) => f.name));
      if (kept === 0) {
        expect(snapshot.features.every((feature) => feature.psi === null)).toBe(true);
        continue;
      }
      const frame = frameFromRecordsSync(featureSchema, records.slice(total - kept));
      const expected = driftAgainstReference(
        stats,
        frame,
        undefined,
        Float64Array.from(scores.slice(total - kept)),
      );
      for (const feature of expected.features) {
        const live = snapshot.features.find((item) => item.field === feature.field)!;
        expect(live.psi, `seed ${seed}, window ${window}, ${total} records, ${feature.field}`).toBeCloseTo(
          feature.psi,
          12,
        );
      }
      expect(snapshot.predictions!.psi, `seed ${seed} predictions`).toBeCloseTo(
        expected.predictions!.psi,
        12,
      );
      const present = scores.slice(total - kept).filter((score) => !Number.isNaN(score));
      if (present.length > 0)
        expect(snapshot.predictions!.meanLive).toBeCloseTo(
          present.reduce((a, b) => a + b, 0) / present.length,
          12,
        );
    }
  });

  it('gives the exact Kolmogorov-Smirnov statistic for features with one bin per value', () => {
    const random = new Random(5);
    const { records, scores } = traffic(random, 700);
    const monitor = new LiveMonitor('v1', schema, stats, { window: 300, minCount: 1 });
    records.forEach((record, index) => monitor.observe(record, scores[index]));
    const frame = frameFromRecordsSync(featureSchema, records.slice(-300));
    const discrete = stats.features.filter(
      (feature): feature is NumericReference => feature.kind === 'numeric' && feature.discrete,
    );
    expect(discrete.length).toBeGreaterThan(0);
    for (const reference of discrete) {
      const column = frame.column(reference.field);
      if (column.kind !== 'numeric') throw new Error(`${reference.field} is not numeric`);
      const live = monitor.snapshot().features.find((feature) => feature.field === reference.field)!;
      expect(live.ks).toBeCloseTo(ksAgainstReference(reference, column.values), 12);
    }
  });

  it('flags drift only past a threshold and once the window holds the minimum count', () => {
    const monitor = new LiveMonitor('v1', schema, stats, { window: 400, minCount: 200 });
    const shiftedRecord = (record: TypedRecord): TypedRecord => ({
      ...record,
      Age: Math.min(120, (record.Age as number) + 40),
    });
    for (let index = 0; index < 150; index++) monitor.observe(shiftedRecord(pool[index]), 0.5);
    const early = monitor.snapshot();
    expect(early.status).toBe('collecting');
    expect(early.features.find((feature) => feature.field === 'Age')!.psi).toBeGreaterThan(0.2);
    expect(early.features.some((feature) => feature.drifted)).toBe(false);
    for (let index = 150; index < 400; index++) monitor.observe(shiftedRecord(pool[index]), 0.5);
    const late = monitor.snapshot();
    expect(late.status).toBe('drift');
    expect(late.features.find((feature) => feature.field === 'Age')!.drifted).toBe(true);
    expect(late.features.find((feature) => feature.field === 'Gender')!.drifted).toBe(false);

    const steady = new LiveMonitor('v1', schema, stats, { window: 400, minCount: 200 });
    for (let index = 0; index < 400; index++) steady.observe(pool[index], Number.NaN);
    expect(steady.snapshot().features.filter((feature) => feature.drifted)).toEqual([]);
  });

  it('tracks nothing and says why when the bundle has no reference statistics', () => {
    const monitor = new LiveMonitor('v4', schema, null, { window: 10 });
    monitor.observe(pool[0], 0.5);
    const snapshot = monitor.snapshot();
    expect(monitor.active).toBe(false);
    expect(snapshot.status).toBe('unavailable');
    expect(snapshot.reason).toContain('v4 carries no reference statistics');
    expect(snapshot.features).toEqual([]);
    expect(snapshot.predictions).toBeNull();
  });
});
