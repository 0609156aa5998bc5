#!/usr/bin/env bash
# Benchmark (cluster mode): shard throughput. 512 MiB in 64 text objects,
# ShardedByS3Key over 2 `--fetch-data` workers joined over tcp on loopback,
# each instance counting its lines; run with CURVE off, then on, and compared
# in the same run with bare libzmq (PUSH/PULL of 512 messages of 1 MiB).
# Two figures per run: delivery (the bytes fetched, over the wall time from the
# first worker's first request to the last byte either worker received, from
# the start and length of each fetch the workers log) and end to end (`shoal
# run` from submission to the reply that the execution succeeded: fetch, the
# job, the small outputs back). The workers' input cache is off: every run ships
# the data again. A worker recycles a finished task's input files (writes the
# next inputs over them): the first run on fresh workers has none yet and is
# the slowest of the three.
set -euo pipefail
# measure runs inside $(…): without this, bash turns errexit off there, and a
# failed check would only drop that run from the median.
shopt -s inherit_errexit
source "$(dirname "$0")/common.sh"
cc -O2 -o "$work/pushpull" scripts/bench/zmq-pushpull.c -lzmq -lpthread
mkdir -p "$SHOAL_HOME/objects/b/shards"
python3 - "$SHOAL_HOME/objects/b/shards" <<'PY'
import sys
line = b"x" * 99 + b"\n"
block = line * (8 * 1024 * 1024 // 100) + b"y" * (8 * 1024 * 1024 % 100)
for i in range(64):
    open(f"{sys.argv[1]}/part-{i:02d}.txt", "wb").write(block)
PY
python3 - "$work/count.json" <<'PY'
import json, sys
step = {"Name": "Count", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c",
        "find /opt/ml/processing/input/data -type f -exec wc -l {} + | awk '$2 != \"total\" { n += $1 } END { print n }' > /opt/ml/processing/out/$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1)"]},
    "RoleArn": "r",
    "ProcessingInputs": [{"InputName": "data", "S3Input": {"S3Uri": "s3://b/shards", "LocalPath": "/opt/ml/processing/input/data",
        "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "ShardedByS3Key"}}],
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "S3Output": {"S3Uri": "s3://b/counts",
        "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
json.dump({"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [step]}, open(sys.argv[1], "w"))
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
keys=$work/keys
"$shoal" keys generate coordinator --dir "$keys" > /dev/null
for name in w1 w2; do "$shoal" keys generate "$name" --dir "$keys/workers" > /dev/null; done
"$shoal" keys generate client --dir "$keys/clients" > /dev/null

# Starts a coordinator and two workers, as a running cluster has them, and
# runs the pipeline on them three times; prints "DELIVERY END-TO-END" in MB/s
# for each run. $1 is "on" or "off" (CURVE). The first run of a fresh cluster
# also pays for the daemons' first use (and lands in memory the virtual
# machine has not touched yet, see the README): the summary takes the median.
measure() {
  local bind="tcp://127.0.0.1:$(port)" api="tcp://127.0.0.1:$(port)" server=(--insecure) worker1=() worker2=() client=()
  if [ "$1" = on ]; then
    server=(--key "$keys/coordinator.key" --allow "$keys/workers" --allow-clients "$keys/clients")
    worker1=(--server-key "$keys/coordinator.pub" --key "$keys/workers/w1.key")
    worker2=(--server-key "$keys/coordinator.pub" --key "$keys/workers/w2.key")
    client=(--server-key "$keys/coordinator.pub" --client-key "$keys/clients/client.key")
  fi
  # Not local: the EXIT trap below runs after the function has returned.
  "$shoal" coordinator --bind "$bind" --api "$api" "${server[@]}" > "$work/coordinator-$1.log" 2>&1 & coordinator=$!
  sleep 0.5
  "$shoal" worker --connect "$bind" --id w1 --fetch-data --work-dir "$work/w1" --input-cache-mib 0 "${worker1[@]}" > "$work/w1-$1.log" 2>&1 & w1=$!
  "$shoal" worker --connect "$bind" --id w2 --fetch-data --work-dir "$work/w2" --input-cache-mib 0 "${worker2[@]}" > "$work/w2-$1.log" 2>&1 & w2=$!
  # This runs in a command substitution, a subshell: it stops its own processes, even on failure.
  trap 'kill "$coordinator" "$w1" "$w2" 2>/dev/null || true' EXIT
  sleep 1
  local start end lines
  for _ in 1 2 3; do
    rm -rf "$SHOAL_HOME/objects/b/counts"
    start=$(date +%s.%N)
    "$shoal" run "$work/count.json" --coordinator "$api" "${client[@]}" > /dev/null
    end=$(date +%s.%N)
    lines=$(( $(cat "$SHOAL_HOME/objects/b/counts/algo-1") + $(cat "$SHOAL_HOME/objects/b/counts/algo-2") ))
    [ "$lines" = $((64 * 83886)) ] || { echo "wrong line count: $lines" >&2; exit 1; }
    # Each worker ran one instance of this run: its last log line is it.
    python3 - "$start" "$end" "$work/w1-$1.log" "$work/w2-$1.log" <<'PY'
import re, sys
fetched, first, last = 0, float("inf"), 0.0
for log in sys.argv[3:]:
    moved, took, began = re.findall(r"moved (\d+) bytes in .* \(inputs in ([\d.]+) s from ([\d.]+);", open(log).read())[-1]
    fetched, first, last = fetched + int(moved), min(first, float(began)), max(last, float(began) + float(took))
if fetched != 512 * 1048576: sys.exit(f"the workers logged {fetched} bytes fetched")
print(f"{fetched / 1e6 / (last - first):.0f} {512 * 1048576 / 1e6 / (float(sys.argv[2]) - float(sys.argv[1])):.0f}")
PY
  done
  kill "$coordinator" "$w1" "$w2"; wait "$coordinator" "$w1" "$w2" 2>/dev/null || true
}
off_runs=$(measure off)
on_runs=$(measure on)
# The bare figures swing by a fifth from run to run here: the median of three each.
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
bare=$(median3 "$("$work/pushpull" 512 1048576)" "$("$work/pushpull" 512 1048576)" "$("$work/pushpull" 512 1048576)")
written=$(median3 "$("$work/pushpull" 512 1048576 "$work/sink.bin")" "$("$work/pushpull" 512 1048576 "$work/sink.bin")" "$("$work/pushpull" 512 1048576 "$work/sink.bin")")
rm -f "$work/sink.bin"
echo "shard throughput, 512 MiB in 64 objects to 2 --fetch-data workers over tcp:"
python3 - "$off_runs" "$on_runs" "$bare" "$written" <<'PY'
import statistics, sys
bare, written = float(sys.argv[3]), float(sys.argv[4])
for name, text in (("CURVE off", sys.argv[1]), ("CURVE on", sys.argv[2])):
    runs = [list(map(float, line.split())) for line in text.splitlines()]
    if len(runs) != 3: sys.exit(f"{name}: {len(runs)} runs measured, not 3")
    parts = []
    for label, values in (("delivery", [r[0] for r in runs]), ("end to end", [r[1] for r in runs])):
        median = statistics.median(values)
        parts.append(f"{label} {median:.0f} MB/s ({min(values):.0f}-{max(values):.0f}), {100 * median / bare:.0f}% of bare, {100 * median / written:.0f}% of bare writing a file")
    print(f"  {name}: " + "; ".join(parts))
print(f"bare libzmq PUSH/PULL of 1 MiB messages (median of 3): {bare:.0f} MB/s; {written:.0f} MB/s when the receiver writes them to a file")
PY
