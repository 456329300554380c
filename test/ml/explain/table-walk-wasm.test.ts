// The WebAssembly table walk against the JavaScript one: the same tables, the same rows, the same values
// bit for bit, on random ensembles (several outputs, missing and infinite values, rows at thresholds).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileWasmTableWalk } from '../../../src/ml/explain/table-walk-wasm.js';
import {
  buildTables,
  compileJavaScriptTableWalk,
  type TableTrees,
} from '../../../src/ml/explain/tree-shap-table.js';

type TreeSpec =
  | { leaf: true; value: number }
  | {
      leaf: false;
      feature: number;
      threshold: number;
      missingLeft: boolean;
      share: number;
      left: TreeSpec;
      right: TreeSpec;
    };

const THRESHOLDS = [-1.5, 0, 0.25, 0.5, 2];
const ROW_VALUES = [-Infinity, -1.5, -1, 0, 0.1, 0.25, 0.5, 0.7, 2, 3, Infinity, NaN];

function treeOf(features: number): fc.Arbitrary<TreeSpec> {
  const { node } = fc.letrec<{ node: TreeSpec }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 7, depthSize: 'medium' },
      fc.record({ leaf: fc.constant(true as const), value: fc.double({ min: -10, max: 10, noNaN: true }) }),
      fc.record({
        leaf: fc.constant(false as const),
        feature: fc.integer({ min: 0, max: features - 1 }),
        threshold: fc.constantFrom(...THRESHOLDS),
        missingLeft: fc.boolean(),
        share: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.5, 1)),
        left: tie('node'),
        right: tie('node'),
      }),
    ),
  }));
  return node;
}

/** The trees in the layout TreeShap hands to buildTables: children in pairs, the right one after the left. */
function flatten(specs: TreeSpec[], features: number, outputs: number, scale: number): TableTrees {
  const feature: number[] = [];
  const value: number[] = [];
  const missingLeft: number[] = [];
  const left: number[] = [];
  const leftShare: number[] = [];
  const place = (node: TreeSpec, at: number): void => {
    if (node.leaf) {
      feature[at] = -1;
      value[at] = node.value;
      missingLeft[at] = 0;
      left[at] = -1;
      leftShare[at] = 0;
      return;
    }
    const child = feature.length;
    feature.push(0, 0);
    feature[at] = node.feature;
    value[at] = node.threshold;
    missingLeft[at] = node.missingLeft ? 1 : 0;
    left[at] = child;
    leftShare[at] = node.share;
    place(node.left, child);
    place(node.right, child + 1);
  };
  const roots = specs.map((spec) => {
    const root = feature.length;
    feature.push(0);
    place(spec, root);
    return root;
  });
  return {
    trees: specs.length,
    roots: Int32Array.from(roots),
    feature: Int32Array.from(feature),
    value: Float64Array.from(value),
    missingLeft: Uint8Array.from(missingLeft),
    left: Int32Array.from(left),
    leftShare: Float64Array.from(leftShare),
    features,
    outputs,
    scale,
  };
}

const walkCase = fc
  .record({ features: fc.integer({ min: 1, max: 12 }), outputs: fc.integer({ min: 1, max: 3 }) })
  .chain(({ features, outputs }) =>
    fc.record({
      features: fc.constant(features),
      outputs: fc.constant(outputs),
      trees: fc.array(treeOf(features), { minLength: 1, maxLength: 24 }),
      rows: fc.array(fc.array(fc.constantFrom(...ROW_VALUES), { minLength: features, maxLength: features }), {
        minLength: 1,
        maxLength: 6,
      }),
      start: fc.double({ min: -5, max: 5, noNaN: true }),
      scale: fc.constantFrom(1, 0.25, 1 / 3),
      budget: fc.constantFrom(1 << 22, 200, 30),
    }),
  );

describe('table walk in WebAssembly', () => {
  it.each(['unrolled', 'looped'] as const)(
    '%s: writes the same values as the JavaScript walk, bit for bit, row after row',
    (form) => {
      fc.assert(
        fc.property(walkCase, ({ features, outputs, trees, rows, start, scale, budget }) => {
          const tables = buildTables(flatten(trees, features, outputs, scale), budget);
          const wasm = compileWasmTableWalk(tables, features, outputs, form);
          expect(wasm).toBeDefined();
          const javaScript = compileJavaScriptTableWalk(tables, features, outputs);
          for (const values of rows) {
            const row = Float64Array.from(values);
            // both add to what is in the output already
            const expected = new Float64Array(outputs * features).fill(start);
            const actual = new Float64Array(outputs * features).fill(start);
            javaScript(row, expected);
            wasm!(row, actual);
            expect(Array.from(actual)).toEqual(Array.from(expected));
          }
        }),
        { numRuns: 300 },
      );
    },
  );

  it('leaves the row it is given as it was', () => {
    const tables = buildTables(
      flatten(
        [
          {
            leaf: false,
            feature: 0,
            threshold: 0.5,
            missingLeft: false,
            share: 0.3,
            left: { leaf: true, value: 1 },
            right: { leaf: true, value: -2 },
          },
        ],
        2,
        1,
        1,
      ),
      1 << 22,
    );
    const walk = compileWasmTableWalk(tables, 2, 1)!;
    const row = Float64Array.from([NaN, 0.7]);
    const phi = new Float64Array(2);
    walk(row, phi);
    expect(Number.isNaN(row[0])).toBe(true);
    expect(row[1]).toBe(0.7);
    // the row goes right (missing values go right here): −2 − E = −2 − (0.3 · 1 + 0.7 · −2)
    expect(phi[0]).toBeCloseTo(-2 - (0.3 - 1.4), 12);
    expect(phi[1]).toBe(0);
  });
});
