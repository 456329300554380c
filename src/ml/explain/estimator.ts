// SHAP values of a fitted model, column by column, in the model's raw output space: TreeSHAP for gradient
// boosting and random forests, linear SHAP for logistic regression. Reads only the model's saved state.
import { errors } from '../../core/errors.js';
import { estimatorFromJSON } from '../models/index.js';
import { TreeEnsemble, type EnsembleJSON } from '../tree/ensemble.js';
import type { EstimatorJSON } from '../types.js';
import { LinearShap } from './linear-shap.js';
import { TreeShap, treeShapWork, type TreeShapAlgorithm } from './tree-shap.js';

/**
 * What the values add up to: log-odds of the second class (binary boosting and logistic regression),
 * one softmax score per class (multiclass), the averaged probability of the second class (binary
 * forest), or the predicted value (regression).
 */
export type ExplanationSpace = 'log_odds' | 'class_scores' | 'probability' | 'value';

export interface ModelExplainer {
  readonly space: ExplanationSpace;
  /** Sets of values per row: one per class for multiclass models, else 1. */
  readonly outputs: number;
  /** Columns of a row. */
  readonly features: number;
  /** Per output, the expected raw output the values start from. */
  readonly base: Float64Array;
  /** Writes output o's value for column f at o · features + f; base[o] plus output o's values is the raw output. */
  explainRow(row: ArrayLike<number>, phi: Float64Array): void;
  /** About how much work explainRow does (see treeShapWork; a linear model's is its weights' count). */
  readonly workPerRow: number;
}

export interface ModelExplainerOptions {
  /**
   * Logistic regression: the training mean of each column, as the model saw it (missing as 0). Without
   * them every mean is taken as 0 (exact for standardised columns without missing values).
   */
  columnMeans?: ArrayLike<number>;
  /** Tree models: how leaves are summed (the same values either way; see TreeShapSettings). */
  algorithm?: TreeShapAlgorithm;
}

interface TreeModelState {
  task: 'binary' | 'multiclass' | 'regression';
  features: number;
  baseline?: number[];
  trees: EnsembleJSON;
}

interface LogisticModelState {
  classes: number;
  features: number;
  coefficients: number[][];
  intercepts: number[];
}

/** An explainer for a model given by its JSON (`model.toJSON()` or a bundle's `model`). */
export function createModelExplainer(
  json: EstimatorJSON,
  options: ModelExplainerOptions = {},
): ModelExplainer {
  // restoring the model checks its state as a bundle load does
  estimatorFromJSON(json);
  switch (json.kind) {
    case 'gbdt': {
      const state = json.state as TreeModelState;
      const baseline = state.baseline ?? [0];
      const ensemble = TreeEnsemble.fromJSON(state.trees, state.features, 'gbdt trees');
      const shap = new TreeShap(ensemble, {
        features: state.features,
        outputs: baseline.length,
        baseline,
        scale: 1,
        algorithm: options.algorithm,
      });
      return describe(
        shap,
        state.task === 'binary' ? 'log_odds' : state.task === 'multiclass' ? 'class_scores' : 'value',
        treeShapWork(ensemble),
      );
    }
    case 'random_forest': {
      const state = json.state as TreeModelState;
      const ensemble = TreeEnsemble.fromJSON(state.trees, state.features, 'random forest trees');
      const shap = new TreeShap(ensemble, {
        features: state.features,
        outputs: 1,
        baseline: [0],
        scale: 1 / ensemble.treeCount,
        algorithm: options.algorithm,
      });
      return describe(shap, state.task === 'binary' ? 'probability' : 'value', treeShapWork(ensemble));
    }
    case 'logistic': {
      const state = json.state as LogisticModelState;
      const means = new Float64Array(state.features);
      if (options.columnMeans) {
        if (options.columnMeans.length !== state.features)
          throw new errors.PW_USAGE(
            `explain: ${options.columnMeans.length} column means for a model of ${state.features} columns`,
          );
        means.set(Array.from(options.columnMeans));
      }
      const weights = new Float64Array(state.coefficients.length * state.features);
      state.coefficients.forEach((row, o) => weights.set(row, o * state.features));
      const shap = new LinearShap(weights, state.intercepts, means);
      return describe(shap, state.classes > 2 ? 'class_scores' : 'log_odds');
    }
    default:
      throw new errors.PW_EXPLAIN_UNAVAILABLE(
        `Models of kind ${JSON.stringify(json.kind)} cannot be explained`,
      );
  }
}

function describe(
  shap: TreeShap | LinearShap,
  space: ExplanationSpace,
  workPerRow = shap.outputs * shap.features,
): ModelExplainer {
  return {
    space,
    outputs: shap.outputs,
    features: shap.features,
    base: shap.base,
    explainRow: (row, phi) => shap.explainRow(row, phi),
    workPerRow,
  };
}
