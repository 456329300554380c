// The prediction log's bounds: for any interleaving of records and slow or failing writes, records
// queued plus being written never exceed max_pending and every record is written, dropped or pending;
// slow writes time out; shutdown gives up at its deadline; old predictions are deleted by retention.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import {
  deleteExpiredPredictions,
  PredictionLog,
  type DropReason,
  type PredictionDocument,
  type PredictionSink,
} from '../../src/serve/prediction-log.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import type { Document } from '../../src/store/types.js';

const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-prediction-bounds-'));
  folders.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const document = (
  index: number,
  time = new Date(Date.UTC(2024, 0, 1, 0, 0, index % 60)).toISOString(),
): PredictionDocument => ({
  time,
  version: 'v1',
  requestId: `r-${index}`,
  input: { Age: index },
  probability: 0.5,
});

/** A store whose writes finish only when the test says so: the slow store of a property run. */
class HeldSink implements PredictionSink {
  readonly writes: { size: number; resolve(count: number): void; reject(error: Error): void }[] = [];
  insertMany(documents: Document[]): Promise<number> {
    return new Promise((resolve, reject) => this.writes.push({ size: documents.length, resolve, reject }));
  }
  get outstanding(): number {
    return this.writes.reduce((sum, write) => sum + write.size, 0);
  }
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

type Step =
  { kind: 'add'; count: number } | { kind: 'finish'; pick: number; ok: boolean } | { kind: 'flush' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), count: fc.integer({ min: 1, max: 60 }) }),
  fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), ok: fc.boolean() }),
  fc.record({ kind: fc.constant('flush' as const) }),
);

describe('the bounded prediction log', () => {
  it('never holds more than max_pending records, and accounts for every record, for any interleaving of records and slow writes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(step, { maxLength: 60 }),
        async (maxPending, batchSize, concurrentWrites, steps) => {
          const sink = new HeldSink();
          const log = new PredictionLog(sink, {
            rate: 1,
            maxPending,
            batchSize,
            concurrentWrites,
            flushIntervalMs: 3_600_000,
            writeTimeoutMs: 1_000_000_000,
            logger: silentLogger(),
          });
          let next = 0;
          const check = () => {
            const stats = log.stats();
            expect(stats.pending).toBeLessThanOrEqual(maxPending);
            expect(sink.outstanding).toBeLessThanOrEqual(maxPending);
            expect(sink.writes.length).toBeLessThanOrEqual(concurrentWrites);
            expect(stats.enqueued).toBe(stats.written + stats.dropped + stats.pending);
          };
          for (const action of steps) {
            if (action.kind === 'add') {
              for (let i = 0; i < action.count; i++) log.add(document(next++));
            } else if (action.kind === 'flush') {
              void log.flush();
            } else if (sink.writes.length > 0) {
              const [write] = sink.writes.splice(action.pick % sink.writes.length, 1);
              if (action.ok) write!.resolve(write!.size);
              else write!.reject(new Error('the store refused'));
            }
            await settle();
            check();
          }
          // Shutdown with the store still holding its writes: the deadline gives up on them.
          await log.close(Date.now());
          check();
          expect(log.stats().pending).toBe(0);
          expect(log.stats().enqueued).toBe(next);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('drops the oldest queued records when full, and counts them', async () => {
    const sink = new HeldSink();
    const reasons: string[] = [];
    const log = new PredictionLog(sink, {
      rate: 1,
      maxPending: 10,
      batchSize: 5,
      concurrentWrites: 1,
      flushIntervalMs: 3_600_000,
      writeTimeoutMs: 1_000_000_000,
      logger: silentLogger(),
      onWrite: (outcome, count, reason) => reasons.push(`${outcome} ${count}${reason ? ` ${reason}` : ''}`),
    });
    for (let i = 0; i < 13; i++) log.add(document(i));
    await settle();
    // 0-4 are being written; 5-7 made room for 10-12.
    expect(sink.writes).toHaveLength(1);
    expect(log.stats()).toMatchObject({ enqueued: 13, dropped: 3, pending: 10 });
    expect(reasons).toEqual(['dropped 1 full', 'dropped 1 full', 'dropped 1 full']);
    sink.writes.shift()!.resolve(5);
    await settle();
    const next = sink.writes.shift()!;
    expect(next.size).toBe(5);
    next.resolve(5);
    await log.close(Date.now());
  });

  it('keeps its queue storage bounded while every write is held, however many records arrive', async () => {
    const sink = new HeldSink();
    const log = new PredictionLog(sink, {
      rate: 1,
      maxPending: 100,
      batchSize: 10,
      flushIntervalMs: 3_600_000,
      writeTimeoutMs: 1_000_000_000,
      logger: silentLogger(),
    });
    for (let i = 0; i < 100_000; i++) log.add(document(i));
    // The storage behind the queue, not only its count: dropped records must not leave slots behind.
    const storage = (log as unknown as { queue: unknown[] }).queue.length;
    expect(storage).toBeLessThanOrEqual(2 * 100 + 1024);
    expect(log.stats()).toMatchObject({ enqueued: 100_000, pending: 100, dropped: 99_900 });
    await log.close(Date.now());
  });

  it('gives up on a write that does not finish within the write timeout, and counts its records as dropped', async () => {
    const sink = new HeldSink();
    const dropped = new Promise<DropReason | undefined>((resolve) => {
      const log = new PredictionLog(sink, {
        rate: 1,
        batchSize: 3,
        writeTimeoutMs: 20,
        logger: silentLogger(),
        onWrite: (outcome, _count, reason) => {
          if (outcome === 'dropped') resolve(reason);
        },
      });
      for (let i = 0; i < 3; i++) log.add(document(i));
    });
    expect(await dropped).toBe('timeout');
    // The late answer of the abandoned write changes nothing.
    sink.writes[0]!.resolve(3);
  });

  it('ends close() at its deadline with a store that never answers, counting what was left', async () => {
    const sink = new HeldSink();
    const warnings: unknown[] = [];
    const logger = {
      ...silentLogger(),
      warn: (...args: unknown[]) => warnings.push(args),
    } as unknown as ReturnType<typeof silentLogger>;
    const log = new PredictionLog(sink, { rate: 1, batchSize: 10, writeTimeoutMs: 1_000_000_000, logger });
    for (let i = 0; i < 25; i++) log.add(document(i));
    await log.close(Date.now() + 50);
    expect(log.stats()).toMatchObject({ enqueued: 25, written: 0, dropped: 25, pending: 0 });
    // One warning line for the lot.
    expect(warnings).toHaveLength(1);
  });

  it('deletes predictions older than the retention from the embedded store', async () => {
    const store = EmbeddedStore.open(join(folder(), 'store.db'));
    const collection = store.collection('predictions');
    const now = Date.UTC(2024, 5, 30);
    const day = 86_400_000;
    await collection.insertMany([
      document(1, new Date(now - 40 * day).toISOString()),
      document(2, new Date(now - 31 * day).toISOString()),
      document(3, new Date(now - 29 * day).toISOString()),
      document(4, new Date(now - day).toISOString()),
    ]);
    expect(await deleteExpiredPredictions(collection, 0, now)).toBe(0);
    expect(await deleteExpiredPredictions(collection, 30, now)).toBe(2);
    expect(await collection.countDocuments({})).toBe(2);
    await store.close();
  });
});

describe('the embedded store writer thread (needs dist/)', () => {
  // The compiled writer: its worker thread runs the compiled file. A computed path keeps type-checking
  // from needing dist/.
  const compiled = '../../dist/serve/prediction-writer.js';
  const load = async () => (await import(compiled)) as typeof import('../../src/serve/prediction-writer.js');

  it('fails a batch at its deadline while another connection holds the write lock, and closes without waiting for it', async () => {
    const { PredictionWriter } = await load();
    const file = join(folder(), 'store.db');
    const writer = await PredictionWriter.start(file, 'predictions', { retentionDays: 0 });
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    await expect(writer.insertMany([document(1)], { deadline: Date.now() + 300 })).rejects.toMatchObject({
      code: 'PW_STORE_FAILED',
    });
    // A batch whose deadline has passed is refused without being written.
    await expect(writer.insertMany([document(2)], { deadline: Date.now() - 1 })).rejects.toMatchObject({
      code: 'PW_STORE_FAILED',
    });
    const pending = writer.insertMany([document(3)], { deadline: Date.now() + 60_000 });
    pending.catch(() => undefined);
    await writer.close();
    await expect(pending).rejects.toMatchObject({ code: 'PW_STORE_FAILED' });
    holder.exec('ROLLBACK');
    holder.close();
    const store = EmbeddedStore.open(file);
    expect(await store.collection('predictions').countDocuments({})).toBe(0);
    await store.close();
  });

  it('writes batches once the lock is released, and deletes predictions past retention', async () => {
    const { PredictionWriter } = await load();
    const file = join(folder(), 'store.db');
    const seed = EmbeddedStore.open(file);
    await seed.collection('predictions').insertMany([document(1, '2001-01-01T00:00:00.000Z')]);
    await seed.close();
    const writer = await PredictionWriter.start(file, 'predictions', { retentionDays: 30 });
    const holder = new Database(file);
    holder.exec('BEGIN EXCLUSIVE');
    const written = writer.insertMany([document(2, new Date().toISOString())], {
      deadline: Date.now() + 60_000,
    });
    setTimeout(() => holder.exec('ROLLBACK'), 200);
    expect(await written).toBe(1);
    holder.close();
    await writer.sweep();
    await writer.close();
    const store = EmbeddedStore.open(file);
    const left = [];
    for await (const row of store.collection('predictions').find({})) left.push(row.requestId);
    expect(left).toEqual(['r-2']);
    await store.close();
  });
});
