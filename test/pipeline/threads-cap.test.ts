import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { usableCores } from '../../src/core/cores.js';
import { parseBundle } from '../../src/ml/bundle.js';
import { TRAINING_THREADS_VARIABLE, trainingModel } from '../../src/pipeline/run.js';
import { openRegistry } from '../../src/registry/index.js';
import { createTestProject } from '../helpers/project.js';

const MODEL = { type: 'gbdt' as const, params: {} };

describe('training threads', () => {
  it('caps model.threads by serve’s setting and by the cores, and says when the cores capped it', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
        fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
        fc.integer({ min: 1, max: 64 }),
        (threads, serveCap, cores) => {
          const env = serveCap === undefined ? {} : { [TRAINING_THREADS_VARIABLE]: String(serveCap) };
          const { model, asked } = trainingModel({ ...MODEL, threads }, env, cores);
          const wanted = serveCap === undefined ? threads : Math.min(serveCap, threads ?? serveCap);
          // no count asked: the estimator takes every usable core itself
          expect(model.threads).toBe(wanted === undefined ? undefined : Math.min(wanted, cores));
          expect(asked).toBe(wanted !== undefined && wanted > cores ? wanted : undefined);
          expect(model.type).toBe('gbdt');
        },
      ),
    );
  });

  it('trains on the usable cores when the config asks for more, with a threads-capped warning, and says on how many', async () => {
    const project = createTestProject('threads');
    const cores = usableCores();
    project.set(['model', 'type'], 'random_forest');
    project.set(['model', 'params'], { n_estimators: 20, max_depth: 6 });
    project.set(['model', 'threads'], cores + 3);
    await project.push(project.writeCsv('train.csv', 3000, 11));
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const record = await project.run({ logger });
    expect(record.status).toBe('succeeded');
    const warnings = lines.filter((line) => line.event === 'threads-capped');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, asked: cores + 3, cores });
    // the run says how many threads its model trained on
    const train = record.steps.find((step) => step.name === 'train');
    expect(train?.summary).toMatchObject({ model: 'random_forest', threads: cores });
    // the model was fitted with the capped count
    const registry = await openRegistry(project.config(), project.dir, {});
    try {
      const version = (await registry.aliasVersion('production')) as string;
      const bundle = parseBundle((await registry.load(version)).bytes);
      expect(bundle.model.params.threads).toBe(cores);
    } finally {
      await registry.close();
    }
    // a count within the cores is used as it is, without a warning
    project.set(['model', 'threads'], 1);
    lines.length = 0;
    const again = await project.run({ logger, noCache: true });
    expect(again.status).toBe('succeeded');
    expect(lines.filter((line) => line.event === 'threads-capped')).toHaveLength(0);
    expect(again.steps.find((step) => step.name === 'train')?.summary).toMatchObject({ threads: 1 });
  });
});
