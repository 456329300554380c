// A streaming CSV reader (RFC 4180 in any dialect: `,` `;` tab or `|`, quoted fields holding delimiters,
// quotes and newlines, LF or CRLF) that knows the line each record starts on, so that every problem can be
// reported at its line. Unquoted lines take a fast path (split on the delimiter); only lines with quotes
// are scanned character by character.
import { closeSync, openSync, readSync } from 'node:fs';
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { sniffDialect } from './dialect.js';
import type { CsvDialect, DataReader, RawRecord, ReadOptions } from './records.js';
import {
  MAX_RECORD_CHARS,
  OverLongLines,
  readTextChunks,
  statInput,
  type TextChunk,
  type TextFileInfo,
} from './text.js';

export interface CsvRow {
  line: number;
  fields: string[];
  /** Why the text is not a well-formed row (a quote never closed, text after a closing quote). */
  problem?: string;
  /** The row ended at the end of the file without a newline (a truncated file looks like this). */
  atEndWithoutNewline?: boolean;
}

/** Splits CSV text into rows as it arrives; call `feed` with each chunk and `final` on the last. */
export class CsvTokenizer {
  /** The line the pending text starts on. */
  private line = 1;
  private pending = '';
  private readonly overLong = new OverLongLines();

  /** Characters carried over to the next chunk: an unfinished record, never much past MAX_RECORD_CHARS. */
  get carried(): number {
    return this.pending.length;
  }
  readonly rows: CsvRow[] = [];
  private readonly delimiterCode: number;
  private readonly quoteCode: number;

  constructor(
    private readonly delimiter = ',',
    private readonly quote = '"',
  ) {
    this.delimiterCode = delimiter.charCodeAt(0);
    this.quoteCode = quote.charCodeAt(0);
  }

  feed(text: string, final: boolean): void {
    const resumed = this.overLong.resume(this.pending.length > 0 ? this.pending + text : text);
    this.pending = '';
    if (!resumed) return;
    const data = resumed.rest;
    if (resumed.ended) this.line++;
    const length = data.length;
    let position = 0;
    const quoteChar = this.quote;
    const delimiter = this.delimiter;
    let quote = data.indexOf(quoteChar);
    while (position < length) {
      let newline = data.indexOf('\n', position);
      if (quote !== -1 && quote < position) quote = data.indexOf(quoteChar, position);
      if (quote === -1 || (newline !== -1 && quote > newline)) {
        let atEnd = false;
        if (newline === -1) {
          if (!final && OverLongLines.over(length - position)) {
            this.rejectLongLine(data, position);
            position = length;
            break;
          }
          if (!final) break;
          newline = length;
          atEnd = true;
        }
        let end = newline;
        if (end > position && data.charCodeAt(end - 1) === 13) end--;
        if (end > position) {
          const row: CsvRow = { line: this.line, fields: data.slice(position, end).split(delimiter) };
          if (atEnd) row.atEndWithoutNewline = true;
          this.rows.push(row);
        }
        this.line++;
        position = newline + 1;
        continue;
      }
      let next = this.quotedRow(data, position, final);
      if (next < 0) {
        if (length - position <= MAX_RECORD_CHARS) break;
        next = this.rejectStrayQuote(data, position);
        if (next < 0) {
          this.rejectLongLine(data, position);
          position = length;
          break;
        }
      }
      position = next;
    }
    this.pending = position >= length ? '' : data.slice(position);
  }

  /**
   * A record from `start` that holds a quote and runs past MAX_RECORD_CHARS (see text.ts): its first
   * line is rejected as a stray quote, and the next line is read as a row of its own. Returns where that line starts, or
   * -1 when the first line itself has no end in sight.
   */
  private rejectStrayQuote(data: string, start: number): number {
    const newline = data.indexOf('\n', start);
    if (newline === -1) return -1;
    const end = newline > start && data.charCodeAt(newline - 1) === 13 ? newline - 1 : newline;
    this.rows.push({
      line: this.line,
      // the line as it is, kept to the size of a record
      fields: data.slice(start, Math.min(end, start + MAX_RECORD_CHARS)).split(this.delimiter),
      problem: `a quoted field opened on line ${this.line} does not close within ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters: a quote inside a field is not doubled as "", or a field starts with a stray quote (the lines after it are read as rows of their own)`,
    });
    this.line++;
    return newline + 1;
  }

  /** A line from `start` with no line break within MAX_RECORD_CHARS: reported once, then skipped to its end. */
  private rejectLongLine(data: string, start: number): void {
    const { shown, problem } = this.overLong.reject(data, start, this.line, 'a CSV file');
    this.rows.push({ line: this.line, fields: [shown], problem });
  }

  /** Reads one row that holds a quote, from `start`; returns where the next row starts, or -1 when more text is needed. */
  private quotedRow(data: string, start: number, final: boolean): number {
    const length = data.length;
    const delimiter = this.delimiterCode;
    const quote = this.quoteCode;
    const quoteChar = this.quote;
    const fields: string[] = [];
    let newlines = 0;
    let i = start;
    let problem: string | undefined;
    for (;;) {
      // at the start of a field
      if (i < length && data.charCodeAt(i) === quote) {
        const opened = this.line + newlines;
        let value = '';
        let from = i + 1;
        for (;;) {
          const close = data.indexOf(quoteChar, from);
          if (close === -1 || (close === length - 1 && !final)) {
            if (!final || length - start > MAX_RECORD_CHARS) return -1;
            // The file ends inside a quoted field: everything after the quote belongs to this broken row.
            value += data.slice(from);
            newlines += countNewlines(data, from, length);
            fields.push(value);
            this.rows.push({
              line: this.line,
              fields,
              problem: `a quoted field opened on line ${opened} is never closed (the file may be truncated, or a quote inside a field is not doubled as "")`,
              atEndWithoutNewline: true,
            });
            this.line += newlines + 1;
            return length;
          }
          value += data.slice(from, close);
          newlines += countNewlines(data, from, close);
          if (data.charCodeAt(close + 1) === quote) {
            value += quoteChar;
            from = close + 2;
            continue;
          }
          i = close + 1;
          break;
        }
        fields.push(value);
        if (i === length - 1 && data.charCodeAt(i) === 13 && !final) return -1;
        if (
          i < length &&
          data.charCodeAt(i) !== delimiter &&
          data.charCodeAt(i) !== 10 &&
          !(data.charCodeAt(i) === 13 && data.charCodeAt(i + 1) === 10)
        ) {
          problem ??= `column ${fields.length} has text after its closing quote (a quote inside a quoted field is written as "")`;
          // Keep the stray text so the rejected row shows it, up to the next delimiter.
          let end = i;
          while (end < length && data.charCodeAt(end) !== delimiter && data.charCodeAt(end) !== 10) end++;
          if (end === length && !final) return -1;
          fields[fields.length - 1] += data.slice(i, end).replace(/\r$/, '');
          i = end;
        }
      } else {
        let end = i;
        while (end < length) {
          const code = data.charCodeAt(end);
          if (code === delimiter || code === 10) break;
          end++;
        }
        if (end === length && !final) return -1;
        let fieldEnd = end;
        if (
          end < length &&
          data.charCodeAt(end) === 10 &&
          fieldEnd > i &&
          data.charCodeAt(fieldEnd - 1) === 13
        )
          fieldEnd--;
        fields.push(data.slice(i, fieldEnd));
        i = end;
      }
      // after a field: a comma, the end of the row, or the end of the file
      if (i >= length) {
        if (!final) return -1;
        this.rows.push({
          line: this.line,
          fields,
          ...(problem ? { problem } : {}),
          atEndWithoutNewline: true,
        });
        this.line += newlines + 1;
        return length;
      }
      const code = data.charCodeAt(i);
      if (code === delimiter) {
        i++;
        continue;
      }
      if (code === 13) i++;
      // a newline
      this.rows.push({ line: this.line, fields, ...(problem ? { problem } : {}) });
      this.line += newlines + 1;
      return i + 1;
    }
  }
}

function countNewlines(data: string, from: number, to: number): number {
  let count = 0;
  for (let at = data.indexOf('\n', from); at !== -1 && at < to; at = data.indexOf('\n', at + 1)) count++;
  return count;
}

const SNIFF_BYTES = 1 << 16;

/** The file's first bytes, for sniffing its dialect. */
function firstBytes(file: string, size: number): Uint8Array {
  const bytes = Buffer.alloc(Math.min(size, SNIFF_BYTES));
  const descriptor = openSync(file, 'r');
  try {
    const read = readSync(descriptor, bytes, 0, bytes.length, 0);
    return bytes.subarray(0, read);
  } finally {
    closeSync(descriptor);
  }
}

// `1.234,5` or `0,25`: a number written with a decimal comma (and points between thousands).
const DECIMAL_COMMA_NUMBER = /^\s*[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+\s*$/;

function withDecimalPoint(field: string): string {
  return DECIMAL_COMMA_NUMBER.test(field) ? field.replaceAll('.', '').replace(',', '.') : field;
}

/** Opens a CSV file, sniffs what `options` leaves unset and reads the header; the records follow through `batches`. */
export async function openCsvReader(file: string, options: ReadOptions = {}): Promise<DataReader> {
  const { size } = statInput(file);
  const shown = displayPath(file);
  const info: TextFileInfo = { file, size, bom: false };
  const set: Partial<CsvDialect> = {};
  for (const part of ['delimiter', 'quote', 'decimal', 'encoding', 'header'] as const)
    if (options[part] !== undefined) (set as Record<string, unknown>)[part] = options[part];
  const { dialect, sniffed } = sniffDialect(firstBytes(file, size), size <= SNIFF_BYTES, set);
  const chunks = readTextChunks(file, info, dialect.encoding);
  const tokenizer = new CsvTokenizer(dialect.delimiter, dialect.quote);
  const decimalComma = dialect.decimal === ',';
  let bytesRead = 0;
  let done = false;

  async function pull(): Promise<boolean> {
    if (done) return false;
    const next: IteratorResult<TextChunk> = await chunks.next();
    if (next.done) {
      tokenizer.feed('', true);
      done = true;
      return true;
    }
    bytesRead = next.value.bytesRead;
    tokenizer.feed(next.value.text, false);
    return true;
  }

  while (tokenizer.rows.length === 0 && (await pull()));
  const headerRow = dialect.header ? tokenizer.rows.shift() : tokenizer.rows[0];
  if (!headerRow) {
    await chunks.return(undefined);
    throw new errors.PW_FILE_INVALID(
      `${shown}:1: the file is empty${size > 0 ? ' (only blank lines)' : ''}; a CSV file needs a header line and rows`,
      {
        where: `${shown}:1`,
        hint: 'Check that the right file was named; a CSV file starts with a header line naming the columns.',
      },
    );
  }
  const columns = dialect.header
    ? headerRow.fields.map((name) => name.trim())
    : headerRow.fields.map((_, index) => `column_${index + 1}`);
  if (headerRow.problem && dialect.header) {
    await chunks.return(undefined);
    throw new errors.PW_FILE_INVALID(
      `${shown}:${headerRow.line}: the header is not valid CSV: ${headerRow.problem}`,
      {
        where: `${shown}:${headerRow.line}`,
      },
    );
  }
  const columnCount = columns.length;

  return {
    format: 'csv',
    file,
    info,
    dialect,
    sniffed,
    columns,
    columnsLine: headerRow.line,
    get bytesRead() {
      return bytesRead;
    },
    async *batches(batchRows: number): AsyncGenerator<RawRecord[]> {
      let batch: RawRecord[] = [];
      for (;;) {
        const rows = tokenizer.rows;
        for (let r = 0; r < rows.length; r++) {
          const row = rows[r];
          const fields = row.fields;
          const values: Record<string, unknown> = {};
          const shared = Math.min(fields.length, columnCount);
          if (decimalComma) for (let i = 0; i < shared; i++) values[columns[i]] = withDecimalPoint(fields[i]);
          else for (let i = 0; i < shared; i++) values[columns[i]] = fields[i];
          const record: RawRecord = { line: row.line, values };
          if (row.problem) record.problem = row.problem;
          else if (fields.length !== columnCount) {
            if (fields.length > columnCount) values._extra = fields.slice(columnCount);
            record.problem =
              fields.length < columnCount && row.atEndWithoutNewline
                ? `the last line ends early: it has ${fields.length} of the ${columnCount} columns and no newline (the file may be truncated)`
                : `has ${fields.length} fields but the header has ${columnCount} columns`;
          }
          batch.push(record);
          if (batch.length >= batchRows) {
            yield batch;
            batch = [];
          }
        }
        rows.length = 0;
        if (!(await pull())) break;
      }
      if (batch.length > 0) yield batch;
    },
    async close() {
      await chunks.return(undefined);
    },
  };
}
