"""Evaluation: the trained model.tar.gz against the test set, written as the
property file (evaluation.json) the condition step reads."""
import json
import os
import tarfile

import joblib
import numpy as np
from sklearn.metrics import mean_squared_error

with tarfile.open("/opt/ml/processing/model/model.tar.gz") as archive:
    archive.extractall("/tmp/model")
model = joblib.load("/tmp/model/model.joblib")
test = np.loadtxt("/opt/ml/processing/test/test.csv", delimiter=",")
mse = mean_squared_error(test[:, 0], model.predict(test[:, 1:]))
report = {"regression_metrics": {"mse": {"value": mse, "standard_deviation": float(np.std(test[:, 0] - model.predict(test[:, 1:])))}}}
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
with open("/opt/ml/processing/evaluation/evaluation.json", "w") as f:
    json.dump(report, f)
print(f"test mse {mse:.4f}")
