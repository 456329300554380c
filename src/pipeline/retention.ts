// Keeps the artifacts' data snapshots bounded: each run's `ingest/frame.arrow` is a hard link to the one
// stored snapshot of its data (`.snapshots/<data hash>.arrow`); after a run, the links of runs older than
// the newest `artifacts.keep_data` are removed, and a stored snapshot no run links to any more goes with
// them. A run's record (which then says its snapshot was removed), report and other files stay.
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../core/logger.js';
import { listRuns, writeRunRecord } from './record.js';
import { SNAPSHOTS_DIR } from './steps/ingest.js';

export interface PrunedSnapshots {
  /** Runs whose snapshot link was removed. */
  runs: number;
  /** Stored snapshots removed (no run linked to them any more). */
  snapshots: number;
  bytes: number;
}

/** Removes the snapshots of runs older than the newest `keep` (0 keeps every one); says what it freed. */
export function pruneSnapshots(artifactsRoot: string, keep: number, logger: Logger): PrunedSnapshots {
  const pruned: PrunedSnapshots = { runs: 0, snapshots: 0, bytes: 0 };
  if (keep === 0) return pruned;
  // oldest first (by start time: an id names the second only)
  const runs = listRuns(artifactsRoot);
  for (const run of runs.slice(0, Math.max(0, runs.length - keep))) {
    // the snapshot the record names (none once removed, or for a run that ended before ingest)
    if (!run.artifacts.frame) continue;
    const file = join(artifactsRoot, run.artifacts.frame);
    if (existsSync(file)) {
      pruned.bytes += removedBytes(file);
      pruned.runs++;
    }
    // the record says the snapshot is gone rather than naming a file that is not there
    delete run.artifacts.frame;
    run.artifacts.frameRemoved = `artifacts.keep_data: ${keep}`;
    writeRunRecord(artifactsRoot, run);
  }
  const stored = join(artifactsRoot, SNAPSHOTS_DIR);
  if (existsSync(stored)) {
    for (const name of readdirSync(stored)) {
      const file = join(stored, name);
      // a half-written snapshot was left by a run that was killed: this run holds the project's run
      // lock and has finished writing its own, so no other is being written
      if (name.endsWith('.partial')) {
        pruned.bytes += removedBytes(file);
        continue;
      }
      // a snapshot no run links to: only the store holds it
      if (!name.endsWith('.arrow') || statSync(file).nlink > 1) continue;
      pruned.bytes += removedBytes(file);
      pruned.snapshots++;
    }
  }
  if (pruned.runs > 0 || pruned.snapshots > 0)
    logger.info(
      { prunedSnapshots: pruned },
      `removed the data snapshots of ${pruned.runs} older run(s) (artifacts.keep_data: ${keep}), freeing ${(pruned.bytes / 1e6).toFixed(1)} MB`,
    );
  return pruned;
}

/** Removes `file` and returns the bytes that freed on disk (none while another link holds them). */
function removedBytes(file: string): number {
  const { nlink, size } = statSync(file);
  rmSync(file, { force: true });
  return nlink > 1 ? 0 : size;
}
