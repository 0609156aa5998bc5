#!/usr/bin/env bash
# Benchmark (issue: foundation): decode + validate + topological sort of a
# 10,000-step definition with a release build. Prints the median wall time of
# `shoal graph --format json` over RUNS runs (the whole process: start, read,
# parse, validate, sort, print) and its peak resident memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${RUNS:-15}
swift build -c release --product shoal 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 scripts/bench/make_wide_definition.py 10000 > "$work/wide.json"
echo "definition: $(python3 -c "import json,sys; d=json.load(open(sys.argv[1])); n=len(d['Steps']); print(n + sum(len(s['Arguments'].get('ElseSteps',[])) for s in d['Steps']), 'steps,', $(stat -c %s "$work/wide.json"), 'bytes')" "$work/wide.json")"
python3 - "$RUNS" "$work/wide.json" <<'PY'
import resource, statistics, subprocess, sys, time
runs, path = int(sys.argv[1]), sys.argv[2]
times = []
for _ in range(runs):
    start = time.perf_counter()
    done = subprocess.run([".build/release/shoal", "graph", path, "--format", "json"], stdout=subprocess.DEVNULL)
    times.append(time.perf_counter() - start)
    if done.returncode != 0:
        sys.exit("shoal graph failed")
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"median {statistics.median(times)*1000:.1f} ms, min {min(times)*1000:.1f} ms over {runs} runs; peak RSS {peak:.1f} MiB")
PY
