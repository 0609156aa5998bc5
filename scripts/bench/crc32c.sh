#!/usr/bin/env bash
# Benchmark: CRC-32C, each path of the checksum every transfer chunk carries
# (scripts/bench/crc32c-bench.c), compiled with -O2 as SwiftPM compiles the C target.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -I Sources/CShoalSystem/include -o "$work/crc32c" scripts/bench/crc32c-bench.c -lpthread
"$work/crc32c"
