// A streaming JSON Lines reader: one JSON object a line, blank lines skipped, and every line that is
// not a JSON object reported with its line number instead of stopping the read.
import { displayPath } from '../core/paths.js';
import { errors } from '../core/errors.js';
import type { DataReader, RawRecord } from './records.js';
import { OverLongLines, readTextChunks, statInput, type TextChunk, type TextFileInfo } from './text.js';

interface JsonLine {
  line: number;
  text: string;
  atEndWithoutNewline: boolean;
  /** Set for a line rejected before parsing (one past MAX_RECORD_CHARS: `text` is its beginning). */
  problem?: string;
}

function parseLine(entry: JsonLine): RawRecord {
  if (entry.problem) return { line: entry.line, values: { _text: `${entry.text}…` }, problem: entry.problem };
  let value: unknown;
  try {
    value = JSON.parse(entry.text);
  } catch (cause) {
    const detail = (cause as Error).message;
    return {
      line: entry.line,
      values: { _text: entry.text.length > 200 ? `${entry.text.slice(0, 200)}…` : entry.text },
      problem: entry.atEndWithoutNewline
        ? `the last line is not complete JSON and has no newline (the file may be truncated): ${detail}`
        : `is not valid JSON: ${detail}`,
    };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      line: entry.line,
      values: { _value: value },
      problem: `is ${Array.isArray(value) ? 'an array' : `${value === null ? 'null' : typeof value}`}, not a JSON object`,
    };
  }
  return { line: entry.line, values: value as Record<string, unknown> };
}

/** Opens a JSON Lines file; its columns are the keys of the first record. */
export async function openJsonlReader(file: string): Promise<DataReader> {
  const { size } = statInput(file);
  const shown = displayPath(file);
  const info: TextFileInfo = { file, size, bom: false };
  const chunks = readTextChunks(file, info);
  const lines: JsonLine[] = [];
  let pending = '';
  let line = 1;
  let bytesRead = 0;
  let done = false;
  const overLong = new OverLongLines();

  function split(text: string, final: boolean): void {
    const resumed = overLong.resume(pending.length > 0 ? pending + text : text);
    pending = '';
    if (!resumed) return;
    const data = resumed.rest;
    if (resumed.ended) line++;
    let position = 0;
    for (;;) {
      let newline = data.indexOf('\n', position);
      let atEnd = false;
      if (newline === -1) {
        if (!final && OverLongLines.over(data.length - position)) {
          const { shown, problem } = overLong.reject(data, position, line, 'a JSON Lines file');
          lines.push({ line, text: shown, atEndWithoutNewline: false, problem });
          position = data.length;
          break;
        }
        if (!final || position >= data.length) break;
        newline = data.length;
        atEnd = true;
      }
      let end = newline;
      if (end > position && data.charCodeAt(end - 1) === 13) end--;
      const content = data.slice(position, end);
      if (content.trim().length > 0) lines.push({ line, text: content, atEndWithoutNewline: atEnd });
      line++;
      position = newline + 1;
    }
    pending = position >= data.length ? '' : data.slice(position);
  }

  async function pull(): Promise<boolean> {
    if (done) return false;
    const next: IteratorResult<TextChunk> = await chunks.next();
    if (next.done) {
      split('', true);
      done = true;
      return true;
    }
    bytesRead = next.value.bytesRead;
    split(next.value.text, false);
    return true;
  }

  while (lines.length === 0 && (await pull()));
  if (lines.length === 0) {
    await chunks.return(undefined);
    throw new errors.PW_FILE_INVALID(
      `${shown}:1: the file is empty${size > 0 ? ' (only blank lines)' : ''}; a JSON Lines file holds one JSON object a line`,
      {
        where: `${shown}:1`,
        hint: 'Check that the right file was named.',
      },
    );
  }
  const first = parseLine(lines[0]);
  const columns = first.problem ? [] : Object.keys(first.values);

  return {
    format: 'jsonl',
    file,
    info,
    columns,
    columnsLine: lines[0].line,
    get bytesRead() {
      return bytesRead;
    },
    async *batches(batchRows: number): AsyncGenerator<RawRecord[]> {
      let batch: RawRecord[] = [];
      for (;;) {
        for (let i = 0; i < lines.length; i++) {
          batch.push(parseLine(lines[i]));
          if (batch.length >= batchRows) {
            yield batch;
            batch = [];
          }
        }
        lines.length = 0;
        if (!(await pull())) break;
      }
      if (batch.length > 0) yield batch;
    },
    async close() {
      await chunks.return(undefined);
    },
  };
}
