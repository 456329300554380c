// Runs the DocumentStore contract against the embedded SQLite store, on a real file in a temp folder.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { EmbeddedStore } from '../../src/store/sqlite.js';
import { defineStoreContract } from './contract.js';

const dir = mkdtempSync(join(tmpdir(), 'pipewright-embedded-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

defineStoreContract('embedded', async () => EmbeddedStore.open(join(dir, 'store.db')));
