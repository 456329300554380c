// The synthetic vehicle-insurance table: the same rows for a seed, the reference columns and value
// formats, and the shapes that matter (class balance, premium spike, skewed codes, the known effects).
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  syntheticCsv,
  syntheticVehicleInsurance,
  VEHICLE_INSURANCE_COLUMNS,
  type VehicleInsuranceRecord,
} from '../../src/data/synthetic.js';

const rows = 30_000;
const records: VehicleInsuranceRecord[] = [...syntheticVehicleInsurance({ rows, seed: 7 })];

function share(
  predicate: (record: VehicleInsuranceRecord) => boolean,
  among: VehicleInsuranceRecord[] = records,
): number {
  return among.filter(predicate).length / among.length;
}

function responseRate(among: VehicleInsuranceRecord[]): number {
  return share((record) => record.Response === 1, among);
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

function csvHash(seed: number): string {
  const hash = createHash('sha256');
  for (const chunk of syntheticCsv({ rows: 2000, seed, chunkRows: 333 })) hash.update(chunk);
  return hash.digest('hex');
}

describe('syntheticVehicleInsurance', () => {
  it('yields the same rows for the same seed, on every iteration, and other rows for another seed', () => {
    expect(csvHash(11)).toBe(csvHash(11));
    expect(csvHash(12)).not.toBe(csvHash(11));
    const table = syntheticVehicleInsurance({ rows: 50, seed: 7 });
    expect([...table]).toEqual([...table]);
    expect([...table]).toEqual(records.slice(0, 50));
  });

  it('says in its metadata that the data is synthetic', () => {
    expect(syntheticVehicleInsurance({ rows: 10 }).metadata).toMatchObject({
      synthetic: true,
      rows: 10,
      seed: 42,
      dataset: 'vehicle-insurance',
    });
    expect(syntheticCsv({ rows: 10, seed: 3 }).metadata.synthetic).toBe(true);
  });

  it('writes CSV with the reference header, one line a row, and values as the reference file writes them', () => {
    const text = [...syntheticCsv({ rows: 1234, seed: 5, chunkRows: 100 })].join('');
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(VEHICLE_INSURANCE_COLUMNS.join(','));
    expect(lines).toHaveLength(1235);
    const first = [...syntheticVehicleInsurance({ rows: 1, seed: 5 })][0];
    expect(lines[1]).toBe(VEHICLE_INSURANCE_COLUMNS.map((column) => String(first[column])).join(','));
    expect(lines[1]).toMatch(
      /^1,(Male|Female),\d+,[01],\d+,[01],(< 1 Year|1-2 Year|> 2 Years),(Yes|No),\d+,\d+,\d+,[01]$/,
    );
  });

  it('keeps the class balance near the reference 12 % positives', () => {
    expect(responseRate(records)).toBeGreaterThan(0.105);
    expect(responseRate(records)).toBeLessThan(0.14);
  });

  it('has the Annual_Premium spike at 2630 and values within the reference range', () => {
    expect(share((record) => record.Annual_Premium === 2630)).toBeGreaterThan(0.12);
    expect(share((record) => record.Annual_Premium === 2630)).toBeLessThan(0.2);
    const range = (column: 'Annual_Premium' | 'Age' | 'Vintage'): [number, number] => {
      const values = records.map((record) => record[column]);
      return [Math.min(...values), Math.max(...values)];
    };
    expect(range('Annual_Premium')[0]).toBe(2630);
    expect(range('Annual_Premium')[1]).toBeLessThanOrEqual(540_165);
    expect(range('Age')[0]).toBeGreaterThanOrEqual(20);
    expect(range('Age')[1]).toBeLessThanOrEqual(85);
    expect(range('Vintage')[0]).toBeGreaterThanOrEqual(10);
    expect(range('Vintage')[1]).toBeLessThanOrEqual(299);
  });

  it('skews the code columns: region 28 and channel 152 hold the most rows', () => {
    expect(mostCommon(records.map((record) => record.Region_Code))).toBe(28);
    expect(share((record) => record.Region_Code === 28)).toBeGreaterThan(0.25);
    expect(mostCommon(records.map((record) => record.Policy_Sales_Channel))).toBe(152);
    expect(new Set(records.map((record) => record.Policy_Sales_Channel)).size).toBeGreaterThan(100);
  });

  it('reproduces the known effects: insured customers almost never respond, damage and older vehicles raise the rate, a hump at 40-50', () => {
    const insured = records.filter((record) => record.Previously_Insured === 1);
    expect(responseRate(insured)).toBeLessThan(0.01);
    const damaged = records.filter((record) => record.Vehicle_Damage === 'Yes');
    const undamaged = records.filter((record) => record.Vehicle_Damage === 'No');
    expect(responseRate(damaged)).toBeGreaterThan(5 * responseRate(undamaged));
    const newVehicles = records.filter((record) => record.Vehicle_Age === '< 1 Year');
    const oldVehicles = records.filter((record) => record.Vehicle_Age === '> 2 Years');
    expect(responseRate(oldVehicles)).toBeGreaterThan(3 * responseRate(newVehicles));
    const middle = records.filter((record) => record.Age >= 40 && record.Age < 50);
    const young = records.filter((record) => record.Age < 30);
    const old = records.filter((record) => record.Age >= 70);
    expect(responseRate(middle)).toBeGreaterThan(2 * responseRate(young));
    expect(responseRate(middle)).toBeGreaterThan(responseRate(old));
  });

  it('refuses a negative or fractional row count and a fractional seed, as usage errors', () => {
    expect(() => syntheticVehicleInsurance({ rows: -1 })).toThrow(
      expect.objectContaining({ code: 'PW_USAGE', details: { option: 'rows', value: -1 } }),
    );
    expect(() => syntheticCsv({ rows: 1.5 })).toThrow(expect.objectContaining({ code: 'PW_USAGE' }));
    expect(() => syntheticCsv({ seed: 0.5 })).toThrow(
      expect.objectContaining({ code: 'PW_USAGE', details: { option: 'seed', value: 0.5 } }),
    );
  });
});
