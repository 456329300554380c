// The streaming JSON Lines reader on real files: one object a line, with every bad line reported at
// its line number instead of stopping the read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { openJsonlReader } from '../../src/data/jsonl.js';
import { MAX_RECORD_CHARS } from '../../src/data/text.js';
import type { RawRecord } from '../../src/data/records.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Uint8Array): string {
  const path = join(dir, `input-${++counter}.jsonl`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string): Promise<{ columns: string[]; records: RawRecord[] }> {
  const reader = await openJsonlReader(path);
  const records: RawRecord[] = [];
  for await (const batch of reader.batches(2)) records.push(...batch);
  await reader.close();
  return { columns: reader.columns, records };
}

describe('openJsonlReader', () => {
  it('reads one object a line with its line number, skipping blank lines and CRLF', async () => {
    const { columns, records } = await readAll(
      file('\uFEFF{"id":1,"name":"ann"}\r\n\r\n{"id":2,"name":"bob","extra":true}\r\n{"id":3}'),
    );
    expect(columns).toEqual(['id', 'name']);
    expect(records).toEqual([
      { line: 1, values: { id: 1, name: 'ann' } },
      { line: 3, values: { id: 2, name: 'bob', extra: true } },
      { line: 4, values: { id: 3 } },
    ]);
  });

  it('reports a line that is not JSON, or not an object, and keeps reading', async () => {
    const { records } = await readAll(file('{"id":1}\n{"id":2,\n[1,2]\n42\n{"id":5}\n'));
    expect(records.map((record) => [record.line, record.problem?.split(':')[0]])).toEqual([
      [1, undefined],
      [2, 'is not valid JSON'],
      [3, 'is an array, not a JSON object'],
      [4, 'is number, not a JSON object'],
      [5, undefined],
    ]);
    expect(records[1].values).toEqual({ _text: '{"id":2,' });
  });

  it('rejects a line with no line break within MAX_RECORD_CHARS, skips it to its end and reads on', async () => {
    // a whole JSON array on one line, as a .json export renamed .jsonl would be
    const long = `[${'{"id":0},'.repeat(Math.ceil((MAX_RECORD_CHARS * 2.5) / 9))}{"id":0}]`;
    for (const ending of ['', '\n{"id":3}\n']) {
      const { records } = await readAll(file(`{"id":1}\n${long}${ending}`));
      expect(records[0]).toEqual({ line: 1, values: { id: 1 } });
      expect(records[1].line).toBe(2);
      expect(records[1].problem).toContain('without a line break');
      expect(String(records[1].values._text).length).toBeLessThan(1000);
      expect(records.slice(2)).toEqual(ending === '' ? [] : [{ line: 3, values: { id: 3 } }]);
    }
  });

  it('says a broken last line without a newline looks truncated', async () => {
    const { records } = await readAll(file('{"id":1}\n{"id":2,"na'));
    expect(records[1]).toMatchObject({
      line: 2,
      problem: expect.stringContaining('the last line is not complete JSON and has no newline'),
    });
  });

  it('fails on an empty file and on a missing one', async () => {
    await expect(openJsonlReader(file(''))).rejects.toMatchObject({
      code: 'PW_FILE_INVALID',
      where: expect.stringMatching(/:1$/),
    });
    const error = (await openJsonlReader(join(dir, 'missing.jsonl')).catch(
      (caught) => caught,
    )) as PipewrightError;
    expect(error.code).toBe('PW_FILE_NOT_FOUND');
  });
});
