// The embedded document store: one SQLite table per collection (`_id` key, `doc` JSON text), in WAL
// mode with batched transactions and reused prepared statements. The default backend: no server needed.
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { errors, isPipewrightError } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { compileFilter, fieldExpression, loadQueryEngine } from './filter.js';
import type {
  Collection,
  CollectionOptions,
  Document,
  DocumentStore,
  Filter,
  FindOptions,
  UpsertResult,
} from './types.js';

type Statement = Database.Statement;

/** Tables of ours that are not collections. */
const META_TABLE = 'pipewright:collections';
const RESERVED = /^(sqlite_|pipewright:)/;
const INDEX_PREFIX = 'pipewright:index:';
const DEFAULT_BATCH = 1000;

export interface EmbeddedStoreOptions {
  /** Milliseconds to wait for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

function quote(identifier: string): string {
  return `"${identifier.replace(/"/g, '""')}"`;
}

function storeFailed(action: string, file: string, cause: unknown, hint?: string): Error {
  if (isPipewrightError(cause)) return cause;
  const message = (cause as Error)?.message ?? String(cause);
  return new errors.PW_STORE_FAILED(`Embedded store ${displayPath(file)}: ${action} failed: ${message}`, {
    cause,
    ...(hint ? { hint } : {}),
    details: { code: (cause as { code?: string })?.code },
  });
}

function checkName(name: string): void {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.includes('\0') ||
    name.includes('$') ||
    RESERVED.test(name)
  ) {
    throw new errors.PW_STORE_FAILED(`"${name}" is not a valid collection name`, {
      hint: 'Use a non-empty name without "$", not starting with "sqlite_" or "pipewright:" (letters, digits, _ - . are safe).',
    });
  }
}

/** The `_id` as SQLite can store it (numbers and strings only, as MongoDB keys from a schema are). */
function keyOf(document: Document, position: number): string | number {
  const id = document._id;
  if (typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id))) return id;
  if (id === undefined) {
    throw new errors.PW_STORE_FAILED(`Document ${position + 1} of the batch has no _id`, {
      hint: 'Give every document an _id (push uses the schema key) before upserting.',
    });
  }
  throw new errors.PW_STORE_FAILED(
    `Document ${position + 1} of the batch has an _id of type ${typeof id}; the embedded store keys by numbers and strings`,
    {
      hint: 'Use a number or a string as _id.',
    },
  );
}

/** JSON text with `_id` as the first key, so that a parsed document reads back in MongoDB's order. */
function serialize(document: Document, id: unknown): string {
  for (const key in document) {
    if (key === '_id') return JSON.stringify(document);
    break;
  }
  const { _id: _ignored, ...rest } = document;
  return JSON.stringify({ _id: id, ...rest });
}

function hasNestedValues(document: Document): boolean {
  for (const key in document) {
    const value = document[key];
    if (value !== null && typeof value === 'object') return true;
  }
  return false;
}

/** A batch of documents as the store writes them: their keys and their JSON texts, `_id` first. */
export interface SerializedDocuments {
  ids: (string | number)[];
  texts: string[];
  /** Some document holds an array or an object. */
  nested: boolean;
}

export function serializeDocuments(documents: Document[]): SerializedDocuments {
  const count = documents.length;
  const ids = new Array<string | number>(count);
  const texts = new Array<string>(count);
  let nested = false;
  for (let i = 0; i < count; i++) {
    const document = documents[i];
    const id = keyOf(document, i);
    if (!nested && hasNestedValues(document)) nested = true;
    ids[i] = id;
    texts[i] = serialize(document, id);
  }
  return { ids, texts, nested };
}

interface Prepared {
  insert: Statement;
  insertOrIgnore: Statement;
  updateIfDifferent: Statement;
  /** Counts how many of CHUNK keys exist. */
  countExisting: Statement;
  /** Inserts CHUNK documents in one statement. */
  insertChunk: Statement;
}

/** Rows per multi-row INSERT: one statement instead of fifty is most of the gain on a fresh load. */
const CHUNK = 50;

export class EmbeddedStore implements DocumentStore {
  readonly kind = 'embedded' as const;
  readonly description: string;
  readonly file: string;
  readonly db: Database.Database;
  private readonly known = new Set<string>();
  private readonly nested = new Map<string, boolean>();
  private readonly prepared = new Map<string, Prepared>();
  private readonly statements = new Map<string, Statement>();
  private readonly collections = new Map<string, EmbeddedCollection>();

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
    this.description = `embedded ${file}`;
  }

  /** Opens (creating when needed) the store file; `:memory:` gives a private in-memory store. */
  static open(file: string, options: EmbeddedStoreOptions = {}): EmbeddedStore {
    let db: Database.Database;
    try {
      if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
      db = new Database(file);
      db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
      db.pragma('journal_mode = WAL');
      // With WAL, NORMAL still survives a killed process; only a power loss may drop the last commits.
      db.pragma('synchronous = NORMAL');
      // Checkpoints (the only fsyncs under NORMAL) every 32 MiB of log rather than 4 MiB: bulk loads
      // commit a batch every few thousand rows.
      db.pragma('wal_autocheckpoint = 8192');
      db.pragma('cache_size = -16000');
      db.pragma('temp_store = MEMORY');
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${quote(META_TABLE)} (name TEXT PRIMARY KEY, nested INTEGER NOT NULL DEFAULT 0)`,
      );
    } catch (cause) {
      throw storeFailed(
        'opening',
        file,
        cause,
        'Check that the folder is writable and that the file is a Pipewright store (an SQLite database).',
      );
    }
    return new EmbeddedStore(file, db);
  }

  collection(name: string, options: CollectionOptions = {}): Collection {
    checkName(name);
    let collection = this.collections.get(name);
    if (!collection) {
      collection = new EmbeddedCollection(this, name, options.keyType);
      this.collections.set(name, collection);
    }
    return collection;
  }

  async listCollections(): Promise<string[]> {
    return this.tableNames().filter((name) => !RESERVED.test(name));
  }

  async renameCollection(source: string, target: string): Promise<void> {
    checkName(source);
    checkName(target);
    if (source === target) return;
    this.run('renaming a collection', () => {
      this.db.transaction(() => {
        if (!this.exists(source)) this.createTable(source, undefined);
        const indexes = this.indexesOf(source);
        this.db.exec(`DROP TABLE IF EXISTS ${quote(target)}`);
        for (const index of indexes) this.db.exec(`DROP INDEX IF EXISTS ${quote(index.name)}`);
        this.db.exec(`ALTER TABLE ${quote(source)} RENAME TO ${quote(target)}`);
        for (const index of indexes) this.createIndexOn(target, index.field);
        this.db.prepare(`DELETE FROM ${quote(META_TABLE)} WHERE name = ?`).run(target);
        this.db.prepare(`UPDATE ${quote(META_TABLE)} SET name = ? WHERE name = ?`).run(target, source);
      })();
    });
    this.forget(source);
    this.forget(target);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  // ---- used by EmbeddedCollection ----

  /** Runs `work`, turning SQLite errors into PW_STORE_FAILED. */
  run<T>(action: string, work: () => T): T {
    try {
      return work();
    } catch (cause) {
      if (isPipewrightError(cause)) throw cause;
      const code = (cause as { code?: string })?.code ?? '';
      if (code === 'SQLITE_BUSY') {
        throw storeFailed(
          action,
          this.file,
          cause,
          'Another process holds the store: wait for it to finish and run the command again.',
        );
      }
      if (code === 'SQLITE_FULL')
        throw storeFailed(
          action,
          this.file,
          cause,
          'The disk is full: free some space and run the command again.',
        );
      throw storeFailed(action, this.file, cause);
    }
  }

  statement(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      if (this.statements.size > 500) this.statements.clear();
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  exists(name: string): boolean {
    if (this.known.has(name)) return true;
    const found =
      this.statement(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
    if (found) this.known.add(name);
    return found;
  }

  createTable(name: string, keyType: CollectionOptions['keyType']): void {
    // An INTEGER PRIMARY KEY is the rowid itself: the fastest layout for integer keys. Otherwise the key
    // column has no type, so numbers and strings both keep their type (and sort like MongoDB: numbers first).
    const key = keyType === 'integer' ? '_id INTEGER PRIMARY KEY' : '_id PRIMARY KEY NOT NULL';
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${quote(name)} (${key}, doc TEXT NOT NULL)`);
    this.known.add(name);
  }

  ensureTable(name: string, keyType: CollectionOptions['keyType']): void {
    if (!this.exists(name)) this.createTable(name, keyType);
  }

  prepare(name: string): Prepared {
    let prepared = this.prepared.get(name);
    if (!prepared) {
      const table = quote(name);
      prepared = {
        insert: this.db.prepare(`INSERT INTO ${table} (_id, doc) VALUES (?, ?)`),
        insertOrIgnore: this.db.prepare(
          `INSERT INTO ${table} (_id, doc) VALUES (?, ?) ON CONFLICT (_id) DO NOTHING`,
        ),
        updateIfDifferent: this.db.prepare(`UPDATE ${table} SET doc = ? WHERE _id = ? AND doc IS NOT ?`),
        countExisting: this.db
          .prepare(`SELECT count(*) FROM ${table} WHERE _id IN (${new Array(CHUNK).fill('?').join(', ')})`)
          .pluck(),
        insertChunk: this.db.prepare(
          `INSERT INTO ${table} (_id, doc) VALUES ${new Array(CHUNK).fill('(?, ?)').join(', ')}`,
        ),
      };
      this.prepared.set(name, prepared);
    }
    return prepared;
  }

  /** Whether the collection may hold arrays or objects (which keeps filters out of SQL). */
  isNested(name: string): boolean {
    let nested = this.nested.get(name);
    if (nested === undefined) {
      const row = this.statement(`SELECT nested FROM ${quote(META_TABLE)} WHERE name = ?`).get(name) as
        { nested: number } | undefined;
      nested = row?.nested === 1;
      this.nested.set(name, nested);
    }
    return nested;
  }

  markNested(name: string): void {
    this.statement(
      `INSERT INTO ${quote(META_TABLE)} (name, nested) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET nested = 1`,
    ).run(name);
    this.nested.set(name, true);
  }

  dropTable(name: string): void {
    this.db.transaction(() => {
      this.db.exec(`DROP TABLE IF EXISTS ${quote(name)}`);
      this.statement(`DELETE FROM ${quote(META_TABLE)} WHERE name = ?`).run(name);
    })();
    this.forget(name);
  }

  createIndexOn(name: string, field: string): void {
    const expression = fieldExpression(field);
    if (expression === undefined) return;
    // With `_id` in the index, a page of `field = value AND _id > last ORDER BY _id` is one seek, not a sort.
    this.db.exec(
      `CREATE INDEX IF NOT EXISTS ${quote(`${INDEX_PREFIX}${name}:${field}`)} ON ${quote(name)} (${expression}, _id)`,
    );
  }

  /** Forgets cached statements and flags of a table that was dropped or renamed. */
  forget(name: string): void {
    this.known.delete(name);
    this.nested.delete(name);
    this.prepared.delete(name);
    // Statements that name the table would fail once it is gone; they are cheap to prepare again.
    this.statements.clear();
  }

  private tableNames(): string[] {
    return this.run('listing collections', () =>
      (
        this.statement(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).raw().all() as [
          string,
        ][]
      ).map((row) => row[0]),
    );
  }

  private indexesOf(name: string): { name: string; field: string }[] {
    const prefix = `${INDEX_PREFIX}${name}:`;
    const rows = this.db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?`)
      .raw()
      .all(name) as [string][];
    return rows
      .filter(([index]) => index.startsWith(prefix))
      .map(([index]) => ({ name: index, field: index.slice(prefix.length) }));
  }
}

export class EmbeddedCollection implements Collection {
  constructor(
    private readonly store: EmbeddedStore,
    readonly name: string,
    private readonly keyType: CollectionOptions['keyType'],
  ) {}

  private get table(): string {
    return quote(this.name);
  }

  async insertMany(documents: Document[]): Promise<number> {
    if (documents.length === 0) return 0;
    const store = this.store;
    return store.run(`inserting into "${this.name}"`, () => {
      store.ensureTable(this.name, this.keyType);
      const { insert } = store.prepare(this.name);
      let nested = store.isNested(this.name);
      store.db.transaction(() => {
        for (let i = 0; i < documents.length; i++) {
          const document = documents[i];
          const id = document._id === undefined ? randomBytes(12).toString('hex') : keyOf(document, i);
          if (!nested && hasNestedValues(document)) {
            store.markNested(this.name);
            nested = true;
          }
          try {
            insert.run(id, serialize(document, id));
          } catch (cause) {
            if ((cause as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
              throw new errors.PW_STORE_FAILED(
                `Collection "${this.name}" already has a document with _id ${JSON.stringify(id)}`,
                {
                  cause,
                  hint: 'Use upsertMany (what push does) to replace existing documents, or delete them first.',
                },
              );
            }
            throw cause;
          }
        }
      })();
      return documents.length;
    });
  }

  async upsertMany(documents: Document[]): Promise<UpsertResult> {
    return this.upsertSerialized(serializeDocuments(documents));
  }

  /**
   * `upsertMany` of documents already turned into keys and JSON texts (by `serializeDocuments`), so
   * that the serialising and the writing can run on different threads. One transaction.
   */
  upsertSerialized(batch: SerializedDocuments): UpsertResult {
    const result: UpsertResult = { inserted: 0, updated: 0, unchanged: 0 };
    const { ids, texts } = batch;
    const count = ids.length;
    if (count === 0) return result;
    const store = this.store;
    return store.run(`upserting into "${this.name}"`, () => {
      store.ensureTable(this.name, this.keyType);
      const { insertOrIgnore, updateIfDifferent, countExisting, insertChunk } = store.prepare(this.name);
      if (batch.nested && !store.isNested(this.name)) store.markNested(this.name);
      const upsertOne = (i: number) => {
        // New keys take one statement; only existing ones pay for the comparison.
        if (insertOrIgnore.run(ids[i], texts[i]).changes === 1) result.inserted++;
        else if (updateIfDifferent.run(texts[i], ids[i], texts[i]).changes === 1) result.updated++;
        else result.unchanged++;
      };
      const keys = new Array<string | number>(CHUNK);
      const pairs = new Array<string | number>(2 * CHUNK);
      const distinct = new Set<string | number>();
      store.db.transaction(() => {
        let i = 0;
        for (; i + CHUNK <= count; i += CHUNK) {
          // A chunk of keys that are all new and distinct goes in with one statement.
          distinct.clear();
          for (let k = 0; k < CHUNK; k++) {
            keys[k] = ids[i + k];
            distinct.add(keys[k]);
            pairs[2 * k] = ids[i + k];
            pairs[2 * k + 1] = texts[i + k];
          }
          if (distinct.size === CHUNK && countExisting.get(keys) === 0) {
            insertChunk.run(pairs);
            result.inserted += CHUNK;
          } else {
            for (let k = 0; k < CHUNK; k++) upsertOne(i + k);
          }
        }
        for (; i < count; i++) upsertOne(i);
      })();
      return result;
    });
  }

  find(filter: Filter = {}, options: FindOptions = {}): AsyncIterable<Document> {
    return {
      [Symbol.asyncIterator]: () => {
        const batches = this.batches(filter, options);
        let batch: Document[] = [];
        let position = 0;
        let loading = hasConditions(filter) ? loadQueryEngine() : undefined;
        const iterator: AsyncIterator<Document> = {
          next(): Promise<IteratorResult<Document>> {
            if (loading) {
              const pending = loading;
              loading = undefined;
              return pending.then(() => iterator.next());
            }
            try {
              while (position >= batch.length) {
                const following = batches.next();
                if (following.done) return Promise.resolve({ done: true, value: undefined });
                batch = following.value;
                position = 0;
              }
              return Promise.resolve({ done: false, value: batch[position++] });
            } catch (error) {
              return Promise.reject(error);
            }
          },
          return(): Promise<IteratorResult<Document>> {
            batches.return(undefined);
            return Promise.resolve({ done: true, value: undefined });
          },
        };
        return iterator;
      },
    };
  }

  /**
   * Reads matching documents a page at a time, by key ranges rather than an open cursor, so that the
   * connection is free for writes between pages.
   */
  *batches(filter: Filter = {}, options: FindOptions = {}): Generator<Document[], void, undefined> {
    const store = this.store;
    const descending = sortDirection(this.name, options.sort) === -1;
    const limit = options.limit !== undefined && options.limit > 0 ? options.limit : Infinity;
    const pageSize = Math.max(1, Math.min(options.batchSize ?? DEFAULT_BATCH, 100_000));
    const project = compileProjection(options.projection);
    if (!store.run(`reading "${this.name}"`, () => store.exists(this.name))) return;
    const compiled = compileFilter(filter, { nested: store.isNested(this.name) });
    const residual = compiled.residual;
    const order = descending ? 'DESC' : 'ASC';
    const after = descending ? '<' : '>';
    const first = store
      .statement(`SELECT _id, doc FROM ${this.table} WHERE ${compiled.where} ORDER BY _id ${order} LIMIT ?`)
      .raw();
    const next = store
      .statement(
        `SELECT _id, doc FROM ${this.table} WHERE _id ${after} ? AND (${compiled.where}) ORDER BY _id ${order} LIMIT ?`,
      )
      .raw();
    let emitted = 0;
    let last: unknown;
    for (let page = 0; ; page++) {
      // Without a post-filter the page never needs to exceed what the limit still allows.
      const size = residual || limit === Infinity ? pageSize : Math.min(pageSize, limit - emitted);
      const rows = store.run(
        `reading "${this.name}"`,
        () =>
          (page === 0 ? first.all(...compiled.params, size) : next.all(last, ...compiled.params, size)) as [
            unknown,
            string,
          ][],
      );
      if (rows.length === 0) return;
      last = rows[rows.length - 1][0];
      const out: Document[] = [];
      for (let i = 0; i < rows.length; i++) {
        const document = JSON.parse(rows[i][1]) as Document;
        if (residual && !residual(document)) continue;
        out.push(project ? project(document) : document);
        if (++emitted >= limit) break;
      }
      if (out.length > 0) yield out;
      if (emitted >= limit || rows.length < size) return;
    }
  }

  async countDocuments(filter: Filter = {}): Promise<number> {
    if (hasConditions(filter)) await loadQueryEngine();
    const store = this.store;
    if (!store.run(`counting "${this.name}"`, () => store.exists(this.name))) return 0;
    const compiled = compileFilter(filter, { nested: store.isNested(this.name) });
    if (!compiled.residual) {
      return store.run(`counting "${this.name}"`, () => {
        const row = store
          .statement(`SELECT count(*) FROM ${this.table} WHERE ${compiled.where}`)
          .raw()
          .get(...compiled.params) as [number];
        return row[0];
      });
    }
    let count = 0;
    for (const batch of this.batches(filter, { batchSize: 5000 })) count += batch.length;
    return count;
  }

  async estimatedCount(): Promise<number> {
    const store = this.store;
    return store.run(`counting "${this.name}"`, () => {
      if (!store.exists(this.name)) return 0;
      const row = store.statement(`SELECT max(rowid) FROM ${this.table}`).raw().get() as [number | null];
      return Math.max(0, Number(row[0] ?? 0));
    });
  }

  async createIndex(field: string): Promise<void> {
    if (field === '_id') return;
    const store = this.store;
    store.run(`indexing "${this.name}" by ${field}`, () => {
      store.ensureTable(this.name, this.keyType);
      store.createIndexOn(this.name, field);
    });
  }

  async deleteMany(filter: Filter = {}): Promise<number> {
    if (hasConditions(filter)) await loadQueryEngine();
    const store = this.store;
    if (!store.run(`deleting from "${this.name}"`, () => store.exists(this.name))) return 0;
    const compiled = compileFilter(filter, { nested: store.isNested(this.name) });
    if (!compiled.residual) {
      return store.run(
        `deleting from "${this.name}"`,
        () =>
          store.statement(`DELETE FROM ${this.table} WHERE ${compiled.where}`).run(...compiled.params)
            .changes,
      );
    }
    const ids: unknown[] = [];
    for (const batch of this.batches(filter, { batchSize: 5000, projection: { _id: 1 } }))
      for (const document of batch) ids.push(document._id);
    const remove = store.statement(`DELETE FROM ${this.table} WHERE _id = ?`);
    return store.run(`deleting from "${this.name}"`, () => {
      let deleted = 0;
      store.db.transaction(() => {
        for (const id of ids) deleted += remove.run(id).changes;
      })();
      return deleted;
    });
  }

  async drop(): Promise<void> {
    this.store.run(`dropping "${this.name}"`, () => this.store.dropTable(this.name));
  }
}

function hasConditions(filter: Filter | undefined): boolean {
  if (!filter) return false;
  for (const _key in filter) return true;
  return false;
}

function sortDirection(collection: string, sort: FindOptions['sort']): 1 | -1 {
  if (!sort) return 1;
  const keys = Object.keys(sort);
  if (keys.length === 0) return 1;
  if (keys.length === 1 && keys[0] === '_id' && (sort._id === 1 || sort._id === -1)) return sort._id;
  throw new errors.PW_STORE_FAILED(
    `Cannot sort "${collection}" by ${JSON.stringify(sort)}: the embedded store sorts by _id only`,
    {
      hint: 'Sort by { _id: 1 } or { _id: -1 }, or sort the documents after reading them.',
    },
  );
}

/** A function applying a MongoDB projection, or undefined when there is none. */
export function compileProjection(
  projection: FindOptions['projection'],
): ((document: Document) => Document) | undefined {
  if (!projection) return undefined;
  const entries = Object.entries(projection);
  if (entries.length === 0) return undefined;
  const keepId = projection._id !== 0;
  const fields = entries.filter(([key]) => key !== '_id');
  const included = fields.filter(([, value]) => value).map(([key]) => key);
  const excluded = fields.filter(([, value]) => !value).map(([key]) => key);
  if (included.length > 0 && excluded.length > 0) {
    throw new errors.PW_STORE_FAILED(
      `Projection ${JSON.stringify(projection)} mixes included and excluded fields`,
      {
        hint: 'List only the fields to include ({ a: 1, b: 1 }) or only those to leave out ({ c: 0 }); only _id may differ.',
      },
    );
  }
  if (included.length > 0 || (fields.length === 0 && projection._id)) {
    const asked = new Set(included);
    return (document) => {
      // a document with no field beyond those asked for is its own projection (the common case, as
      // reading a table by its schema's fields: a look at its keys costs about a fifth of a copy)
      let beyond = false;
      for (const key in document) {
        if (key === '_id' ? !keepId : !asked.has(key)) {
          beyond = true;
          break;
        }
      }
      if (!beyond) return document;
      const out: Document = {};
      if (keepId && '_id' in document) out._id = document._id;
      for (let i = 0; i < included.length; i++) {
        const key = included[i];
        if (key in document) out[key] = document[key];
      }
      return out;
    };
  }
  const drop = new Set(excluded);
  if (!keepId) drop.add('_id');
  return (document) => {
    for (const key of drop) delete document[key];
    return document;
  };
}
