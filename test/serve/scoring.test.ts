// The answer shape for each task comes from one function, for JSON, batches and CSV alike.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPrediction, predictionColumns } from '../../src/serve/scoring.js';

const label = fc.oneof(fc.string(), fc.integer(), fc.boolean());
const probability = fc.double({ min: 0, max: 1, noNaN: true });
const scored = fc.record({
  probability,
  label,
  value: fc.double({ noNaN: true }),
  probabilities: fc.dictionary(fc.string({ minLength: 1 }), probability),
  metricLabel: fc.string(),
});

describe('formatPrediction', () => {
  it('answers a binary model with the probability and the label, in that order', () => {
    fc.assert(
      fc.property(scored, (input) => {
        const answer = formatPrediction('binary', input);
        expect(Object.keys(answer)).toEqual(['probability', 'label']);
        expect(answer).toEqual({ probability: input.probability, label: input.label });
      }),
    );
  });

  it('answers a regression model with the value only', () => {
    fc.assert(
      fc.property(scored, (input) => {
        expect(formatPrediction('regression', input)).toEqual({ value: input.value });
      }),
    );
  });

  it('answers a multiclass model with the label, its probability and every class probability', () => {
    fc.assert(
      fc.property(scored, (input) => {
        const answer = formatPrediction('multiclass', input);
        expect(Object.keys(answer)).toEqual(['label', 'probability', 'probabilities']);
        expect(answer).toEqual({
          label: input.label,
          probability: input.probability,
          probabilities: input.probabilities,
        });
      }),
    );
  });

  it('gives CSV the answer fields that hold one value, in answer order', () => {
    expect(predictionColumns('binary')).toEqual(['probability', 'label']);
    expect(predictionColumns('regression')).toEqual(['value']);
    expect(predictionColumns('multiclass')).toEqual(['label', 'probability']);
  });
});
