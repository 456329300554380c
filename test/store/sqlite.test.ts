// What the embedded store promises beyond the shared contract: its file layout and settings, data that
// survives reopening, safe collection names, and clear errors for a file that is not a store.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '../../src/store/sqlite.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('EmbeddedStore', () => {
  it('creates the file and its folder, in WAL mode with synchronous=NORMAL', async () => {
    const store = EmbeddedStore.open(join(dir, 'deep', 'folder', 'store.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(store.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(store.description).toBe(`embedded ${join(dir, 'deep', 'folder', 'store.db')}`);
    await store.close();
  });

  it('keys an integer collection by the rowid and stores each document as JSON text', async () => {
    const store = EmbeddedStore.open(join(dir, 'layout.db'));
    await store.collection('rows', { keyType: 'integer' }).upsertMany([{ _id: 7, Age: 30 }]);
    await store.collection('named').upsertMany([{ _id: 'a', Age: 30 }]);
    const sql = (name: string) =>
      (store.db.prepare(`SELECT sql FROM sqlite_master WHERE name = ?`).get(name) as { sql: string }).sql;
    expect(sql('rows')).toContain('_id INTEGER PRIMARY KEY');
    expect(sql('named')).toContain('_id PRIMARY KEY NOT NULL');
    expect(store.db.prepare('SELECT _id, doc FROM "rows"').get()).toEqual({
      _id: 7,
      doc: '{"_id":7,"Age":30}',
    });
    expect(await store.listCollections()).toEqual(['named', 'rows']);
    await store.close();
  });

  it('lets the last of two documents with the same key in one batch win', async () => {
    const store = EmbeddedStore.open(join(dir, 'duplicates.db'));
    const collection = store.collection('c', { keyType: 'integer' });
    const batch = Array.from({ length: 120 }, (_, i) => ({
      _id: i < 60 ? i : i - 60,
      version: i < 60 ? 1 : 2,
    }));
    expect(await collection.upsertMany(batch)).toEqual({ inserted: 60, updated: 60, unchanged: 0 });
    expect(await collection.countDocuments({ version: 2 })).toBe(60);
    // Repeats inside one chunk of the multi-row insert fall back to one statement per document.
    const repeated = Array.from({ length: 120 }, (_, i) => ({
      _id: 1000 + (i % 25),
      pass: Math.floor(i / 25),
    }));
    expect(await collection.upsertMany(repeated)).toEqual({ inserted: 25, updated: 95, unchanged: 0 });
    expect(await collection.countDocuments({ _id: { $gte: 1000 }, pass: 4 })).toBe(20);
    await store.close();
  });

  it('keeps documents after the store is closed and opened again', async () => {
    const file = join(dir, 'reopen.db');
    const first = EmbeddedStore.open(file);
    await first.collection('c').upsertMany([
      { _id: 1, a: 1 },
      { _id: 2, a: 2 },
    ]);
    await first.close();
    const second = EmbeddedStore.open(file);
    expect(await second.collection('c').countDocuments()).toBe(2);
    expect(await second.collection('c').upsertMany([{ _id: 2, a: 2 }])).toEqual({
      inserted: 0,
      updated: 0,
      unchanged: 1,
    });
    await second.close();
  });

  it('sees documents another connection committed', async () => {
    const file = join(dir, 'shared.db');
    const writer = EmbeddedStore.open(file);
    const reader = EmbeddedStore.open(file);
    expect(await reader.collection('c').countDocuments()).toBe(0);
    await writer.collection('c').upsertMany([{ _id: 1 }, { _id: 2 }]);
    expect(await reader.collection('c').countDocuments()).toBe(2);
    await writer.close();
    await reader.close();
  });

  it("moves the staged collection's indexes with it when renaming", async () => {
    const store = EmbeddedStore.open(join(dir, 'rename.db'));
    await store.collection('live').insertMany([{ _id: 1, Age: 20 }]);
    await store.collection('staged').insertMany([{ _id: 2, Age: 40 }]);
    await store.collection('staged').createIndex('Age');
    await store.renameCollection('staged', 'live');
    const indexes = (
      store.db
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'live' AND name LIKE 'pipewright:%'`,
        )
        .all() as { name: string }[]
    ).map((row) => row.name);
    expect(indexes).toEqual(['pipewright:index:live:Age']);
    await store.collection('live').createIndex('Age');
    expect(
      store.db
        .prepare(`SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name LIKE 'pipewright:%'`)
        .get(),
    ).toEqual({ n: 1 });
    await store.close();
  });

  it('refuses reserved and malformed collection names', async () => {
    const store = EmbeddedStore.open(join(dir, 'names.db'));
    for (const name of ['', 'sqlite_master', 'pipewright:collections', 'a$b']) {
      expect(() => store.collection(name)).toThrow(expect.objectContaining({ code: 'PW_STORE_FAILED' }));
    }
    await store.close();
  });

  it('reports a file that is not an SQLite database with PW_STORE_FAILED naming it', () => {
    const file = join(dir, 'not-a-store.db');
    writeFileSync(file, 'this is plain text, not a database '.repeat(200));
    expect(() => EmbeddedStore.open(file)).toThrow(
      expect.objectContaining({
        code: 'PW_STORE_FAILED',
        message: expect.stringContaining('not-a-store.db'),
      }),
    );
  });
});
