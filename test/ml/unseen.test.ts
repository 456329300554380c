// Values a model never saw in training are scored, not refused, on every model type, and flagged by
// field and reason from the bundle's reference statistics.
import { describe, expect, it } from 'vitest';
import { Predictor, serializeBundle } from '../../src/ml/bundle.js';
import { MODEL_TYPES } from '../../src/ml/models/index.js';
import { compileUnseenCheck } from '../../src/ml/unseen.js';
import { compileCoercer } from '../../src/schema/coerce.js';
import { parseSchema } from '../../src/schema/schema.js';
import { readFileSync } from 'node:fs';
import { openSchemaText, TEMPLATE_SCHEMA, trainBundle, validRecord } from '../fixtures/model.js';

const schema = parseSchema(openSchemaText(readFileSync(TEMPLATE_SCHEMA, 'utf8')));
const coerce = compileCoercer(schema, { fields: 'inputs' });

describe('values unseen in training', () => {
  it('the open schema really is open: no values for Gender and Vehicle_Age', () => {
    expect(schema.fields.find((f) => f.name === 'Gender')!.values).toBeUndefined();
    expect(schema.fields.find((f) => f.name === 'Vehicle_Age')!.values).toBeUndefined();
  });

  for (const modelType of MODEL_TYPES) {
    it(`${modelType}: scores unknown categories, numbers beyond the range and unseen missing values`, async () => {
      const bundle = await trainBundle(schema, {
        rows: 600,
        modelType,
        referenceStats: true,
        params: { gbdt: { max_iter: 20 }, random_forest: { n_estimators: 10 }, logistic: {} }[modelType],
      });
      const predictor = Predictor.load(serializeBundle(bundle), schema);
      const unseen = compileUnseenCheck(schema, bundle.metadata.referenceStats);
      const novel = coerce({
        ...validRecord(),
        Gender: 'Other',
        Vehicle_Age: 'Hover car',
        Age: 250,
        Annual_Premium: null,
      });
      expect(novel.ok).toBe(true);
      const score = predictor.score(novel.record);
      expect(Number.isFinite(score)).toBe(true);
      expect(score).toBeGreaterThanOrEqual(0);
      expect(score).toBeLessThanOrEqual(1);
      const flags = unseen(novel.record)!;
      expect(flags.map((flag) => [flag.field, flag.reason]).sort()).toEqual(
        [
          ['Age', 'above_range'],
          ['Annual_Premium', 'unseen_missing'],
          ['Gender', 'unseen_category'],
          ['Vehicle_Age', 'unseen_category'],
        ].sort(),
      );
      const known = coerce(validRecord());
      expect(known.ok).toBe(true);
      expect(unseen(known.record)).toBeUndefined();
      // Below the smallest value seen.
      const young = coerce({ ...validRecord(), Age: 1 });
      expect(unseen(young.record)).toEqual([
        expect.objectContaining({ field: 'Age', reason: 'below_range', value: 1 }),
      ]);
    });
  }

  it('flags nothing without reference statistics (older bundles)', () => {
    const check = compileUnseenCheck(schema, null);
    expect(check(coerce({ ...validRecord(), Gender: 'Other' }).record)).toBeUndefined();
  });
});
