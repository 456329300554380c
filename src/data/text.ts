// Reads a text file as a stream of decoded chunks for the CSV and JSONL readers: strips a byte-order
// mark, reports bytes that are not UTF-8 with the line they are on, or decodes the encoding named
// (Windows-1252, UTF-16...) through TextDecoder.
import { createReadStream, statSync } from 'node:fs';
import { errors } from '../core/errors.js';
import { displayPath } from '../core/paths.js';

export interface TextChunk {
  text: string;
  /** Bytes of the file read so far, for progress. */
  bytesRead: number;
}

export interface TextFileInfo {
  file: string;
  size: number;
  /** Whether the file opened with a UTF-8 byte-order mark (removed from the text). */
  bom: boolean;
}

const CHUNK_BYTES = 1 << 16;

/** Stats the file, turning a missing one (or a folder) into PW_FILE_NOT_FOUND. */
export function statInput(file: string): { size: number } {
  let stats;
  try {
    stats = statSync(file);
  } catch (cause) {
    throw new errors.PW_FILE_NOT_FOUND(`${displayPath(file)} does not exist`, {
      where: displayPath(file),
      cause,
      hint: 'Check the path (it is resolved from the current folder), or create the file with `pipewright sample vehicle-insurance -o data/sample.csv`.',
    });
  }
  if (stats.isDirectory()) {
    throw new errors.PW_FILE_NOT_FOUND(`${displayPath(file)} is a folder, not a file`, {
      where: displayPath(file),
      hint: 'Name a .csv or .jsonl file inside it.',
    });
  }
  return { size: stats.size };
}

/** The offset of the first byte in `bytes` (from `start`) that does not begin or continue valid UTF-8. */
export function firstInvalidUtf8(bytes: Uint8Array, start = 0): number {
  let i = start;
  while (i < bytes.length) {
    const byte = bytes[i];
    if (byte < 0x80) {
      i++;
      continue;
    }
    let length: number;
    let minimum: number;
    if (byte >= 0xc2 && byte <= 0xdf) [length, minimum] = [2, 0x80];
    else if (byte >= 0xe0 && byte <= 0xef) [length, minimum] = [3, 0x800];
    else if (byte >= 0xf0 && byte <= 0xf4) [length, minimum] = [4, 0x10000];
    else return i;
    if (i + length > bytes.length) return i;
    let code = byte & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if ((next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < minimum || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return i;
    i += length;
  }
  return bytes.length;
}

function countNewlineBytes(bytes: Uint8Array, end: number): number {
  let count = 0;
  for (let i = 0; i < end; i++) if (bytes[i] === 10) count++;
  return count;
}

/**
 * The most text one record may hold (1 MiB of characters, eight times Python's csv field limit), so that
 * memory stays bounded whatever the file. Past it, a CSV quote that opened a field and never closed is
 * taken for a stray quote (its line is rejected, and reading goes on at the next line), and a line with
 * no line break within it is rejected and skipped to its end.
 */
export const MAX_RECORD_CHARS = 1 << 20;
/** How much of an over-long line a rejected record keeps, to show it. */
const SHOWN_CHARS = 200;

/**
 * A line-based reader's rule for a line with no line break within MAX_RECORD_CHARS: the reader rejects
 * it once (`reject`), then drops its text up to its end (`resume`), holding none of it meanwhile.
 */
export class OverLongLines {
  private skipping = false;

  /** Whether `chars` characters of one line, with no line break seen yet, are past the limit. */
  static over(chars: number): boolean {
    return chars > MAX_RECORD_CHARS;
  }

  /** Starts skipping the line at `start` of `data`: its beginning, to show, and why it was rejected. */
  reject(data: string, start: number, line: number, expected: string): { shown: string; problem: string } {
    this.skipping = true;
    return {
      shown: data.slice(start, start + SHOWN_CHARS),
      problem: `line ${line} runs past ${MAX_RECORD_CHARS.toLocaleString('en-US')} characters without a line break (a file with carriage-return line endings, or not ${expected}?); it is skipped to its end`,
    };
  }

  /** The text after the skipped line's end (then the reader counts that line), `data` itself when none is skipped, or null while the line goes on. */
  resume(data: string): { rest: string; ended: boolean } | null {
    if (!this.skipping) return { rest: data, ended: false };
    const newline = data.indexOf('\n');
    if (newline === -1) return null;
    this.skipping = false;
    return { rest: data.slice(newline + 1), ended: true };
  }
}

/**
 * Yields the file's text in chunks of about 1 MiB. A chunk may end in the middle of a line (never in
 * the middle of a character); the readers carry the partial line over.
 */
export async function* readTextChunks(
  file: string,
  info: TextFileInfo,
  encoding = 'utf-8',
): AsyncGenerator<TextChunk> {
  const utf8 = isUtf8(encoding);
  const decoder = textDecoder(file, encoding, utf8);
  const shown = displayPath(file);
  let bytesRead = 0;
  let newlinesBefore = 0;
  let first = true;
  const stream = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  try {
    for await (const buffer of stream as AsyncIterable<Buffer>) {
      if (first) {
        first = false;
        const utf16 =
          (buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff);
        if (utf16 && utf8) {
          throw new errors.PW_FILE_INVALID(
            `${shown}:1: the file is UTF-16 encoded (it starts with a UTF-16 byte-order mark)`,
            {
              where: `${shown}:1`,
              hint: 'Read it with --encoding utf-16le (or input.encoding in pipewright.yaml), or leave the encoding unset so that it is sniffed.',
            },
          );
        }
        info.bom = utf16 || (buffer[0] === 0xef && buffer[1] === 0xbb && buffer[2] === 0xbf);
      }
      let text: string;
      try {
        // The decoder drops the byte-order mark itself (ignoreBOM: false).
        text = decoder.decode(buffer, { stream: true });
      } catch (cause) {
        // A sequence started in the previous chunk may end at the start of this one: skip its continuation bytes.
        let skip = 0;
        while (skip < 3 && skip < buffer.length && (buffer[skip] & 0xc0) === 0x80) skip++;
        const offset = firstInvalidUtf8(buffer, skip);
        throw notUtf8(
          shown,
          newlinesBefore + countNewlineBytes(buffer, Math.min(offset, buffer.length)) + 1,
          bytesRead + offset,
          buffer[offset],
          cause,
        );
      }
      newlinesBefore += countNewlineBytes(buffer, buffer.length);
      bytesRead += buffer.length;
      if (text.length > 0) yield { text, bytesRead };
    }
    let rest: string;
    try {
      rest = decoder.decode();
    } catch (cause) {
      throw notUtf8(shown, newlinesBefore + 1, bytesRead, undefined, cause);
    }
    if (rest.length > 0) yield { text: rest, bytesRead };
  } finally {
    stream.destroy();
  }
}

function isUtf8(encoding: string): boolean {
  return ['utf-8', 'utf8', 'unicode-1-1-utf-8'].includes(encoding.toLowerCase());
}

function textDecoder(file: string, encoding: string, utf8: boolean): TextDecoder {
  try {
    // Other encodings decode every byte (a byte that has no character becomes U+FFFD).
    return new TextDecoder(encoding, { fatal: utf8, ignoreBOM: false });
  } catch (cause) {
    throw new errors.PW_USAGE(`${displayPath(file)}: "${encoding}" is not an encoding this tool can read`, {
      cause,
      hint: 'Use utf-8, utf-16le, utf-16be, windows-1252 (latin1) or another WHATWG encoding label.',
      details: { option: 'encoding', value: encoding },
    });
  }
}

function notUtf8(
  shown: string,
  line: number,
  offset: number,
  byte: number | undefined,
  cause: unknown,
): Error {
  const what =
    byte === undefined
      ? 'ends in the middle of a UTF-8 character'
      : `has a byte that is not UTF-8 (0x${byte.toString(16).toUpperCase().padStart(2, '0')} at byte ${offset})`;
  return new errors.PW_FILE_INVALID(`${shown}:${line}: the file ${what}`, {
    where: `${shown}:${line}`,
    cause,
    hint: `Read it in its own encoding with --encoding latin1 (or input.encoding in pipewright.yaml), or save it as UTF-8.`,
    details: { line, byteOffset: offset },
  });
}
