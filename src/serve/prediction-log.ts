// The prediction log: a sample of scored records and their outputs, written to the store in batches
// off the request path, so that monitoring can compare live inputs with the training data.
import type { Logger } from '../core/logger.js';
import type { TypedRecord } from '../schema/coerce.js';
import type { Collection } from '../store/types.js';

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

export interface PredictionLogOptions {
  /** Share of predictions kept, 0 to 1 (serve.log_predictions). */
  rate: number;
  /**
   * Writes when this many are queued (default 100). A batch is turned into JSON (or BSON) on the
   * request thread even when a writer thread or the MongoDB driver does the rest, so small batches keep
   * each pause short (a fraction of a millisecond for 100) rather than rare long ones.
   */
  batchSize?: number;
  /** Writes what is queued at least this often, in ms (default 200). */
  flushIntervalMs?: number;
  /** Beyond this many queued documents new ones are dropped, so a slow store cannot exhaust memory. */
  maxQueued?: number;
  logger: Logger;
  /** Called with the number written or dropped after each attempt (metrics). */
  onWrite?: (outcome: 'written' | 'dropped', count: number) => void;
  /** Deterministic sampling for tests; Math.random by default. */
  random?: () => number;
}

export class PredictionLog {
  private queue: PredictionDocument[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly batchSize: number;
  private readonly maxQueued: number;
  private readonly random: () => number;
  private failuresLogged = 0;

  constructor(
    private readonly collection: Pick<Collection, 'insertMany'> | undefined,
    private readonly options: PredictionLogOptions,
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.maxQueued = options.maxQueued ?? 50_000;
    this.random = options.random ?? Math.random;
    if (collection && options.rate > 0) {
      this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 200);
      this.timer.unref();
    }
  }

  get enabled(): boolean {
    return this.collection !== undefined && this.options.rate > 0 && !this.closed;
  }

  /** Whether to log the next prediction; callers skip building the document when false. */
  sample(): boolean {
    if (!this.enabled) return false;
    const rate = this.options.rate;
    return rate >= 1 || this.random() < rate;
  }

  add(document: PredictionDocument): void {
    if (!this.enabled) return;
    if (this.queue.length >= this.maxQueued) {
      this.options.onWrite?.('dropped', 1);
      return;
    }
    this.queue.push(document);
    if (this.queue.length >= this.batchSize) setImmediate(() => this.flush());
  }

  /** Writes what is queued; resolves when every write started so far has finished. */
  flush(): Promise<void> {
    if (this.queue.length > 0 && this.collection) {
      const batch = this.queue;
      this.queue = [];
      const collection = this.collection;
      this.writing = this.writing.then(() => this.write(collection, batch));
    }
    return this.writing;
  }

  private async write(
    collection: Pick<Collection, 'insertMany'>,
    batch: PredictionDocument[],
  ): Promise<void> {
    try {
      await collection.insertMany(batch);
      this.options.onWrite?.('written', batch.length);
    } catch (error) {
      this.options.onWrite?.('dropped', batch.length);
      // One line per failure would flood the log when the store is down; the metric counts them all.
      if (this.failuresLogged++ % 100 === 0) {
        this.options.logger.error(
          { err: error, dropped: batch.length },
          'could not write predictions to the store; they were dropped',
        );
      }
    }
  }

  /** Stops sampling and writes what is left. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
    this.closed = true;
  }
}
