#!/usr/bin/env bash
# Benchmark (fan-out): 10,000 items dealt across 4 instances of one processing
# step (Shoal:ItemShards), each instance counting the items it was dealt,
# against the same step without items; the difference of the step times is
# the setup overhead of the items. Every run's counts must add up to 10,000
# (and to 0 without items): an ignored Shoal:ItemShards would look free.
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def definition(items):
    arguments = {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 4, "VolumeSizeInGB": 1}},
                 "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c",
                     "h=$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1); "
                     "{ grep -o '[.]jpg\"' \"$SHOAL_ITEMS_FILE\" 2>/dev/null || true; } | wc -l > /opt/ml/processing/out/$h"]},
                 "RoleArn": "arn:aws:iam::1:role/R",
                 "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
                     "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://bench/counts", {"Get": "Execution.PipelineExecutionId"}]}},
                     "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}
    if items:
        arguments["Shoal:ItemShards"] = {"Items": [f"s3://bucket/images/{i:06d}.jpg" for i in range(10_000)]}
    return {"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [{"Name": "Deal", "Type": "Processing", "Arguments": arguments}]}
json.dump(definition(True), open(sys.argv[1] + "/items.json", "w"))
json.dump(definition(False), open(sys.argv[1] + "/plain.json", "w"))
PY
python3 - "$shoal" "$work" "$SHOAL_HOME" <<'PY'
import datetime, json, statistics, subprocess, sys
shoal, work, home = sys.argv[1:4]
env = {"SHOAL_HOME": home, "PATH": "/usr/bin:/bin"}
parse = lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
def step_seconds(path, expected):
    subprocess.run([shoal, "run", path, "--workers", "4"], stdout=subprocess.DEVNULL, check=True, env=env)
    execution = json.loads(subprocess.run([shoal, "executions", "list", "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]["id"]
    counts = [int(open(f"{home}/objects/bench/counts/{execution}/algo-{h}").read()) for h in range(1, 5)]
    if sum(counts) != expected: sys.exit(f"the instances counted {counts} items, not {expected} in all")
    step = json.loads(subprocess.run([shoal, "steps", execution, "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]
    return (parse(step["endedAt"]) - parse(step["startedAt"])).total_seconds()
items = statistics.median(step_seconds(work + "/items.json", 10_000) for _ in range(5))
plain = statistics.median(step_seconds(work + "/plain.json", 0) for _ in range(5))
print(f"10,000 items over 4 instances: step {items*1000:.0f} ms, without items {plain*1000:.0f} ms; setup overhead of the items {(items - plain)*1000:.0f} ms")
PY
