// The push ledger against a plain Map of every text: first lines and repeat counts agree for any
// sequence of sightings, through the index's growth and past the one-byte sighting counter.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyLedger, RowLedger } from '../../src/batch/row-ledger.js';

function reference(texts: string[]): { firstLine: number; seen: number }[] {
  const known = new Map<string, { firstLine: number; count: number }>();
  return texts.map((text, line) => {
    const held = known.get(text);
    if (!held) {
      known.set(text, { firstLine: line + 2, count: 1 });
      return { firstLine: line + 2, seen: 0 };
    }
    return { firstLine: held.firstLine, seen: held.count++ };
  });
}

describe('RowLedger', () => {
  it('gives the first line and the number of earlier sightings of every text, as a Map would', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: 0, max: 300 }).map(String)), {
          maxLength: 2000,
        }),
        fc.constantFrom(1, 16, 4096),
        (texts, capacity) => {
          const ledger = new RowLedger(capacity);
          const seen = texts.map((text, line) => ledger.see(text, line + 2));
          expect(seen).toEqual(reference(texts));
          expect(ledger.distinct).toBe(new Set(texts).size);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('counts a text seen more often than a byte can hold', () => {
    const texts = Array.from({ length: 1200 }, (_, index) => (index % 3 === 0 ? 'same' : `k${index % 7}`));
    const ledger = new RowLedger();
    expect(texts.map((text, line) => ledger.see(text, line + 2))).toEqual(reference(texts));
  });

  it('keeps every entry apart across many growths of the index (200,000 distinct keys)', () => {
    const ledger = new RowLedger(16);
    let repeats = 0;
    for (let i = 0; i < 200_000; i++) repeats += ledger.see(String(i), i + 2).seen;
    expect(repeats).toBe(0);
    for (let i = 0; i < 200_000; i += 997)
      expect(ledger.see(String(i), 0)).toEqual({ firstLine: i + 2, seen: 1 });
    expect(ledger.distinct).toBe(200_000);
  });
});

describe('KeyLedger', () => {
  it("answers as a Map of the keys' texts would, whether the keys rise, stop rising, or are text", () => {
    const key = fc.oneof(
      fc.integer({ min: -50, max: 50 }),
      fc.double({ min: -1e3, max: 1e3, noNaN: true }),
      fc.constantFrom('7', 'a', '-0', '0'),
    );
    fc.assert(
      fc.property(
        // a rising run first (as an export sorted by its key gives), long enough to fill note blocks
        // now and then, then anything
        fc.integer({ min: 0, max: 70_000 }),
        fc.integer({ min: -100, max: 100 }),
        fc.array(key, { maxLength: 300 }),
        (rising, from, rest) => {
          const keys: unknown[] = Array.from({ length: rising }, (_, i) => from + i * 0.5);
          keys.push(...rest);
          const texts = keys.map((value) => String(value));
          const ledger = new KeyLedger();
          const got = keys.map((value, line) => ledger.see(value, texts[line], line + 2));
          expect(got).toEqual(reference(texts));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('takes a key equal to the last one, right after it, for the repeat it is', () => {
    for (const keys of [
      [1, 2, 2, 3],
      [5, 5],
      [1, 2, 3, 3, 3, 4, 2],
      [-0, 0],
    ]) {
      const texts = keys.map((value) => String(value));
      const ledger = new KeyLedger();
      expect(keys.map((value, line) => ledger.see(value, texts[line], line + 2))).toEqual(reference(texts));
    }
  });
});
