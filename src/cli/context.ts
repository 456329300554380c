// What every command receives: the global options, a logger for this invocation (with its log
// file), the project (config and schema, loaded on first use) and an output helper.
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { findConfigFile, loadConfig, type Config, type LoadedConfig } from '../core/config.js';
import { loadEnv } from '../core/env.js';
import { timestampId } from '../core/ids.js';
import { createLogger, type Logger } from '../core/logger.js';
import { loadSchema, type Schema } from '../schema/schema.js';

export interface GlobalOptions {
  config?: string;
  logLevel?: string;
  quiet?: boolean;
  json?: boolean;
  debug?: boolean;
}

export interface Project extends LoadedConfig {
  config: Config;
  schema: Schema;
  schemaFile: string;
  /** Resolves a path relative to the project folder. */
  path(relative: string): string;
}

export interface CommandContext {
  command: string;
  runId: string;
  globals: GlobalOptions;
  logger: Logger;
  logFile: string | undefined;
  /** The project folder when one was found, without loading it. */
  projectDir: string | undefined;
  project(): Project;
  /** Prints a result: `human` on a terminal, `data` as JSON with --json. */
  print(data: unknown, human?: string | (() => string)): void;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export interface ContextOptions {
  command: string;
  globals: GlobalOptions;
  /** A folder the command will create or use as the project, when not found from the config. */
  projectDir?: string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Where logs go for an invocation outside any project. */
export function userLogDir(): string {
  const state = process.env.XDG_STATE_HOME ?? join(homedir(), '.local', 'state');
  return join(state, 'pipewright', 'logs');
}

export function createContext(options: ContextOptions): CommandContext {
  const { globals } = options;
  const configFile = globals.config ? resolve(globals.config) : findConfigFile();
  const projectDir = options.projectDir ?? (configFile ? dirname(configFile) : undefined);
  loadEnv(projectDir);
  let loaded: Project | undefined;
  let logDir = projectDir ? join(projectDir, 'logs') : userLogDir();
  let retention = 100;
  let maxFileBytes: number | undefined;
  // Read once here for the log settings and kept for project(); a broken config still gets a log.
  let early: LoadedConfig | undefined;
  if (configFile && !options.projectDir) {
    try {
      early = loadConfig(configFile);
      logDir = resolve(early.dir, early.config.logging.dir);
      retention = early.config.logging.retention;
      maxFileBytes = early.config.logging.max_file_mb * 1024 * 1024;
    } catch {
      // reported by project() when the command needs it
    }
  }
  const runId = timestampId();
  const stderr = options.stderr ?? process.stderr;
  const stdout = options.stdout ?? process.stdout;
  const level = (
    globals.debug ? 'debug' : (globals.logLevel ?? process.env.PIPEWRIGHT_LOG_LEVEL ?? 'info')
  ) as never;
  const { logger, file } = createLogger({
    dir: logDir,
    runId,
    command: options.command,
    retention,
    ...(maxFileBytes ? { maxFileBytes } : {}),
    level,
    quiet: Boolean(globals.quiet),
    consoleStream: stderr,
  });
  logger.debug({ argv: process.argv.slice(2), cwd: process.cwd(), node: process.version }, 'invocation');
  return {
    command: options.command,
    runId,
    globals,
    logger,
    logFile: file,
    projectDir,
    stdout,
    stderr,
    project() {
      if (loaded) return loaded;
      const config = early ?? loadConfig(globals.config, projectDir ?? process.cwd());
      const schemaFile = resolve(config.dir, config.config.schema);
      const schema = loadSchema(schemaFile);
      loaded = { ...config, schema, schemaFile, path: (relative: string) => resolve(config.dir, relative) };
      return loaded;
    },
    print(data, human) {
      if (globals.json) {
        stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      } else if (human !== undefined) {
        const text = typeof human === 'function' ? human() : human;
        if (text) stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
  };
}

/** The global options as commander parsed them for `command`. */
export function globalsOf(command: Command): GlobalOptions {
  return command.optsWithGlobals() as GlobalOptions;
}
