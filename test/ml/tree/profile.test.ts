// The training profile: off, a fit adds nothing; on, each node phase's time is also kept by the size of the
// node it was spent on, and the classes add up to the phase.
import { afterEach, describe, expect, it } from 'vitest';
import { GradientBoostingModel } from '../../../src/ml/models/gbdt.js';
import {
  enableTrainingProfile,
  NODE_PHASES,
  NODE_SIZES,
  trainingProfile,
} from '../../../src/ml/tree/profile.js';
import { classification } from '../trees.js';

const fit = (rows: number): Promise<unknown> => {
  const { X, y } = classification(rows, 4);
  return new GradientBoostingModel({ max_iter: 3, early_stopping: false, threads: 1 }).fit(X, y);
};

describe('training profile', () => {
  afterEach(() => enableTrainingProfile(false));

  it('keeps nothing while off', async () => {
    enableTrainingProfile(false);
    await fit(5_000);
    for (const phase of NODE_PHASES) {
      expect(trainingProfile.seconds[phase]).toBe(0);
      expect(trainingProfile.byNodeSize[phase].every((seconds) => seconds === 0)).toBe(true);
    }
  });

  it("splits each node phase's time by node size, the classes adding up to the phase", async () => {
    enableTrainingProfile();
    // the roots (70,000 rows) are in the largest class, their deepest descendants in the smallest
    await fit(70_000);
    const largest = NODE_SIZES.length - 1;
    for (const phase of NODE_PHASES) {
      const bySize = trainingProfile.byNodeSize[phase];
      expect(bySize).toHaveLength(NODE_SIZES.length);
      const sum = bySize.reduce((total, seconds) => total + seconds, 0);
      expect(sum).toBeCloseTo(trainingProfile.seconds[phase], 9);
      expect(bySize[0]).toBeGreaterThan(0);
      expect(bySize[largest]).toBeGreaterThan(0);
    }
    // turning it on again starts from zero
    enableTrainingProfile();
    for (const phase of NODE_PHASES) expect(trainingProfile.byNodeSize[phase]).toEqual([0, 0, 0]);
  });

  it('puts a node in the class its row count falls in', async () => {
    enableTrainingProfile();
    // no node of 16,384 rows or more: only the smallest class is used
    await fit(12_000);
    for (const phase of NODE_PHASES) {
      const [smallest, ...others] = trainingProfile.byNodeSize[phase];
      expect(smallest).toBeGreaterThan(0);
      expect(others).toEqual([0, 0]);
    }
  });
});
