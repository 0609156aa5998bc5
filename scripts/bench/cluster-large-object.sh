#!/usr/bin/env bash
# Benchmark (cluster mode): one 3 GiB object fetched by a `--fetch-data` worker
# over tcp on loopback and read whole by the job (`cksum`, whose CRC and byte
# count must match the stored object's): the peak resident memory (VmHWM) of
# the coordinator and of the worker, which must not grow with the object.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mkdir -p "$SHOAL_HOME/objects/b/large"
head -c $((3 << 30)) /dev/zero | tr '\0' 'x' > "$SHOAL_HOME/objects/b/large/big.bin"
python3 - "$work/large.json" <<'PY'
import json, sys
step = {"Name": "Read", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c", "cksum < /opt/ml/processing/input/data/big.bin > /opt/ml/processing/out/size"]},
    "RoleArn": "r",
    "ProcessingInputs": [{"InputName": "data", "S3Input": {"S3Uri": "s3://b/large/big.bin", "LocalPath": "/opt/ml/processing/input/data",
        "S3DataType": "S3Prefix", "S3InputMode": "File"}}],
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {"S3Uri": "s3://b/size", "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
json.dump({"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [step]}, open(sys.argv[1], "w"))
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
bind="tcp://127.0.0.1:$(port)"; api="tcp://127.0.0.1:$(port)"
"$shoal" coordinator --bind "$bind" --api "$api" --insecure > "$work/coordinator.log" 2>&1 & coordinator=$!
trap 'kill $coordinator ${worker:-} 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
"$shoal" worker --connect "$bind" --id w1 --fetch-data --reconnect --work-dir "$work/w1" 2> "$work/worker.log" & worker=$!
sleep 1
start=$(date +%s.%N)
timeout 300 "$shoal" run "$work/large.json" --coordinator "$api" > /dev/null || { echo "the run failed; worker log:" >&2; tail -5 "$work/worker.log" >&2; exit 1; }
end=$(date +%s.%N)
expected=$(cksum < "$SHOAL_HOME/objects/b/large/big.bin")
[ "$(cat "$SHOAL_HOME/objects/b/size/size")" = "$expected" ] || { echo "the job read '$(cat "$SHOAL_HOME/objects/b/size/size")', the object is '$expected'" >&2; exit 1; }
peak() { awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$1/status"; }
echo "large object: 3 GiB fetched and read in $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$end") s; peak resident memory: coordinator $(peak $coordinator) MiB, worker $(peak $worker) MiB"
