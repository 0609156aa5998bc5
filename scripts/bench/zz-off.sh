#!/usr/bin/env bash
# Benchmark (cluster mode): shard throughput. 512 MiB in 64 text objects,
# ShardedByS3Key over 2 `--fetch-data` workers joined over tcp on loopback,
# each instance counting its lines; run with CURVE off, then on, and compared
# in the same run with bare libzmq (PUSH/PULL of 512 messages of 1 MiB).
# The figure is end to end: fetch, the job itself, and the (small) outputs back.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cc -O2 -o "$work/pushpull" scripts/bench/zmq-pushpull.c -lzmq -lpthread
mkdir -p "$SHOAL_HOME/objects/b/shards"
python3 - "$SHOAL_HOME/objects/b/shards" <<'PY'
import sys
line = b"x" * 99 + b"\n"
block = b"x\n"
for i in range(64):
    open(f"{sys.argv[1]}/part-{i:02d}.txt", "wb").write(block)
PY
python3 - "$work/count.json" <<'PY'
import json, sys
step = {"Name": "Count", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c",
        "find /opt/ml/processing/input/data -type f -exec cat {} + | wc -l > /opt/ml/processing/out/$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1)"]},
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

# Prints the MB/s of one run; $1 is "on" or "off" (CURVE).
measure() {
  local bind="tcp://127.0.0.1:$(port)" api="tcp://127.0.0.1:$(port)" server=() worker1=() worker2=() client=()
  if [ "$1" = on ]; then
    server=(--key "$keys/coordinator.key" --allow "$keys/workers" --allow-clients "$keys/clients")
    worker1=(--server-key "$keys/coordinator.pub" --key "$keys/workers/w1.key")
    worker2=(--server-key "$keys/coordinator.pub" --key "$keys/workers/w2.key")
    client=(--server-key "$keys/coordinator.pub" --client-key "$keys/clients/client.key")
  fi
  "$shoal" coordinator --bind "$bind" --api "$api" "${server[@]}" > "$work/coordinator-$1.log" 2>&1 & local coordinator=$!
  sleep 0.5
  "$shoal" worker --connect "$bind" --id w1 --fetch-data --work-dir "$work/w1" "${worker1[@]}" > /dev/null 2>&1 & local w1=$!
  "$shoal" worker --connect "$bind" --id w2 --fetch-data --work-dir "$work/w2" "${worker2[@]}" > /dev/null 2>&1 & local w2=$!
  # This runs in a command substitution, a subshell: it stops its own processes, even on failure.
  trap 'kill "$coordinator" "$w1" "$w2" 2>/dev/null' EXIT
  sleep 1
  local start end
  start=$(date +%s.%N)
  dd if=/dev/zero of=/dev/shm/warm bs=1M count=3072 2>/dev/null; rm /dev/shm/warm
  start=$(date +%s.%N)
  "$shoal" run "$work/count.json" --coordinator "$api" "${client[@]}" > /dev/null
  end=$(date +%s.%N)
  local lines
  lines=$(( $(cat "$SHOAL_HOME/objects/b/counts/algo-1") + $(cat "$SHOAL_HOME/objects/b/counts/algo-2") ))
  echo "lines $lines" >&2
  kill "$coordinator" "$w1" "$w2"; wait "$coordinator" "$w1" "$w2" 2>/dev/null || true
  python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$end"
}
off=$(measure off); echo "off $off" >&2; exit 0
on=$(measure on)
bare=$("$work/pushpull" 512 1048576)
written=$("$work/pushpull" 512 1048576 "$work/sink.bin")
rm -f "$work/sink.bin"
echo "shard throughput: 512 MiB in 64 objects to 2 --fetch-data workers over tcp: $off MB/s with CURVE off, $on MB/s with CURVE on"
python3 -c "import sys; o, c, b, w = map(float, sys.argv[1:]); print(f'bare libzmq PUSH/PULL of 1 MiB messages: {b:.0f} MB/s ({w:.0f} MB/s when the receiver writes them to a file); Shoal with CURVE off is {100*o/b:.0f}% of the bare figure, with CURVE on {100*c/b:.0f}%')" "$off" "$on" "$bare" "$written"
