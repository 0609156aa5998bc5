#!/usr/bin/env bash
# Benchmark (local mode): what the python runtime adds to an instance's start
# once its environment exists. Steps of 100 instances of `python3 -c pass` on 2
# workers, the image mapped to the host runtime or to a python environment (one
# requirement, built by a first run that is not counted), alternated 5 times
# each in the same run. From the instances' own records: the median time each
# took on its worker (staging its sandbox to seeing its exit), python against host.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$shoal" images map bench/host:1 host > /dev/null
"$shoal" images map bench/venv:1 python --package six==1.16.0 > /dev/null
python3 - "$work" <<'PY'
import json, sys
for name, image in (("host", "bench/host:1"), ("venv", "bench/venv:1")):
    json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [{"Name": "Start", "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 100, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": image, "ContainerEntrypoint": ["python3", "-c", "pass"]},
        "RoleArn": "arn:aws:iam::1:role/R"}}]}, open(f"{sys.argv[1]}/{name}.json", "w"))
PY
python3 - "$shoal" "$work" "$SHOAL_HOME" <<'PY'
import sqlite3, statistics, subprocess, sys
shoal, work, home = sys.argv[1:4]
def run(name):
    subprocess.run([shoal, "run", f"{work}/{name}.json", "--workers", "2", "--pipeline-name", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
run("venv")  # builds the environment (or finds it built): not counted
database = sqlite3.connect(home + "/shoal.sqlite")
database.execute("delete from execution")
database.commit()
for _ in range(5):
    run("host")
    run("venv")
walls = {}
for name in ("host", "venv"):
    rows = database.execute("select i.wallSeconds from instance i join execution e on e.id = i.executionId where e.pipelineName = ? and i.status = 'Completed'", (name,)).fetchall()
    if len(rows) != 500: sys.exit(f"{name}: {len(rows)} completed instances recorded, not 500")
    walls[name] = statistics.median(wall for (wall,) in rows) * 1000
print(f"median instance on its worker (of 500 each): host runtime {walls['host']:.2f} ms, python runtime {walls['venv']:.2f} ms: "
      f"the python runtime adds {walls['venv'] - walls['host']:.2f} ms (target: at most 5 ms)")
PY
