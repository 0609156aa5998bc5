#!/usr/bin/env bash
# Benchmark (cluster mode): a coordinator killed (SIGKILL) with 200 instances
# running on 2 workers (100 slots each) and 10,000 queued (102 steps of 100
# instances of a sleep), then started again on the same home and address. How
# long, from the new coordinator's start, until the execution moves again: its
# first new attempt runs on a worker, and all 200 slots run new attempts. The
# workers (--reconnect) stop the old jobs and register again by themselves.
# Checked: the execution is resumed (Executing, attempts 2 recorded).
set -euo pipefail
source "$(dirname "$0")/common.sh"
mark="30.$RANDOM$RANDOM"
python3 - "$work" "$mark" <<'PY'
import json, sys
steps = [{"Name": f"S{i}", "Type": "Processing", "Arguments": {
    "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 100, "VolumeSizeInGB": 1}},
    "AppSpecification": {"ImageUri": "x", "ContainerEntrypoint": ["/bin/sleep", sys.argv[2]]}, "RoleArn": "r"}} for i in range(102)]
json.dump({"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": steps}, open(sys.argv[1] + "/busy.json", "w"))
PY
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
bind="tcp://127.0.0.1:$(port)"; api="tcp://127.0.0.1:$(port)"
"$shoal" coordinator --bind "$bind" --api "$api" --insecure > "$work/coordinator-1.log" 2>&1 & coordinator=$!
trap 'kill $coordinator ${w1:-} ${w2:-} ${client:-} 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
sleep 0.5
"$shoal" worker --connect "$bind" --id w1 --slots 100 --reconnect --work-dir "$work/w1" > /dev/null 2>&1 & w1=$!
"$shoal" worker --connect "$bind" --id w2 --slots 100 --reconnect --work-dir "$work/w2" > /dev/null 2>&1 & w2=$!
sleep 1
"$shoal" run "$work/busy.json" --coordinator "$api" > /dev/null 2>&1 & client=$!
running() { pgrep -xf "/bin/sleep $mark" | sort; }
for _ in $(seq 600); do [ "$(running | wc -l)" -ge 200 ] && break; sleep 0.1; done
[ "$(running | wc -l)" -ge 200 ] || { echo "coordinator-restart: only $(running | wc -l) of 200 instances ever ran" >&2; exit 1; }
running > "$work/old"
kill -9 $coordinator; wait $coordinator 2>/dev/null || true
python3 - "$shoal" "$bind" "$api" "$mark" "$work" "$SHOAL_HOME/shoal.sqlite" <<'PY'
import subprocess, sys, time, sqlite3
shoal, bind, api, mark, work, database = sys.argv[1:]
old = set(open(work + "/old").read().split())
def new_running():
    found = subprocess.run(["pgrep", "-xf", "/bin/sleep " + mark], capture_output=True, text=True).stdout.split()
    return len([pid for pid in found if pid not in old])
start = time.perf_counter()
coordinator = subprocess.Popen([shoal, "coordinator", "--bind", bind, "--api", api, "--insecure"],
                               stdout=subprocess.DEVNULL, stderr=open(work + "/coordinator-2.log", "w"))
open(work + "/coordinator-2.pid", "w").write(str(coordinator.pid))
first = full = None
deadline = start + 120
while time.perf_counter() < deadline and full is None:
    count = new_running()
    now = time.perf_counter() - start
    if count >= 1 and first is None: first = now
    if count >= 200: full = now
    time.sleep(0.005)
try:
    status, = sqlite3.connect(database).execute("select status from execution order by startedAt desc limit 1").fetchone()
    resumed = sqlite3.connect(database).execute("select count(*) from instance where attempt = 2").fetchone()[0]
finally:
    coordinator.terminate()
    coordinator.wait()
if first is None or full is None or status != "Executing" or resumed < 200:
    sys.exit(f"coordinator-restart: not resumed (first {first}, all {full}, status {status}, {resumed} second attempts)")
print(f"coordinator restart with 200 running and 10,000 queued: first new attempt running {first*1000:.0f} ms after the new coordinator started, "
      f"all 200 slots running new attempts after {full*1000:.0f} ms ({resumed} attempts resubmitted)")
PY
