// Metrics against the numbers scikit-learn 1.2.1 (Debian's python3-sklearn) and scipy 1.10 compute on
// the same fixed inputs; the expected values were produced once by the calls named in each test.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errors } from '../../src/core/errors.js';
import {
  accuracy,
  averagePrecision,
  binaryReport,
  bootstrapMetricDifference,
  brierScore,
  calibrationBins,
  confusionMatrix,
  descendingOrder,
  f1Score,
  labelsAtThreshold,
  logLoss,
  macroF1,
  mae,
  metricFunction,
  multiclassLogLoss,
  precision,
  precisionRecallCurve,
  r2,
  recall,
  rmse,
  rocAuc,
  rocCurve,
  selectThreshold,
} from '../../src/ml/metrics.js';

const y = [0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0];
const s = [
  0.1, 0.9, 0.8, 0.3, 0.8, 0.2, 0.55, 0.45, 0.7, 0.3, 0.3, 0.6, 0.05, 0.9, 0.65, 0.8, 0.4, 0.99, 0.01, 0.3,
];
const w = [1, 2, 1, 1, 0.5, 1, 3, 1, 1, 2, 1, 1, 1, 1, 2, 1, 1, 0.5, 1, 1];
const predicted = labelsAtThreshold(s, 0.5);

function expectClose(actual: number[], expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((value, i) => expect(value).toBeCloseTo(expected[i], 12));
}

describe('binary classification metrics', () => {
  it('match sklearn accuracy_score, precision_score, recall_score, f1_score and confusion_matrix at threshold 0.5', () => {
    expect(accuracy(y, predicted)).toBeCloseTo(0.75, 12);
    expect(precision(y, predicted)).toBeCloseTo(0.7, 12);
    expect(recall(y, predicted)).toBeCloseTo(0.7777777777777778, 12);
    expect(f1Score(y, predicted)).toBeCloseTo(0.7368421052631577, 12);
    // f1_score(y, pred, sample_weight=w)
    expect(f1Score(y, predicted, w)).toBeCloseTo(0.6956521739130435, 12);
    expect(confusionMatrix(y, predicted)).toEqual([
      [8, 3],
      [2, 7],
    ]);
  });

  it('score zero precision and F1 when nothing is predicted positive (zero_division=0)', () => {
    const none = new Float64Array(y.length);
    expect(precision(y, none)).toBe(0);
    expect(f1Score(y, none)).toBe(0);
  });

  it('match sklearn roc_auc_score with tied scores, with and without sample weights', () => {
    expect(rocAuc(y, s)).toBeCloseTo(0.8585858585858586, 12);
    expect(rocAuc(y, s, w)).toBeCloseTo(0.8607142857142857, 12);
  });

  it('return NaN for ROC-AUC when only one class is present', () => {
    expect(rocAuc([1, 1, 1], [0.2, 0.4, 0.9])).toBeNaN();
  });

  it('match sklearn average_precision_score, with and without sample weights', () => {
    expect(averagePrecision(y, s)).toBeCloseTo(0.7987313612313611, 12);
    expect(averagePrecision(y, s, w)).toBeCloseTo(0.7789682539682541, 12);
  });

  it('match sklearn log_loss (eps="auto"), brier_score_loss, and clip probabilities of 0 and 1', () => {
    expect(logLoss(y, s)).toBeCloseTo(0.47814307699550496, 12);
    expect(logLoss(y, s, w)).toBeCloseTo(0.4973374318521168, 12);
    expect(brierScore(y, s)).toBeCloseTo(0.15451, 12);
    // log_loss([0,1,1,0], [0.0,1.0,0.0,0.2])
    expect(logLoss([0, 1, 1, 0], [0, 1, 0, 0.2])).toBeCloseTo(9.06669923510784, 10);
  });

  it('match sklearn roc_curve (drop_intermediate=True) point for point', () => {
    const curve = rocCurve(y, s);
    expectClose(
      curve.fpr,
      [
        0, 0, 0.09090909090909091, 0.09090909090909091, 0.09090909090909091, 0.2727272727272727,
        0.2727272727272727, 0.36363636363636365, 0.6363636363636364, 1,
      ],
    );
    expectClose(
      curve.tpr,
      [
        0, 0.1111111111111111, 0.2222222222222222, 0.5555555555555556, 0.7777777777777778, 0.7777777777777778,
        0.8888888888888888, 0.8888888888888888, 1, 1,
      ],
    );
    expectClose(curve.thresholds, [1.99, 0.99, 0.9, 0.8, 0.65, 0.55, 0.45, 0.4, 0.3, 0.01]);
  });

  it('match sklearn precision_recall_curve point for point', () => {
    const curve = precisionRecallCurve(y, s);
    expectClose(
      curve.precision,
      [
        0.45, 0.47368421052631576, 0.5, 0.5294117647058824, 0.5625, 0.6666666666666666, 0.7272727272727273,
        0.7, 0.7777777777777778, 0.875, 0.8571428571428571, 0.8333333333333334, 0.6666666666666666, 1, 1,
      ],
    );
    expectClose(
      curve.recall,
      [
        1, 1, 1, 1, 1, 0.8888888888888888, 0.8888888888888888, 0.7777777777777778, 0.7777777777777778,
        0.7777777777777778, 0.6666666666666666, 0.5555555555555556, 0.2222222222222222, 0.1111111111111111, 0,
      ],
    );
    expectClose(
      curve.thresholds,
      [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.45, 0.55, 0.6, 0.65, 0.7, 0.8, 0.9, 0.99],
    );
  });

  it('match sklearn calibration_curve(n_bins=5) on the non-empty bins', () => {
    const bins = calibrationBins(y, s, 5);
    expectClose(
      bins.map((b) => b.fractionPositive),
      [0, 0.2, 0.3333333333333333, 1, 0.6666666666666666],
    );
    expectClose(
      bins.map((b) => b.meanPredicted),
      [0.09000000000000001, 0.31999999999999995, 0.5333333333333333, 0.75, 0.93],
    );
    expect(bins.reduce((sum, b) => sum + b.count, 0)).toBe(y.length);
  });

  it('pick the F1-maximising threshold, as a search over f1_score at every distinct score finds (0.65, 0.8235)', () => {
    const choice = selectThreshold(y, s);
    expect(choice.threshold).toBe(0.65);
    expect(choice.f1).toBeCloseTo(0.823529411764706, 12);
  });

  it('pick the cost-minimising threshold for fp cost 1 and fn cost 5 (0.3, cost 7 from confusion_matrix)', () => {
    const choice = selectThreshold(y, s, { costFalsePositive: 1, costFalseNegative: 5 });
    expect(choice.threshold).toBe(0.3);
    expect(choice.cost).toBe(7);
  });

  it('report every binary metric at once, consistently with the single functions', () => {
    const report = binaryReport(y, s, 0.5);
    expect(report.roc_auc).toBeCloseTo(0.8585858585858586, 12);
    expect(report.pr_auc).toBeCloseTo(0.7987313612313611, 12);
    expect(report.f1).toBeCloseTo(0.7368421052631577, 12);
    expect(report.confusion).toEqual([
      [8, 3],
      [2, 7],
    ]);
    expect(report.positives).toBe(9);
  });
});

describe('regression and multiclass metrics', () => {
  const yt = [3.0, -0.5, 2.0, 7.0, 4.2, 1.1];
  const yp = [2.5, 0.0, 2.1, 7.8, 3.9, 0.7];
  it('match sklearn mean_squared_error(squared=False), mean_absolute_error and r2_score', () => {
    expect(rmse(yt, yp)).toBeCloseTo(0.48304589153964794, 12);
    expect(mae(yt, yp)).toBeCloseTo(0.4333333333333334, 12);
    expect(r2(yt, yp)).toBeCloseTo(0.9588960657662948, 12);
  });

  const yc = [0, 1, 2, 2, 1, 0, 2, 1, 0, 2];
  const pc = [0, 2, 2, 2, 1, 0, 1, 1, 1, 2];
  const proba = [
    0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.2, 0.2, 0.6, 0.1, 0.1, 0.8, 0.3, 0.5, 0.2, 0.6, 0.3, 0.1, 0.3, 0.4, 0.3,
    0.2, 0.7, 0.1, 0.4, 0.5, 0.1, 0.0, 0.0, 1.0,
  ];
  it("match sklearn f1_score(average='macro'), accuracy_score and log_loss on three classes", () => {
    expect(macroF1(yc, pc, 3)).toBeCloseTo(0.7071428571428572, 12);
    expect(accuracy(yc, pc)).toBeCloseTo(0.7, 12);
    expect(multiclassLogLoss(yc, proba, 3)).toBeCloseTo(0.5975528207809628, 12);
    expect(metricFunction('accuracy', { classes: 3 })(yc, proba)).toBeCloseTo(0.7, 12);
  });
});

describe('bootstrap of a metric difference', () => {
  const weaker = s.map((score, i) => (i % 3 === 0 ? 1 - score : score));

  it('gives the same interval for the same seed and another for another seed', () => {
    const run = (seed: number) =>
      bootstrapMetricDifference({
        yTrue: y,
        scoresA: s,
        scoresB: weaker,
        metric: 'roc_auc',
        resamples: 300,
        seed,
      });
    const first = run(7);
    expect(run(7)).toEqual(first);
    expect(run(8)).not.toEqual(first);
  });

  it('centres on the full-sample difference and brackets it', () => {
    const result = bootstrapMetricDifference({
      yTrue: y,
      scoresA: s,
      scoresB: weaker,
      metric: 'roc_auc',
      resamples: 400,
      seed: 3,
    });
    expect(result.difference).toBeCloseTo(rocAuc(y, s) - rocAuc(y, weaker), 12);
    expect(result.low).toBeLessThan(result.difference);
    expect(result.high).toBeGreaterThan(result.difference);
    expect(result.shareABetter).toBeGreaterThan(0.5);
  });

  it('is exactly zero everywhere when both models give the same scores', () => {
    const result = bootstrapMetricDifference({
      yTrue: y,
      scoresA: s,
      scoresB: [...s],
      metric: 'log_loss',
      resamples: 50,
      seed: 1,
    });
    expect([result.difference, result.low, result.high]).toEqual([0, 0, 0]);
  });

  it('weights rows by their draw counts exactly as repeating the rows would', () => {
    const counts = y.map((_, i) => (i % 4) + 0);
    const repeatedY: number[] = [];
    const repeatedS: number[] = [];
    counts.forEach((count, i) => {
      for (let c = 0; c < count; c++) {
        repeatedY.push(y[i]);
        repeatedS.push(s[i]);
      }
    });
    expect(rocAuc(y, s, counts)).toBeCloseTo(rocAuc(repeatedY, repeatedS), 12);
    expect(averagePrecision(y, s, counts)).toBeCloseTo(averagePrecision(repeatedY, repeatedS), 12);
  });
});

describe('descendingOrder', () => {
  // the reference: a comparison sort of the row numbers, ties (and -0 against 0) in row order
  const reference = (scores: Float64Array): Int32Array =>
    Int32Array.from({ length: scores.length }, (_, i) => i).sort((a, b) =>
      scores[a] === scores[b] ? a - b : scores[b] > scores[a] ? 1 : -1,
    );
  const ordersLikeTheReference = (values: number[]): void => {
    const scores = Float64Array.from(values);
    expect(descendingOrder(scores)).toEqual(reference(scores));
  };

  it('orders any doubles as a comparison sort does, ties in row order', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true }), { maxLength: 3000 }), ordersLikeTheReference),
      { numRuns: 200 },
    );
  });

  it('orders scores with many ties and digits shared by every row (passes skipped)', () => {
    // a few values repeated; probabilities of one exponent, whose high digits all rows share
    const repeated = fc.array(fc.constantFrom(0, -0, 1, -1, 0.5, Infinity, -Infinity, 2 ** -1074), {
      maxLength: 3000,
    });
    const oneExponent = fc.array(fc.double({ min: 0.5, max: 0.999, noNaN: true }), { maxLength: 3000 });
    const smallIntegers = fc.array(fc.integer({ min: -3, max: 3 }), { maxLength: 3000 });
    // doubles that differ in the low word of their bits only: the order is the low word's passes' alone
    const lowWords = fc.array(
      fc.tuple(fc.constantFrom(0.7, -0.7), fc.nat({ max: 0xffffffff })).map(([base, word]) => {
        const bits = new DataView(new ArrayBuffer(8));
        bits.setFloat64(0, base);
        bits.setUint32(4, word);
        return bits.getFloat64(0);
      }),
      { maxLength: 3000 },
    );
    fc.assert(fc.property(lowWords, ordersLikeTheReference), { numRuns: 100 });
    fc.assert(fc.property(repeated, ordersLikeTheReference), { numRuns: 100 });
    fc.assert(fc.property(oneExponent, ordersLikeTheReference), { numRuns: 100 });
    fc.assert(fc.property(smallIntegers, ordersLikeTheReference), { numRuns: 100 });
  });

  it('refuses a NaN score', () => {
    expect(() => descendingOrder(Float64Array.from([0.2, 0.4, NaN]))).toThrow(errors.PW_USAGE);
  });
});
