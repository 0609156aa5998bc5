#!/usr/bin/env bash
# Runs every test. Installs missing system packages first, so it works on a
# fresh machine; fails when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build --build-tests
swift test --skip-build --disable-xctest
