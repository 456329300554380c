// What the file readers hand to push: raw records with the line they start on, in batches, or the
// reason a line could not be read as a record.
import type { TextFileInfo } from './text.js';

export type DataFormat = 'csv' | 'jsonl';

export interface RawRecord {
  /** The line of the file the record starts on (1-based; the CSV header is line 1). */
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
  /** Bytes read so far, for progress. */
  readonly bytesRead: number;
  /** The records after the header, `batchRows` at a time. */
  batches(batchRows: number): AsyncGenerator<RawRecord[]>;
  close(): Promise<void>;
}
