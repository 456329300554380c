// CSV in and out for POST /predict: a body with a header row becomes raw records (each with the line it
// ends on, for error messages), and predictions go back as CSV with the key when the input had one.
import { parse } from 'csv-parse/sync';
import { errors } from '../core/errors.js';

/**
 * A body sent as text/csv. The content type alone decides the parser: a JSON string is never read as
 * CSV, so the CSV body parser hands this wrapper on instead of the bare text.
 */
export class CsvBody {
  constructor(readonly text: string) {}
}

export interface CsvRecords {
  records: Record<string, string>[];
  /** The line each record ends on, from 1 (the header is line 1). */
  lines: number[];
  columns: string[];
}

const CSV_HINT = 'Send a CSV file with a header row naming the fields, one record a line.';

/**
 * Refuses a body that is not CSV with PW_REQUEST_INVALID, naming the line where one is known. Reading
 * stops after `maxRecords` records: a body with more is not read (or built into rows) any further, and
 * the caller sees `maxRecords` records plus one.
 */
export function parseCsvRecords(text: string, maxRecords = Number.MAX_SAFE_INTEGER - 1): CsvRecords {
  let parsed: {
    record: Record<string, string>;
    info: { lines: number; columns?: { name: string }[] | boolean };
  }[];
  try {
    parsed = parse(text, {
      columns: true,
      info: true,
      bom: true,
      skip_empty_lines: true,
      trim: false,
      to: maxRecords + 1,
    }) as typeof parsed;
  } catch (error) {
    const line =
      typeof (error as { lines?: unknown }).lines === 'number'
        ? (error as { lines: number }).lines
        : undefined;
    const reason = String((error as Error).message ?? error)
      .split('\n')[0]
      .slice(0, 300);
    throw new errors.PW_REQUEST_INVALID(
      `The CSV body cannot be read${line ? ` (line ${line})` : ''}: ${reason}`,
      { hint: CSV_HINT, ...(line !== undefined ? { details: { line } } : {}) },
    );
  }
  const first = parsed[0]?.info.columns;
  const columns = Array.isArray(first) ? first.map((column) => column.name) : [];
  return {
    records: parsed.map((entry) => entry.record),
    lines: parsed.map((entry) => entry.info.lines),
    columns,
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatCsv(header: string[], rows: unknown[][]): string {
  let out = `${header.map(csvCell).join(',')}\n`;
  for (const row of rows) out += `${row.map(csvCell).join(',')}\n`;
  return out;
}
