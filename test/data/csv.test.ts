// The streaming CSV reader on real files: quoting, line endings, byte-order marks, encodings, and
// the line number of every record and every problem.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { CsvTokenizer, openCsvReader } from '../../src/data/csv.js';
import { MAX_RECORD_CHARS } from '../../src/data/text.js';
import type { RawRecord, ReadOptions } from '../../src/data/records.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Uint8Array, extension = 'csv'): string {
  const path = join(dir, `input-${++counter}.${extension}`);
  writeFileSync(path, content);
  return path;
}

async function readAll(
  path: string,
  batchRows = 1000,
  options: ReadOptions = {},
): Promise<{ columns: string[]; records: RawRecord[]; bom: boolean }> {
  const reader = await openCsvReader(path, options);
  const records: RawRecord[] = [];
  try {
    for await (const batch of reader.batches(batchRows)) records.push(...batch);
  } finally {
    await reader.close();
  }
  return { columns: reader.columns, records, bom: reader.info.bom };
}

async function failure(path: string, options: ReadOptions = {}): Promise<PipewrightError> {
  try {
    await readAll(path, 1000, options);
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the read to fail');
}

describe('CsvTokenizer', () => {
  const text = 'a,b,c\r\n1,"x, y",3\r\n\r\n"multi\nline ""quoted""",,\n4,5,6';

  function tokenize(chunks: string[]) {
    const tokenizer = new CsvTokenizer();
    chunks.forEach((chunk, index) => tokenizer.feed(chunk, index === chunks.length - 1));
    return tokenizer.rows;
  }

  it('splits quoted fields with commas, doubled quotes and newlines, numbering each row by its first line', () => {
    expect(tokenize([text])).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1', 'x, y', '3'] },
      { line: 4, fields: ['multi\nline "quoted"', '', ''] },
      { line: 6, fields: ['4', '5', '6'], atEndWithoutNewline: true },
    ]);
  });

  it('gives the same rows whatever the chunk boundaries, even one character at a time', () => {
    const whole = tokenize([text]);
    expect(tokenize([...text, ''])).toEqual(whole);
    for (let cut = 1; cut < text.length; cut++) {
      expect(tokenize([text.slice(0, cut), text.slice(cut)])).toEqual(whole);
    }
  });

  it('reports a quoted field that is never closed at the line it opened', () => {
    const rows = tokenize(['a,b\n1,2\n3,"unfinished\nstill going\n']);
    expect(rows[2]).toMatchObject({
      line: 3,
      problem: expect.stringContaining('opened on line 3 is never closed'),
    });
  });

  describe('a record with no end in sight', () => {
    /** Rows `id,value,text` numbered from 1, about 30 characters each, enough to pass MAX_RECORD_CHARS. */
    const ROWS = Math.ceil((MAX_RECORD_CHARS * 1.3) / 30);
    const rowText = (id: number) => `${id},${(id * 7919) % 100_000},text for row ${id}`;
    /** The rows, checking after every chunk that what is carried over stays within a record's bound. */
    function feedInChunks(text: string, chunk: number) {
      const tokenizer = new CsvTokenizer();
      let most = 0;
      for (let at = 0; at < text.length; at += chunk) {
        tokenizer.feed(text.slice(at, at + chunk), at + chunk >= text.length);
        most = Math.max(most, tokenizer.carried);
      }
      expect(most).toBeLessThanOrEqual(MAX_RECORD_CHARS + chunk);
      return tokenizer.rows;
    }

    it('rejects a stray quote at its line once its record passes MAX_RECORD_CHARS, and reads every line after it as a row', () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 40 }),
          fc.integer({ min: 0, max: 2 }),
          fc.integer({ min: 1 << 14, max: 1 << 18 }),
          (strayRow, column, chunk) => {
            const lines = ['id,value,text'];
            for (let id = 1; id <= ROWS; id++) {
              const fields = rowText(id).split(',');
              if (id === strayRow) fields[column] = `"${fields[column]}`;
              lines.push(fields.join(','));
            }
            const rows = feedInChunks(`${lines.join('\n')}\n`, chunk);
            expect(rows).toHaveLength(ROWS + 1);
            const stray = rows[strayRow];
            expect(stray.line).toBe(strayRow + 1);
            expect(stray.problem).toContain(`opened on line ${strayRow + 1} does not close within`);
            // every other row as written, at its own line (checked in one pass: thousands of rows)
            const wrong = rows.filter(
              (row, id) =>
                id > 0 &&
                id !== strayRow &&
                (row.problem !== undefined || row.line !== id + 1 || row.fields.join(',') !== rowText(id)),
            );
            expect(wrong).toEqual([]);
          },
        ),
        { numRuns: 12 },
      );
    });

    it('keeps the old reading of a quote left open near the end of the file: the rest is one broken row', () => {
      const rows = feedInChunks(`id,text\n1,"open\n${'2,fine\n'.repeat(1000)}`, 1 << 14);
      expect(rows).toHaveLength(2);
      expect(rows[1]).toMatchObject({ line: 2, problem: expect.stringContaining('is never closed') });
    });

    it('rejects a line with no line break within MAX_RECORD_CHARS, skips it to its end and reads on', () => {
      const long = 'x'.repeat(MAX_RECORD_CHARS * 3);
      for (const ending of ['', '\n3,after\n']) {
        const rows = feedInChunks(`id,text\n1,before\n${long}${ending}`, 1 << 16);
        expect(rows.slice(0, 2)).toEqual([
          { line: 1, fields: ['id', 'text'] },
          { line: 2, fields: ['1', 'before'] },
        ]);
        expect(rows[2].line).toBe(3);
        expect(rows[2].problem).toContain('without a line break');
        expect(rows[2].fields[0].length).toBeLessThan(1000);
        if (ending === '') expect(rows).toHaveLength(3);
        else expect(rows.slice(3)).toEqual([{ line: 4, fields: ['3', 'after'] }]);
      }
    });
  });

  it('reports text after a closing quote', () => {
    const rows = tokenize(['a,b\n"x"y,2\n3,4\n']);
    expect(rows[1]).toMatchObject({
      line: 2,
      fields: ['xy', '2'],
      problem: expect.stringContaining('column 1 has text after its closing quote'),
    });
    expect(rows[2]).toEqual({ line: 3, fields: ['3', '4'] });
  });
});

describe('openCsvReader', () => {
  it('reads the header and maps each row to the column names, with line numbers', async () => {
    const { columns, records } = await readAll(file('id,name,score\n1,ann,2.5\n2,"bob, jr",3\n'));
    expect(columns).toEqual(['id', 'name', 'score']);
    expect(records).toEqual([
      { line: 2, values: { id: '1', name: 'ann', score: '2.5' } },
      { line: 3, values: { id: '2', name: 'bob, jr', score: '3' } },
    ]);
  });

  it('drops a UTF-8 byte-order mark and reads CRLF line endings', async () => {
    const { columns, records, bom } = await readAll(file('\uFEFFid,name\r\n1,ann\r\n2,bob\r\n'));
    expect(bom).toBe(true);
    expect(columns).toEqual(['id', 'name']);
    expect(records.map((record) => record.values)).toEqual([
      { id: '1', name: 'ann' },
      { id: '2', name: 'bob' },
    ]);
  });

  it('keeps line numbers right after fields spanning lines and blank lines', async () => {
    const { records } = await readAll(file('id,note\n1,"one\ntwo\nthree"\n\n2,plain\n'));
    expect(records.map((record) => [record.line, record.values.note])).toEqual([
      [2, 'one\ntwo\nthree'],
      [6, 'plain'],
    ]);
  });

  it('flags a row with too many or too few fields, naming the counts', async () => {
    const { records } = await readAll(file('a,b,c\n1,2,3\n1,2\n1,2,3,4\n'));
    expect(records[1]).toMatchObject({
      line: 3,
      problem: 'has 2 fields but the header has 3 columns',
      values: { a: '1', b: '2' },
    });
    expect(records[2]).toMatchObject({
      line: 4,
      problem: 'has 4 fields but the header has 3 columns',
      values: { a: '1', b: '2', c: '3', _extra: ['4'] },
    });
  });

  it('flags a truncated last line as such', async () => {
    const { records } = await readAll(file('a,b,c\n1,2,3\n4,5'));
    expect(records).toHaveLength(2);
    expect(records[1]).toMatchObject({
      line: 3,
      problem: expect.stringContaining('the last line ends early: it has 2 of the 3 columns'),
    });
  });

  it('reads a last line without a newline when it is complete', async () => {
    const { records } = await readAll(file('a,b\n1,2\n3,4'));
    expect(records.map((record) => record.problem)).toEqual([undefined, undefined]);
    expect(records[1].values).toEqual({ a: '3', b: '4' });
  });

  it('streams a file larger than one read chunk in batches, without losing or splitting rows', async () => {
    const lines = ['id,text'];
    for (let i = 1; i <= 30_000; i++)
      lines.push(i % 1000 === 0 ? `${i},"quoted, with\nnewline ${i}"` : `${i},row ${i} ${'x'.repeat(20)}`);
    const { records } = await readAll(file(`${lines.join('\n')}\n`), 777);
    expect(records).toHaveLength(30_000);
    expect(records.every((record, index) => record.values.id === String(index + 1) && !record.problem)).toBe(
      true,
    );
    expect(records[999]).toEqual({ line: 1001, values: { id: '1000', text: 'quoted, with\nnewline 1000' } });
    expect(records[1000].line).toBe(1003);
    expect(records[29_999].line).toBe(30_001 + 29);
  });

  it('fails on an empty file with PW_FILE_INVALID at line 1', async () => {
    const empty = file('');
    const error = await failure(empty);
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.where).toMatch(/input-\d+\.csv:1$/);
    expect(error.message).toContain('the file is empty');
    expect((await failure(file('\n\r\n\n'))).message).toContain('only blank lines');
  });

  it('fails on a missing file with PW_FILE_NOT_FOUND', async () => {
    const error = await failure(join(dir, 'nope.csv'));
    expect(error.code).toBe('PW_FILE_NOT_FOUND');
    expect(error.message).toContain('nope.csv does not exist');
  });

  it('fails on bytes that are not UTF-8 when UTF-8 is set, naming the line and the byte', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,city\n1,Paris\n2,'),
      Buffer.from([0x4d, 0xfc, 0x6e]),
      Buffer.from('chen\n3,Lyon\n'),
    ]);
    const read = await readAll(file(latin1));
    expect(read.records[1].values.city).toBe('M\u00fcnchen');
    const error = await failure(file(latin1), { encoding: 'utf-8' });
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.where).toMatch(/:3$/);
    expect(error.message).toContain('0xFC at byte 19');
    expect(error.hint).toContain('UTF-8');
  });

  it('finds bad bytes far into a large file at the right line', async () => {
    const rows = ['id,text'];
    for (let i = 1; i <= 40_000; i++) rows.push(`${i},caf\u00e9 row ${i}`);
    const good = Buffer.from(`${rows.join('\n')}\n`);
    const bad = Buffer.concat([good, Buffer.from('40001,'), Buffer.from([0xe9]), Buffer.from('\n')]);
    const error = await failure(file(bad));
    expect(error.where).toMatch(/:40002$/);
  });

  it('reads a UTF-16 file by its byte-order mark, and refuses it when UTF-8 is set, saying so', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('id,name\n1,\u00e9a\n', 'utf16le')]);
    const read = await readAll(file(utf16));
    expect(read.columns).toEqual(['id', 'name']);
    expect(read.records).toEqual([{ line: 2, values: { id: '1', name: '\u00e9a' } }]);
    const error = await failure(file(utf16), { encoding: 'utf-8' });
    expect(error.code).toBe('PW_FILE_INVALID');
    expect(error.message).toContain('UTF-16');
  });
});
