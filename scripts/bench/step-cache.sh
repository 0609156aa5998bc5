#!/usr/bin/env bash
# Benchmark (local mode): step caching.
# 1. A pipeline of 1,000 processing steps (one instance of /bin/true each, with
#    CacheConfig enabled) run once, then again: the second `shoal run`, every
#    step a cache hit, end to end (median of 5). Target: under 1 s.
# 2. What the cache lookup (and recording the run) adds per step to a run with
#    caching on and no hit: 200 such steps with caching on (the cache cleared
#    before each run) against the same 200 with caching off, alternated, median
#    of 7 each. Target: under 1 ms per step.
# Every run is checked: all its steps Succeeded, and as many hits as expected.
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def pipeline(count, cached):
    steps = []
    for i in range(count):
        step = {"Name": f"S{i}", "Type": "Processing", "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "true", "ContainerEntrypoint": ["/bin/true", str(i)]},
            "RoleArn": "arn:aws:iam::1:role/R"}}
        if cached: step["CacheConfig"] = {"Enabled": True, "ExpireAfter": "P30D"}
        steps.append(step)
    return {"Version": "2020-12-01", "Parameters": [], "Steps": steps}
json.dump(pipeline(1000, True), open(sys.argv[1] + "/wide.json", "w"))
json.dump(pipeline(200, True), open(sys.argv[1] + "/on.json", "w"))
json.dump(pipeline(200, False), open(sys.argv[1] + "/off.json", "w"))
PY
python3 - "$shoal" "$work" <<'PY'
import json, statistics, subprocess, sys, time
shoal, work = sys.argv[1], sys.argv[2]
def run(path, hits):
    start = time.perf_counter()
    subprocess.run([shoal, "run", path, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    took = time.perf_counter() - start
    latest = json.loads(subprocess.run([shoal, "executions", "list", "--output", "json"], capture_output=True, check=True).stdout)[0]["id"]
    steps = json.loads(subprocess.run([shoal, "steps", latest, "--output", "json"], capture_output=True, check=True).stdout)
    if any(s["status"] != "Succeeded" for s in steps): sys.exit(f"{path}: a step did not succeed")
    got = sum(1 for s in steps if s.get("cacheHitResult"))
    if got != hits: sys.exit(f"{path}: {got} cache hits, expected {hits}")
    return took
first = run(work + "/wide.json", 0)
again = statistics.median(run(work + "/wide.json", 1000) for _ in range(5))
print(f"1,000 processing steps: first run {first*1000:.0f} ms; run again, every step a cache hit: {again*1000:.0f} ms (median of 5; target < 1 s)")
on, off = [], []
for _ in range(7):
    subprocess.run([shoal, "cache", "clear"], stdout=subprocess.DEVNULL, check=True)
    on.append(run(work + "/on.json", 0))
    off.append(run(work + "/off.json", 0))
per = (statistics.median(on) - statistics.median(off)) / 200
print(f"200 steps, no hit: caching on {statistics.median(on)*1000:.0f} ms, off {statistics.median(off)*1000:.0f} ms (medians of 7, alternated): "
      f"{per*1000:.2f} ms per step for the lookup and the record (target < 1 ms)")
PY
