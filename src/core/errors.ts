// The one catalogue of Pipewright errors: each has a stable code, a default hint, an exit code and an
// HTTP status. Callers throw `new errors.PW_X(message, { where, hint, cause })`; users and tests match
// on `code`, never on message text.
import { fileURLToPath } from 'node:url';
import { relative, sep } from 'node:path';
import { redact } from './redact.js';

export interface ErrorOptions {
  /** Where the bad input is: `file:line:column`, or `file:line`. */
  where?: string;
  /** What the user should do; replaces the catalogue's default hint. */
  hint?: string;
  cause?: unknown;
  /** Structured detail for `--json` output and HTTP bodies (must hold no secrets). */
  details?: Record<string, unknown>;
}

interface Definition {
  hint: string;
  exitCode: 1 | 2;
  status: number;
}

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));

export class PipewrightError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly exitCode: number;
  readonly statusCode: number;
  readonly where: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The source line that raised the error, mapped to the `.ts` file when source maps are on. */
  readonly origin: string | undefined;

  constructor(code: string, definition: Definition, message: string, options: ErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = code;
    this.code = code;
    this.hint = redact(options.hint ?? definition.hint);
    this.exitCode = definition.exitCode;
    this.statusCode = definition.status;
    this.where = options.where;
    this.details = options.details;
    this.origin = originOf(this.stack);
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.where ? { where: this.where } : {}),
      hint: this.hint,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export type ErrorClass = new (message: string, options?: ErrorOptions) => PipewrightError;

function define(code: string, hint: string, exitCode: 1 | 2 = 1, status = 500): ErrorClass {
  const definition: Definition = { hint, exitCode, status };
  const ErrorType = class extends PipewrightError {
    constructor(message: string, options?: ErrorOptions) {
      super(code, definition, message, options);
    }
  };
  Object.defineProperty(ErrorType, 'name', { value: code });
  return ErrorType;
}

export const errors = {
  // configuration and usage (exit 2)
  PW_USAGE: define('PW_USAGE', 'Run the command with --help to see its options.', 2, 400),
  PW_CONFIG_NOT_FOUND: define(
    'PW_CONFIG_NOT_FOUND',
    'Run `pipewright init <dir>` to create a project, or pass --config <file>.',
    2,
  ),
  PW_CONFIG_INVALID: define('PW_CONFIG_INVALID', 'Fix the value named above and run `pipewright check`.', 2),
  PW_CONFIG_SECRET: define(
    'PW_CONFIG_SECRET',
    'Secrets come from the environment only: set MONGODB_URL, AWS_* or PIPEWRIGHT_API_TOKEN in the environment or in .env, and remove it from the YAML file.',
    2,
  ),
  PW_CONFIG_WEAK_TOKEN: define(
    'PW_CONFIG_WEAK_TOKEN',
    'Set PIPEWRIGHT_API_TOKEN to at least 32 random characters, made with `openssl rand -hex 32` or `node -e "console.log(crypto.randomBytes(32).toString(\'hex\'))"`; or unset it to turn training over HTTP off.',
    2,
  ),
  PW_SCHEMA_INVALID: define(
    'PW_SCHEMA_INVALID',
    'Fix schema.yaml as described and run `pipewright check`.',
    2,
  ),
  PW_INIT_EXISTS: define(
    'PW_INIT_EXISTS',
    'Choose an empty folder, or pass --force to overwrite these files.',
    2,
  ),
  // data and input (exit 1)
  PW_FILE_NOT_FOUND: define(
    'PW_FILE_NOT_FOUND',
    'Check the path; it is resolved from the current folder.',
    1,
    404,
  ),
  PW_FILE_INVALID: define(
    'PW_FILE_INVALID',
    'Fix the file at the line named above and run the command again.',
    1,
    400,
  ),
  PW_FILE_UNWRITABLE: define(
    'PW_FILE_UNWRITABLE',
    'Check that the folder exists and is writable and that the disk is not full.',
  ),
  PW_ROW_INVALID: define(
    'PW_ROW_INVALID',
    'Fix the value or the schema, then push the rejected rows again.',
    1,
    400,
  ),
  PW_ROWS_REJECTED: define(
    'PW_ROWS_REJECTED',
    'Read the rejects file, fix the rows and push it again, or pass --allow-rejects to accept a partial load.',
  ),
  PW_DATA_EMPTY: define('PW_DATA_EMPTY', 'Push data first with `pipewright push <file>`.'),
  PW_VALIDATION_FAILED: define(
    'PW_VALIDATION_FAILED',
    'Read the validation report named above; fix the data or relax the check in pipewright.yaml.',
  ),
  // store
  PW_STORE_UNREACHABLE: define(
    'PW_STORE_UNREACHABLE',
    'Check that the database is running and reachable, and that MONGODB_URL is right.',
    1,
    503,
  ),
  PW_STORE_AUTH: define('PW_STORE_AUTH', 'Check the user name and password in MONGODB_URL.', 1, 503),
  PW_STORE_URL_INVALID: define(
    'PW_STORE_URL_INVALID',
    'MONGODB_URL must look like mongodb://user:password@host:27017/db or mongodb+srv://user:password@cluster.example.net/db.',
    2,
  ),
  PW_STORE_FAILED: define('PW_STORE_FAILED', 'See the log file for the database error.', 1, 503),
  // models, registry and serving
  PW_MODEL_NOT_FITTED: define('PW_MODEL_NOT_FITTED', 'Call fit() before predicting or saving.'),
  PW_MODEL_SCHEMA_MISMATCH: define(
    'PW_MODEL_SCHEMA_MISMATCH',
    'The model was trained on another schema: retrain with `pipewright run`, or serve it with the schema it was trained on.',
  ),
  PW_BUNDLE_INVALID: define(
    'PW_BUNDLE_INVALID',
    'The bundle is damaged or not a Pipewright bundle; publish it again with `pipewright run`.',
  ),
  PW_REGISTRY_NOT_FOUND: define(
    'PW_REGISTRY_NOT_FOUND',
    'Run `pipewright models list` to see the versions and aliases.',
    1,
    404,
  ),
  PW_REGISTRY_FAILED: define(
    'PW_REGISTRY_FAILED',
    'Check the registry settings in pipewright.yaml and the credentials in the environment.',
    1,
    503,
  ),
  PW_RUN_NOT_FOUND: define('PW_RUN_NOT_FOUND', 'Run `pipewright runs list` to see the runs.', 1, 404),
  PW_SERVE_NO_MODEL: define(
    'PW_SERVE_NO_MODEL',
    'Train and publish a model first with `pipewright run`.',
    1,
    503,
  ),
  PW_EXPLAIN_UNAVAILABLE: define(
    'PW_EXPLAIN_UNAVAILABLE',
    'Retrain with `pipewright run`: models trained now record what explanations need (the training cover of every tree node).',
    1,
    422,
  ),
  PW_MONITOR_NO_REFERENCE: define(
    'PW_MONITOR_NO_REFERENCE',
    'Retrain with `pipewright run`: the bundles it publishes carry the reference statistics that drift is measured against.',
  ),
  // HTTP requests to `pipewright serve`
  PW_REQUEST_INVALID: define(
    'PW_REQUEST_INVALID',
    'Send a JSON record, {"records": [...]}, or text/csv; GET /openapi.json describes the fields.',
    1,
    400,
  ),
  PW_REQUEST_TOO_LARGE: define(
    'PW_REQUEST_TOO_LARGE',
    'Send fewer records per request (serve.max_batch) or a smaller body (serve.body_limit_bytes).',
    1,
    413,
  ),
  PW_MEDIA_TYPE: define('PW_MEDIA_TYPE', 'Send Content-Type: application/json or text/csv.', 1, 415),
  PW_NOT_FOUND: define('PW_NOT_FOUND', 'GET /docs lists the endpoints.', 1, 404),
  PW_UNAUTHORIZED: define(
    'PW_UNAUTHORIZED',
    'Send the header `Authorization: Bearer <token>` with the value of PIPEWRIGHT_API_TOKEN.',
    1,
    401,
  ),
  PW_TOO_MANY_ATTEMPTS: define(
    'PW_TOO_MANY_ATTEMPTS',
    'Too many failed authentications from this address: wait for the number of seconds in Retry-After, then send the right token.',
    1,
    429,
  ),
  PW_TRAIN_DISABLED: define(
    'PW_TRAIN_DISABLED',
    "Set PIPEWRIGHT_API_TOKEN in the server's environment to enable POST /train, or run `pipewright run` yourself.",
    1,
    404,
  ),
  PW_TRAIN_BUSY: define(
    'PW_TRAIN_BUSY',
    'Wait for the running pipeline to finish (GET /runs/<id>), then start another.',
    1,
    409,
  ),
  PW_SIGNATURE_INVALID: define(
    'PW_SIGNATURE_INVALID',
    'Do not use this version: it was not signed with the key whose public half is registry.public_key. Publish it again from a machine that holds PIPEWRIGHT_SIGNING_KEY.',
    1,
    503,
  ),
  PW_REGISTRY_CONFLICT: define(
    'PW_REGISTRY_CONFLICT',
    'Another process changed the registry at the same time: look at `pipewright models history`, then try again.',
    1,
    409,
  ),
  PW_TRAIN_TOO_LARGE: define(
    'PW_TRAIN_TOO_LARGE',
    'The training engine works in at most 4 GiB (one byte per row and feature, plus per-row arrays): train on a sample of the rows, or on fewer features.',
    1,
    413,
  ),
  PW_LOCKED: define(
    'PW_LOCKED',
    'Another Pipewright process holds this lock: wait for it to finish. If that process is gone, delete the lock file named above.',
    1,
    409,
  ),
  PW_INTERNAL: define('PW_INTERNAL', 'This is a bug in Pipewright: the log file holds the full stack.'),
} as const;

export type ErrorCode = keyof typeof errors;

export function isPipewrightError(error: unknown): error is PipewrightError {
  return error instanceof PipewrightError;
}

/** The first stack frame outside this file, as `path:line:column` relative to the package. */
export function originOf(stack: string | undefined): string | undefined {
  if (!stack) return undefined;
  for (const line of stack.split('\n').slice(1)) {
    const match = /\(?((?:file:\/\/)?[^()\s]+):(\d+):(\d+)\)?\s*$/.exec(line.trim());
    if (!match) continue;
    let file = match[1];
    if (file.startsWith('file://')) file = fileURLToPath(file);
    if (file.startsWith('node:') || file.includes(`${sep}node_modules${sep}`)) continue;
    if (/[\\/]core[\\/]errors\.(ts|js)$/.test(file)) continue;
    const shown = file.startsWith(packageRoot) ? relative(packageRoot, file) : file;
    return `${shown}:${match[2]}:${match[3]}`;
  }
  return undefined;
}
