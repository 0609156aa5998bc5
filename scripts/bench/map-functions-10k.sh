#!/usr/bin/env bash
# Benchmark (fan-out): a Shoal:Map step invoking a Python handler that returns
# item * 2 over 10,000 items on 2 workers; checks the gathered file (the doubled
# items sum to 99,990,000) and reports items per second from the step's start to
# the gathered file (the step's recorded start and end). Against, in the same
# run, Python's multiprocessing.Pool(2).map(f, items, chunksize=1) doing the
# same work (the pool already started, as Shoal's workers are), checked the
# same way; the ratio of the best of 3 each is the figure the pure-core issue
# sets its target on (at least 1.0).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat > "$work/double.py" <<'PY'
def handler(event, context):
    return {"value": event["item"] * 2}
PY
"$shoal" functions create --name double --script "$work/double.py" --handler double.handler > /dev/null
python3 - "$work/map.json" <<'PY'
import json, sys
json.dump({"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [{"Name": "Double", "Type": "Shoal:Map",
    "Arguments": {"Items": list(range(10_000)), "Function": {"FunctionArn": "double", "OutputParameters": [{"OutputName": "value", "OutputType": "Integer"}]},
                  "ResultsS3Uri": "s3://bench/results.json"}}]}, open(sys.argv[1], "w"))
PY
for run in 1 2 3; do
  "$shoal" run "$work/map.json" --workers 2 > /dev/null
  python3 - "$shoal" "$SHOAL_HOME" >> "$work/shoal-rates" <<'PY'
import datetime, json, subprocess, sys
shoal, home = sys.argv[1], sys.argv[2]
env = {"SHOAL_HOME": home, "PATH": "/usr/bin:/bin"}
execution = json.loads(subprocess.run([shoal, "executions", "list", "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]["id"]
step = json.loads(subprocess.run([shoal, "steps", execution, "--output", "json"], capture_output=True, text=True, env=env).stdout)[0]
results = json.load(open(f"{home}/objects/bench/results.json"))
total = sum(r["outputs"]["value"] for r in results["results"])
assert total == 99_990_000 and results["succeeded"] == 10_000, (total, results["succeeded"])
parse = lambda text: datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
seconds = (parse(step["endedAt"]) - parse(step["startedAt"])).total_seconds()
print(f"{10_000/seconds:.0f}")
print(f"10,000 function items on 2 workers: {seconds*1000:.0f} ms from the step's start to the gathered file, {10_000/seconds:,.0f} items/s (sum {total:,})", file=sys.stderr)
PY
done
python3 - "$work/shoal-rates" <<'PY'
import multiprocessing, sys, time
def handler(item):
    return {"value": item * 2}
if __name__ == "__main__":
    rates = []
    with multiprocessing.Pool(2) as pool:
        for _ in range(3):
            start = time.perf_counter()
            results = pool.map(handler, range(10_000), chunksize=1)
            seconds = time.perf_counter() - start
            total = sum(r["value"] for r in results)
            assert total == 99_990_000, total
            rates.append(10_000 / seconds)
    shoal = max(float(line) for line in open(sys.argv[1]))
    pool = max(rates)
    print(f"multiprocessing.Pool(2).map(chunksize=1), same work: best {pool:,.0f} items/s; Shoal best {shoal:,.0f} items/s: ratio {shoal / pool:.2f}")
PY
