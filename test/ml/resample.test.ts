// The bootstrap's kernels against plain loops: the rows a resample draws (Random.nextInt's, rejection
// included), each row's count exact past a byte, the generator left where JavaScript's draws leave it,
// and the fold of the draws into the cells of tied scores.
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Random } from '../../src/core/random.js';
import { metricIntervals, rankedLayout } from '../../src/ml/card.js';
import type { MetricName } from '../../src/ml/metrics.js';
import { Resampler, ResampleThread, sumsOfCells } from '../../src/ml/resample.js';

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

describe('ResampleThread', () => {
  /** A ranked layout of `rows` rows with tied and distinct scores, and a generator's first state. */
  function job(rows: number, seed: number) {
    const random = new Random(seed);
    const y = Float64Array.from({ length: rows }, () => (random.next() < 0.2 ? 1 : 0));
    const scores = Float64Array.from(y, (label) => Math.round((label + random.nextNormal()) * 50) / 50);
    const layout = rankedLayout(y, scores, 0.5);
    const state = new Uint32Array(4);
    new Random(seed + 1).saveState(state);
    return { layout, state };
  }

  /** Resamples [first, first + count) drawn on the calling thread. */
  function drawnHere(
    rows: number,
    layout: ReturnType<typeof rankedLayout>,
    state: Uint32Array,
    first: number,
    count: number,
  ) {
    const random = new Random();
    random.restoreState(state);
    const resampler = Resampler.create(rows, layout);
    resampler.skip(random, first);
    return Array.from({ length: count }, () => {
      resampler.draw(random);
      return resampler.rankedSums();
    });
  }

  it('draws on a worker the resamples the calling thread would draw from where they start', () => {
    const rows = 3000;
    const { layout, state } = job(rows, 11);
    const thread = ResampleThread.start({ rows, ranked: layout, state, first: 7, count: 5 });
    expect(thread!.finish()).toEqual(drawnHere(rows, layout, state, 7, 5));
  });

  it('gives back nothing, without hanging, from a worker that fails or never gets going', () => {
    const rows = 500;
    const { layout, state } = job(rows, 3);
    for (const script of ['throw new Error("the worker fails as it starts")', 'while (true) {}']) {
      const thread = ResampleThread.start(
        { rows, ranked: layout, state, first: 0, count: 4 },
        new URL(`data:text/javascript,${encodeURIComponent(script)}`),
      );
      expect(thread!.finish()).toEqual([]);
    }
  });

  it('keeps what a worker finished before it stalled', () => {
    const rows = 500;
    const { layout, state } = job(rows, 5);
    // writes two resamples' sums (made-up numbers), says so, then stops answering
    const script = `
      import { workerData } from 'node:worker_threads';
      const sums = new Float64Array(workerData.sums);
      sums.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      const control = new Int32Array(workerData.control);
      Atomics.store(control, 0, 2);
      Atomics.notify(control, 0);
      while (true) {}
    `;
    const thread = ResampleThread.start(
      { rows, ranked: layout, state, first: 0, count: 6 },
      new URL(`data:text/javascript,${encodeURIComponent(script)}`),
    );
    expect(thread!.finish()).toEqual([
      { tp: 1, fp: 2, area: 3, precisionSum: 4, tpAtThreshold: 5, fpAtThreshold: 6 },
      { tp: 7, fp: 8, area: 9, precisionSum: 10, tpAtThreshold: 11, fpAtThreshold: 12 },
    ]);
  });
});

describe('metricIntervals on two threads', () => {
  /** A test part large enough for a second thread: 250,000 rows × 200 resamples. */
  function testPart() {
    const random = new Random(8);
    const rows = 250_000;
    const yTrue = Float64Array.from({ length: rows }, () => (random.next() < 0.15 ? 1 : 0));
    const scores = Float64Array.from(
      yTrue,
      (label) => 1 / (1 + Math.exp(-(label * 1.5 + random.nextNormal()))),
    );
    return { yTrue, scores, metrics: ['roc_auc', 'pr_auc', 'f1'] as MetricName[], resamples: 200, seed: 4 };
  }

  it('gives the intervals of one thread, bit for bit, with resamples drawn by the worker', () => {
    const part = testPart();
    const finish = vi.spyOn(ResampleThread.prototype, 'finish');
    try {
      expect(metricIntervals({ ...part, threads: 2 })).toEqual(metricIntervals({ ...part, threads: 1 }));
      // the worker took part: it gave back resamples
      expect(finish).toHaveBeenCalledTimes(1);
      expect(finish.mock.results[0].value.length).toBeGreaterThan(0);
    } finally {
      finish.mockRestore();
    }
  });

  it('draws the rest itself, to the same intervals, when its worker fails, stalls or cannot start', () => {
    const part = testPart();
    const serial = metricIntervals({ ...part, threads: 1 });
    const start = ResampleThread.start.bind(ResampleThread);
    // a worker that fails as it starts, one that never gets going, and no thread at all (a URL no worker
    // can load, refused when the thread is made)
    for (const script of [
      `data:text/javascript,${encodeURIComponent('throw new Error("no worker")')}`,
      `data:text/javascript,${encodeURIComponent('while (true) {}')}`,
      'http://example.invalid/resample-worker.js',
    ]) {
      const spy = vi.spyOn(ResampleThread, 'start').mockImplementation((job) => start(job, new URL(script)));
      try {
        expect(metricIntervals({ ...part, threads: 2 })).toEqual(serial);
        expect(spy).toHaveBeenCalledTimes(1);
      } finally {
        spy.mockRestore();
      }
    }
  });
});
