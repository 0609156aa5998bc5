#!/usr/bin/env bash
# Chaos: a coordinator on host 1 and workers on hosts 2 and 3 (network
# namespaces, CURVE keys, data over the wire) run, round after round, 200
# processing instances (two steps of 100, SageMaker's most, side by side)
# sharded over 200 input objects and a 500-item fan-out of child pipelines,
# while the test kills the coordinator or a worker with SIGKILL at a random
# moment (seeded: CHAOS_SEED, default 1) and starts it again. After every round both executions must have succeeded, with each
# output object there once with the right content. At the end every process
# is killed at once mid-job: no job process may be left, and the store must
# pass PRAGMA integrity_check.
# Usage: scripts/chaos-test.sh [ROUNDS] (default 10). Needs root, iproute2 and
# util-linux. SHOAL names the binary (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-10}
seed=${CHAOS_SEED:-1}
host_count=3
source scripts/lib/netns-hosts.sh
began=$(date +%s.%N)
RANDOM=$seed
marker="chaos-job-$id"

step() { echo "chaos-test: $*"; }
fail() { echo "chaos-test: FAILED: $*" >&2; echo "--- coordinator log" >&2; tail -n 40 "$work/coordinator.log" >&2
  for log in "$work"/worker-*.log "$work"/round-*.out; do [ -f "$log" ] && { echo "--- $log" >&2; tail -n 8 "$log" >&2; }; done; exit 1; }

start_coordinator
start_worker 2 worker-2 "$keys/workers/worker-2.key" 8; worker_pid[2]=$started
start_worker 3 worker-3 "$keys/workers/worker-3.key" 8; worker_pid[3]=$started
for _ in $(seq 50); do [ "$(workers_listed)" = "worker-2 worker-3" ] && break; sleep 0.2; done
[ "$(workers_listed)" = "worker-2 worker-3" ] || fail "workers did not join"

mkdir -p "$work/parts/a" "$work/parts/b"
for n in $(seq -w 0 199); do printf 'part-%s\n' "$n" > "$work/parts/$([ $((10#$n)) -lt 100 ] && echo a || echo b)/part-$n.csv"; done
"$shoal" cp --recursive "$work/parts/" s3://chaos/in/ > /dev/null
[ "$(find "$SHOAL_HOME/objects/chaos/in" -name 'part-*.csv' | wc -l)" = 200 ] || fail "the 200 input objects were not stored"
python3 - "$work" "$marker" <<'PY'
import json, sys
work, marker = sys.argv[1], sys.argv[2]
def processing(name, count, command, inputs, output_uri):
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c", command, marker]},
        "RoleArn": "arn:aws:iam::1:role/R", "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
            "S3Uri": output_uri, "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
# Each instance copies its one input object to algo-N.txt, after a short sleep so kills find it running.
def shard(half):
    return processing(f"Shard-{half}", 100,
        "sleep 0.2; h=$(grep -o 'algo-[0-9]*' /opt/ml/config/resourceconfig.json | head -n 1); cat /opt/ml/processing/input/* > /opt/ml/processing/out/$h.txt",
        [{"InputName": "parts", "AppManaged": False, "S3Input": {"S3Uri": f"s3://chaos/in/{half}/", "LocalPath": "/opt/ml/processing/input",
          "S3DataType": "S3Prefix", "S3InputMode": "File", "S3DataDistributionType": "ShardedByS3Key"}}],
        {"Std:Join": {"On": "/", "Values": ["s3://chaos/shard", {"Get": "Execution.PipelineExecutionId"}, half]}})
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [shard("a"), shard("b")]}, open(f"{work}/shard.json", "w"))
child = {"Version": "2020-12-01", "Parameters": [{"Name": "Item", "Type": "String"}, {"Name": "ItemIndex", "Type": "Integer", "DefaultValue": 0},
                                                 {"Name": "Parent", "Type": "String"}],
         "Steps": [processing("Echo", 1, "echo \"$SHOAL_ITEM\" > /opt/ml/processing/out/item.txt", [],
                              {"Std:Join": {"On": "/", "Values": ["s3://chaos/map", {"Get": "Parameters.Parent"}, {"Get": "Parameters.Item"}]}})]}
child["Steps"][0]["Arguments"]["Environment"] = {"SHOAL_ITEM": {"Get": "Parameters.Item"}}
fan = {"Name": "FanOut", "Type": "Shoal:Map", "Arguments": {
    "Items": [f"item-{n:03d}" for n in range(500)], "MaxConcurrency": 16, "Definition": child,
    "Parameters": {"Parent": {"Get": "Execution.PipelineExecutionId"}},
    "ResultsS3Uri": {"Std:Join": {"On": "/", "Values": ["s3://chaos/results", {"Get": "Execution.PipelineExecutionId"}, "results.json"]}}}}
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [fan]}, open(f"{work}/fan.json", "w"))
PY
# Follows a run of DEFINITION from host 1 (a client the cleanup kills if the test ends first); sets `started`.
start_client() {
  ip netns exec "sh$id-1" "$shoal" run "$work/$1" --pipeline-name "$2" "${client[@]}" > "$3" 2>&1 &
  started=$!
  pids+=("$started")
}

step "coordinator on ${net}1, workers on ${net}2 and ${net}3 (8 slots each), seed $seed, $rounds rounds"

# The executions of pipeline NAME (not fan-out children), newest first, as lines of id and status.
executions_of() { python3 - "$SHOAL_HOME/shoal.sqlite" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True, timeout=10)
for row in db.execute("SELECT id, status FROM execution WHERE pipelineName = ? AND parentExecutionId IS NULL ORDER BY startedAt DESC", (sys.argv[2],)):
    print(*row)
PY
}

check_round() {
  local round=$1 shard_id=$2 fan_id=$3
  python3 - "$SHOAL_HOME/objects/chaos" "$shard_id" "$fan_id" <<'PY' || fail "round $round: outputs"
import json, os, sys
root, shard, fan = sys.argv[1:]
outputs = [f"{half}/{name}" for half in ("a", "b") for name in os.listdir(f"{root}/shard/{shard}/{half}")]
assert len(outputs) == 200, f"shard: {len(outputs)} objects, not 200"
contents = sorted(open(f"{root}/shard/{shard}/{name}").read() for name in outputs)
assert contents == [f"part-{n:03d}\n" for n in range(200)], "shard: the objects do not hold each input once"
items = sorted(os.listdir(f"{root}/map/{fan}"))
assert items == [f"item-{n:03d}" for n in range(500)], f"map: {len(items)} item folders"
for item in items:
    files = os.listdir(f"{root}/map/{fan}/{item}")
    assert files == ["item.txt"] and open(f"{root}/map/{fan}/{item}/item.txt").read() == item + "\n", f"map: {item} holds {files}"
results = json.load(open(f"{root}/results/{fan}/results.json"))
assert results["succeeded"] == 500 and [r["index"] for r in results["results"]] == list(range(500)), "map: the gathered results are not each item once"
PY
}

kills=0; coordinator_kills=0; worker_kills=0; objects=0
for round in $(seq "$rounds"); do
  round_began=$(date +%s)
  start_client shard.json Shard "$work/round-$round-shard.out"; shard_client=$started
  start_client fan.json Fan "$work/round-$round-fan.out"; fan_client=$started
  # Kill only once both are recorded: the promise is about executions the coordinator took.
  for _ in $(seq 200); do
    [ "$(executions_of Shard | wc -l)" -ge "$round" ] && [ "$(executions_of Fan | wc -l)" -ge "$round" ] && break
    sleep 0.05
  done
  shard_id=$(executions_of Shard | sed -n 1p | cut -d' ' -f1)
  fan_id=$(executions_of Fan | sed -n 1p | cut -d' ' -f1)
  [ -n "$shard_id" ] && [ -n "$fan_id" ] || fail "round $round: the executions were not recorded"
  sleep "$(( RANDOM % 30 / 10 )).$(( RANDOM % 10 ))"
  victim=$(( RANDOM % 4 ))
  if [ "$victim" -lt 2 ]; then
    kill -9 "$coordinator_pid"; coordinator_kills=$((coordinator_kills + 1))
    sleep 0.$(( RANDOM % 10 ))
    start_coordinator
    what="coordinator"
  else
    host=$(( victim == 2 ? 2 : 3 ))
    kill -9 "${worker_pid[$host]}"; worker_kills=$((worker_kills + 1))
    sleep 0.$(( RANDOM % 10 ))
    start_worker "$host" "worker-$host" "$keys/workers/worker-$host.key" 8; worker_pid[$host]=$started
    what="worker-$host"
    for _ in $(seq 100); do [ "$(workers_listed)" = "worker-2 worker-3" ] && break; sleep 0.1; done
    [ "$(workers_listed)" = "worker-2 worker-3" ] || fail "round $round: worker-$host did not join again after its restart"
  fi
  kills=$((kills + 1))
  status=0
  for client_pid in $shard_client $fan_client; do
    deadline=$(( $(date +%s) + 300 ))
    while kill -0 "$client_pid" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.2; done
    kill -0 "$client_pid" 2>/dev/null && fail "round $round: a client still waits after 300 s"
    wait "$client_pid" || status=1
  done
  [ "$status" = 0 ] || fail "round $round ($what killed): a run failed"
  check_round "$round" "$shard_id" "$fan_id"
  objects=$((objects + 200 + 500 + 1))
  step "round $round: killed $what; both executions succeeded, 701 objects each once ($(( $(date +%s) - round_began )) s)"
done

# The end: everything killed at once while the shard step runs; no job process may be left.
start_client shard.json Shard "$work/final.out"
for _ in $(seq 200); do [ "$(pgrep -f -c "$marker" || true)" -ge 4 ] && break; sleep 0.05; done
[ "$(pgrep -f -c "$marker" || true)" -ge 4 ] || fail "the final run's jobs did not start"
kill -9 "$coordinator_pid" "${worker_pid[2]}" "${worker_pid[3]}"
for _ in $(seq 40); do [ "$(pgrep -f -c "$marker" || true)" = 0 ] && break; sleep 0.05; done
left=$(pgrep -f -a "$marker" || true)
[ -z "$left" ] || fail "job processes outlived their killed workers: $left"
python3 -c 'import sqlite3, sys; r = sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0]; sys.exit(0 if r == "ok" else f"integrity_check: {r}")' \
  "$SHOAL_HOME/shoal.sqlite" || fail "the store's integrity check"
seconds=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$began" "$(date +%s.%N)")
step "no job process left after killing every process mid-job; PRAGMA integrity_check ok"
resumed=$(grep -c "resumed: its steps that were running start again" "$work/coordinator.log" || true)
# Instances a restarted coordinator took back from its workers (their logs say so), and those it ran again (queued, or stopped).
taken=$(grep -rl "its worker reported it and it ran on" "$SHOAL_HOME/logs" 2>/dev/null | wc -l)
unreported=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM instance WHERE failureReason LIKE ?", ("no worker reported it%",)).fetchone()[0])' "$SHOAL_HOME/shoal.sqlite")
echo "chaos-test: all passed: $rounds rounds, $kills kills ($coordinator_kills coordinator, $worker_kills worker), $((2 * rounds)) executions ($resumed resumed by a restarted coordinator, which took back $taken running instances and ran $unreported again), $objects objects checked, ${seconds} s"
