#!/usr/bin/env bash
# Benchmark (issue: foundation): decode + validate + topological sort of a
# 10,000-step definition with a release build, for two shapes of worker step
# (see make_wide_definition.py). Prints the median wall time of `shoal validate`
# over RUNS runs (the whole process: start, read, parse, build the model,
# validate, sort the graph topologically, print the verdict) and its peak
# resident memory.
set -euo pipefail
source "$(dirname "$0")/common.sh"
RUNS=${RUNS:-15}
for workers in lambda processing; do
  python3 scripts/bench/make_wide_definition.py 10000 "$workers" > "$work/wide.json"
  python3 - "$RUNS" "$work/wide.json" "$workers" <<'PY'
import json, os, statistics, subprocess, sys, time
runs, path, workers = int(sys.argv[1]), sys.argv[2], sys.argv[3]
document = json.load(open(path))
steps = len(document["Steps"]) + sum(len(s["Arguments"].get("ElseSteps", [])) for s in document["Steps"])
times, peaks = [], []
for _ in range(runs):
    start = time.perf_counter()
    child = subprocess.Popen([".build/release/shoal", "validate", path], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    times.append(time.perf_counter() - start)
    peaks.append(usage.ru_maxrss / 1024)
    if status != 0:
        sys.exit("shoal validate failed")
print(f"{workers} workers: {steps} steps, {os.path.getsize(path) / 1e6:.1f} MB: median {statistics.median(times)*1000:.0f} ms, "
      f"best {min(times)*1000:.0f} ms over {runs} runs; peak RSS {max(peaks):.1f} MiB")
PY
done
