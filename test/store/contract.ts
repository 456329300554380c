// The DocumentStore contract, run against every backend: the embedded store always, MongoDB when a
// server is reachable. Each test uses its own collection so backends that share a server stay isolated.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, Document, DocumentStore, Filter } from '../../src/store/types.js';

export interface ContractOptions {
  /** Reports the whole suite as skipped (e.g. no MONGODB_URL). */
  skip?: boolean;
}

/** Documents with the awkward cases of MongoDB's semantics: nulls, missing fields, mixed types. */
export const FILTER_DOCUMENTS: Document[] = [
  { _id: 1, name: 'ann', age: 30, score: 1.5, active: true, city: 'Paris', tag: null },
  { _id: 2, name: 'bob', age: 25, score: 2.5, active: false, city: 'Lyon' },
  { _id: 3, name: 'cid', age: 35, score: null, active: true, city: 'Paris', tag: 'x' },
  { _id: 4, name: 'dee', age: '40', active: true, city: 'Nice', tag: 'y' },
  { _id: 5, name: 'eve', age: 18, score: 0, active: false, city: null, tag: 'x' },
  { _id: 6, name: 'fay', score: -3, active: true, city: 'Lyon' },
];

/** Filters and the `_id`s they match in FILTER_DOCUMENTS, as MongoDB answers them. */
export const FILTER_CASES: [string, Filter, number[]][] = [
  ['the empty filter', {}, [1, 2, 3, 4, 5, 6]],
  ['plain equality on a string', { city: 'Paris' }, [1, 3]],
  ['$eq on a string', { city: { $eq: 'Paris' } }, [1, 3]],
  ['equality on a boolean', { active: true }, [1, 3, 4, 6]],
  ['equality on false', { active: false }, [2, 5]],
  ['equality on a number, not matching its text', { age: 40 }, []],
  ['equality on text, not matching numbers', { age: '40' }, [4]],
  ['equality on a float', { score: 1.5 }, [1]],
  ['equality on zero', { score: 0 }, [5]],
  ['a number not matching a boolean', { active: 1 }, []],
  ['$gt on numbers, skipping text', { age: { $gt: 25 } }, [1, 3]],
  ['$gte', { age: { $gte: 25 } }, [1, 2, 3]],
  ['$lt', { age: { $lt: 30 } }, [2, 5]],
  ['$lte', { age: { $lte: 30 } }, [1, 2, 5]],
  ['a range', { age: { $gt: 20, $lt: 35 } }, [1, 2]],
  ['$gte skipping null', { score: { $gte: 0 } }, [1, 2, 5]],
  ['$lt on negatives', { score: { $lt: 0 } }, [6]],
  ['$gt on strings', { name: { $gt: 'c' } }, [3, 4, 5, 6]],
  ['$ne, matching null', { city: { $ne: 'Paris' } }, [2, 4, 5, 6]],
  ['$ne, matching missing fields', { tag: { $ne: 'x' } }, [1, 2, 4, 6]],
  ['null, matching null and missing', { tag: null }, [1, 2, 6]],
  ['$eq null', { tag: { $eq: null } }, [1, 2, 6]],
  ['$ne null', { tag: { $ne: null } }, [3, 4, 5]],
  ['$exists true, including null', { tag: { $exists: true } }, [1, 3, 4, 5]],
  ['$exists false', { tag: { $exists: false } }, [2, 6]],
  ['$exists false on another field', { age: { $exists: false } }, [6]],
  ['$in on strings', { city: { $in: ['Paris', 'Nice'] } }, [1, 3, 4]],
  ['$in with null', { city: { $in: ['Lyon', null] } }, [2, 5, 6]],
  ['$in on numbers, not matching text', { age: { $in: [25, 40] } }, [2]],
  ['$in with an empty list', { city: { $in: [] } }, []],
  ['$nin', { city: { $nin: ['Paris', 'Lyon'] } }, [4, 5]],
  ['$nin, matching missing fields', { tag: { $nin: ['x'] } }, [1, 2, 4, 6]],
  ['$and', { $and: [{ active: true }, { city: 'Paris' }] }, [1, 3]],
  ['$or', { $or: [{ city: 'Nice' }, { age: { $lt: 20 } }] }, [4, 5]],
  ['$or nesting $and', { $or: [{ tag: 'y' }, { $and: [{ active: false }, { score: { $gt: 1 } }] }] }, [2, 4]],
  ['several fields at once', { active: true, city: 'Lyon' }, [6]],
  ['a field and an operator', { name: 'bob', age: { $gte: 20 } }, [2]],
  ['_id equality', { _id: 3 }, [3]],
  ['_id $in', { _id: { $in: [2, 4, 99] } }, [2, 4]],
  ['_id $gt', { _id: { $gt: 4 } }, [5, 6]],
  ['_id $nin', { _id: { $nin: [1, 2, 3] } }, [4, 5, 6]],
];

async function collect(iterable: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const document of iterable) out.push(document);
  return out;
}

function ids(documents: Document[]): unknown[] {
  return documents.map((document) => document._id);
}

function numbered(count: number, start = 1): Document[] {
  return Array.from({ length: count }, (_, i) => ({
    _id: start + i,
    value: (start + i) * 10,
    label: `row ${start + i}`,
  }));
}

export function defineStoreContract(
  name: string,
  open: () => Promise<DocumentStore>,
  options: ContractOptions = {},
): void {
  describe.skipIf(Boolean(options.skip))(`DocumentStore contract: ${name}`, () => {
    let store: DocumentStore;
    const created: string[] = [];
    const prefix = `contract_${process.pid}_${Date.now().toString(36)}`;
    let counter = 0;

    /** A fresh, empty collection for one test. */
    function fresh(label: string): Collection {
      const collectionName = `${prefix}_${++counter}_${label}`;
      created.push(collectionName);
      return store.collection(collectionName);
    }

    beforeAll(async () => {
      store = await open();
    });

    afterAll(async () => {
      if (!store) return;
      for (const collectionName of created) await store.collection(collectionName).drop();
      await store.close();
    });

    it('describes itself with its kind and a description', () => {
      expect(['embedded', 'mongodb']).toContain(store.kind);
      expect(typeof store.description).toBe('string');
      expect(store.description.length).toBeGreaterThan(0);
    });

    it('treats a collection that was never written as empty', async () => {
      const collection = fresh('never');
      expect(await collection.countDocuments()).toBe(0);
      expect(await collection.estimatedCount()).toBe(0);
      expect(await collect(collection.find())).toEqual([]);
      expect(await collect(collection.find({ a: 1 }))).toEqual([]);
      expect(await collection.deleteMany()).toBe(0);
      await collection.drop();
      expect(await store.listCollections()).not.toContain(collection.name);
    });

    it('inserts documents, counts them and lists the collection', async () => {
      const collection = fresh('insert');
      expect(await collection.insertMany(numbered(5))).toBe(5);
      expect(await collection.insertMany([])).toBe(0);
      expect(await collection.countDocuments()).toBe(5);
      // documents inserted in one go, with no deletion, are estimated exactly by both backends
      expect(await collection.estimatedCount()).toBe(5);
      expect(await store.listCollections()).toContain(collection.name);
      expect(collection.name).toBe(created[created.length - 1]);
    });

    it('returns documents exactly as written, with _id first', async () => {
      const collection = fresh('roundtrip');
      const documents: Document[] = [
        {
          _id: 'a',
          text: 'quote " backslash \\ accent é 日本 emoji 🚗',
          integer: -42,
          float: 0.1 + 0.2,
          large: 123456789012,
          yes: true,
          no: false,
          nothing: null,
          nested: { list: [1, 'two', null, { three: 3 }] },
        },
        { _id: 'b', empty: '', zero: 0 },
      ];
      await collection.insertMany(documents.map((document) => ({ ...document })));
      const found = await collect(collection.find());
      expect(found).toEqual(documents);
      expect(Object.keys(found[0])[0]).toBe('_id');
      expect(Object.keys(found[0])).toEqual(Object.keys(documents[0]));
    });

    it('assigns distinct _ids to inserted documents that have none', async () => {
      const collection = fresh('noid');
      expect(await collection.insertMany([{ value: 1 }, { value: 2 }, { value: 3 }])).toBe(3);
      const found = await collect(collection.find());
      expect(found).toHaveLength(3);
      const assigned = found.map((document) => String(document._id));
      expect(assigned.every((id) => id.length > 0 && id !== 'undefined')).toBe(true);
      expect(new Set(assigned).size).toBe(3);
      expect(found.map((document) => document.value).sort()).toEqual([1, 2, 3]);
    });

    it('refuses to insert an _id that already exists, with PW_STORE_FAILED', async () => {
      const collection = fresh('duplicate');
      await collection.insertMany(numbered(3));
      await expect(collection.insertMany([{ _id: 2, value: 'again' }])).rejects.toMatchObject({
        code: 'PW_STORE_FAILED',
      });
      const second = await collect(collection.find({ _id: 2 }));
      expect(second).toEqual([{ _id: 2, value: 20, label: 'row 2' }]);
    });

    it('counts upserts as inserted, then unchanged when identical, then updated when different', async () => {
      const collection = fresh('upsert');
      expect(await collection.upsertMany(numbered(10))).toEqual({ inserted: 10, updated: 0, unchanged: 0 });
      expect(await collection.upsertMany(numbered(10))).toEqual({ inserted: 0, updated: 0, unchanged: 10 });
      const mixed = numbered(12);
      mixed[0] = { ...mixed[0], value: -1 };
      mixed[4] = { ...mixed[4], label: 'changed' };
      expect(await collection.upsertMany(mixed)).toEqual({ inserted: 2, updated: 2, unchanged: 8 });
      expect(await collection.countDocuments()).toBe(12);
      expect(await collect(collection.find({ _id: { $in: [1, 5] } }))).toEqual([
        { _id: 1, value: -1, label: 'row 1' },
        { _id: 5, value: 50, label: 'changed' },
      ]);
      expect(await collection.upsertMany([])).toEqual({ inserted: 0, updated: 0, unchanged: 0 });
    });

    it('counts a large batch mixing new, identical and changed documents', async () => {
      const collection = fresh('upsertlarge');
      await collection.upsertMany(numbered(130).filter((document) => (document._id as number) % 3 === 0));
      const batch = numbered(400).map((document) =>
        (document._id as number) % 9 === 0 ? { ...document, label: 'changed' } : document,
      );
      // 43 of the first 130 exist; 14 of those (multiples of 9) change.
      expect(await collection.upsertMany(batch)).toEqual({ inserted: 357, updated: 14, unchanged: 29 });
      expect(await collection.countDocuments()).toBe(400);
      expect(await collection.countDocuments({ label: 'changed' })).toBe(44);
    });

    it('replaces the whole document on upsert rather than merging fields', async () => {
      const collection = fresh('replace');
      await collection.upsertMany([{ _id: 'k', a: 1, b: 2 }]);
      expect(await collection.upsertMany([{ _id: 'k', a: 5 }])).toEqual({
        inserted: 0,
        updated: 1,
        unchanged: 0,
      });
      expect(await collect(collection.find())).toEqual([{ _id: 'k', a: 5 }]);
    });

    it('counts a document whose value changes type (1 to "1") as updated', async () => {
      const collection = fresh('typechange');
      await collection.upsertMany([{ _id: 1, a: 1 }]);
      expect(await collection.upsertMany([{ _id: 1, a: '1' }])).toEqual({
        inserted: 0,
        updated: 1,
        unchanged: 0,
      });
      expect(await collect(collection.find())).toEqual([{ _id: 1, a: '1' }]);
    });

    it('refuses to upsert a document without an _id', async () => {
      const collection = fresh('upsertnoid');
      await expect(collection.upsertMany([{ _id: 1, a: 1 }, { a: 2 }])).rejects.toMatchObject({
        code: 'PW_STORE_FAILED',
      });
    });

    it('streams every document in _id order whatever the batch size', async () => {
      const collection = fresh('stream');
      const shuffled = numbered(2500).sort(
        (a, b) => (((a._id as number) * 7919) % 2503) - (((b._id as number) * 7919) % 2503),
      );
      await collection.insertMany(shuffled);
      for (const batchSize of [1, 7, 1000, 5000]) {
        const found = await collect(collection.find({}, { batchSize }));
        expect(found).toHaveLength(2500);
        expect(ids(found)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
      }
    });

    it('sorts by _id descending and applies a limit', async () => {
      const collection = fresh('sort');
      await collection.insertMany(numbered(20));
      expect(ids(await collect(collection.find({}, { sort: { _id: -1 }, limit: 3 })))).toEqual([20, 19, 18]);
      expect(ids(await collect(collection.find({}, { sort: { _id: 1 }, limit: 2, batchSize: 1 })))).toEqual([
        1, 2,
      ]);
      expect(
        ids(await collect(collection.find({ value: { $gt: 100 } }, { sort: { _id: -1 }, batchSize: 3 }))),
      ).toEqual([20, 19, 18, 17, 16, 15, 14, 13, 12, 11]);
    });

    it('sorts string _ids by their text', async () => {
      const collection = fresh('stringids');
      await collection.insertMany([{ _id: 'b' }, { _id: 'a10' }, { _id: 'a2' }, { _id: 'C' }]);
      expect(ids(await collect(collection.find()))).toEqual(['C', 'a10', 'a2', 'b']);
      expect(ids(await collect(collection.find({ _id: { $gte: 'a2' } })))).toEqual(['a2', 'b']);
    });

    it('projects included fields, with _id unless it is excluded', async () => {
      const collection = fresh('projection');
      await collection.insertMany(FILTER_DOCUMENTS.map((document) => ({ ...document })));
      expect(
        await collect(collection.find({ _id: { $lte: 2 } }, { projection: { name: 1, tag: 1 } })),
      ).toEqual([
        { _id: 1, name: 'ann', tag: null },
        { _id: 2, name: 'bob' },
      ]);
      expect(await collect(collection.find({ _id: 6 }, { projection: { _id: 0, name: 1, age: 1 } }))).toEqual(
        [{ name: 'fay' }],
      );
      expect(
        await collect(collection.find({ _id: 2 }, { projection: { score: 0, city: 0, name: 0 } })),
      ).toEqual([{ _id: 2, age: 25, active: false }]);
      expect(await collect(collection.find({ _id: 2 }, { projection: { _id: 0, city: 0 } }))).toEqual([
        { name: 'bob', age: 25, score: 2.5, active: false },
      ]);
      // a document with no field beyond those asked for: whole, or without _id when it is excluded
      await collection.insertMany([{ _id: 100, name: 'gus', age: 40 }]);
      const all = { name: 1, age: 1, city: 1 } as const;
      expect(await collect(collection.find({ _id: 100 }, { projection: all }))).toEqual([
        { _id: 100, name: 'gus', age: 40 },
      ]);
      expect(await collect(collection.find({ _id: 100 }, { projection: { ...all, _id: 0 } }))).toEqual([
        { name: 'gus', age: 40 },
      ]);
    });

    it('combines a filter, a projection, a descending sort and a limit', async () => {
      const collection = fresh('combined');
      await collection.insertMany(FILTER_DOCUMENTS.map((document) => ({ ...document })));
      expect(
        await collect(
          collection.find(
            { active: true },
            { projection: { name: 1 }, sort: { _id: -1 }, limit: 2, batchSize: 1 },
          ),
        ),
      ).toEqual([
        { _id: 6, name: 'fay' },
        { _id: 4, name: 'dee' },
      ]);
    });

    describe('filters', () => {
      let collection: Collection;
      beforeAll(async () => {
        collection = fresh('filters');
        await collection.insertMany(FILTER_DOCUMENTS.map((document) => ({ ...document })));
      });

      for (const [label, filter, expected] of FILTER_CASES) {
        it(`finds and counts with ${label}: ${JSON.stringify(filter)}`, async () => {
          expect(ids(await collect(collection.find(filter)))).toEqual(expected);
          expect(await collection.countDocuments(filter)).toBe(expected.length);
        });
      }

      it('gives the same answers once the filtered fields are indexed', async () => {
        for (const field of ['age', 'city', 'tag', 'active', 'score', 'name'])
          await collection.createIndex(field);
        await collection.createIndex('age');
        for (const [, filter, expected] of FILTER_CASES) {
          expect({ filter, found: ids(await collect(collection.find(filter))) }).toEqual({
            filter,
            found: expected,
          });
          expect({ filter, count: await collection.countDocuments(filter) }).toEqual({
            filter,
            count: expected.length,
          });
        }
      });
    });

    it('deletes the documents a filter matches and returns how many', async () => {
      const collection = fresh('delete');
      await collection.insertMany(FILTER_DOCUMENTS.map((document) => ({ ...document })));
      expect(await collection.deleteMany({ city: 'Paris' })).toBe(2);
      expect(await collection.deleteMany({ city: 'Paris' })).toBe(0);
      expect(ids(await collect(collection.find()))).toEqual([2, 4, 5, 6]);
      expect(await collection.deleteMany({ tag: null })).toBe(2);
      expect(ids(await collect(collection.find()))).toEqual([4, 5]);
      expect(await collection.deleteMany()).toBe(2);
      expect(await collection.countDocuments()).toBe(0);
    });

    it('drops a collection so that it is no longer listed and reads as empty', async () => {
      const collection = fresh('drop');
      await collection.insertMany(numbered(3));
      await collection.createIndex('value');
      expect(await store.listCollections()).toContain(collection.name);
      await collection.drop();
      expect(await store.listCollections()).not.toContain(collection.name);
      expect(await collection.countDocuments()).toBe(0);
      await collection.drop();
      expect(await collection.insertMany(numbered(2))).toBe(2);
      expect(await collection.countDocuments()).toBe(2);
    });

    it('accepts collection names with dashes and dots', async () => {
      const collection = fresh('my-data.v2');
      await collection.upsertMany(numbered(2));
      expect(await collection.countDocuments()).toBe(2);
      expect(await store.listCollections()).toContain(collection.name);
    });

    it('allows writes after a reader stops early, and writes to another collection while reading', async () => {
      const source = fresh('reader');
      const target = fresh('writer');
      await source.insertMany(numbered(50));
      let seen = 0;
      for await (const document of source.find({}, { batchSize: 10 })) {
        await target.upsertMany([{ ...document, copied: true }]);
        if (++seen === 25) break;
      }
      expect(await target.countDocuments()).toBe(25);
      expect(await source.upsertMany(numbered(60))).toEqual({ inserted: 10, updated: 0, unchanged: 50 });
    });

    it('swaps a staged collection in place of another when the backend can rename', async (context) => {
      if (typeof store.renameCollection !== 'function') context.skip();
      const target = fresh('renametarget');
      const staging = fresh('renamestaging');
      await target.insertMany(numbered(5));
      await staging.insertMany(numbered(3, 100));
      await store.renameCollection!(staging.name, target.name);
      expect(ids(await collect(target.find()))).toEqual([100, 101, 102]);
      const names = await store.listCollections();
      expect(names).toContain(target.name);
      expect(names).not.toContain(staging.name);
      expect(await staging.countDocuments()).toBe(0);
    });
  });
}
