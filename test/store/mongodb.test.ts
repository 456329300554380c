// The MongoDB backend: the shared contract through the real driver against the loopback wire server
// (and against a real MongoDB when MONGODB_URL is set), streaming reads, and a cursor cut part-way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPipewrightError } from '../../src/core/errors.js';
import { MongoClient } from 'mongodb';
import { MongoStore, openMongoStore } from '../../src/store/mongodb.js';
import type { Collection, Document } from '../../src/store/types.js';
import { startWireServer, type WireServer } from '../fixtures/wire-server.js';
import { defineStoreContract } from './contract.js';

const PASSWORD = 'Wire-Secret-8141';

let server: WireServer;
beforeAll(async () => {
  server = await startWireServer();
});
afterAll(async () => {
  await server?.close();
});

defineStoreContract('MongoDB driver against the loopback wire server', () =>
  openMongoStore({ url: server.url, database: 'contract', timeoutMs: 2000 }),
);

defineStoreContract(
  'MongoDB server at MONGODB_URL',
  () =>
    openMongoStore({
      url: process.env.MONGODB_URL!,
      database: `pipewright_test_${process.pid}`,
      timeoutMs: 5000,
    }),
  { skip: !process.env.MONGODB_URL },
);

async function collect(iterable: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const document of iterable) out.push(document);
  return out;
}

/** Reads the whole collection in batches of `batchSize`: what came before the read failed, and why. */
async function readUntilFailure(
  collection: Collection,
  batchSize: number,
): Promise<{ seen: Document[]; failure: unknown }> {
  const seen: Document[] = [];
  try {
    for await (const document of collection.find({}, { batchSize })) seen.push(document);
  } catch (failure) {
    return { seen, failure };
  }
  return { seen, failure: undefined };
}

function numbered(count: number): Document[] {
  return Array.from({ length: count }, (_, index) => ({
    _id: index + 1,
    value: index * 2,
    label: `row ${index + 1}`,
  }));
}

describe('MongoStore through the driver', () => {
  let store: MongoStore;
  beforeAll(async () => {
    store = await openMongoStore({ url: server.url, database: 'streaming', timeoutMs: 2000, batchSize: 50 });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('uses the configured database and sends the projection and batch size with the find', async () => {
    const collection = store.collection('projected');
    await collection.insertMany(numbered(30));
    const start = server.received.length;
    const found = await collect(
      collection.find({ value: { $gte: 10 } }, { projection: { label: 1 }, batchSize: 7 }),
    );
    expect(found).toHaveLength(25);
    expect(found[0]).toEqual({ _id: 6, label: 'row 6' });
    const commands = server.received.slice(start);
    const findCommand = commands.find((command) => command.name === 'find');
    expect(findCommand?.database).toBe('streaming');
    expect(findCommand?.body).toMatchObject({
      find: 'projected',
      projection: { label: 1 },
      batchSize: 7,
      sort: { _id: 1 },
    });
    // 25 documents in batches of 7: the first batch and then three getMores, never the whole result at once.
    expect(commands.filter((command) => command.name === 'getMore')).toHaveLength(3);
  });

  it("reads in the store's default batch size when the caller gives none", async () => {
    const collection = store.collection('default-batch');
    await collection.upsertMany(numbered(120));
    const start = server.received.length;
    expect(await collect(collection.find())).toHaveLength(120);
    const commands = server.received.slice(start);
    expect(commands.find((command) => command.name === 'find')?.body.batchSize).toBe(50);
    expect(commands.filter((command) => command.name === 'getMore')).toHaveLength(2);
  });

  it('writes a bulk upsert as one unordered update command of replacements keyed by _id', async () => {
    const collection = store.collection('bulk');
    const start = server.received.length;
    expect(await collection.upsertMany(numbered(3))).toEqual({ inserted: 3, updated: 0, unchanged: 0 });
    const updates = server.received.slice(start).filter((command) => command.name === 'update');
    expect(updates).toHaveLength(1);
    expect(updates[0].body.ordered).toBe(false);
    expect(updates[0].body.updates[1]).toMatchObject({
      q: { _id: 2 },
      u: { _id: 2, value: 2, label: 'row 2' },
      upsert: true,
    });
  });

  it('leaves the caller’s documents untouched when it assigns _ids', async () => {
    const documents: Document[] = [{ value: 1 }];
    await store.collection('untouched').insertMany(documents);
    expect(documents).toEqual([{ value: 1 }]);
  });

  it('fails with PW_STORE_UNREACHABLE, naming how far it got, when the connection is cut in the middle of a cursor', async () => {
    const collection = store.collection('cut');
    await collection.insertMany(numbered(100));
    server.cutConnectionOnGetMore(2);
    const cutsBefore = server.cuts;
    const { seen, failure } = await readUntilFailure(collection, 10);
    expect(server.cuts).toBe(cutsBefore + 1);
    expect(isPipewrightError(failure)).toBe(true);
    expect(failure).toMatchObject({ code: 'PW_STORE_UNREACHABLE' });
    expect((failure as Error).message).toContain('after 20 documents');
    expect(seen.map((document) => document._id)).toEqual(Array.from({ length: 20 }, (_, index) => index + 1));
    // The store recovers on the next operation: the driver reconnects.
    expect(await collection.countDocuments()).toBe(100);
    expect(await collect(collection.find({}, { batchSize: 10 }))).toHaveLength(100);
  });

  /** A store that gives up on a reply after 300 ms. */
  const openStalling = (database: string) =>
    openMongoStore({ url: server.url, database, timeoutMs: 2000, replyTimeoutMs: 300 });

  it('fails a read from a server that stops answering with PW_STORE_UNREACHABLE after store.reply_timeout_ms, and reads again once it answers', async () => {
    const stalling = await openStalling('stalled-reads');
    try {
      const collection = stalling.collection('stalled');
      await collection.insertMany(numbered(100));
      server.stall('getMore');
      const heldBefore = server.held;
      const { seen, failure } = await readUntilFailure(collection, 10);
      expect(server.held).toBeGreaterThan(heldBefore);
      expect(failure).toMatchObject({
        code: 'PW_STORE_UNREACHABLE',
        details: { driverError: 'MongoNetworkTimeoutError' },
      });
      // the first batch came before the stall, and nothing after it was made up
      expect(seen.map((document) => document._id)).toEqual(
        Array.from({ length: 10 }, (_, index) => index + 1),
      );
      server.resume();
      expect(await collect(collection.find({}, { batchSize: 10 }))).toHaveLength(100);
    } finally {
      server.resume();
      await stalling.close();
    }
  });

  it('fails a write to a server that stops answering, stores nothing of it, and writes once the server answers again', async () => {
    const stalling = await openStalling('stalled-writes');
    try {
      const collection = stalling.collection('stalled');
      server.stall('update');
      const failure = await collection.upsertMany(numbered(30)).catch((error: unknown) => error);
      // the driver wraps the connection's timeout in its bulk write error
      expect(failure).toMatchObject({ code: 'PW_STORE_UNREACHABLE' });
      server.resume();
      expect(await collection.countDocuments()).toBe(0);
      await collection.upsertMany(numbered(30));
      expect(await collection.countDocuments()).toBe(30);
    } finally {
      server.resume();
      await stalling.close();
    }
  });

  it('stops the server-side cursor when the reader leaves early', async () => {
    const collection = store.collection('early');
    await collection.insertMany(numbered(40));
    const start = server.received.length;
    for await (const document of collection.find({}, { batchSize: 5 })) {
      if (document._id === 3) break;
    }
    expect(server.received.slice(start).map((command) => command.name)).toContain('killCursors');
  });

  it('describes itself by host and database, with the password redacted', async () => {
    const url = `mongodb://reader:${PASSWORD}@127.0.0.1:${server.port}/`;
    // Built without connecting: the description comes from the URL alone.
    const described = new MongoStore(
      new MongoClient(url),
      'analytics',
      url,
      { timeoutMs: 300, replyTimeoutMs: 300 },
      10,
    );
    expect(described.description).toBe(
      `mongodb://reader:***@127.0.0.1:${server.port}/ (database "analytics")`,
    );
    await described.close();
  });
});
