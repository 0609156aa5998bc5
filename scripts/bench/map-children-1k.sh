#!/usr/bin/env bash
# Benchmark (fan-out): 1,000 child executions of a one-step child whose step is
# a trivial function, MaxConcurrency 8, 2 workers; time until all 1,000 are gathered.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat > "$work/echo_item.py" <<'PY'
def handler(event, context):
    return {"length": len(event["item"])}
PY
"$shoal" functions create --name echo-item --script "$work/echo_item.py" --handler echo_item.handler > /dev/null
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
child = {"Version": "2020-12-01", "Parameters": [{"Name": "Item", "Type": "String"}, {"Name": "ItemIndex", "Type": "Integer", "DefaultValue": 0}],
         "PipelineExperimentConfig": None,
         "Steps": [{"Name": "Echo", "Type": "Lambda", "Arguments": {"item": {"Get": "Parameters.Item"}}, "FunctionArn": "echo-item",
                    "OutputParameters": [{"OutputName": "length", "OutputType": "Integer"}]}]}
json.dump(child, open(f"{work}/child.json", "w"))
parent = {"Version": "2020-12-01", "Parameters": [], "PipelineExperimentConfig": None, "Steps": [{"Name": "Children", "Type": "Shoal:Map",
    "Arguments": {"Items": [f"item-{i}" for i in range(1000)], "Pipeline": {"Name": "child"}, "MaxConcurrency": 8,
                  "Outputs": [{"Name": "length", "Property": "Steps.Echo.OutputParameters['length']"}], "ResultsS3Uri": "s3://bench/children.json"}}]}
json.dump(parent, open(f"{work}/parent.json", "w"))
PY
"$shoal" pipelines create child --definition "$work/child.json" > /dev/null
start=$(date +%s.%N)
"$shoal" run "$work/parent.json" --workers 2 > /dev/null
end=$(date +%s.%N)
python3 - "$SHOAL_HOME" "$start" "$end" <<'PY'
import json, sys
results = json.load(open(f"{sys.argv[1]}/objects/bench/children.json"))
assert results["succeeded"] == 1000, results["succeeded"]
assert sum(r["outputs"]["length"] for r in results["results"]) == sum(len(f"item-{i}") for i in range(1000))
print(f"1,000 child executions, MaxConcurrency 8, 2 workers: all gathered in {float(sys.argv[3]) - float(sys.argv[2]):.2f} s (whole shoal run)")
PY
