"""The console's three figures, against a running `shoal serve` (console.sh starts it):
the execution page of a 1,000-step execution, how soon a step's change reaches a
live page (server-sent events), and /metrics over 10,000 recorded executions."""
import json
import os
import sqlite3
import statistics
import threading
import time
import urllib.request

import boto3

ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
HOME = os.environ["SHOAL_HOME"]
ROLE = "arn:aws:iam::123456789012:role/Bench"
sm = boto3.client("sagemaker")


def run(name, definition):
    sm.create_pipeline(PipelineName=name, PipelineDefinition=json.dumps(definition), RoleArn=ROLE)
    arn = sm.start_pipeline_execution(PipelineName=name)["PipelineExecutionArn"]
    return arn, arn.rsplit("/", 1)[-1]


def wait(arn):
    while sm.describe_pipeline_execution(PipelineExecutionArn=arn)["PipelineExecutionStatus"] in ("Executing", "Stopping"):
        time.sleep(0.1)


def get(path):
    started = time.perf_counter()
    body = urllib.request.urlopen(ENDPOINT + path).read()
    return time.perf_counter() - started, body


# 1. A 1,000-step execution: processing steps in a tree (each depends on its parent), run for real.
def job(name, command, after=None):
    return {"Name": name, "Type": "Processing", **({"DependsOn": [after]} if after else {}), "Arguments": {
        "ProcessingResources": {"ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}},
        "AppSpecification": {"ImageUri": "true", "ContainerEntrypoint": command}, "RoleArn": ROLE}}


steps = [job(f"S{i}", ["true"], f"S{(i - 1) // 2}" if i else None) for i in range(1000)]
arn, big = run("Thousand", {"Version": "2020-12-01", "Parameters": [], "Steps": steps})
wait(arn)
cold, body = get(f"/console/executions/{big}")
assert body.count(b'class="node"') == 1000, "the page should draw 1,000 nodes"
warm = sorted(get(f"/console/executions/{big}")[0] for _ in range(20))
print(f"execution page, 1,000 steps: first view {cold * 1000:.0f} ms (Graphviz lays it out), then median {statistics.median(warm) * 1000:.1f} ms, "
      f"max {warm[-1] * 1000:.1f} ms over 20 ({len(body) >> 10} KiB)")

# 2. Live updates: a chain of 50 processing steps; each start and end is a change the
# runner stamps (startedAt, endedAt) as it saves it; the page's stream hears it later.
chain = [job(f"P{i}", ["sh", "-c", "sleep 0.05"], f"P{i - 1}" if i else None) for i in range(50)]
sm.create_pipeline(PipelineName="Chain", PipelineDefinition=json.dumps({"Version": "2020-12-01", "Parameters": [], "Steps": chain}), RoleArn=ROLE)
arn = sm.start_pipeline_execution(PipelineName="Chain")["PipelineExecutionArn"]
chain_id = arn.rsplit("/", 1)[-1]
heard = {}


def listen():
    stream = urllib.request.urlopen(f"{ENDPOINT}/console/executions/{chain_id}/events")
    for line in stream:
        now = time.time()
        if line.startswith(b"data: "):
            for step in json.loads(line[6:])["steps"]:
                heard.setdefault((step["i"], step["status"]), now)


listener = threading.Thread(target=listen, daemon=True)
listener.start()
wait(arn)
listener.join(timeout=10)
db = sqlite3.connect(os.path.join(HOME, "shoal.sqlite"))
order = {f"P{i}": i for i in range(50)}
delays = []
for name, started, ended in db.execute("SELECT name, startedAt, endedAt FROM step WHERE executionId = ?", (chain_id,)):
    def stamp(text):
        from datetime import datetime, timezone
        return datetime.fromisoformat(text.replace(" ", "T")).replace(tzinfo=timezone.utc).timestamp()
    index = order[name]
    if (index, "Executing") in heard and started:
        delays.append(heard[(index, "Executing")] - stamp(started))
    if (index, "Succeeded") in heard and ended:
        delays.append(heard[(index, "Succeeded")] - stamp(ended))
# The first snapshot holds whatever had already happened when the stream opened; those are not live changes.
delays = sorted(d for d in delays if d >= 0)
p95 = delays[int(len(delays) * 0.95) - 1]
print(f"live update, {len(delays)} step changes: median {statistics.median(delays) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {delays[-1] * 1000:.0f} ms")

# 3. /metrics with 10,000 executions recorded: copies of the chain's records (its 50 steps each).
columns = [row[1] for row in db.execute("PRAGMA table_info(execution)")]
step_columns = [row[1] for row in db.execute("PRAGMA table_info(step)")]
row = dict(zip(columns, db.execute("SELECT * FROM execution WHERE id = ?", (chain_id,)).fetchone()))
step_rows = [dict(zip(step_columns, r)) for r in db.execute("SELECT * FROM step WHERE executionId = ?", (chain_id,))]
count = db.execute("SELECT COUNT(*) FROM execution").fetchone()[0]
with db:
    for n in range(10_000 - count):
        row["id"] = f"bench{n:07d}"
        db.execute(f"INSERT INTO execution ({','.join(columns)}) VALUES ({','.join('?' * len(columns))})", [row[c] for c in columns])
        for step in step_rows:
            step["executionId"] = row["id"]
            db.execute(f"INSERT INTO step ({','.join(step_columns)}) VALUES ({','.join('?' * len(step_columns))})", [step[c] for c in step_columns])
total = db.execute("SELECT COUNT(*) FROM execution").fetchone()[0]
steps_total = db.execute("SELECT COUNT(*) FROM step").fetchone()[0]
times = sorted(get("/metrics")[0] for _ in range(50))
print(f"/metrics with {total} executions ({steps_total} steps): median {statistics.median(times) * 1000:.1f} ms, max {times[-1] * 1000:.1f} ms over 50")
