#!/usr/bin/env bash
# Benchmark (local mode): 200 processing instances of /bin/true (two steps of 100
# instances, in parallel) on 2 workers. Shoal's overhead per instance is
# (wall of the run − wall of an empty run − 200 × a bare fork+exec of /bin/true) / 200.
# Also, from the run's own instance records, how much longer each instance
# took on its worker (from staging its sandbox to seeing its exit) than a bare
# fork+exec; and, as root, what the sandbox helper adds to one exec: the full
# sandbox (its own root, an unprivileged user, seccomp, cgroup limits) against
# the helper it replaced (mount and PID namespaces only, built here from commit
# a7ec654's source), and the full sandbox with a volume (VolumeSizeInGB), the
# three alternated in the same run. The 200 instances also
# run --unsandboxed, for the whole run's difference. Every run must have
# recorded 200 completed instances.
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
unsandboxed = timed([shoal, "run", work + "/many.json", "--workers", "2", "--unsandboxed"])
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
if len(held) != 10 * 200: sys.exit(f"{len(held) // 200} runs recorded, not 10")
slot = statistics.median(held) - bare
print(f"200 instances: {many*1000:.0f} ms ({unsandboxed*1000:.0f} ms --unsandboxed); empty run {empty*1000:.0f} ms; bare fork+exec {bare*1000:.2f} ms; "
      f"Shoal overhead per instance {per*1000:.2f} ms (2 workers run 2 at a time); "
      f"on its worker each instance took {slot*1000:.2f} ms more than a bare fork+exec (median of 2,000)")
if os.geteuid() == 0:
    import pwd
    helper = os.path.join(os.path.dirname(shoal), "shoal-sandbox")
    previous = work + "/previous-sandbox"
    source = subprocess.run(["git", "show", "a7ec654:Sources/shoal-sandbox/main.c"], capture_output=True, check=True).stdout
    open(previous + ".c", "wb").write(source)
    subprocess.run(["cc", "-O2", "-static", "-o", previous, previous + ".c"], check=True)
    user = pwd.getpwnam("shoal-job")
    for folder in ["opt-ml/out", "opt-ml/output", "root", "tmp", "volume"]:
        os.makedirs(f"{work}/sandbox/{folder}", exist_ok=True)
    os.chown(f"{work}/sandbox/tmp", user.pw_uid, user.pw_gid)
    # As a worker runs it: the shared part of the root from a cache (built on the first run).
    full = [helper, "--root", f"{work}/sandbox/root", "--user", f"{user.pw_uid}:{user.pw_gid}:shoal-job", "--cache", f"{work}/sandbox/cache",
            "--bind", f"{work}/sandbox/opt-ml", "/opt/ml", "--bind", f"{work}/sandbox/tmp", "/tmp",
            "--memory", str(8 << 30), "--processes", "4096", "--files", "65536", "--", "/bin/true"]
    # And with a volume of 1 GiB (VolumeSizeInGB) under the output, /opt/ml/output and /tmp, as a step's instance gets.
    def with_volume(run):
        at = full.index("--")
        return full[:at] + ["--volume", str(1 << 30), f"{work}/sandbox/volume-{run}.img", f"{work}/sandbox/volume",
                            "--volume-output", f"{work}/sandbox/opt-ml/out", "--volume-status", f"{work}/sandbox/opt-ml/output",
                            "--volume-scratch", f"{work}/sandbox/tmp"] + full[at:]
    old = [previous, f"{work}/sandbox/opt-ml", "/bin/true"]
    took = {"full": [], "old": [], "volume": []}
    for run in range(300):
        for name, command in (("old", old), ("full", full), ("volume", with_volume(run))):
            start = time.perf_counter()
            subprocess.run(command, check=True)
            took[name].append(time.perf_counter() - start)
    old_ms, full_ms, volume_ms = (statistics.median(took[name]) * 1000 for name in ("old", "full", "volume"))
    print(f"sandbox helper, median of 300 alternated runs of /bin/true: the full sandbox {full_ms:.2f} ms, "
          f"the mount-namespace helper it replaced {old_ms:.2f} ms: {full_ms - old_ms:.2f} ms more per instance (target: at most 2 ms); "
          f"with a 1 GiB volume {volume_ms:.2f} ms: the volume adds {volume_ms - full_ms:.2f} ms")
else:
    print("sandbox helper: not measured (the sandbox needs root)")
PY
