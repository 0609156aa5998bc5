#!/usr/bin/env bash
# Fuzzes what a daemon reads from outside, each target for SECONDS (default 60):
# definition documents (seeded with the SDK fixtures), worker-port messages,
# API-port messages, the endpoint's reading and checking of a request's
# signature, and aws-chunked S3 bodies (each seeded with valid inputs). libFuzzer
# with AddressSanitizer, built apart in .build-fuzz. A crash fails the script
# and leaves the input in .build-fuzz/crashes; replay it with a plain build:
#   SHOAL_FUZZ_TARGET=wire .build/debug/shoal-fuzz .build-fuzz/crashes/wire-crash-…
# and make it a regression test.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
bash scripts/setup.sh
echo "fuzz: building (libFuzzer, AddressSanitizer)" >&2
swift build --scratch-path .build-fuzz --sanitize fuzzer --sanitize address -Xswiftc -DFUZZING --product shoal-fuzz 2>&1 | grep -v "ld.gold: warning" | tail -n 1
binary=.build-fuzz/debug/shoal-fuzz
mkdir -p .build-fuzz/crashes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
targets="definition wire api sigv4 chunked"
for target in $targets; do mkdir -p "$work/$target"; done
mkdir -p "$work/seeds"
SHOAL_FUZZ_SEEDS="$work/seeds" "$binary"
cp "$work"/seeds/wire-* "$work/wire/"
cp "$work"/seeds/api-* "$work/api/"
cp "$work"/seeds/sigv4-* "$work/sigv4/"
cp "$work"/seeds/chunked-* "$work/chunked/"
cp Tests/Fixtures/sagemaker/[0-9]*.json Tests/Fixtures/sagemaker/invalid/*.json Tests/Fixtures/sagemaker-v3/[0-9]*.json "$work/definition/"
for target in $targets; do
  echo "fuzz: $target for $seconds s" >&2
  # Leak checking is off: Swift's lazily made globals live to the end and read as leaks.
  if ! ASAN_OPTIONS=detect_leaks=0 SHOAL_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -detect_leaks=0 -print_final_stats=1 -artifact_prefix=.build-fuzz/crashes/"$target"- "$work/$target" > "$work/$target.log" 2>&1; then
    tail -n 40 "$work/$target.log" >&2
    echo "fuzz: $target FAILED; the input is in .build-fuzz/crashes" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units" "$work/$target.log" | sed "s/^/fuzz: $target: /" >&2
done
echo "fuzz: no crash in $(( 5 * seconds )) s over 5 targets"
