// Explanations for the prediction routes: one explainer per loaded model, made on first use (a model
// swapped in by hot reload gets its own), and the `explain` query parameter.
import { errors } from '../core/errors.js';
import type { Predictor } from '../ml/bundle.js';
import { createExplainer, type BundleExplainer } from '../ml/explain/explainer.js';
import { compileExplanationJson } from './explanation-json.js';
import type { ServedModel } from './model.js';
import type { LiveMonitor } from './monitor.js';
import type { AttributionSource, AttributionStatus } from './monitor-report.js';
import type { TypedRecord } from '../schema/coerce.js';

/** A served model's explainer, with what an explained JSON answer needs made once. */
export interface ServedExplainer {
  readonly explainer: BundleExplainer;
  /** The `explanation` of a row encoded by explainer.encodeRecord, as JSON text. */
  explainJson(row: Float64Array): string;
}

const explainers = new WeakMap<Predictor, ServedExplainer>();

function serve(explainer: BundleExplainer): ServedExplainer {
  const values = new Float64Array(explainer.outputs * explainer.fields.length);
  const json = compileExplanationJson(explainer);
  return {
    explainer,
    explainJson(row) {
      explainer.explainEncodedInto(row, values);
      return json(values);
    },
  };
}

/** The served model's explainer; PW_EXPLAIN_UNAVAILABLE when the model cannot be explained. */
export function explainerOf(model: ServedModel): ServedExplainer {
  let served = explainers.get(model.predictor);
  if (!served) {
    served = serve(createExplainer(model.predictor.bundle));
    explainers.set(model.predictor, served);
  }
  return served;
}

/** Whether the request asks for explanations: `?explain=true` (or 1); false, 0 or absent do not. */
export function wantsExplanation(query: unknown): boolean {
  const value = (query as Record<string, unknown> | undefined)?.explain;
  if (value === undefined || value === 'false' || value === '0' || value === '') return false;
  if (value === 'true' || value === '1') return true;
  throw new errors.PW_REQUEST_INVALID(
    `The query parameter explain is ${JSON.stringify(value)}; it takes true or false`,
  );
}

/** One observed request in this many is explained for the monitor. */
export const ATTRIBUTION_EVERY = 20;
/** The monitor keeps the last this many explained requests. */
export const ATTRIBUTION_WINDOW = 1_000;

/**
 * Mean |SHAP| per field of a sample of live requests: every ATTRIBUTION_EVERY-th observed record is
 * explained after the answer is sent (at most one waiting at a time, and within a share of
 * the server's time), into a rolling window; the reference is the model card's mean |SHAP| on the test rows.
 */
class LiveAttributions implements AttributionSource {
  private readonly explainer: BundleExplainer;
  private readonly reference: Map<string, number>;
  private readonly values: Float64Array;
  private readonly window: Float64Array;
  private readonly sums: Float64Array;
  private cursor = 0;
  private filled = 0;
  private seen = 0;
  private pending = false;
  /** performance.now() before which no request is explained (the time budget). */
  private restUntil = 0;

  /**
   * `timeShare`: the share of the server's time the sample may take (monitor.explain_time_share): after an
   * explanation that took t, the next waits t / share. A forest explained in milliseconds is then sampled
   * a few times a second, and the requests around it never wait behind a run of explanations.
   */
  constructor(
    model: ServedModel,
    private readonly timeShare: number,
  ) {
    // Its own explainer without per-leaf tables: building those would stall the server once per model,
    // and a sampled request can wait for a slower exact method.
    this.explainer = createExplainer(model.predictor.bundle, { algorithm: 'quadrature' });
    const card = model.predictor.bundle.metadata.card;
    this.reference = new Map((card?.explanations?.meanAbsShap ?? []).map((item) => [item.field, item.value]));
    const width = this.explainer.fields.length;
    this.values = new Float64Array(this.explainer.outputs * width);
    this.window = new Float64Array(ATTRIBUTION_WINDOW * width);
    this.sums = new Float64Array(width);
  }

  observe(record: TypedRecord): void {
    if (this.seen++ % ATTRIBUTION_EVERY !== 0 || this.pending) return;
    if (performance.now() < this.restUntil) return;
    this.pending = true;
    setImmediate(() => {
      const started = performance.now();
      this.add(record);
      const took = performance.now() - started;
      // The first explanation also builds the explainer's tables: a one-off, not the cost to budget.
      if (this.filled > 1) this.restUntil = started + took / this.timeShare;
      this.pending = false;
    });
  }

  private add(record: TypedRecord): void {
    const explainer = this.explainer;
    const width = explainer.fields.length;
    explainer.explainRecordInto(record, this.values);
    const at = this.cursor * width;
    for (let j = 0; j < width; j++) {
      let total = 0;
      for (let o = 0; o < explainer.outputs; o++) total += Math.abs(this.values[o * width + j]);
      this.sums[j] += total - this.window[at + j];
      this.window[at + j] = total;
    }
    this.cursor = (this.cursor + 1) % ATTRIBUTION_WINDOW;
    this.filled = Math.min(this.filled + 1, ATTRIBUTION_WINDOW);
  }

  status(): AttributionStatus | undefined {
    if (this.filled === 0) return undefined;
    const fields = this.explainer.fields.map((field, j) => ({
      field,
      live: Math.max(0, this.sums[j]) / this.filled,
      reference: this.reference.get(field) ?? null,
    }));
    fields.sort((a, b) => (b.reference ?? b.live ?? 0) - (a.reference ?? a.live ?? 0));
    return {
      space: this.explainer.space,
      count: this.filled,
      every: ATTRIBUTION_EVERY,
      size: ATTRIBUTION_WINDOW,
      fields,
    };
  }
}

const live = new WeakMap<LiveMonitor, LiveAttributions | null>();

/** Offers an observed record to the monitor's explanation sample (nothing when the model cannot be explained). */
export function sampleAttribution(
  monitor: LiveMonitor | undefined,
  model: ServedModel,
  record: TypedRecord,
): void {
  if (!monitor || monitor.version !== model.version) return;
  let sampler = live.get(monitor);
  if (sampler === undefined) {
    try {
      sampler = new LiveAttributions(model, monitor.settings.explainTimeShare);
      monitor.attributions = sampler;
    } catch {
      sampler = null;
    }
    live.set(monitor, sampler);
  }
  sampler?.observe(record);
}
