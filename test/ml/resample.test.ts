// The bootstrap's kernels against plain loops: the rows a resample draws (Random.nextInt's, rejection
// included), each row's count exact past a byte, the generator left where JavaScript's draws leave it,
// and the fold of the draws into the cells of tied scores.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/random.js';
import { rankedLayout } from '../../src/ml/card.js';
import { Resampler, sumsOfCells } from '../../src/ml/resample.js';

describe('Resampler', () => {
  it('draws the rows Random.nextInt draws, counts each exactly past 255, and leaves the generator where they leave it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        // few rows (many draws each: bytes wrap), powers of two (no rejection) and others
        fc.oneof(
          fc.integer({ min: 1, max: 6 }),
          fc.constantFrom(64, 1024),
          fc.integer({ min: 7, max: 5000 }),
        ),
        fc.integer({ min: 0, max: 3000 }),
        (seed, rows, count) => {
          const sampler = Resampler.create(rows, undefined, count);
          const random = new Random(seed);
          sampler.draw(random);
          const reference = new Random(seed);
          const counts = new Int32Array(rows);
          for (let i = 0; i < count; i++) counts[reference.nextInt(rows)]++;
          expect(Int32Array.from(sampler.counts())).toEqual(counts);
          expect(random.nextUint32()).toBe(reference.nextUint32());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('draws again, as Random.nextInt does, a value past the last whole multiple of millions of rows', () => {
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        // 2^32 mod rows is up to about a thousandth of 2^32 here: some draws are rejected
        fc.integer({ min: 2_000_000, max: 6_000_000 }),
        (seed, rows) => {
          const count = 20_000;
          const sampler = Resampler.create(rows, undefined, count);
          const random = new Random(seed);
          sampler.draw(random);
          const reference = new Random(seed);
          const expected = new Map<number, number>();
          const limit = 2 ** 32 - (2 ** 32 % rows);
          for (let i = 0; i < count; i++) {
            let value = reference.nextUint32();
            for (; value >= limit; value = reference.nextUint32()) rejected++;
            expected.set(value % rows, (expected.get(value % rows) ?? 0) + 1);
          }
          const drawn = new Map<number, number>();
          sampler.counts().forEach((draws, row) => {
            if (draws > 0) drawn.set(row, draws);
          });
          expect(drawn).toEqual(expected);
          expect(random.nextUint32()).toBe(reference.nextUint32());
        },
      ),
      { numRuns: 20 },
    );
    // the runs met the rejection they are there for
    expect(rejected).toBeGreaterThan(0);
  });

  it('starts every resample from no draws, and sums whole counts when a byte wrapped', () => {
    // two rows, one a positive, of different scores: a group each, the positive first
    const layout = rankedLayout(Float64Array.of(0, 1), Float64Array.of(0.2, 0.7), 0.5);
    const sampler = Resampler.create(2, layout, 1000);
    const random = new Random(5);
    const reference = new Random(5);
    for (let resample = 0; resample < 3; resample++) {
      sampler.draw(random);
      const counts = [0, 0];
      for (let i = 0; i < 1000; i++) counts[reference.nextInt(2)]++;
      expect(Array.from(sampler.counts())).toEqual(counts);
      expect(sampler.rankedSums()).toEqual(sumsOfCells(layout, [0, counts[1], counts[0], 0]));
    }
    sampler.drawEveryRowOnce();
    expect(Array.from(sampler.counts())).toEqual([1, 1]);
    expect(sampler.rankedSums()).toEqual(sumsOfCells(layout, [0, 1, 1, 0]));
  });

  it('sums each resample over the groups of tied scores as the plain loop does, operation for operation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ label: fc.constantFrom(0, 1), score: fc.integer({ min: 0, max: 9 }) }), {
          minLength: 1,
          maxLength: 400,
        }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(0, 0.3, 0.5, 1.1),
        (rows, seed, threshold) => {
          const y = Float64Array.from(rows, (row) => row.label);
          const scores = Float64Array.from(rows, (row) => row.score / 9);
          const layout = rankedLayout(y, scores, threshold);
          // few draws as well as every row's: groups drawn not at all
          const sampler = Resampler.create(rows.length, layout, 1 + (seed % (2 * rows.length)));
          const random = new Random(seed);
          for (let resample = 0; resample < 3; resample++) {
            sampler.draw(random);
            const counts = sampler.counts();
            const cells = new Int32Array(2 * layout.groups);
            for (let rank = 0; rank < rows.length; rank++)
              cells[layout.cellAtRank[rank]] += counts[layout.order[rank]];
            expect(sampler.rankedSums()).toEqual(sumsOfCells(layout, cells));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
