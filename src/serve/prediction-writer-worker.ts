// The worker thread that owns the embedded store connection of the prediction log: batches arrive as
// JSON text and are inserted here, so SQLite's serialisation and commits stay off the request thread.
import { parentPort, workerData } from 'node:worker_threads';
import type { Document } from '../store/types.js';
import { EmbeddedStore } from '../store/sqlite.js';
import type { WriterReply, WriterRequest } from './prediction-writer.js';

const { file, collection: name } = workerData as { file: string; collection: string };
const port = parentPort!;
const store = EmbeddedStore.open(file);
const collection = store.collection(name);
await collection.createIndex('time');

function reply(message: WriterReply): void {
  port.postMessage(message);
}

port.on('message', (message: WriterRequest) => {
  if (message.type === 'write') {
    // insertMany does its work synchronously, so batches are written in the order they came.
    collection.insertMany(JSON.parse(message.text) as Document[]).then(
      (count) => reply({ type: 'written', id: message.id, count }),
      (error: unknown) =>
        reply({
          type: 'failed',
          id: message.id,
          message: error instanceof Error ? error.message : String(error),
        }),
    );
  } else if (message.type === 'close') {
    store
      .close()
      .catch(() => undefined)
      .finally(() => {
        reply({ type: 'closed' });
        port.close();
      });
  }
});
reply({ type: 'ready' });
