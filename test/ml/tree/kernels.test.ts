// The WebAssembly kernels against plain loops: histogram sums, gathering, partitioning, leaf numbers,
// the gradient pass (whose exp must match fastExp bit for bit), histogram arithmetic and the split scan.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import {
  fastExp,
  instantiateKernels,
  KERNEL_SCRATCH_BYTES,
  BUNDLE_ENTRY_BYTES,
  BUNDLE_MAX,
  histogramGroupsKernel,
  histogramCountedKernel,
  Arena,
  EXP_FRACTIONS,
  EXP_POWERS,
  EXP_TABLE_BYTES,
  SCAN_RECORD,
  SEARCH_ENTRY,
  SEARCH_ENTRY_BYTES,
} from '../../../src/ml/tree/kernels.js';
import { expandFeature } from '../../../src/ml/tree/histogram.js';

const rows = 1001;
const bins = 37;

function setUp() {
  const arena = new Arena();
  const at = {
    column: arena.reserve(rows),
    rows: arena.reserve(rows * 4),
    gh: arena.reserve(rows * 16),
    ordered: arena.reserve(rows * 16),
    scratchRows: arena.reserve(rows * 4),
    table: arena.reserve(256),
    out: arena.reserve(bins * 24),
    scratch: arena.reserve(KERNEL_SCRATCH_BYTES),
    raw: arena.reserve(rows * 8),
    y: arena.reserve(rows * 8),
    weights: arena.reserve(rows * 8),
    leafOf: arena.reserve(rows * 2),
    leafValues: arena.reserve(8 * 8),
    tables: arena.reserve(EXP_TABLE_BYTES),
  };
  const memory = arena.create();
  const buffer = memory.buffer;
  const random = new Random(5);
  const column = new Uint8Array(buffer, at.column, rows);
  const gh = new Float64Array(buffer, at.gh, 2 * rows);
  for (let i = 0; i < rows; i++) {
    // runs of equal bins, as skewed columns have
    column[i] = random.next() < 0.4 ? 3 : random.nextInt(bins);
    gh[2 * i] = random.nextNormal();
    gh[2 * i + 1] = random.next();
  }
  const tables = new Float64Array(buffer, at.tables, EXP_TABLE_BYTES / 8);
  tables.set(EXP_FRACTIONS);
  tables.set(EXP_POWERS, EXP_FRACTIONS.length);
  return { kernels: instantiateKernels(memory), buffer, at, column, gh, random };
}

/**
 * Memory for the bundled histogram kernels: `groups` byte columns of `count` rows, the row list, the
 * `extra` regions (bytes each), a histogram per group, scratch and a descriptor for BUNDLE_MAX groups.
 */
function bundleSetUp<Extra extends string>(count: number, groups: number, extra: Record<Extra, number>) {
  const arena = new Arena();
  const at = {
    columns: arena.reserve(count * groups),
    rows: arena.reserve(count * 4),
    outs: arena.reserve(groups * 256 * 24),
    scratch: arena.reserve(BUNDLE_MAX * KERNEL_SCRATCH_BYTES),
    desc: arena.reserve(BUNDLE_MAX * BUNDLE_ENTRY_BYTES),
  };
  const regions = {} as Record<Extra, number>;
  for (const name of Object.keys(extra) as Extra[]) regions[name] = arena.reserve(extra[name]);
  const memory = arena.create();
  const buffer = memory.buffer;
  const descriptor = new Int32Array(buffer, at.desc, BUNDLE_MAX * 4);
  return { at: { ...at, ...regions }, buffer, kernels: instantiateKernels(memory), descriptor };
}

describe('tree kernels', () => {
  it('sum gradient, hessian and count by bin for up to BUNDLE_MAX groups at once exactly as a loop in the same order does', () => {
    const most = 700;
    const groups = BUNDLE_MAX + 2;
    const { at, buffer, kernels, descriptor } = bundleSetUp(most, groups, { gh: most * 16 });
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: BUNDLE_MAX }),
        fc.boolean(),
        fc.integer({ min: 0, max: most }),
        fc.integer({ min: 0, max: most }),
        (seed, k, identity, from, to) => {
          const random = new Random(seed);
          const [start, end] = from <= to ? [from, to] : [to, from];
          const gh = new Float64Array(buffer, at.gh, 2 * most);
          for (let i = 0; i < 2 * most; i++) gh[i] = random.nextNormal();
          const rowIndices = new Uint32Array(buffer, at.rows, most);
          for (let i = 0; i < most; i++) rowIndices[i] = identity ? i : random.nextInt(most);
          // the groups of the call: any of the columns, each with its own bin count (1 to 256)
          const chosen = Array.from({ length: k }, (_, m) => (m * 3 + seed) % groups);
          const bins = chosen.map(() => 1 + random.nextInt(256));
          chosen.forEach((g, m) => {
            const column = new Uint8Array(buffer, at.columns + g * most, most);
            // runs of equal bins, as skewed columns have
            for (let i = 0; i < most; i++) column[i] = random.next() < 0.4 ? 0 : random.nextInt(bins[m]);
            descriptor.set(
              [at.columns + g * most, at.outs + m * 256 * 24, at.scratch + m * KERNEL_SCRATCH_BYTES, bins[m]],
              4 * m,
            );
            new Float64Array(buffer, at.outs + m * 256 * 24, bins[m] * 3).fill(Number.NaN);
          });
          histogramGroupsKernel(kernels, identity, k)(at.rows, start, end, at.gh, at.desc);
          chosen.forEach((g, m) => {
            const column = new Uint8Array(buffer, at.columns + g * most, most);
            // the kernel's order: even positions into one partial sum, odd ones into another, then added
            const partial = [new Float64Array(bins[m] * 3), new Float64Array(bins[m] * 3)];
            for (let i = start; i < end; i++) {
              const target = partial[(i - start) % 2];
              const row = rowIndices[i];
              target[column[row] * 3] += gh[2 * row];
              target[column[row] * 3 + 1] += gh[2 * row + 1];
              target[column[row] * 3 + 2] += 1;
            }
            const expected = partial[0].map((value, b) => value + partial[1][b]);
            expect(Array.from(new Float64Array(buffer, at.outs + m * 256 * 24, bins[m] * 3))).toEqual(
              Array.from(expected),
            );
          });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sum one-byte draw and label codes for up to BUNDLE_MAX groups at once into exactly the histograms of their (draws × label, draws) pairs', () => {
    const { at, buffer, kernels, descriptor } = bundleSetUp(rows, BUNDLE_MAX, { codes: rows, ordered: rows });
    const rowIndices = new Uint32Array(buffer, at.rows, rows);
    const codes = new Uint8Array(buffer, at.codes, rows);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: BUNDLE_MAX }),
        fc.integer({ min: 0, max: rows }),
        fc.integer({ min: 0, max: rows }),
        (seed, k, from, to) => {
          const random = new Random(seed);
          const [start, end] = from <= to ? [from, to] : [to, from];
          for (let i = 0; i < rows; i++) rowIndices[i] = random.nextInt(rows);
          const draws = Array.from({ length: rows }, () => (random.next() < 0.4 ? 0 : random.nextInt(128)));
          const labels = Array.from({ length: rows }, () => (random.next() < 0.3 ? 1 : 0));
          for (let row = 0; row < rows; row++) codes[row] = draws[row] * 2 + labels[row];
          const expected: Float64Array[] = [];
          for (let g = 0; g < k; g++) {
            const groupBins = 1 + random.nextInt(256);
            const column = new Uint8Array(buffer, at.columns + g * rows, rows);
            for (let row = 0; row < rows; row++) column[row] = random.nextInt(groupBins);
            descriptor.set(
              [column.byteOffset, at.outs + g * 256 * 24, at.scratch + g * KERNEL_SCRATCH_BYTES, groupBins],
              4 * g,
            );
            // the pairs the codes stand for, summed as doubles
            const sums = new Float64Array(groupBins * 3);
            for (let i = start; i < end; i++) {
              const row = rowIndices[i];
              sums[column[row] * 3] += draws[row] * labels[row];
              sums[column[row] * 3 + 1] += draws[row];
              sums[column[row] * 3 + 2] += 1;
            }
            expected.push(sums);
          }
          kernels.gatherCodes(at.rows, start, end, at.codes, at.ordered);
          const ordered = new Uint8Array(buffer, at.ordered, end - start);
          for (let i = start; i < end; i++) expect(ordered[i - start]).toBe(codes[rowIndices[i]]);
          histogramCountedKernel(kernels, k)(at.rows, start, end, at.ordered, at.desc);
          for (let g = 0; g < k; g++) {
            const out = new Float64Array(buffer, at.outs + g * 256 * 24, expected[g].length);
            expect(Array.from(out)).toEqual(Array.from(expected[g]));
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('draw a bootstrap as Random does in JavaScript, leave the generator where it would be, and list the rows drawn', () => {
    // row counts past 2^21, where the product of 32 random bits and the row count no longer fits a double exactly
    const most = 3_000_001;
    const arena = new Arena();
    const at = {
      state: arena.reserve(16),
      draws: arena.reserve(most * 2),
      labels: arena.reserve(most),
      positions: arena.reserve(most * 4),
      codes: arena.reserve(most),
    };
    const memory = arena.create();
    const kernels = instantiateKernels(memory);
    const state = new Uint32Array(memory.buffer, at.state, 4);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.constantFrom(1, 2, 17, 1000, most),
        fc.double({ min: 0.01, max: 1.5, noNaN: true }),
        (seed, rowCount, share) => {
          const samples = Math.max(1, Math.round(share * Math.min(rowCount, 200_000)));
          const labels = new Uint8Array(memory.buffer, at.labels, rowCount);
          for (let row = 0; row < rowCount; row++) labels[row] = (row * 7) % 3 === 0 ? 1 : 0;
          const expected = new Uint16Array(rowCount);
          const reference = new Random(seed);
          for (let s = 0; s < samples; s++)
            expected[Math.floor((reference.nextUint32() * rowCount) / 4294967296)]++;
          const random = new Random(seed);
          random.saveState(state);
          const largest = kernels.bootstrapDraws(at.state, samples, rowCount, at.draws);
          random.restoreState(state);
          const draws = new Uint16Array(memory.buffer, at.draws, rowCount);
          // element by element, counting differences (a matcher over millions of elements takes seconds)
          let differences = 0;
          for (let row = 0; row < rowCount; row++) differences += draws[row] === expected[row] ? 0 : 1;
          expect(differences).toBe(0);
          expect(largest).toBe(expected.reduce((top, times) => Math.max(top, times), 0));
          expect(random.nextUint32()).toBe(reference.nextUint32());

          const count = kernels.codeRows(at.draws, at.labels, rowCount, at.positions, at.codes);
          const drawn: number[] = [];
          expected.forEach((times, row) => {
            if (times > 0) drawn.push(row);
          });
          expect(count).toBe(drawn.length);
          const positions = new Uint32Array(memory.buffer, at.positions, count);
          const codes = new Uint8Array(memory.buffer, at.codes, rowCount);
          drawn.forEach((row, k) => {
            differences += positions[k] === row ? 0 : 1;
            differences += codes[row] === expected[row] * 2 + labels[row] ? 0 : 1;
          });
          expect(differences).toBe(0);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('partition a range stably by a lookup table and number the leaves of rows', () => {
    const { kernels, buffer, at, column } = setUp();
    const rowIndices = new Uint32Array(buffer, at.rows, rows);
    for (let i = 0; i < rows; i++) rowIndices[i] = i;
    const table = new Uint8Array(buffer, at.table, 256);
    for (let b = 0; b < 256; b++) table[b] = b < 10 ? 1 : 0;
    const start = 100;
    const end = 900;
    const middle = kernels.partition(at.column, at.table, at.rows, start, end, at.scratchRows);
    const range = Array.from({ length: end - start }, (_, k) => k + start);
    const left = range.filter((row) => column[row] < 10);
    const right = range.filter((row) => column[row] >= 10);
    expect(middle).toBe(start + left.length);
    expect(Array.from(rowIndices.subarray(start, end))).toEqual([...left, ...right]);
    expect(rowIndices[0]).toBe(0);
    expect(rowIndices[end]).toBe(end);

    const leafOf = new Uint16Array(buffer, at.leafOf, rows);
    kernels.scatterLeaf(at.rows, start, middle, at.leafOf, 7);
    for (const row of left) expect(leafOf[row]).toBe(7);
    for (const row of right) expect(leafOf[row]).toBe(0);
  });

  it('add the last tree and compute log-loss and squared-error gradients as the JavaScript formulas do, rounded to their grids', () => {
    const { kernels, buffer, at, random } = setUp();
    const raw = new Float64Array(buffer, at.raw, rows);
    const y = new Float64Array(buffer, at.y, rows);
    const weights = new Float64Array(buffer, at.weights, rows);
    const leafOf = new Uint16Array(buffer, at.leafOf, rows);
    const leafValues = new Float64Array(buffer, at.leafValues, 8);
    const gh = new Float64Array(buffer, at.gh, 2 * rows);
    const rowIndices = new Uint32Array(buffer, at.rows, rows);
    for (let i = 0; i < rows; i++) {
      raw[i] = (random.next() - 0.5) * 60;
      y[i] = random.next() < 0.3 ? 1 : 0;
      weights[i] = 0.5 + random.next();
      leafOf[i] = random.nextInt(8);
    }
    for (let k = 0; k < 8; k++) leafValues[k] = random.nextNormal();
    // scores past exp's clamp on both sides, at it, and both zeros: the two-row form clamps as fastExp does
    raw.set([1000, -1000, 700.25, -700.25, 699.75, 0, -0, 1e308, -1e308], 100);
    // each pass on its own grids: coarse ones (every value rounded visibly), fine ones, one of each
    const grids = [
      [2 ** -3, 2 ** -5],
      [2 ** -40, 2 ** -42],
      [2 ** -20, 2 ** -4],
      [1, 2 ** -30],
    ];
    let gridG = 0;
    let gridH = 0;
    /**
     * The nearest multiple of `grid` (of two, the even one), for values up to 2^51 grids (the kernels'
     * bound: exactGrid keeps every row's value below it); beyond, the kernel's own value is taken.
     */
    const onGrid = (value: number, grid: number, actual: number): number => {
      if (!(Math.abs(value) <= 2 ** 51 * grid)) return actual;
      const scaled = value / grid;
      const floor = Math.floor(scaled);
      const rest = scaled - floor;
      const whole = rest > 0.5 || (rest === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
      return whole * grid + 0;
    };
    // one pass over every row: weights read only by the weighted kernels, row order reset when asked
    const pass = (
      kernel: typeof kernels.boostLogLoss,
      weighted: boolean,
      resetRows: boolean,
      grid: number[],
    ): void => {
      [gridG, gridH] = grid;
      kernel(
        0,
        rows,
        at.raw,
        at.y,
        weighted ? at.weights : 0,
        at.leafOf,
        at.leafValues,
        at.gh,
        at.tables,
        resetRows ? at.rows : 0,
        gridG,
        gridH,
      );
    };
    const before = Float64Array.from(raw);
    pass(kernels.boostLogLossWeighted, true, true, grids[0]);
    let rounded = 0;
    for (let i = 0; i < rows; i++) {
      const score = before[i] + leafValues[leafOf[i]];
      const p = 1 / (1 + fastExp(-score));
      expect(raw[i]).toBe(score);
      expect(gh[2 * i]).toBe(onGrid(weights[i] * (p - y[i]), gridG, gh[2 * i]));
      expect(gh[2 * i + 1]).toBe(onGrid(weights[i] * p * (1 - p), gridH, gh[2 * i + 1]));
      if (gh[2 * i] !== weights[i] * (p - y[i])) rounded++;
      expect(rowIndices[i]).toBe(i);
    }
    // the coarse grid moved most values (the check above is not of unrounded values)
    expect(rounded).toBeGreaterThan(rows / 2);
    const scores = Float64Array.from(raw);
    pass(kernels.boostSquaredError, false, false, grids[1]);
    for (let i = 0; i < rows; i++) {
      const score = scores[i] + leafValues[leafOf[i]];
      expect(gh[2 * i]).toBe(onGrid(score - y[i], gridG, gh[2 * i]));
      expect(gh[2 * i + 1]).toBe(1);
    }
    const afterSquared = Float64Array.from(raw);
    pass(kernels.boostLogLoss, false, false, grids[2]);
    for (let i = 0; i < rows; i++) {
      const score = afterSquared[i] + leafValues[leafOf[i]];
      const p = 1 / (1 + fastExp(-score));
      expect(gh[2 * i]).toBe(onGrid(p - y[i], gridG, gh[2 * i]));
      expect(gh[2 * i + 1]).toBe(onGrid(p * (1 - p), gridH, gh[2 * i + 1]));
    }
    const afterLogLoss = Float64Array.from(raw);
    pass(kernels.boostSquaredErrorWeighted, true, false, grids[3]);
    for (let i = 0; i < rows; i++) {
      const score = afterLogLoss[i] + leafValues[leafOf[i]];
      expect(gh[2 * i]).toBe(onGrid(weights[i] * (score - y[i]), gridG, gh[2 * i]));
      expect(gh[2 * i + 1]).toBe(onGrid(weights[i], gridH, gh[2 * i + 1]));
    }
  });

  it('add and subtract runs of doubles two at a time exactly as one at a time, leaving the doubles around them alone', () => {
    const most = 301;
    const arena = new Arena();
    const at = { target: arena.reserve((most + 4) * 8), source: arena.reserve((most + 4) * 8) };
    const memory = arena.create();
    const kernels = instantiateKernels(memory);
    const target = new Float64Array(memory.buffer, at.target, most + 4);
    const source = new Float64Array(memory.buffer, at.source, most + 4);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 0, max: most }),
        // an odd first double: the pairs are 8-byte aligned only
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (seed, count, first, adding) => {
          const random = new Random(seed);
          for (let k = 0; k < target.length; k++) {
            target[k] = random.nextNormal() * 1e3;
            source[k] = random.nextNormal() * 1e-3;
          }
          const expected = Float64Array.from(target);
          for (let k = first; k < first + count; k++)
            expected[k] = adding ? expected[k] + source[k] : expected[k] - source[k];
          (adding ? kernels.addDoubles : kernels.subtractDoubles)(
            at.target + first * 8,
            at.source + first * 8,
            count,
          );
          expect(Array.from(target)).toEqual(Array.from(expected));
        },
      ),
      { numRuns: 200 },
    );
  });

  it("scan one feature's bins for the best Newton split exactly as the documented loop does", () => {
    const arena = new Arena();
    const at = { histogram: arena.reserve(257 * 24), best: arena.reserve(6 * 8) };
    const memory = arena.create();
    const kernels = instantiateKernels(memory);
    const histogram = new Float64Array(memory.buffer, at.histogram, 257 * 3);
    const best = new Float64Array(memory.buffer, at.best, 6);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 40 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom(0, 1e-3, 5),
        fc.constantFrom(0, 1),
        fc.constantFrom(0, 0.5),
        (seed, bins, missing, minSamples, minHessian, l2, startGain) => {
          const random = new Random(seed);
          let total = 0;
          let sumG = 0;
          let sumH = 0;
          for (let b = 0; b < bins + (missing ? 1 : 0); b++) {
            // empty bins and zero-hessian bins too: the scan must skip what cannot split
            const count = random.next() < 0.2 ? 0 : 1 + random.nextInt(9);
            const h = count === 0 || random.next() < 0.1 ? 0 : count * random.next();
            histogram[3 * b] = count === 0 ? 0 : random.nextNormal() * count;
            histogram[3 * b + 1] = h;
            histogram[3 * b + 2] = count;
            total += count;
            sumG += histogram[3 * b];
            sumH += h;
          }
          const parent = (sumG * sumG) / (sumH + l2);
          // the plain loop of the grower's split search (pass 0: missing right; pass 1: missing left)
          const expected = [startGain, -1, -1, -1, -1, -1];
          best.set(expected);
          let improved = 0;
          const m = 3 * bins;
          const [mG, mH, mC] = missing ? [histogram[m], histogram[m + 1], histogram[m + 2]] : [0, 0, 0];
          for (let pass = 0; pass < 2; pass++) {
            if (pass === 1 && mC === 0) break;
            let [lG, lH, lC] = pass === 1 ? [mG, mH, mC] : [0, 0, 0];
            const last = pass === 0 && mC > 0 ? bins - 1 : bins - 2;
            for (let b = 0; b <= last; b++) {
              lG += histogram[3 * b];
              lH += histogram[3 * b + 1];
              lC += histogram[3 * b + 2];
              if (lC < minSamples || lH < minHessian) continue;
              const rC = total - lC;
              const rH = sumH - lH;
              if (rC < minSamples || rH < minHessian) break;
              const rG = sumG - lG;
              const gain = (lG * lG) / (lH + l2) + (rG * rG) / (rH + l2) - parent;
              if (gain > expected[0] && gain < Infinity) {
                expected.splice(0, 6, gain, b, mC > 0 ? pass : lC >= rC ? 1 : 0, lG, lH, lC);
                improved = 1;
              }
            }
          }
          const found = kernels.scanBins(
            at.histogram,
            bins,
            missing ? 1 : 0,
            total,
            sumG,
            sumH,
            minSamples,
            minHessian,
            l2,
            parent,
            at.best,
          );
          expect(found).toBe(improved);
          expect(Array.from(best)).toEqual(expected);
          expect(best[SCAN_RECORD.gain]).toBe(expected[0]);
        },
      ),
      { numRuns: 300 },
    );
    // equal sides without missing values: unseen values go left (the larger-or-equal side)
    histogram.set([1, 1, 5, -1, 1, 5]);
    best.fill(0);
    expect(kernels.scanBins(at.histogram, 2, 0, 10, 0, 2, 1, 0, 0, 0, at.best)).toBe(1);
    expect(best[SCAN_RECORD.bin]).toBe(0);
    expect(best[SCAN_RECORD.missingLeft]).toBe(1);
    expect(best[SCAN_RECORD.leftCount]).toBe(5);
  });

  it('searches a list of features, packed ones expanded, as one scanBins call a feature in order does', () => {
    // up to 6 groups of 256 codes; a group holds one feature (its codes are its bins) or two packed ones
    // (code = first digit × second feature's bins + second digit)
    const arena = new Arena();
    const at = {
      slot: arena.reserve(6 * 256 * 24),
      table: arena.reserve(12 * SEARCH_ENTRY_BYTES),
      digits: arena.reserve(12 * 256),
      expanded: arena.reserve(256 * 24),
      best: arena.reserve(6 * 8),
      reference: arena.reserve(256 * 24),
      referenceBest: arena.reserve(6 * 8),
    };
    const memory = arena.create();
    const kernels = instantiateKernels(memory);
    const slot = new Float64Array(memory.buffer, at.slot, 6 * 256 * 3);
    const table = new Int32Array(memory.buffer, at.table, 12 * 6);
    const best = new Float64Array(memory.buffer, at.best, 6);
    const reference = new Float64Array(memory.buffer, at.reference, 256 * 3);
    const referenceBest = new Float64Array(memory.buffer, at.referenceBest, 6);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(fc.record({ packed: fc.boolean(), bins: fc.integer({ min: 2, max: 14 }) }), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.constantFrom(0, 3),
        fc.constantFrom(0, 1),
        (seed, groups, minSamples, l2) => {
          const random = new Random(seed);
          // every group's rows: the same total, gradient and hessian sums (they are one node's)
          const node = Array.from({ length: 400 }, () => ({
            g: random.nextNormal(),
            h: random.next() < 0.1 ? 0 : random.next(),
            missing: random.next() < 0.1,
          }));
          const sumG = node.reduce((sum, row) => sum + row.g, 0);
          const sumH = node.reduce((sum, row) => sum + row.h, 0);
          const parent = (sumG * sumG) / (sumH + l2);
          const features: {
            offset: number;
            valueBins: number;
            missing: number;
            digits: Uint8Array | null;
            groupBins: number;
          }[] = [];
          slot.fill(0);
          groups.forEach(({ packed, bins }, g) => {
            const second = packed ? 2 + (bins % 3) : 1;
            const groupBins = packed ? (bins + 1) * second : bins + 1;
            const offset = g * 256 * 24;
            for (const row of node) {
              // a skewed draw leaves some codes without rows
              const d1 = row.missing ? bins : Math.floor(random.next() ** 2 * bins);
              const d2 = random.nextInt(second);
              const code = packed ? d1 * second + d2 : d1;
              slot[offset / 8 + 3 * code] += row.g;
              slot[offset / 8 + 3 * code + 1] += row.h;
              slot[offset / 8 + 3 * code + 2] += 1;
            }
            if (!packed) {
              features.push({ offset, valueBins: bins, missing: 1, digits: null, groupBins });
              return;
            }
            // the first feature's digit of a code, then the second's (the second has no missing bin)
            const first = Uint8Array.from({ length: groupBins }, (_, code) => Math.floor(code / second));
            const other = Uint8Array.from({ length: groupBins }, (_, code) => code % second);
            features.push({ offset, valueBins: bins, missing: 1, digits: first, groupBins });
            features.push({ offset, valueBins: second, missing: 0, digits: other, groupBins });
          });
          // some features left out (column subsampling), the others in order
          const listed = features.map((feature, f) => ({ ...feature, f })).filter(() => random.next() < 0.8);
          listed.forEach((feature, k) => {
            const digitsAt = at.digits + k * 256;
            if (feature.digits) new Uint8Array(memory.buffer, digitsAt, 256).set(feature.digits);
            table.set(
              [
                feature.offset,
                feature.valueBins,
                feature.missing,
                feature.digits ? digitsAt : 0,
                feature.groupBins,
                feature.f,
              ],
              (k * SEARCH_ENTRY_BYTES) / 4,
            );
          });
          expect(SEARCH_ENTRY.feature).toBe(20);
          // the reference: expandFeature and one scanBins call a feature
          referenceBest.fill(0);
          let expected = -1;
          for (const feature of listed) {
            let histogramAt = at.slot + feature.offset;
            if (feature.digits) {
              const featureBins = feature.valueBins + feature.missing;
              expandFeature(
                slot,
                feature.offset / 8,
                feature.groupBins,
                feature.digits,
                featureBins,
                reference,
                0,
              );
              histogramAt = at.reference;
            }
            const improved = kernels.scanBins(
              histogramAt,
              feature.valueBins,
              feature.missing,
              node.length,
              sumG,
              sumH,
              minSamples,
              1e-3,
              l2,
              parent,
              at.referenceBest,
            );
            if (improved === 1) expected = feature.f;
          }
          best.fill(0);
          const found = kernels.searchFeatures(
            at.slot,
            at.table,
            listed.length,
            node.length,
            sumG,
            sumH,
            minSamples,
            1e-3,
            l2,
            parent,
            at.best,
            at.expanded,
          );
          expect(found).toBe(expected);
          expect(Array.from(best)).toEqual(Array.from(referenceBest));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('computes exp within a few units in the last place of Math.exp', () => {
    const random = new Random(11);
    for (let i = 0; i < 10_000; i++) {
      const x = (random.next() - 0.5) * 80;
      const exact = Math.exp(x);
      expect(Math.abs(fastExp(x) - exact) / exact).toBeLessThan(1e-15);
    }
    expect(fastExp(0)).toBe(1);
    expect(Number.isFinite(fastExp(1000))).toBe(true);
    expect(fastExp(-1000)).toBeGreaterThanOrEqual(0);
  });
});
