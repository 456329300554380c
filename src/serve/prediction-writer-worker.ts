// The worker thread that owns the embedded store connection of the prediction log: batches arrive as
// JSON text and are inserted here, in order, so SQLite's serialisation and commits stay off the request
// thread. It also deletes predictions past their retention.
import { parentPort, workerData } from 'node:worker_threads';
import type { Document } from '../store/types.js';
import { EmbeddedStore } from '../store/sqlite.js';
import { deleteExpiredPredictions } from './prediction-log.js';
import type { WriterData, WriterReply, WriterRequest } from './prediction-writer.js';

/**
 * SQLite waits for another process's lock inside a native call that nothing can interrupt, so each
 * attempt waits only this long; the retries between attempts are where deadlines and `close` are seen.
 */
const BUSY_SLICE_MS = 50;
const RETRY_PAUSE_MS = 25;
const SWEEP_INTERVAL_MS = 3_600_000;

const { file, collection: name, retentionDays } = workerData as WriterData;
const port = parentPort!;
// Opening and indexing wait as long as any command would for the lock (10 s by default).
const store = EmbeddedStore.open(file);
const collection = store.collection(name);
await collection.createIndex('time');
store.db.pragma(`busy_timeout = ${BUSY_SLICE_MS}`);

type Job = { type: 'write'; id: number; text: string; deadline: number } | { type: 'sweep'; id: number };
const jobs: Job[] = [];
let running = false;
let closing = false;

function reply(message: WriterReply): void {
  port.postMessage(message);
}

function isBusy(error: unknown): boolean {
  const code =
    ((error as { details?: { code?: unknown } })?.details?.code as string | undefined) ??
    ((error as { code?: unknown })?.code as string | undefined) ??
    '';
  return typeof code === 'string' && (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'));
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function write(job: Extract<Job, { type: 'write' }>): Promise<WriterReply> {
  // A batch whose sender has given up is not parsed at all: the backlog behind a stall clears at once.
  if (Date.now() >= job.deadline)
    return { type: 'failed', id: job.id, message: 'timed out before it was written' };
  const documents = JSON.parse(job.text) as Document[];
  for (;;) {
    try {
      return { type: 'written', id: job.id, count: await collection.insertMany(documents) };
    } catch (error) {
      if (!isBusy(error) || closing || Date.now() + RETRY_PAUSE_MS >= job.deadline)
        return { type: 'failed', id: job.id, message: messageOf(error) };
      await pause(RETRY_PAUSE_MS);
    }
  }
}

async function sweep(id: number): Promise<WriterReply> {
  try {
    return { type: 'swept', id, count: await deleteExpiredPredictions(collection, retentionDays) };
  } catch (error) {
    // A locked store is tried again at the next sweep.
    return { type: 'failed', id, message: messageOf(error) };
  }
}

async function run(): Promise<void> {
  if (running) return;
  running = true;
  while (jobs.length > 0 && !closing) {
    const job = jobs.shift()!;
    reply(job.type === 'write' ? await write(job) : await sweep(job.id));
  }
  running = false;
}

let sweeper: NodeJS.Timeout | undefined;
if (retentionDays > 0) {
  const schedule = () => {
    jobs.push({ type: 'sweep', id: 0 });
    void run();
  };
  setImmediate(schedule);
  sweeper = setInterval(schedule, SWEEP_INTERVAL_MS);
}

port.on('message', (message: WriterRequest) => {
  if (message.type === 'write' || message.type === 'sweep') {
    jobs.push(message);
    void run();
  } else if (message.type === 'close') {
    // The sender has counted whatever is still queued here as dropped.
    closing = true;
    jobs.length = 0;
    if (sweeper) clearInterval(sweeper);
    const finish = async () => {
      while (running) await pause(RETRY_PAUSE_MS);
      await store.close().catch(() => undefined);
      reply({ type: 'closed' });
      port.close();
    };
    void finish();
  }
});
reply({ type: 'ready' });
