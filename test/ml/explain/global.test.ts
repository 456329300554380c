// The run report's global explanation: how many rows it explains is budgeted by what a row costs the
// model's explainer, so a forest of deep trees takes a few hundred rows instead of seconds upon seconds.
import { describe, expect, it } from 'vitest';
import { createModelExplainer } from '../../../src/ml/explain/estimator.js';
import {
  explainGlobally,
  GLOBAL_EXPLAIN_ROWS,
  GLOBAL_EXPLAIN_WORK,
  globalExplainRows,
  MIN_GLOBAL_EXPLAIN_ROWS,
} from '../../../src/ml/explain/global.js';
import { frameFromRecordsSync } from '../../../src/ml/frame.js';
import { createEstimator, type ModelType } from '../../../src/ml/models/index.js';
import { Preprocessor } from '../../../src/ml/transform/preprocessor.js';
import { customerRecords, customerSchema } from '../fixtures.js';

const schema = customerSchema();
const frame = frameFromRecordsSync(schema, customerRecords(6000, 5, 0.05));
const train = Int32Array.from({ length: 3000 }, (_, i) => i);
const test = Int32Array.from({ length: 3000 }, (_, i) => 3000 + i);
const preprocessor = Preprocessor.fromConfig(schema, {
  numeric: { scaler: 'standard', imputer: 'median' },
  categorical: { encoder: 'onehot', imputer: 'none' },
}).fit(frame, train);
const X = preprocessor.transform(frame, train);
const y = Float64Array.from(train, (row) => frame.target![row]);

async function fitted(type: ModelType, params: Record<string, unknown>) {
  return createEstimator(type, { ...params, threads: 1 }).fit(X, y);
}

describe('global explanation rows', () => {
  it('counts a row’s TreeSHAP work as every leaf’s depth squared', async () => {
    // stumps: two leaves at depth 2 a tree
    const stumps = await fitted('random_forest', { n_estimators: 5, max_depth: 1 });
    expect(createModelExplainer(stumps.toJSON()).workPerRow).toBe(5 * 2 * 4);
    const deeper = await fitted('random_forest', { n_estimators: 5, max_depth: 6 });
    expect(createModelExplainer(deeper.toJSON()).workPerRow).toBeGreaterThan(5 * 2 * 4);
  });

  it('takes every row the budget pays for, within its bounds', () => {
    expect(globalExplainRows(1)).toBe(GLOBAL_EXPLAIN_ROWS);
    expect(globalExplainRows(GLOBAL_EXPLAIN_WORK / 500)).toBe(500);
    expect(globalExplainRows(GLOBAL_EXPLAIN_WORK)).toBe(MIN_GLOBAL_EXPLAIN_ROWS);
  });

  it('explains fewer rows of a deep forest than of small boosted trees, every field ranked either way', async () => {
    const boosted = await fitted('gbdt', { max_iter: 40, max_leaf_nodes: 15 });
    const forest = await fitted('random_forest', { n_estimators: 120, max_depth: 14, min_samples_leaf: 1 });
    const small = explainGlobally(boosted, preprocessor, frame, test, train)!;
    const deep = explainGlobally(forest, preprocessor, frame, test, train)!;
    expect(small.rows).toBe(Math.min(test.length, GLOBAL_EXPLAIN_ROWS));
    const forestWork = createModelExplainer(forest.toJSON()).workPerRow;
    expect(deep.rows).toBe(globalExplainRows(forestWork));
    expect(deep.rows).toBeLessThan(small.rows);
    for (const explanation of [small, deep])
      expect(explanation.importance.map((entry) => entry.field).sort()).toEqual(
        [...preprocessor.inputFields].sort(),
      );
  });
});
