// Writes the prediction log to the embedded store from a worker thread: the request thread only turns
// each batch into JSON text and posts it, instead of spending about 10 µs a prediction in SQLite (more
// on a busy machine) and pausing every request queued behind a batch. Each batch carries its deadline,
// so a store locked by another process costs the worker no backlog.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errors } from '../core/errors.js';
import type { Collection, Document } from '../store/types.js';

export type WriterRequest =
  | { type: 'write'; id: number; text: string; deadline: number }
  | { type: 'sweep'; id: number }
  | { type: 'close' };
export type WriterReply =
  | { type: 'ready' }
  | { type: 'written'; id: number; count: number }
  | { type: 'swept'; id: number; count: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

/** What the worker is started with. */
export interface WriterData {
  file: string;
  collection: string;
  /** Predictions older than this many days are deleted at start and every hour (0 keeps them). */
  retentionDays: number;
}

export interface WriterOptions {
  retentionDays?: number;
}

/** A batch without a deadline of its own gives up after this long. */
const DEFAULT_WRITE_TIMEOUT_MS = 5000;
/** How long close() waits for the worker to close the store before stopping it. */
const CLOSE_WAIT_MS = 1000;

interface Pending {
  resolve(count: number): void;
  reject(error: Error): void;
}

const WORKER_FILE = new URL('./prediction-writer-worker.js', import.meta.url);

/** Whether the worker's compiled file is there (it is not when the sources run untranspiled, as in tests). */
export function writerAvailable(): boolean {
  return WORKER_FILE.protocol === 'file:' && existsSync(fileURLToPath(WORKER_FILE));
}

export class PredictionWriter implements Pick<Collection, 'insertMany'> {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly file: string,
  ) {
    worker.on('message', (message: WriterReply) => {
      if (message.type === 'written' || message.type === 'swept' || message.type === 'failed') {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (this.pending.size === 0 && !this.closing) worker.unref();
        if (message.type === 'failed') pending?.reject(new errors.PW_STORE_FAILED(message.message));
        else pending?.resolve(message.count);
      }
    });
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) =>
      this.fail(new errors.PW_STORE_FAILED(`the prediction writer stopped (exit code ${code})`)),
    );
    // The worker holds the process open only while a batch is on its way (and while closing), so a
    // shutdown waits for the last batch and an idle writer never keeps a process alive.
    worker.unref();
  }

  /** Starts the worker and waits until it has opened `file` and indexed `collection` by time. */
  static start(file: string, collection: string, options: WriterOptions = {}): Promise<PredictionWriter> {
    const workerData: WriterData = { file, collection, retentionDays: options.retentionDays ?? 0 };
    const worker = new Worker(WORKER_FILE, { workerData });
    return new Promise((resolve, reject) => {
      const onMessage = (message: WriterReply) => {
        if (message.type !== 'ready') return;
        cleanup();
        resolve(new PredictionWriter(worker, file));
      };
      const onError = (error: Error) => {
        cleanup();
        void worker.terminate();
        reject(error);
      };
      const onExit = (code: number) => {
        cleanup();
        reject(
          new errors.PW_STORE_FAILED(
            `the prediction writer for ${file} stopped before it was ready (exit code ${code})`,
          ),
        );
      };
      const cleanup = () => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
    });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }

  /**
   * Sends a batch; the worker writes it before `deadline` (ms since the epoch) or fails it, waiting out
   * another process's lock in short slices until then.
   */
  insertMany(documents: Document[], options: { deadline?: number } = {}): Promise<number> {
    if (documents.length === 0) return Promise.resolve(0);
    const deadline = options.deadline ?? Date.now() + DEFAULT_WRITE_TIMEOUT_MS;
    return this.request((id) => ({ type: 'write', id, text: JSON.stringify(documents), deadline }));
  }

  /** Deletes the predictions past retention now (the worker also does it at start and every hour). */
  sweep(): Promise<number> {
    return this.request((id) => ({ type: 'sweep', id }));
  }

  private request(message: (id: number) => WriterRequest): Promise<number> {
    if (this.failure || this.closing) {
      return Promise.reject(
        this.failure ?? new errors.PW_STORE_FAILED(`the prediction writer for ${this.file} is closed`),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(message(id));
    });
  }

  /**
   * Stops the worker: batches not yet written are given up (the prediction log has counted them), the
   * store is closed, and after `waitMs` without an answer the thread is stopped anyway.
   */
  close(waitMs = CLOSE_WAIT_MS): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      this.worker.ref();
      let timer: NodeJS.Timeout | undefined;
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (message: WriterReply) => {
          if (message.type === 'closed') resolve();
        });
        this.worker.once('exit', () => resolve());
        timer = setTimeout(resolve, waitMs);
      });
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await closed;
      clearTimeout(timer);
      this.fail(new errors.PW_STORE_FAILED(`the prediction writer for ${this.file} is closed`));
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
