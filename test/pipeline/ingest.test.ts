// Ingest reads the store into a frame without counting it first, finds repeated keys without
// remembering keys that arrive in rising order, and hashes the keys in slices as if in one piece.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { createHasher } from '../../src/core/hash.js';
import { silentLogger } from '../../src/core/logger.js';
import { frameFromColumns } from '../../src/ml/frame.js';
import { DuplicateKeys, frameHash, ingestStep } from '../../src/pipeline/steps/ingest.js';
import { parseSchema } from '../../src/schema/schema.js';
import { EmbeddedStore } from '../../src/store/sqlite.js';

const schema = parseSchema(
  [
    'name: shop',
    'fields:',
    '  id: { type: integer, role: key }',
    '  size: { type: number, nullable: true }',
    '  maker: { type: category, nullable: true }',
    '  y: { type: boolean, role: target }',
    '',
  ].join('\n'),
);

const dir = mkdtempSync(join(tmpdir(), 'pw-ingest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('DuplicateKeys', () => {
  it('says a key was seen exactly when it was accepted before, in any order of numbers and text', () => {
    const key = fc.oneof(fc.integer({ min: -5, max: 40 }), fc.constantFrom('a', 'b', '7'));
    fc.assert(
      fc.property(fc.array(key, { maxLength: 60 }), fc.integer({ min: 0, max: 60 }), (keys, rising) => {
        // A rising prefix first, as rows in key order arrive, then anything.
        const ordered: unknown[] = [...Array(rising).keys()].map((i) => i * 3 - 10);
        ordered.push(...keys);
        const accepted: unknown[] = [];
        const duplicates = new DuplicateKeys(() => accepted);
        const naive = new Set<unknown>();
        for (const value of ordered) {
          const repeated = duplicates.seen(value);
          expect(repeated).toBe(naive.has(value));
          if (!repeated) {
            naive.add(value);
            accepted.push(value);
          }
        }
      }),
    );
  });
});

describe('frameHash', () => {
  it('hashes the keys in slices to the same digest as one JSON text of them', () => {
    const rows = 70_000; // more than one slice of keys
    const ids = Array.from({ length: rows }, (_, i) => i * 7 + 1);
    const frame = frameFromColumns(schema, {
      id: ids,
      size: ids.map((id) => (id % 11 === 0 ? null : id / 3)),
      maker: ids.map((id) => (id % 5 === 0 ? null : `m${id % 4}`)),
      y: ids.map((id) => id % 2 === 0),
    });
    const whole = createHasher();
    whole.update(`rows ${rows}\n`);
    whole.update(`keys ${JSON.stringify(frame.keys)}\n`);
    const bytes = (array: Float64Array | Int32Array | Uint8Array) =>
      new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    for (const name of frame.columnNames) {
      const column = frame.column(name);
      whole.update(`column ${name} ${column.kind}\n`);
      if (column.kind === 'numeric') {
        whole.update(bytes(column.values));
        whole.update(bytes(column.nulls));
      } else {
        whole.update(`${JSON.stringify(column.dictionary)}\n`);
        whole.update(bytes(column.codes));
      }
    }
    whole.update(bytes(frame.target!));
    expect(frameHash(frame)).toBe(whole.digest('hex'));
  });
});

describe('ingest', () => {
  it('builds columns that hold exactly the rows read, reports a repeated key once, and snapshots them to Arrow', async () => {
    const store = EmbeddedStore.open(join(dir, 'store.db'));
    // The key field repeats under distinct _ids: a store filled by another writer can hold that.
    const documents = Array.from({ length: 3000 }, (_, i) => ({
      _id: i + 1,
      id: i === 2000 ? 17 : i + 1,
      size: i % 9 === 0 ? null : i / 4,
      maker: i % 13 === 0 ? null : `m${i % 3}`,
      y: i % 3 === 0,
    }));
    await store.collection('rows', { keyType: 'integer' }).insertMany(documents);
    const context = { runId: 'test', dir, logger: silentLogger(), progress: () => {} };
    const output = await ingestStep.run(context, { store, collection: 'rows', schema, batchSize: 500 });
    await store.close();
    expect(output.rowsRead).toBe(3000);
    expect(output.duplicateKeys.count).toBe(1);
    expect(output.duplicateKeys.examples[0].key).toBe(17);
    const { frame } = output;
    expect(frame.rows).toBe(2999);
    // The columns are sized once from the store's estimate (its 3,000 documents) and written once: each
    // is that one buffer, seen to the rows it holds, not chunks joined into a copy.
    const size = frame.numeric('size');
    expect(size.values.length).toBe(2999);
    expect(size.values.buffer.byteLength).toBe(3000 * 8);
    expect(frame.category('maker').codes.length).toBe(2999);
    expect(frame.category('maker').codes.buffer.byteLength).toBe(3000 * 4);

    const [file] = (await ingestStep.save!(output, dir)) as string[];
    const table = tableFromIPC(readFileSync(file));
    expect(table.numRows).toBe(2999);
    for (const row of [0, 9, 13, 2000, 2998]) {
      expect(table.getChild('id')!.get(row)).toBe(frame.keys![row]);
      expect(table.getChild('size')!.get(row)).toBe(frame.value('size', row));
      expect(table.getChild('maker')!.get(row)).toBe(frame.value('maker', row));
    }
  });

  it('fails with PW_DATA_EMPTY on a collection never written and on one emptied, before reading further', async () => {
    const store = EmbeddedStore.open(join(dir, 'empty.db'));
    const context = { runId: 'test', dir, logger: silentLogger(), progress: () => {} };
    const rows = store.collection('emptied', { keyType: 'integer' });
    await rows.insertMany([{ _id: 1, id: 1, size: 1, maker: 'a', y: true }]);
    await rows.deleteMany();
    for (const collection of ['never', 'emptied']) {
      await expect(
        ingestStep.run(context, { store, collection, schema, batchSize: 500 }),
      ).rejects.toMatchObject({ code: 'PW_DATA_EMPTY' });
    }
    await store.close();
  });

  it('reports progress as the share of the estimated rows read so far', async () => {
    const store = EmbeddedStore.open(join(dir, 'progress.db'));
    const documents = Array.from({ length: 40_000 }, (_, i) => ({
      _id: i + 1,
      id: i + 1,
      size: i / 4,
      maker: `m${i % 3}`,
      y: i % 3 === 0,
    }));
    await store.collection('rows', { keyType: 'integer' }).insertMany(documents);
    const seen: (number | undefined)[] = [];
    const context = {
      runId: 'test',
      dir,
      logger: silentLogger(),
      progress: (share: number | undefined) => seen.push(share),
    };
    const output = await ingestStep.run(context, { store, collection: 'rows', schema, batchSize: 500 });
    await store.close();
    expect(output.frame.rows).toBe(40_000);
    expect(seen.length).toBe(2);
    expect(seen[0]).toBeCloseTo(16_384 / 40_000, 9);
    expect(seen[1]).toBeCloseTo(32_768 / 40_000, 9);
  });
});
