// Batch scoring against the plain walk: the kernels' rank walk (ranks, planes for missing values, rows
// walked in step, blocks) must give every row the same sums, bit for bit, tree after tree.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import { TreeEnsemble, type CompactTree } from '../../../src/ml/tree/ensemble.js';
import type { Matrix } from '../../../src/ml/types.js';

/** Values that land on thresholds, between them and past them, both zeros, infinities and NaN. */
const VALUES = [-Infinity, -3.5, -1, -0, 0, 0.25, 1, 2.5, 7, 1e300, Infinity, NaN];

/** A random tree over `features` features: children in pairs, thresholds from VALUES (NaN excepted). */
function randomTree(random: Random, features: number, most: number): CompactTree {
  const feature: number[] = [-1];
  const value: number[] = [0];
  const missingLeft: number[] = [0];
  const left: number[] = [-1];
  const depth: number[] = [0];
  for (let k = 0; k < feature.length && feature.length + 2 <= most; k++) {
    if (random.next() < 0.25 + 0.08 * depth[k]) {
      value[k] = random.nextNormal();
      continue;
    }
    feature[k] = random.nextInt(features);
    value[k] = VALUES[random.nextInt(VALUES.length - 1)];
    missingLeft[k] = random.next() < 0.5 ? 1 : 0;
    left[k] = feature.length;
    for (let child = 0; child < 2; child++) {
      feature.push(-1);
      value.push(random.nextNormal());
      missingLeft.push(0);
      left.push(-1);
      depth.push(depth[k] + 1);
    }
  }
  return {
    feature: Int32Array.from(feature),
    value: Float64Array.from(value),
    missingLeft: Uint8Array.from(missingLeft),
    left: Int32Array.from(left),
    gain: new Float64Array(feature.length),
  };
}

function randomMatrix(random: Random, rows: number, cols: number): Matrix {
  const columns = Array.from({ length: cols }, () =>
    Float64Array.from({ length: rows }, () =>
      random.next() < 0.6 ? VALUES[random.nextInt(VALUES.length)] : random.nextNormal() * 4,
    ),
  );
  return { rows, cols, names: columns.map((_, f) => `x${f}`), columns };
}

/** The plain walk, tree after tree over every row: the reference. */
function plainSums(ensemble: TreeEnsemble, X: Matrix, initial: Float64Array, outputs: number): Float64Array {
  const out = initial.slice();
  for (let t = 0; t < ensemble.treeCount; t++) ensemble.addTree(t, X, out, outputs, t % outputs);
  return out;
}

function sameBits(actual: Float64Array, expected: Float64Array): number {
  let differing = 0;
  for (let i = 0; i < expected.length; i++) if (!Object.is(actual[i], expected[i])) differing++;
  return differing;
}

describe('TreeEnsemble.addTrees', () => {
  it('gives every row the sums of the plain walk, bit for bit, for any trees, values, outputs and row count', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        // across the walk's lanes, the smallest batch it takes and its blocks of rows
        fc.oneof(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 500, max: 1100 })),
        (seed, features, trees, outputs, rows) => {
          const random = new Random(seed);
          const ensemble = new TreeEnsemble();
          for (let t = 0; t < trees; t++)
            ensemble.append(randomTree(random, features, 2 + random.nextInt(80)));
          const X = randomMatrix(random, rows, features + 1);
          const initial = Float64Array.from({ length: rows * outputs }, () => random.nextNormal());
          const out = initial.slice();
          ensemble.addTrees(X, out, outputs);
          expect(sameBits(out, plainSums(ensemble, X, initial, outputs))).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('scores again after trees are added, and for another number of outputs', () => {
    const random = new Random(7);
    const ensemble = new TreeEnsemble();
    for (let t = 0; t < 12; t++) ensemble.append(randomTree(random, 4, 60));
    const X = randomMatrix(random, 700, 4);
    const first = new Float64Array(700);
    ensemble.addTrees(X, first, 1);
    expect(sameBits(first, plainSums(ensemble, X, new Float64Array(700), 1))).toBe(0);
    for (let t = 0; t < 5; t++) ensemble.append(randomTree(random, 4, 60));
    const again = new Float64Array(700);
    ensemble.addTrees(X, again, 1);
    expect(sameBits(again, plainSums(ensemble, X, new Float64Array(700), 1))).toBe(0);
    expect(sameBits(again, first)).toBeGreaterThan(0);
    const two = new Float64Array(1400);
    ensemble.addTrees(X, two, 2);
    expect(sameBits(two, plainSums(ensemble, X, new Float64Array(1400), 2))).toBe(0);
  });

  it('walks the plain arrays for a feature with more thresholds than a rank can count, to the same sums', () => {
    // one tree whose splits on feature 0 have 70,000 distinct thresholds (a 16-bit rank counts 65,534)
    const splits = 70_000;
    const nodes = 2 * splits + 1;
    const tree: CompactTree = {
      feature: new Int32Array(nodes).fill(-1),
      value: new Float64Array(nodes),
      missingLeft: new Uint8Array(nodes),
      left: new Int32Array(nodes).fill(-1),
      gain: new Float64Array(nodes),
    };
    // a chain: split k at node 2k goes left to a leaf (2k + 1) or right to the next split (2k + 2)
    for (let k = 0; k < splits; k++) {
      tree.feature[2 * k] = 0;
      tree.value[2 * k] = k;
      tree.left[2 * k] = 2 * k + 1;
      tree.value[2 * k + 1] = k + 0.5;
    }
    tree.value[nodes - 1] = -1;
    const ensemble = new TreeEnsemble();
    ensemble.append(tree);
    const random = new Random(3);
    const X: Matrix = {
      rows: 200,
      cols: 1,
      names: ['x0'],
      columns: [Float64Array.from({ length: 200 }, (_, i) => (i % 17 === 0 ? NaN : random.next() * 80_000))],
    };
    const out = new Float64Array(200);
    ensemble.addTrees(X, out, 1);
    expect(sameBits(out, plainSums(ensemble, X, new Float64Array(200), 1))).toBe(0);
    expect(out.some((v) => v === -1)).toBe(true);
  });
});
