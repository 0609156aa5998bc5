#!/usr/bin/env bash
# Benchmark (experiments): `shoal experiments show` over 10,000 trials, each with
# two run components and four metrics, sorted by a metric. The records are
# written straight into a fresh home's SQLite file (schema from Shoal itself).
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$shoal" executions list > /dev/null
python3 - "$SHOAL_HOME/shoal.sqlite" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rng = random.Random(3)
executions, components, metrics = [], [], []
component = 0
for i in range(10_000):
    execution = f"e{i:06d}"
    started = f"2026-11-{1 + i % 28:02d} {i % 24:02d}:00:00.000"
    executions.append((execution, "Bench", "Succeeded", "{}", "{}", started, started, "{}", "Bench", execution))
    for step in ("Prepare", "Train"):
        component += 1
        components.append((component, execution, step, 1, "Bench", execution, "Completed", started, started, "{}", "[]", "[]"))
        if step == "Train":
            for name in ("regression_metrics.mse.value", "regression_metrics.rmse.value", "accuracy", "loss.final"):
                metrics.append((component, name, rng.random()))
db.executemany("INSERT INTO execution (id, pipelineName, status, definition, parameters, startedAt, endedAt, tags, experimentName, trialName) VALUES (?,?,?,?,?,?,?,?,?,?)", executions)
db.executemany("INSERT INTO trial_component (id, executionId, stepName, instance, experimentName, trialName, status, startedAt, endedAt, parameters, inputs, outputs) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", components)
db.executemany("INSERT INTO metric (componentId, name, value) VALUES (?,?,?)", metrics)
db.commit()
PY
python3 - "$shoal" <<'PY'
import statistics, subprocess, sys, time
args = [sys.argv[1], "experiments", "show", "Bench", "--sort-by", "regression_metrics.mse.value"]
times = []
for _ in range(5):
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    times.append(time.perf_counter() - start)
print(f"shoal experiments show over {len(out.stdout.splitlines()) - 1} trials, sorted by a metric: median {statistics.median(times)*1000:.0f} ms, best {min(times)*1000:.0f} ms over 5 runs")
PY
