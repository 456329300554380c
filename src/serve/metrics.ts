// Prometheus metrics for the prediction server, on a registry of its own so that two servers in one
// process (tests, embedding) never share or clash over counters.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MonitorSnapshot } from './monitor-report.js';

/** Latency buckets in seconds: dense below 10 ms, where a single prediction should land. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface RequestSeries {
  count: Counter.Internal;
  latency: Histogram.Internal<string>;
}

export interface ModelInfoLabels {
  version: string;
  alias: string;
  model_type: string;
  schema_fingerprint: string;
}

export class ServeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'route' | 'method' | 'status'>;
  private readonly latency: Histogram<'route' | 'method' | 'status'>;
  private readonly predictions: Counter<'label' | 'version'>;
  private readonly modelInfo: Gauge<keyof ModelInfoLabels>;
  private readonly reloads: Counter<'outcome'>;
  private readonly loggedPredictions: Counter<'outcome'>;
  private readonly droppedPredictions: Counter<'reason'>;
  private readonly unseenValues: Counter<'field' | 'reason'>;
  private readonly unseenSeries = new Map<string, Counter.Internal>();
  /** Label lookups hash their values on every call; the hot path reuses the bound children instead. */
  private readonly requestSeries = new Map<string, RequestSeries>();
  private readonly predictionSeries = new Map<string, Counter.Internal>();
  private readonly loggedSeries = new Map<string, Counter.Internal>();
  private readonly droppedSeries = new Map<string, Counter.Internal>();

  constructor(options: { prefix?: string; processMetrics?: boolean } = {}) {
    const prefix = options.prefix ?? 'pipewright_';
    this.requests = new Counter({
      name: `${prefix}http_requests_total`,
      help: 'HTTP requests answered, by route, method and status code.',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.latency = new Histogram({
      name: `${prefix}http_request_duration_seconds`,
      help: 'Time from receiving a request to sending its response, by route, method and status code.',
      labelNames: ['route', 'method', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.predictions = new Counter({
      name: `${prefix}predictions_total`,
      help: 'Records scored, by predicted label (or "value" for regression) and model version.',
      labelNames: ['label', 'version'],
      registers: [this.registry],
    });
    this.modelInfo = new Gauge({
      name: `${prefix}model_info`,
      help: 'The model being served: 1 for the loaded version, with its alias, type and schema fingerprint.',
      labelNames: ['version', 'alias', 'model_type', 'schema_fingerprint'],
      registers: [this.registry],
    });
    this.reloads = new Counter({
      name: `${prefix}model_reloads_total`,
      help: 'Model loads after the alias moved: loaded, or refused (the previous model stays).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.loggedPredictions = new Counter({
      name: `${prefix}prediction_log_total`,
      help: 'Predictions sent to the prediction log: written, or dropped (store failure or full queue).',
      labelNames: ['outcome'],
      registers: [this.registry],
    });
    this.droppedPredictions = new Counter({
      name: `${prefix}prediction_log_dropped_total`,
      help: 'Predictions the prediction log dropped, by reason: full (serve.prediction_log.max_pending), failed (the store refused), timeout (serve.prediction_log.write_timeout_ms), shutdown (serve.shutdown_timeout_ms).',
      labelNames: ['reason'],
      registers: [this.registry],
    });
    this.unseenValues = new Counter({
      name: `${prefix}unseen_values_total`,
      help: 'Values scored though training never saw them, by field and reason: above_range, below_range, unseen_category, unseen_missing.',
      labelNames: ['field', 'reason'],
      registers: [this.registry],
    });
    for (const reason of ['full', 'failed', 'timeout', 'shutdown'])
      this.droppedPredictions.inc({ reason }, 0);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix });
  }

  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${route}\u0000${method}\u0000${status}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { route, method, status: String(status) };
      series = { count: this.requests.labels(labels), latency: this.latency.labels(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.latency.observe(seconds);
  }

  countPredictions(label: string, version: string, count = 1): void {
    const key = `${label}\u0000${version}`;
    let series = this.predictionSeries.get(key);
    if (!series) {
      series = this.predictions.labels({ label, version });
      this.predictionSeries.set(key, series);
    }
    series.inc(count);
  }

  countUnseen(field: string, reason: string): void {
    const key = `${field}\u0000${reason}`;
    let series = this.unseenSeries.get(key);
    if (!series) this.unseenSeries.set(key, (series = this.unseenValues.labels({ field, reason })));
    series.inc();
  }

  setModel(labels: ModelInfoLabels): void {
    this.modelInfo.reset();
    this.modelInfo.set(labels, 1);
  }

  countReload(outcome: 'loaded' | 'refused'): void {
    this.reloads.inc({ outcome });
  }

  countLoggedPredictions(outcome: 'written' | 'dropped', count: number, reason?: string): void {
    if (count <= 0) return;
    // A full log drops one record per request record: bound children spare a label hash each time.
    let series = this.loggedSeries.get(outcome);
    if (!series) this.loggedSeries.set(outcome, (series = this.loggedPredictions.labels({ outcome })));
    series.inc(count);
    if (outcome !== 'dropped') return;
    const why = reason ?? 'failed';
    let dropped = this.droppedSeries.get(why);
    if (!dropped) this.droppedSeries.set(why, (dropped = this.droppedPredictions.labels({ reason: why })));
    dropped.inc(count);
  }

  /** The prediction log's records queued or being written, read at each scrape. */
  trackPredictionLog(pending: () => number, prefix = 'pipewright_'): void {
    new Gauge({
      name: `${prefix}prediction_log_pending`,
      help: 'Predictions queued or being written to the store (at most serve.prediction_log.max_pending).',
      registers: [this.registry],
      collect() {
        this.set(pending());
      },
    });
  }

  /**
   * Drift gauges, read from the live window at each scrape (PSI is computed from the bin counts then,
   * never per request). `read` returns nothing while no model is loaded.
   */
  trackDrift(read: () => MonitorSnapshot | undefined, prefix = 'pipewright_'): void {
    const registers = [this.registry];
    new Gauge({
      name: `${prefix}feature_psi`,
      help: 'Population stability index of each feature over the rolling window against the training data.',
      labelNames: ['feature'],
      registers,
      collect() {
        this.reset();
        for (const feature of read()?.features ?? [])
          if (feature.psi !== null) this.set({ feature: feature.field }, feature.psi);
      },
    });
    new Gauge({
      name: `${prefix}feature_drift`,
      help: 'Per feature, 1 when its PSI or KS is above the configured threshold (validation.drift) with enough requests in the window.',
      labelNames: ['feature'],
      registers,
      collect() {
        this.reset();
        for (const feature of read()?.features ?? [])
          this.set({ feature: feature.field }, feature.drifted ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}prediction_psi`,
      help: 'Population stability index of the scores (P(positive class), or the value) over the rolling window.',
      registers,
      collect() {
        this.reset();
        const predictions = read()?.predictions;
        if (predictions && predictions.psi !== null) this.set(predictions.psi);
      },
    });
    new Gauge({
      name: `${prefix}prediction_drift`,
      help: '1 when the scores drifted past the configured thresholds, else 0.',
      registers,
      collect() {
        this.reset();
        const predictions = read()?.predictions;
        if (predictions) this.set(predictions.drifted ? 1 : 0);
      },
    });
    new Gauge({
      name: `${prefix}monitor_window_size`,
      help: 'Requests in the rolling drift window now (it starts over when the model version changes).',
      registers,
      collect() {
        this.set(read()?.window.count ?? 0);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
