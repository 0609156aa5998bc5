#!/usr/bin/env bash
# Benchmark (cost): `shoal cost` over 1,000,000 recorded instances grouped by a
# tag, monthly. The instances are written straight into a fresh home's SQLite
# file (the schema and the usage trigger come from Shoal itself), then the query
# is timed.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$shoal" executions list > /dev/null   # creates the database and its schema
python3 - "$SHOAL_HOME/shoal.sqlite" <<'PY'
import random, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rng = random.Random(7)
db.execute("INSERT INTO execution (id, pipelineName, status, definition, parameters, startedAt, tags) VALUES ('e1', 'Bench', 'Succeeded', '{}', '{}', '2026-01-01 00:00:00.000', '{}')")
types = ["ml.m5.large", "ml.m5.xlarge", "ml.c5.2xlarge", "ml.g4dn.xlarge"]
teams = ["ml", "data", "ops", "research", "platform"]
rows, tags = [], []
for i in range(1, 1_000_001):
    day = 1 + i % 28
    month = 1 + i % 11
    started = f"2026-{month:02d}-{day:02d} 12:00:00.000"
    rows.append((i, "e1", f"S{i % 20}", i, 1, "Completed", started, None, rng.uniform(1, 3600), rng.uniform(1, 3600), types[i % 4]))
    if i % 10:
        tags.append((i, "team", teams[i % 5]))
db.executemany("INSERT INTO instance (id, executionId, stepName, instance, attempt, status, startedAt, endedAt, wallSeconds, cpuSeconds, instanceType) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
db.executemany("INSERT INTO instance_tag (instanceId, key, value) VALUES (?,?,?)", tags)
# Ending each instance fires Shoal's usage trigger, as the engine's update does.
db.execute("UPDATE instance SET endedAt = startedAt")
db.commit()
print("rollup rows:", db.execute("SELECT COUNT(*) FROM usage_rollup").fetchone()[0])
PY
python3 - "$shoal" <<'PY'
import statistics, subprocess, sys, time
shoal = sys.argv[1]
args = [shoal, "cost", "--group-by", "tag:team", "--granularity", "monthly", "--from", "2026-01-01", "--to", "2027-01-01"]
times = []
for _ in range(5):
    start = time.perf_counter()
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    times.append(time.perf_counter() - start)
instances = out.stdout.strip().splitlines()[-1].split()[-1]
print(f"shoal cost over {instances} instances, grouped by tag:team, monthly: median {statistics.median(times)*1000:.0f} ms, best {min(times)*1000:.0f} ms over 5 runs")
PY
