// The `pipewright` command line: global options, one module per command, and one place that turns
// any error into a short report (code, message, where, hint, log file) and an exit code.
import { packageVersion } from '../core/version.js';
import { Command, CommanderError, Option } from 'commander';
import { errors, isPipewrightError, originOf, PipewrightError } from '../core/errors.js';
import { redact, serializeError } from '../core/redact.js';
import { createContext, globalsOf, type CommandContext } from './context.js';
import { commands } from './commands/index.js';
import type { Wrap } from './wrap.js';

// Kept for command modules that still import the type from here; new code imports './wrap.js'.

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface IO {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

export function buildProgram(io: IO = {}, onExit: (code: number) => void = () => {}): Command {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const program = new Command('pipewright')
    .description('From data in a document database to a versioned, monitored prediction service.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('-c, --config <file>', 'project config (default: pipewright.yaml here or in a folder above)')
    .addOption(
      new Option('--log-level <level>', 'console log level').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'silent',
      ]),
    )
    .option('-q, --quiet', 'print only warnings and errors')
    .option('--json', 'print machine-readable JSON results')
    .option('--debug', 'print stacks and debug logs')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
    })
    .exitOverride();

  const wrap: Wrap =
    (name, action, options = {}) =>
    async (...args: any[]) => {
      const command = args[args.length - 1] as Command;
      const globals = globalsOf(command);
      let context: CommandContext | undefined;
      try {
        context = createContext({
          command: name,
          globals,
          projectDir: options.projectDir?.(...args),
          stdout,
          stderr,
        });
        const started = performance.now();
        context.logger.debug({ args: args.slice(0, -2) }, `${name} started`);
        const code = (await action(context, ...args.slice(0, -1))) ?? EXIT_OK;
        context.logger.debug(
          { ms: Math.round(performance.now() - started), exitCode: code },
          `${name} finished`,
        );
        onExit(code);
      } catch (error) {
        onExit(reportError(error, { context, globals, stdout, stderr }));
      }
    };

  for (const register of commands) register(program, wrap);
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and returns the exit code. */
export async function main(argv: string[], io: IO = {}): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      ) {
        return EXIT_OK;
      }
      return EXIT_USAGE;
    }
    const stderr = io.stderr ?? process.stderr;
    stderr.write(`error: ${redact(String((error as Error)?.message ?? error))}\n`);
    return EXIT_FAILURE;
  }
  return exitCode;
}

interface ReportTarget {
  context: CommandContext | undefined;
  globals: { json?: boolean; debug?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Prints an error in at most five lines and logs it in full; returns the exit code. */
export function reportError(error: unknown, target: ReportTarget): number {
  const known: PipewrightError = isPipewrightError(error)
    ? error
    : new errors.PW_INTERNAL(`Unexpected error: ${(error as Error)?.message ?? String(error)}`, {
        cause: error,
      });
  const origin = isPipewrightError(error) ? error.origin : originOf((error as Error)?.stack);
  const logFile = target.context?.logFile;
  target.context?.logger.error(
    {
      err: error instanceof Error ? serializeError(error) : error,
      code: known.code,
      where: known.where,
      origin,
      console: false,
    },
    known.message,
  );
  if (target.globals.json) {
    target.stdout.write(
      `${JSON.stringify({ error: { ...known.toJSON(), origin, log: logFile } }, null, 2)}\n`,
    );
  }
  const lines = [`error ${known.code}: ${known.message}`];
  if (known.where && !known.message.includes(known.where)) lines.push(`  where: ${known.where}`);
  else if (!isPipewrightError(error) && origin) lines.push(`  at: ${origin}`);
  lines.push(`  hint: ${known.hint}`);
  if (logFile) lines.push(`  log: ${logFile}`);
  target.stderr.write(`${lines.join('\n')}\n`);
  if (target.globals.debug) {
    target.stderr.write(`${redact(String((error as Error)?.stack ?? error))}\n`);
    let cause = (error as Error)?.cause;
    while (cause) {
      target.stderr.write(`caused by: ${redact(String((cause as Error)?.stack ?? cause))}\n`);
      cause = (cause as Error)?.cause;
    }
  }
  return known.exitCode;
}
