// Tree learning over threads: binning shared with workers gives the same edges and bytes as binning on
// one thread, and boosting and forests learn bit-identical models on 1, 2 and 3 threads (3 is more
// threads than this machine's cores: workers that wake late must take no work and change nothing).
// Threads > 1 start the compiled worker in dist/ (`npm test` builds it first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { GradientBoostingModel } from '../../../src/ml/models/gbdt.js';
import { RandomForestModel } from '../../../src/ml/models/forest.js';
import { Random } from '../../../src/core/random.js';
import { binOf, dealtRow, packFeatures, SharedBinning } from '../../../src/ml/tree/binning.js';
import { binMatrix, fitBinMapper } from './binning-reference.js';
import {
  BoostingThreads,
  currentSequence,
  serveOperations,
  StartingWorkers,
  stopWarmWorkers,
  trainingWorkerCounts,
  trainingWorkersWarmedUp,
  warmTrainingWorkers,
} from '../../../src/ml/tree/threads.js';
import {
  BOOSTING_WARM_UP_TREES_PER_ROUND,
  WARM_UP_ROUNDS,
  WARM_UP_TREES_PER_ROUND,
} from '../../../src/ml/tree/warm-up.js';
import { LocalNodeOperations } from '../../../src/ml/tree/grower.js';
import { BIN_STRIDE } from '../../../src/ml/tree/kernels.js';
import { addSegmentSums, exactGrid } from '../../../src/ml/tree/histogram.js';
import { planForestWorkspaces, planWorkspace, Workspace } from '../../../src/ml/tree/workspace.js';
import { allocateColumns } from '../../../src/ml/types.js';
import { classification, matrixOf } from '../trees.js';
import { hasSklearnTables, SKLEARN_DATA } from '../../fixtures/public-tables.js';
import { distModule, runWithAndWithoutThreads } from '../../helpers/threads.js';

/** scikit-learn's breast cancer table (569 rows, 30 measurements, the class last) as a matrix and labels. */
function breastCancer(): { X: ReturnType<typeof matrixOf>; y: Float64Array } {
  const [, ...lines] = readFileSync(join(SKLEARN_DATA, 'breast_cancer.csv'), 'utf8').trim().split('\n');
  const rows = lines.map((line) => line.split(',').map(Number));
  const columns = Array.from({ length: 30 }, (_, f) => Float64Array.from(rows, (row) => row[f]));
  return { X: matrixOf(columns), y: Float64Array.from(rows, (row) => row[30]) };
}

/** Columns of a few kinds: binary, small whole numbers, wide whole numbers, fractions, with some missing. */
function columnsOf(rows: number, seed: number): Float64Array[] {
  const random = new Random(seed);
  const missing = (value: number): number => (random.next() < 0.03 ? NaN : value);
  return [
    Float64Array.from({ length: rows }, () => random.nextInt(2)),
    Float64Array.from({ length: rows }, () => missing(random.nextInt(40))),
    Float64Array.from({ length: rows }, () => random.nextInt(100_000)),
    Float64Array.from({ length: rows }, () => missing(random.nextNormal())),
    Float64Array.from({ length: rows }, () => random.nextInt(3)),
  ];
}

/** `column` as it is, or copied into a matrix's shared columns (as the training transform allocates them). */
function placed(column: Float64Array, inSharedMemory: boolean): Float64Array {
  if (!inSharedMemory) return column;
  const [shared] = allocateColumns(column.length, 1, true);
  shared.set(column);
  return shared;
}

/** A module of the compiled build, as a quoted URL to import from a script run in a process of its own. */
const module = distModule;

/**
 * The start of a script run in a process of its own: `rows` rows of four random columns (`columns`)
 * binned into two segments (`data`), and the kernels' scratch sizes.
 */
function binnedScript(rows: number, seed: number): string {
  return `import { Random } from ${module('core/random.js')};
import { SharedBinning } from ${module('ml/tree/binning.js')};
import { BUNDLE_MAX, KERNEL_SCRATCH_BYTES } from ${module('ml/tree/kernels.js')};
const rows = ${rows};
const random = new Random(${seed});
const columns = Array.from({ length: 4 }, () => Float64Array.from({ length: rows }, () => random.nextNormal()));
const data = SharedBinning.prepare({ rows, cols: 4, names: ['a', 'b', 'c', 'd'], columns }, 255, new Random(1), 1, 2).bin();
`;
}

/**
 * Runs `source` in a process of its own and expects it to print PW_INTERNAL and end by itself: a calling
 * thread that waited for a failed thread would block (synchronously) until the spawn's guard kills it.
 */
function expectInternalFailure(name: string, source: string): void {
  const script = join(mkdtempSync(join(tmpdir(), 'pw-failing-')), `${name}.mjs`);
  writeFileSync(script, source);
  const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
  expect(result.signal).toBeNull();
  expect(result.stdout.trim()).toBe('PW_INTERNAL');
  expect(result.status).toBe(0);
}

describe('tree learning over threads', () => {
  it('bins shared data exactly as one thread does, whichever thread takes which feature', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 2, max: 255 }),
        fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
        (rows, seed, maxBins, inSharedMemory) => {
          const X = matrixOf(inSharedMemory.map((inShared, f) => placed(columnsOf(rows, seed)[f], inShared)));
          const mapper = fitBinMapper(X, maxBins, new Random(seed));
          const expected = binMatrix(X, mapper, packFeatures(mapper));
          // shared for two threads, but with no worker started: the calling thread takes every part
          const binning = SharedBinning.prepare(X, maxBins, new Random(seed), 2);
          const job = binning.job!;
          // columns already in shared memory are read in place, the others copied into it
          inSharedMemory.forEach((inShared, f) => {
            expect(job.columns[f] === X.columns[f]).toBe(inShared);
            expect(job.columns[f].buffer).toBeInstanceOf(SharedArrayBuffer);
          });
          const shared = binning.bin();
          expect(shared.mapper.edges.map((edges) => Array.from(edges))).toEqual(
            mapper.edges.map((edges) => Array.from(edges)),
          );
          expect(Array.from(shared.mapper.hasMissing)).toEqual(Array.from(mapper.hasMissing));
          expect(shared.columns.map((column) => Array.from(column))).toEqual(
            expected.columns.map((column) => Array.from(column)),
          );
        },
      ),
      { numRuns: 25 },
    );
  });

  it('bins a field missing in whole blocks of rows (recorded late, or never) as one thread does', () => {
    // the first 70,000 rows miss the late field (more than one binning block); the last field is never recorded
    const rows = 90_000;
    const random = new Random(21);
    const late = Float64Array.from({ length: rows }, (_, i) => (i < 70_000 ? NaN : random.nextInt(40)));
    const never = new Float64Array(rows).fill(NaN);
    const X = matrixOf([late, Float64Array.from({ length: rows }, () => random.nextInt(7)), never]);
    const mapper = fitBinMapper(X, 255, new Random(3));
    const expected = binMatrix(X, mapper, packFeatures(mapper));
    const shared = SharedBinning.prepare(X, 255, new Random(3), 2).bin();
    for (let g = 0; g < expected.columns.length; g++)
      expect(Buffer.compare(Buffer.from(shared.columns[g]), Buffer.from(expected.columns[g]))).toBe(0);
    // every missing cell sits in its feature's missing bin
    const layout = packFeatures(mapper);
    const lateBins = layout.digits[0];
    expect(lateBins[expected.columns[layout.featureGroup[0]][0]]).toBe(binOf(mapper.edges[0], NaN));
  });

  it('bins with a worker reading the matrix in shared memory the same bytes as on one thread, for a sampled large matrix', async () => {
    const X = matrixOf(columnsOf(210_000, 4).map((column) => placed(column, true)));
    const mapper = fitBinMapper(X, 255, new Random(9));
    const expected = binMatrix(X, mapper, packFeatures(mapper));
    const binning = SharedBinning.prepare(X, 255, new Random(9), 2);
    const workers = StartingWorkers.start(1);
    workers.share(binning.job);
    try {
      // the worker joins when it has started: wait for it, so that it takes part of the work
      await workers.ready();
      const shared = binning.bin();
      expect(shared.mapper.edges.map((edges) => Array.from(edges))).toEqual(
        mapper.edges.map((edges) => Array.from(edges)),
      );
      for (let g = 0; g < expected.columns.length; g++)
        expect(Buffer.compare(Buffer.from(shared.columns[g]), Buffer.from(expected.columns[g]))).toBe(0);
    } finally {
      await workers.stop();
    }
  });

  it('bins the rows into the order of 2 or 3 segments, alone or with a worker, each row where dealtRow puts it', async () => {
    // more rows than a binning block (65,536), which 3 does not divide: blocks start inside a segment's turn
    const rows = 150_001;
    const X = matrixOf(columnsOf(rows, 5));
    const mapper = fitBinMapper(X, 255, new Random(4));
    const expected = binMatrix(X, mapper, packFeatures(mapper));
    for (const segments of [2, 3]) {
      for (const threads of [1, 2]) {
        const binning = SharedBinning.prepare(X, 255, new Random(4), threads, segments);
        const workers = StartingWorkers.start(threads - 1);
        workers.share(binning.job);
        try {
          await workers.ready();
          const dealt = binning.bin();
          expect(dealt.segments).toBe(segments);
          for (let g = 0; g < expected.columns.length; g++) {
            const wanted = new Uint8Array(rows);
            for (let row = 0; row < rows; row++)
              wanted[dealtRow(row, rows, segments)] = expected.columns[g][row];
            expect(Buffer.compare(Buffer.from(dealt.columns[g]), Buffer.from(wanted))).toBe(0);
          }
        } finally {
          await workers.stop();
        }
      }
    }
  });

  it("sums a node's histogram by segments, on a worker and the calling thread, to the bits of one pass over its rows", async () => {
    const X = matrixOf(columnsOf(70_000, 21));
    // the codes dealt to two segments, as a two-thread boosting fit bins them
    const data = SharedBinning.prepare(X, 255, new Random(1), 1, 2).bin();
    const { mapper, layout } = data;
    const { plan, memory } = planWorkspace(X.rows, layout, 2, 2, undefined, false, 2);
    const workspace = new Workspace(memory, plan, mapper, layout, data);
    workspace.groupActive.fill(1);
    const random = new Random(22);
    // gradients on a grid, as boosting rounds them: their sums are exact in any grouping
    const shift = 1.5 * 2 ** 52 * exactGrid(16, X.rows);
    for (let i = 0; i < workspace.gh.length; i++) workspace.gh[i] = random.nextNormal() + shift - shift;
    // a node's positions: an ascending subset of the rows, not starting at 0, in two uneven segments
    const start = 1_000;
    let end = start;
    for (let row = 0; row < X.rows; row++) if (random.next() < 0.8) workspace.rows[end++] = row;
    const middle = start + Math.floor((end - start) / 3);
    new LocalNodeOperations(workspace).build(0, start, end, false);
    const one = workspace.histograms.slice(0, workspace.slotLength);
    const sums = new Float64Array(workspace.slotLength);
    for (let i = start; i < end; i++) {
      const row = workspace.rows[i];
      for (let g = 0; g < layout.groups; g++) {
        const at = (layout.groupOffset[g] + workspace.data.columns[g][row]) * 3;
        sums[at] += workspace.gh[2 * row];
        sums[at + 1] += workspace.gh[2 * row + 1];
        sums[at + 2] += 1;
      }
    }
    expect(Array.from(one)).toEqual(Array.from(sums));
    const starting = StartingWorkers.start(1);
    starting.share(undefined);
    const threads = await BoostingThreads.start(workspace, await starting.ready());
    try {
      workspace.segmentRanges.set([start, middle, 0, middle, end, 0]);
      threads.buildSegments(1, false);
      addSegmentSums(workspace, 1, 2);
      expect(
        Array.from(workspace.histograms.subarray(workspace.slotLength, 2 * workspace.slotLength)),
      ).toEqual(Array.from(one));
    } finally {
      await threads.close();
      await starting.stop();
    }
  });

  it('boosts the same model on 1 and 2 threads over a wide table for any growth, leaf count, depth, leaf size, column share, L2 and loss', async () => {
    // 9,000 rows of 64 columns: each split's children are stepped by parts of the columns on two threads
    const columns = Array.from({ length: 13 }, (_, k) => columnsOf(9_000, 90 + k))
      .flat()
      .slice(0, 64);
    const random = new Random(91);
    const target = Float64Array.from(
      columns[2],
      (value, i) => value / 50_000 + columns[7][i] / 40 + random.nextNormal(),
    );
    const classes = Float64Array.from(target, (value) => (value > 1 ? 1 : 0));
    const X = matrixOf(columns.map((column) => placed(column, true)));
    const state = (model: { toJSON(): { state: unknown } }): string => JSON.stringify(model.toJSON().state);
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          growth: fc.constantFrom('leafwise', 'depthwise'),
          max_leaf_nodes: fc.integer({ min: 2, max: 31 }),
          max_depth: fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }),
          min_samples_leaf: fc.integer({ min: 1, max: 400 }),
          colsample: fc.constantFrom(1, 0.5, 0.1),
          l2_regularization: fc.constantFrom(0, 1),
          loss: fc.constantFrom('log_loss', 'squared_error'),
          random_state: fc.integer({ min: 0, max: 1000 }),
        }),
        async (settings) => {
          const params = { ...settings, max_iter: 3, early_stopping: false } as const;
          const y = settings.loss === 'log_loss' ? classes : target;
          const one = await new GradientBoostingModel({ ...params, threads: 1 }).fit(X, y);
          const two = await new GradientBoostingModel({ ...params, threads: 2 }).fit(X, y);
          expect(state(two)).toBe(state(one));
        },
      ),
      { numRuns: 12 },
    );
  });

  it("ends a shared step with PW_INTERNAL when a worker fails in it, rather than waiting for the worker's piece", () => {
    expectInternalFailure(
      'failing',
      `${binnedScript(70000, 23)}import { BoostingThreads, StartingWorkers } from ${module('ml/tree/threads.js')};
import { planWorkspace, Workspace } from ${module('ml/tree/workspace.js')};
const { plan, memory } = planWorkspace(rows, data.layout, 2, 2, undefined, false, 2);
// the worker's scratch starts before the memory (its descriptor, right after, still fits): its first
// segment's sums trap, while the calling thread's, on the first scratch, are sound
plan.kernelScratchAt[1] = -BUNDLE_MAX * KERNEL_SCRATCH_BYTES;
const workspace = new Workspace(memory, plan, data.mapper, data.layout, data);
workspace.groupActive.fill(1);
for (let i = 0; i < rows; i++) workspace.rows[i] = i;
workspace.segmentRanges.set([0, rows / 2, 0, rows / 2, rows, 0]);
const starting = StartingWorkers.start(1);
starting.share(undefined);
const threads = await BoostingThreads.start(workspace, await starting.ready());
// the worker takes a segment of the first histogram, or of a later one if it woke late (on a busy
// machine it can miss dozens of them)
let failure;
for (let attempt = 0; attempt < 1000 && failure === undefined; attempt++) {
  try {
    threads.buildSegments(0, true);
  } catch (error) {
    failure = error;
  }
}
// the failed worker is gone: stopping the threads does not wait for it
await threads.close();
await starting.stop();
console.log(failure?.code);`,
    );
  });

  it('trains the one-thread model on the calling thread, and says so, when no worker thread can be started', () => {
    const { refused, normal } = runWithAndWithoutThreads(
      `import { Random } from ${module('core/random.js')};
import { GradientBoostingModel } from ${module('ml/models/gbdt.js')};
import { RandomForestModel } from ${module('ml/models/forest.js')};
const rows = 70000;
const random = new Random(5);
const columns = Array.from({ length: 5 }, () => Float64Array.from({ length: rows }, () => random.nextNormal()));
const y = Float64Array.from({ length: rows }, (_, i) => (columns[0][i] - columns[3][i] > random.nextNormal() ? 1 : 0));
const X = { rows, cols: 5, names: ['a', 'b', 'c', 'd', 'e'], columns };
const out = {};
for (const [name, Model, params] of [
  ['gbdt', GradientBoostingModel, { max_iter: 8, early_stopping: false }],
  ['forest', RandomForestModel, { n_estimators: 5, max_depth: 6 }],
]) {
  const one = await new Model({ ...params, threads: 1 }).fit(X, y);
  const two = await new Model({ ...params, threads: 2 }).fit(X, y);
  out[name] = {
    same: JSON.stringify(two.toJSON().state) === JSON.stringify(one.toJSON().state),
    threads: two.fitThreads,
    fallback: two.fitFallback,
  };
}
console.log(JSON.stringify(out));`,
    );
    expect(refused.status).toBe(0);
    const result = JSON.parse(refused.stdout) as Record<
      string,
      { same: boolean; threads: number; fallback?: string }
    >;
    for (const name of ['gbdt', 'forest']) {
      expect(result[name].same).toBe(true);
      expect(result[name].threads).toBe(1);
      expect(result[name].fallback).toContain('no thread for this process');
    }
    // the same script where threads can be had trains on two, with nothing given up
    const trained = JSON.parse(normal.stdout) as typeof result;
    for (const name of ['gbdt', 'forest']) {
      expect(trained[name]).toEqual({ same: true, threads: 2 });
    }
  });

  it('boosts a bit-identical model on 1, 2 and 3 threads, with missing values, depth-wise or leaf-wise, rows in any order', async () => {
    // above the row counts at which boosting takes workers and histograms, partitions and gradient
    // passes are shared
    const columns = columnsOf(70_000, 11);
    const random = new Random(12);
    const y = Float64Array.from(columns[1], (value, i) =>
      (value !== value || value > 25) !== random.next() < 0.2 + 0.1 * columns[4][i] ? 1 : 0,
    );
    const data = { X: matrixOf(columns), y };
    // more byte columns than one histogram call sums (BUNDLE_MAX), so that each thread count cuts them
    // differently, and enough rows that nodes below the root are partitioned by pieces too
    const wideColumns = [...columnsOf(150_000, 15), ...columnsOf(150_000, 13), ...columnsOf(150_000, 14)];
    const wideY = Float64Array.from(wideColumns[1], (value, i) =>
      (value !== value || value > 25) !== random.next() < 0.2 + 0.1 * wideColumns[4][i] ? 1 : 0,
    );
    const wide = { X: matrixOf(wideColumns), y: wideY };
    // the rows in the order of the column the labels follow: a split on it leaves one thread's segment
    // with all of a child's rows and the others' with none
    const order = Array.from({ length: y.length }, (_, i) => i).sort(
      (a, b) =>
        (columns[1][a] !== columns[1][a] ? 99 : columns[1][a]) -
        (columns[1][b] !== columns[1][b] ? 99 : columns[1][b]),
    );
    const sorted = {
      X: matrixOf(columns.map((column) => Float64Array.from(order, (i) => column[i]))),
      y: Float64Array.from(order, (i) => y[i]),
    };
    for (const [params, { X, y: labels }] of [
      [{ max_iter: 8, early_stopping: false, max_leaf_nodes: 15 }, data],
      [{ max_iter: 8, early_stopping: false, growth: 'depthwise', max_depth: 4, max_leaf_nodes: null }, data],
      [{ max_iter: 4, early_stopping: false, max_leaf_nodes: 15 }, wide],
      [{ max_iter: 6, early_stopping: false, max_leaf_nodes: 15, loss: 'squared_error' }, sorted],
      // each tree on a draw of the rows: the same rows drawn whichever segments they are dealt to
      [{ max_iter: 6, early_stopping: false, max_leaf_nodes: 15, subsample: 0.6, colsample: 0.8 }, sorted],
    ] as const) {
      const states = [];
      for (const threads of [1, 2, 3]) {
        const model = await new GradientBoostingModel({ ...params, threads }).fit(X, labels);
        states.push(JSON.stringify(model.toJSON().state));
      }
      expect(states[1]).toBe(states[0]);
      expect(states[2]).toBe(states[0]);
    }
  });

  it("boosts a wide table of few rows on several threads, each split's children shared by parts of the features, to the one-thread model", async () => {
    // 14,000 rows of 44 columns: under the rows at which a narrow table takes workers, over the cells at
    // which a wide one does. The last four columns repeat four with a byte column of their own (so their
    // histograms are summed alike), far from their twins in the groups' order: a split on one has a twin of
    // equal gain in another part, and the one-thread search keeps the first.
    const sets = Array.from({ length: 8 }, (_, k) => columnsOf(14_000, 60 + k)).flat();
    const columns = [...sets, sets[2], sets[3], sets[7], sets[8]];
    const random = new Random(68);
    const y = Float64Array.from(columns[2], (value, i) =>
      value > 60_000 !== random.next() < 0.15 + 0.05 * columns[4][i] ? 1 : 0,
    );
    const X = matrixOf(columns.map((column) => placed(column, true)));
    const weights = Float64Array.from(y, (label, i) => (label === 1 ? 3 : 1) * (1 + (i % 3)));
    for (const [params, options] of [
      [{ max_iter: 6, early_stopping: false, max_leaf_nodes: 15 }, {}],
      [{ max_iter: 5, early_stopping: false, growth: 'depthwise', max_depth: 4, max_leaf_nodes: null }, {}],
      [{ max_iter: 5, early_stopping: false, subsample: 0.7, colsample: 0.6, random_state: 5 }, {}],
      [{ max_iter: 4, early_stopping: false, max_leaf_nodes: 15 }, { sampleWeight: weights }],
    ] as const) {
      const states = [];
      for (const threads of [1, 2, 3]) {
        const started = trainingWorkerCounts().started;
        const model = await new GradientBoostingModel({ ...params, threads }).fit(X, y, options);
        // a wide table takes its workers (from the idle pool, or started)
        if (threads > 1)
          expect(trainingWorkerCounts().started - started + trainingWorkerCounts().idle).toBeGreaterThan(0);
        states.push(JSON.stringify(model.toJSON().state));
      }
      expect(states[1]).toBe(states[0]);
      expect(states[2]).toBe(states[0]);
    }
    // the twins have the gains of the columns they repeat, and the first of each pair is kept
    const importance = (
      await new GradientBoostingModel({ max_iter: 6, early_stopping: false, threads: 1 }).fit(X, y)
    ).featureImportance();
    for (const original of [2, 3, 7, 8]) expect(importance[original]).toBeGreaterThan(0);
    for (let twin = 40; twin < 44; twin++) expect(importance[twin]).toBe(0);
  });

  it('boosts and grows the same models with workers warmed before the fit, and leaves none idle after stopping them', async () => {
    // enough rows for boosting to take workers
    const columns = columnsOf(70_000, 31);
    const y = Float64Array.from(columns[1], (value, i) => (value > 20 || columns[0][i] === 1 ? 1 : 0));
    const X = matrixOf(columns.map((column) => placed(column, true)));
    const boosting = { max_iter: 4, early_stopping: false, max_leaf_nodes: 15 } as const;
    const one = await new GradientBoostingModel({ ...boosting, threads: 1 }).fit(X, y);
    warmTrainingWorkers(2);
    const three = await new GradientBoostingModel({ ...boosting, threads: 3 }).fit(X, y);
    expect(JSON.stringify(three.toJSON().state)).toBe(JSON.stringify(one.toJSON().state));
    const forest = { n_estimators: 5, max_depth: 5 } as const;
    const forestOne = await new RandomForestModel({ ...forest, threads: 1 }).fit(X, y);
    // more warm workers than the fit takes: the one left over is stopped
    warmTrainingWorkers(2);
    const forestTwo = await new RandomForestModel({ ...forest, threads: 2 }).fit(X, y);
    expect(JSON.stringify(forestTwo.toJSON().state)).toBe(JSON.stringify(forestOne.toJSON().state));
    await stopWarmWorkers();
  });

  it('grows the same forest with a worker warmed up on a made-up forest, and a fit that comes stops the warm-up before its first tree', async () => {
    await stopWarmWorkers();
    const state = (model: { toJSON(): { state: unknown } }): string => JSON.stringify(model.toJSON().state);
    const X = matrixOf(columnsOf(20_000, 45).map((column) => placed(column, true)));
    const y = Float64Array.from(X.columns[1], (value, i) => (value > 20 || X.columns[4][i] === 2 ? 1 : 0));
    const forest = { n_estimators: 6, max_depth: 8 } as const;
    const one = state(await new RandomForestModel({ ...forest, threads: 1 }).fit(X, y));
    // left alone, the warm-up grows every tree of its rounds, then the fit takes the worker
    warmTrainingWorkers(1, 'forest');
    await trainingWorkersWarmedUp();
    expect(trainingWorkerCounts().warmUpTrees).toBe(WARM_UP_ROUNDS * WARM_UP_TREES_PER_ROUND);
    const started = trainingWorkerCounts().started;
    expect(state(await new RandomForestModel({ ...forest, threads: 2 }).fit(X, y))).toBe(one);
    expect(trainingWorkerCounts().started).toBe(started);
    await stopWarmWorkers();
    // a fit asked for at once: its message is the worker's next one after the request, so the warm-up
    // ends before it grows a tree, and the fit is the same
    warmTrainingWorkers(1, 'forest');
    expect(state(await new RandomForestModel({ ...forest, threads: 2 }).fit(X, y))).toBe(one);
    await trainingWorkersWarmedUp();
    expect(trainingWorkerCounts().warmUpTrees).toBe(0);
    // a boosting fit takes a worker warmed for a forest as any other
    const boosting = { max_iter: 3, early_stopping: false, max_leaf_nodes: 7 } as const;
    const shared = matrixOf(columnsOf(70_000, 46).map((column) => placed(column, true)));
    const sharedY = Float64Array.from(shared.columns[1], (value) => (value > 20 ? 1 : 0));
    const boostedOne = state(
      await new GradientBoostingModel({ ...boosting, threads: 1 }).fit(shared, sharedY),
    );
    await stopWarmWorkers();
    warmTrainingWorkers(1, 'forest');
    await trainingWorkersWarmedUp();
    expect(state(await new GradientBoostingModel({ ...boosting, threads: 2 }).fit(shared, sharedY))).toBe(
      boostedOne,
    );
    await stopWarmWorkers();
  });

  it('boosts the same models, early stopping included, on 2 and 3 threads led by a worker warmed up on a made-up boosting fit, once a warm-up', async () => {
    await stopWarmWorkers();
    const state = (model: { toJSON(): { state: unknown } }): string => JSON.stringify(model.toJSON().state);
    // a tenth of the rows set aside for early stopping leaves more than boosting shares its work from
    const X = matrixOf(columnsOf(80_001, 48).map((column) => placed(column, true)));
    const y = Float64Array.from(X.columns[1], (value, i) => (value > 20 || X.columns[4][i] === 2 ? 1 : 0));
    const fits = [
      [{ max_iter: 4, early_stopping: false, max_leaf_nodes: 15 }, 2],
      // the validation part goes to the leading worker with the training rows: its losses are in the state
      [{ max_iter: 30, early_stopping: true, n_iter_no_change: 2, max_leaf_nodes: 7, learning_rate: 0.5 }, 2],
      // the calling thread and a second worker follow
      [{ max_iter: 4, early_stopping: false, max_leaf_nodes: 15, growth: 'depthwise', max_depth: 4 }, 3],
    ] as const;
    for (const [params, threads] of fits) {
      const one = state(await new GradientBoostingModel({ ...params, threads: 1 }).fit(X, y));
      // left alone, the warm-up grows every tree of its rounds, then the fit takes a worker to lead it
      warmTrainingWorkers(threads - 1, 'boosting');
      await trainingWorkersWarmedUp();
      expect(trainingWorkerCounts().warmUpTrees).toBe(
        (threads - 1) * WARM_UP_ROUNDS * BOOSTING_WARM_UP_TREES_PER_ROUND,
      );
      const { started, led } = trainingWorkerCounts();
      expect(state(await new GradientBoostingModel({ ...params, threads }).fit(X, y))).toBe(one);
      expect(trainingWorkerCounts()).toMatchObject({ started, led: led + 1 });
      // the next fit, its workers' code no longer warm, is led by the calling thread, to the same model
      expect(state(await new GradientBoostingModel({ ...params, threads }).fit(X, y))).toBe(one);
      expect(trainingWorkerCounts()).toMatchObject({ started, led: led + 1 });
      await stopWarmWorkers();
    }
    // a fit asked for at once ends the warm-up between two of its trees, and the calling thread leads it
    const [params] = fits[0];
    const one = state(await new GradientBoostingModel({ ...params, threads: 1 }).fit(X, y));
    warmTrainingWorkers(1, 'boosting');
    const { led } = trainingWorkerCounts();
    expect(state(await new GradientBoostingModel({ ...params, threads: 2 }).fit(X, y))).toBe(one);
    await trainingWorkersWarmedUp();
    expect(trainingWorkerCounts().warmUpTrees).toBeLessThan(
      WARM_UP_ROUNDS * BOOSTING_WARM_UP_TREES_PER_ROUND,
    );
    expect(trainingWorkerCounts().led).toBe(led);
    await stopWarmWorkers();
  });

  it('gives up following a leader that publishes nothing for its patience, with PW_INTERNAL', () => {
    const rows = 70_001;
    const random = new Random(31);
    const columns = Array.from({ length: 3 }, () =>
      Float64Array.from({ length: rows }, () => random.nextNormal()),
    );
    const data = SharedBinning.prepare(
      { rows, cols: 3, names: ['a', 'b', 'c'], columns },
      255,
      new Random(1),
      1,
      2,
    ).bin();
    const { plan, memory } = planWorkspace(rows, data.layout, 2, 2, undefined, false, 2);
    const workspace = new Workspace(memory, plan, data.mapper, data.layout, data);
    // no leader: nothing is ever published, and a patience of 1.5 s is spent in two sleeps
    expect(() => serveOperations(workspace, 1, currentSequence(workspace), 1500)).toThrow(
      expect.objectContaining({ code: 'PW_INTERNAL' }),
    );
  });

  it('ends a fit led by a worker with PW_INTERNAL when the leader fails, before or after it has set up its operations, rather than waiting for it', () => {
    // the leader's scratch past the memory's end (its view of the memory cannot be made), or before its
    // start (its grower cannot be made, its operations can)
    for (const scratch of ['workspace.memory.buffer.byteLength', '-BUNDLE_MAX * KERNEL_SCRATCH_BYTES']) {
      expectInternalFailure(
        `leading-${scratch.length}`,
        `${binnedScript(70001, 29)}import { boostingWorkspace, GradientBoostingModel } from ${module('ml/models/gbdt.js')};
import { leadOnWorker, StartingWorkers } from ${module('ml/tree/threads.js')};
const y = Float64Array.from(columns[0], (value) => (value > 0 ? 1 : 0));
const { params } = new GradientBoostingModel({ max_iter: 3, early_stopping: false, threads: 2 });
const workspace = boostingWorkspace(data, params, 2, 1, false);
// the plan goes to the leader as it is now; the calling thread's views are made already
workspace.plan.kernelScratchAt[0] = ${scratch};
const starting = StartingWorkers.start(1);
starting.share(undefined);
let failure;
try {
  await leadOnWorker(workspace, await starting.ready(), { params, y, weights: null, task: 'binary', validation: undefined });
} catch (error) {
  failure = error;
}
await starting.finish();
console.log(failure?.code);`,
      );
    }
  });

  it("hands a small fit's worker thread to the next fit, forest or boosting, and starts none for boosting a small table", async () => {
    // cross-validation fits one model a fold: each fit on 2 threads after the first takes the worker the
    // one before handed back, whatever it did there, and learns what one thread learns
    await stopWarmWorkers();
    const state = (model: { toJSON(): { state: unknown } }): string => JSON.stringify(model.toJSON().state);
    const small = matrixOf(columnsOf(3000, 41).map((column) => placed(column, true)));
    const smallY = Float64Array.from(small.columns[1], (value, i) =>
      value > 20 || small.columns[0][i] === 1 ? 1 : 0,
    );
    const shared = matrixOf(columnsOf(70_000, 42).map((column) => placed(column, true)));
    const sharedY = Float64Array.from(shared.columns[1], (value, i) =>
      value > 20 || shared.columns[4][i] === 2 ? 1 : 0,
    );
    const forest = { n_estimators: 6, max_depth: 4 } as const;
    const boosting = { max_iter: 5, early_stopping: false, max_leaf_nodes: 15 } as const;
    const forestOne = state(await new RandomForestModel({ ...forest, threads: 1 }).fit(small, smallY));
    const sharedOne = state(
      await new GradientBoostingModel({ ...boosting, threads: 1 }).fit(shared, sharedY),
    );
    const smallOne = state(await new GradientBoostingModel({ ...boosting, threads: 1 }).fit(small, smallY));
    const started = trainingWorkerCounts().started;
    // 3,000 rows: too few to share, boosting starts no worker
    for (let fold = 0; fold < 2; fold++) {
      expect(state(await new GradientBoostingModel({ ...boosting, threads: 2 }).fit(small, smallY))).toBe(
        smallOne,
      );
    }
    expect(trainingWorkerCounts()).toMatchObject({ started, idle: 0 });
    for (let fold = 0; fold < 3; fold++) {
      // 70,000 rows: boosting shares its nodes' histograms, gradient passes and partitions with the worker
      expect(state(await new GradientBoostingModel({ ...boosting, threads: 2 }).fit(shared, sharedY))).toBe(
        sharedOne,
      );
      // the worker started for the first fit, handed back by each
      expect(trainingWorkerCounts()).toMatchObject({ started: started + 1, idle: 1 });
      expect(state(await new RandomForestModel({ ...forest, threads: 2 }).fit(small, smallY))).toBe(
        forestOne,
      );
    }
    expect(trainingWorkerCounts()).toMatchObject({ started: started + 1, idle: 1 });
    await stopWarmWorkers();
    expect(trainingWorkerCounts().idle).toBe(0);
  });

  it('stops a worker left idle for 10 s after the fit that handed it back', async () => {
    await stopWarmWorkers();
    const X = matrixOf(columnsOf(2000, 44).map((column) => placed(column, true)));
    const y = Float64Array.from(X.columns[1], (value) => (value > 20 ? 1 : 0));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      await new RandomForestModel({ n_estimators: 4, max_depth: 3, threads: 2 }).fit(X, y);
      expect(trainingWorkerCounts().idle).toBe(1);
      vi.advanceTimersByTime(9_999);
      expect(trainingWorkerCounts().idle).toBe(1);
      vi.advanceTimersByTime(1);
      expect(trainingWorkerCounts().idle).toBe(0);
    } finally {
      vi.useRealTimers();
      await stopWarmWorkers();
    }
  });

  it('hands back the worker of a large fit holding none of its memory', () => {
    const dist = (file: string): string =>
      JSON.stringify(pathToFileURL(join(process.cwd(), 'dist', 'ml', ...file.split('/'))).href);
    // two forest fits of 6,000,000 rows on two threads in one process; then how much of its resident
    // memory the idle worker held: what stopping it gives back
    const script = join(mkdtempSync(join(tmpdir(), 'pw-release-')), 'release.mjs');
    writeFileSync(
      script,
      `import { trainingWorkerCounts, warmTrainingWorkers, stopWarmWorkers } from ${dist('tree/threads.js')};
import { RandomForestModel } from ${dist('models/forest.js')};
import { allocateColumns } from ${dist('types.js')};
const rows = 6_000_000;
// a worker collects after it reports idle, and freed buffers are returned by background threads after a
// collection, both later on a busy machine: wait until the resident memory has not fallen for a second
const settle = async () => {
  let last = Infinity;
  for (let round = 0, steady = 0; round < 200 && steady < 10; round++) {
    globalThis.gc();
    await new Promise((ok) => setTimeout(ok, 100));
    const now = process.memoryUsage().rss;
    steady = last - now < 2 ** 20 ? steady + 1 : 0;
    last = now;
  }
};
const rss = () => process.memoryUsage().rss;
warmTrainingWorkers(1);
await settle();
const started = trainingWorkerCounts().started;
for (let fit = 0; fit < 2; fit++) {
  const columns = allocateColumns(rows, 2, true);
  for (let i = 0; i < rows; i++) {
    columns[0][i] = (i * 7919) % 1000;
    columns[1][i] = (i * 104729) % 3;
  }
  const y = Float64Array.from(columns[0], (value, i) => (value > 300 !== (columns[1][i] === 1) ? 1 : 0));
  const X = { rows, cols: 2, names: ['a', 'b'], columns };
  await new RandomForestModel({ n_estimators: 2, max_depth: 2, threads: 2 }).fit(X, y);
}
await settle();
const { idle } = trainingWorkerCounts();
const pooled = rss();
await stopWarmWorkers();
await settle();
console.log(JSON.stringify({ started: trainingWorkerCounts().started - started, idle, held: pooled - rss() }));`,
    );
    const result = spawnSync(process.execPath, ['--expose-gc', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(result.status, result.stderr).toBe(0);
    const { started, idle, held } = JSON.parse(result.stdout.trim()) as Record<string, number>;
    // the warm worker did both fits and went back to the pool after each
    expect({ started, idle }).toEqual({ started: 0, idle: 1 });
    // idle, it holds its own code and heap: about 10 MB, up to 41 MB seen on a busy machine, whose heap
    // is slower to shrink; a worker that kept its last fit's workspace and data until the next fit held
    // 288 MB here
    expect(held / 2 ** 20).toBeLessThan(96);
  });

  it('lets a process with idle warm workers exit on its own', () => {
    const threads = pathToFileURL(join(process.cwd(), 'dist', 'ml', 'tree', 'threads.js')).href;
    // a script file, not --eval: the workers inherit the process's flags, and --input-type would stop them
    const script = join(mkdtempSync(join(tmpdir(), 'pw-warm-')), 'warm.mjs');
    writeFileSync(
      script,
      `import { warmTrainingWorkers } from ${JSON.stringify(threads)};
warmTrainingWorkers(2);
// the workers have started (they answer a message) before the process is left with nothing to do
setTimeout(() => console.log('done'), 500);`,
    );
    // a worker that held the process would leave it running until the guard below kills it
    const result = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe('done');
  });

  it('boosts the same three-class model on 1 and 2 threads (gradients on the calling thread, nodes shared)', async () => {
    const columns = columnsOf(70_000, 21);
    const y = Float64Array.from(columns[1], (value, i) =>
      value !== value ? 2 : value > 20 ? 1 : columns[4][i] === 2 ? 2 : 0,
    );
    const data = { X: matrixOf(columns), y };
    const params = { max_iter: 4, early_stopping: false, max_leaf_nodes: 15 } as const;
    const one = await new GradientBoostingModel({ ...params, threads: 1 }).fit(data.X, data.y);
    const two = await new GradientBoostingModel({ ...params, threads: 2 }).fit(data.X, data.y);
    expect(one.outputs).toBe(3);
    expect(JSON.stringify(two.toJSON().state)).toBe(JSON.stringify(one.toJSON().state));
  });

  it('grows the same forest on 1 and 3 threads, trees taken in any order', async () => {
    const data = classification(8000, 5);
    const params = { n_estimators: 7, max_depth: 6 } as const;
    const one = await new RandomForestModel({ ...params, threads: 1 }).fit(data.X, data.y);
    const three = await new RandomForestModel({ ...params, threads: 3 }).fit(data.X, data.y);
    expect(JSON.stringify(three.toJSON().state)).toBe(JSON.stringify(one.toJSON().state));
  });

  it('grows the same weighted and regression forests on 1 and 3 threads, the pairs read from shared memory', async () => {
    const data = classification(6000, 11);
    const weights = Float64Array.from(data.y, (_, row) => 0.5 + ((row * 7919) % 13) / 4);
    const target = Float64Array.from(data.X.columns[0], (value, row) => value * 3 + data.y[row]);
    const params = { n_estimators: 6, max_depth: 6 } as const;
    const fits = async (threads: number) => [
      await new RandomForestModel({ ...params, threads }).fit(data.X, data.y, { sampleWeight: weights }),
      await new RandomForestModel({ ...params, criterion: 'squared_error', threads }).fit(data.X, target),
    ];
    const [one, three] = [await fits(1), await fits(3)];
    for (const [at, model] of three.entries())
      expect(JSON.stringify(model.toJSON().state)).toBe(JSON.stringify(one[at].toJSON().state));
  });

  it('plans one memory for a forest: the data once, every other region a thread', () => {
    const layout = { features: 9, groups: 5, totalBins: 700 };
    const rows = 10_000;
    const { plans, memory } = planForestWorkspaces(rows, layout, 13, 3);
    const alone = planWorkspace(rows, layout, 13, 1, undefined, true).memory.buffer.byteLength;
    for (const plan of plans) {
      expect(plan.columnsAt).toBe(plans[0].columnsAt);
      expect(plan.digitsAt).toBe(plans[0].digitsAt);
      expect(plan.forest?.labelsAt).toBe(plans[0].forest?.labelsAt);
    }
    // a thread's own regions: none of them overlaps another thread's, or the shared data
    const regions = plans.flatMap((plan, thread) =>
      [
        [plan.rowsAt, rows * 4],
        [plan.ghAt, rows * 16],
        [plan.orderedAt, rows],
        [plan.scratchRowsAt, rows * 4],
        [plan.histogramsAt, 13 * 700 * BIN_STRIDE * 8],
        [plan.forest!.drawsAt, rows * 2],
      ].map(([at, bytes]) => ({ thread, at, end: at + bytes })),
    );
    const data = { at: plans[0].columnsAt, end: plans[0].columnsAt + rows * layout.groups };
    for (const region of regions) {
      expect(region.end <= data.at || region.at >= data.end).toBe(true);
      for (const other of regions)
        if (other.thread !== region.thread)
          expect(region.end <= other.at || region.at >= other.end).toBe(true);
    }
    // three threads take less than three memories of their own: the columns and labels are not repeated
    expect(memory.buffer.byteLength).toBeLessThanOrEqual(3 * alone - 2 * rows * (layout.groups + 1) + 65_536);
  });

  it('grows the same forest from one-byte draw counts as from weighted pairs of doubles, for any seed', async () => {
    const data = classification(3000, 9);
    // sample weights of 1 take the pairs of doubles; no weights, the one-byte codes
    const ones = new Float64Array(data.y.length).fill(1);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom('gini', 'entropy'),
        fc.boolean(),
        fc.constantFrom(1, 3),
        async (seed, criterion, bootstrap, minSamplesLeaf) => {
          const params = {
            n_estimators: 4,
            random_state: seed,
            criterion,
            bootstrap,
            min_samples_leaf: minSamplesLeaf,
            threads: 1,
          } as const;
          const counted = await new RandomForestModel(params).fit(data.X, data.y);
          const paired = await new RandomForestModel(params).fit(data.X, data.y, { sampleWeight: ones });
          expect(JSON.stringify(counted.toJSON().state)).toBe(JSON.stringify(paired.toJSON().state));
        },
      ),
      { numRuns: 8 },
    );
  });

  it.skipIf(!hasSklearnTables())(
    'grows the same forest on 1 and 2 threads on a real table, whole model JSON, for any seed and tree count',
    async () => {
      const data = breastCancer();
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 2, max: 24 }),
          fc.constantFrom('gini', 'entropy'),
          fc.boolean(),
          async (seed, trees, criterion, bootstrap) => {
            const params = { n_estimators: trees, random_state: seed, criterion, bootstrap } as const;
            const one = await new RandomForestModel({ ...params, threads: 1 }).fit(data.X, data.y);
            const two = await new RandomForestModel({ ...params, threads: 2 }).fit(data.X, data.y);
            // the whole model but the thread count it was asked for
            const saved = (model: RandomForestModel): string => {
              const json = model.toJSON();
              return JSON.stringify({ ...json, params: { ...json.params, threads: undefined } });
            };
            expect(one.toJSON().state).toBeDefined();
            expect(saved(two)).toBe(saved(one));
          },
        ),
        { numRuns: 6 },
      );
    },
  );
});
