# One scikit-learn or XGBoost fit in its own process, for bench/train/run.mjs: reads the shared split,
# fits with the given settings and thread count, writes the test predictions, prints one JSON line.
# usage: baselines.py <data dir> <sklearn|xgboost> <gbdt|random_forest|logistic> <threads> <params json> <predictions file>
import json
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits

directory, impl, model, threads, params, predictions_file = sys.argv[1:7]
# fits in this process, the last one timed (see bench/train/child.mjs --fits-per-process)
fits = int(sys.argv[7]) if len(sys.argv) > 7 else 1
threads = int(threads)
params = json.loads(params)
with open(f"{directory}/meta.json") as file:
    meta = json.load(file)
prefix = "scaled_" if model == "logistic" else ""
features = len(meta["names"])


def matrix(name, rows):
    values = np.fromfile(f"{directory}/{prefix}{name}.f64", dtype="<f8")
    return np.ascontiguousarray(values.reshape(features, rows).T)


X_train = matrix("X_train", meta["trainRows"])
y_train = np.fromfile(f"{directory}/y_train.f64", dtype="<f8").astype(np.int64)
X_test = matrix("X_test", meta["testRows"])

if impl == "xgboost":
    import xgboost

    estimator = xgboost.XGBClassifier(**params)
elif model == "gbdt":
    from sklearn.ensemble import HistGradientBoostingClassifier

    estimator = HistGradientBoostingClassifier(**params)
elif model == "random_forest":
    from sklearn.ensemble import RandomForestClassifier

    estimator = RandomForestClassifier(**params)
else:
    from sklearn.linear_model import LogisticRegression

    estimator = LogisticRegression(**params)

with threadpool_limits(limits=threads):
    for _ in range(fits - 1):
        estimator.fit(X_train, y_train)
    started = time.perf_counter()
    estimator.fit(X_train, y_train)
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    predictions = estimator.predict_proba(X_test)[:, 1]
    predict_seconds = time.perf_counter() - started
    np.ascontiguousarray(predictions, dtype="<f8").tofile(predictions_file)

    # one row at a time, as a prediction service would call it
    rows = [X_test[(i * 7919) % len(X_test)].reshape(1, -1) for i in range(64)]
    for i in range(10):
        estimator.predict_proba(rows[i % 64])
    calls = 0
    started = time.perf_counter()
    while calls < 2000 and (calls < 20 or time.perf_counter() - started < 1.0):
        estimator.predict_proba(rows[calls % 64])
        calls += 1
    one_row_microseconds = (time.perf_counter() - started) * 1e6 / calls

print(json.dumps({"fit_s": fit_seconds, "predict_s": predict_seconds, "one_row_us": one_row_microseconds}))
