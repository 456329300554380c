// Model bundles: canonical bytes, checksum and schema checks on load, golden-sample verification,
// and a Predictor whose one-record scores equal its batch scores for every model type.
import { describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { canonicalJson } from '../../src/core/hash.js';
import { parseSchema } from '../../src/schema/schema.js';
import {
  bundleChecksum,
  createBundle,
  parseBundle,
  Predictor,
  serializeBundle,
  type Bundle,
} from '../../src/ml/bundle.js';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { createEstimator } from '../../src/ml/models/index.js';
import { splitFrame } from '../../src/ml/split.js';
import { computeReferenceStats } from '../../src/ml/stats.js';
import { Preprocessor } from '../../src/ml/transform/preprocessor.js';
import type { Estimator } from '../../src/ml/types.js';
import { CUSTOMER_SCHEMA_YAML, customerRecords, customerSchema } from './fixtures.js';

const schema = customerSchema();
const records = customerRecords(600, 21, 0.08);
const frame = frameFromRecordsSync(schema, records);
const { train, test } = splitFrame(frame, { testSize: 0.25, seed: 42, stratify: true });

async function trained(type: 'logistic' | 'gbdt' | 'random_forest'): Promise<Bundle> {
  const preprocessor = Preprocessor.fromConfig(schema, {
    numeric: { scaler: 'standard', imputer: 'median' },
    categorical: { encoder: 'onehot', imputer: 'none' },
  }).fit(frame, train);
  const params: Record<string, unknown> =
    type === 'logistic'
      ? { C: 1 }
      : type === 'gbdt'
        ? { max_iter: 20, threads: 1 }
        : { n_estimators: 10, threads: 1 };
  const model: Estimator = await createEstimator(type, params).fit(
    preprocessor.transform(frame, train),
    Float64Array.from(train, (row) => frame.target![row]),
  );
  return createBundle({
    schema,
    preprocessor,
    model,
    threshold: 0.4,
    metadata: {
      metrics: { roc_auc: 0.8 },
      params,
      dataHash: 'a'.repeat(64),
      codeVersion: '0.1.0',
      createdAt: '2024-05-01T12:00:00.000Z',
      runId: 'run-1',
      referenceStats: computeReferenceStats(frame, train),
    },
    goldenInputs: [0, 1, 2, 3, 4].map((i) => frame.record(test[i])),
  });
}

function refusal(action: () => unknown): PipewrightError {
  try {
    action();
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected a refusal');
}

describe('model bundle', () => {
  it('serialises to canonical JSON and parses back to the same bundle', async () => {
    const bundle = await trained('logistic');
    const bytes = serializeBundle(bundle);
    expect(new TextDecoder().decode(bytes)).toBe(canonicalJson(bundle));
    const parsed = parseBundle(bytes, schema);
    expect(parsed).toEqual(bundle);
    expect(parsed.format).toBe('pipewright-bundle');
    expect(parsed.formatVersion).toBe(1);
    expect(parsed.classes).toEqual([0, 1]);
    expect(parsed.checksum).toBe(bundleChecksum((({ checksum: _checksum, ...body }) => body)(parsed)));
  });

  it('refuses a bundle altered after it was written (checksum)', async () => {
    const text = new TextDecoder().decode(serializeBundle(await trained('logistic')));
    const tampered = text.replace('"threshold":0.4', '"threshold":0.1');
    expect(tampered).not.toBe(text);
    const error = refusal(() => parseBundle(tampered));
    expect(error.code).toBe('PW_BUNDLE_INVALID');
    expect(error.message).toContain('checksum');
  });

  it('refuses a bundle trained on another schema, naming what changed', async () => {
    const bytes = serializeBundle(await trained('logistic'));
    const changed = parseSchema(CUSTOMER_SCHEMA_YAML.replace('max: 120', 'max: 99'));
    const error = refusal(() => parseBundle(bytes, changed));
    expect(error.code).toBe('PW_MODEL_SCHEMA_MISMATCH');
    expect(error.message).toContain('age.max was 120 and is now 99');
    expect(refusal(() => parseBundle(bytes, 'f'.repeat(64))).code).toBe('PW_MODEL_SCHEMA_MISMATCH');
    expect(() => parseBundle(bytes, schema.fingerprint)).not.toThrow();
  });

  it('refuses text that is not JSON, not a bundle, or of an unknown format version', async () => {
    expect(refusal(() => parseBundle('{"format": "pipewright-bundle"')).code).toBe('PW_BUNDLE_INVALID');
    expect(refusal(() => parseBundle('{"format": "something-else"}')).message).toContain(
      'not a Pipewright bundle',
    );
    const bundle = await trained('logistic');
    const future = { ...bundle, formatVersion: 2 };
    const error = refusal(() => parseBundle(JSON.stringify(future)));
    expect(error.message).toContain('format version 2');
    expect(error.hint).toContain('Upgrade');
  });

  it('refuses a bundle whose stored golden outputs the model does not reproduce', async () => {
    const bundle = await trained('logistic');
    const { checksum: _checksum, ...body } = bundle;
    body.metadata.golden.outputs[2] += 1e-6;
    const resealed = { ...body, checksum: bundleChecksum(body) };
    const parsed = parseBundle(serializeBundle(resealed));
    const error = refusal(() => Predictor.fromBundle(parsed));
    expect(error.code).toBe('PW_BUNDLE_INVALID');
    expect(error.message).toContain('golden row 3');
  });

  it("refuses a bundle whose preprocessor does not make the model's columns", async () => {
    const bundle = await trained('logistic');
    const other = Preprocessor.fromConfig(schema, { categorical: { encoder: 'ordinal' } }).fit(frame, train);
    const { checksum: _checksum, ...body } = bundle;
    const resealed = { ...body, preprocessor: other.toJSON() };
    const error = refusal(() =>
      Predictor.fromBundle(parseBundle(JSON.stringify({ ...resealed, checksum: bundleChecksum(resealed) }))),
    );
    expect(error.code).toBe('PW_BUNDLE_INVALID');
    expect(error.message).toContain('the model expects');
  });

  it('reads a bundle with JSON.parse only: keys like __proto__ and code-looking text stay inert data', async () => {
    const text = new TextDecoder().decode(serializeBundle(await trained('logistic')));
    const crafted = JSON.parse(
      text.replace(
        '"metrics":{',
        '"metrics":{"__proto__":{"polluted":true},"note":"require(\'child_process\').execSync(\'exit 1\')",',
      ),
    );
    const { checksum: _checksum, ...body } = crafted;
    const resealed = JSON.stringify({ ...body, checksum: bundleChecksum(body) });
    const parsed = parseBundle(resealed, schema);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(parsed.metadata.metrics.note).toContain('execSync');
    expect(Predictor.fromBundle(parsed).task).toBe('binary');
  });

  for (const type of ['logistic', 'gbdt', 'random_forest'] as const) {
    it(`scores one record exactly as the batch does, after loading from bytes (${type})`, async () => {
      const predictor = Predictor.load(serializeBundle(await trained(type)), schema);
      const batch = predictor.predictFrame(frame, test);
      for (let i = 0; i < 40; i++) {
        const prediction = predictor.predictRecord(frame.record(test[i]));
        if (!('probability' in prediction)) throw new Error('expected a binary prediction');
        expect(prediction.probability).toBeCloseTo(batch[i], 12);
        expect(prediction.label).toBe(batch[i] >= 0.4 ? 1 : 0);
      }
      const fromRecords = predictor.predictRecords([0, 1, 2].map((i) => frame.record(test[i])));
      expect(Array.from(fromRecords)).toEqual(Array.from(batch.subarray(0, 3)));
    });
  }

  it('scores unseen categories and missing values without failing', async () => {
    const predictor = Predictor.fromBundle(await trained('gbdt'));
    const prediction = predictor.predictRecord({
      id: 9,
      age: null,
      income: null,
      plan: null,
      city: 'Atlantis',
      active: null,
      joined: null,
    });
    expect('probability' in prediction && Number.isFinite(prediction.probability)).toBe(true);
    expect(Number.isFinite(predictor.score({}))).toBe(true);
  });

  it('bundles a multiclass model (labels and class probabilities) and a regression model (values)', async () => {
    const multiclassSchema = parseSchema(
      CUSTOMER_SCHEMA_YAML.replace(
        'churned: { type: integer, role: target, values: [0, 1] }',
        'churned: { type: category, role: target, values: [stay, downgrade, leave] }',
      ),
    );
    const relabelled = records.map((record, i) => ({
      ...record,
      churned: ['stay', 'downgrade', 'leave'][(record.churned as number) + (i % 3 === 0 ? 1 : 0)],
    }));
    const multiclassFrame = frameFromRecordsSync(multiclassSchema, relabelled);
    const preprocessor = Preprocessor.fromConfig(multiclassSchema, {
      numeric: { scaler: 'standard', imputer: 'median' },
    }).fit(multiclassFrame);
    const model = createEstimator('logistic').fit(
      preprocessor.transform(multiclassFrame),
      multiclassFrame.target!,
    ) as Estimator;
    const metadata = {
      metrics: {},
      params: {},
      dataHash: '',
      codeVersion: '0.1.0',
      createdAt: '',
      runId: 'r',
      referenceStats: null,
    };
    const bundle = createBundle({
      schema: multiclassSchema,
      preprocessor,
      model,
      metadata,
      goldenInputs: [multiclassFrame.record(0)],
    });
    expect(bundle.classes).toEqual(['stay', 'downgrade', 'leave']);
    expect(bundle.threshold).toBeNull();
    expect(bundle.metadata.golden.outputs).toHaveLength(3);
    const predictor = Predictor.load(serializeBundle(bundle), multiclassSchema);
    const prediction = predictor.predictRecord(multiclassFrame.record(5));
    if (!('probabilities' in prediction)) throw new Error('expected class probabilities');
    expect(prediction.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(prediction.label).toBe(
      ['stay', 'downgrade', 'leave'][prediction.probabilities.indexOf(Math.max(...prediction.probabilities))],
    );

    const regressionSchema = parseSchema(
      CUSTOMER_SCHEMA_YAML.replace(
        'income: { type: number, nullable: true }',
        'income: { type: number, role: target }',
      ).replace('churned: { type: integer, role: target, values: [0, 1] }', 'churned: { type: integer }'),
    );
    const regressionFrame = frameFromRecordsSync(
      regressionSchema,
      records.map((record) => ({ ...record, income: record.income ?? 50000 })),
    );
    const regressionPreprocessor = Preprocessor.fromConfig(regressionSchema).fit(regressionFrame);
    const regressor = await createEstimator('gbdt', { loss: 'squared_error', max_iter: 10, threads: 1 }).fit(
      regressionPreprocessor.transform(regressionFrame),
      regressionFrame.target!,
    );
    const regressionBundle = createBundle({
      schema: regressionSchema,
      preprocessor: regressionPreprocessor,
      model: regressor,
      metadata,
      goldenInputs: [regressionFrame.record(1)],
    });
    const regressionPredictor = Predictor.load(serializeBundle(regressionBundle), regressionSchema);
    const value = regressionPredictor.predictRecord(regressionFrame.record(1));
    expect('value' in value && value.value).toBeCloseTo(
      regressionPredictor.predictFrame(regressionFrame, [1])[0],
      9,
    );
  });
});
