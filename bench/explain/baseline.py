# XGBoost's exact TreeSHAP (`predict(pred_contribs=True)`) for bench/explain/run.mjs: fits a model of the
# same shape on the same split, on one thread, and times explanations one row at a time and as a batch.
# usage: baseline.py <data dir> <gbdt|random_forest> <params json>
import json
import sys
import time

import numpy as np
import xgboost

directory, model, params = sys.argv[1:4]
params = json.loads(params)
with open(f"{directory}/meta.json") as file:
    meta = json.load(file)
features = len(meta["names"])


def matrix(name, rows):
    values = np.fromfile(f"{directory}/{name}.f64", dtype="<f8")
    return np.ascontiguousarray(values.reshape(features, rows).T)


X_train = matrix("X_train", meta["trainRows"])
y_train = np.fromfile(f"{directory}/y_train.f64", dtype="<f8").astype(np.int64)
X_explain = matrix("X_explain", meta["explainRows"])

estimator = (xgboost.XGBRFClassifier if model == "random_forest" else xgboost.XGBClassifier)(**params)
started = time.perf_counter()
estimator.fit(X_train, y_train)
fit_seconds = time.perf_counter() - started
booster = estimator.get_booster()
booster.set_param({"nthread": 1})
trees = booster.trees_to_dataframe()
leaves = int((trees["Feature"] == "Leaf").sum())
tree_count = int(trees["Tree"].nunique())

batch = xgboost.DMatrix(X_explain)
booster.predict(batch, pred_contribs=True)
started = time.perf_counter()
cpu_started = time.process_time()
passes = 0
while True:
    contributions = booster.predict(batch, pred_contribs=True)
    passes += 1
    if time.perf_counter() - started > 2:
        break
batch_seconds = (time.perf_counter() - started) / passes
batch_cpu_seconds = (time.process_time() - cpu_started) / passes
margins = booster.predict(batch, output_margin=True)
local_error = float(np.max(np.abs(contributions.sum(axis=1) - margins)))

# one row at a time, as a prediction service would: each call builds its one-row matrix
rows = [X_explain[i : i + 1] for i in range(min(len(X_explain), 500))]
for row in rows[:20]:
    booster.predict(xgboost.DMatrix(row), pred_contribs=True)
started = time.perf_counter()
for row in rows:
    booster.predict(xgboost.DMatrix(row), pred_contribs=True)
one_row_seconds = (time.perf_counter() - started) / len(rows)

print(
    json.dumps(
        {
            "fit_s": fit_seconds,
            "trees": tree_count,
            "leaves": leaves,
            "batch_rows_per_s": len(X_explain) / batch_seconds,
            "batch_cpu_per_row_us": batch_cpu_seconds / len(X_explain) * 1e6,
            "one_row_us": one_row_seconds * 1e6,
            "local_accuracy_error": local_error,
        }
    )
)
