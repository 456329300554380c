// `pipewright run`: ingest → validate → split → transform → train → evaluate → publish, with a run
// record in artifacts/<run-id>/run.json. Only this module and the runner touch the store, the
// registry and the disk; the steps themselves are plain functions of their inputs.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../core/config.js';
import { usableCores } from '../core/cores.js';
import { errors, isPipewrightError } from '../core/errors.js';
import { timestampId } from '../core/ids.js';
import { acquireLock } from '../core/lock.js';
import { packageVersion } from '../core/version.js';
import type { Logger } from '../core/logger.js';
import { createBundle, parseBundle, Predictor, serializeBundle } from '../ml/bundle.js';
import { buildModelCard } from '../ml/card.js';
import { computeReferenceStats } from '../ml/stats.js';
import type { EstimatorJSON } from '../ml/types.js';
import type { ReferenceStats } from '../ml/stats.js';
import { openRegistry } from '../registry/index.js';
import type { ModelRegistry } from '../registry/types.js';
import type { Schema } from '../schema/schema.js';
import { openStore } from '../store/index.js';
import type { Progress } from './progress.js';
import { gitState, type RunRecord } from './record.js';
import { pruneSnapshots } from './retention.js';
import { StepRunner } from './runner.js';
import type { TrainingRecipe } from './steps/cross-validate.js';
import { evaluateStep, type ProductionModel } from './steps/evaluate.js';
import { ingestStep, SNAPSHOT_NAME } from './steps/ingest.js';
import { splitHash, splitStep } from './steps/split.js';
import { trainingWorkers, trainStep } from './steps/train.js';
import { transformStep } from './steps/transform.js';
import { validateStep } from './steps/validate.js';

export const STEPS = ['ingest', 'validate', 'split', 'transform', 'train', 'evaluate', 'publish'] as const;

export interface PipelineOptions {
  config: Config;
  schema: Schema;
  projectDir: string;
  artifactsRoot: string;
  logger: Logger;
  runId?: string;
  noCache?: boolean;
  /** Train and evaluate, but publish nothing. */
  noPublish?: boolean;
  /** The alias a better model is published to. */
  alias?: string;
  progress?: Progress;
  env?: NodeJS.ProcessEnv;
}

/**
 * How production was made, from its bundle: the model's kind and full parameters, and the resampling
 * and preprocessing it was published with. Bundles from before preprocessing was recorded are refitted
 * with this run's preprocessing, and the note says so.
 */
function productionRecipe(
  model: EstimatorJSON,
  params: Record<string, unknown>,
  config: Config,
): TrainingRecipe & { note?: string } {
  const { threads: _threads, ...modelParams } = model.params;
  const strategy = params.imbalance;
  const preprocess = params.preprocess as Config['preprocess'] | undefined;
  return {
    model: {
      type: model.kind as Config['model']['type'],
      params: modelParams,
      ...(config.model.threads !== undefined ? { threads: config.model.threads } : {}),
    },
    imbalance:
      typeof strategy === 'string'
        ? { ...config.imbalance, strategy: strategy as Config['imbalance']['strategy'] }
        : { ...config.imbalance, strategy: 'none' },
    preprocess: preprocess ?? config.preprocess,
    ...(preprocess
      ? {}
      : { note: "its bundle predates recorded preprocessing; this run's preprocessing was used" }),
  };
}

/** The production model, when the registry has one: its predictor when it can score this schema. */
async function loadProduction(
  registry: ModelRegistry,
  alias: string,
  schema: Schema,
  config: Config,
  logger: Logger,
): Promise<{ production?: ProductionModel; reference?: { version: string; stats: ReferenceStats } }> {
  const version = await registry.aliasVersion(alias);
  if (!version) return {};
  const { bytes } = await registry.load(version);
  const bundle = parseBundle(bytes, undefined, { source: `${alias} (${version})` });
  const reference = bundle.metadata.referenceStats
    ? { version, stats: bundle.metadata.referenceStats }
    : undefined;
  if (bundle.schemaFingerprint !== schema.fingerprint) {
    logger.warn({ version }, `production ${version} was trained on another schema; it is not compared`);
    return { production: { version, reason: 'trained on another schema' }, reference: undefined };
  }
  try {
    return {
      production: {
        version,
        predictor: Predictor.fromBundle(bundle, { source: `${alias} (${version})` }),
        recipe: productionRecipe(bundle.model, bundle.metadata.params, config),
      },
      reference,
    };
  } catch (error) {
    if (!isPipewrightError(error)) throw error;
    logger.warn({ err: error, version }, `production ${version} cannot be loaded: ${error.message}`);
    return { production: { version, reason: error.message }, reference };
  }
}

/** A cap on the training threads, set by `serve` for the runs it starts so that serving keeps its cores. */
export const TRAINING_THREADS_VARIABLE = 'PIPEWRIGHT_TRAIN_THREADS';

/**
 * The model settings a run trains with: model.threads capped by TRAINING_THREADS_VARIABLE when it is set,
 * and by the `cores` the process can run on at once (more threads than that only take turns, and the tree
 * engine's threads, which meet at every shared step, then wait for each other's turns: 8 threads on 2
 * cores fitted 2.4x slower than 2). `asked` is a configured count the cores capped. The models are the
 * same on any thread count, so a cap changes the time only.
 */
export function trainingModel(
  model: Config['model'],
  env: NodeJS.ProcessEnv,
  cores: number,
): { model: Config['model']; asked?: number } {
  const cap = Number(env[TRAINING_THREADS_VARIABLE]);
  const capped =
    Number.isInteger(cap) && cap >= 1 ? { ...model, threads: Math.min(cap, model.threads ?? cap) } : model;
  if (capped.threads === undefined || capped.threads <= cores) return { model: capped };
  return { model: { ...capped, threads: cores }, asked: capped.threads };
}

/** The lock that keeps one `run` at a time per project, across the CLI, `POST /train` and every worker. */
export function runLockFile(projectDir: string): string {
  return join(projectDir, '.pipewright', 'run.lock');
}

export async function runPipeline(options: PipelineOptions): Promise<RunRecord> {
  // Two runs of one project would race on the cache, the artifacts and the alias, and each would use
  // every core: the second is refused with PW_LOCKED, naming the first.
  const lock = acquireLock(runLockFile(options.projectDir), { purpose: 'pipewright run' });
  try {
    return await runHoldingLock(options);
  } finally {
    lock.release();
  }
}

async function runHoldingLock(options: PipelineOptions): Promise<RunRecord> {
  const { config, schema, logger } = options;
  if (!schema.target) {
    throw new errors.PW_SCHEMA_INVALID(`The schema ${schema.name} has no target field`, {
      hint: 'Give one field role: target in schema.yaml.',
    });
  }
  const alias = options.alias ?? 'production';
  const started = performance.now();
  const git = gitState(options.projectDir);
  const record: RunRecord = {
    id: options.runId ?? timestampId(),
    project: config.project,
    status: 'running',
    startedAt: new Date().toISOString(),
    config,
    schemaFingerprint: schema.fingerprint,
    code: {
      pipewright: packageVersion(),
      node: process.version,
      ...(git ? { git } : {}),
    },
    seed: config.split.seed,
    model: { type: config.model.type, params: config.model.params },
    steps: [],
    artifacts: {},
  };
  const runner = new StepRunner({
    artifactsRoot: options.artifactsRoot,
    record,
    logger,
    noCache: options.noCache,
    progress: options.progress,
  });
  runner.plan([...STEPS]);
  logger.info({ run: record.id }, `run ${record.id} started`);
  const store = await openStore(config, options.projectDir, options.env);
  const { model, asked } = trainingModel(config.model, options.env ?? process.env, usableCores());
  if (asked !== undefined)
    logger.warn(
      { event: 'threads-capped', asked, cores: model.threads },
      `training was asked for ${asked} threads, but this process can run ${model.threads} at once: it uses ${model.threads} (the same model, sooner)`,
    );
  trainingWorkers.warm(model);
  let registry: ModelRegistry | undefined;
  try {
    registry = await openRegistry(config, options.projectDir, options.env);
    const ingest = await runner.run(ingestStep, {
      store,
      collection: config.store.collection,
      schema,
      batchSize: config.store.batch_size,
    });
    await store.close();
    record.dataHash = ingest.dataHash;
    record.rows = { total: ingest.frame.rows };
    record.artifacts.frame = `${record.id}/${ingestStep.name}/${SNAPSHOT_NAME}`;

    const { production, reference } = await loadProduction(
      registry,
      alias,
      schema,
      { ...config, model },
      logger,
    );
    const validation = await runner.run(validateStep, {
      ingest,
      settings: config.validation,
      ...(reference ? { reference } : {}),
    });
    record.artifacts.validation = `${record.id}/validate/report.json`;

    const split = await runner.run(splitStep, {
      frame: ingest.frame,
      dataHash: ingest.dataHash,
      settings: config.split,
      crossValidation: config.evaluate.cross_validation,
    });
    record.rows = { total: ingest.frame.rows, train: split.train.length, test: split.test.length };
    const preprocessor = await runner.run(transformStep, {
      frame: ingest.frame,
      split,
      splitHash: splitHash(split),
      schemaFingerprint: schema.fingerprint,
      settings: config.preprocess,
    });
    const preprocessorHash = runner.stepRecord('transform').outputHash!;
    const trained = await runner.run(trainStep, {
      frame: ingest.frame,
      split,
      preprocessor,
      preprocessorHash,
      model,
      imbalance: config.imbalance,
      seed: config.split.seed,
    });
    record.artifacts.model = `${record.id}/train/model.json`;
    const evaluation = await runner.run(evaluateStep, {
      frame: ingest.frame,
      split,
      preprocessor,
      model: trained.model,
      production,
      settings: config.evaluate,
      seed: config.split.seed,
      training: { model, imbalance: config.imbalance, preprocess: config.preprocess },
    });
    // the ingest snapshot, written while the steps after it ran: a run whose artifacts could not be
    // written fails here, before it publishes
    await runner.settle();
    record.metrics = evaluation.metrics;
    if (evaluation.crossValidation) record.crossValidation = evaluation.crossValidation;
    if (evaluation.productionMetrics) record.productionMetrics = evaluation.productionMetrics;
    record.artifacts.evaluation = `${record.id}/evaluate/evaluation.json`;
    const reasons = evaluation.gates.map(
      (gate) => `${gate.passed ? 'pass' : 'fail'} ${gate.name}: ${gate.reason}`,
    );

    if (!evaluation.passed || options.noPublish) {
      runner.skip('publish', options.noPublish ? 'publishing turned off (--no-publish)' : 'a gate failed');
      record.outcome = {
        published: false,
        reasons: options.noPublish ? [...reasons, 'publishing turned off (--no-publish)'] : reasons,
      };
    } else {
      const activeRegistry = registry;
      const published = await runner.run(
        {
          name: 'publish',
          async run(context) {
            // Cross-validated runs hold no rows out: the golden rows are then training rows.
            const goldenRows = Array.from((split.test.length > 0 ? split.test : split.train).subarray(0, 8));
            const referenceStats = computeReferenceStats(ingest.frame, split.train, evaluation.testScores);
            const card = buildModelCard({
              schema,
              runId: record.id,
              model: record.model,
              dataHash: ingest.dataHash,
              rows: record.rows!,
              evaluation,
              thresholdSetting: config.evaluate.threshold,
              validation,
              referenceStats,
            });
            writeFileSync(join(context.dir, 'card.json'), `${JSON.stringify(card, null, 2)}\n`);
            const bundle = createBundle({
              schema,
              preprocessor,
              model: trained.model,
              ...(evaluation.threshold !== null ? { threshold: evaluation.threshold } : {}),
              metadata: {
                metrics: evaluation.metrics,
                params: {
                  type: config.model.type,
                  ...config.model.params,
                  imbalance: config.imbalance.strategy,
                  // what a later cross-validated run needs to refit this model's configuration
                  preprocess: config.preprocess,
                },
                dataHash: ingest.dataHash,
                codeVersion: record.code.git
                  ? `${record.code.pipewright}+${record.code.git.commit.slice(0, 12)}`
                  : record.code.pipewright,
                createdAt: new Date().toISOString(),
                runId: record.id,
                referenceStats,
                card,
              },
              goldenInputs: goldenRows.map((row) => ingest.frame.record(row)),
            });
            const bytes = serializeBundle(bundle);
            const info = await activeRegistry.publish(bytes, {
              runId: record.id,
              metrics: evaluation.metrics,
              schemaFingerprint: schema.fingerprint,
              task: schema.task,
              modelType: config.model.type,
              dataHash: ingest.dataHash,
            });
            await activeRegistry.setAlias(alias, info.version, {
              reason: `run ${record.id}: ${evaluation.metric} ${evaluation.metrics[evaluation.metric]}`,
            });
            context.logger.info(
              { version: info.version, alias, bytes: bytes.length },
              `published ${info.version} as ${alias}`,
            );
            return info;
          },
          summary: (info) => ({
            version: info.version,
            text: `${info.version} is now ${alias} (${activeRegistry.location})`,
          }),
        },
        undefined,
      );
      record.outcome = { published: true, version: published.version, alias, reasons };
    }
    record.status = 'succeeded';
    return record;
  } catch (error) {
    record.status = 'failed';
    record.outcome ??= {
      published: false,
      reasons: [
        isPipewrightError(error)
          ? `${error.code}: ${error.message}`
          : String((error as Error)?.message ?? error),
      ],
    };
    throw error;
  } finally {
    // a run that failed before settling still ends with its snapshot written (or failed) and recorded
    await runner.settle().catch(() => undefined);
    record.endedAt = new Date().toISOString();
    record.seconds = Math.round(performance.now() - started) / 1000;
    runner.save();
    try {
      pruneSnapshots(options.artifactsRoot, config.artifacts.keep_data, logger);
    } catch (error) {
      // a snapshot left behind costs disk, not the run
      logger.warn({ err: error }, `could not remove old data snapshots: ${(error as Error).message}`);
    }
    await trainingWorkers.stop();
    await store.close().catch(() => undefined);
    await registry?.close().catch(() => undefined);
    logger.info(
      { status: record.status, seconds: record.seconds, outcome: record.outcome },
      `run ${record.id} ${record.status} in ${record.seconds} s`,
    );
  }
}
