// Reading files as people have them: CSV dialects sniffed or set (delimiter, quote, decimal comma,
// header, encoding), Excel sheets by name, Parquet row groups, and the line or row of every record.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { PipewrightError } from '../../src/core/errors.js';
import { sniffDialect } from '../../src/data/dialect.js';
import { openReader } from '../../src/data/reader.js';
import type { DataReader, RawRecord, ReadOptions } from '../../src/data/records.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-readers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
function file(content: string | Uint8Array, extension = 'csv'): string {
  const path = join(dir, `input-${++counter}.${extension}`);
  writeFileSync(path, content);
  return path;
}

async function readAll(
  path: string,
  options: ReadOptions = {},
): Promise<{ reader: DataReader; records: RawRecord[] }> {
  const reader = await openReader(path, options);
  const records: RawRecord[] = [];
  try {
    for await (const batch of reader.batches(7)) records.push(...batch);
  } finally {
    await reader.close();
  }
  return { reader, records };
}

async function failure(path: string, options: ReadOptions = {}): Promise<PipewrightError> {
  try {
    await readAll(path, options);
  } catch (error) {
    return error as PipewrightError;
  }
  throw new Error('expected the read to fail');
}

const DELIMITERS = [',', ';', '\t', '|'];

/** A cell as a CSV writer quotes it: when it holds a delimiter, a quote or a newline. */
function quoted(cell: string): string {
  return /[,;\t|"\n\r]/.test(cell) || cell.trim() !== cell ? `"${cell.replaceAll('"', '""')}"` : cell;
}

describe('CSV dialects', () => {
  it('sniffs the delimiter of any table and reads every field back exactly', async () => {
    const cell = fc
      .string({
        unit: fc.constantFrom('a', 'b', 'Z', 'é', '1', '2', ' ', '"', ',', ';', '\t', '|', '\n', '.'),
        maxLength: 8,
      })
      // A bare number with a comma reads as a decimal comma under a semicolon: not text to round-trip.
      .filter((text) => !/^\s*[+-]?\d+,\d+\s*$/.test(text) && text.trim() !== '');
    const table = fc.integer({ min: 2, max: 5 }).chain((columns) =>
      fc.tuple(
        fc.constantFrom(...DELIMITERS),
        fc.uniqueArray(fc.stringMatching(/^[A-Za-z][a-z_]{0,6}$/), {
          minLength: columns,
          maxLength: columns,
        }),
        fc.array(fc.array(cell, { minLength: columns, maxLength: columns }), {
          minLength: 1,
          maxLength: 12,
        }),
        fc.boolean(),
      ),
    );
    await fc.assert(
      fc.asyncProperty(table, async ([delimiter, header, rows, crlf]) => {
        const newline = crlf ? '\r\n' : '\n';
        const text = [header, ...rows].map((row) => row.map(quoted).join(delimiter)).join(newline) + newline;
        const { reader, records } = await readAll(file(text));
        expect(reader.dialect?.delimiter).toBe(delimiter);
        expect(reader.columns).toEqual(header);
        expect(records.map((record) => header.map((name) => record.values[name]))).toEqual(
          // CRLF inside a quoted field stays as written.
          rows,
        );
      }),
      { numRuns: 120 },
    );
  });

  it('reads decimal commas as numbers, keeps the line of each record, and obeys what is set over what is sniffed', async () => {
    const path = file('\uFEFFid;amount;note\r\n1;1.234,50;"two\r\nlines"\r\n2;0,25;x\r\n3;7;"a;b"\r\n');
    const { reader, records } = await readAll(path);
    expect(reader.dialect).toEqual({
      delimiter: ';',
      quote: '"',
      decimal: ',',
      encoding: 'utf-8',
      header: true,
    });
    expect(reader.sniffed).toEqual(['encoding', 'quote', 'delimiter', 'decimal', 'header']);
    expect(records.map((record) => [record.line, record.values.amount])).toEqual([
      [2, '1234.50'],
      [4, '0.25'],
      [5, '7'],
    ]);
    const set = await readAll(path, { decimal: '.' });
    expect(set.records[1].values.amount).toBe('0,25');
    expect(set.reader.sniffed).not.toContain('decimal');
  });

  it('names the columns of a file without a header row, and reads a header when told to', async () => {
    const path = file('1|2.5|7\n2|3.5|8\n');
    const { reader, records } = await readAll(path);
    expect(reader.columns).toEqual(['column_1', 'column_2', 'column_3']);
    expect(records[0]).toEqual({ line: 1, values: { column_1: '1', column_2: '2.5', column_3: '7' } });
    // Columns named by numbers (years) above numeric rows still make a header when one name is text.
    const years = await readAll(file('region,2019,2020\nnorth,5,6\n'));
    expect(years.reader.columns).toEqual(['region', '2019', '2020']);
    const told = await readAll(path, { header: true });
    expect(told.reader.columns).toEqual(['1', '2.5', '7']);
  });

  it('reads a Latin-1 file by sniffing, and refuses an encoding it does not know', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,city\n1,'),
      Buffer.from([0x4d, 0xe4, 0x6c, 0x61]),
      Buffer.from('\n'),
    ]);
    const { reader, records } = await readAll(file(latin1));
    expect(reader.dialect?.encoding).toBe('windows-1252');
    expect(records[0].values.city).toBe('M\u00e4la');
    expect((await failure(file(latin1), { encoding: 'klingon' })).code).toBe('PW_USAGE');
  });

  it('sniffs a single quote only when no double quote is used', () => {
    const sample = Buffer.from("id,name\n1,'a,b'\n2,'c'\n");
    expect(sniffDialect(sample, true).dialect.quote).toBe("'");
    expect(sniffDialect(Buffer.from('id,name\n1,"it\'s"\n'), true).dialect.quote).toBe('"');
  });
});

describe('Excel and Parquet', () => {
  it('reads the sheet named, skipping blank rows, each record at its sheet row', async () => {
    const { default: ExcelJS } = await import('exceljs');
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('Notes').addRow(['not the table']);
    const sheet = workbook.addWorksheet('Data');
    sheet.addRow(['id', 'when', 'amount']);
    sheet.addRow([1, new Date(Date.UTC(2021, 4, 12)), 2.5]);
    sheet.addRow([]);
    sheet.addRow([2, '12/05/2021', { formula: '1+1', result: 2 }]);
    const path = join(dir, 'book.xlsx');
    await workbook.xlsx.writeFile(path);
    const { reader, records } = await readAll(path, { sheet: 'Data' });
    expect(reader.columns).toEqual(['id', 'when', 'amount']);
    expect(records).toEqual([
      { line: 2, values: { id: 1, when: new Date(Date.UTC(2021, 4, 12)), amount: 2.5 } },
      { line: 4, values: { id: 2, when: '12/05/2021', amount: 2 } },
    ]);
    const first = await readAll(path);
    expect(first.reader.columns).toEqual(['not the table']);
    const missing = await failure(path, { sheet: 'Nope' });
    expect(missing.code).toBe('PW_USAGE');
    expect(missing.hint).toContain('Notes, Data');
  });

  it('reads every Parquet row group, numbering rows from 1, with 64-bit integers and dates as values', async () => {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const connection = await (await DuckDBInstance.create(':memory:')).connect();
    const path = join(dir, 'rows.parquet');
    await connection.run(
      `COPY (SELECT i::BIGINT AS id, DATE '2021-01-01' + i::INTEGER AS day, 'r' || i AS name FROM range(1, 251) t(i))
       TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 100)`,
    );
    connection.closeSync();
    const { reader, records } = await readAll(path);
    expect(reader.columns).toEqual(['id', 'day', 'name']);
    expect(records).toHaveLength(250);
    expect(records.map((record) => record.line)).toEqual(records.map((_, i) => i + 1));
    expect(records[249].values).toEqual({ id: 250, day: new Date(Date.UTC(2021, 8, 8)), name: 'r250' });
  });
});
