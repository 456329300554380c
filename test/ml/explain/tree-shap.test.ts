// TreeSHAP against brute-force Shapley values: every feature subset enumerated, each subset's value the
// cover-weighted expectation of the trees with the subset's features known, on random small ensembles.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../../src/core/errors.js';
import { leftShareOf, TreeShap } from '../../../src/ml/explain/tree-shap.js';
import { TreeEnsemble, type CompactTree } from '../../../src/ml/tree/ensemble.js';

type TreeSpec =
  | { leaf: true; value: number; cover: number }
  | {
      leaf: false;
      feature: number;
      threshold: number;
      missingLeft: boolean;
      left: TreeSpec;
      right: TreeSpec;
    };

const THRESHOLDS = [0.25, 0.5, 0.75];
/** Row values on both sides of and exactly at the thresholds, infinite ones, and missing ones. */
const ROW_VALUES = [-Infinity, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.9, Infinity, NaN];

function treeOf(features: number): fc.Arbitrary<TreeSpec> {
  const { node } = fc.letrec<{ node: TreeSpec }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 6, depthSize: 'medium' },
      fc.record({
        leaf: fc.constant(true as const),
        value: fc.double({ min: -10, max: 10, noNaN: true }),
        // empty leaves happen (a bootstrap can leave a side without rows) and must not break the sums
        cover: fc.oneof(
          { arbitrary: fc.integer({ min: 1, max: 50 }), weight: 4 },
          { arbitrary: fc.constant(0), weight: 1 },
        ),
      }),
      fc.record({
        leaf: fc.constant(false as const),
        feature: fc.integer({ min: 0, max: features - 1 }),
        threshold: fc.constantFrom(...THRESHOLDS),
        missingLeft: fc.boolean(),
        left: tie('node'),
        right: tie('node'),
      }),
    ),
  }));
  return node;
}

function coverOf(spec: TreeSpec): number {
  return spec.leaf ? spec.cover : coverOf(spec.left) + coverOf(spec.right);
}

/** The flat layout the models store: children in pairs, the right one after the left. */
function compact(spec: TreeSpec): CompactTree {
  const nodes: { feature: number; value: number; missingLeft: number; left: number; cover: number }[] = [];
  const place = (node: TreeSpec, at: number): void => {
    if (node.leaf) {
      nodes[at] = { feature: -1, value: node.value, missingLeft: 0, left: -1, cover: node.cover };
      return;
    }
    const left = nodes.length;
    nodes.push(undefined as never, undefined as never);
    nodes[at] = {
      feature: node.feature,
      value: node.threshold,
      missingLeft: node.missingLeft ? 1 : 0,
      left,
      cover: coverOf(node),
    };
    place(node.left, left);
    place(node.right, left + 1);
  };
  nodes.push(undefined as never);
  place(spec, 0);
  return {
    feature: Int32Array.from(nodes, (n) => n.feature),
    value: Float64Array.from(nodes, (n) => n.value),
    missingLeft: Uint8Array.from(nodes, (n) => n.missingLeft),
    left: Int32Array.from(nodes, (n) => n.left),
    gain: new Float64Array(nodes.length),
    cover: Float64Array.from(nodes, (n) => n.cover),
  };
}

/** E[tree(x) | the features in `known` are x's]: unknown splits average their children by cover. */
function conditionalExpectation(tree: CompactTree, node: number, row: number[], known: number): number {
  const child = tree.left[node];
  if (child < 0) return tree.value[node];
  const f = tree.feature[node];
  if ((known >> f) & 1) {
    const x = row[f];
    const goesLeft = x <= tree.value[node] || (x !== x && tree.missingLeft[node] === 1);
    return conditionalExpectation(tree, goesLeft ? child : child + 1, row, known);
  }
  const share = leftShareOf(tree.cover![child], tree.cover![child + 1]);
  return (
    share * conditionalExpectation(tree, child, row, known) +
    (1 - share) * conditionalExpectation(tree, child + 1, row, known)
  );
}

/** φ_i = Σ over subsets S without i of |S|!(M−|S|−1)!/M! · (v(S ∪ {i}) − v(S)). */
function bruteForce(
  trees: CompactTree[],
  row: number[],
  features: number,
  outputs: number,
  scale: number,
): { phi: Float64Array; base: Float64Array } {
  const subsets = 1 << features;
  const values = new Float64Array(subsets * outputs);
  for (let known = 0; known < subsets; known++) {
    trees.forEach((tree, t) => {
      values[known * outputs + (t % outputs)] += scale * conditionalExpectation(tree, 0, row, known);
    });
  }
  const factorial = (n: number): number => (n <= 1 ? 1 : n * factorial(n - 1));
  const phi = new Float64Array(outputs * features);
  for (let i = 0; i < features; i++) {
    for (let known = 0; known < subsets; known++) {
      if ((known >> i) & 1) continue;
      let size = 0;
      for (let f = 0; f < features; f++) size += (known >> f) & 1;
      const weight = (factorial(size) * factorial(features - size - 1)) / factorial(features);
      for (let o = 0; o < outputs; o++)
        phi[o * features + i] +=
          weight * (values[(known | (1 << i)) * outputs + o] - values[known * outputs + o]);
    }
  }
  return { phi, base: values.subarray(0, outputs) };
}

const ensembleCase = fc
  .record({ features: fc.integer({ min: 1, max: 8 }), outputs: fc.integer({ min: 1, max: 2 }) })
  .chain(({ features, outputs }) =>
    fc.record({
      features: fc.constant(features),
      outputs: fc.constant(outputs),
      trees: fc.array(treeOf(features), { minLength: 1, maxLength: 4 }),
      row: fc.array(fc.constantFrom(...ROW_VALUES), { minLength: features, maxLength: features }),
      baseline: fc.array(fc.double({ min: -2, max: 2, noNaN: true }), {
        minLength: outputs,
        maxLength: outputs,
      }),
      averaged: fc.boolean(),
    }),
  );

describe('TreeSHAP', () => {
  it.each([
    ['table', undefined],
    ['table with a budget too small for every tree (some fall back)', 40],
    ['quadrature', undefined],
    ['extend-unwind', undefined],
  ] as const)(
    '%s: equals brute-force Shapley values of the cover-weighted expectation, missing values included',
    (name, tableBudget) => {
      const algorithm = name.startsWith('table') ? 'table' : (name as 'quadrature' | 'extend-unwind');
      fc.assert(
        fc.property(ensembleCase, ({ features, outputs, trees, row, baseline, averaged }) => {
          const compactTrees = trees.map(compact);
          const ensemble = new TreeEnsemble();
          for (const tree of compactTrees) ensemble.append(tree);
          const scale = averaged ? 1 / compactTrees.length : 1;
          const shap = new TreeShap(ensemble, {
            features,
            outputs,
            baseline,
            scale,
            algorithm,
            tableBudget,
          });
          const phi = new Float64Array(outputs * features).fill(123);
          shap.explainRow(row, phi);
          const expected = bruteForce(compactTrees, row, features, outputs, scale);
          for (let o = 0; o < outputs; o++) {
            expect(Math.abs(shap.base[o] - (baseline[o] + expected.base[o]))).toBeLessThan(1e-9);
            let raw = baseline[o];
            for (let t = o; t < compactTrees.length; t += outputs) raw += scale * ensemble.treeOutput(t, row);
            let total = shap.base[o];
            for (let f = 0; f < features; f++) {
              expect(Math.abs(phi[o * features + f] - expected.phi[o * features + f])).toBeLessThan(1e-9);
              total += phi[o * features + f];
            }
            expect(Math.abs(total - raw)).toBeLessThan(1e-9);
          }
        }),
        { numRuns: 300 },
      );
    },
  );

  it('explains a tree split on an infinite threshold per row, exactly, and tables the others', () => {
    fc.assert(
      fc.property(
        ensembleCase,
        fc.constantFrom(Infinity, -Infinity),
        fc.boolean(),
        ({ features, trees, row }, threshold, missingLeft) => {
          const infinite: TreeSpec = {
            leaf: false,
            feature: 0,
            threshold,
            missingLeft,
            left: { leaf: true, value: 1, cover: 3 },
            right: trees[0],
          };
          const compactTrees = [infinite, ...trees.slice(1)].map(compact);
          const ensemble = new TreeEnsemble();
          for (const tree of compactTrees) ensemble.append(tree);
          const shap = new TreeShap(ensemble, { features, outputs: 1, baseline: [0], scale: 1 });
          expect(shap.isTabled(0)).toBe(false);
          for (let t = 1; t < compactTrees.length; t++) expect(shap.isTabled(t)).toBe(true);
          const phi = new Float64Array(features);
          shap.explainRow(row, phi);
          const expected = bruteForce(compactTrees, row, features, 1, 1);
          for (let f = 0; f < features; f++) expect(Math.abs(phi[f] - expected.phi[f])).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('gives a feature the tree never splits on nothing, and the same values on a second call', () => {
    fc.assert(
      fc.property(ensembleCase, ({ features, trees, row }) => {
        const ensemble = new TreeEnsemble();
        for (const tree of trees) ensemble.append(compact(tree));
        const shap = new TreeShap(ensemble, { features: features + 1, outputs: 1, baseline: [0], scale: 1 });
        const first = new Float64Array(features + 1);
        const second = new Float64Array(features + 1);
        shap.explainRow([...row, 0.5], first);
        shap.explainRow([...row, 0.5], second);
        expect(first[features]).toBe(0);
        expect(Array.from(second)).toEqual(Array.from(first));
      }),
      { numRuns: 50 },
    );
  });

  it('refuses trees stored without their training cover', () => {
    const ensemble = new TreeEnsemble();
    const { cover: _cover, ...withoutCover } = compact({
      leaf: false,
      feature: 0,
      threshold: 0.5,
      missingLeft: false,
      left: { leaf: true, value: 1, cover: 3 },
      right: { leaf: true, value: 2, cover: 4 },
    });
    ensemble.append(withoutCover);
    let error: PipewrightError | undefined;
    try {
      new TreeShap(ensemble, { features: 1, outputs: 1, baseline: [0], scale: 1 });
    } catch (caught) {
      error = caught as PipewrightError;
    }
    expect(error?.code).toBe('PW_EXPLAIN_UNAVAILABLE');
  });
});
