// What gradient boosting and the random forest share: trees in one TreeEnsemble, learned state kept
// apart from the hyperparameters, split-gain feature importance and the checked JSON round trip.
import { errors } from '../../core/errors.js';
import { decodeFloat64 } from '../codec.js';
import { classWeightsOf, cloneClassWeight, type ClassWeightParam } from '../params.js';
import { TreeEnsemble, type EnsembleJSON } from '../tree/ensemble.js';
import type { Worker } from 'node:worker_threads';
import type { StartingWorkers } from '../tree/threads.js';
import type { Estimator, EstimatorJSON, FitOptions, Matrix } from '../types.js';

/** The learned state every tree model keeps beside its trees (written into its JSON with them). */
export interface TreeModelState {
  features: number;
  featureNames: string[];
  /** Split gain per feature, normalised to sum to 1 (base64 Float64Array). */
  importance: string;
}

/**
 * A tree model's state as its JSON holds it: with the trees, encoded when the JSON is made rather than
 * at the end of every fit (a forest's hundred trees of two thousand nodes take 6–12 ms to encode).
 */
export type TreeModelJSONState<S extends TreeModelState> = S & { trees: EnsembleJSON };

export abstract class TreeModel<
  P extends { class_weight: ClassWeightParam },
  S extends TreeModelState,
> implements Estimator {
  abstract readonly kind: string;
  abstract readonly outputs: number;
  /** The model's name in messages. */
  protected abstract readonly label: string;
  protected state: S | undefined;
  protected ensemble = new TreeEnsemble();
  private importance: Float64Array = new Float64Array(0);
  /** See Estimator.fitThreads: set by the subclass's fit. */
  fitThreads: number | undefined;
  /** See Estimator.fitFallback: set by the subclass's fit. */
  fitFallback: string | undefined;

  /**
   * The workers a fit asked for, or none when they could not be started: the fit then trains on the
   * calling thread alone (any thread count learns the same model) and says so in fitFallback.
   */
  protected async startedWorkers(workers: StartingWorkers): Promise<Worker[]> {
    const started = await workers.ready();
    this.fitFallback = undefined;
    if (workers.failure) {
      this.fitThreads = 1;
      const cause = (workers.failure as { cause?: unknown }).cause;
      this.fitFallback = `trained on 1 thread: ${workers.failure.message}${cause instanceof Error ? ` (${cause.message})` : ''}`;
    }
    return started;
  }

  constructor(readonly params: P) {}

  abstract fit(X: Matrix, y: Float64Array, options?: FitOptions): Promise<this>;
  abstract predict(X: Matrix): Float64Array;
  abstract predictRow(row: Float64Array, out?: Float64Array): number;

  protected setState(state: S, ensemble: TreeEnsemble): void {
    this.state = state;
    this.ensemble = ensemble;
    this.importance = decodeFloat64(state.importance, `${this.label} importance`);
  }

  protected requireState(): S {
    if (!this.state) throw new errors.PW_MODEL_NOT_FITTED(`The ${this.label} model is not fitted`);
    return this.state;
  }

  protected requireFeatures(X: Matrix): S {
    const state = this.requireState();
    if (X.cols !== state.features)
      throw new errors.PW_USAGE(`predict: the model has ${state.features} features, the matrix ${X.cols}`);
    return state;
  }

  /** Each row's sample weight times its class's weight, as a new array; null when neither is set. */
  protected rowWeights(y: Float64Array, options: FitOptions): Float64Array | null {
    let weights: Float64Array | null = options.sampleWeight ? Float64Array.from(options.sampleWeight) : null;
    const classWeight = this.params.class_weight;
    if (classWeight !== null) {
      const byClass = classWeightsOf(y, classWeight);
      if (weights) for (let i = 0; i < byClass.length; i++) weights[i] *= byClass[i];
      else weights = byClass;
    }
    return weights;
  }

  /** A copy of the state that shares no array with it (models with more arrays add theirs). */
  protected copyState(state: S): S {
    return { ...state, featureNames: [...state.featureNames] };
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
      state: { ...this.copyState(state), trees: this.ensemble.toJSON() },
    };
  }

  /**
   * Restores saved state after checking it: the model's own checks (`valid`, `checkTrees`), then that
   * the feature names, every tree walk and the importance fit the feature count.
   */
  protected restore(
    state: TreeModelJSONState<S>,
    valid: (state: S) => boolean,
    checkTrees: (ensemble: TreeEnsemble, state: S) => void,
  ): this {
    const consistent =
      state &&
      valid(state) &&
      Number.isInteger(state.features) &&
      state.features >= 0 &&
      Array.isArray(state.featureNames) &&
      state.featureNames.length === state.features;
    if (!consistent)
      throw new errors.PW_BUNDLE_INVALID(`${this.label} state: task, features and outputs do not agree`);
    const ensemble = TreeEnsemble.fromJSON(state.trees, state.features, `${this.label} trees`);
    checkTrees(ensemble, state);
    const importance = decodeFloat64(state.importance, `${this.label} importance`);
    if (importance.length !== state.features)
      throw new errors.PW_BUNDLE_INVALID(`${this.label} state: one importance per feature expected`);
    const { trees: _trees, ...own } = state;
    this.setState(this.copyState(own as unknown as S), ensemble);
    return this;
  }
}

/** Split gain summed per feature, normalised to sum to 1 (all zeros stay zeros). */
export function normalised(values: Float64Array): Float64Array {
  const out = Float64Array.from(values);
  let total = 0;
  for (let i = 0; i < out.length; i++) total += out[i];
  if (total > 0) for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}
