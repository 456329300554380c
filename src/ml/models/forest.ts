// Random forest (scikit-learn's RandomForestClassifier / Regressor) on binned histogram trees: bootstrap
// rows and features drawn at every split, gini, entropy or squared-error splits, trees grown in parallel
// from per-tree seeds so the forest does not depend on the thread count.
import { errors } from '../../core/errors.js';
import { decodeFloat64, encodeFloat64 } from '../codec.js';
import { classWeights } from '../imbalance.js';
import { deriveSeed, Random } from '../random.js';
import type { Estimator, EstimatorJSON, FitOptions, Matrix } from '../types.js';
import { SharedBinning } from '../tree/binning.js';
import { TreeEnsemble, type CompactTree, type EnsembleJSON } from '../tree/ensemble.js';
import type { GrowerSettings } from '../tree/grower.js';
import {
  checkChoice,
  checkClassWeight,
  checkInteger,
  checkOptionalInteger,
  checkThreads,
  cloneClassWeight,
  definedOnly,
  paramError,
  rejectUnknown,
  type ClassWeightParam,
} from '../tree/params.js';
import { growForest, resolveThreads, StartingWorkers } from '../tree/threads.js';

export interface RandomForestParams {
  n_estimators: number;
  /** gini or entropy: classification; squared_error: regression. */
  criterion: 'gini' | 'entropy' | 'squared_error';
  max_depth: number | null;
  min_samples_split: number;
  min_samples_leaf: number;
  /** Features tried per split: sqrt, log2, a count (whole number), a share in (0, 1), or null for all. */
  max_features: 'sqrt' | 'log2' | number | null;
  /** Leaves per tree (best first when set); null for no limit. */
  max_leaf_nodes: number | null;
  bootstrap: boolean;
  /** Rows drawn per tree when bootstrapping: a count, a share in (0, 1], or null for as many as there are rows. */
  max_samples: number | null;
  max_bins: number;
  class_weight: ClassWeightParam;
  random_state: number;
  threads: number | null;
}

export const DEFAULT_RANDOM_FOREST_PARAMS: RandomForestParams = {
  n_estimators: 100,
  criterion: 'gini',
  max_depth: null,
  min_samples_split: 2,
  min_samples_leaf: 1,
  max_features: 'sqrt',
  max_leaf_nodes: null,
  bootstrap: true,
  max_samples: null,
  max_bins: 255,
  class_weight: null,
  random_state: 0,
  threads: null,
};

const ALIASES: Record<string, keyof RandomForestParams> = { seed: 'random_state' };

/** Deepest a tree grows when max_depth is null (far beyond what any real data set needs). */
const FOREST_DEPTH_LIMIT = 128;

interface RandomForestState {
  task: 'binary' | 'regression';
  features: number;
  featureNames: string[];
  trees: EnsembleJSON;
  /** Split gain per feature, normalised to sum to 1 (base64 Float64Array). */
  importance: string;
}

export class RandomForestModel implements Estimator {
  readonly kind = 'random_forest';
  readonly outputs = 1;
  readonly params: RandomForestParams;
  private state: RandomForestState | undefined;
  private ensemble = new TreeEnsemble();
  private importance: Float64Array = new Float64Array(0);

  constructor(params: Partial<RandomForestParams> & Record<string, unknown> = {}) {
    const given: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(params)) given[ALIASES[name] ?? name] = value;
    rejectUnknown(
      given,
      [...Object.keys(DEFAULT_RANDOM_FOREST_PARAMS), ...Object.keys(ALIASES)],
      'random forest',
    );
    const merged = { ...DEFAULT_RANDOM_FOREST_PARAMS, ...definedOnly(given as Partial<RandomForestParams>) };
    checkInteger('n_estimators', merged.n_estimators, 1);
    checkChoice('criterion', merged.criterion, ['gini', 'entropy', 'squared_error']);
    checkOptionalInteger('max_depth', merged.max_depth, 1);
    checkInteger('min_samples_split', merged.min_samples_split, 2);
    checkInteger('min_samples_leaf', merged.min_samples_leaf, 1);
    const features = merged.max_features;
    if (!(
      features === null ||
      features === 'sqrt' ||
      features === 'log2' ||
      (typeof features === 'number' && features > 0 && (features < 1 || Number.isInteger(features)))
    )) {
      paramError(
        'max_features',
        features,
        'sqrt, log2, null, a whole number of features, or a share in (0, 1)',
      );
    }
    checkOptionalInteger('max_leaf_nodes', merged.max_leaf_nodes, 2);
    checkChoice('bootstrap', merged.bootstrap, [true, false]);
    const samples = merged.max_samples;
    if (!(
      samples === null ||
      (typeof samples === 'number' && samples > 0 && (samples <= 1 || Number.isInteger(samples)))
    )) {
      paramError('max_samples', samples, 'null, a whole number of rows, or a share in (0, 1]');
    }
    checkInteger('max_bins', merged.max_bins, 2, 255);
    checkClassWeight(merged.class_weight);
    if (typeof merged.random_state !== 'number' || !Number.isInteger(merged.random_state)) {
      paramError('random_state', merged.random_state, 'a whole number');
    }
    checkThreads(merged.threads);
    if (merged.criterion === 'squared_error' && merged.class_weight !== null) {
      paramError('class_weight', merged.class_weight, 'null with criterion squared_error (regression)');
    }
    this.params = merged;
  }

  async fit(X: Matrix, y: Float64Array, options: FitOptions = {}): Promise<this> {
    const params = this.params;
    if (y.length !== X.rows)
      throw new errors.PW_USAGE(`fit: ${X.rows} rows of features but ${y.length} targets`);
    if (X.rows === 0) throw new errors.PW_DATA_EMPTY('Cannot fit a random forest on zero rows');
    if (options.sampleWeight && options.sampleWeight.length !== X.rows) {
      throw new errors.PW_USAGE(`fit: ${X.rows} rows but ${options.sampleWeight.length} sample weights`);
    }
    const regression = params.criterion === 'squared_error';
    for (let i = 0; i < y.length; i++) {
      const label = y[i];
      if (regression ? !Number.isFinite(label) : label !== 0 && label !== 1) {
        throw new errors.PW_USAGE(
          `fit: target ${label} at row ${i} is not ${regression ? 'a finite number' : 'a class 0 or 1'}`,
          {
            hint: regression
              ? 'Remove rows with missing targets.'
              : 'The random forest classifies two classes; use model.type gbdt for more, or criterion squared_error for a numeric target.',
          },
        );
      }
    }
    let weights: Float64Array | null = options.sampleWeight ? Float64Array.from(options.sampleWeight) : null;
    if (params.class_weight !== null) {
      const byClass = classWeights(
        y,
        params.class_weight === 'balanced' ? 'balanced' : numericKeys(params.class_weight),
      );
      if (weights) for (let i = 0; i < byClass.length; i++) weights[i] *= byClass[i];
      else weights = byClass;
    }
    const samples = params.max_samples;
    // 1 and below are shares of the rows (a one-row bootstrap is never meant), above 1 a count
    const samplesPerTree =
      samples === null ? X.rows : samples <= 1 ? Math.max(1, Math.round(samples * X.rows)) : samples;
    if (params.bootstrap && samplesPerTree > X.rows)
      paramError('max_samples', samples, `at most the ${X.rows} training rows`);
    const settings: GrowerSettings = {
      criterion: params.criterion === 'entropy' ? 'entropy' : 'newton',
      leafOutput: 'mean',
      l2: 0,
      shrinkage: 1,
      maxLeaves: params.max_leaf_nodes ?? 0,
      maxDepth: params.max_depth ?? 0,
      minSamplesLeaf: params.min_samples_leaf,
      minSamplesSplit: params.min_samples_split,
      minHessianLeaf: 0,
      growth: params.max_leaf_nodes !== null ? 'leafwise' : 'depthwise',
      featuresPerSplit: featuresPerSplit(params.max_features, X.cols),
      stopWhenPure: !regression,
    };
    const threads = Math.min(resolveThreads(params.threads), params.n_estimators);
    const binning = SharedBinning.prepare(
      X,
      params.max_bins,
      new Random(deriveSeed(params.random_state, 1)),
      threads,
    );
    // worker threads start now, take their share of the binning, then get their work once it is done
    const workers = StartingWorkers.start(threads - 1, binning.job);
    let trees: CompactTree[];
    try {
      const data = binning.bin();
      trees = await growForest(
        {
          data,
          labels: Float64Array.from(y),
          weights,
          settings,
          bootstrap: params.bootstrap,
          samplesPerTree,
          seed: deriveSeed(params.random_state, 2),
          // open nodes hold a histogram each: max leaves (best first), else the depth of a depth-first walk
          capacity:
            params.max_leaf_nodes !== null
              ? params.max_leaf_nodes + 2
              : (params.max_depth ?? FOREST_DEPTH_LIMIT) + 3,
        },
        params.n_estimators,
        await workers.ready(),
      );
    } finally {
      await workers.stop();
    }
    const ensemble = new TreeEnsemble();
    const importance = new Float64Array(X.cols);
    for (const tree of trees) {
      ensemble.append(tree);
      for (let k = 0; k < tree.feature.length; k++) {
        if (tree.feature[k] >= 0) importance[tree.feature[k]] += tree.gain[k];
      }
    }
    ensemble.trim();
    let total = 0;
    for (let f = 0; f < importance.length; f++) total += importance[f];
    if (total > 0) for (let f = 0; f < importance.length; f++) importance[f] /= total;
    this.setState(
      {
        task: regression ? 'regression' : 'binary',
        features: X.cols,
        featureNames: [...X.names],
        trees: ensemble.toJSON(),
        importance: encodeFloat64(importance),
      },
      ensemble,
    );
    return this;
  }

  private setState(state: RandomForestState, ensemble: TreeEnsemble): void {
    this.state = state;
    this.ensemble = ensemble;
    this.importance = decodeFloat64(state.importance, 'random forest importance');
  }

  private requireState(): RandomForestState {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED('The random forest is not fitted');
    return this.state;
  }

  /** Binary: P(class 1) per row (the mean of the trees' leaf shares); regression: the mean of the trees. */
  predict(X: Matrix): Float64Array {
    const state = this.requireState();
    if (X.cols !== state.features)
      throw new errors.PW_USAGE(`predict: the model has ${state.features} features, the matrix ${X.cols}`);
    const out = new Float64Array(X.rows);
    const trees = this.ensemble.treeCount;
    for (let t = 0; t < trees; t++) this.ensemble.addTree(t, X, out, 1, 0);
    for (let i = 0; i < out.length; i++) out[i] /= trees;
    return out;
  }

  predictRow(row: Float64Array, out?: Float64Array): number {
    this.requireState();
    const value = this.ensemble.sumRow(row, 0, 1, 0) / this.ensemble.treeCount;
    if (out) out[0] = value;
    return value;
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
      state: { ...state, featureNames: [...state.featureNames] },
    };
  }

  static fromJSON(json: EstimatorJSON): RandomForestModel {
    if (!json || json.kind !== 'random_forest') {
      throw new errors.PW_BUNDLE_INVALID(
        `Expected a random_forest model, got kind ${JSON.stringify(json?.kind)}`,
      );
    }
    const model = new RandomForestModel(json.params as Partial<RandomForestParams>);
    const state = json.state as RandomForestState;
    const valid =
      state &&
      (state.task === 'binary' || state.task === 'regression') &&
      Number.isInteger(state.features) &&
      state.features >= 0 &&
      Array.isArray(state.featureNames) &&
      state.featureNames.length === state.features;
    if (!valid) throw new errors.PW_BUNDLE_INVALID('Random forest state: task and features do not agree');
    const ensemble = TreeEnsemble.fromJSON(state.trees, state.features, 'random forest trees');
    if (ensemble.treeCount === 0) throw new errors.PW_BUNDLE_INVALID('Random forest state: no trees');
    const importance = decodeFloat64(state.importance, 'random forest importance');
    if (importance.length !== state.features)
      throw new errors.PW_BUNDLE_INVALID('Random forest state: one importance per feature expected');
    model.setState({ ...state, featureNames: [...state.featureNames] }, ensemble);
    return model;
  }
}

function featuresPerSplit(maxFeatures: RandomForestParams['max_features'], features: number): number {
  if (maxFeatures === null) return 0;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(features)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(features)));
  if (Number.isInteger(maxFeatures) && maxFeatures >= 1) return Math.min(features, maxFeatures);
  return Math.max(1, Math.floor(maxFeatures * features));
}

function numericKeys(weights: Record<string, number>): Record<number, number> {
  const out: Record<number, number> = {};
  for (const [label, weight] of Object.entries(weights)) out[Number(label)] = weight;
  return out;
}
