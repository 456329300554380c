// The seeded generator: repeatability, ranges and sub-streams.
import { describe, expect, it } from 'vitest';
import { deriveSeed, Random } from '../../src/core/random.js';

describe('Random', () => {
  it('repeats the same sequence for a seed and another for another seed', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, () => new Random(seed).nextUint32());
    const a = new Random(42);
    const b = new Random(42);
    const sequenceA = Array.from({ length: 100 }, () => a.nextUint32());
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(sequenceA);
    expect(new Random(43).nextUint32()).not.toBe(sequenceA[0]);
    expect(new Set(draw(0)).size).toBe(1);
    expect(new Random(0).next()).not.toBe(new Random(2 ** 32).next());
  });

  it('draws floats in [0, 1) and integers in [0, bound) evenly', () => {
    const random = new Random(7);
    const counts = new Array(6).fill(0);
    let sum = 0;
    let outside = 0;
    for (let i = 0; i < 60000; i++) {
      const value = random.next();
      if (!(value >= 0 && value < 1)) outside++;
      sum += value;
      counts[random.nextInt(6)]++;
    }
    expect(outside).toBe(0);
    expect(sum / 60000).toBeCloseTo(0.5, 2);
    for (const count of counts) expect(Math.abs(count - 10000)).toBeLessThan(400);
  });

  it('shuffles to a permutation and samples distinct values', () => {
    const random = new Random(3);
    const shuffled = random.shuffle(Array.from({ length: 50 }, (_, i) => i));
    expect([...shuffled].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(shuffled).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
    const sample = random.sampleWithoutReplacement(100, 30);
    expect(new Set(sample).size).toBe(30);
  });

  it('derives independent, repeatable sub-stream seeds', () => {
    expect(deriveSeed(42, 1)).toBe(deriveSeed(42, 1));
    expect(deriveSeed(42, 1)).not.toBe(deriveSeed(42, 2));
    expect(deriveSeed(42, 1)).not.toBe(deriveSeed(43, 1));
  });
});
