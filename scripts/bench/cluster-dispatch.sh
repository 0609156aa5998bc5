#!/usr/bin/env bash
# Benchmarks (cluster mode), over TCP on loopback with a `shoal coordinator`:
#  - dispatch: 2,000 instances of /bin/true (20 steps of 100) on 2 workers of one
#    slot each, submitted with `shoal run --coordinator`: instances per second;
#  - memory: the coordinator's resident memory with 10,000 instances queued (100
#    steps of 100, no worker joined yet).
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def definition(steps, command):
    return {"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [
        {"Name": f"S{i}", "Type": "Processing", "Arguments": {
            "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 100, "VolumeSizeInGB": 1}},
            "AppSpecification": {"ImageUri": "x", "ContainerEntrypoint": command}, "RoleArn": "r"}} for i in range(steps)]}
json.dump(definition(20, ["/bin/true"]), open(sys.argv[1] + "/dispatch.json", "w"))
json.dump(definition(100, ["/bin/true"]), open(sys.argv[1] + "/queued.json", "w"))
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
bind="tcp://127.0.0.1:$(port)"; api="tcp://127.0.0.1:$(port)"
"$shoal" coordinator --bind "$bind" --api "$api" --insecure > "$work/coordinator.log" 2>&1 &
coordinator=$!
trap 'kill $coordinator ${w1:-} ${w2:-} 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
"$shoal" worker --connect "$bind" --id w1 --reconnect --work-dir "$work/w1" > /dev/null 2>&1 & w1=$!
"$shoal" worker --connect "$bind" --id w2 --reconnect --work-dir "$work/w2" > /dev/null 2>&1 & w2=$!
sleep 1
start=$(date +%s.%N)
"$shoal" run "$work/dispatch.json" --coordinator "$api" > /dev/null
end=$(date +%s.%N)
# Counted from the coordinator's own records: every instance ran, once, and completed.
instances() { python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from instance where executionId = (select id from execution order by startedAt desc limit 1) and status = ?", (sys.argv[2],)).fetchone()[0])' "$SHOAL_HOME/shoal.sqlite" "$1"; }
[ "$(instances Completed)" = 2000 ] || { echo "dispatch: $(instances Completed) instances completed, not 2,000" >&2; exit 1; }
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'dispatch: 2,000 instances of /bin/true on 2 workers over tcp in {s:.2f} s: {2000/s:.0f} instances/s')" "$start" "$end"
kill $w1 $w2; wait $w1 $w2 2>/dev/null || true
# The coordinator declares them lost within its liveness window (3 s).
workers_left() { "$shoal" cluster status --coordinator "$api" --output json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))'; }
for _ in $(seq 100); do [ "$(workers_left)" = 0 ] && break; sleep 0.1; done
[ "$(workers_left)" = 0 ] || { echo "the workers were not declared lost: $(workers_left) still listed" >&2; exit 1; }
"$shoal" run "$work/queued.json" --coordinator "$api" > /dev/null 2>&1 &
client=$!
for _ in $(seq 300); do [ "$(instances InProgress)" = 10000 ] && break; sleep 0.1; done
[ "$(instances InProgress)" = 10000 ] || { echo "memory: $(instances InProgress) instances queued, not 10,000" >&2; exit 1; }
rss=$(awk '/VmRSS/ {print $2}' /proc/$coordinator/status)
echo "memory: coordinator resident set $((rss / 1024)) MiB with 10,000 instances queued and no worker"
kill $client 2>/dev/null || true
