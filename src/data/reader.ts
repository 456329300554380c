// Opens a CSV or JSONL file as a stream of raw records, choosing the reader by the format given or by
// the file's extension. Push, predict and schema inference all read their files through here.
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';
import { openCsvReader } from './csv.js';
import { openJsonlReader } from './jsonl.js';
import type { DataFormat, DataReader } from './records.js';
import { statInput } from './text.js';

/** Whether the input looks like JSON Lines rather than CSV, from its extension. */
export function formatFromExtension(file: string): 'csv' | 'jsonl' | undefined {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv') || lower.endsWith('.txt')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  return undefined;
}

export async function openReader(file: string, format?: DataFormat): Promise<DataReader> {
  statInput(file);
  const chosen = format ?? formatFromExtension(file);
  if (!chosen) {
    throw new errors.PW_USAGE(`Cannot tell the format of ${displayPath(file)} from its extension`, {
      hint: 'Pass --format csv or --format jsonl.',
    });
  }
  return chosen === 'csv' ? openCsvReader(file) : openJsonlReader(file);
}
