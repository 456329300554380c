// Writes the prediction log to the embedded store from a worker thread: the request thread only turns
// each batch into JSON text and posts it, instead of spending about 10 µs a prediction in SQLite (more
// on a busy machine) and pausing every request queued behind a batch.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errors } from '../core/errors.js';
import type { Collection, Document } from '../store/types.js';

export type WriterRequest = { type: 'write'; id: number; text: string } | { type: 'close' };
export type WriterReply =
  | { type: 'ready' }
  | { type: 'written'; id: number; count: number }
  | { type: 'failed'; id: number; message: string }
  | { type: 'closed' };

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
      if (message.type === 'written' || message.type === 'failed') {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (this.pending.size === 0 && !this.closing) worker.unref();
        if (message.type === 'written') pending?.resolve(message.count);
        else pending?.reject(new errors.PW_STORE_FAILED(message.message));
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
  static start(file: string, collection: string): Promise<PredictionWriter> {
    const worker = new Worker(WORKER_FILE, { workerData: { file, collection } });
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

  insertMany(documents: Document[]): Promise<number> {
    if (documents.length === 0) return Promise.resolve(0);
    if (this.failure || this.closing) {
      return Promise.reject(
        this.failure ?? new errors.PW_STORE_FAILED(`the prediction writer for ${this.file} is closed`),
      );
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'write', id, text: JSON.stringify(documents) } satisfies WriterRequest);
    });
  }

  /** Waits for the batches already sent, then closes the store and stops the worker. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.failure) {
        await this.worker.terminate();
        return;
      }
      this.worker.ref();
      const closed = new Promise<void>((resolve) => {
        this.worker.on('message', (message: WriterReply) => {
          if (message.type === 'closed') resolve();
        });
        this.worker.once('exit', () => resolve());
      });
      this.worker.postMessage({ type: 'close' } satisfies WriterRequest);
      await closed;
      await this.worker.terminate();
    })();
    return this.closing;
  }
}
