// Work added in one event-loop turn is run together, in order, once; work of a later turn runs apart.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../../src/serve/turn-batch.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnBatch', () => {
  it('runs every item of a turn in one call, in the order they came, and nothing before the turn ends', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.integer(), { minLength: 1, maxLength: 20 }), { maxLength: 5 }),
        async (turns) => {
          const runs: number[][] = [];
          const batch = new TurnBatch<number>((items) => runs.push(items));
          for (const [turn, items] of turns.entries()) {
            for (const item of items) batch.add(item);
            expect(runs).toHaveLength(turn);
            await nextTurn();
          }
          expect(runs).toEqual(turns);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('takes items added while a run is under way into a run of their own', async () => {
    const runs: number[][] = [];
    const batch: TurnBatch<number> = new TurnBatch<number>((items) => {
      runs.push(items);
      if (items[0] === 1) batch.add(3);
    });
    batch.add(1);
    batch.add(2);
    await nextTurn();
    await nextTurn();
    expect(runs).toEqual([[1, 2], [3]]);
  });
});
