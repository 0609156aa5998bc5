#!/usr/bin/env bash
# Three hosts on one machine: Linux network namespaces joined by veth pairs on a
# bridge, each with its own address. A coordinator runs on host 1 and workers
# on hosts 2 and 3, all with CURVE keys. Then:
#   1. the abalone and items examples run through the coordinator on both
#      workers, with their inputs, code and outputs shipped over the wire;
#   2. a worker is killed with SIGKILL mid-job: the execution still succeeds,
#      with every output once;
#   3. a worker's link is cut mid-job: it is declared lost within the liveness
#      window, its work moves, and it registers again once the link is back;
#   4. a worker whose key is not on the allow-list is refused and never listed.
# Workers cannot see the coordinator's home, so every input, the code
# included, and every output travels over the connection (--fetch-data).
# Needs root, iproute2 and util-linux. SHOAL names the binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/netns-hosts.sh

step() { echo "cluster-test: $*"; }
fail() { echo "cluster-test: FAILED: $*" >&2; echo "--- coordinator log" >&2; tail -n 30 "$work/coordinator.log" >&2
  for log in "$work"/worker-*.log; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 10 "$log" >&2; }; done; exit 1; }

start_coordinator
start_worker 2 worker-2 "$keys/workers/worker-2.key"; worker2=$started
start_worker 3 worker-3 "$keys/workers/worker-3.key"
for _ in $(seq 50); do [ "$(workers_listed)" = "worker-2 worker-3" ] && break; sleep 0.2; done
[ "$(workers_listed)" = "worker-2 worker-3" ] || fail "workers did not join"
step "coordinator on ${net}1, workers on ${net}2 and ${net}3 joined"

# 1. The items example through the coordinator.
"$shoal" cp examples/items/process_items.py s3://my-bucket/code/process_items.py > /dev/null
on 1 "$shoal" run examples/items/pipeline.json --pipeline-name ItemsPipeline "${client[@]}" > "$work/items.out" 2>&1 || fail "items run: $(tail -3 "$work/items.out")"
count=$("$shoal" ls s3://my-bucket/items/ --output json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$count" = 20 ] || fail "items: $count outputs, not 20"
step "items example: 20 outputs from 4 instances on 2 workers"
grep -q "bytes out over the wire" "$work/worker-2.log" "$work/worker-3.log" || fail "no worker reported shipping data over the wire"

python3 examples/abalone/generate_data.py 4177 > "$work/abalone.csv"
"$shoal" cp "$work/abalone.csv" s3://my-bucket/abalone/abalone-dataset.csv > /dev/null
"$shoal" cp examples/abalone/preprocess.py s3://my-bucket/code/preprocess.py > /dev/null
"$shoal" functions create --name sagemaker_test_lambda --script examples/abalone/lambda_fn.py --handler lambda_fn.lambda_handler > /dev/null
on 1 "$shoal" run examples/abalone/pipeline.json --pipeline-name AbalonePipeline "${client[@]}" > "$work/abalone.out" 2>&1 || fail "abalone run: $(tail -3 "$work/abalone.out")"
ls -d "$work"/worker-*/functions/sagemaker_test_lambda/* > /dev/null 2>&1 || fail "no worker fetched the Lambda step's code"
step "abalone example: processing on 2 instances, condition and Lambda step, code fetched by the workers"

# A job slow enough to be interrupted: each of 4 instances sleeps (a sleep the
# test finds by its odd length: in its sandbox a job can write no file of the
# test's), then writes its host's file.
python3 - "$work/slow.json" <<'PY'
import json, sys
step = {"Name": "Slow", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 4, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c",
        "h=$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1); sleep 3.0417; echo $h > /opt/ml/processing/out/$h.txt"]},
    "RoleArn": "r",
    "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
        "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://my-bucket/slow", {"Get": "Execution.PipelineExecutionId"}]}},
        "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
json.dump({"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [step]}, open(sys.argv[1], "w"))
PY
# Waits until all 4 instances of the slow job are running (their sleeps are seen).
wait_all_running() {
  for _ in $(seq 200); do [ "$(pgrep -xf 'sleep 3.0417' | wc -l)" = 4 ] && return 0; sleep 0.05; done
  fail "the slow job's 4 instances did not all start: $(pgrep -xf 'sleep 3.0417' | wc -l) running"
}
check_slow_outputs() {
  local listing
  listing=$("$shoal" ls s3://my-bucket/slow/ --output json | python3 -c 'import json,sys; print(" ".join(sorted(o["uri"].rsplit("/",1)[1] for o in json.load(sys.stdin))))')
  [ "$listing" = "algo-1.txt algo-2.txt algo-3.txt algo-4.txt" ] || fail "$1: outputs are '$listing'"
  "$shoal" cp --recursive s3://my-bucket/slow/ "$work/slow-out" > /dev/null 2>&1 || true
}

# 2. SIGKILL a worker mid-job.
rm -f "$work"/running/*
on 1 "$shoal" run "$work/slow.json" "${client[@]}" > "$work/kill.out" 2>&1 &
run=$!
wait_all_running
ps -o pid,args -p "$worker2" | tail -n +2 | grep -q "worker-2" || fail "worker-2 is not running before the kill"
kill -9 "$worker2"
wait "$run" || fail "the run with a killed worker failed: $(tail -3 "$work/kill.out")"
check_slow_outputs "after SIGKILL"
grep -q "worker worker-2 on .* was lost" "$work/coordinator.log" || fail "the coordinator did not declare worker-2 lost"
step "worker-2 killed with SIGKILL mid-job: execution succeeded, each output once"
"$shoal" ls s3://my-bucket/slow/ --output json > /dev/null
rm -rf "$SHOAL_HOME/objects/my-bucket/slow"
start_worker 2 worker-2 "$keys/workers/worker-2.key"
for _ in $(seq 50); do [ "$(workers_listed)" = "worker-2 worker-3" ] && break; sleep 0.2; done

# 3. Cut worker-3's link mid-job.
rm -f "$work"/running/*
on 1 "$shoal" run "$work/slow.json" "${client[@]}" > "$work/cut.out" 2>&1 &
run=$!
wait_all_running
cut_at=$(date +%s.%N)
on 3 ip link set "sp$id-3" down
wait "$run" || fail "the run with a cut link failed: $(tail -3 "$work/cut.out")"
check_slow_outputs "after the cut"
grep -q "worker worker-3 on .* was lost" "$work/coordinator.log" || fail "the coordinator did not declare worker-3 lost"
step "worker-3's link cut mid-job: declared lost, its instances moved, execution succeeded"
on 3 ip link set "sp$id-3" up
for _ in $(seq 100); do [ "$(workers_listed)" = "worker-2 worker-3" ] && break; sleep 0.2; done
[ "$(workers_listed)" = "worker-2 worker-3" ] || fail "worker-3 did not register again after its link came back"
step "worker-3 registered again once its link was back"

# 4. A key that is not on the allow-list.
start_worker 4 stranger "$keys/stranger.key"
for _ in $(seq 100); do grep -q "refused a connection from ${net}4" "$work/coordinator.log" && break; sleep 0.1; done
grep -q "refused a connection from ${net}4" "$work/coordinator.log" || fail "the stranger's refusal was not logged"
[ "$(workers_listed)" = "worker-2 worker-3" ] || fail "a stranger joined: $(workers_listed)"
step "a worker with a key not on the allow-list was refused and logged"
echo "cluster-test: all passed"
