#!/usr/bin/env bash
# Benchmark (shoal serve): 1,000 StartPipelineExecution calls from boto3 over
# one keep-alive connection, each answered once the execution is recorded
# (a one-step pipeline: a Condition). Prints the call latency's p50 and p99
# as boto3 sees it, signing included. Targets: p50 < 5 ms, p99 < 20 ms.
set -euo pipefail
source "$(dirname "$0")/common.sh"
[ -x .venv-aws/bin/python ] || bash scripts/setup.sh
serve_endpoint
.venv-aws/bin/python - <<'PY'
import json, statistics, time
import boto3
sm = boto3.client("sagemaker")
definition = {"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "C", "Type": "Condition", "Arguments": {
    "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}
sm.create_pipeline(PipelineName="bench", PipelineDefinition=json.dumps(definition), RoleArn="arn:aws:iam::1:role/R")
for _ in range(20):
    sm.start_pipeline_execution(PipelineName="bench")
took = []
for _ in range(1000):
    start = time.perf_counter()
    arn = sm.start_pipeline_execution(PipelineName="bench")["PipelineExecutionArn"]
    took.append(time.perf_counter() - start)
assert sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionArn"] == arn
took.sort()
print(f"StartPipelineExecution from boto3, 1,000 calls: p50 {took[499]*1000:.2f} ms, p99 {took[989]*1000:.2f} ms, "
      f"mean {statistics.mean(took)*1000:.2f} ms (targets: p50 < 5 ms, p99 < 20 ms)")
PY
