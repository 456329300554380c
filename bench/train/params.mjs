// The hyperparameters of every model in bench/train, one place for both sides, mapped to each
// library's names so that the same model is fitted everywhere (100 trees, 31 leaves, 0.1 rate, ...).

/** Settings for `model` at `threads`: { pipewright, sklearn, xgboost? } (Python sides get them as JSON). */
export function modelParams(model, threads) {
  if (model === 'gbdt') {
    return {
      pipewright: {
        max_iter: 100,
        learning_rate: 0.1,
        max_leaf_nodes: 31,
        min_samples_leaf: 20,
        min_hessian_leaf: 1e-3,
        l2_regularization: 0,
        max_bins: 255,
        early_stopping: false,
        threads,
      },
      sklearn: {
        max_iter: 100,
        learning_rate: 0.1,
        max_leaf_nodes: 31,
        min_samples_leaf: 20,
        l2_regularization: 0,
        max_bins: 255,
        early_stopping: false,
      },
      xgboost: {
        n_estimators: 100,
        learning_rate: 0.1,
        tree_method: 'hist',
        grow_policy: 'lossguide',
        max_leaves: 31,
        max_depth: 0,
        min_child_weight: 1e-3,
        reg_lambda: 0,
        max_bin: 256,
        n_jobs: threads,
      },
    };
  }
  if (model === 'random_forest') {
    const shared = {
      n_estimators: 100,
      max_depth: 10,
      max_features: 'sqrt',
      min_samples_leaf: 1,
      bootstrap: true,
      random_state: 0,
    };
    return { pipewright: { ...shared, threads }, sklearn: { ...shared, n_jobs: threads } };
  }
  if (model === 'logistic') {
    return { pipewright: { C: 1, max_iter: 100 }, sklearn: { C: 1, max_iter: 100 } };
  }
  throw new Error(`unknown model ${model}`);
}
