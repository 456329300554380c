// Chooses the document store for a project: MongoDB when MONGODB_URL is set, else the embedded
// SQLite file in the project (config.store.path). The MongoDB driver is only loaded when used.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Config } from '../core/config.js';
import { EmbeddedStore } from './sqlite.js';
import type { DocumentStore } from './types.js';

export type { DocumentStore } from './types.js';

export interface OpenStoreOptions {
  /** Do not create the embedded file when it does not exist yet (for commands that only read). */
  readOnly?: boolean;
}

/** The embedded store file of a project. */
export function embeddedStorePath(config: Config, projectDir: string): string {
  return resolve(projectDir, config.store.path);
}

export async function openStore(
  config: Config,
  projectDir: string,
  env: NodeJS.ProcessEnv = process.env,
  options: OpenStoreOptions = {},
): Promise<DocumentStore> {
  const url = env.MONGODB_URL;
  if (url) {
    const { openMongoStore } = await import('./mongodb.js');
    return openMongoStore({
      url,
      database: config.store.database,
      timeoutMs: config.store.timeout_ms,
      replyTimeoutMs: config.store.reply_timeout_ms,
      batchSize: config.store.batch_size,
    });
  }
  const file = embeddedStorePath(config, projectDir);
  if (options.readOnly && !existsSync(file)) return EmbeddedStore.open(':memory:');
  return EmbeddedStore.open(file);
}
