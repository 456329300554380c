// Gradient boosting's grids (exactGrid): values rounded to them sum to the same double in any order and
// grouping, which is what lets each thread sum its own rows' histograms and any thread count learn the
// same model.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import { exactGrid } from '../../../src/ml/tree/histogram.js';

/** `values` summed in order. */
function sum(values: Float64Array | number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** The values in a random order. */
function shuffled(values: Float64Array, random: Random): Float64Array {
  const out = Float64Array.from(values);
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The sums of `parts` interleaved parts (every parts-th value), added up. */
function byParts(values: Float64Array, parts: number): number {
  const sums = Array.from({ length: parts }, (_, part) => sum(values.filter((_, i) => i % parts === part)));
  return sum(sums);
}

describe('exact grids', () => {
  it('is a power of two under which rows × bound stays below 2^52 grids', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 2 ** -300, max: 2 ** 300, noNaN: true }),
        fc.integer({ min: 1, max: 2 ** 31 }),
        (bound, rows) => {
          const grid = exactGrid(bound, rows);
          expect(Number.isInteger(Math.log2(grid))).toBe(true);
          expect(Math.max(rows, 2) * bound).toBeLessThanOrEqual(2 ** 52 * grid);
          // and not coarser than it needs to be: within a factor of two of the smallest such grid
          expect(Math.max(rows, 2) * bound).toBeGreaterThan(2 ** 50 * grid);
        },
      ),
      // a total one double above a power of two, whose log2 rounds down to that power's exponent
      { examples: [[2 ** -298 * (1 + 2 ** -52), 2]] },
    );
  });

  it('sums values rounded to it to the same double in any order, by parts, and by subtraction', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 20_000 }),
        fc.double({ min: 2 ** -20, max: 2 ** 20, noNaN: true }),
        fc.integer({ min: 2, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        (rows, bound, parts, seed) => {
          const random = new Random(seed);
          const grid = exactGrid(bound, rows);
          // values of every magnitude up to the bound, rounded as the kernels round them
          const shift = 1.5 * 2 ** 52 * grid;
          const raw = Float64Array.from(
            { length: rows },
            () => (random.next() * 2 - 1) * bound * 2 ** -random.nextInt(40),
          );
          const values = raw.map((value) => value + shift - shift);
          const total = sum(values);
          expect(sum(shuffled(values, random))).toBe(total);
          expect(byParts(values, parts)).toBe(total);
          // a parent minus one child is the other child summed directly
          const cut = random.nextInt(rows);
          expect(total - sum(values.subarray(0, cut))).toBe(sum(values.subarray(cut)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('is what makes the sums agree: the same values unrounded sum differently by order', () => {
    const random = new Random(5);
    const raw = Float64Array.from({ length: 300_000 }, () => random.next() - 0.3);
    const orders = [sum(raw), sum(shuffled(raw, random)), byParts(raw, 2), byParts(raw, 3)];
    expect(new Set(orders).size).toBeGreaterThan(1);
    const grid = exactGrid(1, raw.length);
    const values = raw.map((value) => value + 1.5 * 2 ** 52 * grid - 1.5 * 2 ** 52 * grid);
    const rounded = [sum(values), sum(shuffled(values, random)), byParts(values, 2), byParts(values, 3)];
    expect(new Set(rounded).size).toBe(1);
  });
});
