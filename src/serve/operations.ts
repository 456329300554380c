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

/**
 * Logs every request while traffic is light; above `perSecond` in a second it logs only the first
 * ones, then one line counting those it skipped, so that heavy load cannot drown the log or the disk.
 * Server errors (5xx) are always logged.
 */
export class AccessLog {
  private windowStart = 0;
  private inWindow = 0;
  private skipped = 0;

  constructor(
    private readonly logger: Logger,
    private readonly perSecond = 20,
    private readonly now: () => number = Date.now,
  ) {}

  record(entry: AccessEntry): void {
    if (entry.status >= 500) {
      this.logger.error(
        { access: entry },
        `${entry.method} ${entry.url} ${entry.status} ${entry.ms.toFixed(1)} ms`,
      );
      return;
    }
    const now = this.now();
    if (now - this.windowStart >= 1000) {
      if (this.skipped > 0) {
        this.logger.info(
          { skipped: this.skipped, perSecond: this.perSecond },
          `${this.skipped} requests were not logged (logging at most ${this.perSecond} a second)`,
        );
      }
      this.windowStart = now;
      this.inWindow = 0;
      this.skipped = 0;
    }
    if (++this.inWindow > this.perSecond) {
      this.skipped++;
      return;
    }
    this.logger.info(
      { access: entry },
      `${entry.method} ${entry.url} ${entry.status} ${entry.ms.toFixed(1)} ms`,
    );
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
