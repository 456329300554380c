// The cores this process can run on at once: the machine's, as far as its CPU affinity allows
// (os.availableParallelism), and no more than its control group's CPU quota — what `docker run --cpus 2`
// or a Kubernetes CPU limit sets. The kernel enforces a quota by pausing the process once it has used
// its share of each period, so threads beyond it do not run at the same time; they take turns, and the
// tree engine's workers, which wait for each other at every shared step, then wait for each other's turns.
// A fractional quota counts its whole cores only (2.5 CPUs: 2), as libuv's own count does from libuv 1.49
// (Node.js 24 has it; Node.js 20 has 1.46, whose availableParallelism does not read the quota) and as
// Rust's does: a third thread would be throttled.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { posix } from 'node:path';

/** Whole cores a quota of `quota` microseconds of CPU per `period` holds (at least 1); undefined for none. */
export function quotaCores(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.floor(quota / period));
}

/** Reads a text file, or undefined when it is not there (or not readable). */
export type ReadText = (path: string) => string | undefined;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The CPU quota of this process's control group in whole cores, or undefined when it has none: cgroup v2's
 * `cpu.max` ("<quota> <period>", or "max <period>") or v1's `cpu.cfs_quota_us` (-1 for none) over
 * `cpu.cfs_period_us`, in the group /proc/self/cgroup names and at the hierarchy's root (where a container
 * sees its own group); the smallest quota found.
 */
export function cgroupCores(read: ReadText = readText): number | undefined {
  const found: number[] = [];
  const add = (cores: number | undefined): void => {
    if (cores !== undefined) found.push(cores);
  };
  const groups = (read('/proc/self/cgroup') ?? '').split('\n');
  for (const line of groups) {
    // hierarchy:controllers:path; v2 is hierarchy 0 with no controllers listed
    const [hierarchy, controllers, path] = line.split(':');
    if (path === undefined) continue;
    if (hierarchy === '0' && controllers === '') {
      for (const dir of new Set([posix.join('/sys/fs/cgroup', path), '/sys/fs/cgroup'])) {
        const [quota, period] = (read(posix.join(dir, 'cpu.max')) ?? '').trim().split(/\s+/);
        if (quota !== undefined && period !== undefined) add(quotaCores(Number(quota), Number(period)));
      }
    } else if (controllers.split(',').includes('cpu')) {
      const mount = posix.join('/sys/fs/cgroup', controllers);
      // the controllers' own mount, or the usual /sys/fs/cgroup/cpu link to it; each at the group and its root
      const dirs = [
        posix.join(mount, path),
        mount,
        posix.join('/sys/fs/cgroup/cpu', path),
        '/sys/fs/cgroup/cpu',
      ];
      for (const dir of new Set(dirs)) {
        const quota = read(posix.join(dir, 'cpu.cfs_quota_us'));
        const period = read(posix.join(dir, 'cpu.cfs_period_us'));
        if (quota !== undefined && period !== undefined) add(quotaCores(Number(quota), Number(period)));
      }
    }
  }
  return found.length > 0 ? Math.min(...found) : undefined;
}

let usable: number | undefined;

/** The cores this process can run on at once (see the top of this file); read once a process. */
export function usableCores(): number {
  usable ??= Math.max(1, Math.min(availableParallelism(), cgroupCores() ?? Infinity));
  return usable;
}
