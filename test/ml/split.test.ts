// Seeded, stratified train/test splits.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { foldsOf, kFoldFrame, randomSplit, splitFrame, stratifiedSplit } from '../../src/ml/split.js';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { customerRecords, customerSchema } from './fixtures.js';

function share(labels: Float64Array, rows: Int32Array, label: number): number {
  let count = 0;
  for (const row of rows) if (labels[row] === label) count++;
  return count / rows.length;
}

describe('train/test split', () => {
  // 1000 rows, 7% positives: an unlucky unstratified split could move the share a lot.
  const labels = Float64Array.from({ length: 1000 }, (_, i) => (i % 100 < 7 ? 1 : 0));

  it('keeps each class share in both parts when stratified', () => {
    const { train, test } = stratifiedSplit(labels, { testSize: 0.2, seed: 42 });
    expect(test.length).toBe(200);
    expect(train.length).toBe(800);
    expect(share(labels, test, 1)).toBeCloseTo(0.07, 10);
    expect(share(labels, train, 1)).toBeCloseTo(0.07, 10);
  });

  it('partitions the rows: every row exactly once, indices ascending', () => {
    const { train, test } = stratifiedSplit(labels, { testSize: 0.25, seed: 1 });
    const all = [...train, ...test].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...test]).toEqual([...test].sort((a, b) => a - b));
  });

  it('gives the same split for the same seed and another for another seed', () => {
    const first = stratifiedSplit(labels, { testSize: 0.2, seed: 42 });
    expect(stratifiedSplit(labels, { testSize: 0.2, seed: 42 })).toEqual(first);
    expect(Array.from(stratifiedSplit(labels, { testSize: 0.2, seed: 43 }).test)).not.toEqual(
      Array.from(first.test),
    );
    expect(randomSplit(1000, { testSize: 0.2, seed: 5 })).toEqual(
      randomSplit(1000, { testSize: 0.2, seed: 5 }),
    );
  });

  it('stratifies a regression target by quantile bins, so both parts span the value range alike', () => {
    const values = Float64Array.from({ length: 500 }, (_, i) => (i * 7919) % 500);
    const { train, test } = stratifiedSplit(values, { testSize: 0.2, seed: 3, regressionBins: 10 });
    const mean = (rows: Int32Array) => rows.reduce((sum, row) => sum + values[row], 0) / rows.length;
    expect(test.length).toBe(100);
    expect(Math.abs(mean(test) - mean(train))).toBeLessThan(5);
    const lowTest = [...test].filter((row) => values[row] < 50).length;
    expect(lowTest).toBe(10);
  });

  it('splits a frame by its target, and refuses a test size outside (0, 1)', () => {
    const frame = frameFromRecordsSync(customerSchema(), customerRecords(400, 4));
    const { test } = splitFrame(frame, { testSize: 0.3, seed: 9, stratify: true });
    const positives = frame.target!.reduce((sum, label) => sum + label, 0) / frame.rows;
    expect(Math.abs(share(frame.target!, test, 1) - positives)).toBeLessThan(0.01);
    expect(() => randomSplit(10, { testSize: 1.2, seed: 1 })).toThrow(/between 0 and 1/);
  });
});

describe('repeated stratified k-fold', () => {
  it('holds every row out exactly once per repeat, keeps class shares in each fold and repeats with its seed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 40, max: 160 }),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 1000 }),
        (rows, folds, repeats, seed) => {
          const frame = frameFromRecordsSync(customerSchema(), customerRecords(rows, 4));
          const plan = kFoldFrame(frame, { folds, repeats, seed, stratify: true });
          expect(kFoldFrame(frame, { folds, repeats, seed, stratify: true }).assignment).toEqual(
            plan.assignment,
          );
          const all = foldsOf(plan);
          expect(all).toHaveLength(folds * repeats);
          const positives = frame.target!.reduce((sum, label) => sum + label, 0);
          for (let repeat = 0; repeat < repeats; repeat++) {
            const held = new Int32Array(rows);
            for (const fold of all.filter((entry) => entry.repeat === repeat)) {
              for (const row of fold.test) held[row]++;
              expect(fold.train.length + fold.test.length).toBe(rows);
              // sizes differ by at most one row, and so do the positives per fold
              expect(Math.abs(fold.test.length - rows / folds)).toBeLessThan(1 + 1e-9);
              const foldPositives = Array.from(fold.test).reduce((sum, row) => sum + frame.target![row], 0);
              expect(Math.abs(foldPositives - positives / folds)).toBeLessThanOrEqual(1);
            }
            expect(held.every((count) => count === 1)).toBe(true);
          }
        },
      ),
      { numRuns: 25 },
    );
  });

  it('refuses more folds than rows', () => {
    const frame = frameFromRecordsSync(customerSchema(), customerRecords(4, 4));
    expect(() => kFoldFrame(frame, { folds: 5, repeats: 1, seed: 1, stratify: true })).toThrow(
      expect.objectContaining({ code: 'PW_USAGE' }),
    );
  });
});
