// Live drift monitoring inside the server: a rolling window of the last N scored records, kept as the
// bin index of each feature (and of the score) in a ring, with per-bin counts updated on every request,
// so PSI per feature and of the predictions can be read from the counts at any time.
import { numericOf } from '../ml/frame.js';
import { psi, type FeatureReference, type NumericReference, type ReferenceStats } from '../ml/stats.js';
import type { TypedRecord, Value } from '../schema/coerce.js';
import type { Field, Schema } from '../schema/schema.js';
import { edgesBelow } from '../ml/search.js';
import type { UnseenValue } from '../ml/unseen.js';
import type {
  DistributionStatus,
  PredictionStatus,
  MonitorStatus,
  MonitorSnapshot,
  UnseenCount,
  AttributionSource,
} from './monitor-report.js';

export interface MonitorSettings {
  /** Records in the rolling window (monitor.window). */
  window: number;
  /** Records in the window before drift is flagged (monitor.min_count). */
  minCount: number;
  /** Drift when PSI is above this (validation.drift.psi_threshold). */
  psiThreshold: number;
  /** Drift when the Kolmogorov-Smirnov statistic is above this (validation.drift.ks_threshold). */
  ksThreshold: number;
  /** The share of the server's time that explaining sampled requests may take (monitor.explain_time_share). */
  explainTimeShare: number;
}

export const DEFAULT_MONITOR_SETTINGS: MonitorSettings = {
  window: 10_000,
  minCount: 1000,
  psiThreshold: 0.2,
  ksThreshold: 0.1,
  explainTimeShare: 0.005,
};

const KIND_NUMERIC = 0;
const KIND_CATEGORY = 1;

interface Tracked {
  name: string;
  field: Field | undefined;
  kind: 'numeric' | 'category';
  /** Position of the first bin in the flat count array. */
  offset: number;
  reference: readonly number[];
  labels: string[];
  /** Numeric: the reference edges; the last bin is the missing bin. */
  edges: Float64Array;
  /** Category: value (and its text) to bin; other categories and missing get the last two bins. */
  lookup: Map<unknown, number>;
}

/** A reference distribution is usable when its bins and proportions agree (the stats are plain bundle data). */
function usable(reference: FeatureReference | NumericReference | undefined): boolean {
  if (!reference || !Array.isArray(reference.proportions)) return false;
  if (reference.kind === 'numeric')
    return Array.isArray(reference.edges) && reference.proportions.length === reference.edges.length + 2;
  if (reference.kind === 'category')
    return (
      Array.isArray(reference.categories) && reference.proportions.length === reference.categories.length + 2
    );
  return false;
}

function formatEdge(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(3)));
}

function numericLabels(reference: NumericReference): string[] {
  const { edges } = reference;
  const labels: string[] = [];
  for (let bin = 0; bin <= edges.length; bin++) {
    if (reference.discrete) labels.push(formatEdge(bin < edges.length ? edges[bin] : reference.max));
    else if (bin === 0) labels.push(`≤ ${formatEdge(edges[0] ?? reference.max)}`);
    else if (bin === edges.length) labels.push(`> ${formatEdge(edges[bin - 1])}`);
    else labels.push(`${formatEdge(edges[bin - 1])} – ${formatEdge(edges[bin])}`);
  }
  labels.push('missing');
  return labels;
}

function track(name: string, field: Field | undefined, reference: FeatureReference, offset: number): Tracked {
  if (reference.kind === 'numeric') {
    return {
      name,
      field,
      kind: 'numeric',
      offset,
      reference: reference.proportions,
      labels: numericLabels(reference),
      edges: Float64Array.from(reference.edges),
      lookup: new Map(),
    };
  }
  const lookup = new Map<unknown, number>();
  reference.categories.forEach((value, index) => {
    // Typed records carry the schema's types; the text form also matches, as frames match categories by text.
    if (!lookup.has(String(value))) lookup.set(String(value), index);
    if (!lookup.has(value)) lookup.set(value, index);
  });
  return {
    name,
    field,
    kind: 'category',
    offset,
    reference: reference.proportions,
    labels: [...reference.categories.map(String), 'other', 'missing'],
    edges: new Float64Array(0),
    lookup,
  };
}

const numericBin = edgesBelow;

/** The largest gap between cumulative shares of the present-value bins (all but the last, missing, bin). */
function binnedKs(reference: readonly number[], counts: Int32Array, offset: number, bins: number): number {
  let referenceTotal = 0;
  let liveTotal = 0;
  for (let bin = 0; bin < bins - 1; bin++) {
    referenceTotal += reference[bin];
    liveTotal += counts[offset + bin];
  }
  if (referenceTotal <= 0 || liveTotal <= 0) return 0;
  let referenceCumulative = 0;
  let liveCumulative = 0;
  let largest = 0;
  for (let bin = 0; bin < bins - 1; bin++) {
    referenceCumulative += reference[bin] / referenceTotal;
    liveCumulative += counts[offset + bin] / liveTotal;
    largest = Math.max(largest, Math.abs(referenceCumulative - liveCumulative));
  }
  return largest;
}

/**
 * The rolling window of one model version. `observe` costs O(features) and allocates nothing;
 * `snapshot` reads PSI from the counts in O(features × bins).
 */
export class LiveMonitor {
  readonly settings: MonitorSettings;
  private readonly tracked: Tracked[] = [];
  private readonly prediction: Tracked | undefined;
  private readonly predictionReference: NumericReference | undefined;
  private readonly kinds: Uint8Array;
  private readonly names: string[];
  private readonly fields: (Field | undefined)[];
  private readonly offsets: Int32Array;
  private readonly missingBins: Int32Array;
  private readonly otherBins: Int32Array;
  private readonly edges: Float64Array[];
  private readonly lookups: Map<unknown, number>[];
  /** Records per bin in the window, every distribution's bins one after the other. */
  private readonly counts: Int32Array;
  /** The bin of each distribution for each record in the window: `width` entries a record. */
  private readonly slots: Uint32Array;
  private readonly scores: Float64Array;
  private readonly width: number;
  private readonly featureCount: number;
  private readonly size: number;
  private cursor = 0;
  private filled = 0;
  private observedTotal = 0;
  private cached: { observed: number; snapshot: MonitorSnapshot } | undefined;
  private readonly unseenCounts = new Map<string, UnseenCount>();
  /** Set by the explanation sampler on first use. */
  attributions: AttributionSource | undefined;
  /** Why nothing is tracked, when nothing is. */
  readonly unavailable: string | undefined;
  private readonly referenceRows: number;

  constructor(
    readonly version: string,
    schema: Schema,
    stats: ReferenceStats | null | undefined,
    settings: Partial<MonitorSettings> = {},
    options: { trackPredictions?: boolean } = {},
  ) {
    this.settings = { ...DEFAULT_MONITOR_SETTINGS, ...settings };
    this.size = Math.max(1, Math.floor(this.settings.window));
    const fieldsByName = new Map(schema.features.map((field) => [field.name, field]));
    let offset = 0;
    if (stats && Array.isArray(stats.features)) {
      for (const reference of stats.features) {
        const field = fieldsByName.get(reference?.field);
        if (!field || !usable(reference)) continue;
        const tracked = track(field.name, field, reference, offset);
        this.tracked.push(tracked);
        offset += tracked.reference.length;
      }
      if ((options.trackPredictions ?? true) && usable(stats.predictions) && stats.predictions) {
        this.predictionReference = stats.predictions;
        this.prediction = track('prediction', undefined, stats.predictions, offset);
        offset += this.prediction.reference.length;
      }
    }
    this.unavailable = !stats
      ? `model ${version} carries no reference statistics (retrain it with \`pipewright run\` to monitor drift)`
      : this.tracked.length === 0 && !this.prediction
        ? `the reference statistics of model ${version} cover none of the schema's features`
        : undefined;
    this.referenceRows = stats?.rows ?? 0;
    this.featureCount = this.tracked.length;
    this.width = this.featureCount + (this.prediction ? 1 : 0);
    this.kinds = Uint8Array.from(this.tracked, (t) => (t.kind === 'numeric' ? KIND_NUMERIC : KIND_CATEGORY));
    this.names = this.tracked.map((t) => t.name);
    this.fields = this.tracked.map((t) => t.field);
    this.offsets = Int32Array.from(this.tracked, (t) => t.offset);
    this.missingBins = Int32Array.from(this.tracked, (t) => t.offset + t.reference.length - 1);
    this.otherBins = Int32Array.from(this.tracked, (t) => t.offset + t.reference.length - 2);
    this.edges = this.tracked.map((t) => t.edges);
    this.lookups = this.tracked.map((t) => t.lookup);
    this.counts = new Int32Array(Math.max(1, offset));
    const tracking = this.width > 0;
    this.slots = new Uint32Array(tracking ? this.size * this.width : 0);
    this.scores = new Float64Array(tracking && this.prediction ? this.size : 0);
  }

  /** Whether anything is tracked (the bundle had usable reference statistics). */
  get active(): boolean {
    return this.width > 0;
  }

  /** Records in the window now. */
  get count(): number {
    return this.filled;
  }

  private bin(index: number, value: Value | undefined): number {
    if (value === null || value === undefined) return this.missingBins[index];
    if (this.kinds[index] === KIND_NUMERIC) {
      const number = typeof value === 'number' ? value : numericOf(this.fields[index]!, value);
      if (number !== number) return this.missingBins[index];
      return this.offsets[index] + numericBin(this.edges[index], number);
    }
    const lookup = this.lookups[index];
    let bin = lookup.get(value);
    if (bin === undefined && typeof value !== 'string') bin = lookup.get(String(value));
    return bin === undefined ? this.otherBins[index] : this.offsets[index] + bin;
  }

  /** Counts a record's values unseen in training; call before `observe`, which renews the snapshot. */
  countUnseen(flags: readonly UnseenValue[]): void {
    for (const flag of flags) {
      const key = `${flag.field}\u0000${flag.reason}`;
      const entry = this.unseenCounts.get(key);
      if (entry) entry.count++;
      else this.unseenCounts.set(key, { field: flag.field, reason: flag.reason, count: 1 });
    }
  }

  /** Adds one scored record, evicting the oldest when the window is full. `score` is NaN when there is none. */
  observe(record: TypedRecord, score: number): void {
    if (this.width === 0) return;
    const base = this.cursor * this.width;
    const full = this.filled === this.size;
    const counts = this.counts;
    const slots = this.slots;
    for (let index = 0; index < this.featureCount; index++) {
      const bin = this.bin(index, record[this.names[index]]);
      if (full) counts[slots[base + index]]--;
      counts[bin]++;
      slots[base + index] = bin;
    }
    const prediction = this.prediction;
    if (prediction) {
      const slot = base + this.featureCount;
      const bin =
        score === score
          ? prediction.offset + numericBin(prediction.edges, score)
          : prediction.offset + prediction.reference.length - 1;
      if (full) counts[slots[slot]]--;
      counts[bin]++;
      slots[slot] = bin;
      this.scores[this.cursor] = score;
    }
    this.cursor = this.cursor + 1 === this.size ? 0 : this.cursor + 1;
    if (!full) this.filled++;
    this.observedTotal++;
  }

  private distribution(tracked: Tracked): DistributionStatus {
    const bins = tracked.reference.length;
    const live = new Array<number>(bins);
    for (let bin = 0; bin < bins; bin++)
      live[bin] = this.filled > 0 ? this.counts[tracked.offset + bin] / this.filled : 0;
    const value = this.filled > 0 ? psi(tracked.reference, live) : null;
    const ks =
      tracked.kind === 'numeric' && this.filled > 0
        ? binnedKs(tracked.reference, this.counts, tracked.offset, bins)
        : null;
    const { minCount, psiThreshold, ksThreshold } = this.settings;
    const drifted =
      this.filled >= minCount &&
      ((value !== null && value > psiThreshold) || (ks !== null && ks > ksThreshold));
    return {
      field: tracked.name,
      kind: tracked.kind,
      psi: value,
      ks,
      drifted,
      bins: tracked.labels.map((label, bin) => ({
        label,
        reference: tracked.reference[bin],
        live: live[bin],
      })),
    };
  }

  /** The drift of the window against the reference; cached until the next observation. */
  snapshot(): MonitorSnapshot {
    const attributions = this.attributions?.status();
    if (this.cached && this.cached.observed === this.observedTotal) {
      const cached = this.cached.snapshot;
      return attributions ? { ...cached, attributions } : cached;
    }
    const features = this.tracked.map((tracked) => this.distribution(tracked));
    let predictions: PredictionStatus | null = null;
    if (this.prediction && this.predictionReference) {
      let sum = 0;
      let present = 0;
      for (let index = 0; index < this.filled; index++) {
        const score = this.scores[index];
        if (score === score) {
          sum += score;
          present++;
        }
      }
      predictions = {
        ...this.distribution(this.prediction),
        meanLive: present > 0 ? sum / present : null,
        meanReference: this.predictionReference.mean,
      };
    }
    const drifted = features.some((feature) => feature.drifted) || Boolean(predictions?.drifted);
    const status: MonitorStatus =
      this.width === 0
        ? 'unavailable'
        : this.filled < this.settings.minCount
          ? 'collecting'
          : drifted
            ? 'drift'
            : 'ok';
    const snapshot: MonitorSnapshot = {
      version: this.version,
      status,
      ...(this.unavailable ? { reason: this.unavailable } : {}),
      window: {
        size: this.size,
        count: this.filled,
        minCount: this.settings.minCount,
        observed: this.observedTotal,
      },
      thresholds: { psi: this.settings.psiThreshold, ks: this.settings.ksThreshold },
      referenceRows: this.referenceRows,
      features,
      predictions,
      unseen: [...this.unseenCounts.values()].map((entry) => ({ ...entry })),
    };
    this.cached = { observed: this.observedTotal, snapshot };
    return attributions ? { ...snapshot, attributions } : snapshot;
  }
}
