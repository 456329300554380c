// How the embedded store runs MongoDB filters: simple ones become SQL that expression indexes serve,
// the rest (and any filter on a collection holding arrays) is answered by mingo with MongoDB's semantics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFilter, loadQueryEngine } from '../../src/store/filter.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import type { Document } from '../../src/store/types.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-filter-'));
let store: EmbeddedStore;
beforeAll(async () => {
  store = EmbeddedStore.open(join(dir, 'store.db'));
  await loadQueryEngine();
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(iterable: AsyncIterable<Document>): Promise<Document[]> {
  const out: Document[] = [];
  for await (const document of iterable) out.push(document);
  return out;
}

describe('compileFilter', () => {
  it('pushes equality, ranges, $in, $exists, $and and $or into SQL with bound values', () => {
    const compiled = compileFilter({
      Age: { $gte: 30, $lt: 40 },
      Gender: { $in: ['Male', 'Female'] },
      $or: [{ Region_Code: 28 }, { Vintage: { $exists: false } }],
    });
    expect(compiled.residual).toBeUndefined();
    expect(compiled.where).toContain("json_extract(doc, '$.Age') >= ?");
    expect(compiled.where).toContain("json_extract(doc, '$.Gender') IN (?, ?)");
    expect(compiled.params).toEqual([30, 40, 'Male', 'Female', 28]);
  });

  it('leaves operators without an exact SQL form to mingo, and pushes the rest', () => {
    const compiled = compileFilter({
      Age: { $gte: 30 },
      name: { $regex: '^a' },
      $or: [{ a: 1 }, { b: { $size: 2 } }],
    });
    expect(compiled.where).toContain("json_extract(doc, '$.Age') >= ?");
    expect(compiled.where).not.toContain('name');
    expect(compiled.residual).toBeDefined();
    expect(compiled.residual!({ name: 'ann', b: [1, 2] })).toBe(true);
    expect(compiled.residual!({ name: 'bob', a: 1 })).toBe(false);
  });

  it('pushes only _id conditions for a collection that may hold arrays or objects', () => {
    const compiled = compileFilter({ _id: { $gt: 5 }, tags: 'x' }, { nested: true });
    expect(compiled.where).toContain('_id > ?');
    expect(compiled.where).not.toContain('tags');
    expect(compiled.residual!({ _id: 6, tags: ['x', 'y'] })).toBe(true);
  });

  it('quotes field names that are not plain identifiers, and leaves dotted paths to mingo', () => {
    expect(compileFilter({ 'Annual Premium': 5 }).where).toContain(`json_extract(doc, '$."Annual Premium"')`);
    expect(compileFilter({ "it's": 'x' }).where).toContain(`'$."it''s"'`);
    expect(compileFilter({ 'address.city': 'Paris' }).residual).toBeDefined();
  });

  it('rejects an unknown operator with PW_STORE_FAILED', () => {
    expect(() => compileFilter({ a: { $bogus: 1 } })).toThrow(
      expect.objectContaining({ code: 'PW_STORE_FAILED' }),
    );
  });
});

describe('embedded filters', () => {
  it('serves an indexed field from its expression index', async () => {
    const collection = store.collection('indexed', { keyType: 'integer' });
    await collection.insertMany(
      Array.from({ length: 200 }, (_, i) => ({
        _id: i + 1,
        Age: 18 + (i % 60),
        Gender: i % 2 ? 'Male' : 'Female',
      })),
    );
    await collection.createIndex('Age');
    const compiled = compileFilter({ Age: { $gte: 70 } });
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN SELECT _id, doc FROM "indexed" WHERE ${compiled.where}`)
      .all(...compiled.params)
      .map((row) => (row as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('USING INDEX');
    // Ages cycle through 18..77: 8 of every 60 rows are 70 or older, over 3 full cycles and a partial one.
    expect(await collection.countDocuments({ Age: { $gte: 70 } })).toBe(24);
  });

  it('pages through an indexed equality on a string-keyed collection by seeking, never sorting', async () => {
    const collection = store.collection('paged');
    await collection.insertMany(
      Array.from({ length: 300 }, (_, i) => ({ _id: `k${i}`, Gender: i % 2 ? 'Male' : 'Female' })),
    );
    await collection.createIndex('Gender');
    const compiled = compileFilter({ Gender: 'Male' });
    const plan = store.db
      .prepare(
        `EXPLAIN QUERY PLAN SELECT _id, doc FROM "paged" WHERE _id > ? AND (${compiled.where}) ORDER BY _id LIMIT ?`,
      )
      .all('k1', ...compiled.params, 10)
      .map((row) => (row as { detail: string }).detail)
      .join('\n');
    expect(plan).toContain('USING INDEX pipewright:index:paged:Gender');
    expect(plan).not.toContain('TEMP B-TREE');
    const found = await collect(collection.find({ Gender: 'Male' }, { batchSize: 7 }));
    expect(found).toHaveLength(150);
    expect(found.map((document) => document._id)).toEqual(
      [...found.map((document) => document._id as string)].sort(),
    );
  });

  it('matches array elements like MongoDB once a collection holds arrays', async () => {
    const collection = store.collection('nested');
    await collection.insertMany([
      { _id: 1, tags: ['x', 'y'], n: 1 },
      { _id: 2, tags: 'x', n: 2 },
      { _id: 3, tags: ['z'], n: 3 },
      { _id: 4, n: 4 },
    ]);
    const ids = async (filter: Record<string, unknown>) =>
      (await collect(collection.find(filter))).map((document) => document._id);
    expect(await ids({ tags: 'x' })).toEqual([1, 2]);
    expect(await ids({ tags: { $in: ['z', 'y'] } })).toEqual([1, 3]);
    expect(await ids({ tags: { $ne: 'x' } })).toEqual([3, 4]);
    expect(await ids({ _id: { $gte: 2 }, n: { $lt: 4 } })).toEqual([2, 3]);
    expect(await collection.countDocuments({ tags: 'x' })).toBe(2);
    expect(await collection.deleteMany({ tags: 'z' })).toBe(1);
    expect(await ids({})).toEqual([1, 2, 4]);
  });

  it('refuses to sort by another field than _id, and a projection mixing inclusion and exclusion', async () => {
    const collection = store.collection('options');
    await collection.insertMany([{ _id: 1, a: 1, b: 2 }]);
    await expect(collect(collection.find({}, { sort: { a: 1 } }))).rejects.toMatchObject({
      code: 'PW_STORE_FAILED',
    });
    await expect(collect(collection.find({}, { projection: { a: 1, b: 0 } }))).rejects.toMatchObject({
      code: 'PW_STORE_FAILED',
    });
  });
});
