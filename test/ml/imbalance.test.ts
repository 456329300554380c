// SMOTE, ENN, SMOTEENN and class weights on small two-dimensional clusters whose geometry is known.
import { describe, expect, it } from 'vitest';
import {
  balanceTrainingSet,
  classWeights,
  editedNearestNeighbours,
  smote,
  smoteEnn,
} from '../../src/ml/imbalance.js';
import { Random } from '../../src/core/random.js';
import type { Matrix } from '../../src/ml/types.js';

/** Majority (class 0) spread over [0, 10]²; minority (class 1) inside the disk of radius 1 around (5, 5) after `noisy` swaps. */
function clusters(majority: number, minority: number, seed = 1): { X: Matrix; y: Float64Array } {
  const random = new Random(seed);
  const a: number[] = [];
  const b: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < majority; i++) {
    let x: number;
    let z: number;
    do {
      x = random.next() * 10;
      z = random.next() * 10;
    } while ((x - 5) ** 2 + (z - 5) ** 2 < 4);
    a.push(x);
    b.push(z);
    labels.push(0);
  }
  for (let i = 0; i < minority; i++) {
    const radius = Math.sqrt(random.next());
    const angle = random.next() * 2 * Math.PI;
    a.push(5 + radius * Math.cos(angle));
    b.push(5 + radius * Math.sin(angle));
    labels.push(1);
  }
  return {
    X: {
      rows: labels.length,
      cols: 2,
      columns: [Float64Array.from(a), Float64Array.from(b)],
      names: ['a', 'b'],
    },
    y: Float64Array.from(labels),
  };
}

function count(y: Float64Array, label: number): number {
  return y.reduce((sum, value) => sum + (value === label ? 1 : 0), 0);
}

describe('SMOTE', () => {
  const { X, y } = clusters(400, 40);

  it('grows the minority to the majority count, keeping the original rows first and unchanged', () => {
    const result = smote(X, y, { seed: 3 });
    expect(count(result.y, 0)).toBe(400);
    expect(count(result.y, 1)).toBe(400);
    expect(Array.from(result.X.columns[0].subarray(0, X.rows))).toEqual(Array.from(X.columns[0]));
    expect(Array.from(result.origin.subarray(0, 3))).toEqual([0, 1, 2]);
    expect(result.origin[X.rows]).toBe(-1);
  });

  it('creates points inside the minority class hull (here a disk of radius 1)', () => {
    const result = smote(X, y, { seed: 3 });
    for (let i = X.rows; i < result.X.rows; i++) {
      const distance = Math.hypot(result.X.columns[0][i] - 5, result.X.columns[1][i] - 5);
      expect(distance).toBeLessThanOrEqual(1 + 1e-12);
      expect(result.y[i]).toBe(1);
    }
  });

  it('is deterministic for a seed and differs for another seed', () => {
    const first = smote(X, y, { seed: 3 });
    expect(Array.from(smote(X, y, { seed: 3 }).X.columns[0])).toEqual(Array.from(first.X.columns[0]));
    expect(Array.from(smote(X, y, { seed: 4 }).X.columns[0])).not.toEqual(Array.from(first.X.columns[0]));
  });

  it('grows the minority to a given share of the majority', () => {
    const result = smote(X, y, { seed: 1, samplingStrategy: 0.5 });
    expect(count(result.y, 1)).toBe(200);
  });
});

describe('ENN', () => {
  it('removes majority rows that sit among minority rows, and keeps the minority', () => {
    const { X, y } = clusters(400, 60, 2);
    // Three majority rows planted in the middle of the minority disk.
    const planted = [5, 5.1, 4.9];
    const columns = X.columns.map((column) => Float64Array.from([...column, ...planted]));
    const labels = Float64Array.from([...y, 0, 0, 0]);
    const noisy: Matrix = { rows: X.rows + 3, cols: 2, columns, names: X.names };
    const result = editedNearestNeighbours(noisy, labels);
    const kept = new Set(result.origin);
    for (const row of [X.rows, X.rows + 1, X.rows + 2]) expect(kept.has(row)).toBe(false);
    expect(count(result.y, 1)).toBe(60);
    expect(count(result.y, 0)).toBeGreaterThan(390);
  });

  it('with "mode" selection keeps a row that most of its neighbours agree with', () => {
    const X: Matrix = {
      rows: 5,
      cols: 1,
      columns: [Float64Array.from([0, 0.1, 0.2, 0.3, 10])],
      names: ['a'],
    };
    const y = Float64Array.from([0, 0, 1, 0, 0]);
    // Row 3's neighbours are rows 2, 1, 0 (classes 1, 0, 0): "all" drops it, "mode" keeps it.
    const all = editedNearestNeighbours(X, y, { classes: 'all' });
    const mode = editedNearestNeighbours(X, y, { classes: 'all', selection: 'mode' });
    expect(Array.from(all.origin)).not.toContain(3);
    expect(Array.from(mode.origin)).toContain(3);
  });
});

describe('SMOTEENN and class weights', () => {
  it('oversamples then cleans, leaving far more minority rows than before', () => {
    const { X, y } = clusters(400, 40, 5);
    const result = smoteEnn(X, y, { seed: 9 });
    expect(count(result.y, 1)).toBeGreaterThan(300);
    expect(result.X.rows).toBeLessThanOrEqual(800);
    expect(Array.from(result.origin).filter((origin) => origin === -1).length).toBeGreaterThan(250);
  });

  it('gives balanced weights n / (classes × count) so each class carries the same total', () => {
    const y = Float64Array.from([0, 0, 0, 0, 0, 0, 1, 1]);
    const weights = classWeights(y, 'balanced');
    expect(weights[0]).toBeCloseTo(8 / (2 * 6), 15);
    expect(weights[7]).toBeCloseTo(8 / (2 * 2), 15);
    const totals = [0, 0];
    y.forEach((label, i) => (totals[label] += weights[i]));
    expect(totals[0]).toBeCloseTo(totals[1], 12);
  });

  it('applies the configured strategy', () => {
    const { X, y } = clusters(100, 10, 6);
    expect(balanceTrainingSet(X, y, { strategy: 'none' }, 1).X).toBe(X);
    expect(balanceTrainingSet(X, y, { strategy: 'class_weight' }, 1).sampleWeight?.length).toBe(110);
    expect(count(balanceTrainingSet(X, y, { strategy: 'smote', k_neighbors: 3 }, 1).y, 1)).toBe(100);
  });
});
