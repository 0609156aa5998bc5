#!/usr/bin/env bash
# Benchmark (local mode): a batch transform of 1,000,000 short CSV lines in 20
# objects on 2 instances, MultiRecord (6 MB payloads), SplitType Line,
# AssembleWith Line, through a trivial handler (predict_fn returns its input).
# Records per second over the step's own start and end, the output checked:
# 20 objects of 50,000 lines, 1,000,000 in all. Three runs, median.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$shoal" images map bench/model:1 host > /dev/null
mkdir -p "$work/code" "$work/data"
cat > "$work/code/inference.py" <<'PY'
def model_fn(model_dir): return None
def input_fn(body, content_type): return body.split("\n")
def predict_fn(rows, model): return rows
def output_fn(rows, accept): return "\n".join(rows)
PY
tar -czf "$work/sourcedir.tar.gz" -C "$work/code" inference.py
"$shoal" cp "$work/sourcedir.tar.gz" s3://bench/code/sourcedir.tar.gz > /dev/null
python3 - "$work/data" <<'PY'
import sys
for part in range(20):
    with open(f"{sys.argv[1]}/part-{part:02}.csv", "w") as f:
        f.writelines(f"{part},{i},{i % 7}\n" for i in range(50_000))
PY
for file in "$work"/data/*.csv; do "$shoal" cp "$file" "s3://bench/lines/$(basename "$file")" > /dev/null; done
python3 - "$work" <<'PY'
import json, sys
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [
    {"Name": "Model", "Type": "Model", "Arguments": {"ExecutionRoleArn": "r", "PrimaryContainer": {"Image": "bench/model:1",
        "Environment": {"SAGEMAKER_PROGRAM": "inference.py", "SAGEMAKER_SUBMIT_DIRECTORY": "s3://bench/code/sourcedir.tar.gz"}}}},
    {"Name": "Score", "Type": "Transform", "Arguments": {
        "ModelName": {"Get": "Steps.Model.ModelName"},
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bench/lines/"}}, "ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"S3OutputPath": {"Std:Join": {"On": "/", "Values": ["s3://bench/scored", {"Get": "Execution.PipelineExecutionId"}]}}, "AssembleWith": "Line"},
        "TransformResources": {"InstanceCount": 2, "InstanceType": "ml.m5.large"}, "BatchStrategy": "MultiRecord", "MaxPayloadInMB": 6}}]},
    open(sys.argv[1] + "/transform.json", "w"))
PY
python3 - "$shoal" "$work" "$SHOAL_HOME" <<'PY'
import datetime, glob, json, os, statistics, subprocess, sys
shoal, work, home = sys.argv[1:4]
rates = []
for _ in range(3):
    subprocess.run([shoal, "run", f"{work}/transform.json", "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    executions = json.loads(subprocess.run([shoal, "executions", "list", "--output", "json"], capture_output=True, check=True).stdout)
    execution = executions[0]["id"]
    steps = json.loads(subprocess.run([shoal, "steps", execution, "--output", "json"], capture_output=True, check=True).stdout)
    score = next(s for s in steps if s["name"] == "Score")
    parse = lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    seconds = (parse(score["endedAt"]) - parse(score["startedAt"])).total_seconds()
    outputs = sorted(glob.glob(f"{home}/objects/bench/scored/{execution}/*.out"))
    lines = sum(sum(1 for _ in open(path)) for path in outputs)
    if len(outputs) != 20 or lines != 1_000_000: sys.exit(f"run {execution}: {len(outputs)} outputs with {lines} lines, not 20 with 1,000,000")
    rates.append(1_000_000 / seconds)
print(f"batch transform of 1,000,000 lines on 2 instances: {statistics.median(rates):,.0f} records/s (runs: {', '.join(f'{r:,.0f}' for r in rates)}; target: at least 100,000)")
PY
