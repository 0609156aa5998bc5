#!/usr/bin/env bash
# Benchmark (local mode): 200 processing instances of /bin/true (two steps of 100
# instances, in parallel) on 2 workers. Shoal's overhead per instance is
# (wall of the run − wall of an empty run − 200 × a bare fork+exec of /bin/true) / 200.
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def step(name, count):
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "true", "ContainerEntrypoint": ["/bin/true"]},
        "RoleArn": "arn:aws:iam::1:role/R"}}
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [step("A", 100), step("B", 100)]}, open(sys.argv[1] + "/many.json", "w"))
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "F", "Type": "Condition", "Arguments": {
    "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}, open(sys.argv[1] + "/empty.json", "w"))
PY
python3 - "$shoal" "$work" <<'PY'
import statistics, subprocess, sys, time, os
shoal, work = sys.argv[1], sys.argv[2]
def timed(args, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
many = timed([shoal, "run", work + "/many.json", "--workers", "2"])
empty = timed([shoal, "run", work + "/empty.json", "--workers", "2"])
start = time.perf_counter()
for _ in range(200):
    subprocess.run(["/bin/true"])
bare = (time.perf_counter() - start) / 200
per = (many - empty - 200 * bare / 2) / 200
print(f"200 instances: {many*1000:.0f} ms; empty run {empty*1000:.0f} ms; bare fork+exec {bare*1000:.2f} ms; "
      f"Shoal overhead per instance {per*1000:.2f} ms (2 workers run 2 at a time)")
PY
