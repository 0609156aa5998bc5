#!/usr/bin/env bash
# Benchmark (local mode): three trivial steps — a processing step writes a JSON
# file, a condition reads it, a processing step writes "ok" — run by
# `shoal run` from the shell, end to end including process start. Prints the
# median and best wall time over RUNS runs (release build). Every run must
# have taken the condition's if branch and written ok.txt: a condition gone
# False would time a shorter run.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-11}
python3 - "$work/pipeline.json" <<'PY'
import json, sys
def proc(name, script, outputs, depends=None, files=None):
    step = {"Name": name, "Type": "Processing", "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "sh", "ContainerEntrypoint": ["/bin/sh", "-c", script]},
        "RoleArn": "arn:aws:iam::1:role/R",
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "out", "AppManaged": False, "S3Output": {
            "S3Uri": {"Std:Join": {"On": "/", "Values": ["s3://bench", name, {"Get": "Execution.PipelineExecutionId"}]}},
            "LocalPath": "/opt/ml/processing/out", "S3UploadMode": "EndOfJob"}}]}}}
    if files: step["PropertyFiles"] = files
    return step
write = proc("Write", "echo '{\"score\": 0.9}' > /opt/ml/processing/out/score.json", None,
             files=[{"PropertyFileName": "Score", "OutputName": "out", "FilePath": "score.json"}])
ok = proc("Ok", "echo ok > /opt/ml/processing/out/ok.txt", None)
check = {"Name": "Check", "Type": "Condition", "Arguments": {"Conditions": [{"Type": "GreaterThan",
    "LeftValue": {"Std:JsonGet": {"PropertyFile": {"Get": "Steps.Write.PropertyFiles.Score"}, "Path": "score"}}, "RightValue": 0.5}],
    "IfSteps": [ok], "ElseSteps": []}}
json.dump({"Version": "2020-12-01", "Parameters": [], "Steps": [write, check]}, open(sys.argv[1], "w"))
PY
"$shoal" run "$work/pipeline.json" > /dev/null   # warm the page cache and the home
python3 - "$RUNS" "$shoal" "$work/pipeline.json" "$SHOAL_HOME" <<'PY'
import glob, statistics, subprocess, sys, time
runs, shoal, path, home = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
times = []
for _ in range(runs):
    start = time.perf_counter()
    done = subprocess.run([shoal, "run", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append(time.perf_counter() - start)
    if done.returncode != 0:
        sys.exit("shoal run failed")
oks = [open(f).read() for f in glob.glob(f"{home}/objects/bench/Ok/*/ok.txt")]
if oks != ["ok\n"] * (runs + 1): sys.exit(f"{len(oks)} runs wrote ok.txt, not {runs + 1}: the third step did not run every time")
print(f"three steps end to end: median {statistics.median(times)*1000:.0f} ms, best {min(times)*1000:.0f} ms over {runs} runs")
PY
