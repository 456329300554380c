// Binning and packing: scikit-learn's edges (midpoints, or midpoint percentiles), a bin reserved for
// missing values, and packed byte columns from which every feature's own bin is recovered.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import { binOf, drawnSample, packFeatures, SharedBinning } from '../../../src/ml/tree/binning.js';
import { Arena, instantiateKernels, SORT_COUNTS_BYTES } from '../../../src/ml/tree/kernels.js';
import { binMatrix, binningSample, fitBinMapper } from './binning-reference.js';
import { matrixOf } from '../trees.js';

describe('binning', () => {
  it('puts edges midway between distinct values when there are few', () => {
    const column = Float64Array.of(3, 1, 2, 2, 5, NaN, 1);
    const mapper = fitBinMapper(matrixOf([column]), 255, new Random(1));
    expect(Array.from(mapper.edges[0])).toEqual([1.5, 2.5, 4]);
    expect(mapper.valueBins[0]).toBe(4);
    expect(mapper.hasMissing[0]).toBe(1);
    expect(binOf(mapper.edges[0], 2)).toBe(1);
    expect(binOf(mapper.edges[0], 2.5)).toBe(1);
    expect(binOf(mapper.edges[0], 2.6)).toBe(2);
    expect(binOf(mapper.edges[0], NaN)).toBe(4);
  });

  it('uses at most max_bins value bins at quantiles for many distinct values, for whole and fractional numbers', () => {
    const random = new Random(2);
    const fractional = Float64Array.from({ length: 20_000 }, () => random.nextNormal());
    const whole = Float64Array.from({ length: 20_000 }, () => random.nextInt(5000));
    const mapper = fitBinMapper(matrixOf([fractional, whole]), 64, new Random(1));
    for (let f = 0; f < 2; f++) {
      expect(mapper.valueBins[f]).toBeLessThanOrEqual(64);
      expect(mapper.valueBins[f]).toBeGreaterThan(56);
      const binned = matrixOf([f === 0 ? fractional : whole]);
      const single = fitBinMapper(binned, 64, new Random(1));
      const layout = packFeatures(single);
      const data = binMatrix(binned, single, layout);
      // quantile bins hold about the same number of rows
      const counts = new Array(single.valueBins[0]).fill(0);
      for (const bin of data.columns[0]) counts[bin]++;
      expect(Math.max(...counts)).toBeLessThan(3 * (20_000 / 64));
    }
  });

  it('sorts doubles in the kernels to the bits of the built-in sort: signed zeros, infinities, tiny and huge values, runs of equal ones', () => {
    const most = 6000;
    const arena = new Arena();
    const at = {
      values: arena.reserve(most * 8),
      temp: arena.reserve(most * 8),
      counts: arena.reserve(SORT_COUNTS_BYTES),
    };
    const memory = arena.create();
    const kernels = instantiateKernels(memory);
    const sortDoubles = (values: Float64Array): Float64Array => {
      const view = new Float64Array(memory.buffer, at.values, values.length);
      view.set(values);
      kernels.sortDoubles(at.values, values.length, at.temp, at.counts);
      return view.slice();
    };
    const value = fc.oneof(
      fc.double({ noNaN: true }),
      fc.constantFrom(0, -0, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, 1, -1),
      fc.integer({ min: -50, max: 50 }),
    );
    fc.assert(
      fc.property(
        // from one value to thousands, with passes skipped (a digit the same for every key: whole numbers,
        // values of one sign and exponent) or not, an odd number of them leaving the result in the other buffer
        fc.oneof(
          fc.array(value, { minLength: 1, maxLength: most }),
          fc.array(fc.integer({ min: -1000, max: 1000 }), { minLength: 1, maxLength: most }),
          fc.array(fc.double({ min: 1, max: 2, noNaN: true }), { minLength: 1, maxLength: most }),
        ),
        (values) => {
          const expected = new Uint32Array(Float64Array.from(values).sort().buffer);
          const sorted = new Uint32Array(sortDoubles(Float64Array.from(values)).buffer);
          // the first word that differs (-1: none), so that a failure reports a number, not two arrays
          expect(sorted.findIndex((word, i) => word !== expected[i])).toBe(-1);
        },
      ),
      // a failure is reported as found: shrinking thousands of values takes too long
      { numRuns: 40, endOnFailure: true },
    );
  });

  it('packs few-bin features into one byte column and recovers each bin from the code', () => {
    const random = new Random(3);
    const rows = 500;
    const flags = [0, 1, 2].map(() => Float64Array.from({ length: rows }, () => random.nextInt(2)));
    const code = Float64Array.from({ length: rows }, () => random.nextInt(30));
    const wide = Float64Array.from({ length: rows }, () => random.next());
    const constant = new Float64Array(rows).fill(4);
    flags[1][7] = NaN;
    const X = matrixOf([...flags, code, wide, constant]);
    const mapper = fitBinMapper(X, 255, new Random(1));
    const layout = packFeatures(mapper);
    expect(layout.featureGroup[5]).toBe(-1);
    for (let g = 0; g < layout.groups; g++) expect(layout.groupBins[g]).toBeLessThanOrEqual(256);
    expect(layout.groups).toBeLessThan(5);
    const data = binMatrix(X, mapper, layout);
    for (let f = 0; f < 5; f++) {
      const column = data.columns[layout.featureGroup[f]];
      for (let i = 0; i < rows; i++)
        expect(layout.digits[f][column[i]]).toBe(binOf(mapper.edges[f], X.columns[f][i]));
    }
  });

  it('draws the binning sample in the kernels as the generator does: the same rows, ascending, the same state after', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer(),
        (rows, share, seed) => {
          const count = Math.floor(share * (rows - 1));
          const expected = new Random(seed);
          const drawn = new Random(seed);
          const reference = Array.from(expected.sampleWithoutReplacement(rows, count)).sort((a, b) => a - b);
          const sample = drawnSample(rows, drawn, count);
          expect(sample).toBeDefined();
          expect(Array.from(sample ?? [])).toEqual(reference);
          expect(drawn.nextUint32()).toBe(expected.nextUint32());
        },
      ),
      { numRuns: 60 },
    );
    // the sample's own size: binningSample's rows
    expect(Array.from(drawnSample(260_000, new Random(4)) ?? [])).toEqual(
      Array.from(binningSample(260_000, new Random(4)) ?? []),
    );
  });

  it('bins values at, between and beyond the edges, infinities, signed zeros and missing values in the kernels as binOf does', () => {
    const special = fc.constantFrom(NaN, Infinity, -Infinity, 0, -0, 1, 0.5, 1e308, -1e308, 65_535, 65_536);
    const value = fc.oneof(special, fc.integer({ min: -3, max: 300 }), fc.double({ noNaN: false }));
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 400 }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 2, max: 255 }),
        (raw, maxBins) => {
          const rows = Math.min(...raw.map((column) => column.length));
          const X = matrixOf(raw.map((column) => Float64Array.from(column.slice(0, rows))));
          const mapper = fitBinMapper(X, maxBins, new Random(1));
          const expected = binMatrix(X, mapper, packFeatures(mapper));
          const kernels = SharedBinning.prepare(X, maxBins, new Random(1), 1).bin();
          expect(kernels.mapper.edges.map((edges) => Array.from(edges))).toEqual(
            mapper.edges.map((edges) => Array.from(edges)),
          );
          expect(kernels.columns.map((column) => Array.from(column))).toEqual(
            expected.columns.map((column) => Array.from(column)),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
