// The positive class of an inferred binary target (named, read as "yes", or the rarer class) and the
// inferred gate: a trivial model's score on this data plus a tenth of the way to a perfect score.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chooseSettings, derivedGate } from '../../src/project/settings.js';
import { orderBinaryClasses } from '../../src/schema/infer/decide.js';
import { SchemaInferrer, type InferOptions, type InferredSchema } from '../../src/schema/infer/index.js';
import { runCli, tempDir } from '../helpers/cli.js';

function inferTarget(labels: string[], options: InferOptions = {}): InferredSchema {
  const inferrer = new SchemaInferrer(['x', 'y'], { target: 'y', ...options });
  labels.forEach((label, i) => inferrer.add({ x: String((i * 7) % 11), y: label }, i + 2));
  return inferrer.finish();
}

function labelsOf(counts: Record<string, number>): string[] {
  return Object.entries(counts).flatMap(([label, count]) => Array<string>(count).fill(label));
}

describe('the positive class of a binary target', () => {
  it('is the rarer class when neither label reads as a positive answer, whatever the sort order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 60 }),
        fc.integer({ min: 61, max: 120 }),
        fc.boolean(),
        (rare, common, rareSortsFirst) => {
          const [rareLabel, commonLabel] = rareSortsFirst ? ['alpha', 'beta'] : ['beta', 'alpha'];
          const inferred = inferTarget(labelsOf({ [commonLabel]: common, [rareLabel]: rare }));
          expect(inferred.task).toBe('binary');
          expect(inferred.classes!.map((entry) => entry.label)).toEqual([commonLabel, rareLabel]);
          expect(inferred.fields.find((field) => field.name === 'y')!.values).toEqual([
            commonLabel,
            rareLabel,
          ]);
        },
      ),
      { numRuns: 20 },
    );
  });

  it('is the label that reads as a positive answer, even when it is the commoner class', () => {
    for (const [positive, negative] of [
      ['yes', 'no'],
      ['Yes', 'No'],
      ['Y', 'N'],
      ['positive', 'negative'],
    ]) {
      const inferred = inferTarget(labelsOf({ [positive]: 80, [negative]: 20 }));
      expect(inferred.classes!.map((entry) => entry.label)).toEqual([negative, positive]);
      expect(inferred.taskNote).toMatch(/reads as a positive answer/);
    }
    const numeric = inferTarget(labelsOf({ '1': 70, '0': 30 }));
    expect(numeric.classes!.map((entry) => entry.label)).toEqual([0, 1]);
  });

  it('is the class the user names, and a name that is not a class is refused', () => {
    const inferred = inferTarget(labelsOf({ yes: 10, no: 90 }), { positiveClass: 'no' });
    expect(inferred.classes!.map((entry) => entry.label)).toEqual(['yes', 'no']);
    expect(inferred.taskNote).toMatch(/named as the positive class/);
    expect(() => inferTarget(labelsOf({ yes: 10, no: 90 }), { positiveClass: 'maybe' })).toThrow(
      expect.objectContaining({ code: 'PW_USAGE' }),
    );
  });

  it('is named with --positive-class on the command line, which names the flag when the value is not a class', async () => {
    const dir = tempDir();
    const csv = join(dir, 'deals.csv');
    const rows = Array.from({ length: 100 }, (_, i) => `${i % 7},${i % 5 === 0 ? 'won' : 'lost'}`);
    writeFileSync(csv, `x,outcome\n${rows.join('\n')}\n`);
    const inferred = await runCli(['schema', 'infer', csv, '--target', 'outcome'], { cwd: dir });
    expect(inferred.stdout).toMatch(/values: \[lost, won\]/);
    const named = await runCli(['schema', 'infer', csv, '--target', 'outcome', '--positive-class', 'lost'], {
      cwd: dir,
    });
    expect(named.code, named.stderr).toBe(0);
    expect(named.stdout).toMatch(/values: \[won, lost\]/);
    const wrong = await runCli(['schema', 'infer', csv, '--target', 'outcome', '--positive-class', 'maybe'], {
      cwd: dir,
    });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/PW_USAGE: --positive-class maybe:/);
  });

  it('keeps sort order for classes of the same size', () => {
    const ordered = orderBinaryClasses([
      { label: 'a', count: 5 },
      { label: 'b', count: 5 },
    ]);
    expect(ordered.classes.map((entry) => entry.label)).toEqual(['a', 'b']);
  });
});

describe('the inferred gate', () => {
  it('is a trivial model plus a tenth of the way to a perfect score, never above it', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), (trivial) => {
        const gate = derivedGate(trivial, 'a trivial model');
        expect(gate.expectedScore).toBeLessThanOrEqual(1);
        expect(gate.expectedScore).toBeGreaterThanOrEqual(Math.round(trivial * 1000) / 1000 - 1e-9);
        expect(gate.expectedScore).toBeCloseTo(trivial + 0.1 * (1 - trivial), 2);
      }),
      { numRuns: 50 },
    );
  });

  it('is the prevalence of the rare positive class for PR-AUC, not the share of the common one', () => {
    const settings = chooseSettings(inferTarget(labelsOf({ no: 986, yes: 14 })));
    expect(settings.metric).toBe('pr_auc');
    expect(settings.expectedScore).toBeCloseTo(0.014 + 0.1 * 0.986, 3);
    expect(settings.metricNote).toMatch(/positive yes/);
    expect(settings.metricNote).toMatch(/plus a tenth of the way to a perfect 1/);
  });

  it('is derived per metric: 0.5 for ROC-AUC, the largest class for accuracy, 0 for R²', () => {
    expect(chooseSettings(inferTarget(labelsOf({ a: 60, b: 40 }))).expectedScore).toBeCloseTo(0.55, 3);
    const accuracy = chooseSettings(inferTarget(labelsOf({ a: 40, b: 30, c: 30 })));
    expect(accuracy.metric).toBe('accuracy');
    expect(accuracy.expectedScore).toBeCloseTo(0.4 + 0.1 * 0.6, 3);
    const inferrer = new SchemaInferrer(['x', 'price'], { target: 'price' });
    for (let i = 0; i < 50; i++) inferrer.add({ x: String(i % 4), price: String(i * 1.25) }, i + 2);
    const regression = chooseSettings(inferrer.finish());
    expect(regression).toMatchObject({ metric: 'r2', expectedScore: 0.1 });
    expect(regression.metricNote).toMatch(/what predicting the mean scores \(0\)/);
  });
});
