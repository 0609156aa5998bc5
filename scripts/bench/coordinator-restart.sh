#!/usr/bin/env bash
# Benchmark (cluster mode): a coordinator killed (SIGKILL) with 200 instances
# running on 2 workers (100 slots each) and 10,000 queued (102 steps of 100
# instances of a sleep), then started again on the same home and address.
# Timed from the new coordinator's start, twice, each on a fresh home:
# - workers holding their jobs (the default): until both workers came back and
#   all 200 running instances were taken back, and until the 10,000 queued
#   ones were queued again. Checked: the same 200 processes still run.
# - workers that do not (`--hold-jobs 0`, as before): until the first new
#   attempt runs on a worker, and until all 200 slots run new attempts.
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
running() { pgrep -xf "/bin/sleep $mark" | sort || true; }
trap 'kill ${coordinator:-} ${w1:-} ${w2:-} ${client:-} 2>/dev/null; pkill -xf "/bin/sleep $mark" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT

# One restart with workers holding their jobs for HOLD seconds.
restart() {
  local hold=$1 case=$work/hold-$1
  mkdir -p "$case"
  export SHOAL_HOME=$case/home
  "$shoal" images map x host > /dev/null
  bind="tcp://127.0.0.1:$(port)"; api="tcp://127.0.0.1:$(port)"
  "$shoal" coordinator --bind "$bind" --api "$api" --insecure > "$case/coordinator-1.log" 2>&1 & coordinator=$!
  sleep 0.5
  "$shoal" worker --connect "$bind" --id w1 --slots 100 --reconnect --hold-jobs "$hold" --work-dir "$case/w1" > /dev/null 2>&1 & w1=$!
  "$shoal" worker --connect "$bind" --id w2 --slots 100 --reconnect --hold-jobs "$hold" --work-dir "$case/w2" > /dev/null 2>&1 & w2=$!
  sleep 1
  "$shoal" run "$work/busy.json" --coordinator "$api" > /dev/null 2>&1 & client=$!
  for _ in $(seq 600); do [ "$(running | wc -l)" -ge 200 ] && break; sleep 0.1; done
  [ "$(running | wc -l)" -ge 200 ] || { echo "coordinator-restart: only $(running | wc -l) of 200 instances ever ran" >&2; exit 1; }
  running > "$case/old"
  kill -9 $coordinator; wait $coordinator 2>/dev/null || true
  python3 - "$shoal" "$bind" "$api" "$mark" "$case" "$hold" <<'PY'
import re, sqlite3, subprocess, sys, time
shoal, bind, api, mark, case, hold = sys.argv[1:]
old = set(open(case + "/old").read().split())
database = case + "/home/shoal.sqlite"
def processes():
    return set(subprocess.run(["pgrep", "-xf", "/bin/sleep " + mark], capture_output=True, text=True).stdout.split())
def taken_back():
    said = open(case + "/coordinator-2.log").read()
    return sum(int(n) for n in re.findall(r"came back holding \d+ tasks and \d+ results: (\d+) taken back", said))
def second_attempts():
    return sqlite3.connect(database, timeout=10).execute("select count(*) from instance where attempt = 2").fetchone()[0]
start = time.perf_counter()
coordinator = subprocess.Popen([shoal, "coordinator", "--bind", bind, "--api", api, "--insecure"],
                               stdout=subprocess.DEVNULL, stderr=open(case + "/coordinator-2.log", "w"))
first = full = None
deadline = start + 120
try:
    while time.perf_counter() < deadline and full is None:
        now = time.perf_counter() - start
        if hold != "0":
            if first is None and taken_back() >= 200: first = now
            if first is not None and second_attempts() >= 10_000: full = now
        else:
            count = len(processes() - old)
            if count >= 1 and first is None: first = now
            if count >= 200: full = now
        time.sleep(0.005)
    status, = sqlite3.connect(database, timeout=10).execute("select status from execution order by startedAt desc limit 1").fetchone()
    attempts = second_attempts()
    alive = len(old & processes())
finally:
    coordinator.terminate()
    coordinator.wait()
if first is None or full is None or status != "Executing":
    sys.exit(f"coordinator-restart (--hold-jobs {hold}): not resumed (first {first}, all {full}, status {status}, {attempts} second attempts)")
if hold != "0":
    if alive != 200: sys.exit(f"coordinator-restart: {alive} of the 200 running instances ran on across the restart")
    print(f"workers holding their jobs: all 200 running instances taken back {first*1000:.0f} ms after the new coordinator started "
          f"(the same 200 processes run on), the 10,000 queued queued again after {full*1000:.0f} ms")
else:
    print(f"workers stopping their jobs (--hold-jobs 0): first new attempt running {first*1000:.0f} ms after the new coordinator started, "
          f"all 200 slots running new attempts after {full*1000:.0f} ms ({attempts} attempts resubmitted)")
PY
  kill $w1 $w2 $client 2>/dev/null; wait $w1 $w2 $client 2>/dev/null || true
  pkill -xf "/bin/sleep $mark" 2>/dev/null || true
}

restart 60
restart 0
