// The operational side of the server that is not about models: request ids, the access log (sampled
// when traffic is heavy), and the bearer-token check for the training endpoints.
import { createHash, randomBytes, timingSafeEqual, type BinaryLike } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../core/logger.js';

/** What an incoming x-request-id may look like to be reused; anything else gets a fresh id. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@+=-]{1,128}$/;

/** Request ids: the caller's x-request-id when it is sane, else `<process prefix>-<counter>`. */
export function requestIdGenerator(): (request: IncomingMessage) => string {
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return (request) => {
    const given = request.headers['x-request-id'];
    if (typeof given === 'string' && SANE_REQUEST_ID.test(given)) return given;
    counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
    return `${prefix}-${counter.toString(36)}`;
  };
}

export interface AccessEntry {
  requestId: string;
  method: string;
  url: string;
  route: string;
  status: number;
  ms: number;
  ip?: string;
}

/** The most of a URL an access line keeps: a hostile client cannot make each line huge. */
export const MAX_LOGGED_URL_LENGTH = 512;

/** A URL cut to `MAX_LOGGED_URL_LENGTH` characters, with a marker saying how much was left out. */
export function loggedUrl(url: string): string {
  if (url.length <= MAX_LOGGED_URL_LENGTH) return url;
  return `${url.slice(0, MAX_LOGGED_URL_LENGTH)}…[${url.length - MAX_LOGGED_URL_LENGTH} more characters]`;
}

/** Lines allowed per one-second window; past that, counted and reported in one line. */
export class LineBudget {
  private windowStart = 0;
  private inWindow = 0;
  private skipped = 0;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number,
    private readonly reportSkipped: (skipped: number, perSecond: number) => void,
  ) {}

  take(): boolean {
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      if (this.skipped > 0) this.reportSkipped(this.skipped, this.perSecond);
      this.windowStart = now;
      this.inWindow = 0;
      this.skipped = 0;
    }
    if (++this.inWindow > this.perSecond) {
      this.skipped++;
      return false;
    }
    return true;
  }
}

/**
 * Logs every request while traffic is light; above `perSecond` in a second it logs only the first
 * ones, then one line counting those it skipped, so that heavy load cannot drown the log or the disk.
 * Server errors (5xx) have their own, separate budget (`errorsPerSecond`), so a burst of them is seen
 * without flooding the disk either; URLs are cut to `MAX_LOGGED_URL_LENGTH`.
 */
export class AccessLog {
  private readonly lines: LineBudget;
  private readonly errorLines: LineBudget;

  constructor(
    private readonly logger: Logger,
    perSecond = 20,
    now: () => number = Date.now,
    errorsPerSecond = 10,
  ) {
    this.lines = new LineBudget(perSecond, now, (skipped, limit) =>
      this.logger.info(
        { skipped, perSecond: limit },
        `${skipped} requests were not logged (logging at most ${limit} a second)`,
      ),
    );
    this.errorLines = new LineBudget(errorsPerSecond, now, (skipped, limit) =>
      this.logger.error(
        { skippedErrors: skipped, perSecond: limit },
        `${skipped} more server errors were not logged (logging at most ${limit} a second)`,
      ),
    );
  }

  record(entry: AccessEntry): void {
    const error = entry.status >= 500;
    if (!(error ? this.errorLines : this.lines).take()) return;
    const url = loggedUrl(entry.url);
    const line = `${entry.method} ${url} ${entry.status} ${entry.ms.toFixed(1)} ms`;
    if (error) this.logger.error({ access: { ...entry, url } }, line);
    else this.logger.info({ access: { ...entry, url } }, line);
  }
}

function digest(value: BinaryLike): Buffer {
  return createHash('sha256').update(value).digest();
}

export type AuthResult = 'ok' | 'disabled' | 'missing' | 'wrong';

/** Compares a bearer token in constant time (over digests, so the length does not leak either). */
export function checkBearer(header: string | undefined, token: string | undefined): AuthResult {
  if (!token) return 'disabled';
  if (!header) return 'missing';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) return 'missing';
  return timingSafeEqual(digest(match[1]), digest(token)) ? 'ok' : 'wrong';
}
