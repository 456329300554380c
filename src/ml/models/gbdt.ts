// Histogram gradient boosting (scikit-learn's HistGradientBoosting, LightGBM's layout): features binned
// once into bytes, Newton trees grown leaf-wise or depth-wise on gradient/hessian histograms, binary
// log-loss, softmax for more classes, squared error for regression, early stopping on a validation part.
import type { Worker } from 'node:worker_threads';
import { errors } from '../../core/errors.js';
import { encodeFloat64 } from '../codec.js';
import { softplus, sigmoid } from '../math.js';
import {
  classWeightsOf,
  paramError,
  readParams,
  rule,
  type ClassWeightParam,
  type ParamsSpec,
} from '../params.js';
import { deriveSeed, Random } from '../../core/random.js';
import { randomSplit, stratifiedSplit } from '../split.js';
import { dealRows, dealtRow, SharedBinning, type BinnedData } from '../tree/binning.js';
import { TreeEnsemble, type EnsembleJSON } from '../tree/ensemble.js';
import { TreeGrower, type GrowerSettings } from '../tree/grower.js';
import { exactGrid } from '../tree/histogram.js';
import { fastExp } from '../tree/kernels.js';
import { phaseDone, phaseStart } from '../tree/profile.js';
import {
  addTreesOnThreads,
  BoostingThreads,
  boostingSegments,
  boostingThreads,
  leadOnWorker,
  leadsWarm,
  resolveThreads,
  StartingWorkers,
} from '../tree/threads.js';
import { planWorkspace, Workspace } from '../tree/workspace.js';
import {
  takeRows,
  type EstimatorJSON,
  type EstimatorOptions,
  type FitOptions,
  type Matrix,
  type Task,
} from '../types.js';
import { checkFitInputs, describeTarget, expectKind } from './estimator.js';
import { normalised, TreeModel, type TreeModelJSONState, type TreeModelState } from './tree-model.js';

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

const GRADIENT_BOOSTING_PARAMS: ParamsSpec<GradientBoostingParams> = {
  model: 'gradient boosting',
  defaults: DEFAULT_GRADIENT_BOOSTING_PARAMS,
  aliases: { seed: 'random_state', min_child_weight: 'min_hessian_leaf' },
  rules: {
    loss: rule.choice(['log_loss', 'squared_error']),
    learning_rate: rule.number(0, Infinity),
    max_iter: rule.integer(1),
    max_leaf_nodes: rule.optionalInteger(2),
    max_depth: rule.optionalInteger(1),
    min_samples_leaf: rule.integer(1),
    min_hessian_leaf: rule.number(0, Infinity, true),
    l2_regularization: rule.number(0, Infinity, true),
    max_bins: rule.integer(2, 255),
    subsample: rule.number(0, 1),
    colsample: rule.number(0, 1),
    growth: rule.choice(['leafwise', 'depthwise']),
    early_stopping: rule.choice(['auto', true, false]),
    validation_fraction: rule.number(0, 0.9),
    n_iter_no_change: rule.integer(1),
    tol: rule.number(0, Infinity, true),
    class_weight: rule.classWeight(),
    random_state: rule.wholeNumber(),
    threads: rule.threads(),
  },
  check(params) {
    if (params.loss === 'squared_error' && params.class_weight !== null)
      paramError('class_weight', params.class_weight, 'null for a regression (squared_error) model');
    if (params.max_leaf_nodes === null && params.max_depth === null)
      paramError(
        'max_leaf_nodes',
        null,
        'a whole number >= 2 when max_depth is null (a tree needs a size limit)',
      );
  },
  tasks: { binary: {}, multiclass: {}, regression: { loss: 'squared_error' } },
  seedParam: 'random_state',
  threadsParam: 'threads',
};

interface GradientBoostingState extends TreeModelState {
  task: Task;
  /** Classes for classification (2 for binary), 0 for regression. */
  classes: number;
  /** Starting raw score per output. */
  baseline: number[];
  iterations: number;
  /** Validation loss before the first and after every iteration, when early stopping ran. */
  validationLoss: number[];
}

/** Below this many training rows, `early_stopping: auto` keeps every row for training. */
const AUTO_EARLY_STOPPING_ROWS = 10_000;

export class GradientBoostingModel extends TreeModel<GradientBoostingParams, GradientBoostingState> {
  readonly kind = 'gbdt';
  protected readonly label = 'gradient boosting';
  private baseline: Float64Array = new Float64Array(0);
  /** Per-output scores for predictRow with many classes when no `out` is given. */
  private scratch: Float64Array = new Float64Array(0);

  constructor(
    params: Partial<GradientBoostingParams> & Record<string, unknown> = {},
    options: EstimatorOptions = {},
  ) {
    super(readParams(GRADIENT_BOOSTING_PARAMS, params, options));
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
    checkFitInputs(X, y, options, this.label);
    const { task, classes } = describeTarget(y, params.loss === 'squared_error', {
      hint: 'Use loss: squared_error for a numeric target.',
    });
    const outputs = task === 'multiclass' ? classes : 1;
    const weights = this.rowWeights(y, options);

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
          ? classWeightsOf(valY, params.class_weight)
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

    // any thread count learns the same model: small tables take the one that is fastest for them
    const threads = boostingThreads(resolveThreads(params.threads), trainX.rows, trainX.cols);
    this.fitThreads = threads;
    const seed = params.random_state;
    // worker threads start first (their start-up overlaps the copy of the data into shared memory),
    // take their share of the binning, then get their work once it is done
    const workers = StartingWorkers.start(threads - 1);
    let trainer: BoostingTrainer | undefined;
    try {
      // each thread keeps its rows in a segment of its own, the training rows dealt to them as they are
      // binned, unless the table is wide (the gradients on exact grids make the model the same for any count)
      const binning = SharedBinning.prepare(
        trainX,
        params.max_bins,
        new Random(deriveSeed(seed, 1)),
        threads,
        boostingSegments(threads, trainX.cols),
      );
      workers.share(binning.job);
      const data = binning.bin();
      const started = await this.startedWorkers(workers);
      let result: TrainResult;
      if (leadable(params, outputs) && leadsWarm(started)) {
        // a worker leads, its code warmed up while the data was read (see leadOnWorker)
        result = await BoostingTrainer.ledByWorker(data, params, threads, started, {
          params,
          y: trainY,
          weights: trainWeights,
          task,
          validation,
        });
      } else {
        trainer = await BoostingTrainer.start(data, params, threads, started, outputs, trainWeights !== null);
        result = trainer.train(
          trainY,
          trainWeights,
          task,
          outputs,
          validation,
          new Random(deriveSeed(seed, 2)),
        );
      }
      result.ensemble.trim();
      this.setState(
        {
          task,
          classes: task === 'regression' ? 0 : classes,
          features: X.cols,
          featureNames: [...X.names],
          baseline: [...result.baseline],
          iterations: result.iterations,
          importance: encodeFloat64(normalised(result.importance)),
          validationLoss: result.validationLoss,
        },
        result.ensemble,
      );
    } finally {
      await trainer?.close();
      await workers.finish();
    }
    return this;
  }

  protected override setState(state: GradientBoostingState, ensemble: TreeEnsemble): void {
    super.setState(state, ensemble);
    this.baseline = Float64Array.from(state.baseline);
    this.scratch = new Float64Array(Math.max(1, state.baseline.length));
  }

  protected override copyState(state: GradientBoostingState): GradientBoostingState {
    return {
      ...state,
      featureNames: [...state.featureNames],
      baseline: [...state.baseline],
      validationLoss: [...state.validationLoss],
    };
  }

  /** Raw scores (log-odds, class scores or values), row after row. */
  decisionFunction(X: Matrix): Float64Array {
    const raw = this.baselineScores(X);
    this.ensemble.addTrees(X, raw, this.baseline.length);
    return raw;
  }

  /** Binary: P(class 1) per row. Multiclass: k probabilities a row, row after row. Regression: the value. */
  predict(X: Matrix): Float64Array {
    return this.probabilities(this.decisionFunction(X), X.rows);
  }

  /**
   * predict's values, bit for bit, with the trees added on up to `threads` threads (a large batch, X in
   * shared memory: see predictOn).
   */
  async predictOnThreads(X: Matrix, threads: number): Promise<Float64Array> {
    const raw = this.baselineScores(X);
    await addTreesOnThreads(this.ensemble, X, raw, this.baseline.length, threads);
    return this.probabilities(raw, X.rows);
  }

  /** Every row's baseline, before the trees are added. */
  private baselineScores(X: Matrix): Float64Array {
    this.requireFeatures(X);
    const outputs = this.baseline.length;
    const raw = new Float64Array(X.rows * outputs);
    for (let i = 0; i < X.rows; i++)
      for (let o = 0; o < outputs; o++) raw[i * outputs + o] = this.baseline[o];
    return raw;
  }

  /** Raw scores turned, in place, into what predict gives. */
  private probabilities(raw: Float64Array, rows: number): Float64Array {
    const state = this.requireState();
    if (state.task === 'regression') return raw;
    if (state.task === 'binary') {
      for (let i = 0; i < raw.length; i++) raw[i] = sigmoid(raw[i]);
      return raw;
    }
    const k = state.classes;
    for (let i = 0; i < rows; i++) softmaxInPlace(raw, i * k, k);
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

  static fromJSON(json: EstimatorJSON): GradientBoostingModel {
    expectKind(json, 'gbdt');
    const outputsOf = (state: GradientBoostingState): number =>
      state.task === 'multiclass' ? state.classes : 1;
    return new GradientBoostingModel(json.params as Partial<GradientBoostingParams>).restore(
      json.state as TreeModelJSONState<GradientBoostingState>,
      (state) =>
        ['binary', 'multiclass', 'regression'].includes(state.task) &&
        Number.isInteger(state.classes) &&
        Array.isArray(state.baseline) &&
        state.baseline.length === outputsOf(state) &&
        state.baseline.every(Number.isFinite) &&
        Number.isInteger(state.iterations) &&
        Array.isArray(state.validationLoss),
      (ensemble, state) => {
        if (ensemble.treeCount !== state.iterations * outputsOf(state)) {
          throw new errors.PW_BUNDLE_INVALID(
            `Gradient boosting state: ${ensemble.treeCount} trees for ${state.iterations} iterations of ${outputsOf(state)} outputs`,
          );
        }
      },
    );
  }
}

interface TrainResult {
  ensemble: TreeEnsemble;
  baseline: Float64Array;
  iterations: number;
  importance: Float64Array;
  validationLoss: number[];
}

/** Nodes a tree may have under `params`. */
function maxNodesOf(params: GradientBoostingParams): number {
  return params.max_leaf_nodes !== null ? 2 * params.max_leaf_nodes : 2 ** ((params.max_depth as number) + 1);
}

/** One output and 16-bit leaf numbers: the gradient pass runs in the kernels, on every thread. */
function leadable(params: GradientBoostingParams, outputs: number): boolean {
  return outputs === 1 && maxNodesOf(params) <= 65536;
}

/** What a worker leading a boosting fit trains on (see BoostingTrainer.ledByWorker): posted to it. */
export interface BoostingTraining {
  params: GradientBoostingParams;
  y: Float64Array;
  weights: Float64Array | null;
  task: Task;
  validation: { X: Matrix; y: Float64Array; weights: Float64Array | null } | undefined;
}

/** What a leading worker's fit sends back. */
export interface BoostingLeadResult {
  ensemble: EnsembleJSON;
  baseline: Float64Array;
  iterations: number;
  importance: Float64Array;
  validationLoss: number[];
}

/**
 * The boosting loop of a fit led by this worker (see leadFit in threads.ts) over its view of the fit's
 * memory, publishing each operation for the threads that follow it, or, in a warm-up, taking every
 * piece itself.
 */
export function leadBoosting(
  workspace: Workspace,
  operations: BoostingThreads,
  training: BoostingTraining,
): BoostingLeadResult {
  const { params } = training;
  const grower = new TreeGrower(workspace, operations, growerSettings(params));
  const result = new BoostingTrainer(workspace, params, grower, operations).train(
    training.y,
    training.weights,
    training.task,
    1,
    training.validation,
    new Random(deriveSeed(params.random_state, 2)),
  );
  return {
    ensemble: result.ensemble.toJSON(),
    baseline: result.baseline,
    iterations: result.iterations,
    importance: result.importance,
    validationLoss: result.validationLoss,
  };
}

/** The grower's settings for `params`. */
function growerSettings(params: GradientBoostingParams): GrowerSettings {
  return {
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
    leafRows: true,
  };
}

/** The workspace of a fit on `threads` threads, the binned rows copied in (the calling thread's). */
export function boostingWorkspace(
  binned: BinnedData,
  params: GradientBoostingParams,
  threads: number,
  outputs: number,
  weighted: boolean,
): Workspace {
  // every open node holds a histogram: at most max leaves, or (depth-first) two per level; the same
  // capacity on every thread count, so a full pool ends a branch the same way everywhere
  const capacity =
    params.max_leaf_nodes !== null
      ? params.max_leaf_nodes + 2
      : params.growth === 'depthwise'
        ? (params.max_depth as number) + 3
        : Math.min(2 ** (params.max_depth as number), 1024) + 2;
  const maxNodes = maxNodesOf(params);
  const boosting = leadable(params, outputs) ? { maxNodes, weighted } : undefined;
  // the segments the rows were binned for (see fit)
  const { plan, memory } = planWorkspace(
    binned.rows,
    binned.layout,
    capacity,
    threads,
    boosting,
    false,
    binned.segments,
  );
  return new Workspace(memory, plan, binned.mapper, binned.layout, binned);
}

/** The boosting loop over binned rows, with its workspace (shared with worker threads when threads > 1). */
class BoostingTrainer {
  constructor(
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
    const workspace = boostingWorkspace(binned, params, threads, outputs, weighted);
    const pool = await BoostingThreads.start(workspace, workers);
    const grower = new TreeGrower(workspace, pool, growerSettings(params));
    return new BoostingTrainer(workspace, params, grower, pool);
  }

  /**
   * A fit of one output led by `workers[0]` (see leadOnWorker and leadBoosting), the calling thread and
   * the other workers taking their pieces: the same operations, so the same model.
   */
  static async ledByWorker(
    binned: BinnedData,
    params: GradientBoostingParams,
    threads: number,
    workers: Worker[],
    training: BoostingTraining,
  ): Promise<TrainResult> {
    const workspace = boostingWorkspace(binned, params, threads, 1, training.weights !== null);
    const reply = (await leadOnWorker(workspace, workers, training)) as BoostingLeadResult;
    return {
      ensemble: TreeEnsemble.fromJSON(reply.ensemble, binned.layout.features, 'the trained trees'),
      baseline: reply.baseline,
      iterations: reply.iterations,
      importance: reply.importance,
      validationLoss: reply.validationLoss,
    };
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
    const { data, rows, gh, plan } = this.workspace;
    const buffer = this.workspace.memory.buffer;
    const regions = plan.boosting;
    const n = data.rows;
    const { layout } = data;
    const grower = this.grower;
    const ensemble = new TreeEnsemble();
    const importance = new Float64Array(layout.features);
    const baseline = initialScores(y, weights, task, outputs);
    const raw = regions ? new Float64Array(buffer, regions.rawAt, n) : new Float64Array(n * outputs);
    if (outputs === 1) raw.fill(baseline[0]);
    else for (let i = 0; i < n; i++) for (let o = 0; o < outputs; o++) raw[i * outputs + o] = baseline[o];
    // the leaf of every row, written in partition order and read back in row order (cache-friendly)
    const leafOf = regions ? new Uint16Array(buffer, regions.leafOfAt, n) : new Int32Array(n);
    // in the kernels' pass the last tree's leaf values are added to the scores just before the gradients
    const leafValues = regions
      ? new Float64Array(buffer, regions.leafValuesAt, regions.maxNodes)
      : new Float64Array(0);
    // the targets and weights by workspace row (dealt to the segments)
    const segments = plan.segments;
    const targets = regions ? new Float64Array(buffer, regions.yAt, n) : new Float64Array(n);
    dealRows(y, targets, segments);
    const rowWeights = weights
      ? regions
        ? new Float64Array(buffer, regions.weightsAt, n)
        : new Float64Array(n)
      : null;
    if (weights && rowWeights) dealRows(weights, rowWeights, segments);
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
    // the kernels' pass rounds each row's gradient and hessian to grids on which every node's sums are
    // exact (exactGrid), from bounds that hold for every row: a weighted log-loss gradient is at most the
    // weight, its hessian a quarter of it; a squared-error gradient is at most the weight times the
    // distance from the target, which grows by at most the largest leaf value each tree
    let heaviest = 1;
    if (weights) {
      heaviest = 0;
      for (let i = 0; i < n; i++) heaviest = Math.max(heaviest, weights[i]);
    }
    let gradientBound = heaviest;
    if (task === 'regression') {
      gradientBound = 0;
      for (let i = 0; i < n; i++)
        gradientBound = Math.max(gradientBound, (weights ? weights[i] : 1) * Math.abs(baseline[0] - y[i]));
    }
    const hessianBound = task === 'regression' ? heaviest : heaviest / 4;

    let iterations = 0;
    for (let iteration = 0; iteration < params.max_iter; iteration++) {
      if (task === 'multiclass') {
        probabilities.set(raw);
        for (let i = 0; i < n; i++) softmaxInPlace(probabilities, i * outputs, outputs);
      }
      for (let output = 0; output < outputs; output++) {
        const gridG = exactGrid(gradientBound, n);
        const gridH = exactGrid(hessianBound, n);
        if (regions) {
          this.workspace.grid[0] = gridG;
          this.workspace.grid[1] = gridH;
          this.threads.boost(n, task === 'binary', !inSample);
        } else {
          computeGradients(
            task,
            targets,
            rowWeights,
            task === 'multiclass' ? probabilities : raw,
            outputs,
            output,
            gh,
            gridG,
            gridH,
          );
          if (!inSample) for (let i = 0; i < n; i++) rows[i] = i;
        }
        if (inSample) drawRows(random, n, sampled, rows, inSample, segments);
        if (allowed) {
          allowed.fill(0);
          const drawn = random.sampleWithoutReplacement(usable.length, featuresPerTree);
          for (let j = 0; j < drawn.length; j++) allowed[usable[drawn[j]]] = 1;
        }
        grower.allowFeatures(allowed);
        const tree = grower.grow(sampled, !inSample, undefined);

        const updating = phaseStart();
        for (let k = 0; k < tree.count; k++) {
          if (tree.left[k] >= 0) importance[tree.feature[k]] += tree.gain[k];
          else if (!regions)
            for (let at = k * segments; at < (k + 1) * segments; at++)
              for (let i = tree.start[at]; i < tree.end[at]; i++) leafOf[rows[i]] = k;
        }
        if (regions) this.threads.scatterLeaves(tree);
        if (inSample) {
          for (let row = 0; row < n; row++) if (inSample[row] === 0) leafOf[row] = grower.leafOfRow(row);
        }
        if (task === 'regression') {
          let largest = 0;
          for (let k = 0; k < tree.count; k++)
            if (tree.left[k] < 0) largest = Math.max(largest, Math.abs(tree.value[k]));
          gradientBound += heaviest * largest;
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
          cover: tree.sumHessian.subarray(0, tree.count),
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

/**
 * (gradient, hessian) pairs of every row, in row order, each rounded to the nearest multiple of its grid
 * (gridG, gridH from exactGrid) as the kernels' pass does (see Kernels.boostLogLoss).
 */
function computeGradients(
  task: Task,
  y: Float64Array,
  weights: Float64Array | null,
  scores: Float64Array,
  outputs: number,
  output: number,
  gh: Float64Array,
  gridG: number,
  gridH: number,
): void {
  const n = y.length;
  const shiftG = 1.5 * 2 ** 52 * gridG;
  const shiftH = 1.5 * 2 ** 52 * gridH;
  for (let i = 0; i < n; i++) {
    const w = weights ? weights[i] : 1;
    let gradient: number;
    let hessian: number;
    if (task === 'regression') {
      gradient = w * (scores[i] - y[i]);
      hessian = w;
    } else {
      const p = task === 'binary' ? 1 / (1 + fastExp(-scores[i])) : scores[i * outputs + output];
      const target = task === 'binary' ? y[i] : y[i] === output ? 1 : 0;
      gradient = w * (p - target);
      hessian = w * p * (1 - p);
    }
    gh[2 * i] = gradient + shiftG - shiftG;
    gh[2 * i + 1] = hessian + shiftH - shiftH;
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

/**
 * `count` distinct rows (selection sampling over the training rows in order), marked in `inSample` and
 * listed in `rows` in ascending order, both by workspace row: the training rows dealt to `segments`
 * segments (see dealRows), so that every thread count draws the same rows.
 */
function drawRows(
  random: Random,
  n: number,
  count: number,
  rows: Uint32Array,
  inSample: Uint8Array,
  segments: number,
): void {
  let needed = count;
  let taken = 0;
  for (let row = 0; row < n; row++) {
    const at = segments > 1 ? dealtRow(row, n, segments) : row;
    if (random.next() * (n - row) < needed) {
      if (segments === 1) rows[taken++] = row;
      inSample[at] = 1;
      needed--;
    } else {
      inSample[at] = 0;
    }
  }
  if (segments > 1) for (let at = 0; at < n; at++) if (inSample[at] === 1) rows[taken++] = at;
}

function softmaxInPlace(values: Float64Array, offset: number, k: number): void {
  let max = -Infinity;
  for (let o = 0; o < k; o++) if (values[offset + o] > max) max = values[offset + o];
  let sum = 0;
  for (let o = 0; o < k; o++) sum += values[offset + o] = Math.exp(values[offset + o] - max);
  for (let o = 0; o < k; o++) values[offset + o] /= sum;
}

function pick(values: Float64Array, indices: Int32Array): Float64Array {
  const out = new Float64Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = values[indices[i]];
  return out;
}
