// KS and chi-square values were computed once with scipy 1.10 (stats.ks_2samp, stats.chisquare,
// stats.chi2.sf) on the same inputs.
import { describe, expect, it } from 'vitest';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import {
  binProportions,
  chiSquare,
  chiSquareSurvival,
  computeReferenceStats,
  driftAgainstReference,
  ksAgainstReference,
  ksStatistic,
  numericReference,
  psi,
} from '../../src/ml/stats.js';
import { Random } from '../../src/core/random.js';
import { customerRecords, customerSchema } from './fixtures.js';

describe('drift measures', () => {
  it('compute the two-sample KS statistic as scipy ks_2samp, ties included', () => {
    expect(
      ksStatistic(
        [1.2, 3.4, 2.2, 5.0, 0.3, 2.2, 4.4, 1.0, 3.3, 2.9],
        [2.5, 3.9, 4.1, 6.0, 2.2, 5.5, 3.3, 4.8],
      ),
    ).toBeCloseTo(0.425, 12);
    expect(ksStatistic([1, 1, 2, 2, 3], [1, 2, 2, 3, 3, 3])).toBeCloseTo(0.3, 12);
    expect(ksStatistic([1, 2, 3], [1, 2, 3])).toBe(0);
  });

  it('compute chi-square statistics and p-values as scipy chisquare and chi2.sf', () => {
    const first = chiSquare([0.25, 0.5, 0.25], [30, 50, 20]);
    expect(first.statistic).toBeCloseTo(2, 12);
    expect(first.degreesOfFreedom).toBe(2);
    expect(first.pValue).toBeCloseTo(0.36787944117144245, 10);
    const second = chiSquare([0.1, 0.1, 0.3, 0.5], [12, 7, 30, 51]);
    expect(second.statistic).toBeCloseTo(1.32, 12);
    expect(second.pValue).toBeCloseTo(0.7243894461724841, 10);
    expect(chiSquareSurvival(3.7, 1)).toBeCloseTo(0.054412467991601404, 10);
    expect(chiSquareSurvival(25, 7)).toBeCloseTo(0.0007588002556582502, 12);
    expect(chiSquareSurvival(0.5, 4)).toBeCloseTo(0.9735009788392561, 10);
    expect(chiSquareSurvival(150, 100)).toBeCloseTo(0.0009039320423540184, 12);
  });

  it('computes PSI as the sum of (a - e) ln(a / e), zero for identical bins and finite for an empty one', () => {
    expect(psi([0.5, 0.5], [0.5, 0.5])).toBe(0);
    expect(psi([0.25, 0.75], [0.5, 0.5])).toBeCloseTo(0.25 * Math.log(2) - 0.25 * Math.log(0.5 / 0.75), 12);
    expect(Number.isFinite(psi([0.5, 0.5, 0], [0.4, 0.4, 0.2]))).toBe(true);
    expect(psi([0.5, 0.5, 0], [0.4, 0.4, 0.2])).toBeGreaterThan(0.5);
  });
});

describe('reference statistics', () => {
  const random = new Random(4);
  const values = Float64Array.from({ length: 5000 }, () => random.nextNormal());

  it('bins a continuous column into deciles with about a tenth of the rows each', () => {
    const reference = numericReference('x', values);
    expect(reference.edges).toHaveLength(9);
    expect(reference.discrete).toBe(false);
    reference.proportions.slice(0, 10).forEach((share) => expect(share).toBeCloseTo(0.1, 2));
    expect(reference.proportions[10]).toBe(0);
    expect(reference.quantiles).toHaveLength(101);
  });

  it('gives each value its own bin when there are few distinct values, counting missing values apart', () => {
    const reference = numericReference('flag', Float64Array.from([0, 1, 1, 1, NaN]));
    expect(reference.discrete).toBe(true);
    expect(reference.edges).toEqual([0]);
    expect(reference.proportions).toEqual([0.2, 0.6, 0.2]);
    expect(binProportions(reference.edges, Float64Array.from([1, 1]))).toEqual([0, 1, 0]);
  });

  it('finds KS near 0 for a sample of the same distribution and large for a shifted one', () => {
    const reference = numericReference('x', values);
    const same = Float64Array.from({ length: 3000 }, () => random.nextNormal());
    const shifted = same.map((value) => value + 1);
    expect(ksAgainstReference(reference, same)).toBeLessThan(0.05);
    expect(ksAgainstReference(reference, shifted)).toBeGreaterThan(0.3);
    // Close to the exact two-sample statistic against the full reference sample.
    expect(Math.abs(ksAgainstReference(reference, shifted) - ksStatistic(values, shifted))).toBeLessThan(
      0.02,
    );
  });

  it('summarises a frame and flags the features whose distribution moved', () => {
    const schema = customerSchema();
    const reference = computeReferenceStats(
      frameFromRecordsSync(schema, customerRecords(2000, 1)),
      undefined,
      Float64Array.from({ length: 2000 }, (_, i) => (i % 10) / 10),
    );
    expect(reference.features.map((f) => f.field)).toEqual([
      'age',
      'income',
      'plan',
      'city',
      'active',
      'joined',
    ]);
    const plan = reference.features.find((f) => f.field === 'plan')!;
    expect(plan.kind).toBe('category');
    const moved = customerRecords(1000, 2).map((record) => ({ ...record, age: 90, plan: 'premium' }));
    const report = driftAgainstReference(reference, frameFromRecordsSync(schema, moved));
    const byField = Object.fromEntries(report.features.map((f) => [f.field, f]));
    expect(byField.age.psi).toBeGreaterThan(1);
    expect(byField.age.ks).toBeGreaterThan(0.5);
    expect(byField.plan.chiSquare!.pValue).toBeLessThan(1e-6);
    expect(byField.income.psi).toBeLessThan(0.05);
    expect(byField.city.chiSquare!.pValue).toBeGreaterThan(0.001);
  });

  it('round-trips through JSON unchanged', () => {
    const reference = computeReferenceStats(frameFromRecordsSync(customerSchema(), customerRecords(300, 3)));
    expect(JSON.parse(JSON.stringify(reference))).toEqual(reference);
  });
});
