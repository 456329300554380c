// Models with reference statistics for the drift-monitoring tests: the fixture bundle, given the
// training rows' statistics and the model's scores on them (as `pipewright run` does), and resealed.
import { computeReferenceStats, type ReferenceStats } from '../../src/ml/stats.js';
import { bundleChecksum, Predictor, type Bundle } from '../../src/ml/bundle.js';
import { frameFromRecordsSync } from '../../src/ml/frame.js';
import type { Schema } from '../../src/schema/schema.js';
import { trainBundle, typedRecords, validRecord, type TrainOptions } from '../fixtures/model.js';

/** A trained bundle carrying reference statistics of its training rows. */
export async function trainMonitoredBundle(
  schema: Schema,
  options: TrainOptions = {},
): Promise<{ bundle: Bundle; stats: ReferenceStats }> {
  const rows = options.rows ?? 1500;
  const seed = options.seed ?? 7;
  const sealed = await trainBundle(schema, { ...options, rows, seed });
  const records = typedRecords(schema, rows, seed);
  const frame = frameFromRecordsSync(schema, records);
  const scores = Predictor.fromBundle(sealed).predictRecords(records);
  const stats = computeReferenceStats(frame, undefined, scores);
  const { checksum: _checksum, ...body } = sealed;
  const withStats = { ...body, metadata: { ...body.metadata, referenceStats: stats } };
  return { bundle: { ...withStats, checksum: bundleChecksum(withStats) }, stats };
}

const FEATURES = Object.keys(validRecord());

/** Request bodies (feature fields only) from the seeded synthetic table, as clients would send them. */
export function requestRecords(schema: Schema, rows: number, seed: number): Record<string, unknown>[] {
  return typedRecords(schema, rows, seed).map((record) =>
    Object.fromEntries(FEATURES.map((name) => [name, record[name]])),
  );
}

/** The same traffic moved away from the training data: older customers, all with vehicle damage, dearer premiums. */
export function shifted(record: Record<string, unknown>): Record<string, unknown> {
  return {
    ...record,
    Age: Math.min(120, (record.Age as number) + 35),
    Vehicle_Damage: 'Yes',
    Annual_Premium: (record.Annual_Premium as number) * 3 + 20_000,
  };
}
