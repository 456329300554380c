// Reads the first sheet of an Excel workbook (or the one named) row by row with exceljs's streaming
// reader: the first row names the columns, and every record carries its sheet row number.
import ExcelJS from 'exceljs';
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { cellValue } from './cells.js';
import type { DataReader, RawRecord, ReadOptions } from './records.js';
import { statInput, type TextFileInfo } from './text.js';

interface SheetRow {
  number: number;
  values: unknown[];
}

export async function openXlsxReader(file: string, options: ReadOptions = {}): Promise<DataReader> {
  const { size } = statInput(file);
  const shown = displayPath(file);
  const info: TextFileInfo = { file, size, bom: false };
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(file, {
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    worksheets: 'emit',
    entries: 'emit',
  });
  const sheets = workbook[Symbol.asyncIterator]();
  let rows: AsyncIterator<SheetRow> | undefined;
  const seen: string[] = [];
  try {
    for (;;) {
      const next = await sheets.next();
      if (next.done) break;
      const sheet = next.value as unknown as { name?: string } & AsyncIterable<SheetRow>;
      const name = sheet.name ?? '';
      seen.push(name);
      if (options.sheet === undefined || options.sheet === name) {
        rows = sheet[Symbol.asyncIterator]();
        break;
      }
      // The stream must be drained to reach the next sheet.
      for await (const _ of sheet) void _;
    }
  } catch (cause) {
    throw new errors.PW_FILE_INVALID(`${shown}: not a readable .xlsx workbook: ${(cause as Error).message}`, {
      cause,
      where: shown,
      hint: 'Save it from the spreadsheet as Excel 2007-365 (.xlsx); older .xls files are not read.',
    });
  }
  if (!rows) {
    throw new errors.PW_USAGE(
      `${shown}: ${options.sheet === undefined ? 'the workbook has no sheet' : `no sheet named "${options.sheet}"`}`,
      {
        where: shown,
        hint: seen.length ? `Its sheets: ${seen.join(', ')}.` : 'Check that the right file was named.',
        details: { option: 'sheet', value: options.sheet },
      },
    );
  }
  const sheetRows = rows;
  let header: SheetRow | undefined;
  for (;;) {
    const next = await sheetRows.next();
    if (next.done) break;
    if (next.value.values.some((value) => cellValue(value) !== null && cellValue(value) !== '')) {
      header = next.value;
      break;
    }
  }
  if (!header) {
    throw new errors.PW_FILE_INVALID(`${shown}: the sheet is empty; it needs a header row and rows`, {
      where: shown,
      hint: 'Name the sheet that holds the table with --sheet.',
    });
  }
  // exceljs numbers cells from 1; index 0 is always empty.
  const headerValues = header.values;
  const positions: number[] = [];
  const columns: string[] = [];
  for (let i = 1; i < headerValues.length; i++) {
    const name = cellValue(headerValues[i]);
    if (name === null || name === '') continue;
    positions.push(i);
    columns.push(String(name instanceof Date ? name.toISOString() : name).trim());
  }
  let rowsRead = 0;
  return {
    format: 'xlsx',
    file,
    info,
    columns,
    columnsLine: header.number,
    get bytesRead() {
      // exceljs does not say how far into the zip it is: estimate from rows until the end.
      return Math.min(size, rowsRead * 64);
    },
    async *batches(batchRows: number): AsyncGenerator<RawRecord[]> {
      let batch: RawRecord[] = [];
      for (;;) {
        const next = await sheetRows.next();
        if (next.done) break;
        const row = next.value;
        const values: Record<string, unknown> = {};
        let filled = false;
        for (let c = 0; c < columns.length; c++) {
          const value = cellValue(row.values[positions[c]]);
          values[columns[c]] = value;
          if (value !== null && value !== '') filled = true;
        }
        // A blank row between rows is skipped, as a blank line in a CSV file is.
        if (!filled) continue;
        rowsRead++;
        batch.push({ line: row.number, values });
        if (batch.length >= batchRows) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
    async close() {
      await sheetRows.return?.();
      await sheets.return?.(undefined);
    },
  };
}
