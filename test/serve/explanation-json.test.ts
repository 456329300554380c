// An explained answer's JSON is written from the explainer's values by per-model fragments: it must be
// exactly the text JSON.stringify gives for the explanation object, whatever the field and class names.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explanationOf, type ExplanationShape } from '../../src/ml/explain/explainer.js';
import { compileExplanationJson } from '../../src/serve/explanation-json.js';
import { explainedAnswerJson, formatPrediction, type Scored } from '../../src/serve/scoring.js';

/** Names that need escaping, look like array indices, repeat, or are special to objects. */
const name = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', '"', '\\', '\u2028', '\ud800', '\n\t'),
  fc.nat({ max: 20 }).map(String),
  fc.constantFrom('4294967294', '4294967295', '-1', '01', '1.5'),
);
/** Any double, with NaN, ±Infinity and −0 (JSON null, null and 0). */
const number = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 5e-324));

const shapes = fc
  .record({
    space: fc.constantFrom('log_odds', 'probability', 'value', 'class_scores' as const),
    fields: fc.array(name, { maxLength: 12 }),
    classes: fc.array(name, { minLength: 2, maxLength: 6 }),
  })
  .chain(({ space, fields, classes }) => {
    const outputs = space === 'class_scores' ? classes.length : 1;
    return fc.record({
      shape: fc.record({
        space: fc.constant(space),
        fields: fc.constant(fields),
        outputNames: fc.constant(space === 'class_scores' ? classes : ['1']),
        base: fc.array(number, { minLength: outputs, maxLength: outputs }),
      }) as fc.Arbitrary<ExplanationShape>,
      values: fc.array(number, { minLength: outputs * fields.length, maxLength: outputs * fields.length }),
    });
  });

describe('compileExplanationJson', () => {
  it('writes byte for byte what JSON.stringify writes for the explanation object', () => {
    fc.assert(
      fc.property(shapes, ({ shape, values }) => {
        const write = compileExplanationJson(shape);
        const expected = JSON.stringify(explanationOf(shape, values));
        expect(write(Float64Array.from(values))).toBe(expected);
        // the writer keeps nothing of one record for the next
        expect(write(Float64Array.from(values))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the fields in the order the explanation object lists them, values at their own field', () => {
    const shape: ExplanationShape = {
      space: 'log_odds',
      fields: ['b', '2', 'a', '10', 'b'],
      base: [0.5],
      outputNames: ['1'],
    };
    expect(compileExplanationJson(shape)(Float64Array.from([1, 2, 3, 4, 5]))).toBe(
      '{"space":"log_odds","base":0.5,"contributions":{"2":2,"10":4,"b":5,"a":3}}',
    );
  });
});

describe('explainedAnswerJson', () => {
  const label = fc.oneof(fc.string(), fc.integer(), fc.boolean());
  const scored = fc.record({
    probability: number,
    label,
    value: number,
    probabilities: fc.dictionary(name, number),
    metricLabel: fc.string(),
    warnings: fc.option(
      fc.array(
        fc.record({
          field: name,
          reason: fc.constantFrom('above_range' as const, 'unseen_category' as const),
        }),
      ),
      { nil: undefined },
    ),
  });

  it('is the text of the answer object with its explanation, version and request id', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('binary', 'regression', 'multiclass' as const),
        scored,
        shapes,
        fc.string(),
        fc.string(),
        (task, input, { shape, values }, version, requestId) => {
          const withExplanation: Scored = {
            ...input,
            explanationJson: compileExplanationJson(shape)(Float64Array.from(values)),
          };
          if (!input.warnings) delete withExplanation.warnings;
          const rest = `,"version":${JSON.stringify(version)},"requestId":${JSON.stringify(requestId)}`;
          const expected = JSON.stringify({
            ...formatPrediction(task, withExplanation),
            explanation: explanationOf(shape, values),
            version,
            requestId,
          });
          expect(explainedAnswerJson(task, withExplanation, rest)).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
