// Locks between processes, on one machine or several sharing a folder: a lock file made with O_EXCL
// holds its owner's pid, host and start time, so a lock left by a dead process is recognised and taken.
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { errors } from './errors.js';

export interface LockOwner {
  pid: number;
  host: string;
  since: string;
  /** What the owner is doing, for the message another process shows. */
  purpose: string;
}

export interface Lock {
  readonly file: string;
  readonly owner: LockOwner;
  release(): void;
}

export interface LockOptions {
  purpose: string;
  /**
   * A lock older than this whose owner cannot be checked (another host) is taken as abandoned. On the
   * owner's own host, a lock is abandoned as soon as its process is gone.
   */
  staleAfterMs?: number;
}

const DEFAULT_STALE_AFTER_MS = 24 * 60 * 60 * 1000;

/** Takes the lock at `file` or throws PW_LOCKED naming who holds it. */
export function acquireLock(file: string, options: LockOptions): Lock {
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    since: new Date().toISOString(),
    purpose: options.purpose,
  };
  mkdirSync(dirname(file), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(file, `${JSON.stringify(owner)}\n`, { flag: 'wx', mode: 0o644 });
      return { file, owner, release: () => releaseIfOwned(file, owner) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLockOwner(file);
    if (attempt === 0 && (!holder || isAbandoned(holder, options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS))) {
      rmSync(file, { force: true });
      continue;
    }
    throw new errors.PW_LOCKED(
      holder
        ? `${holder.purpose} is already running (pid ${holder.pid} on ${holder.host}, since ${holder.since})`
        : `${file} is held by another process`,
      { where: file },
    );
  }
}

/** Who holds the lock at `file`, or undefined when nobody does (or the file is unreadable). */
export function readLockOwner(file: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const owner = JSON.parse(text) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return undefined;
    return {
      pid: owner.pid,
      host: owner.host,
      since: String(owner.since ?? ''),
      purpose: String(owner.purpose ?? 'another process'),
    };
  } catch {
    // A half-written lock: its owner died between creating and filling it.
    return undefined;
  }
}

/** True when the lock at `file` is held by a live process (or one on another host that is not stale). */
export function isLocked(file: string, staleAfterMs = DEFAULT_STALE_AFTER_MS): LockOwner | undefined {
  const holder = readLockOwner(file);
  return holder && !isAbandoned(holder, staleAfterMs) ? holder : undefined;
}

function isAbandoned(holder: LockOwner, staleAfterMs: number): boolean {
  if (holder.host === hostname()) return !processAlive(holder.pid);
  const age = Date.now() - Date.parse(holder.since);
  return !Number.isFinite(age) || age > staleAfterMs;
}

/** Whether a process with this id runs on this machine (a process of another user counts). */
export function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOwned(file: string, owner: LockOwner): void {
  const holder = readLockOwner(file);
  if (holder && holder.pid === owner.pid && holder.host === owner.host && holder.since === owner.since) {
    rmSync(file, { force: true });
  }
}
