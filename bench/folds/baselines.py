# Cross-validation with scikit-learn or XGBoost in one process, for bench/folds/run.mjs: a model fitted on
# each fold's training rows and scored on its held-out rows, one fold after another; prints one JSON line.
# usage: baselines.py <data dir> <sklearn|xgboost> <gbdt|random_forest> <threads> <params json>
import json
import sys
import time

import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

directory, impl, model, threads, params = sys.argv[1:6]
threads = int(threads)
params = json.loads(params)
with open(f"{directory}/meta.json") as file:
    meta = json.load(file)
rows = meta["rows"]
X = np.ascontiguousarray(np.fromfile(f"{directory}/X.f64", dtype="<f8").reshape(len(meta["names"]), rows).T)
y = np.fromfile(f"{directory}/y.f64", dtype="<f8").astype(np.int64)
assignment = np.fromfile(f"{directory}/folds.i32", dtype="<i4").reshape(meta["repeats"], rows)


def estimator():
    if impl == "xgboost":
        import xgboost

        return xgboost.XGBClassifier(**params)
    if model == "gbdt":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(**params)
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(**params)


fits = []
scores = []
with threadpool_limits(limits=threads):
    started = time.perf_counter()
    for repeat in range(meta["repeats"]):
        for fold in range(meta["folds"]):
            test = assignment[repeat] == fold
            fold_started = time.perf_counter()
            fitted = estimator().fit(X[~test], y[~test])
            predictions = fitted.predict_proba(X[test])[:, 1]
            fits.append(time.perf_counter() - fold_started)
            scores.append(roc_auc_score(y[test], predictions))
    seconds = time.perf_counter() - started

print(json.dumps({"seconds": seconds, "fits": fits, "roc_auc": float(np.mean(scores))}))
