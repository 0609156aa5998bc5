#!/usr/bin/env bash
# Runs every test, then fuzzes each input parser for SHOAL_FUZZ_SECONDS (default
# 60; 0 skips it). Installs missing system packages first, so it works on a
# fresh machine; fails when any test fails or the fuzzer finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build --disable-xctest
seconds=${SHOAL_FUZZ_SECONDS:-60}
if [ "$seconds" -gt 0 ]; then bash scripts/fuzz.sh "$seconds"; fi
