// The prediction log: a sample of scored records and their outputs, written to the store in batches
// off the request path, so that monitoring can compare live inputs with the training data. Bounded:
// a slow or locked store costs dropped (and counted) records, never memory or a late exit.
import type { Logger } from '../core/logger.js';
import type { TypedRecord } from '../schema/coerce.js';
import type { Collection, Document } from '../store/types.js';

/**
 * One logged prediction. `time` is ISO 8601 (sorts as text, so `--since` filters work on both
 * backends); `input` holds the typed feature values the model saw.
 */
export interface PredictionDocument {
  time: string;
  version: string;
  requestId: string;
  input: TypedRecord;
  probability?: number;
  label?: string | number | boolean;
  value?: number;
  [key: string]: unknown;
}

/** Where batches go: a store collection, or the embedded store's writer thread (which takes a deadline). */
export interface PredictionSink {
  insertMany(documents: Document[], options?: { deadline?: number }): Promise<number>;
}

/** Why records were dropped: the log was full, the store refused, a write took too long, or shutdown came first. */
export type DropReason = 'full' | 'failed' | 'timeout' | 'shutdown';

export interface PredictionLogOptions {
  /** Share of predictions kept, 0 to 1 (serve.log_predictions). */
  rate: number;
  /**
   * Records per write (default 100). A batch is turned into JSON (or BSON) on the request thread even
   * when a writer thread or the MongoDB driver does the rest, so small batches keep each pause short (a
   * fraction of a millisecond for 100) rather than rare long ones.
   */
  batchSize?: number;
  /** Writes what is queued at least this often, in ms (default 200). */
  flushIntervalMs?: number;
  /**
   * Records queued plus being written, at most (serve.prediction_log.max_pending, default 10,000).
   * Beyond it the oldest queued record is dropped for each new one.
   */
  maxPending?: number;
  /** A write still running after this long is abandoned and its records dropped (default 5,000 ms). */
  writeTimeoutMs?: number;
  /** Batches being written at once (default 4): enough to keep a writer busy, few enough to bound memory. */
  concurrentWrites?: number;
  /** Drops are reported in one warning line per this many ms at most (default 10,000). */
  dropReportIntervalMs?: number;
  logger: Logger;
  /** Called with the number written or dropped after each attempt (metrics); `reason` comes with drops. */
  onWrite?: (outcome: 'written' | 'dropped', count: number, reason?: DropReason) => void;
  /** Deterministic sampling for tests; Math.random by default. */
  random?: () => number;
}

/** Counts since the log was made: `enqueued = written + dropped + pending` always holds. */
export interface PredictionLogStats {
  enqueued: number;
  written: number;
  dropped: number;
  /** Queued plus being written. */
  pending: number;
}

/** A batch on its way to the store; `settled` turns true once it is written, failed, timed out or given up. */
interface Flight {
  size: number;
  settled: boolean;
}

const DROP_REASONS: DropReason[] = ['full', 'failed', 'timeout', 'shutdown'];

export class PredictionLog {
  // A queue with a moving head: dropping the oldest record is O(1), where Array#shift copies the rest.
  private queue: PredictionDocument[] = [];
  private head = 0;
  private readonly flights = new Set<Flight>();
  private inFlight = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private reportTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private idle: (() => void)[] = [];
  private readonly batchSize: number;
  private readonly maxPending: number;
  private readonly writeTimeoutMs: number;
  private readonly concurrentWrites: number;
  private readonly random: () => number;
  private readonly counts = { enqueued: 0, written: 0, dropped: 0 };
  /** Drops since the last warning line, by reason, and the last store error among them. */
  private unreported: Record<DropReason, number> = { full: 0, failed: 0, timeout: 0, shutdown: 0 };
  private lastError: unknown;

  constructor(
    private readonly sink: PredictionSink | Pick<Collection, 'insertMany'> | undefined,
    private readonly options: PredictionLogOptions,
  ) {
    this.batchSize = Math.max(1, options.batchSize ?? 100);
    this.maxPending = Math.max(1, options.maxPending ?? 10_000);
    this.writeTimeoutMs = options.writeTimeoutMs ?? 5000;
    this.concurrentWrites = Math.max(1, options.concurrentWrites ?? 4);
    this.random = options.random ?? Math.random;
    if (sink && options.rate > 0) {
      this.flushTimer = setInterval(() => this.pump(true), options.flushIntervalMs ?? 200);
      this.flushTimer.unref();
      this.reportTimer = setInterval(() => this.reportDrops(), options.dropReportIntervalMs ?? 10_000);
      this.reportTimer.unref();
    }
  }

  get enabled(): boolean {
    return this.sink !== undefined && this.options.rate > 0 && !this.closed;
  }

  /** Records queued plus being written. */
  get pending(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  stats(): PredictionLogStats {
    return { ...this.counts, pending: this.pending };
  }

  /** Whether to log the next prediction; callers skip building the document when false. */
  sample(): boolean {
    if (!this.enabled) return false;
    const rate = this.options.rate;
    return rate >= 1 || this.random() < rate;
  }

  add(document: PredictionDocument): void {
    if (!this.enabled) return;
    this.counts.enqueued++;
    if (this.pending >= this.maxPending) {
      // Full: the oldest queued record makes room. When every pending record is already being
      // written, none can be taken back, so the new one is the one dropped.
      if (this.queue.length > this.head) {
        this.queue[this.head++] = undefined as unknown as PredictionDocument;
        this.queue.push(document);
        this.compact();
      }
      this.drop('full', 1);
    } else {
      this.queue.push(document);
    }
    if (this.queue.length - this.head >= this.batchSize) this.pump(false);
  }

  /** Starts writing what is queued; resolves when nothing is queued or being written. */
  flush(): Promise<void> {
    this.pump(true);
    return this.whenIdle();
  }

  /**
   * Stops sampling and writes what is left until `deadline` (ms since the epoch; no limit without
   * one). What is still queued or being written then is counted as dropped, so a stalled store cannot
   * hold a shutdown.
   */
  async close(deadline?: number): Promise<void> {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = undefined;
    this.pump(true);
    const idle = this.whenIdle();
    if (deadline === undefined) {
      await idle;
    } else {
      let timer: NodeJS.Timeout | undefined;
      const expired = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([idle, expired]);
      clearTimeout(timer);
      this.abandonAll();
    }
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.reportTimer = undefined;
    this.reportDrops();
  }

  /** Writes full batches (every queued record when `all`) while fewer than `concurrentWrites` are out. */
  private pump(all: boolean): void {
    if (!this.sink) return;
    while (this.flights.size < this.concurrentWrites) {
      const queued = this.queue.length - this.head;
      if (queued === 0 || (!all && queued < this.batchSize)) break;
      const size = Math.min(queued, this.batchSize);
      const batch = this.queue.slice(this.head, this.head + size);
      this.head += size;
      this.compact();
      this.send(batch);
    }
    this.settleIfIdle();
  }

  private compact(): void {
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  private send(batch: PredictionDocument[]): void {
    const flight: Flight = { size: batch.length, settled: false };
    this.flights.add(flight);
    this.inFlight += batch.length;
    const deadline = Date.now() + this.writeTimeoutMs;
    const timer = setTimeout(() => {
      if (this.land(flight)) this.drop('timeout', flight.size);
    }, this.writeTimeoutMs);
    timer.unref();
    let writing: Promise<number>;
    try {
      writing = Promise.resolve(this.sink!.insertMany(batch, { deadline }));
    } catch (error) {
      writing = Promise.reject(error);
    }
    writing.then(
      () => {
        clearTimeout(timer);
        if (!this.land(flight)) return;
        this.counts.written += flight.size;
        this.options.onWrite?.('written', flight.size);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!this.land(flight)) return;
        this.lastError = error;
        this.drop('failed', flight.size);
      },
    );
  }

  /** Takes a batch off the flights once; false when it already landed (timed out or given up). */
  private land(flight: Flight): boolean {
    if (flight.settled) return false;
    flight.settled = true;
    this.flights.delete(flight);
    this.inFlight -= flight.size;
    // While closing or someone waits on flush(), partial batches go too; otherwise the timer sends them.
    this.pump(this.closed || this.idle.length > 0);
    return true;
  }

  /** Counts every queued and in-flight record as dropped (shutdown ran out of time). */
  private abandonAll(): void {
    const queued = this.queue.length - this.head;
    this.queue = [];
    this.head = 0;
    if (queued > 0) this.drop('shutdown', queued);
    for (const flight of [...this.flights]) if (this.land(flight)) this.drop('shutdown', flight.size);
    this.settleIfIdle();
  }

  private drop(reason: DropReason, count: number): void {
    this.counts.dropped += count;
    this.unreported[reason] += count;
    this.options.onWrite?.('dropped', count, reason);
  }

  /** One warning line for every drop since the last one, rather than one per record or batch. */
  private reportDrops(): void {
    const dropped = DROP_REASONS.reduce((sum, reason) => sum + this.unreported[reason], 0);
    if (dropped === 0) return;
    const byReason = Object.fromEntries(
      DROP_REASONS.filter((reason) => this.unreported[reason] > 0).map((reason) => [
        reason,
        this.unreported[reason],
      ]),
    );
    const error = this.lastError;
    this.options.logger.warn(
      {
        dropped,
        byReason,
        pending: this.pending,
        maxPending: this.maxPending,
        ...(error ? { err: error } : {}),
      },
      `the prediction log dropped ${dropped} records (${Object.entries(byReason)
        .map(([reason, count]) => `${reason} ${count}`)
        .join(
          ', ',
        )})${error ? `; last store error: ${(error as Error).message ?? String(error)}` : ''}; the store is slow or unreachable (serve.prediction_log bounds the queue)`,
    );
    this.unreported = { full: 0, failed: 0, timeout: 0, shutdown: 0 };
    this.lastError = undefined;
  }

  private whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private settleIfIdle(): void {
    if (this.pending !== 0 || this.idle.length === 0) return;
    const waiting = this.idle;
    this.idle = [];
    for (const resolve of waiting) resolve();
  }
}

/** Deletes logged predictions older than `retentionDays` (by their ISO `time`); returns how many. */
export async function deleteExpiredPredictions(
  collection: Pick<Collection, 'deleteMany'>,
  retentionDays: number,
  now = Date.now(),
): Promise<number> {
  if (!(retentionDays > 0)) return 0;
  const cutoff = new Date(now - retentionDays * 86_400_000).toISOString();
  return collection.deleteMany({ time: { $lt: cutoff } });
}
