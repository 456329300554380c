// The k-d tree against a brute-force scan, on data with binary columns and repeated rows.
import { describe, expect, it } from 'vitest';
import { KdTree } from '../../src/ml/neighbors.js';
import { Random } from '../../src/core/random.js';

function bruteForce(points: Float64Array, count: number, d: number, query: number, k: number): number[] {
  const distances: { index: number; distance: number }[] = [];
  for (let i = 0; i < count; i++) {
    if (i === query) continue;
    let distance = 0;
    for (let j = 0; j < d; j++) distance += (points[i * d + j] - points[query * d + j]) ** 2;
    distances.push({ index: i, distance });
  }
  distances.sort((a, b) => a.distance - b.distance);
  return distances.slice(0, k).map((entry) => entry.distance);
}

describe('KdTree', () => {
  it('finds exactly the k nearest distances that a brute-force scan finds, with binary columns and repeated rows', () => {
    const random = new Random(12);
    const count = 1500;
    const d = 6;
    const points = new Float64Array(count * d);
    for (let i = 0; i < count; i++) {
      points[i * d] = random.nextNormal();
      points[i * d + 1] = random.nextInt(5);
      points[i * d + 2] = random.next() < 0.8 ? 0 : 1;
      points[i * d + 3] = random.next() < 0.5 ? 0 : 1;
      points[i * d + 4] = random.nextInt(3) === 0 ? 1 : 0;
      points[i * d + 5] = random.next() * 3;
    }
    // Exact duplicates of earlier rows.
    for (let i = 1400; i < count; i++)
      for (let j = 0; j < d; j++) points[i * d + j] = points[(i - 1400) * d + j];
    const tree = new KdTree(points, count, d);
    const found = new Int32Array(5);
    for (let query = 0; query < count; query += 7) {
      const got = tree.nearest(points, query * d, 5, found, query);
      expect(got).toBe(5);
      const distances = Array.from(found, (index) => {
        let distance = 0;
        for (let j = 0; j < d; j++) distance += (points[index * d + j] - points[query * d + j]) ** 2;
        return distance;
      });
      expect(Array.from(found)).not.toContain(query);
      expect(distances).toEqual(bruteForce(points, count, d, query, 5));
    }
  });

  it('returns fewer neighbours than asked when the tree holds fewer points', () => {
    const points = Float64Array.from([0, 0, 1, 1, 2, 2]);
    const tree = new KdTree(points, 3, 2);
    const found = new Int32Array(5);
    expect(tree.nearest(points, 0, 5, found, 0)).toBe(2);
    expect(Array.from(found.subarray(0, 2))).toEqual([1, 2]);
  });
});
