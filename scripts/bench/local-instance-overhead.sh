#!/usr/bin/env bash
# Benchmark (local mode): 200 processing instances of /bin/true (two steps of 100
# instances, in parallel) on 2 workers. Shoal's overhead per instance is
# (wall of the run − wall of an empty run − 200 × a bare fork+exec of /bin/true) / 200.
# Also, from the run's own instance records, how much longer each instance
# took on its worker (from staging its sandbox to seeing its exit) than a bare
# fork+exec; and, as root, what the sandbox helper
# (a private mount namespace with the folder at /opt/ml) adds to one exec.
# Every run must have recorded 200 completed instances.
set -euo pipefail
source "$(dirname "$0")/common.sh"
python3 - "$work" <<'PY'
import json, sys
def step(name, count):
    return {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": count, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "true", "ContainerEntrypoint": ["/bin/true"]},
        "RoleArn": "arn:aws:iam::1:role/R"}}
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [step("A", 100), step("B", 100)]}, open(sys.argv[1] + "/many.json", "w"))
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "F", "Type": "Condition", "Arguments": {
    "Conditions": [{"Type": "Equals", "LeftValue": 1, "RightValue": 1}], "IfSteps": [], "ElseSteps": []}}]}, open(sys.argv[1] + "/empty.json", "w"))
PY
python3 - "$shoal" "$work" "$SHOAL_HOME" <<'PY'
import sqlite3, statistics, subprocess, sys, time, os
shoal, work, home = sys.argv[1], sys.argv[2], sys.argv[3]
def timed(args, runs=5):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
many = timed([shoal, "run", work + "/many.json", "--workers", "2"])
empty = timed([shoal, "run", work + "/empty.json", "--workers", "2"])
start = time.perf_counter()
for _ in range(200):
    subprocess.run(["/bin/true"])
bare = (time.perf_counter() - start) / 200
per = (many - empty - 200 * bare / 2) / 200
database = sqlite3.connect(home + "/shoal.sqlite")
held = []
for (execution,) in database.execute("select id from execution where pipelineName = 'many'"):
    rows = database.execute("select wallSeconds from instance where executionId = ? and status = 'Completed'", (execution,)).fetchall()
    if len(rows) != 200: sys.exit(f"execution {execution} recorded {len(rows)} completed instances, not 200")
    held += [wall for (wall,) in rows]
if len(held) != 5 * 200: sys.exit(f"{len(held) // 200} runs recorded, not 5")
slot = statistics.median(held) - bare
print(f"200 instances: {many*1000:.0f} ms; empty run {empty*1000:.0f} ms; bare fork+exec {bare*1000:.2f} ms; "
      f"Shoal overhead per instance {per*1000:.2f} ms (2 workers run 2 at a time); "
      f"on its worker each instance took {slot*1000:.2f} ms more than a bare fork+exec (median of 1,000)")
if os.geteuid() == 0:
    sandbox = os.path.join(os.path.dirname(shoal), "shoal-sandbox")
    os.makedirs(work + "/sandbox", exist_ok=True)
    start = time.perf_counter()
    for _ in range(200):
        subprocess.run([sandbox, work + "/sandbox", "/bin/true"], check=True)
    helper = (time.perf_counter() - start) / 200 - bare
    print(f"sandbox helper: {helper*1000:.2f} ms added to a fork+exec of /bin/true (mean of 200)")
else:
    print("sandbox helper: not measured (a mount namespace needs root)")
PY
