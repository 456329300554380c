// Batch scoring over threads: blocks of rows scored by any thread, each with its own scratch, give
// predict's values bit for bit, for boosting (two classes, three, a number) and forests; a model whose
// workers cannot start scores on the calling thread alone. Threads > 1 start the compiled worker in
// dist/ (`npm test` builds it first).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import { predictOn, THREADED_PREDICT_ROWS } from '../../../src/ml/models/estimator.js';
import { GradientBoostingModel } from '../../../src/ml/models/gbdt.js';
import { RandomForestModel } from '../../../src/ml/models/forest.js';
import { BatchScoring, TreeEnsemble } from '../../../src/ml/tree/ensemble.js';
import { kernelModule } from '../../../src/ml/tree/kernels.js';
import { allocateColumns, type Matrix } from '../../../src/ml/types.js';
import { distModule, runWithAndWithoutThreads } from '../../helpers/threads.js';
import { classification, matrixOf, regression, withMissing } from '../trees.js';

/** The same values, bit for bit (NaN included), as bytes. */
function bytesOf(values: Float64Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

/** X with its columns copied into shared memory, as the evaluate step's transform makes them. */
function shared(X: Matrix): Matrix {
  const columns = allocateColumns(X.rows, X.cols, true);
  columns.forEach((column, f) => column.set(X.columns[f]));
  return { ...X, columns };
}

/** Three classes from two of classification()'s columns. */
function threeClasses(rows: number): { X: Matrix; y: Float64Array } {
  const data = classification(rows, 4);
  const y = Float64Array.from(data.y, (label, i) => (data.X.columns[1][i] > 0.5 ? 2 : label));
  return { X: data.X, y };
}

describe('batch scoring over threads', () => {
  it('gives predict’s values bit for bit on 2 and 3 threads, for boosting and forests, rows in any number of blocks', async () => {
    const models = [
      { name: 'binary', data: withMissing(3000, 5), model: new GradientBoostingModel({ max_iter: 30 }) },
      {
        name: 'three classes',
        data: threeClasses(3000),
        model: new GradientBoostingModel({ max_iter: 10 }),
      },
      {
        name: 'regression',
        data: regression(3000, 6),
        model: new GradientBoostingModel({ max_iter: 20, loss: 'squared_error' }),
      },
      { name: 'forest', data: classification(3000, 7), model: new RandomForestModel({ n_estimators: 12 }) },
    ];
    for (const { data, model } of models) await model.fit(data.X, data.y, {});
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: models.length - 1 }),
        // whole blocks, a part of one, fewer rows than a block
        fc.integer({ min: 1, max: 6 * BatchScoring.blockRows + 7 }),
        fc.constantFrom(2, 3),
        fc.boolean(),
        fc.integer({ min: 0, max: 1000 }),
        async (which, rows, threads, inSharedMemory, seed) => {
          const { model, data } = models[which];
          // rows drawn from the training table, so every feature's values (and its missing ones) appear
          const random = new Random(seed);
          const picks = Array.from({ length: rows }, () => random.nextInt(data.X.rows));
          const X = matrixOf(data.X.columns.map((column) => Float64Array.from(picks, (i) => column[i])));
          const expected = model.predict(X);
          const scored = await model.predictOnThreads(inSharedMemory ? shared(X) : X, threads);
          expect(bytesOf(scored).equals(bytesOf(expected))).toBe(true);
        },
      ),
      { numRuns: 24 },
    );
  });

  it('scores blocks taken in any order by two scratch sets, one attached from the shared form, to addTrees', () => {
    const data = withMissing(2500, 8);
    const model = new GradientBoostingModel({ max_iter: 25 });
    // fitted synchronously enough: one thread
    return model.fit(data.X, data.y, {}).then(() => {
      const ensemble = (model as unknown as { ensemble: TreeEnsemble }).ensemble;
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 2500 }),
          fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
          (rows, pattern) => {
            const X = matrixOf(data.X.columns.map((column) => column.slice(0, rows)));
            const expected = new Float64Array(rows).fill(0.25);
            ensemble.addTrees(X, expected, 1);
            const scoring = ensemble.batchScoring(1, 2)!;
            const other = BatchScoring.attach(scoring.shared, kernelModule());
            expect(scoring.threads).toBe(2);
            const source = new Float64Array(rows).fill(0.25);
            const target = new Float64Array(rows);
            // blocks from last to first, each taken by the scratch set the pattern names
            const blocks = Math.ceil(rows / BatchScoring.blockRows);
            for (let block = blocks - 1; block >= 0; block--) {
              const second = pattern[block % pattern.length];
              (second ? other : scoring).scoreBlock(
                X,
                source,
                target,
                block * BatchScoring.blockRows,
                second ? 1 : 0,
              );
            }
            expect(bytesOf(target).equals(bytesOf(expected))).toBe(true);
          },
        ),
        { numRuns: 30 },
      );
    });
  });

  it('scores a batch from the threshold on on several threads, and a smaller one with predict', async () => {
    const data = classification(2000, 9);
    const model = await new RandomForestModel({ n_estimators: 3, max_depth: 4 }).fit(data.X, data.y);
    let threaded = 0;
    const counting = Object.assign(Object.create(model) as RandomForestModel, {
      predictOnThreads: (X: Matrix, threads: number) => {
        threaded++;
        return model.predictOnThreads(X, threads);
      },
    });
    const tile = (rows: number): Matrix =>
      matrixOf(
        data.X.columns.map((column) => Float64Array.from({ length: rows }, (_, i) => column[i % 2000])),
      );
    const small = tile(THREADED_PREDICT_ROWS - 1);
    expect(bytesOf(await predictOn(counting, small, 2)).equals(bytesOf(model.predict(small)))).toBe(true);
    expect(threaded).toBe(0);
    const large = shared(tile(THREADED_PREDICT_ROWS));
    expect(bytesOf(await predictOn(counting, large, 2)).equals(bytesOf(model.predict(large)))).toBe(true);
    expect(threaded).toBe(1);
    await predictOn(counting, large, 1);
    expect(threaded).toBe(1);
  });

  it('scores on the calling thread alone, to the same values, when no worker thread can be started', () => {
    const { refused, normal } = runWithAndWithoutThreads(
      `import { Random } from ${distModule('core/random.js')};
import { GradientBoostingModel } from ${distModule('ml/models/gbdt.js')};
const rows = 20000;
const random = new Random(5);
const columns = Array.from({ length: 4 }, () => Float64Array.from({ length: rows }, () => random.nextNormal()));
const y = Float64Array.from({ length: rows }, (_, i) => (columns[0][i] - columns[2][i] > random.nextNormal() ? 1 : 0));
const X = { rows, cols: 4, names: ['a', 'b', 'c', 'd'], columns };
const model = await new GradientBoostingModel({ max_iter: 12, threads: 1 }).fit(X, y);
const one = model.predict(X);
const two = await model.predictOnThreads(X, 2);
console.log(JSON.stringify({ same: Buffer.from(one.buffer).equals(Buffer.from(two.buffer)) }));`,
    );
    expect(refused.status).toBe(0);
    expect(JSON.parse(refused.stdout)).toEqual({ same: true });
    expect(JSON.parse(normal.stdout)).toEqual({ same: true });
  });
});
