"""Preprocessing, as in SageMaker's abalone example: pandas reads the raw CSV,
scikit-learn one-hot encodes `sex` and scales the measurements, and the rows
are split into train, validation and test sets (rings first, as the training
script expects). Runs in the scikit-learn image's environment."""
import glob
import os

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

columns = ["sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight", "rings"]
frames = [pd.read_csv(path, header=None, names=columns) for path in sorted(glob.glob("/opt/ml/processing/input/*.csv"))]
df = pd.concat(frames)
y = df.pop("rings").to_numpy()
numeric = columns[1:-1]
features = ColumnTransformer([
    ("numeric", make_pipeline(StandardScaler()), numeric),
    ("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"]),
]).fit_transform(df)
rows = np.concatenate([y.reshape(-1, 1), features], axis=1)
np.random.default_rng(7).shuffle(rows)
train, validation, test = np.split(rows, [int(0.7 * len(rows)), int(0.85 * len(rows))])
for name, part in [("train", train), ("validation", validation), ("test", test)]:
    os.makedirs(f"/opt/ml/processing/{name}", exist_ok=True)
    pd.DataFrame(part).to_csv(f"/opt/ml/processing/{name}/{name}.csv", header=False, index=False)
# Batch input: the test rows without their label.
os.makedirs("/opt/ml/processing/batch", exist_ok=True)
pd.DataFrame(test[:, 1:]).to_csv("/opt/ml/processing/batch/batch.csv", header=False, index=False)
print(f"preprocessed {len(rows)} rows: {len(train)} train, {len(validation)} validation, {len(test)} test")
