// Keeps secrets out of every message and log line: passwords inside connection strings, and the
// values of secret environment variables wherever they appear.
const secretValues = new Set<string>();

/** Environment variables whose values are secrets (URLs are reduced to their password). */
export const SECRET_ENV_NAMES = [
  'MONGODB_URL',
  'PIPEWRIGHT_API_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_ACCESS_KEY_ID',
  'PIPEWRIGHT_SIGNING_KEY',
] as const;

export const REDACTED = '***';

/** Remembers a secret so that it is replaced wherever it appears later. */
export function registerSecret(value: string | undefined): void {
  if (!value || value.length < 4) return;
  // A URL is not secret as a whole (its host is useful in messages): only its password is,
  // which may also appear percent-decoded, or alone.
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(value);
  if (!isUrl) secretValues.add(value);
  const password = passwordOf(value);
  if (password && password.length >= 3) {
    secretValues.add(password);
    try {
      secretValues.add(decodeURIComponent(password));
    } catch {
      // not percent-encoded: the raw form is registered already
    }
  }
}

/** Registers the values of the secret variables found in `env`. */
export function registerSecretsFromEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV_NAMES) registerSecret(env[name]);
}

function passwordOf(url: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:([^@\s]+)@/i.exec(url);
  return match?.[1];
}

// user:password@ inside any scheme://… URL
const CREDENTIALS_IN_URL = /([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)([^@\s]+)(@)/gi;

export function redact(text: string): string {
  if (!text) return text;
  let result = text.replace(CREDENTIALS_IN_URL, `$1${REDACTED}$3`);
  for (const secret of secretValues) {
    if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  }
  return result;
}

/** A deep copy of `value` with every string redacted and secret-named keys blanked. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redact(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, depth + 1));
  if (value instanceof Error) return redactDeep(serializeError(value), depth + 1);
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : redactDeep(item, depth + 1);
  }
  return out;
}

const SECRET_KEY = /^(password|passwd|secret|token|api_?key|authorization|secretAccessKey|sessionToken)$/i;

export function serializeError(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.name, message: error.message, stack: error.stack };
  for (const [key, item] of Object.entries(error)) out[key] = item;
  if (error.cause !== undefined) {
    out.cause = error.cause instanceof Error ? serializeError(error.cause) : error.cause;
  }
  return out;
}
