// The document store contract shared by the embedded SQLite backend and MongoDB. Filters use
// MongoDB's query language (the subset both backends support), so code and tests run the same on both.

export type Document = Record<string, unknown> & { _id?: unknown };
export type Filter = Record<string, unknown>;

export interface FindOptions {
  /**
   * MongoDB-style projection: inclusion ({ Age: 1, Gender: 1 }) or exclusion ({ Vintage: 0 }); `_id`
   * is included unless 0. Fields a document lacks are left out.
   */
  projection?: Record<string, 0 | 1>;
  /** Documents fetched per round trip. */
  batchSize?: number;
  /** Sort by `_id` ascending (the default) so that reads are repeatable. */
  sort?: Record<string, 1 | -1>;
  limit?: number;
}

export interface CollectionOptions {
  /**
   * The type of `_id` (the schema's key), used when the collection is first created: the embedded
   * store keys an `integer` collection by SQLite's rowid. Other backends may ignore it.
   */
  keyType?: 'integer' | 'string';
}

export interface UpsertResult {
  inserted: number;
  updated: number;
  unchanged: number;
}

export interface Collection {
  readonly name: string;
  /** Inserts new documents (an `_id` is assigned when absent); an existing `_id` fails with PW_STORE_FAILED. */
  insertMany(docs: Document[]): Promise<number>;
  /**
   * Inserts or replaces by `_id` (every document needs one); a document identical to the stored one
   * (same fields, values and order) counts as unchanged.
   */
  upsertMany(docs: Document[]): Promise<UpsertResult>;
  find(filter?: Filter, options?: FindOptions): AsyncIterable<Document>;
  countDocuments(filter?: Filter): Promise<number>;
  /**
   * About how many documents the collection holds, from what the store keeps about it rather than a
   * pass over them (MongoDB's collection metadata; the embedded store's highest row number), for a
   * progress display or a first size: it may be off after deletions, or for integer keys that skip
   * numbers.
   */
  estimatedCount(): Promise<number>;
  createIndex(field: string): Promise<void>;
  deleteMany(filter?: Filter): Promise<number>;
  drop(): Promise<void>;
}

export interface DocumentStore {
  /** `embedded` or `mongodb`. */
  readonly kind: 'embedded' | 'mongodb';
  /** Where the data lives, with any credentials redacted. */
  readonly description: string;
  collection(name: string, options?: CollectionOptions): Collection;
  listCollections(): Promise<string[]>;
  /**
   * Atomically replaces `target` (dropping what it held) with `source`, which then no longer exists
   * (MongoDB: renameCollection with dropTarget). Lets a full reload be staged and swapped in one step.
   */
  renameCollection?(source: string, target: string): Promise<void>;
  close(): Promise<void>;
}
