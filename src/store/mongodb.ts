// The MongoDB backend of the document store, through the official driver: streaming cursors with a
// projection and a batch size, unordered bulk upserts by `_id`, short timeouts, and driver errors
// turned into Pipewright errors with the password redacted.
import {
  MongoClient,
  ObjectId,
  type AnyBulkWriteOperation,
  type Collection as DriverCollection,
  type Db,
  type Document as DriverDocument,
} from 'mongodb';
import { errors } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';
import { describeUrl, passwordsIn, wrapConnectionStringError, wrapMongoError } from './mongo-errors.js';
import type { Collection, Document, DocumentStore, Filter, FindOptions, UpsertResult } from './types.js';

export interface MongoStoreOptions {
  /** The connection string (MONGODB_URL); it may hold a password, which never appears in messages. */
  url: string;
  /** The database name (config.store.database). */
  database: string;
  /** How long to wait for a server and for a connection (config.store.timeout_ms); the driver's own default is 30 s. */
  timeoutMs?: number;
  /**
   * How long a request may wait for the server's reply (config.store.reply_timeout_ms): past it the
   * connection is dropped and the operation fails (a read or a retryable write is tried once more).
   */
  replyTimeoutMs?: number;
  /** Documents per round trip when a read does not say (config.store.batch_size). */
  batchSize?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_REPLY_TIMEOUT_MS = 60_000;
const DEFAULT_BATCH_SIZE = 5000;

/** Connects (checking that a server answers) and returns the store; fails fast with a PW_STORE_* error. */
export async function openMongoStore(options: MongoStoreOptions): Promise<MongoStore> {
  for (const password of passwordsIn(options.url)) registerSecret(password);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const replyTimeoutMs = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
  let client: MongoClient;
  try {
    client = new MongoClient(options.url, {
      serverSelectionTimeoutMS: timeoutMs,
      connectTimeoutMS: timeoutMs,
      // The driver's own default waits for a reply for ever: a server that takes a request and stops
      // answering (a stalled primary, a link that drops packets) would hold a push, an ingest or the
      // prediction log without end.
      socketTimeoutMS: replyTimeoutMs,
      appName: 'pipewright',
      // Like the embedded store, which writes JSON: a field set to undefined is left out, not stored as null.
      ignoreUndefined: true,
    });
  } catch (error) {
    throw wrapConnectionStringError(error, options.url);
  }
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw wrapMongoError(error, { action: 'connecting', url: options.url, timeoutMs, replyTimeoutMs });
  }
  return new MongoStore(
    client,
    options.database,
    options.url,
    { timeoutMs, replyTimeoutMs },
    options.batchSize ?? DEFAULT_BATCH_SIZE,
  );
}

export class MongoStore implements DocumentStore {
  readonly kind = 'mongodb' as const;
  readonly description: string;
  private readonly database: Db;

  constructor(
    private readonly client: MongoClient,
    databaseName: string,
    private readonly url: string,
    /** For the hints of its errors: how long it waits for a server and for a reply. */
    private readonly timeouts: { timeoutMs: number; replyTimeoutMs: number },
    private readonly batchSize: number,
  ) {
    this.database = client.db(databaseName);
    this.description = `${describeUrl(url)} (database "${databaseName}")`;
  }

  collection(name: string): Collection {
    return new MongoCollection(name, this.database.collection(name), this);
  }

  async listCollections(): Promise<string[]> {
    // The list of collection names is small, so reading it whole is fine (unlike a collection's documents).
    const entries = await this.run('listing collections', () =>
      this.database.listCollections({}, { nameOnly: true, authorizedCollections: true }).toArray(),
    );
    return entries.map((entry) => entry.name).filter((name) => !name.startsWith('system.'));
  }

  async renameCollection(source: string, target: string): Promise<void> {
    await this.run(`renaming collection "${source}" to "${target}"`, () =>
      this.database.renameCollection(source, target, { dropTarget: true }),
    );
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /**
   * Makes MongoDB delete documents of `collection` once their Date `field` is `seconds` old (a TTL
   * index), or stops it when `seconds` is undefined. A TTL index whose age changed is altered in place.
   */
  async expireAfter(collection: string, field: string, seconds: number | undefined): Promise<void> {
    const name = `${field}_ttl`;
    const action = `setting the retention of collection "${collection}"`;
    if (seconds === undefined) {
      const indexes = await this.run(action, () => this.database.collection(collection).indexes()).catch(
        () => [],
      );
      if (indexes.some((index) => index.name === name))
        await this.run(action, () => this.database.collection(collection).dropIndex(name));
      return;
    }
    const expireAfterSeconds = Math.max(1, Math.round(seconds));
    try {
      await this.database.collection(collection).createIndex({ [field]: 1 }, { name, expireAfterSeconds });
    } catch (error) {
      // 85 IndexOptionsConflict: the index exists with another age.
      if ((error as { code?: number }).code !== 85) throw this.wrap(error, action);
      await this.run(action, () =>
        this.database.command({ collMod: collection, index: { name, expireAfterSeconds } }),
      );
    }
  }

  /** Runs one driver call, turning what it throws into a PW_STORE_* error. */
  async run<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw this.wrap(error, action);
    }
  }

  wrap(error: unknown, action: string): Error {
    return wrapMongoError(error, { action, url: this.url, ...this.timeouts });
  }

  get defaultBatchSize(): number {
    return this.batchSize;
  }
}

class MongoCollection implements Collection {
  constructor(
    readonly name: string,
    private readonly driver: DriverCollection<DriverDocument>,
    private readonly store: MongoStore,
  ) {}

  async insertMany(docs: Document[]): Promise<number> {
    if (docs.length === 0) return 0;
    // The driver would add `_id` to the caller's objects, and at the end; a copy keeps both tidy.
    const prepared = docs.map((document) =>
      document._id === undefined ? { _id: new ObjectId(), ...document } : document,
    );
    const result = await this.store.run(`inserting into collection "${this.name}"`, () =>
      this.driver.insertMany(prepared as DriverDocument[], { ordered: false }),
    );
    return result.insertedCount;
  }

  async upsertMany(docs: Document[]): Promise<UpsertResult> {
    if (docs.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    const missing = docs.findIndex((document) => document._id === undefined || document._id === null);
    if (missing !== -1) {
      throw new errors.PW_STORE_FAILED(
        `Document ${missing + 1} of ${docs.length} for collection "${this.name}" has no _id, so it cannot be upserted`,
        {
          hint: "Give every document an _id (pipewright push takes it from the schema's key field).",
        },
      );
    }
    const operations: AnyBulkWriteOperation<DriverDocument>[] = docs.map((document) => ({
      replaceOne: {
        filter: { _id: document._id } as DriverDocument,
        replacement: document as DriverDocument,
        upsert: true,
      },
    }));
    const result = await this.store.run(`upserting into collection "${this.name}"`, () =>
      this.driver.bulkWrite(operations, { ordered: false }),
    );
    return {
      inserted: result.upsertedCount,
      updated: result.modifiedCount,
      unchanged: result.matchedCount - result.modifiedCount,
    };
  }

  find(filter: Filter = {}, options: FindOptions = {}): AsyncIterable<Document> {
    const { driver, store, name } = this;
    return {
      async *[Symbol.asyncIterator]() {
        const cursor = driver.find(filter, {
          projection: options.projection,
          sort: options.sort ?? { _id: 1 },
          batchSize: options.batchSize ?? store.defaultBatchSize,
          ...(options.limit !== undefined ? { limit: options.limit } : {}),
        });
        let read = 0;
        try {
          for (;;) {
            let document: DriverDocument | null;
            try {
              document = await cursor.next();
            } catch (error) {
              throw store.wrap(error, `reading collection "${name}" (after ${read} documents)`);
            }
            if (document === null) return;
            read++;
            yield document as Document;
          }
        } finally {
          // Stops the server-side cursor when the reader leaves early; a failure here changes nothing for it.
          await cursor.close().catch(() => undefined);
        }
      },
    };
  }

  async countDocuments(filter: Filter = {}): Promise<number> {
    return this.store.run(`counting documents in collection "${this.name}"`, () =>
      this.driver.countDocuments(filter),
    );
  }

  async estimatedCount(): Promise<number> {
    return this.store.run(`estimating the size of collection "${this.name}"`, () =>
      this.driver.estimatedDocumentCount(),
    );
  }

  async createIndex(field: string): Promise<void> {
    await this.store.run(`creating an index on "${field}" in collection "${this.name}"`, () =>
      this.driver.createIndex({ [field]: 1 }),
    );
  }

  async deleteMany(filter: Filter = {}): Promise<number> {
    const result = await this.store.run(`deleting from collection "${this.name}"`, () =>
      this.driver.deleteMany(filter),
    );
    return result.deletedCount;
  }

  async drop(): Promise<void> {
    // The driver already treats a collection that does not exist as dropped.
    await this.store.run(`dropping collection "${this.name}"`, () => this.driver.drop());
  }
}
