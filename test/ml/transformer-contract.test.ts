// Every transformer keeps the Transformer contract: fit then transform gives what the JSON round trip
// gives, and an unfitted one refuses to transform or to be saved (PW_MODEL_NOT_FITTED).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import { OneHotEncoder, OrdinalEncoder, ONE_HOT_DROPS } from '../../src/ml/transform/encoders.js';
import {
  CategoryImputer,
  NUMERIC_IMPUTER_STRATEGIES,
  NumericImputer,
} from '../../src/ml/transform/imputers.js';
import { Preprocessor } from '../../src/ml/transform/preprocessor.js';
import { createScaler, Scaler, SCALER_KINDS } from '../../src/ml/transform/scalers.js';
import type { Transformer } from '../../src/ml/types.js';
import type { CategoryValue } from '../../src/schema/schema.js';
import { customerRecords, customerSchema } from './fixtures.js';

const notFitted = expect.objectContaining({ code: 'PW_MODEL_NOT_FITTED' });

/** A fresh JSON copy, as a bundle stores it. */
function throughJSON<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Both fail the same way before fitting, and transform alike once fitted and restored. */
function checkContract<I, O, F, J>(
  make: () => Transformer<I, O, F, J>,
  restore: (json: J) => Transformer<I, O, F, J>,
  fitInput: F,
  input: I,
): void {
  const unfitted = make();
  expect(unfitted.isFitted).toBe(false);
  expect(() => unfitted.transform(input)).toThrow(notFitted);
  expect(() => unfitted.toJSON()).toThrow(notFitted);
  const fitted = make().fit(fitInput);
  expect(fitted.isFitted).toBe(true);
  const restored = restore(throughJSON(fitted.toJSON()));
  expect(restored.isFitted).toBe(true);
  expect(restored.toJSON()).toEqual(fitted.toJSON());
  expect(restored.transform(input)).toEqual(fitted.transform(input));
}

const numbers = fc
  .array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)), {
    minLength: 0,
    maxLength: 40,
  })
  .map((values) => Float64Array.from(values));
const categories = fc.array(fc.constantFrom<CategoryValue | null>('a', 'b', 'c', 3, true, null), {
  maxLength: 30,
});

describe('the Transformer contract', () => {
  it('holds for every scaler on any column with missing values', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCALER_KINDS), numbers, numbers, (kind, train, test) => {
        checkContract(() => createScaler(kind), Scaler.fromJSON, train, test);
      }),
    );
  });

  it('holds for every numeric imputer strategy', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...NUMERIC_IMPUTER_STRATEGIES),
        numbers,
        numbers,
        (strategy, train, test) => {
          checkContract(() => new NumericImputer(strategy, -1), NumericImputer.fromJSON, train, test);
        },
      ),
    );
  });

  it('holds for the category imputer, most frequent and constant', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('most_frequent' as const, 'constant' as const),
        fc.uniqueArray(fc.constantFrom<CategoryValue>('a', 'b', 'c', 7)),
        categories,
        (strategy, seen, test) => {
          const counts = { categories: seen, counts: seen.map((_, i) => (i * 7) % 5) };
          checkContract(() => new CategoryImputer(strategy), CategoryImputer.fromJSON, counts, test);
        },
      ),
    );
  });

  it('holds for the one-hot encoder with every drop rule and for the ordinal encoder, unseen values included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ONE_HOT_DROPS),
        fc.uniqueArray(fc.constantFrom<CategoryValue>('a', 'b', 'c', 3)),
        categories,
        (drop, seen, test) => {
          checkContract(() => new OneHotEncoder(drop), OneHotEncoder.fromJSON, seen, test);
          checkContract(() => new OrdinalEncoder(), OrdinalEncoder.fromJSON, seen, test);
        },
      ),
    );
  });

  it('holds for the whole preprocessor on a frame with missing values', () => {
    const schema = customerSchema();
    const frame = frameFromRecordsSync(schema, customerRecords(120, 3, 0.2));
    const settings = {
      numeric: { scaler: 'robust' as const, imputer: 'median' as const },
      categorical: { encoder: 'onehot' as const, imputer: 'most_frequent' as const },
    };
    checkContract(() => Preprocessor.fromConfig(schema, settings), Preprocessor.fromJSON, frame, frame);
  });

  it('keeps hyperparameters out of the learned state: refitting replaces the state, not the settings', () => {
    const imputer = new NumericImputer('constant', 5).fit(Float64Array.of(1, NaN));
    expect(imputer.fillValue).toBe(5);
    const scaler = createScaler('minmax').fit(Float64Array.of(0, 10));
    scaler.fit(Float64Array.of(0, 20));
    expect(scaler.toJSON()).toEqual({ kind: 'minmax', center: 0, scale: 20 });
  });
});
