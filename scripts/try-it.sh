#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build Shoal, and check
# and draw the bundled abalone pipeline (the SDK's own definition).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product shoal 2>&1 | tail -n 1
shoal=.build/release/shoal
"$shoal" validate examples/abalone/pipeline.json
"$shoal" graph examples/abalone/pipeline.json --format mermaid
