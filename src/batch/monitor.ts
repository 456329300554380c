// `pipewright monitor`: the drift of the predictions that `serve` logged to the store against the
// reference statistics of the model version that made them, with a verdict a cron job or CI can act on.
import { errors } from '../core/errors.js';
import { bundleSchema, parseBundle } from '../ml/bundle.js';
import { FrameBuilder } from '../ml/frame.js';
import { driftAgainstReference, type ChiSquareResult } from '../ml/stats.js';
import type { ModelRegistry } from '../registry/types.js';
import type { TypedRecord } from '../schema/coerce.js';
import type { Schema } from '../schema/schema.js';
import type { Collection } from '../store/types.js';

export interface DriftThresholds {
  psi: number;
  ks: number;
}

export interface LoggedDriftOptions {
  /** The prediction log (serve.predictions_collection). */
  predictions: Collection;
  registry: ModelRegistry;
  /** The alias or version whose predictions are compared (its version's reference statistics). */
  model: string;
  since: Date;
  thresholds: DriftThresholds;
  /** Fewer predictions than this give no verdict (monitor.min_count). */
  minCount: number;
  now?: Date;
}

export interface LoggedFeatureDrift {
  field: string;
  kind: 'numeric' | 'category';
  psi: number;
  ks?: number;
  chiSquare?: ChiSquareResult;
  drifted: boolean;
  referenceMissingShare: number;
  currentMissingShare: number;
}

export interface LoggedDriftReport {
  /** What was asked for (`production`, `v3`) and the version it names. */
  model: string;
  version: string;
  since: string;
  until: string;
  /** Predictions of `version` logged since `since`. */
  count: number;
  /** Predictions logged since `since`, per model version (the others are not compared). */
  byVersion: Record<string, number>;
  /** Documents of `version` without a readable input record, left out. */
  unreadable: number;
  minCount: number;
  thresholds: DriftThresholds;
  /** `insufficient`: too few predictions to judge; no drift verdict. */
  status: 'ok' | 'drift' | 'insufficient';
  message: string;
  features: LoggedFeatureDrift[];
  /** The scores (binary: P(positive class); regression: the value); null for multiclass models. */
  predictions: { psi: number; ks: number; drifted: boolean } | null;
}

const UNITS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `--since`: an ISO 8601 time (`2024-05-01`, `2024-05-01T12:00:00Z`) or a span back from now (`30m`, `24h`, `7d`). */
export function parseSince(text: string, now: Date = new Date()): Date {
  const trimmed = text.trim();
  const relative = /^(\d+(?:\.\d+)?)\s*(s|min|m|h|d|w)$/i.exec(trimmed);
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2].toLowerCase()]);
  const time = /^\d{4}-\d{2}-\d{2}/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new errors.PW_USAGE(
      `--since ${JSON.stringify(text)} is neither a time nor a span of time back from now`,
      {
        hint: 'Give an ISO 8601 time (2024-05-01 or 2024-05-01T12:00:00Z) or a span such as 30m, 24h or 7d.',
      },
    );
  }
  return new Date(time);
}

function plural(count: number, word: string): string {
  return `${count.toLocaleString('en-US')} ${word}${count === 1 ? '' : 's'}`;
}

/** Reads the predictions logged since `since` and measures the drift of those made by the chosen version. */
export async function driftOfLoggedPredictions(options: LoggedDriftOptions): Promise<LoggedDriftReport> {
  const { registry, thresholds, minCount } = options;
  const info = await registry.resolve(options.model);
  const version = info.version;
  const { bytes } = await registry.load(version);
  const source = `model ${version} in the registry at ${registry.location}`;
  const bundle = parseBundle(bytes, undefined, { source });
  const reference = bundle.metadata.referenceStats;
  if (!reference) {
    throw new errors.PW_MONITOR_NO_REFERENCE(
      `${source} carries no reference statistics, so its predictions cannot be compared with its training data`,
    );
  }
  // Inputs were checked against the schema the model was trained on; only its features are compared.
  const trained = bundleSchema(bundle, source);
  const features: Schema = { ...trained, target: undefined, key: undefined, task: undefined };
  const builder = new FrameBuilder(features, 4096, `the prediction log "${options.predictions.name}"`);
  const scoreKey =
    bundle.task === 'regression' ? 'value' : bundle.task === 'binary' ? 'probability' : undefined;
  const scores: number[] = [];
  const byVersion: Record<string, number> = {};
  let unreadable = 0;
  const since = options.since.toISOString();
  const projection: Record<string, 0 | 1> = { _id: 0, version: 1, input: 1 };
  if (scoreKey) projection[scoreKey] = 1;
  for await (const document of options.predictions.find(
    { time: { $gte: since } },
    { projection, batchSize: 5000 },
  )) {
    const madeBy = typeof document.version === 'string' ? document.version : '(unknown)';
    byVersion[madeBy] = (byVersion[madeBy] ?? 0) + 1;
    if (madeBy !== version) continue;
    const input = document.input;
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      unreadable++;
      continue;
    }
    builder.push(input as TypedRecord);
    if (scoreKey) {
      const score = document[scoreKey];
      scores.push(typeof score === 'number' ? score : Number.NaN);
    }
  }
  const count = builder.rows;
  const until = (options.now ?? new Date()).toISOString();
  const base = {
    model: options.model,
    version,
    since,
    until,
    count,
    byVersion,
    unreadable,
    minCount,
    thresholds,
  };
  if (count < minCount) {
    const others = Object.entries(byVersion).filter(([name]) => name !== version);
    const elsewhere =
      others.length > 0
        ? ` (other versions: ${others.map(([name, n]) => `${name} ${n.toLocaleString('en-US')}`).join(', ')}; pass --model <version> to check one)`
        : '';
    return {
      ...base,
      status: 'insufficient',
      message: `Only ${plural(count, 'prediction')} of ${version} logged since ${since}; at least ${minCount.toLocaleString('en-US')} are needed (monitor.min_count), so there is no drift verdict${elsewhere}.`,
      features: [],
      predictions: null,
    };
  }
  const frame = builder.finish();
  const drift = driftAgainstReference(
    reference,
    frame,
    undefined,
    scoreKey && reference.predictions ? Float64Array.from(scores) : undefined,
  );
  const featureDrift: LoggedFeatureDrift[] = drift.features.map((feature) => ({
    ...feature,
    drifted: feature.psi > thresholds.psi || (feature.ks !== undefined && feature.ks > thresholds.ks),
  }));
  const predictions = drift.predictions
    ? {
        ...drift.predictions,
        drifted: drift.predictions.psi > thresholds.psi || drift.predictions.ks > thresholds.ks,
      }
    : null;
  const drifted = featureDrift.filter((feature) => feature.drifted).map((feature) => feature.field);
  const parts = [
    ...(drifted.length > 0
      ? [`${drifted.length} of ${featureDrift.length} features (${drifted.join(', ')})`]
      : []),
    ...(predictions?.drifted ? ['the predictions'] : []),
  ];
  const status = parts.length > 0 ? 'drift' : 'ok';
  return {
    ...base,
    status,
    message:
      status === 'drift'
        ? `Drift in ${parts.join(' and ')} of ${version} over ${plural(count, 'prediction')} since ${since}.`
        : `No drift: ${plural(count, 'prediction')} of ${version} since ${since} are within the thresholds.`,
    features: featureDrift,
    predictions,
  };
}
