// The flags that say how a data file is read (`--delimiter`, `--decimal`, `--encoding`, `--sheet`...),
// shared by push, predict, schema infer and init; a flag wins over the `input` section of pipewright.yaml.
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../core/config.js';
import { errors } from '../core/errors.js';
import { parseDelimiter } from '../data/dialect.js';
import type { ReadOptions } from '../data/records.js';

export interface ReadFlags {
  delimiter?: string;
  quote?: string;
  decimal?: '.' | ',';
  encoding?: string;
  header?: boolean;
  sheet?: string;
}

function delimiterFlag(value: string): string {
  const delimiter = parseDelimiter(value);
  if (delimiter === undefined) throw new InvalidArgumentError('a delimiter is one character, or "tab"');
  return delimiter;
}

function decimalFlag(value: string): '.' | ',' {
  if (value !== '.' && value !== ',') throw new InvalidArgumentError('the decimal separator is "." or ","');
  return value;
}

function headerFlag(value: string): boolean {
  if (/^(yes|true|1)$/i.test(value)) return true;
  if (/^(no|false|0)$/i.test(value)) return false;
  throw new InvalidArgumentError('say yes or no');
}

function quoteFlag(value: string): string {
  if ([...value].length !== 1) throw new InvalidArgumentError('the quote is one character');
  return value;
}

/** Adds the reading flags to a command. */
export function addReadOptions(command: Command): Command {
  return command
    .option('--delimiter <char>', 'CSV delimiter: , ; tab | (default: sniffed)', delimiterFlag)
    .option('--quote <char>', 'CSV quote character (default: sniffed, usually ")', quoteFlag)
    .option('--decimal <char>', 'decimal separator of CSV numbers: . or , (default: sniffed)', decimalFlag)
    .option(
      '--encoding <name>',
      'text encoding: utf-8, utf-16le, windows-1252 (latin1)... (default: sniffed)',
    )
    .option('--header <yes|no>', 'whether the first CSV row names the columns (default: sniffed)', headerFlag)
    .option('--sheet <name>', 'the Excel sheet to read (default: the first)');
}

/** The reading options: each flag given, else the config's `input` setting, else unset (sniffed). */
export function readOptions(flags: ReadFlags, input: Partial<Config['input']> = {}): ReadOptions {
  const options: ReadOptions = {};
  const delimiter =
    flags.delimiter ?? (input.delimiter !== undefined ? parseDelimiter(input.delimiter) : undefined);
  if (input.delimiter !== undefined && delimiter === undefined) {
    throw new errors.PW_CONFIG_INVALID(
      `pipewright.yaml input.delimiter: "${input.delimiter}" is not one character`,
      {
        hint: 'Use one character, or "tab".',
        details: { path: 'input.delimiter' },
      },
    );
  }
  if (delimiter !== undefined) options.delimiter = delimiter;
  const quote = flags.quote ?? input.quote;
  if (quote !== undefined) options.quote = quote;
  const decimal = flags.decimal ?? input.decimal;
  if (decimal !== undefined) options.decimal = decimal;
  const encoding = flags.encoding ?? input.encoding;
  if (encoding !== undefined) options.encoding = encoding;
  const header = flags.header ?? input.header;
  if (header !== undefined) options.header = header;
  const sheet = flags.sheet ?? input.sheet;
  if (sheet !== undefined) options.sheet = sheet;
  return options;
}
