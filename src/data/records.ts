// What the file readers hand to push: raw records with the line they start on, in batches, or the
// reason a line could not be read as a record.
import type { TextFileInfo } from './text.js';

export type DataFormat = 'csv' | 'jsonl' | 'xlsx' | 'parquet';

/** How a CSV file is written; each part is sniffed from the first rows unless set. */
export interface CsvDialect {
  delimiter: string;
  quote: string;
  /** The decimal separator of numbers: `,` in many European locales (then `1.234,5` reads as 1234.5). */
  decimal: '.' | ',';
  /** A TextDecoder label: utf-8, utf-16le, utf-16be, windows-1252 (Latin-1)... */
  encoding: string;
  /** Whether the first row names the columns (without one they are column_1, column_2...). */
  header: boolean;
}

/** What the user set for reading a file (flags or the `input` section of pipewright.yaml). */
export interface ReadOptions extends Partial<CsvDialect> {
  format?: DataFormat;
  /** The Excel sheet to read (default: the first). */
  sheet?: string;
}

export interface RawRecord {
  /** The line of the file the record starts on (1-based; the CSV header is line 1); the sheet row, or the Parquet row. */
  line: number;
  /** The values by column name: strings from CSV, JSON values from JSONL. */
  values: Record<string, unknown>;
  /** Why the line is not a well-formed record (wrong number of fields, invalid JSON...). */
  problem?: string;
}

export interface DataReader {
  readonly format: DataFormat;
  readonly file: string;
  readonly info: TextFileInfo;
  /** The column names and the line they are on: the CSV header, or the keys of the first JSONL record. */
  readonly columns: string[];
  readonly columnsLine: number;
  /** The CSV dialect read with, and which of its parts were sniffed rather than set. */
  readonly dialect?: CsvDialect;
  readonly sniffed?: (keyof CsvDialect)[];
  /** Bytes read so far, for progress. */
  readonly bytesRead: number;
  /** The records after the header, `batchRows` at a time. */
  batches(batchRows: number): AsyncGenerator<RawRecord[]>;
  close(): Promise<void>;
}
