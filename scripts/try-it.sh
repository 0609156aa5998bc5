#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build Shoal, check and
# draw the bundled abalone pipeline (the SDK's own definition), run it on this
# machine with two sharded processing instances and the seed's Lambda, then run
# SageMaker's classic abalone example (examples/abalone-ml: pandas and
# scikit-learn preprocessing, training, evaluation, model registration and a
# batch transform) with the SageMaker SDK against `shoal serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release 2>&1 | tail -n 1
shoal=.build/release/shoal
"$shoal" validate examples/abalone/pipeline.json
"$shoal" graph examples/abalone/pipeline.json --format mermaid
SHOAL="$PWD/$shoal" bash examples/abalone/run.sh
SHOAL="$PWD/$shoal" bash examples/abalone-ml/run.sh
