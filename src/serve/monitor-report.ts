// What the live monitor reports: the snapshot of its window (drift per feature and of the predictions,
// values unseen in training, what drives live predictions), read by /monitor, /monitor.json and /metrics.
import type { UnseenReason } from '../ml/unseen.js';

export interface BinShare {
  label: string;
  reference: number;
  live: number;
}

export interface DistributionStatus {
  field: string;
  kind: 'numeric' | 'category';
  /** null while the window is empty. */
  psi: number | null;
  /**
   * Numeric distributions: the largest gap between the reference and live distribution functions at
   * the reference bin edges (exact for references with one bin per value, otherwise a lower bound of KS).
   */
  ks: number | null;
  drifted: boolean;
  bins: BinShare[];
}

export interface PredictionStatus extends DistributionStatus {
  meanLive: number | null;
  meanReference: number;
}

export type MonitorStatus = 'ok' | 'drift' | 'collecting' | 'unavailable';

export interface MonitorSnapshot {
  version: string;
  status: MonitorStatus;
  /** Why there is nothing to monitor (status `unavailable`). */
  reason?: string;
  window: { size: number; count: number; minCount: number; observed: number };
  thresholds: { psi: number; ks: number };
  referenceRows: number;
  features: DistributionStatus[];
  /** The distribution of scores (binary: P(positive class); regression: the value); null when not tracked. */
  predictions: PredictionStatus | null;
  /** Values scored though training never saw them, by field and reason, since this model was loaded. */
  unseen: UnseenCount[];
  /** What drives live predictions (mean |SHAP| per field) beside training; absent until a sample is explained. */
  attributions?: AttributionStatus;
}

export interface UnseenCount {
  field: string;
  reason: UnseenReason;
  count: number;
}

/** Mean |SHAP value| per field over a sample of the window's requests, beside the training reference. */
export interface AttributionStatus {
  space: string;
  /** Requests explained in the sample now (one in `every` observed, at most `size` kept). */
  count: number;
  every: number;
  size: number;
  fields: { field: string; live: number | null; reference: number | null }[];
}

/** Where a monitor reads its attributions from (see serve/explanation.ts). */
export interface AttributionSource {
  status(): AttributionStatus | undefined;
}
