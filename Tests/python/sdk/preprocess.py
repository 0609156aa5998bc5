#!/usr/bin/env python3
"""The abalone preprocessing script, run on every instance of the processing step.

Each instance reads its own shard of /opt/ml/processing/input (ShardedByS3Key: with one
CSV and two instances, one host gets it and the other an empty folder), splits it into
train and test, fits rings ~ shell weight by least squares on train, and writes
train/<host>.csv and, when it had data, evaluation.json with the test MSE in the shape
the condition step reads (regression_metrics.mse.value). Standard library only."""
import argparse
import csv
import glob
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--input-args", default="")
args = parser.parse_args()

with open("/opt/ml/config/resourceconfig.json") as f:
    host = json.load(f)["current_host"]
print(f"{host}: input args {args.input_args!r}")

rows = []
for path in sorted(glob.glob("/opt/ml/processing/input/**/*.csv", recursive=True)):
    with open(path) as f:
        rows.extend(row for row in csv.reader(f) if row)
print(f"{host}: {len(rows)} rows")

os.makedirs("/opt/ml/processing/train", exist_ok=True)
os.makedirs("/opt/ml/processing/evaluation", exist_ok=True)
if not rows:
    print(f"{host}: no data in this shard")
    raise SystemExit(0)

split = int(len(rows) * 0.8)
train, test = rows[:split], rows[split:]
with open(f"/opt/ml/processing/train/{host}.csv", "w", newline="") as f:
    csv.writer(f).writerows(train)

xs = [float(r[7]) for r in train]
ys = [float(r[8]) for r in train]
mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)) / sum((x - mean_x) ** 2 for x in xs)
intercept = mean_y - slope * mean_x
mse = sum((intercept + slope * float(r[7]) - float(r[8])) ** 2 for r in test) / len(test)
print(f"{host}: rings = {intercept:.3f} + {slope:.3f} * shell_weight, test MSE {mse:.4f}")

with open("/opt/ml/processing/evaluation/evaluation.json", "w") as f:
    json.dump({"regression_metrics": {"mse": {"value": mse, "standard_deviation": mse ** 0.5}}}, f)
