// Opens a CSV, JSONL, Excel (.xlsx) or Parquet file as a stream of raw records, choosing the reader by
// the format given or by the file's extension. Push, predict and schema inference all read files here.
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { openCsvReader } from './csv.js';
import { openJsonlReader } from './jsonl.js';
import type { DataFormat, DataReader, ReadOptions } from './records.js';
import { statInput } from './text.js';

/** Whether the input looks like JSON Lines rather than CSV, from its extension. */
export function formatFromExtension(file: string): DataFormat | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.xlsx') || lower.endsWith('.xlsm')) return 'xlsx';
  if (lower.endsWith('.parquet') || lower.endsWith('.pq')) return 'parquet';
  if (lower.endsWith('.tsv') || lower.endsWith('.tab')) return 'csv';
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return undefined;
}

export const DATA_FORMATS: readonly DataFormat[] = ['csv', 'jsonl', 'xlsx', 'parquet'];

/** Opens `file`; `options` names the format and the CSV dialect or sheet (what it leaves unset is sniffed). */
export async function openReader(file: string, options: ReadOptions | DataFormat = {}): Promise<DataReader> {
  const settings = typeof options === 'string' ? { format: options } : options;
  statInput(file);
  const chosen = settings.format ?? formatFromExtension(file);
  if (!chosen) {
    throw new errors.PW_USAGE(`Cannot tell the format of ${displayPath(file)} from its extension`, {
      hint: 'Pass --format csv, jsonl, xlsx or parquet.',
    });
  }
  switch (chosen) {
    case 'csv':
      return openCsvReader(file, settings);
    case 'jsonl':
      return openJsonlReader(file);
    case 'xlsx':
      // Loaded on use: the Excel and Parquet libraries are large and most files are CSV.
      return (await import('./xlsx.js')).openXlsxReader(file, settings);
    case 'parquet':
      return (await import('./parquet.js')).openParquetReader(file);
  }
}
