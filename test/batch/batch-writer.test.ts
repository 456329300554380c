// The insert thread of push (from the build, as the CLI runs it) against a real store file: batches
// commit in order, each whole; after a failed batch nothing later is written and the failure keeps its code.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type * as Writers from '../../src/batch/batch-writer.js';
import type * as Stores from '../../src/store/sqlite.js';
import type { Document } from '../../src/store/types.js';

const { batchWriter, ThreadWriter } = (await import(
  new URL('../../dist/batch/batch-writer.js', import.meta.url).href
)) as typeof Writers;
const { EmbeddedStore } = (await import(
  new URL('../../dist/store/sqlite.js', import.meta.url).href
)) as typeof Stores;

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'pw-writer-'));
});
afterEach(() => rmSync(directory, { recursive: true, force: true }));

const documents = (from: number, count: number): Document[] =>
  Array.from({ length: count }, (_, i) => ({ _id: from + i, value: `row ${from + i}` }));

describe('the insert thread', () => {
  it('writes every batch in order and counts inserted, updated and unchanged rows', async () => {
    const store = EmbeddedStore.open(join(directory, 'store.db'));
    const target = store.collection('records', { keyType: 'integer' });
    const totals = { inserted: 0, updated: 0, unchanged: 0 };
    const writer = batchWriter(store, target, 'integer', (written) => {
      totals.inserted += written.inserted;
      totals.updated += written.updated;
      totals.unchanged += written.unchanged;
    });
    expect(writer).toBeInstanceOf(ThreadWriter);
    for (let batch = 0; batch < 6; batch++) await writer.write(documents(batch * 100, 100));
    await writer.write([...documents(0, 10), { _id: 10, value: 'changed' }]);
    await writer.drain();
    await writer.close();
    expect(totals).toEqual({ inserted: 600, updated: 1, unchanged: 10 });
    expect(await target.countDocuments()).toBe(600);
    await store.close();
  });

  it('stops at a failed batch: it is rolled back, later batches are refused, and the code is kept', async () => {
    const store = EmbeddedStore.open(join(directory, 'store.db'));
    const target = store.collection('records', { keyType: 'integer' });
    let inserted = 0;
    const writer = batchWriter(store, target, 'integer', (written) => (inserted += written.inserted));
    await writer.write(documents(0, 50));
    // A fractional key cannot be an integer primary key: SQLite refuses the whole transaction.
    await writer.write([...documents(50, 20), { _id: 70.5, value: 'bad' }]);
    const later = writer.write(documents(100, 50)).catch((error: unknown) => error);
    await expect(writer.drain()).rejects.toMatchObject({ code: 'PW_STORE_FAILED' });
    await later;
    await writer.close();
    expect(inserted).toBe(50);
    expect(await target.countDocuments()).toBe(50);
    await store.close();
  });

  it('reports a thread that cannot open the store, and still closes', async () => {
    // A directory is not a store file: the thread fails as it starts.
    const writer = new ThreadWriter({ file: directory, collection: 'records', keyType: 'integer' }, () => {});
    const written = (async () => {
      await writer.write(documents(0, 10));
      await writer.drain();
    })();
    await expect(written).rejects.toBeInstanceOf(Error);
    await writer.close();
  });
});
