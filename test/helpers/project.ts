// Test projects: a scaffolded project in a temporary folder, filled with synthetic rows through the
// real push, with helpers to change its config.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { loadConfig, type Config } from '../../src/core/config.js';
import { silentLogger } from '../../src/core/logger.js';
import { syntheticCsv } from '../../src/data/synthetic.js';
import { pushFile } from '../../src/batch/push.js';
import { scaffold } from '../../src/project/scaffold.js';
import { loadSchema, type Schema } from '../../src/schema/schema.js';
import { openStore } from '../../src/store/index.js';
import type { RunRecord } from '../../src/pipeline/record.js';
import { runPipeline, type PipelineOptions } from '../../src/pipeline/run.js';
import { tempDir } from './cli.js';

export interface TestProject {
  dir: string;
  config(): Config;
  schema(): Schema;
  /** Sets `path` (e.g. ['model', 'params', 'max_iter']) in pipewright.yaml, keeping its comments. */
  set(path: (string | number)[], value: unknown): void;
  writeCsv(name: string, rows: number, seed: number): string;
  push(file: string): Promise<void>;
  /** The training pipeline on the project, in process: its config and schema, artifacts in artifacts/, no log output. */
  run(options?: Partial<PipelineOptions>): Promise<RunRecord>;
}

export function createTestProject(name = 'proj'): TestProject {
  const dir = join(tempDir(), name);
  scaffold(dir, {
    values: { name, collection: 'rows', metric: 'roc_auc', expected_score: '0.6', version: '0.0.0' },
  });
  const project: TestProject = {
    dir,
    config: () => loadConfig(join(dir, 'pipewright.yaml')).config,
    schema: () => loadSchema(join(dir, 'schema.yaml')),
    set(path, value) {
      const file = join(dir, 'pipewright.yaml');
      const document = parseDocument(readFileSync(file, 'utf8'));
      document.setIn(path, value);
      writeFileSync(file, document.toString());
    },
    writeCsv(fileName, rows, seed) {
      const file = join(dir, 'data', fileName);
      writeFileSync(file, [...syntheticCsv({ rows, seed })].join(''));
      return file;
    },
    async push(file) {
      const config = project.config();
      const store = await openStore(config, dir, {});
      try {
        await pushFile({
          file,
          schema: project.schema(),
          store,
          collection: config.store.collection,
          batchSize: 2000,
          logger: silentLogger(),
        });
      } finally {
        await store.close();
      }
    },
    run(options = {}) {
      return runPipeline({
        config: project.config(),
        schema: project.schema(),
        projectDir: dir,
        artifactsRoot: join(dir, 'artifacts'),
        logger: silentLogger(),
        env: {},
        ...options,
      });
    },
  };
  return project;
}
