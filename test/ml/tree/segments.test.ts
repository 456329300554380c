// Rows dealt to segments (binning.ts): training row r to segment r mod segments, each segment's rows in
// order, so that rows stored in the order of a feature are spread evenly over the threads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dealRows, dealtRow, segmentStart } from '../../../src/ml/tree/binning.js';

describe('rows dealt to segments', () => {
  it('puts each training row once, in its segment, in order, where dealtRow says', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 9 }), (rows, segments) => {
        const from = Float64Array.from({ length: rows }, (_, row) => row);
        const to = new Float64Array(rows).fill(-1);
        dealRows(from, to, segments);
        // every row once
        expect([...to].sort((a, b) => a - b)).toEqual([...from]);
        expect(segmentStart(0, rows, segments)).toBe(0);
        expect(segmentStart(segments, rows, segments)).toBe(rows);
        for (let s = 0; s < segments; s++) {
          const start = segmentStart(s, rows, segments);
          const end = segmentStart(s + 1, rows, segments);
          // sizes differ by one at most
          expect(end - start).toBeGreaterThanOrEqual(Math.floor(rows / segments));
          expect(end - start).toBeLessThanOrEqual(Math.ceil(rows / segments));
          for (let at = start; at < end; at++) {
            expect(to[at] % segments).toBe(s);
            if (at > start) expect(to[at]).toBeGreaterThan(to[at - 1]);
          }
        }
        for (let row = 0; row < rows; row++) expect(to[dealtRow(row, rows, segments)]).toBe(row);
      }),
      { numRuns: 200 },
    );
  });
});
