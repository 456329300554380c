// Cell values from Excel and Parquet as push expects raw values: numbers, text, booleans and dates
// as they are, 64-bit integers as numbers when exact, empty cells as missing.

/** A spreadsheet or Parquet value as a raw record value (undefined: the cell is empty). */
export function cellValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint')
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  if (typeof value !== 'object' || value instanceof Date) return value;
  const object = value as Record<string, unknown>;
  // Excel: rich text, a formula's result, a hyperlink's text, an error value.
  if (Array.isArray(object.richText))
    return (object.richText as { text: string }[]).map((part) => part.text).join('');
  if ('result' in object) return cellValue(object.result);
  if ('formula' in object || 'sharedFormula' in object) return null;
  if (typeof object.text === 'string') return object.text;
  if ('error' in object) return String(object.error);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value;
}
