#!/usr/bin/env bash
# Benchmark (fan-out): 10,000 items dealt across 4 instances of one processing
# step (Shoal:ItemShards) running /bin/true, against the same step without
# items; the difference of the step times is the setup overhead of the items.
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def definition(items):
    arguments = {"ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 4, "VolumeSizeInGB": 1}},
                 "AppSpecification": {"ImageUri": "true", "ContainerEntrypoint": ["/bin/true"]}, "RoleArn": "arn:aws:iam::1:role/R"}
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
def step_seconds(path):
    subprocess.run([shoal, "run", path, "--workers", "4"], stdout=subprocess.DEVNULL, check=True, env=env)
    execution = json.loads(subprocess.run([shoal, "executions", "list", "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]["id"]
    step = json.loads(subprocess.run([shoal, "steps", execution, "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]
    return (parse(step["endedAt"]) - parse(step["startedAt"])).total_seconds()
items = statistics.median(step_seconds(work + "/items.json") for _ in range(5))
plain = statistics.median(step_seconds(work + "/plain.json") for _ in range(5))
print(f"10,000 items over 4 instances: step {items*1000:.0f} ms, without items {plain*1000:.0f} ms; setup overhead of the items {(items - plain)*1000:.0f} ms")
PY
