// Retention of the prediction log on MongoDB: a TTL index on the `loggedAt` date, altered in place when
// serve.prediction_log.retention_days changes and removed at 0. Needs a real MongoDB (MONGODB_URL);
// the loopback wire server keeps no index options.
import { afterAll, describe, expect, it } from 'vitest';
import { openMongoStore, type MongoStore } from '../../src/store/mongodb.js';
import { LOGGED_AT_FIELD } from '../../src/serve/index.js';
import { MongoClient } from 'mongodb';

const url = process.env.MONGODB_URL;
const database = `pipewright_test_ttl_${process.pid}`;

describe.skipIf(!url)('prediction log retention on MongoDB', () => {
  let store: MongoStore | undefined;
  const client = url ? new MongoClient(url) : undefined;
  afterAll(async () => {
    await client?.db(database).dropDatabase();
    await client?.close();
    await store?.close();
  });

  const ttl = async () => {
    const indexes = await client!.db(database).collection('predictions').indexes();
    return indexes.find((index) => index.name === `${LOGGED_AT_FIELD}_ttl`)?.expireAfterSeconds;
  };

  it('sets, changes and removes the TTL index on loggedAt', async () => {
    store = await openMongoStore({ url: url!, database, timeoutMs: 5000 });
    await store.collection('predictions').insertMany([{ time: new Date().toISOString() }]);
    await store.expireAfter('predictions', LOGGED_AT_FIELD, 30 * 86_400);
    expect(await ttl()).toBe(30 * 86_400);
    await store.expireAfter('predictions', LOGGED_AT_FIELD, 7 * 86_400);
    expect(await ttl()).toBe(7 * 86_400);
    await store.expireAfter('predictions', LOGGED_AT_FIELD, undefined);
    expect(await ttl()).toBeUndefined();
  });
});
