#!/usr/bin/env bash
# Runs SageMaker's classic abalone pipeline (pipeline.py, the SageMaker Python
# SDK v2 unchanged) against `shoal serve` on this machine: preprocessing with
# pandas and scikit-learn, a scikit-learn training job, evaluation, then model
# registration and a batch transform, or a fail step. The scikit-learn image
# runs in a Python environment Shoal builds once (a minute or so, the first time).
# Extra arguments go to pipeline.py, e.g. --threshold 0.5 (takes the else branch).
# SHOAL (the binary) and SHOAL_HOME (default: a fresh temporary folder) may be set;
# the SDK comes from .venv-aws, which scripts/setup.sh makes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shoal=${SHOAL:-$here/../../.build/release/shoal}
python=${PYTHON:-$here/../../.venv-aws/bin/python}
export SHOAL_HOME=${SHOAL_HOME:-$(mktemp -d /tmp/shoal-abalone-ml-XXXXXX)}
log=$(mktemp)
"$shoal" credentials create abalone > /dev/null 2>&1 || true
"$shoal" serve --bind 127.0.0.1:0 --workers 2 2> "$log" &
server=$!
trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 300); do grep -q "endpoint http" "$log" && break; sleep 0.1; done
endpoint=$(grep -o "http://127.0.0.1:[0-9]*" "$log" | head -1)
[ -n "$endpoint" ] || { cat "$log" >&2; exit 1; }
eval "$("$shoal" env --credential abalone --endpoint "$endpoint")"
echo "shoal serve at $endpoint, home $SHOAL_HOME" >&2
"$python" "$here/pipeline.py" "$@"
