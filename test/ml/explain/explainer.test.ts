// Bundle explanations by schema field: one-hot columns summed back to their field, base + Σ contributions
// equal to the model's raw output for the record, logistic regression's base at the training mean score.
import { describe, expect, it } from 'vitest';
import { createBundle, type Bundle } from '../../../src/ml/bundle.js';
import { createExplainer } from '../../../src/ml/explain/explainer.js';
import { createModelExplainer } from '../../../src/ml/explain/estimator.js';
import { frameFromRecordsSync, type Frame } from '../../../src/ml/frame.js';
import { createEstimator, estimatorFromJSON, type ModelType } from '../../../src/ml/models/index.js';
import { GradientBoostingModel } from '../../../src/ml/models/gbdt.js';
import { RandomForestModel } from '../../../src/ml/models/forest.js';
import { splitFrame } from '../../../src/ml/split.js';
import { computeReferenceStats } from '../../../src/ml/stats.js';
import { Preprocessor } from '../../../src/ml/transform/preprocessor.js';
import type { Matrix } from '../../../src/ml/types.js';
import type { TypedRecord } from '../../../src/schema/coerce.js';
import { parseSchema, type Schema } from '../../../src/schema/schema.js';
import { CUSTOMER_SCHEMA_YAML, customerRecords, customerSchema } from '../fixtures.js';

const FIELDS = ['age', 'income', 'plan', 'city', 'active', 'joined'];

async function trained(
  schema: Schema,
  frame: Frame,
  type: ModelType,
  train: Int32Array | number[],
): Promise<Bundle> {
  const preprocessor = Preprocessor.fromConfig(schema, {
    numeric: { scaler: 'standard', imputer: 'median' },
    categorical: { encoder: 'onehot', imputer: 'none' },
  }).fit(frame, train);
  const params: Record<string, unknown> =
    type === 'logistic'
      ? {}
      : type === 'gbdt'
        ? { max_iter: 30, threads: 1 }
        : { n_estimators: 15, threads: 1 };
  const model = await createEstimator(type, params).fit(
    preprocessor.transform(frame, train),
    Float64Array.from(train, (row) => frame.target![row]),
  );
  return createBundle({
    schema,
    preprocessor,
    model,
    metadata: {
      metrics: {},
      params,
      dataHash: 'a'.repeat(64),
      codeVersion: '0.1.0',
      createdAt: '2024-05-01T12:00:00.000Z',
      runId: 'run-1',
      referenceStats: computeReferenceStats(frame, train),
    },
    goldenInputs: [frame.record(0)],
  });
}

/** The model's raw outputs (log-odds, class scores, averaged probability or value) for the records, row after row. */
function rawOutputs(bundle: Bundle, records: TypedRecord[]): { raw: Float64Array; outputs: number } {
  const preprocessor = Preprocessor.fromJSON(bundle.preprocessor);
  const X: Matrix = preprocessor.transformRecords(records);
  const model = estimatorFromJSON(bundle.model);
  if (model instanceof GradientBoostingModel)
    return { raw: model.decisionFunction(X), outputs: model.outputs };
  if (model instanceof RandomForestModel) return { raw: model.predict(X), outputs: 1 };
  const state = bundle.model.state as { coefficients: number[][]; intercepts: number[] };
  const outputs = state.intercepts.length;
  const raw = new Float64Array(X.rows * outputs);
  for (let i = 0; i < X.rows; i++)
    for (let o = 0; o < outputs; o++) {
      let score = state.intercepts[o];
      for (let c = 0; c < X.cols; c++) {
        const x = X.columns[c][i];
        if (x === x) score += state.coefficients[o][c] * x;
      }
      raw[i * outputs + o] = score;
    }
  return { raw, outputs };
}

function sumOf(contributions: Record<string, number>): number {
  return Object.values(contributions).reduce((sum, value) => sum + value, 0);
}

const schema = customerSchema();
const frame = frameFromRecordsSync(schema, customerRecords(800, 21, 0.08));
const { train, test } = splitFrame(frame, { testSize: 0.25, seed: 42, stratify: true });
const testRecords = Array.from(test, (row) => frame.record(row)).slice(0, 80);

describe('bundle explanations by field', () => {
  for (const [type, space] of [
    ['logistic', 'log_odds'],
    ['gbdt', 'log_odds'],
    ['random_forest', 'probability'],
  ] as const) {
    it(`${type}: every feature field gets a contribution, and base + their sum is the raw output`, async () => {
      const bundle = await trained(schema, frame, type, train);
      const explainer = createExplainer(bundle);
      expect(explainer.space).toBe(space);
      expect([...explainer.fields]).toEqual(FIELDS);
      const { raw } = rawOutputs(bundle, testRecords);
      testRecords.forEach((record, i) => {
        const explanation = explainer.explainRecord(record);
        if (explanation.space === 'class_scores') throw new Error('a binary model explains one output');
        expect(Object.keys(explanation.contributions)).toEqual(FIELDS);
        expect(Math.abs(explanation.base + sumOf(explanation.contributions) - raw[i])).toBeLessThan(1e-6);
      });
    });
  }

  it('sums the one-hot columns of a category field into that field', async () => {
    const bundle = await trained(schema, frame, 'gbdt', train);
    const preprocessor = Preprocessor.fromJSON(bundle.preprocessor);
    const columnsOfPlan = preprocessor.outputFields.flatMap((field, c) => (field === 'plan' ? [c] : []));
    expect(columnsOfPlan.length).toBeGreaterThan(1);
    const model = createModelExplainer(bundle.model);
    const explainer = createExplainer(bundle);
    const row = new Float64Array(preprocessor.outputs);
    const phi = new Float64Array(preprocessor.outputs);
    let planMatters = false;
    for (const record of testRecords) {
      model.explainRow(preprocessor.transformRecord(record, row), phi);
      const expected = columnsOfPlan.reduce((sum, c) => sum + phi[c], 0);
      const explanation = explainer.explainRecord(record);
      if (explanation.space === 'class_scores') throw new Error('a binary model explains one output');
      expect(Math.abs(explanation.contributions.plan - expected)).toBeLessThan(1e-12);
      if (Math.abs(expected) > 1e-3) planMatters = true;
    }
    expect(planMatters).toBe(true);
  });

  it('logistic regression starts from the mean training score, from the bundle’s reference statistics', async () => {
    const bundle = await trained(schema, frame, 'logistic', train);
    const explainer = createExplainer(bundle);
    const { raw } = rawOutputs(
      bundle,
      Array.from(train, (row) => frame.record(row)),
    );
    const meanScore = raw.reduce((sum, x) => sum + x, 0) / raw.length;
    expect(Math.abs(explainer.base[0] - meanScore)).toBeLessThan(1e-9);
  });

  it('multiclass: one base and set of contributions per class label, each adding up to its class score', async () => {
    const threeClassSchema = parseSchema(
      CUSTOMER_SCHEMA_YAML.replace('values: [0, 1] }', 'values: [0, 1, 2] }'),
    );
    const records = customerRecords(600, 5, 0.08).map((record) => ({
      ...record,
      churned:
        (record.churned as number) +
        ((record.age as number | null) !== null && (record.age as number) > 55 ? 1 : 0),
    }));
    const threeClassFrame = frameFromRecordsSync(threeClassSchema, records);
    const rows = Array.from({ length: 450 }, (_, i) => i);
    for (const type of ['gbdt', 'logistic'] as const) {
      const bundle = await trained(threeClassSchema, threeClassFrame, type, rows);
      const explainer = createExplainer(bundle);
      expect(explainer.space).toBe('class_scores');
      const held = records.slice(450, 500);
      const { raw, outputs } = rawOutputs(bundle, held);
      expect(outputs).toBe(3);
      held.forEach((record, i) => {
        const explanation = explainer.explainRecord(record);
        if (explanation.space !== 'class_scores') throw new Error('a multiclass model explains every class');
        expect(Object.keys(explanation.per_class)).toEqual(['0', '1', '2']);
        ['0', '1', '2'].forEach((label, o) => {
          const { base, contributions } = explanation.per_class[label];
          expect(Math.abs(base + sumOf(contributions) - raw[i * 3 + o])).toBeLessThan(1e-6);
        });
      });
    }
  });
});
