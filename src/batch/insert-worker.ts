// The thread that writes push's batches into the embedded store, on its own connection to the store
// file, while the main thread reads and coerces the next rows. One transaction a batch, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { isPipewrightError } from '../core/errors.js';
import { EmbeddedCollection, EmbeddedStore, type SerializedDocuments } from '../store/sqlite.js';
import type { CollectionOptions } from '../store/types.js';

export interface InsertWorkerData {
  file: string;
  collection: string;
  keyType: CollectionOptions['keyType'];
}

export type InsertRequest = { batch: SerializedDocuments } | { close: true };

export type InsertReply =
  | { written: { inserted: number; updated: number; unchanged: number } }
  | { failed: { code?: string; message: string; hint?: string; details?: Record<string, unknown> } }
  | { closed: true };

const { file, collection: name, keyType } = workerData as InsertWorkerData;
const store = EmbeddedStore.open(file);
const collection = store.collection(name, { keyType }) as EmbeddedCollection;
const port = parentPort!;
// After a failed batch the later ones are refused, not written: the push stops at its first failure.
let failure: InsertReply | undefined;

port.on('message', (request: InsertRequest) => {
  if ('close' in request) {
    void store.close().then(() => {
      port.postMessage({ closed: true } satisfies InsertReply);
      port.close();
    });
    return;
  }
  if (failure) {
    port.postMessage(failure);
    return;
  }
  try {
    port.postMessage({ written: collection.upsertSerialized(request.batch) } satisfies InsertReply);
  } catch (error) {
    const failed = isPipewrightError(error)
      ? { code: error.code, message: error.message, hint: error.hint, details: error.details }
      : { message: (error as Error)?.message ?? String(error) };
    failure = { failed };
    port.postMessage(failure);
  }
});
