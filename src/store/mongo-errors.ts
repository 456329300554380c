// Turns MongoDB driver errors into Pipewright errors with a code and a hint a user can act on. The
// password never survives: messages are redacted, and the driver error is kept only as a sanitized cause.
import { errors, isPipewrightError, type PipewrightError } from '../core/errors.js';
import { redact, REDACTED } from '../core/redact.js';

export interface MongoErrorContext {
  /** What was being done, e.g. `connecting to MongoDB` or `reading collection "records"`. */
  action: string;
  /** The connection string (redacted before it appears anywhere). */
  url?: string;
  /** How long the driver waited to find a server, for the hint. */
  timeoutMs?: number;
  /** How long a request waited for its reply (store.reply_timeout_ms), for the hint. */
  replyTimeoutMs?: number;
}

/** Server error codes that mean the credentials were refused. */
const AUTHENTICATION_CODES = new Set([18, 11, 8000]);
/** Network failures from Node's DNS and socket layers. */
const NETWORK_CODES =
  /\b(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ESERVFAIL|ECONNABORTED|EPIPE)\b/;

/** An error thrown while the driver parsed the connection string (`new MongoClient(url)`). */
export function wrapConnectionStringError(error: unknown, url: string): PipewrightError {
  if (isPipewrightError(error)) return error;
  const detail = messageOf(error);
  return new errors.PW_STORE_URL_INVALID(
    `The MongoDB connection string ${describeUrl(url)} is not valid: ${detail}`,
    {
      where: 'MONGODB_URL',
      cause: sanitizeError(error),
      details: detailsOf(error),
    },
  );
}

/** Any error raised by the driver (or by DNS under it) while connecting or running an operation. */
export function wrapMongoError(error: unknown, context: MongoErrorContext): PipewrightError {
  if (isPipewrightError(error)) return error;
  const name = nameOf(error);
  const detail = messageOf(error);
  const target = context.url ? ` at ${describeUrl(context.url)}` : '';
  const options = { cause: sanitizeError(error), details: detailsOf(error) };

  if (isAuthenticationError(error)) {
    return new errors.PW_STORE_AUTH(
      `MongoDB${target} refused the credentials while ${context.action}: ${detail}`,
      {
        ...options,
        where: 'MONGODB_URL',
        hint:
          'Check the user name and password in MONGODB_URL (percent-encode characters such as @ : / in the password), ' +
          'and authSource=<database> if the user is defined outside the admin database.',
      },
    );
  }

  if ((error as { code?: unknown })?.code === 13) {
    return new errors.PW_STORE_AUTH(`MongoDB${target} did not allow ${context.action}: ${detail}`, {
      ...options,
      where: 'MONGODB_URL',
      hint: 'The user in MONGODB_URL lacks the privilege for this: grant it the readWrite role on the database named in pipewright.yaml (store.database).',
    });
  }

  const srvHost = /querySrv \S+ _mongodb\._tcp\.(\S+)/.exec(detail)?.[1];
  if (srvHost) {
    return new errors.PW_STORE_UNREACHABLE(
      `Cannot resolve the MongoDB cluster ${srvHost} while ${context.action}: ${detail}`,
      {
        ...options,
        hint:
          `The DNS name ${srvHost} has no MongoDB SRV record: copy the connection string again from the cluster's ` +
          '"Connect" page (Atlas), check for typos in MONGODB_URL, and check that this machine can resolve DNS names.',
      },
    );
  }

  if (
    name === 'MongoServerSelectionError' ||
    name === 'MongoTopologyClosedError' ||
    (!isMongoError(error) && NETWORK_CODES.test(detail))
  ) {
    const waited = context.timeoutMs ? ` within ${context.timeoutMs} ms` : '';
    let hint: string;
    if (/ECONNREFUSED/.test(detail)) {
      hint =
        'Nothing is listening at that address: start MongoDB there, or fix the host and port in MONGODB_URL.';
    } else if (/ENOTFOUND|EAI_AGAIN/.test(detail)) {
      hint =
        "The host name in MONGODB_URL does not resolve: check it for typos and check this machine's DNS.";
    } else {
      hint =
        `No MongoDB server answered${waited}: check that it is running and that this machine may reach it ` +
        '(firewall, VPN, the Atlas IP access list), or raise store.timeout_ms in pipewright.yaml.';
    }
    return new errors.PW_STORE_UNREACHABLE(
      `Cannot reach MongoDB${target}${waited} while ${context.action}: ${detail}`,
      {
        ...options,
        hint,
      },
    );
  }

  if (
    name === 'MongoNetworkTimeoutError' ||
    (isNetworkErrorInBulkWrite(error) && /timed out/i.test(detail))
  ) {
    const waited = context.replyTimeoutMs ? ` within ${context.replyTimeoutMs} ms` : '';
    return new errors.PW_STORE_UNREACHABLE(
      `MongoDB${target} did not answer${waited} while ${context.action}: ${detail}`,
      {
        ...options,
        hint:
          'The server took the request and sent no reply, so the operation did not complete: check that the cluster is healthy ' +
          '(a stalled or overloaded primary, a failover in progress) and the network, then run the command again; raise ' +
          'store.reply_timeout_ms in pipewright.yaml if single requests legitimately take longer.',
      },
    );
  }

  if (isNetworkError(error)) {
    return new errors.PW_STORE_UNREACHABLE(
      `Lost the connection to MongoDB${target} while ${context.action}: ${detail}`,
      {
        ...options,
        hint: 'The connection dropped part-way, so the operation did not complete; check the network and the server, then run the command again.',
      },
    );
  }

  if ((error as { code?: unknown })?.code === 11000) {
    return new errors.PW_STORE_FAILED(
      `MongoDB${target} refused a duplicate _id while ${context.action}: ${detail}`,
      {
        ...options,
        hint: 'A document with that _id is already stored: upsert instead of inserting (pipewright push upserts by key), or remove the duplicate.',
      },
    );
  }

  const codeName =
    typeof (error as { codeName?: unknown })?.codeName === 'string'
      ? ` (${(error as { codeName: string }).codeName})`
      : '';
  return new errors.PW_STORE_FAILED(
    `MongoDB${target} failed while ${context.action}${codeName}: ${detail}`,
    options,
  );
}

/** `mongodb://user:***@host/db`, or a placeholder when the text is not a URL at all. */
export function describeUrl(url: string): string {
  // Everything up to the last `@` of the authority is user information, even when a password holds an
  // unescaped `@` that the generic pattern in redact() would stop at.
  const masked = url.replace(
    /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)@/i,
    (_match, scheme: string, userInfo: string) => {
      const colon = userInfo.indexOf(':');
      return `${scheme}${colon === -1 ? userInfo : `${userInfo.slice(0, colon)}:${REDACTED}`}@`;
    },
  );
  const redacted = redact(masked);
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(redacted)
    ? redacted
    : `"${redacted.replace(/^[^@]*@/, `${REDACTED}@`)}"`;
}

/**
 * The password of a connection string, as written and percent-decoded, so that it can be registered
 * for redaction. Only the password: the rest of the URL names the server and stays readable.
 */
export function passwordsIn(url: string): string[] {
  const userInfo = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(url)?.[1];
  const colon = userInfo?.indexOf(':') ?? -1;
  if (!userInfo || colon === -1) return [];
  const password = userInfo.slice(colon + 1);
  const found = [password];
  try {
    found.push(decodeURIComponent(password));
  } catch {
    // not valid percent-encoding: the raw form is the one that can appear
  }
  return found.filter((value) => value.length > 0);
}

/**
 * A copy of a driver error that holds only redacted text: the original carries topology descriptions,
 * socket objects and, for some errors, the URL, none of which belong in a log file.
 */
export function sanitizeError(error: unknown, depth = 0): Error | undefined {
  if (error === undefined || error === null) return undefined;
  // Not a catalogue error: a redacted stand-in for the driver's own error, kept only as a cause.
  // eslint-disable-next-line no-restricted-syntax
  const copy = new Error(redact(messageOf(error)));
  copy.name = nameOf(error);
  const source = error as {
    code?: unknown;
    codeName?: unknown;
    cause?: unknown;
    stack?: unknown;
  };
  const extra = copy as Error & Record<string, unknown>;
  if (typeof source.code === 'number' || typeof source.code === 'string') extra.code = source.code;
  if (typeof source.codeName === 'string') extra.codeName = source.codeName;
  if (typeof source.stack === 'string') copy.stack = redact(source.stack);
  if (depth < 4 && source.cause !== undefined) {
    const cause = sanitizeError(source.cause, depth + 1);
    if (cause)
      Object.defineProperty(copy, 'cause', {
        value: cause,
        enumerable: false,
        writable: true,
        configurable: true,
      });
  }
  return copy;
}

function isAuthenticationError(error: unknown): boolean {
  for (
    let current = error, depth = 0;
    current && depth < 5;
    current = (current as { cause?: unknown }).cause, depth++
  ) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'number' && AUTHENTICATION_CODES.has(code)) {
      return code !== 8000 || /auth/i.test(messageOf(current));
    }
    if ((current as { codeName?: unknown }).codeName === 'AuthenticationFailed') return true;
  }
  return false;
}

/**
 * A bulk write (an upsert of many documents) that failed on the connection rather than on a document:
 * the driver wraps the network error in a MongoBulkWriteError that keeps its own fields, among them
 * `beforeHandshake`, which only network errors have, and no write error.
 */
function isNetworkErrorInBulkWrite(error: unknown): boolean {
  const bulk = error as { beforeHandshake?: unknown; writeErrors?: unknown[] };
  return (
    nameOf(error) === 'MongoBulkWriteError' &&
    typeof bulk.beforeHandshake === 'boolean' &&
    (bulk.writeErrors?.length ?? 0) === 0
  );
}

function isNetworkError(error: unknown): boolean {
  const name = nameOf(error);
  return (
    isNetworkErrorInBulkWrite(error) ||
    name === 'MongoNetworkError' ||
    name === 'MongoNetworkTimeoutError' ||
    name === 'MongoServerClosedError' ||
    name === 'MongoPoolClearedError' ||
    name === 'MongoOperationTimeoutError'
  );
}

function isMongoError(error: unknown): boolean {
  return nameOf(error).startsWith('Mongo');
}

function nameOf(error: unknown): string {
  if (error instanceof Error) return error.name;
  return typeof error;
}

function messageOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redact(text || nameOf(error));
}

function detailsOf(error: unknown): Record<string, unknown> {
  const details: Record<string, unknown> = { driverError: nameOf(error) };
  const source = error as { code?: unknown; codeName?: unknown };
  if (typeof source?.code === 'number' || typeof source?.code === 'string') details.driverCode = source.code;
  if (typeof source?.codeName === 'string') details.codeName = source.codeName;
  return details;
}
