import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildModelCard,
  metricIntervals,
  rankedLayout,
  rankedMetricsOfCounts,
  type ModelCardInput,
} from '../../src/ml/card.js';
import {
  averagePrecision,
  f1Score,
  labelsAtThreshold,
  metricFunction,
  rocAuc,
} from '../../src/ml/metrics.js';
import { Random } from '../../src/core/random.js';
import { parseSchema } from '../../src/schema/schema.js';

/** Labels with a positive share of about `share` and noisy scores that rank them, with many tied scores. */
function sample(rows: number, seed: number, share = 0.2): { y: Float64Array; scores: Float64Array } {
  const random = new Random(seed);
  const y = new Float64Array(rows);
  const scores = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    y[i] = random.next() < share ? 1 : 0;
    scores[i] =
      Math.round(Math.min(1, Math.max(0, 0.3 + 0.3 * y[i] + (random.next() - 0.5) * 0.6)) * 50) / 50;
  }
  return { y, scores };
}

const SCHEMA = parseSchema(`
name: churn
description: Will a subscriber leave this month?
fields:
  id: { type: integer, role: key }
  tenure: { type: integer, min: 0, description: months as a subscriber }
  plan: { type: category, values: [basic, pro] }
  churned: { type: category, role: target, values: ['no', 'yes'] }
`);

function cardInput(overrides: Partial<ModelCardInput> = {}): ModelCardInput {
  return {
    schema: SCHEMA,
    runId: 'run-1',
    model: { type: 'gbdt', params: { max_iter: 50 } },
    dataHash: 'a'.repeat(64),
    rows: { total: 1000, train: 800, test: 200 },
    evaluation: {
      metric: 'roc_auc',
      threshold: 0.42,
      metrics: { roc_auc: 0.81, pr_auc: 0.5, f1: 0.55 },
      intervals: { roc_auc: { estimate: 0.81, low: 0.76, high: 0.85, confidence: 0.95, resamples: 200 } },
    },
    thresholdSetting: 'f1',
    validation: {
      checks: [
        {
          check: 'class_balance',
          status: 'pass',
          message: 'classes no: 900, yes: 100',
          details: { no: 900, yes: 100 },
        },
        { check: 'extra_columns', status: 'warn', message: 'fields not in the schema: note' },
      ],
      drift: {
        reference: 'v3',
        features: [
          { field: 'tenure', psi: 0.31, ks: 0.2, drifted: true },
          { field: 'plan', psi: 0.01, drifted: false },
        ],
      },
    },
    ...overrides,
  };
}

describe('metricIntervals', () => {
  it('gives each metric its value on every row and a percentile interval around it', () => {
    const { y, scores } = sample(2000, 1);
    const intervals = metricIntervals({
      yTrue: y,
      scores,
      metrics: ['roc_auc', 'pr_auc', 'f1'],
      context: { threshold: 0.5 },
      resamples: 200,
      seed: 9,
    });
    expect(intervals.roc_auc.estimate).toBeCloseTo(rocAuc(y, scores), 6);
    expect(intervals.pr_auc.estimate).toBeCloseTo(averagePrecision(y, scores), 6);
    expect(intervals.f1.estimate).toBeCloseTo(f1Score(y, labelsAtThreshold(scores, 0.5)), 6);
    for (const interval of Object.values(intervals)) {
      expect(interval.low).toBeLessThan(interval.estimate);
      expect(interval.high).toBeGreaterThan(interval.estimate);
      expect(interval.high - interval.low).toBeLessThan(0.15);
      expect(interval).toMatchObject({ confidence: 0.95, resamples: 200 });
    }
  });

  it('scores every resample as metrics.ts does with the drawn counts as row weights', () => {
    const { y, scores } = sample(500, 3);
    const names = ['roc_auc', 'pr_auc', 'f1', 'accuracy'] as const;
    const intervals = metricIntervals({
      yTrue: y,
      scores,
      metrics: names,
      context: { threshold: 0.44 },
      resamples: 60,
      seed: 5,
    });
    // The same draws, scored one by one with the reference functions.
    const random = new Random(5);
    const counts = new Float64Array(y.length);
    const values: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]));
    for (let r = 0; r < 60; r++) {
      counts.fill(0);
      for (let i = 0; i < y.length; i++) counts[random.nextInt(y.length)]++;
      for (const name of names)
        values[name].push(metricFunction(name, { threshold: 0.44 })(y, scores, counts));
    }
    for (const name of names) {
      const sorted = values[name].sort((a, b) => a - b);
      const at = (q: number) => {
        const position = q * (sorted.length - 1);
        const below = Math.floor(position);
        return (
          sorted[below] +
          (sorted[Math.min(below + 1, sorted.length - 1)] - sorted[below]) * (position - below)
        );
      };
      expect(intervals[name].low, name).toBeCloseTo(at(0.025), 6);
      expect(intervals[name].high, name).toBeCloseTo(at(0.975), 6);
    }
  });

  it('scores a resample from its draws per tied group exactly as the metrics of the drawn rows themselves', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ label: fc.constantFrom(0, 1), score: fc.integer({ min: 0, max: 8 }) }), {
          minLength: 1,
          maxLength: 60,
        }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 120 }),
        fc.constantFrom(0, 0.25, 0.5, 1),
        (rows, draws, threshold) => {
          const y = Float64Array.from(rows, (row) => row.label);
          const scores = Float64Array.from(rows, (row) => row.score / 8);
          const drawn = draws.map((draw) => draw % rows.length);
          const layout = rankedLayout(y, scores, threshold);
          const cellOf = new Int32Array(rows.length);
          layout.order.forEach((row, rank) => (cellOf[row] = layout.cellAtRank[rank]));
          const cellCounts = new Int32Array(2 * layout.groups);
          for (const i of drawn) cellCounts[cellOf[i]]++;
          const fast = rankedMetricsOfCounts(layout, cellCounts);
          // The naive statistic: the drawn rows written out one by one, scored by metrics.ts.
          const yDrawn = Float64Array.from(drawn, (i) => y[i]);
          const scoresDrawn = Float64Array.from(drawn, (i) => scores[i]);
          const bothClasses = yDrawn.includes(1) && yDrawn.includes(0);
          if (bothClasses) expect(fast.roc_auc).toBeCloseTo(rocAuc(yDrawn, scoresDrawn), 12);
          else expect(fast.roc_auc).toBeNaN();
          if (yDrawn.includes(1)) expect(fast.pr_auc).toBeCloseTo(averagePrecision(yDrawn, scoresDrawn), 12);
          expect(fast.f1).toBeCloseTo(f1Score(yDrawn, labelsAtThreshold(scoresDrawn, threshold)), 12);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is repeatable for a seed and narrower with more rows', () => {
    const small = sample(300, 2);
    const large = sample(6000, 2);
    const options = { metrics: ['roc_auc'] as const, resamples: 150, seed: 4 };
    const first = metricIntervals({ yTrue: small.y, scores: small.scores, ...options });
    expect(metricIntervals({ yTrue: small.y, scores: small.scores, ...options })).toEqual(first);
    const wide = first.roc_auc.high - first.roc_auc.low;
    const narrow = metricIntervals({ yTrue: large.y, scores: large.scores, ...options }).roc_auc;
    expect(narrow.high - narrow.low).toBeLessThan(wide / 2);
  });

  it('leaves out resamples where a metric is undefined, and says how many counted', () => {
    const y = Float64Array.from([1, 0, 0, 0, 0, 0, 0, 0]);
    const scores = Float64Array.from([0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    const interval = metricIntervals({
      yTrue: y,
      scores,
      metrics: ['roc_auc'],
      resamples: 100,
      seed: 1,
    }).roc_auc;
    expect(interval.resamples).toBeGreaterThan(0);
    expect(interval.resamples).toBeLessThan(100);
    expect(interval.estimate).toBe(1);
  });
});

describe('buildModelCard', () => {
  it('states training data, class balance, metrics with intervals and the threshold', () => {
    const card = buildModelCard(cardInput());
    expect(card).toMatchObject({
      name: 'churn',
      description: 'Will a subscriber leave this month?',
      task: 'binary',
      target: 'churned',
      classes: ['no', 'yes'],
      runId: 'run-1',
      trainingData: {
        dataHash: 'a'.repeat(64),
        rows: { total: 1000, train: 800, test: 200 },
        classBalance: [
          { label: 'no', count: 900, share: 0.9 },
          { label: 'yes', count: 100, share: 0.1 },
        ],
      },
      evaluation: {
        metric: 'roc_auc',
        threshold: 0.42,
        thresholdRule: 'maximises F1 on the training part',
        testRows: 200,
      },
    });
    expect(card.evaluation.intervals.roc_auc).toMatchObject({ low: 0.76, high: 0.85 });
    expect(card.features.map((f) => f.name)).toEqual(['tenure', 'plan']);
    expect(card.intendedUse.join('\n')).toContain(
      'Outputs the probability that churned is yes; the predicted label is yes when that probability is at least 0.42.',
    );
  });

  it('lists the known limits: imbalance, flagged drift, validation warnings and the threshold rule', () => {
    const limits = buildModelCard(cardInput()).limits.join('\n');
    expect(limits).toContain('Trained on 800 rows (data hash aaaaaaaaaaaa) and tested on 200 held-out rows');
    expect(limits).toContain('Class imbalance: churned = yes is only 10.0% of the rows');
    expect(limits).toContain('Drift was flagged in tenure (PSI 0.310) against v3');
    expect(limits).not.toContain('plan (PSI');
    expect(limits).toContain(
      'Validation warned at training time: extra_columns: fields not in the schema: note.',
    );
    expect(limits).toContain('The threshold maximises F1 on the training part');
  });

  it('says when there are no intervals, and leaves out limits that do not apply', () => {
    const input = cardInput({ thresholdSetting: 0.5 });
    input.evaluation = { ...input.evaluation, intervals: {} };
    input.validation = {
      checks: [{ check: 'class_balance', status: 'pass', message: '', details: { no: 500, yes: 500 } }],
      drift: { reference: null, features: [] },
    };
    const limits = buildModelCard(input).limits.join('\n');
    expect(limits).toContain('No confidence intervals: evaluate.bootstrap is 0');
    expect(limits).toContain('The threshold is fixed at 0.5 by the configuration');
    expect(limits).not.toContain('imbalance');
    expect(limits).not.toContain('Drift');
  });

  it('adds the comparison with production when the run had one', () => {
    const input = cardInput();
    input.evaluation = {
      ...input.evaluation,
      productionVersion: 'v3',
      productionMetrics: { roc_auc: 0.8 },
      comparison: { difference: 0.01, low: -0.002, high: 0.021, confidence: 0.95 },
    };
    expect(buildModelCard(input).evaluation.production).toEqual({
      version: 'v3',
      metrics: { roc_auc: 0.8 },
      difference: { value: 0.01, low: -0.002, high: 0.021, confidence: 0.95 },
    });
  });
});
