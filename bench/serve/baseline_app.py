# The baseline for bench/serve: the replaced project's serving stack (FastAPI + uvicorn + scikit-learn),
# serving a RandomForest with that project's hyperparameters, loaded once at start (not per request).
#   train:  python3 baseline_app.py train <data.csv> <model.pkl>
#   serve:  BASELINE_MODEL=<model.pkl> python3 -m uvicorn baseline_app:app --workers 2
import os
import pickle
import sys

import pandas as pd
from fastapi import FastAPI
from pydantic import BaseModel

CATEGORICAL = ["Gender", "Vehicle_Age", "Vehicle_Damage"]
NUMERIC = ["Age", "Driving_License", "Region_Code", "Previously_Insured", "Annual_Premium", "Policy_Sales_Channel", "Vintage"]
FEATURES = ["Gender", "Age", "Driving_License", "Region_Code", "Previously_Insured", "Vehicle_Age", "Vehicle_Damage", "Annual_Premium", "Policy_Sales_Channel", "Vintage"]


def train(data_file, model_file):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(data_file)
    # One-hot encoding and scaling as the replaced project does (get_dummies + StandardScaler), in a
    # form that also applies to a single row at prediction time.
    pipeline = Pipeline([
        ("columns", ColumnTransformer([
            ("categories", OneHotEncoder(handle_unknown="ignore"), CATEGORICAL),
            ("numbers", StandardScaler(), NUMERIC),
        ])),
        ("forest", RandomForestClassifier(
            n_estimators=200, max_depth=10, min_samples_split=7, min_samples_leaf=6,
            criterion="entropy", random_state=42, n_jobs=2,
        )),
    ])
    pipeline.fit(frame[FEATURES], frame["Response"])
    # Prediction runs in the request's worker, one thread, as in the replaced project.
    pipeline.named_steps["forest"].set_params(n_jobs=None)
    with open(model_file, "wb") as out:
        pickle.dump(pipeline, out)


class Record(BaseModel):
    Gender: str
    Age: int
    Driving_License: int
    Region_Code: float
    Previously_Insured: int
    Vehicle_Age: str
    Vehicle_Damage: str
    Annual_Premium: float
    Policy_Sales_Channel: float
    Vintage: int


app = FastAPI()
model = None
if os.environ.get("BASELINE_MODEL"):
    with open(os.environ["BASELINE_MODEL"], "rb") as source:
        model = pickle.load(source)


@app.get("/health")
def health():
    return {"status": "ok"}


@app.post("/predict")
def predict(record: Record):
    frame = pd.DataFrame([record.dict()], columns=FEATURES)
    probability = float(model.predict_proba(frame)[0, 1])
    return {"probability": probability, "label": int(probability >= 0.5)}


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "train":
    train(sys.argv[2], sys.argv[3])
