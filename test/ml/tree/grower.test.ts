// The tree grower's shortcuts against the plain way: trees whose deepest splits keep their rows where
// they are are the trees that move them; and the split search's records against the data: every node's
// training rows, routed by its feature and threshold, are the count the search recorded for it; and
// best-first growth splits, of the open nodes, the one of the highest gain.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Random } from '../../../src/core/random.js';
import { packFeatures } from '../../../src/ml/tree/binning.js';
import { ForestTreeGrower, zeroOrOne, type ForestSetup } from '../../../src/ml/tree/forest-trees.js';
import type { GrowerSettings } from '../../../src/ml/tree/grower.js';
import { binMatrix, fitBinMapper } from './binning-reference.js';
import { matrixOf } from '../trees.js';

/** What the growers here vary; the rest is every one's: Newton splits, mean leaves, no L2, rows moved. */
type VariedSettings = Pick<
  GrowerSettings,
  'maxLeaves' | 'maxDepth' | 'minSamplesLeaf' | 'growth' | 'featuresPerSplit' | 'stopWhenPure'
> &
  Partial<GrowerSettings>;

/** A forest grower over `data` (every row a sample), its settings `settings` over the shared ones. */
function forestGrower(
  data: ForestSetup['data'],
  labels: Float64Array,
  seed: number,
  settings: VariedSettings,
  options: { weights?: Float64Array | null; bootstrap: boolean; capacity: number },
): ForestTreeGrower {
  return new ForestTreeGrower({
    data,
    labels,
    zeroOrOne: zeroOrOne(labels),
    weights: options.weights ?? null,
    settings: {
      criterion: 'newton',
      leafOutput: 'mean',
      l2: 0,
      shrinkage: 1,
      minSamplesSplit: 2,
      minHessianLeaf: 0,
      leafRows: true,
      ...settings,
    },
    bootstrap: options.bootstrap,
    samplesPerTree: labels.length,
    seed,
    capacity: options.capacity,
  });
}

describe('tree grower', () => {
  it('grows the same forest trees whether or not splits into two leaves move their rows', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 50, max: 3000 }),
        fc.integer({ min: 1, max: 8 }),
        fc.boolean(),
        fc.boolean(),
        (seed, rows, maxDepth, weighted, regression) => {
          const random = new Random(seed);
          const columns = Array.from({ length: 4 }, (_, f) =>
            Float64Array.from({ length: rows }, () =>
              random.next() < 0.05 ? NaN : f === 0 ? random.nextInt(3) : random.nextNormal(),
            ),
          );
          const X = matrixOf(columns);
          const labels = Float64Array.from({ length: rows }, (_, i) =>
            regression ? columns[1][i] * 2 + random.nextNormal() : random.next() < 0.3 ? 1 : 0,
          );
          const mapper = fitBinMapper(X, 64, new Random(seed + 1));
          const data = binMatrix(X, mapper, packFeatures(mapper));
          const shared: VariedSettings = {
            maxLeaves: 0,
            maxDepth,
            minSamplesLeaf: 1 + random.nextInt(3),
            growth: 'depthwise',
            featuresPerSplit: 2,
            stopWhenPure: !regression,
          };
          const weights = weighted ? Float64Array.from({ length: rows }, (_, i) => 1 + (i % 3)) : null;
          const grow = (leafRows: boolean) =>
            forestGrower(
              data,
              labels,
              seed,
              { ...shared, leafRows },
              {
                weights,
                bootstrap: true,
                capacity: maxDepth + 3,
              },
            );
          const moving = grow(true);
          const staying = grow(false);
          for (let index = 0; index < 3; index++) expect(staying.grow(index)).toEqual(moving.grow(index));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('routes every training row of a split to the child whose count the split search recorded, features drawn or all of them', () => {
    // a split found on one feature's histogram but recorded under another would send rows elsewhere
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 60, max: 2000 }),
        fc.constantFrom(0, 1, 2),
        fc.boolean(),
        (seed, rows, featuresPerSplit, regression) => {
          const random = new Random(seed);
          // flags and small counts (packed together into shared groups), wide numbers, missing values
          const columns = Array.from({ length: 6 }, (_, f) =>
            Float64Array.from({ length: rows }, () =>
              random.next() < 0.05 ? NaN : f < 3 ? random.nextInt(2 + f) : random.nextNormal() * (f + 1),
            ),
          );
          const X = matrixOf(columns);
          const labels = Float64Array.from({ length: rows }, (_, i) =>
            regression
              ? (columns[0][i] || 0) + (columns[4][i] || 0) + random.nextNormal()
              : random.next() < 0.2 + 0.2 * (columns[1][i] || 0)
                ? 1
                : 0,
          );
          const mapper = fitBinMapper(X, 32, new Random(seed + 1));
          const layout = packFeatures(mapper);
          expect(layout.packed.some((packed) => packed === 1)).toBe(true);
          const grower = forestGrower(
            binMatrix(X, mapper, layout),
            labels,
            seed,
            {
              maxLeaves: 0,
              maxDepth: 6,
              minSamplesLeaf: 1,
              growth: 'depthwise',
              featuresPerSplit,
              stopWhenPure: !regression,
            },
            { bootstrap: false, capacity: 9 },
          );
          const tree = grower.grow(0);
          const cover = tree.cover as Float64Array;
          const reached = new Float64Array(tree.feature.length);
          for (let i = 0; i < rows; i++) {
            let node = 0;
            reached[node]++;
            while (tree.left[node] >= 0) {
              const value = columns[tree.feature[node]][i];
              const left = Number.isNaN(value) ? tree.missingLeft[node] === 1 : value <= tree.value[node];
              node = left ? tree.left[node] : tree.left[node] + 1;
              reached[node]++;
            }
          }
          // unweighted rows, no bootstrap: a node's cover is its row count
          expect(Array.from(reached)).toEqual(Array.from(cover));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('splits best first when the leaves are limited: of the nodes open at each split, the one of the highest gain (the lowest of equal ones)', () => {
    // a split's children are numbered as it is made, so the splits' order is their left children's
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 100, max: 3000 }),
        fc.integer({ min: 2, max: 24 }),
        fc.boolean(),
        (seed, rows, maxLeaves, regression) => {
          const random = new Random(seed);
          const columns = Array.from({ length: 5 }, (_, f) =>
            Float64Array.from({ length: rows }, () =>
              random.next() < 0.05 ? NaN : f < 2 ? random.nextInt(3 + f) : random.nextNormal(),
            ),
          );
          const labels = Float64Array.from({ length: rows }, (_, i) =>
            regression
              ? (columns[2][i] || 0) * 3 + (columns[0][i] || 0) + random.nextNormal()
              : random.next() < 0.2 + 0.15 * (columns[0][i] || 0)
                ? 1
                : 0,
          );
          const X = matrixOf(columns);
          const mapper = fitBinMapper(X, 32, new Random(seed + 1));
          const grower = forestGrower(
            binMatrix(X, mapper, packFeatures(mapper)),
            labels,
            seed,
            {
              maxLeaves,
              maxDepth: 0,
              minSamplesLeaf: 1 + random.nextInt(5),
              growth: 'leafwise',
              featuresPerSplit: 0,
              stopWhenPure: !regression,
            },
            { bootstrap: true, capacity: maxLeaves + 2 },
          );
          const { left, gain } = grower.grow(0);
          const nodes = left.length;
          const splits = Array.from({ length: nodes }, (_, k) => k)
            .filter((k) => left[k] >= 0)
            .sort((a, b) => left[a] - left[b]);
          expect(splits.length).toBeLessThanOrEqual(maxLeaves - 1);
          for (const split of splits) {
            for (let other = 0; other < nodes; other++) {
              // open when this split was made: made before it, searched with a gain, not yet split
              const open =
                other !== split &&
                other < left[split] &&
                gain[other] > 0 &&
                (left[other] < 0 || left[other] > left[split]);
              if (!open) continue;
              const first = gain[split] > gain[other] || (gain[split] === gain[other] && split < other);
              expect(
                first,
                `split ${split} (gain ${gain[split]}) before open node ${other} (gain ${gain[other]})`,
              ).toBe(true);
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
