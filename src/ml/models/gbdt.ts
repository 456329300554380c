// Histogram gradient boosting (scikit-learn's HistGradientBoosting, LightGBM's layout): features binned
// once into bytes, Newton trees grown leaf-wise or depth-wise on gradient/hessian histograms, binary
// log-loss, softmax for more classes, squared error for regression, early stopping on a validation part.
import { errors } from '../../core/errors.js';
import { classWeights } from '../imbalance.js';
import { decodeFloat64, encodeFloat64 } from '../codec.js';
import { deriveSeed, Random } from '../random.js';
import { randomSplit, stratifiedSplit } from '../split.js';
import { takeRows, type Estimator, type EstimatorJSON, type FitOptions, type Matrix } from '../types.js';
import { SharedBinning, type BinnedData } from '../tree/binning.js';
import { TreeEnsemble, type EnsembleJSON } from '../tree/ensemble.js';
import { TreeGrower, type GrowerSettings } from '../tree/grower.js';
import { fastExp } from '../tree/kernels.js';
import { phaseDone, phaseStart } from '../tree/profile.js';
import {
  checkChoice,
  checkClassWeight,
  checkInteger,
  checkNumber,
  checkOptionalInteger,
  checkThreads,
  cloneClassWeight,
  definedOnly,
  paramError,
  rejectUnknown,
  type ClassWeightParam,
} from '../tree/params.js';
import type { Worker } from 'node:worker_threads';
import { BoostingThreads, resolveThreads, StartingWorkers } from '../tree/threads.js';
import { planWorkspace, Workspace } from '../tree/workspace.js';

export interface GradientBoostingParams {
  loss: 'log_loss' | 'squared_error';
  learning_rate: number;
  /** Boosting iterations (one tree each, or one per class with more than two classes). */
  max_iter: number;
  /** Leaves per tree; null for no limit (then max_depth must be set). */
  max_leaf_nodes: number | null;
  max_depth: number | null;
  min_samples_leaf: number;
  /** Least hessian sum in a leaf (XGBoost's min_child_weight). */
  min_hessian_leaf: number;
  l2_regularization: number;
  /** Value bins per feature, at most 255 (one more is kept for missing values). */
  max_bins: number;
  /** Share of rows drawn (without replacement) for each tree. */
  subsample: number;
  /** Share of features drawn for each tree. */
  colsample: number;
  /** leafwise: split the best leaf first (scikit-learn, LightGBM); depthwise: level by level (XGBoost). */
  growth: 'leafwise' | 'depthwise';
  /** auto: on when the training part has more than 10,000 rows (scikit-learn's rule). */
  early_stopping: 'auto' | boolean;
  validation_fraction: number;
  n_iter_no_change: number;
  tol: number;
  class_weight: ClassWeightParam;
  random_state: number;
  /** Threads for fitting; null = every core. Any value gives the same model. */
  threads: number | null;
}

export const DEFAULT_GRADIENT_BOOSTING_PARAMS: GradientBoostingParams = {
  loss: 'log_loss',
  learning_rate: 0.1,
  max_iter: 100,
  max_leaf_nodes: 31,
  max_depth: null,
  min_samples_leaf: 20,
  min_hessian_leaf: 1e-3,
  l2_regularization: 0,
  max_bins: 255,
  subsample: 1,
  colsample: 1,
  growth: 'leafwise',
  early_stopping: 'auto',
  validation_fraction: 0.1,
  n_iter_no_change: 10,
  tol: 1e-7,
  class_weight: null,
  random_state: 0,
  threads: null,
};

/** Other libraries' names accepted for the same settings. */
const ALIASES: Record<string, keyof GradientBoostingParams> = {
  seed: 'random_state',
  min_child_weight: 'min_hessian_leaf',
};

type Task = 'binary' | 'multiclass' | 'regression';

interface GradientBoostingState {
  task: Task;
  /** Classes for classification (2 for binary), 0 for regression. */
  classes: number;
  features: number;
  featureNames: string[];
  /** Starting raw score per output. */
  baseline: number[];
  iterations: number;
  trees: EnsembleJSON;
  /** Split gain per feature, normalised to sum to 1 (base64 Float64Array). */
  importance: string;
  /** Validation loss before the first and after every iteration, when early stopping ran. */
  validationLoss: number[];
}

/** Below this many training rows, `early_stopping: auto` keeps every row for training. */
const AUTO_EARLY_STOPPING_ROWS = 10_000;

export class GradientBoostingModel implements Estimator {
  readonly kind = 'gbdt';
  readonly params: GradientBoostingParams;
  private state: GradientBoostingState | undefined;
  private ensemble = new TreeEnsemble();
  private baseline: Float64Array = new Float64Array(0);
  private importance: Float64Array = new Float64Array(0);
  /** Per-output scores for predictRow with many classes when no `out` is given. */
  private scratch: Float64Array = new Float64Array(0);

  constructor(params: Partial<GradientBoostingParams> & Record<string, unknown> = {}) {
    const given: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(params)) given[ALIASES[name] ?? name] = value;
    rejectUnknown(
      given,
      [...Object.keys(DEFAULT_GRADIENT_BOOSTING_PARAMS), ...Object.keys(ALIASES)],
      'gradient boosting',
    );
    const merged = {
      ...DEFAULT_GRADIENT_BOOSTING_PARAMS,
      ...definedOnly(given as Partial<GradientBoostingParams>),
    };
    checkChoice('loss', merged.loss, ['log_loss', 'squared_error']);
    checkNumber('learning_rate', merged.learning_rate, 0, Infinity);
    checkInteger('max_iter', merged.max_iter, 1);
    checkOptionalInteger('max_leaf_nodes', merged.max_leaf_nodes, 2);
    checkOptionalInteger('max_depth', merged.max_depth, 1);
    if (merged.max_leaf_nodes === null && merged.max_depth === null) {
      paramError(
        'max_leaf_nodes',
        null,
        'a whole number >= 2 when max_depth is null (a tree needs a size limit)',
      );
    }
    checkInteger('min_samples_leaf', merged.min_samples_leaf, 1);
    checkNumber('min_hessian_leaf', merged.min_hessian_leaf, 0, Infinity, true);
    checkNumber('l2_regularization', merged.l2_regularization, 0, Infinity, true);
    checkInteger('max_bins', merged.max_bins, 2, 255);
    checkNumber('subsample', merged.subsample, 0, 1);
    checkNumber('colsample', merged.colsample, 0, 1);
    checkChoice('growth', merged.growth, ['leafwise', 'depthwise']);
    checkChoice('early_stopping', merged.early_stopping, ['auto', true, false]);
    checkNumber('validation_fraction', merged.validation_fraction, 0, 0.9);
    checkInteger('n_iter_no_change', merged.n_iter_no_change, 1);
    checkNumber('tol', merged.tol, 0, Infinity, true);
    checkClassWeight(merged.class_weight);
    if (typeof merged.random_state !== 'number' || !Number.isInteger(merged.random_state)) {
      paramError('random_state', merged.random_state, 'a whole number');
    }
    checkThreads(merged.threads);
    this.params = merged;
  }

  get outputs(): number {
    return this.state?.task === 'multiclass' ? this.state.classes : 1;
  }

  /** Boosting iterations kept (fewer than max_iter when early stopping ended the fit). */
  get iterations(): number {
    return this.requireState().iterations;
  }

  /** Validation loss before the first and after each iteration (empty without early stopping). */
  get validationLoss(): number[] {
    return [...this.requireState().validationLoss];
  }

  async fit(X: Matrix, y: Float64Array, options: FitOptions = {}): Promise<this> {
    const params = this.params;
    if (y.length !== X.rows)
      throw new errors.PW_USAGE(`fit: ${X.rows} rows of features but ${y.length} targets`);
    if (X.rows === 0) throw new errors.PW_DATA_EMPTY('Cannot fit gradient boosting on zero rows');
    if (options.sampleWeight && options.sampleWeight.length !== X.rows) {
      throw new errors.PW_USAGE(`fit: ${X.rows} rows but ${options.sampleWeight.length} sample weights`);
    }
    const { task, classes } = describeTarget(y, params.loss);
    const outputs = task === 'multiclass' ? classes : 1;
    let weights: Float64Array | null = options.sampleWeight ? Float64Array.from(options.sampleWeight) : null;
    if (params.class_weight !== null) {
      if (task === 'regression')
        paramError('class_weight', params.class_weight, 'null for a regression (squared_error) model');
      const byClass = classWeights(
        y,
        params.class_weight === 'balanced' ? 'balanced' : numericKeys(params.class_weight),
      );
      if (weights) for (let i = 0; i < byClass.length; i++) weights[i] *= byClass[i];
      else weights = byClass;
    }

    // the validation part: given, or carved from the training rows (stratified by class)
    const early =
      params.early_stopping === true ||
      (params.early_stopping === 'auto' && X.rows > AUTO_EARLY_STOPPING_ROWS);
    let trainX = X;
    let trainY = y;
    let trainWeights = weights;
    let validation: { X: Matrix; y: Float64Array; weights: Float64Array | null } | undefined;
    if (early && options.validation) {
      const valY = options.validation.y;
      const valWeights =
        params.class_weight !== null && task !== 'regression'
          ? classWeights(
              valY,
              params.class_weight === 'balanced' ? 'balanced' : numericKeys(params.class_weight),
            )
          : null;
      validation = { X: options.validation.X, y: valY, weights: valWeights };
    } else if (early) {
      const split =
        task === 'regression'
          ? randomSplit(X.rows, { testSize: params.validation_fraction, seed: params.random_state })
          : stratifiedSplit(y, { testSize: params.validation_fraction, seed: params.random_state });
      if (split.train.length === 0 || split.test.length === 0) {
        throw new errors.PW_USAGE(
          `fit: ${X.rows} rows are too few to set aside a validation part for early stopping`,
          {
            hint: 'Set model.params.early_stopping: false, or train on more rows.',
          },
        );
      }
      trainX = takeRows(X, split.train);
      trainY = pick(y, split.train);
      trainWeights = weights ? pick(weights, split.train) : null;
      validation = {
        X: takeRows(X, split.test),
        y: pick(y, split.test),
        weights: weights ? pick(weights, split.test) : null,
      };
    }
    if (validation && validation.X.cols !== X.cols) {
      throw new errors.PW_USAGE(
        `fit: the validation part has ${validation.X.cols} features, the training part ${X.cols}`,
      );
    }

    const threads = resolveThreads(params.threads);
    const seed = params.random_state;
    const binning = SharedBinning.prepare(trainX, params.max_bins, new Random(deriveSeed(seed, 1)), threads);
    // worker threads start now, take their share of the binning, then get their work once it is done
    const workers = StartingWorkers.start(threads - 1, binning.job);
    let trainer: BoostingTrainer | undefined;
    try {
      const data = binning.bin();
      trainer = await BoostingTrainer.start(
        data,
        params,
        threads,
        await workers.ready(),
        outputs,
        trainWeights !== null,
      );
      const result = trainer.train(
        trainY,
        trainWeights,
        task,
        outputs,
        validation,
        new Random(deriveSeed(seed, 2)),
      );
      result.ensemble.trim();
      this.setState(
        {
          task,
          classes: task === 'regression' ? 0 : classes,
          features: X.cols,
          featureNames: [...X.names],
          baseline: [...result.baseline],
          iterations: result.iterations,
          trees: result.ensemble.toJSON(),
          importance: encodeFloat64(normalised(result.importance)),
          validationLoss: result.validationLoss,
        },
        result.ensemble,
      );
    } finally {
      await trainer?.close();
      await workers.stop();
    }
    return this;
  }

  private setState(state: GradientBoostingState, ensemble: TreeEnsemble): void {
    this.state = state;
    this.ensemble = ensemble;
    this.baseline = Float64Array.from(state.baseline);
    this.importance = decodeFloat64(state.importance, 'gbdt importance');
    this.scratch = new Float64Array(Math.max(1, state.baseline.length));
  }

  private requireState(): GradientBoostingState {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED('The gradient boosting model is not fitted');
    return this.state;
  }

  /** Raw scores (log-odds, class scores or values), row after row. */
  decisionFunction(X: Matrix): Float64Array {
    const state = this.requireState();
    if (X.cols !== state.features)
      throw new errors.PW_USAGE(`predict: the model has ${state.features} features, the matrix ${X.cols}`);
    const outputs = this.baseline.length;
    const raw = new Float64Array(X.rows * outputs);
    for (let i = 0; i < X.rows; i++)
      for (let o = 0; o < outputs; o++) raw[i * outputs + o] = this.baseline[o];
    for (let t = 0; t < this.ensemble.treeCount; t++) this.ensemble.addTree(t, X, raw, outputs, t % outputs);
    return raw;
  }

  /** Binary: P(class 1) per row. Multiclass: k probabilities a row, row after row. Regression: the value. */
  predict(X: Matrix): Float64Array {
    const state = this.requireState();
    const raw = this.decisionFunction(X);
    if (state.task === 'regression') return raw;
    if (state.task === 'binary') {
      for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]);
      return raw;
    }
    const k = state.classes;
    for (let i = 0; i < X.rows; i++) softmaxInPlace(raw, i * k, k);
    return raw;
  }

  /** Binary: P(class 1); regression: the value; multiclass: writes the k probabilities into `out` and returns the likeliest class. */
  predictRow(row: Float64Array, out?: Float64Array): number {
    const state = this.requireState();
    if (state.task !== 'multiclass') {
      const raw = this.ensemble.sumRow(row, 0, 1, this.baseline[0]);
      const value = state.task === 'binary' ? sigmoid(raw) : raw;
      if (out) out[0] = value;
      return value;
    }
    const k = state.classes;
    const target = out ?? this.scratch;
    for (let c = 0; c < k; c++) target[c] = this.ensemble.sumRow(row, c, k, this.baseline[c]);
    softmaxInPlace(target, 0, k);
    let best = 0;
    for (let c = 1; c < k; c++) if (target[c] > target[best]) best = c;
    return best;
  }

  /** Total split gain per feature, normalised to sum to 1. */
  featureImportance(): Float64Array {
    this.requireState();
    return Float64Array.from(this.importance);
  }

  toJSON(): EstimatorJSON {
    const state = this.requireState();
    return {
      kind: this.kind,
      params: { ...this.params, class_weight: cloneClassWeight(this.params.class_weight) },
      state: {
        ...state,
        featureNames: [...state.featureNames],
        baseline: [...state.baseline],
        validationLoss: [...state.validationLoss],
      },
    };
  }

  static fromJSON(json: EstimatorJSON): GradientBoostingModel {
    if (!json || json.kind !== 'gbdt')
      throw new errors.PW_BUNDLE_INVALID(`Expected a gbdt model, got kind ${JSON.stringify(json?.kind)}`);
    const model = new GradientBoostingModel(json.params as Partial<GradientBoostingParams>);
    const state = json.state as GradientBoostingState;
    const outputs = state?.task === 'multiclass' ? state.classes : 1;
    const valid =
      state &&
      ['binary', 'multiclass', 'regression'].includes(state.task) &&
      Number.isInteger(state.classes) &&
      Number.isInteger(state.features) &&
      state.features >= 0 &&
      Array.isArray(state.featureNames) &&
      state.featureNames.length === state.features &&
      Array.isArray(state.baseline) &&
      state.baseline.length === outputs &&
      state.baseline.every(Number.isFinite) &&
      Number.isInteger(state.iterations) &&
      Array.isArray(state.validationLoss);
    if (!valid)
      throw new errors.PW_BUNDLE_INVALID(
        'Gradient boosting state: task, classes, features and baseline do not agree',
      );
    const ensemble = TreeEnsemble.fromJSON(state.trees, state.features, 'gbdt trees');
    if (ensemble.treeCount !== state.iterations * outputs) {
      throw new errors.PW_BUNDLE_INVALID(
        `Gradient boosting state: ${ensemble.treeCount} trees for ${state.iterations} iterations of ${outputs} outputs`,
      );
    }
    const importance = decodeFloat64(state.importance, 'gbdt importance');
    if (importance.length !== state.features)
      throw new errors.PW_BUNDLE_INVALID('Gradient boosting state: one importance per feature expected');
    model.setState(
      {
        ...state,
        featureNames: [...state.featureNames],
        baseline: [...state.baseline],
        validationLoss: [...state.validationLoss],
      },
      ensemble,
    );
    return model;
  }
}

interface TrainResult {
  ensemble: TreeEnsemble;
  baseline: Float64Array;
  iterations: number;
  importance: Float64Array;
  validationLoss: number[];
}

/** The boosting loop over binned rows, with its workspace (shared with worker threads when threads > 1). */
class BoostingTrainer {
  private constructor(
    private readonly workspace: Workspace,
    private readonly params: GradientBoostingParams,
    private readonly grower: TreeGrower,
    private readonly threads: BoostingThreads,
  ) {}

  static async start(
    binned: BinnedData,
    params: GradientBoostingParams,
    threads: number,
    workers: Worker[],
    outputs: number,
    weighted: boolean,
  ): Promise<BoostingTrainer> {
    const { layout } = binned;
    // every open node holds a histogram: at most max leaves, or (depth-first) two per level; the same
    // capacity on every thread count, so a full pool ends a branch the same way everywhere
    const capacity =
      params.max_leaf_nodes !== null
        ? params.max_leaf_nodes + 2
        : params.growth === 'depthwise'
          ? (params.max_depth as number) + 3
          : Math.min(2 ** (params.max_depth as number), 1024) + 2;
    const maxNodes =
      params.max_leaf_nodes !== null ? 2 * params.max_leaf_nodes : 2 ** ((params.max_depth as number) + 1);
    const settings: GrowerSettings = {
      criterion: 'newton',
      leafOutput: 'newton',
      l2: params.l2_regularization,
      shrinkage: params.learning_rate,
      maxLeaves: params.max_leaf_nodes ?? 0,
      maxDepth: params.max_depth ?? 0,
      minSamplesLeaf: params.min_samples_leaf,
      minSamplesSplit: 2,
      minHessianLeaf: params.min_hessian_leaf,
      growth: params.growth,
      featuresPerSplit: 0,
      stopWhenPure: false,
    };
    // one output and 16-bit leaf numbers: the gradient pass runs in the kernels, on every thread
    const boosting = outputs === 1 && maxNodes <= 65536 ? { maxNodes, weighted } : undefined;
    const { plan, memory } = planWorkspace(
      binned.rows,
      layout.groups,
      layout.totalBins,
      capacity,
      threads,
      boosting,
    );
    const workspace = new Workspace(memory, plan, binned.mapper, layout, binned);
    const pool = await BoostingThreads.start(workspace, workers);
    const grower = new TreeGrower(workspace, pool, settings);
    return new BoostingTrainer(workspace, params, grower, pool);
  }

  async close(): Promise<void> {
    await this.threads.close();
  }

  train(
    y: Float64Array,
    weights: Float64Array | null,
    task: Task,
    outputs: number,
    validation: { X: Matrix; y: Float64Array; weights: Float64Array | null } | undefined,
    random: Random,
  ): TrainResult {
    const params = this.params;
    const { data, rows, gh, plan, kernels } = this.workspace;
    const buffer = this.workspace.memory.buffer;
    const regions = plan.boosting;
    const n = data.rows;
    const { layout } = data;
    const grower = this.grower;
    const ensemble = new TreeEnsemble();
    const importance = new Float64Array(layout.features);
    const baseline = initialScores(y, weights, task, outputs);
    const raw = regions ? new Float64Array(buffer, regions.rawAt, n) : new Float64Array(n * outputs);
    for (let i = 0; i < n; i++) for (let o = 0; o < outputs; o++) raw[i * outputs + o] = baseline[o];
    // the leaf of every row, written in partition order and read back in row order (cache-friendly)
    const leafOf = regions ? new Uint16Array(buffer, regions.leafOfAt, n) : new Int32Array(n);
    // in the kernels' pass the last tree's leaf values are added to the scores just before the gradients
    const leafValues = regions
      ? new Float64Array(buffer, regions.leafValuesAt, regions.maxNodes)
      : new Float64Array(0);
    if (regions) {
      new Float64Array(buffer, regions.yAt, n).set(y);
      if (weights) new Float64Array(buffer, regions.weightsAt, n).set(weights);
    }
    const probabilities = task === 'multiclass' ? new Float64Array(n * outputs) : raw;
    const validationRaw = validation ? new Float64Array(validation.X.rows * outputs) : new Float64Array(0);
    if (validation) {
      for (let i = 0; i < validation.X.rows; i++)
        for (let o = 0; o < outputs; o++) validationRaw[i * outputs + o] = baseline[o];
    }
    const validationLoss: number[] = validation
      ? [lossOf(task, validation.y, validationRaw, validation.weights, outputs)]
      : [];
    const sampled = params.subsample < 1 ? Math.max(1, Math.round(params.subsample * n)) : n;
    const inSample = sampled < n ? new Uint8Array(n) : undefined;
    const usable: number[] = [];
    for (let f = 0; f < layout.features; f++) if (layout.featureGroup[f] >= 0) usable.push(f);
    const allowed = params.colsample < 1 ? new Uint8Array(layout.features) : undefined;
    const featuresPerTree = Math.max(1, Math.round(params.colsample * usable.length));

    let iterations = 0;
    for (let iteration = 0; iteration < params.max_iter; iteration++) {
      if (task === 'multiclass') {
        probabilities.set(raw);
        for (let i = 0; i < n; i++) softmaxInPlace(probabilities, i * outputs, outputs);
      }
      for (let output = 0; output < outputs; output++) {
        if (regions) {
          this.threads.boost(n, task === 'binary', !inSample);
        } else {
          computeGradients(
            task,
            y,
            weights,
            task === 'multiclass' ? probabilities : raw,
            outputs,
            output,
            gh,
          );
          if (!inSample) for (let i = 0; i < n; i++) rows[i] = i;
        }
        if (inSample) drawRows(random, n, sampled, rows, inSample);
        if (allowed) {
          allowed.fill(0);
          const drawn = random.sampleWithoutReplacement(usable.length, featuresPerTree);
          for (let j = 0; j < drawn.length; j++) allowed[usable[drawn[j]]] = 1;
        }
        grower.allowFeatures(allowed);
        const tree = grower.grow(sampled, !inSample, undefined);

        const updating = phaseStart();
        for (let k = 0; k < tree.count; k++) {
          if (tree.left[k] >= 0) {
            importance[tree.feature[k]] += tree.gain[k];
          } else if (regions) {
            kernels.scatterLeaf(plan.rowsAt, tree.start[k], tree.end[k], regions.leafOfAt, k);
          } else {
            for (let i = tree.start[k]; i < tree.end[k]; i++) leafOf[rows[i]] = k;
          }
        }
        if (inSample) {
          for (let row = 0; row < n; row++) if (inSample[row] === 0) leafOf[row] = grower.leafOfRow(row);
        }
        if (regions) {
          leafValues.set(tree.value.subarray(0, tree.count));
        } else {
          const values = tree.value;
          for (let i = 0; i < n; i++) raw[i * outputs + output] += values[leafOf[i]];
        }
        phaseDone('prediction update', updating);
        const t = ensemble.append({
          feature: tree.feature.subarray(0, tree.count),
          value: tree.value.subarray(0, tree.count),
          missingLeft: tree.missingLeft.subarray(0, tree.count),
          left: tree.left.subarray(0, tree.count),
          gain: tree.gain.subarray(0, tree.count),
        });
        if (validation) ensemble.addTree(t, validation.X, validationRaw, outputs, output);
      }
      iterations++;
      if (validation) {
        validationLoss.push(lossOf(task, validation.y, validationRaw, validation.weights, outputs));
        if (shouldStop(validationLoss, params.n_iter_no_change, params.tol)) break;
      }
    }
    return { ensemble, baseline, iterations, importance, validationLoss };
  }
}

/** scikit-learn's rule: stop when none of the last n iterations beat the loss n+1 iterations back by more than tol. */
function shouldStop(losses: number[], patience: number, tol: number): boolean {
  if (losses.length <= patience) return false;
  const reference = losses[losses.length - patience - 1] - tol;
  for (let i = losses.length - patience; i < losses.length; i++) if (losses[i] < reference) return false;
  return true;
}

function describeTarget(
  y: Float64Array,
  loss: GradientBoostingParams['loss'],
): { task: Task; classes: number } {
  if (loss === 'squared_error') {
    for (let i = 0; i < y.length; i++) {
      if (!Number.isFinite(y[i]))
        throw new errors.PW_USAGE(`fit: target value ${y[i]} at row ${i} is not a finite number`);
    }
    return { task: 'regression', classes: 0 };
  }
  let classes = 2;
  for (let i = 0; i < y.length; i++) {
    const label = y[i];
    if (!Number.isInteger(label) || label < 0) {
      throw new errors.PW_USAGE(`fit: label ${label} at row ${i} is not a class index (0, 1, ...)`, {
        hint: 'Use loss: squared_error for a numeric target.',
      });
    }
    if (label + 1 > classes) classes = label + 1;
  }
  return { task: classes > 2 ? 'multiclass' : 'binary', classes };
}

function initialScores(
  y: Float64Array,
  weights: Float64Array | null,
  task: Task,
  outputs: number,
): Float64Array {
  const n = y.length;
  let total = 0;
  const sums = new Float64Array(task === 'multiclass' ? outputs : 1);
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    total += w;
    if (task === 'multiclass') sums[y[i]] += w;
    else sums[0] += w * y[i];
  }
  if (task === 'regression') return Float64Array.of(total > 0 ? sums[0] / total : 0);
  const clamp = (p: number): number => Math.min(1 - 1e-15, Math.max(1e-15, p));
  if (task === 'binary') {
    const p = clamp(total > 0 ? sums[0] / total : 0.5);
    return Float64Array.of(Math.log(p / (1 - p)));
  }
  return Float64Array.from(sums, (sum) => Math.log(clamp(total > 0 ? sum / total : 1 / outputs)));
}

/** (gradient, hessian) pairs of every row, in row order. */
function computeGradients(
  task: Task,
  y: Float64Array,
  weights: Float64Array | null,
  scores: Float64Array,
  outputs: number,
  output: number,
  gh: Float64Array,
): void {
  const n = y.length;
  if (task === 'regression') {
    for (let i = 0; i < n; i++) {
      const w = weights ? weights[i] : 1;
      gh[2 * i] = w * (scores[i] - y[i]);
      gh[2 * i + 1] = w;
    }
  } else if (task === 'binary') {
    for (let i = 0; i < n; i++) {
      const p = 1 / (1 + fastExp(-scores[i]));
      const w = weights ? weights[i] : 1;
      gh[2 * i] = w * (p - y[i]);
      gh[2 * i + 1] = w * p * (1 - p);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const p = scores[i * outputs + output];
      const w = weights ? weights[i] : 1;
      gh[2 * i] = w * (p - (y[i] === output ? 1 : 0));
      gh[2 * i + 1] = w * p * (1 - p);
    }
  }
}

/** Mean (weighted) loss: log-loss from raw scores, or half the squared error. */
function lossOf(
  task: Task,
  y: Float64Array,
  raw: Float64Array,
  weights: Float64Array | null,
  outputs: number,
): number {
  let total = 0;
  let weightSum = 0;
  for (let i = 0; i < y.length; i++) {
    const w = weights ? weights[i] : 1;
    let loss: number;
    if (task === 'regression') {
      const d = raw[i] - y[i];
      loss = 0.5 * d * d;
    } else if (task === 'binary') {
      const r = raw[i];
      loss = softplus(r) - y[i] * r;
    } else {
      let max = -Infinity;
      for (let o = 0; o < outputs; o++) max = Math.max(max, raw[i * outputs + o]);
      let sum = 0;
      for (let o = 0; o < outputs; o++) sum += Math.exp(raw[i * outputs + o] - max);
      loss = max + Math.log(sum) - raw[i * outputs + y[i]];
    }
    total += w * loss;
    weightSum += w;
  }
  return weightSum > 0 ? total / weightSum : 0;
}

/** `count` distinct rows in ascending order (selection sampling), marked in `inSample`. */
function drawRows(random: Random, n: number, count: number, rows: Uint32Array, inSample: Uint8Array): void {
  let needed = count;
  let taken = 0;
  for (let row = 0; row < n; row++) {
    if (random.next() * (n - row) < needed) {
      rows[taken++] = row;
      inSample[row] = 1;
      needed--;
    } else {
      inSample[row] = 0;
    }
  }
}

function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

function sigmoid(score: number): number {
  if (score >= 0) return 1 / (1 + Math.exp(-score));
  const e = Math.exp(score);
  return e / (1 + e);
}

function softmaxInPlace(values: Float64Array, offset: number, k: number): void {
  let max = -Infinity;
  for (let o = 0; o < k; o++) if (values[offset + o] > max) max = values[offset + o];
  let sum = 0;
  for (let o = 0; o < k; o++) sum += values[offset + o] = Math.exp(values[offset + o] - max);
  for (let o = 0; o < k; o++) values[offset + o] /= sum;
}

function normalised(values: Float64Array): Float64Array {
  const out = Float64Array.from(values);
  let total = 0;
  for (let i = 0; i < out.length; i++) total += out[i];
  if (total > 0) for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

function pick(values: Float64Array, indices: Int32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
  return out;
}

function numericKeys(weights: Record<string, number>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const [label, weight] of Object.entries(weights)) out[Number(label)] = weight;
  return out;
}
