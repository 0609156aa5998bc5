#!/usr/bin/env bash
# The console (issue: a console people would rather look at), on a release build:
# the execution page of a 1,000-step execution (target < 300 ms, graph included),
# a step's change reaching a live page (target p95 < 200 ms over 100 changes), and
# /metrics with 10,000 executions recorded (target < 10 ms).
# Usage: bash scripts/bench/console.sh   (needs .venv-aws from scripts/setup.sh)
set -euo pipefail
source "$(dirname "$0")/common.sh"
serve_endpoint
.venv-aws/bin/python scripts/bench/console_bench.py
