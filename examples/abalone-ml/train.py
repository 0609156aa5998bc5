"""Training in script mode, as the scikit-learn framework image runs it: the
hyperparameters arrive as --name value, the channels as SM_CHANNEL_*, and the
model is saved to SM_MODEL_DIR (packed into model.tar.gz by the service)."""
import argparse
import os

import joblib
import numpy as np
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.metrics import mean_squared_error

parser = argparse.ArgumentParser()
parser.add_argument("--n-estimators", type=int, default=100)
parser.add_argument("--max-depth", type=int, default=3)
parser.add_argument("--learning-rate", type=float, default=0.1)
args = parser.parse_args()

train = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_TRAIN"], "train.csv"), delimiter=",")
validation = np.loadtxt(os.path.join(os.environ["SM_CHANNEL_VALIDATION"], "validation.csv"), delimiter=",")
model = GradientBoostingRegressor(n_estimators=args.n_estimators, max_depth=args.max_depth, learning_rate=args.learning_rate, random_state=7)
model.fit(train[:, 1:], train[:, 0])
# MetricDefinitions read this line from the log into FinalMetricDataList.
print(f"validation:mse={mean_squared_error(validation[:, 0], model.predict(validation[:, 1:])):.4f}")
joblib.dump(model, os.path.join(os.environ["SM_MODEL_DIR"], "model.joblib"))
