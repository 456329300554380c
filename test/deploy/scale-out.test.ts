// Scale-out: three real `pipewright serve` processes on their own ports share one model registry (a
// folder, then S3 on s3rver). A promotion made while they are under load reaches all three within the
// reload interval plus a margin, and not one request fails during the switch (needs dist/).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/core/config.js';
import { openRegistry } from '../../src/registry/index.js';
import { ROOT } from '../helpers/cli.js';
import { createTestProject, type TestProject } from '../helpers/project.js';
import { validRecord } from '../fixtures/model.js';
import { startS3, type S3Fixture } from '../fixtures/s3.js';
import { eventually, runPipewright, startLoad, startServing, stopAll, type ServingProcess } from './fleet.js';

const RELOAD_INTERVAL_MS = 200;
/** Room for reading and verifying the new bundle on a busy two-core machine. */
const SWITCH_MARGIN_MS = 2500;
const REPLICAS = 3;
/** A slow, shared machine can take a while to start three processes; the test bounds itself anyway. */
const TEST_LIMIT_MS = 45_000;

type Json = Record<string, any>;

async function train(config: Config, project: TestProject, alias: string): Promise<string> {
  const record = await project.run({ config, alias });
  if (!record.outcome?.published)
    throw new Error(`the run published nothing: ${record.outcome?.reasons.join('; ')}`);
  return record.outcome.version!;
}

/** A second config file in the same project, with the registry in the given S3 bucket. */
function writeS3Config(project: TestProject, s3: S3Fixture): string {
  const document = parseDocument(readFileSync(join(project.dir, 'pipewright.yaml'), 'utf8'));
  document.setIn(['registry'], {
    type: 's3',
    bucket: s3.bucket,
    prefix: 'fleet/',
    endpoint: s3.endpoint,
    force_path_style: true,
  });
  const file = join(project.dir, 'pipewright.s3.yaml');
  writeFileSync(file, document.toString());
  return file;
}

/**
 * Starts three replicas, loads them, promotes the candidate with `pipewright models promote` and
 * checks that each replica switched in time and that every request was answered with a 200.
 */
async function promoteUnderLoad(project: TestProject, configFile: string): Promise<void> {
  const args = ['--config', configFile];
  const config = loadConfig(configFile).config;
  const registry = await openRegistry(config, project.dir);
  try {
    const replicas: ServingProcess[] = await Promise.all(
      Array.from({ length: REPLICAS }, () => startServing(project.dir, args)),
    );
    const urls = replicas.map((replica) => replica.url);
    expect(new Set(urls).size).toBe(REPLICAS);
    const model = async (url: string) => (await (await fetch(`${url}/model`)).json()) as Json;
    for (const url of urls) {
      const body = await model(url);
      expect(body.version).toBe('v1');
      expect(body.reload.intervalMs).toBe(RELOAD_INTERVAL_MS);
    }

    const load = startLoad(urls, {
      ratePerTarget: 100,
      loopsPerTarget: 2,
      limitMs: 30_000,
      body: (sequence) => ({ ...validRecord(), Age: 20 + (sequence % 60), Vintage: 10 + (sequence % 280) }),
    });
    let report;
    try {
      // The load runs on v1 for a moment before the alias moves, and on v2 for a moment after.
      await eventually(
        async () => load.sent(),
        (sent) => sent >= 300,
        10_000,
      );
      const promoted = await runPipewright(project.dir, [
        ...args,
        '--json',
        'models',
        'promote',
        'v2',
        '--reason',
        'scale-out test',
      ]);
      expect(promoted.code, promoted.stderr).toBe(0);
      expect(JSON.parse(promoted.stdout)).toMatchObject({
        alias: 'production',
        version: 'v2',
        previous: 'v1',
        changed: true,
      });
      const alias = await registry.getAlias('production');
      expect(alias?.version).toBe('v2');
      const movedAt = Date.parse(alias!.updatedAt);

      const switched = await Promise.all(
        urls.map((url) =>
          eventually(
            () => model(url),
            (body) => body.version === 'v2',
            15_000,
          ),
        ),
      );
      const delays = switched.map((body) => Date.parse(body.loadedAt) - movedAt);
      for (const [index, delay] of delays.entries()) {
        expect(
          delay,
          `replica ${urls[index]} loaded v2 ${delay} ms after the alias moved`,
        ).toBeLessThanOrEqual(RELOAD_INTERVAL_MS + SWITCH_MARGIN_MS);
      }
      const sentAtSwitch = load.sent();
      await eventually(
        async () => load.sent(),
        (sent) => sent >= sentAtSwitch + 300,
        10_000,
      );
    } finally {
      report = await load.stop();
    }

    expect(report.failures, report.failures.slice(0, 5).join('\n')).toEqual([]);
    expect(report.sent).toBeGreaterThanOrEqual(600);
    for (const url of urls) expect(report.versions.get(url), url).toEqual(['v1', 'v2']);
    for (const replica of replicas) expect(replica.child.exitCode, replica.stderr()).toBeNull();
  } finally {
    await stopAll();
    await registry.close();
  }
}

describe('three serving replicas sharing one registry', () => {
  let project: TestProject;
  let s3: S3Fixture;
  let s3Config: string;

  beforeAll(async () => {
    expect(
      existsSync(join(ROOT, 'dist', 'cli', 'commands', 'serve.js')),
      'dist/ is missing: run `npx tsc -p tsconfig.build.json`',
    ).toBe(true);
    project = createTestProject('fleet');
    project.set(['model', 'params', 'max_iter'], 30);
    project.set(['evaluate', 'bootstrap'], 0);
    project.set(['serve', 'reload_interval_ms'], RELOAD_INTERVAL_MS);
    await project.push(project.writeCsv('train.csv', 3000, 5));
    s3 = await startS3();
    s3Config = writeS3Config(project, s3);
    const folderConfig = join(project.dir, 'pipewright.yaml');
    // v1 becomes production; v2, trained with other settings, waits under a candidate alias. The S3
    // runs reuse the steps the folder runs computed.
    for (const file of [folderConfig, s3Config]) {
      expect(await train(loadConfig(file).config, project, 'production')).toBe('v1');
      const candidate = loadConfig(file).config;
      candidate.model.params = { ...candidate.model.params, learning_rate: 0.3 };
      expect(await train(candidate, project, 'candidate')).toBe('v2');
    }
  });

  afterAll(async () => {
    await stopAll();
    await s3?.close();
    if (project) rmSync(dirname(project.dir), { recursive: true, force: true });
  });

  it(
    'moves every replica on a folder registry to the promoted version without failing a request',
    async () => {
      await promoteUnderLoad(project, join(project.dir, 'pipewright.yaml'));
    },
    TEST_LIMIT_MS,
  );

  it(
    'moves every replica on an S3 registry to the promoted version without failing a request',
    async () => {
      await promoteUnderLoad(project, s3Config);
    },
    TEST_LIMIT_MS,
  );
});
