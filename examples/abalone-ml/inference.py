"""The serving contract of the scikit-learn image, used by the batch transform."""
import os

import joblib
import numpy as np


def model_fn(model_dir):
    return joblib.load(os.path.join(model_dir, "model.joblib"))


def input_fn(body, content_type):
    assert content_type == "text/csv", content_type
    return np.array([[float(x) for x in line.split(",")] for line in body.splitlines() if line])


def predict_fn(data, model):
    return model.predict(data)


def output_fn(prediction, accept):
    return "\n".join(f"{value:.3f}" for value in prediction)
