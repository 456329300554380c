// How push hands its batches to the store: in order, one transaction each. Into the embedded store the
// JSON texts are made on this thread and written by a second one (src/batch/insert-worker.ts), so that
// reading the next rows and writing the last ones overlap; any other store is written in line.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { errors, type ErrorClass } from '../core/errors.js';
import { EmbeddedStore, serializeDocuments } from '../store/sqlite.js';
import type { Collection, CollectionOptions, Document, DocumentStore, UpsertResult } from '../store/types.js';
import type { InsertReply, InsertRequest, InsertWorkerData } from './insert-worker.js';

export interface BatchWriter {
  /** Queues one batch; resolves once the writer can take another (at most two wait). */
  write(documents: Document[]): Promise<void>;
  /** Resolves when every queued batch is committed; rejects with the first failure. */
  drain(): Promise<void>;
  /** Stops the writer, after the queued batches (committed or failed). */
  close(): Promise<void>;
}

/** Batches written on this thread, one after the other. */
export class InlineWriter implements BatchWriter {
  constructor(
    private readonly target: Collection,
    private readonly committed: (written: UpsertResult) => void,
  ) {}

  async write(documents: Document[]): Promise<void> {
    this.committed(await this.target.upsertMany(documents));
  }

  async drain(): Promise<void> {}

  async close(): Promise<void> {}
}

const WORKER_FILE = fileURLToPath(new URL('./insert-worker.js', import.meta.url));
/** Batches sent and not yet committed before `write` waits: one being written, one ready. */
const IN_FLIGHT = 2;

/** Batches serialised here and written by the insert worker, in the order given. */
export class ThreadWriter implements BatchWriter {
  private readonly worker: Worker;
  /** Batches sent and not yet answered, oldest first: `done` settles when the worker answers. */
  private readonly waiting: { done: Promise<void>; resolve: () => void; reject: (error: Error) => void }[] =
    [];
  private failure: Error | undefined;
  private closed = false;
  private exited = false;

  constructor(
    data: InsertWorkerData,
    private readonly committed: (written: UpsertResult) => void,
  ) {
    this.worker = new Worker(WORKER_FILE, { workerData: data });
    this.worker.on('message', (reply: InsertReply) => {
      if ('closed' in reply) return;
      const next = this.waiting.shift();
      if ('written' in reply) {
        this.committed(reply.written);
        next?.resolve();
      } else {
        const { code, message, hint, details } = reply.failed;
        const ErrorType = (code && (errors as Record<string, ErrorClass>)[code]) || errors.PW_INTERNAL;
        this.fail(new ErrorType(message, { hint, details }), next);
      }
    });
    this.worker.on('error', (error) => this.fail(error, undefined));
    this.worker.on('exit', (code) => {
      this.exited = true;
      if (!this.closed || this.waiting.length > 0)
        this.fail(new errors.PW_INTERNAL(`the store's insert thread stopped (exit code ${code})`), undefined);
    });
  }

  private fail(error: Error, batch: { reject: (error: Error) => void } | undefined): void {
    this.failure ??= error;
    batch?.reject(error);
    if (!batch) for (const pending of this.waiting.splice(0)) pending.reject(error);
  }

  async write(documents: Document[]): Promise<void> {
    if (this.failure) throw this.failure;
    const batch = serializeDocuments(documents);
    let settle!: { resolve: () => void; reject: (error: Error) => void };
    const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    // A failed batch is reported by drain() or the next write, so this one never goes unhandled.
    done.catch(() => undefined);
    this.waiting.push({ done, ...settle });
    this.worker.postMessage({ batch } satisfies InsertRequest);
    if (this.waiting.length >= IN_FLIGHT) await this.waiting[0].done;
  }

  async drain(): Promise<void> {
    while (this.waiting.length > 0 && !this.failure) await this.waiting[0].done.catch(() => undefined);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.drain().catch(() => undefined);
    this.closed = true;
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ close: true } satisfies InsertRequest);
    await exited;
  }
}

/** The writer for `target`: a second thread for an embedded store on disk, when the build has one. */
export function batchWriter(
  store: DocumentStore,
  target: Collection,
  keyType: CollectionOptions['keyType'],
  committed: (written: UpsertResult) => void,
): BatchWriter {
  if (store instanceof EmbeddedStore && store.file !== ':memory:' && existsSync(WORKER_FILE))
    return new ThreadWriter({ file: store.file, collection: target.name, keyType }, committed);
  return new InlineWriter(target, committed);
}
