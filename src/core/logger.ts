// Logging with pino: JSON lines to a log file per invocation, short readable lines on stderr, child
// loggers that carry context ({run, step}), and secrets redacted from fields and messages alike.
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger, type LevelWithSilent, type StreamEntry } from 'pino';
import { redact, redactDeep } from './redact.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** Console level; the file always records debug and above. */
  level?: LevelWithSilent;
  /** Folder for the log file; no file when undefined. */
  dir?: string;
  command?: string;
  runId?: string;
  /** How many files to keep in `dir`: logs, their rotated parts and training output. */
  retention?: number;
  /** A log file past this many bytes is renamed aside and a new one begun (long-running `serve`). */
  maxFileBytes?: number;
  /** Print nothing below warn on the console. */
  quiet?: boolean;
  /** Where readable lines go; stderr by default. */
  consoleStream?: NodeJS.WritableStream;
  colorize?: boolean;
}

export interface CreatedLogger {
  logger: Logger;
  file: string | undefined;
}

const LEVEL_VALUES: Record<string, number> = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
  silent: Infinity,
};

export function logFileName(command: string, runId: string): string {
  const [day, time, id] = runId.split('-');
  return `${day}T${time}-${command.replace(/[^a-z0-9-]+/gi, '-')}-${id ?? runId}.log`;
}

export function createLogger(options: LoggerOptions = {}): CreatedLogger {
  const consoleLevel: LevelWithSilent = options.quiet ? 'warn' : (options.level ?? 'info');
  const streams: StreamEntry[] = [];
  let file: string | undefined;
  if (options.dir && options.runId) {
    mkdirSync(options.dir, { recursive: true });
    file = join(options.dir, logFileName(options.command ?? 'pipewright', options.runId));
    streams.push({
      level: 'debug',
      stream: rotatingFile(file, options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES),
    });
    if (options.retention) pruneLogs(options.dir, options.retention);
  }
  if (consoleLevel !== 'silent') {
    streams.push({
      level: consoleLevel,
      stream: consoleStream(
        options.consoleStream ?? process.stderr,
        options.colorize ?? Boolean(process.stderr.isTTY),
        consoleLevel,
      ),
    });
  }
  const fileLevel = file ? LEVEL_VALUES.debug : Infinity;
  const minimum = Math.min(fileLevel, LEVEL_VALUES[consoleLevel]);
  const level = (Object.keys(LEVEL_VALUES).find((name) => LEVEL_VALUES[name] === minimum) ??
    'silent') as LevelWithSilent;
  const logger = pino(
    {
      level,
      base: {
        ...(options.runId ? { run: options.runId } : {}),
        ...(options.command ? { command: options.command } : {}),
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((arg) => (typeof arg === 'string' ? redact(arg) : arg)) as Parameters<typeof method>,
          );
        },
      },
      serializers: { err: (error: Error) => redactDeep(error) as Record<string, unknown> },
    },
    streams.length > 0 ? pino.multistream(streams) : pino.destination({ dest: '/dev/null', sync: true }),
  );
  return { logger, file };
}

const DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024;

/**
 * The log file as a pino destination that rotates by size: past `maxBytes` the file is renamed to
 * `<name>.<n>.log` and a new one begun under the first name, so a server that runs for months keeps
 * bounded files that retention can remove.
 */
function rotatingFile(file: string, maxBytes: number): { write(line: string): void } {
  const destination = pino.destination({ dest: file, sync: true });
  let bytes = 0;
  let part = 0;
  return {
    write(line: string) {
      destination.write(line);
      bytes += Buffer.byteLength(line);
      if (bytes < maxBytes) return;
      part += 1;
      renameSync(file, file.replace(/\.log$/, `.${String(part).padStart(4, '0')}.log`));
      destination.reopen();
      bytes = 0;
    },
  };
}

/** Keeps the newest `keep` files the program writes in `dir` (logs, rotated parts, training output). */
export function pruneLogs(dir: string, keep: number): void {
  let files: { name: string; time: number }[];
  try {
    files = readdirSync(dir)
      .filter((name) => name.endsWith('.log') || name.endsWith('.out'))
      .map((name) => ({ name, time: statSync(join(dir, name)).mtimeMs }))
      .sort((a, b) => a.time - b.time || (a.name < b.name ? -1 : 1));
  } catch {
    return;
  }
  for (const { name } of files.slice(0, Math.max(0, files.length - keep))) {
    rmSync(join(dir, name), { force: true });
  }
}

/** A logger that writes nowhere, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const LEVEL_LABELS: Record<number, [string, string]> = {
  10: ['trace', '\x1b[90m'],
  20: ['debug', '\x1b[90m'],
  30: ['info', '\x1b[36m'],
  40: ['warn', '\x1b[33m'],
  50: ['error', '\x1b[31m'],
  60: ['fatal', '\x1b[31m'],
};

/**
 * Readable console lines: `12:04:31 info  step train: 200 trees`. Records marked `console: false`
 * (errors the CLI reports itself) go to the log file only.
 */
function consoleStream(
  out: NodeJS.WritableStream,
  colorize: boolean,
  level: LevelWithSilent,
): { write(line: string): void } {
  const showFields = level === 'debug' || level === 'trace';
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      if (record.console === false) return;
      const [label, color] = LEVEL_LABELS[record.level as number] ?? ['log', ''];
      const time = typeof record.time === 'string' ? record.time.slice(11, 19) : '';
      const context = typeof record.step === 'string' ? `[${record.step}] ` : '';
      let text = `${time} ${colorize ? `${color}${label.padEnd(5)}\x1b[0m` : label.padEnd(5)} ${context}${String(record.msg ?? '')}`;
      if (showFields) {
        const {
          level: _l,
          time: _t,
          msg: _m,
          run: _r,
          command: _c,
          step: _s,
          pid: _p,
          hostname: _h,
          ...rest
        } = record;
        if (Object.keys(rest).length > 0) text += ` ${JSON.stringify(rest)}`;
      }
      out.write(`${text}\n`);
    },
  };
}
