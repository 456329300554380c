// Random forest (scikit-learn's RandomForestClassifier / Regressor) on binned histogram trees: bootstrap
// rows and features drawn at every split, gini, entropy or squared-error splits, trees grown in parallel
// from per-tree seeds so the forest does not depend on the thread count.
import { errors } from '../../core/errors.js';
import { encodeFloat64 } from '../codec.js';
import { paramError, readParams, rule, type ClassWeightParam, type ParamsSpec } from '../params.js';
import { deriveSeed, Random } from '../../core/random.js';
import { SharedBinning } from '../tree/binning.js';
import { TreeEnsemble, type CompactTree } from '../tree/ensemble.js';
import { forestSetup } from '../tree/forest-trees.js';
import { addTreesOnThreads, growForest, resolveThreads, StartingWorkers } from '../tree/threads.js';
import type { EstimatorJSON, EstimatorOptions, FitOptions, Matrix } from '../types.js';
import { checkFitInputs, describeTarget, expectKind } from './estimator.js';
import { normalised, TreeModel, type TreeModelJSONState, type TreeModelState } from './tree-model.js';

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

const RANDOM_FOREST_PARAMS: ParamsSpec<RandomForestParams> = {
  model: 'random forest',
  defaults: DEFAULT_RANDOM_FOREST_PARAMS,
  aliases: { seed: 'random_state' },
  rules: {
    n_estimators: rule.integer(1),
    criterion: rule.choice(['gini', 'entropy', 'squared_error']),
    max_depth: rule.optionalInteger(1),
    min_samples_split: rule.integer(2),
    min_samples_leaf: rule.integer(1),
    max_features: (name, features) => {
      const ok =
        features === null ||
        features === 'sqrt' ||
        features === 'log2' ||
        (typeof features === 'number' && features > 0 && (features < 1 || Number.isInteger(features)));
      if (!ok)
        paramError(name, features, 'sqrt, log2, null, a whole number of features, or a share in (0, 1)');
    },
    max_leaf_nodes: rule.optionalInteger(2),
    bootstrap: rule.choice([true, false]),
    max_samples: (name, samples) => {
      const ok =
        samples === null ||
        (typeof samples === 'number' && samples > 0 && (samples <= 1 || Number.isInteger(samples)));
      if (!ok) paramError(name, samples, 'null, a whole number of rows, or a share in (0, 1]');
    },
    max_bins: rule.integer(2, 255),
    class_weight: rule.classWeight(),
    random_state: rule.wholeNumber(),
    threads: rule.threads(),
  },
  check(params) {
    if (params.criterion === 'squared_error' && params.class_weight !== null)
      paramError('class_weight', params.class_weight, 'null with criterion squared_error (regression)');
  },
  // two classes only: more need gbdt or logistic
  tasks: { binary: {}, regression: { criterion: 'squared_error' } },
  seedParam: 'random_state',
  threadsParam: 'threads',
};

interface RandomForestState extends TreeModelState {
  task: 'binary' | 'regression';
}

export class RandomForestModel extends TreeModel<RandomForestParams, RandomForestState> {
  readonly kind = 'random_forest';
  readonly outputs = 1;
  protected readonly label = 'random forest';

  constructor(
    params: Partial<RandomForestParams> & Record<string, unknown> = {},
    options: EstimatorOptions = {},
  ) {
    super(readParams(RANDOM_FOREST_PARAMS, params, options));
  }

  async fit(X: Matrix, y: Float64Array, options: FitOptions = {}): Promise<this> {
    const params = this.params;
    checkFitInputs(X, y, options, this.label);
    const regression = params.criterion === 'squared_error';
    describeTarget(y, regression, {
      maxClasses: 2,
      hint: 'The random forest classifies two classes; use model.type gbdt for more, or criterion squared_error for a numeric target.',
    });
    const weights = this.rowWeights(y, options);
    const samples = params.max_samples;
    // 1 and below are shares of the rows (a one-row bootstrap is never meant), above 1 a count
    const samplesPerTree =
      samples === null ? X.rows : samples <= 1 ? Math.max(1, Math.round(samples * X.rows)) : samples;
    if (params.bootstrap && samplesPerTree > X.rows)
      paramError('max_samples', samples, `at most the ${X.rows} training rows`);
    const threads = Math.min(resolveThreads(params.threads), params.n_estimators);
    this.fitThreads = threads;
    // worker threads start first (their start-up overlaps the copy of the data into shared memory),
    // take their share of the binning, then get their work once it is done
    const workers = StartingWorkers.start(threads - 1);
    const ensemble = new TreeEnsemble();
    const importance = new Float64Array(X.cols);
    try {
      const binning = SharedBinning.prepare(
        X,
        params.max_bins,
        new Random(deriveSeed(params.random_state, 1)),
        threads,
      );
      workers.share(binning.job);
      const data = binning.bin();
      await growForest(
        forestSetup(
          data,
          y,
          weights,
          {
            regression,
            entropy: params.criterion === 'entropy',
            maxLeaves: params.max_leaf_nodes,
            maxDepth: params.max_depth,
            minSamplesLeaf: params.min_samples_leaf,
            minSamplesSplit: params.min_samples_split,
            featuresPerSplit: featuresPerSplit(params.max_features, X.cols),
            bootstrap: params.bootstrap,
            samplesPerTree,
            seed: deriveSeed(params.random_state, 2),
          },
          threads > 1,
        ),
        params.n_estimators,
        await this.startedWorkers(workers),
        // each tree joins the model (in index order) as soon as it and those before it are grown
        (tree) => {
          ensemble.append(tree);
          addGains(tree, importance);
        },
      );
    } finally {
      // the fit's workers go back to the idle pool before the next fit can ask for them
      await workers.finish();
    }
    ensemble.trim();
    this.setState(
      {
        task: regression ? 'regression' : 'binary',
        features: X.cols,
        featureNames: [...X.names],
        importance: encodeFloat64(normalised(importance)),
      },
      ensemble,
    );
    return this;
  }

  /** Binary: P(class 1) per row (the mean of the trees' leaf shares); regression: the mean of the trees. */
  predict(X: Matrix): Float64Array {
    this.requireFeatures(X);
    const out = new Float64Array(X.rows);
    this.ensemble.addTrees(X, out, 1);
    return this.mean(out);
  }

  /** predict's values, bit for bit, with the trees added on up to `threads` threads (see predictOn). */
  async predictOnThreads(X: Matrix, threads: number): Promise<Float64Array> {
    this.requireFeatures(X);
    const out = new Float64Array(X.rows);
    await addTreesOnThreads(this.ensemble, X, out, 1, threads);
    return this.mean(out);
  }

  /** The trees' sums turned, in place, into their mean. */
  private mean(sums: Float64Array): Float64Array {
    const trees = this.ensemble.treeCount;
    for (let i = 0; i < sums.length; i++) sums[i] /= trees;
    return sums;
  }

  predictRow(row: Float64Array, out?: Float64Array): number {
    this.requireState();
    const value = this.ensemble.sumRow(row, 0, 1, 0) / this.ensemble.treeCount;
    if (out) out[0] = value;
    return value;
  }

  static fromJSON(json: EstimatorJSON): RandomForestModel {
    expectKind(json, 'random_forest');
    return new RandomForestModel(json.params as Partial<RandomForestParams>).restore(
      json.state as TreeModelJSONState<RandomForestState>,
      (state) => state.task === 'binary' || state.task === 'regression',
      (ensemble) => {
        if (ensemble.treeCount === 0) throw new errors.PW_BUNDLE_INVALID('Random forest state: no trees');
      },
    );
  }
}

/**
 * Adds a tree's split gains to `importance` by feature, in node order. A function of its own, with the
 * arrays read once: inline in the one-off loop of `fit` it ran unoptimised, over trees of two shapes
 * (grown here and received from workers), at hundreds of nanoseconds a node.
 */
function addGains(tree: CompactTree, importance: Float64Array): void {
  const { feature, gain } = tree;
  for (let k = 0; k < feature.length; k++) {
    if (feature[k] >= 0) importance[feature[k]] += gain[k];
  }
}

function featuresPerSplit(maxFeatures: RandomForestParams['max_features'], features: number): number {
  if (maxFeatures === null) return 0;
  if (maxFeatures === 'sqrt') return Math.max(1, Math.floor(Math.sqrt(features)));
  if (maxFeatures === 'log2') return Math.max(1, Math.floor(Math.log2(features)));
  if (Number.isInteger(maxFeatures) && maxFeatures >= 1) return Math.min(features, maxFeatures);
  return Math.max(1, Math.floor(maxFeatures * features));
}
