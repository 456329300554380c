// The prediction log: sampling at the configured rate, batched writes to a real embedded store, and
// failures that drop (and count) predictions instead of failing requests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { PredictionLog, type PredictionDocument } from '../../src/serve/prediction-log.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';

const folders: string[] = [];
function store(): EmbeddedStore {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-predictions-'));
  folders.push(dir);
  return EmbeddedStore.open(join(dir, 'store.db'));
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const document = (index: number): PredictionDocument => ({
  time: new Date(Date.UTC(2024, 0, 1, 0, 0, index)).toISOString(),
  version: 'v1',
  requestId: `r-${index}`,
  input: { Age: 30 + index },
  probability: 0.25,
  label: 0,
});

/** A repeatable sequence in [0, 1): 0, 0.1, …, 0.9, 0, … */
function steps(): () => number {
  let index = 0;
  return () => (index++ % 10) / 10;
}

describe('the prediction log', () => {
  it('keeps the configured share of predictions', async () => {
    const embedded = store();
    const collection = embedded.collection('predictions');
    const log = new PredictionLog(collection, { rate: 0.3, logger: silentLogger(), random: steps() });
    for (let i = 0; i < 100; i++) if (log.sample()) log.add(document(i));
    await log.close();
    expect(await collection.countDocuments({})).toBe(30);
    await embedded.close();
  });

  it('writes full batches without waiting for the timer, and the rest on close', async () => {
    const embedded = store();
    const collection = embedded.collection('predictions');
    const written: number[] = [];
    const log = new PredictionLog(collection, {
      rate: 1,
      batchSize: 10,
      flushIntervalMs: 60_000,
      logger: silentLogger(),
      onWrite: (outcome, count) => written.push(count),
    });
    for (let i = 0; i < 25; i++) log.add(document(i));
    await new Promise((resolve) => setImmediate(resolve));
    await log.flush();
    expect(await collection.countDocuments({})).toBe(25);
    expect(written.reduce((sum, count) => sum + count, 0)).toBe(25);
    await log.close();
    expect(log.sample()).toBe(false);
    await embedded.close();
  });

  it('drops and counts predictions when the store fails, without throwing', async () => {
    const embedded = store();
    const collection = embedded.collection('predictions');
    const outcomes: string[] = [];
    const log = new PredictionLog(collection, {
      rate: 1,
      logger: silentLogger(),
      onWrite: (outcome, count) => outcomes.push(`${outcome} ${count}`),
    });
    await embedded.close();
    log.add(document(1));
    log.add(document(2));
    await expect(log.close()).resolves.toBeUndefined();
    expect(outcomes).toEqual(['dropped 2']);
  });

  it('samples nothing without a store or at rate 0', async () => {
    expect(new PredictionLog(undefined, { rate: 1, logger: silentLogger() }).sample()).toBe(false);
    const embedded = store();
    expect(
      new PredictionLog(embedded.collection('predictions'), { rate: 0, logger: silentLogger() }).sample(),
    ).toBe(false);
    await embedded.close();
  });
});
