// Split, transform and train: the steps whose outputs are reused when their inputs have not changed
// (same data hash, same settings), so a second run on the same data retrains nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { canonicalJson, sha256 } from '../../core/hash.js';
import type { Frame } from '../../ml/frame.js';
import { balanceTrainingSet } from '../../ml/imbalance.js';
import { createEstimator, estimatorFromJSON, type ModelType } from '../../ml/models/index.js';
import { splitFrame, type SplitIndices } from '../../ml/split.js';
import { Preprocessor, type PreprocessorJSON } from '../../ml/transform/preprocessor.js';
import type { Estimator, EstimatorJSON } from '../../ml/types.js';
import type { Step } from '../runner.js';

export interface SplitInput {
  frame: Frame;
  dataHash: string;
  settings: Config['split'];
}

function int32Hash(values: Int32Array): string {
  return sha256(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

export function splitHash(split: SplitIndices): string {
  return sha256(`${int32Hash(split.train)}:${int32Hash(split.test)}`);
}

export const splitStep: Step<SplitInput, SplitIndices> = {
  name: 'split',
  key: ({ dataHash, settings }) => ({ dataHash, settings }),
  async run(_context, { frame, settings }) {
    return splitFrame(frame, {
      testSize: settings.test_size,
      seed: settings.seed,
      stratify: settings.stratify,
    });
  },
  save(split, dir) {
    const train = join(dir, 'train.i32');
    const test = join(dir, 'test.i32');
    writeFileSync(train, new Uint8Array(split.train.buffer, split.train.byteOffset, split.train.byteLength));
    writeFileSync(test, new Uint8Array(split.test.buffer, split.test.byteOffset, split.test.byteLength));
    return [train, test];
  },
  load(dir) {
    const read = (name: string) => {
      const bytes = readFileSync(join(dir, name));
      return new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    };
    return { train: read('train.i32'), test: read('test.i32') };
  },
  outputHash: splitHash,
  summary: (split) => ({
    train: split.train.length,
    test: split.test.length,
    text: `${split.train.length.toLocaleString('en')} train, ${split.test.length.toLocaleString('en')} test`,
  }),
};

export interface TransformInput {
  frame: Frame;
  split: SplitIndices;
  splitHash: string;
  schemaFingerprint: string;
  settings: Config['preprocess'];
}

export const transformStep: Step<TransformInput, Preprocessor> = {
  name: 'transform',
  key: ({ splitHash: hash, schemaFingerprint, settings }) => ({
    splitHash: hash,
    schemaFingerprint,
    settings,
  }),
  async run(_context, { frame, split, settings }) {
    // Fitted on the training part only: the test part must stay unseen.
    return Preprocessor.fromConfig(frame.schema, settings).fit(frame, split.train);
  },
  save(preprocessor, dir) {
    const file = join(dir, 'preprocessor.json');
    writeFileSync(file, JSON.stringify(preprocessor.toJSON()));
    return [file];
  },
  load: (dir) =>
    Preprocessor.fromJSON(
      JSON.parse(readFileSync(join(dir, 'preprocessor.json'), 'utf8')) as PreprocessorJSON,
    ),
  outputHash: (preprocessor) => sha256(canonicalJson(preprocessor.toJSON())),
  summary: (preprocessor) => ({
    features: preprocessor.outputs,
    text: `${preprocessor.outputs} model features`,
  }),
};

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
    const X = preprocessor.transform(frame, split.train);
    const y = targetOf(frame, split.train);
    // Resampling applies to the training part only; the test part is never touched.
    const balanced = balanceTrainingSet(X, y, imbalance, seed);
    if (balanced.X.rows !== X.rows)
      context.logger.info(
        { before: X.rows, after: balanced.X.rows },
        `${imbalance.strategy} resampled the training part to ${balanced.X.rows} rows`,
      );
    const params: Record<string, unknown> = { ...settings.params };
    if (settings.type !== 'logistic' && params.random_state === undefined && params.seed === undefined)
      params.random_state = seed;
    if (settings.threads !== undefined && settings.type !== 'logistic') params.threads = settings.threads;
    // A regression target read with a classification loss would make one class per distinct value.
    if (frame.schema.task === 'regression' && settings.type === 'gbdt' && params.loss === undefined)
      params.loss = 'squared_error';
    if (
      frame.schema.task === 'regression' &&
      settings.type === 'random_forest' &&
      params.criterion === undefined
    )
      params.criterion = 'squared_error';
    const estimator = createEstimator(settings.type as ModelType, params);
    await estimator.fit(
      balanced.X,
      balanced.y,
      balanced.sampleWeight ? { sampleWeight: balanced.sampleWeight } : {},
    );
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
  summary: (output) => ({
    model: output.model.kind,
    rows: output.trainingRows,
    text: `${output.model.kind} on ${output.trainingRows.toLocaleString('en')} rows`,
  }),
};
