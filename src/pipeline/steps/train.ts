// Train: the configured model fitted on the transformed (and, when asked, resampled) training rows,
// reused while the preprocessor, the split, the model settings and the seed stay the same.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { canonicalJson, sha256 } from '../../core/hash.js';
import type { Frame } from '../../ml/frame.js';
import { balanceTrainingSet } from '../../ml/imbalance.js';
import { createEstimator, estimatorFromJSON } from '../../ml/models/index.js';
import type { SplitIndices } from '../../ml/split.js';
import { resolveThreads, stopWarmWorkers, warmTrainingWorkers } from '../../ml/tree/threads.js';
import type { Preprocessor } from '../../ml/transform/preprocessor.js';
import type { Estimator, EstimatorJSON } from '../../ml/types.js';
import type { Step } from '../runner.js';
import { splitHash } from './split.js';

export interface TrainInput {
  frame: Frame;
  split: SplitIndices;
  preprocessor: Preprocessor;
  preprocessorHash: string;
  model: Config['model'];
  imbalance: Config['imbalance'];
  seed: number;
}

export interface TrainOutput {
  model: Estimator;
  trainingRows: number;
}

/** The target values of `rows`, as the estimators read them. */
export function targetOf(frame: Frame, rows: Int32Array): Float64Array {
  const y = new Float64Array(rows.length);
  const target = frame.target!;
  for (let i = 0; i < rows.length; i++) y[i] = target[rows[i]];
  return y;
}

/**
 * Starts the tree engine's worker threads for a fit on several threads ahead of it (while the data is
 * read), so that binning and the first trees have every thread, each warmed up meanwhile on a made-up
 * fit of the model's kind; `stop` ends those no fit took.
 */
export const trainingWorkers = {
  warm(model: Config['model']): void {
    if (model.type === 'gbdt' || model.type === 'random_forest')
      warmTrainingWorkers(
        resolveThreads(model.threads) - 1,
        model.type === 'random_forest' ? 'forest' : 'boosting',
      );
  },
  stop: stopWarmWorkers,
};

export const trainStep: Step<TrainInput, TrainOutput> = {
  name: 'train',
  // Threads are left out: any thread count learns the same model.
  key: ({ preprocessorHash, split, model, imbalance, seed }) => ({
    preprocessorHash,
    split: splitHash(split),
    type: model.type,
    params: model.params,
    imbalance,
    seed,
  }),
  async run(context, { frame, split, preprocessor, model: settings, imbalance, seed }) {
    // on several threads the tree engine's workers read the training matrix in place, not a copy of it
    const X = preprocessor.transform(frame, split.train, {
      shared: resolveThreads(settings.threads) > 1,
    });
    const y = targetOf(frame, split.train);
    // Resampling applies to the training part only; the test part is never touched.
    const balanced = balanceTrainingSet(X, y, imbalance, seed);
    if (balanced.X.rows !== X.rows)
      context.logger.info(
        { before: X.rows, after: balanced.X.rows },
        `${imbalance.strategy} resampled the training part to ${balanced.X.rows} rows`,
      );
    const estimator = createEstimator(settings.type, settings.params, {
      ...(frame.schema.task !== undefined ? { task: frame.schema.task } : {}),
      seed,
      ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    });
    await estimator.fit(
      balanced.X,
      balanced.y,
      balanced.sampleWeight ? { sampleWeight: balanced.sampleWeight } : {},
    );
    // the same model on fewer threads: worth a warning, not a failure
    if (estimator.fitFallback) context.logger.warn(`${estimator.kind} ${estimator.fitFallback}`);
    return { model: estimator, trainingRows: balanced.X.rows };
  },
  save(output, dir) {
    const file = join(dir, 'model.json');
    writeFileSync(file, JSON.stringify({ trainingRows: output.trainingRows, model: output.model.toJSON() }));
    return [file];
  },
  load(dir) {
    const saved = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as {
      trainingRows: number;
      model: EstimatorJSON;
    };
    return { model: estimatorFromJSON(saved.model), trainingRows: saved.trainingRows };
  },
  outputHash: (output) => sha256(canonicalJson(output.model.toJSON())),
  summary: (output) => {
    // the threads are known when the model was fitted in this run, not when it came from the cache
    const threads = output.model.fitThreads;
    const on = threads === undefined ? '' : `, ${threads} thread${threads === 1 ? '' : 's'}`;
    return {
      model: output.model.kind,
      rows: output.trainingRows,
      ...(threads === undefined ? {} : { threads }),
      text: `${output.model.kind} on ${output.trainingRows.toLocaleString('en')} rows${on}`,
    };
  },
};
