// What the benches that run each implementation in its own process share (bench/train, bench/folds):
// where things are, their options, and one measured process.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout the benches run from. */
export const root = fileURLToPath(new URL('../', import.meta.url));
/** Debian's Python, which has scikit-learn, XGBoost and pandas (not the one first on the PATH). */
export const python = '/usr/bin/python3';
/** The real vehicle-insurance sample (3,971 rows). */
export const realSample = join(root, '..', 'shared', 'data', 'vehicle-insurance-sample.csv');

/** The value after `--name` in `args`, or undefined. */
export function option(args, name) {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

/**
 * Runs a command under /usr/bin/time -v; returns the JSON object its last line of output prints, with
 * its peak RSS in MB and the CPU seconds of the whole process.
 */
export function measured(command, commandArgs, env = {}) {
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], {
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, ...env },
  });
  if (result.status !== 0)
    throw new Error(
      `${command} ${commandArgs.join(' ')} failed (${result.status}):\n${result.stderr.slice(-3000)}`,
    );
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  const user = /User time \(seconds\): ([\d.]+)/.exec(result.stderr);
  const system = /System time \(seconds\): ([\d.]+)/.exec(result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop());
  return {
    ...report,
    peak_rss_mb: rss ? Number(rss[1]) / 1024 : NaN,
    // the whole process (data loading and prediction included): shows what waiting threads burn
    cpu_s: user && system ? Number(user[1]) + Number(system[1]) : NaN,
  };
}
