// `pipewright serve --workers <n>`: one serving process per core behind one port (node:cluster). The
// primary only supervises: it forks the workers, replaces one that crashes, and on SIGTERM or SIGINT
// asks each to shut down gracefully and exits when they all have.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../core/logger.js';

/** The message a worker receives when it should stop (a signal may reach it too: closing is idempotent). */
export const SHUTDOWN_MESSAGE = 'pipewright:shutdown';

/** A worker that fails this soon after starting makes the whole server give up instead of looping. */
const EARLY_FAILURE_MS = 10_000;

export interface PrimaryOptions {
  workers: number;
  logger: Logger;
  /** Called once every worker listens, with the port they share. */
  onListening?: (port: number, address: string) => void;
}

/** Runs the supervising primary; resolves with the exit code once every worker has stopped. */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { logger } = options;
  return new Promise((resolve) => {
    const started = new Map<Worker, number>();
    const listening = new Set<Worker>();
    let announced = false;
    let stopping = false;
    let failed = false;

    const fork = () => {
      const worker = cluster.fork();
      started.set(worker, Date.now());
      worker.on('listening', (address) => {
        listening.add(worker);
        if (!announced && listening.size >= options.workers) {
          announced = true;
          options.onListening?.(address.port, address.address ?? '');
        }
      });
      worker.on('exit', (code, signal) => {
        const startedAt = started.get(worker) ?? 0;
        started.delete(worker);
        const wasListening = listening.delete(worker);
        if (stopping && code !== 0) failed = true;
        if (!stopping) {
          if (!wasListening || Date.now() - startedAt < EARLY_FAILURE_MS) {
            logger.error(
              { pid: worker.process.pid, code, signal },
              `a serving worker stopped during start-up (exit ${signal ?? code}); stopping the others`,
            );
            failed = true;
            stop('worker failure');
          } else {
            logger.error(
              { pid: worker.process.pid, code, signal },
              `serving worker ${worker.process.pid} died (exit ${signal ?? code}); starting another`,
            );
            fork();
          }
        }
        if (started.size === 0 && stopping) {
          process.off('SIGTERM', onSignal);
          process.off('SIGINT', onSignal);
          resolve(failed ? 1 : 0);
        }
      });
    };

    const stop = (reason: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(
        { reason, workers: started.size },
        `shutting down ${started.size} serving workers (${reason})`,
      );
      for (const worker of started.keys()) {
        // A worker still starting may not be listening for messages yet; a signal stops it either way.
        if (listening.has(worker) && worker.isConnected()) worker.send(SHUTDOWN_MESSAGE);
        else worker.process.kill('SIGTERM');
      }
      if (started.size === 0) resolve(failed ? 1 : 0);
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    for (let index = 0; index < options.workers; index++) fork();
  });
}

export function isWorker(): boolean {
  return cluster.isWorker;
}

export interface PrimaryLink {
  /** What to call when the primary asks to stop; called at once if it asked already. */
  onShutdown(close: () => Promise<void>): void;
  /** Stops listening to the primary so that the process can end. */
  release(): void;
}

/** In a worker: listens for the primary's shutdown request from the start, before the server exists. */
export function followPrimary(): PrimaryLink {
  let requested = false;
  let closer: (() => Promise<void>) | undefined;
  const onMessage = (message: unknown) => {
    if (message !== SHUTDOWN_MESSAGE) return;
    requested = true;
    void closer?.();
  };
  process.on('message', onMessage);
  return {
    onShutdown(close) {
      closer = close;
      if (requested) void close();
    },
    release() {
      process.off('message', onMessage);
      cluster.worker?.disconnect();
    },
  };
}
