// Sniffs how a CSV file is written from its first bytes: the encoding (a byte-order mark, or bytes
// that are not UTF-8), the delimiter, the quote, the decimal separator and whether a header row leads.
import type { CsvDialect } from './records.js';
import { firstInvalidUtf8 } from './text.js';

export const DEFAULT_DIALECT: CsvDialect = {
  delimiter: ',',
  quote: '"',
  decimal: '.',
  encoding: 'utf-8',
  header: true,
};

export const DELIMITERS = [',', ';', '\t', '|'] as const;

const DECIMAL_COMMA = /^[+-]?\d+,\d+$/;
const DECIMAL_POINT = /^[+-]?\d+\.\d+$/;
const NUMBER = /^[+-]?(?:\d+[.,]?\d*|[.,]\d+)(?:[eE][+-]?\d+)?$/;

/** The encoding the bytes are in: from a byte-order mark, else UTF-8 unless some byte is not UTF-8 (then Windows-1252). */
export function sniffEncoding(bytes: Uint8Array, complete: boolean): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  const invalid = firstInvalidUtf8(bytes);
  // A sample cut from a longer file may end in the middle of a character.
  return invalid >= bytes.length - (complete ? 0 : 3) ? 'utf-8' : 'windows-1252';
}

/** Counts `delimiter` outside quotes on each line. */
function countsPerLine(lines: string[], delimiter: string, quote: string): number[] {
  return lines.map((line) => {
    let count = 0;
    let quoted = false;
    for (const char of line) {
      if (char === quote) quoted = !quoted;
      else if (char === delimiter && !quoted) count++;
    }
    return count;
  });
}

/** Splits a line on the delimiter, unquoting simply: enough to judge decimals and the header. */
function roughFields(line: string, delimiter: string, quote: string): string[] {
  return line.split(delimiter).map((field) => {
    const text = field.trim();
    return text.length >= 2 && text.startsWith(quote) && text.endsWith(quote) ? text.slice(1, -1) : text;
  });
}

/**
 * The dialect of a CSV sample (the file's first bytes), with `set` taking precedence over what is
 * sniffed; returns which parts were sniffed so that they can be stated.
 */
export function sniffDialect(
  bytes: Uint8Array,
  complete: boolean,
  set: Partial<CsvDialect> = {},
): { dialect: CsvDialect; sniffed: (keyof CsvDialect)[] } {
  const sniffed: (keyof CsvDialect)[] = [];
  const encoding = set.encoding ?? sniffEncoding(bytes, complete);
  if (set.encoding === undefined) sniffed.push('encoding');
  let text: string;
  try {
    text = new TextDecoder(encoding).decode(bytes);
  } catch {
    text = '';
  }
  const lines = text.split('\n');
  if (!complete && lines.length > 1) lines.pop();
  const sample = lines
    .map((line) => line.replace(/\r$/, ''))
    .filter((line) => line.trim() !== '')
    .slice(0, 50);

  const quote =
    set.quote ??
    (!text.includes('"') && /(^|[,;\t|])'[^']*'([,;\t|]|$)/m.test(text) ? "'" : DEFAULT_DIALECT.quote);
  if (set.quote === undefined) sniffed.push('quote');

  let delimiter = set.delimiter;
  if (delimiter === undefined) {
    sniffed.push('delimiter');
    let best: { delimiter: string; score: number } = { delimiter: ',', score: 0 };
    for (const candidate of DELIMITERS) {
      const counts = countsPerLine(sample, candidate, quote);
      if (counts.length === 0 || counts[0] === 0) continue;
      // The delimiter splits every line into as many fields as the header.
      const consistent = counts.filter((count) => count === counts[0]).length / counts.length;
      const score = consistent * 1000 + counts[0];
      if (score > best.score) best = { delimiter: candidate, score };
    }
    delimiter = best.delimiter;
  }

  const rows = sample.map((line) => roughFields(line, delimiter, quote));
  let decimal = set.decimal;
  if (decimal === undefined) {
    sniffed.push('decimal');
    let commas = 0;
    let points = 0;
    for (const row of rows.slice(1))
      for (const field of row) {
        if (DECIMAL_COMMA.test(field)) commas++;
        else if (DECIMAL_POINT.test(field)) points++;
      }
    decimal = delimiter !== ',' && commas > 0 && points === 0 ? ',' : '.';
  }

  let header = set.header;
  if (header === undefined) {
    sniffed.push('header');
    // As Python's csv.Sniffer: the first row is a header unless it looks like the rows below it. A text
    // name above a numeric column settles it; a first row of numbers only, like the rows below, names nothing.
    const body = rows.slice(1);
    const numericBelow = (column: number) =>
      body.length > 0 && body.filter((row) => NUMBER.test(row[column] ?? '')).length * 2 > body.length;
    const first = rows[0] ?? [];
    const namesAColumn = first.some((field, column) => !NUMBER.test(field) && numericBelow(column));
    header = namesAColumn || !(body.length > 0 && first.every((field) => NUMBER.test(field) || field === ''));
  }
  return { dialect: { delimiter, quote, decimal, encoding, header }, sniffed };
}

/** `;`, `tab`, `\t` or a single character, as a user writes a delimiter on the command line or in YAML. */
export function parseDelimiter(text: string): string | undefined {
  if (text === 'tab' || text === '\\t' || text === '\t') return '\t';
  if (text === 'comma') return ',';
  if (text === 'semicolon') return ';';
  if (text === 'pipe') return '|';
  return [...text].length === 1 ? text : undefined;
}

/** A dialect part as the console and pipewright.yaml show it. */
export function describeDialect(dialect: CsvDialect): string {
  const delimiter = dialect.delimiter === '\t' ? 'tab' : `"${dialect.delimiter}"`;
  return `delimiter ${delimiter}, quote ${dialect.quote === '"' ? "'\"'" : `"${dialect.quote}"`}, decimal "${dialect.decimal}", encoding ${dialect.encoding}, ${dialect.header ? 'header row' : 'no header row'}`;
}

/** What the console says about a CSV file read in other than the default dialect, or undefined. */
export function statedDialect(reader: {
  dialect?: CsvDialect;
  sniffed?: (keyof CsvDialect)[];
}): string | undefined {
  const dialect = reader.dialect;
  if (!dialect) return undefined;
  const differs = (Object.keys(DEFAULT_DIALECT) as (keyof CsvDialect)[]).filter(
    (part) => dialect[part] !== DEFAULT_DIALECT[part],
  );
  if (differs.length === 0) return undefined;
  const sniffed = differs.filter((part) => reader.sniffed?.includes(part));
  return `${describeDialect(dialect)}${sniffed.length ? ` (sniffed: ${sniffed.join(', ')})` : ''}`;
}

/**
 * The `input:` section of pipewright.yaml that reads the file as it was read here (the parts that
 * differ from the default dialect, and the sheet), or '' when the defaults read it.
 */
export function inputSectionText(dialect: CsvDialect | undefined, sheet?: string): string {
  const lines: string[] = [];
  if (dialect) {
    for (const part of Object.keys(DEFAULT_DIALECT) as (keyof CsvDialect)[]) {
      if (dialect[part] === DEFAULT_DIALECT[part]) continue;
      const value = dialect[part];
      lines.push(`  ${part}: ${typeof value === 'boolean' ? String(value) : JSON.stringify(value)}`);
    }
  }
  if (sheet !== undefined) lines.push(`  sheet: ${JSON.stringify(sheet)}`);
  if (lines.length === 0) return '';
  return [
    '',
    '# How push and predict read the data files (sniffed from the file by init; flags override).',
    'input:',
    ...lines,
    '',
  ].join('\n');
}
