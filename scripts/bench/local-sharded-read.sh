#!/usr/bin/env bash
# Benchmark (local mode): ShardedByS3Key of 512 MiB in 64 objects to 4 instances on
# one host, each counting the lines of its share, against one process counting
# all 64 files. Staging links the objects (no copy), so the ratio is the figure.
# Every run's four counts must add up to the lines of all 64 files: a sharding
# that dropped files would otherwise look faster.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$work/data"
python3 - "$work/data" <<'PY'
import os, sys
line = b"x" * 99 + b"\n"
block = line * ((8 << 20) // 100 + 1)
for i in range(64):
    with open(os.path.join(sys.argv[1], f"part-{i:02d}.txt"), "wb") as f:
        f.write(block[: 8 << 20])
PY
"$shoal" cp --recursive "$work/data" s3://bench/data/ > /dev/null
python3 - "$work/sharded.json" <<'PY'
import json, sys
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "Count", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 4, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c",
        "h=$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1); cat /opt/ml/processing/input/data/* | wc -l > /opt/ml/processing/out/lines-$h.txt"]},
    "RoleArn": "arn:aws:iam::1:role/R",
    "ProcessingInputs": [{"InputName": "data", "AppManaged": False, "S3Input": {"S3Uri": "s3://bench/data/",
        "LocalPath": "/opt/ml/processing/input/data", "S3DataType": "S3Prefix", "S3InputMode": "File",
        "S3DataDistributionType": "ShardedByS3Key", "S3CompressionType": "None"}}],
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
        "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://bench/counts", {"Get": "Execution.PipelineExecutionId"}]}},
        "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}]}, open(sys.argv[1], "w"))
PY
objects="$SHOAL_HOME/objects/bench/data"
cat "$objects"/* > /dev/null   # both sides read from the page cache
python3 - "$shoal" "$work/sharded.json" "$objects" <<'PY'
import statistics, subprocess, sys, time
shoal, path, objects = sys.argv[1:4]
def timed(args, runs=5, shell=False):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, shell=shell)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
import glob, os
expected = sum(open(f, "rb").read().count(b"\n") for f in glob.glob(objects + "/*"))
single = timed(f"cat {objects}/* | wc -l", shell=True)
sharded = timed([shoal, "run", path, "--workers", "4"])
runs = glob.glob(os.path.join(objects, "..", "counts", "*"))
if len(runs) != 5: sys.exit(f"{len(runs)} runs wrote counts, not 5")
for run in runs:
    counts = glob.glob(run + "/lines-algo-*.txt")
    total = sum(int(open(c).read()) for c in counts)
    if len(counts) != 4 or total != expected: sys.exit(f"{run}: {len(counts)} counts adding up to {total} lines, not 4 adding up to {expected}")
print(f"512 MiB in 64 objects: one process {single*1000:.0f} ms; shoal run, 4 sharded instances {sharded*1000:.0f} ms; ratio {sharded/single:.2f}")
PY
