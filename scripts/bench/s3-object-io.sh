#!/usr/bin/env bash
# Benchmark (shoal serve, S3), with curl --aws-sigv4 as the client:
#  - PUT and GET of one 1 GiB object, each against a plain cp of the same file
#    on the same disk in the same run (best of 3 each; target: each >= 0.5 of cp);
#  - the server's peak resident memory during a 3 GiB upload (target < 100 MB);
#  - 10,000 PutObject of 1 KiB over keep-alive connections, 4 at a time
#    (target >= 3,000/s).
set -euo pipefail
source "$(dirname "$0")/common.sh"
serve_endpoint
s3=(curl -sS --fail --no-progress-meter --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
"${s3[@]}" -X PUT "$endpoint/bench" > /dev/null

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
best() { printf '%s\n' "$@" | sort -g | head -1; }

head -c 1G /dev/urandom > "$work/one.bin"
cps=() puts=() gets=()
for _ in 1 2 3; do
  rm -f "$work/copy.bin" "$work/got.bin"; sync
  t0=$(now); cp "$work/one.bin" "$work/copy.bin"; t1=$(now); cps+=("$(seconds "$t0" "$t1")")
  sync
  t0=$(now); "${s3[@]}" -T "$work/one.bin" "$endpoint/bench/one.bin" > /dev/null; t1=$(now); puts+=("$(seconds "$t0" "$t1")")
  sync
  t0=$(now); "${s3[@]}" -o "$work/got.bin" "$endpoint/bench/one.bin"; t1=$(now); gets+=("$(seconds "$t0" "$t1")")
done
cmp "$work/one.bin" "$work/got.bin"
cmp "$work/one.bin" "$SHOAL_HOME/objects/bench/one.bin"
cp_s=$(best "${cps[@]}"); put_s=$(best "${puts[@]}"); get_s=$(best "${gets[@]}")
awk -v c="$cp_s" -v p="$put_s" -v g="$get_s" 'BEGIN {
  printf "1 GiB: cp %.2f s (%.0f MiB/s); PUT %.2f s (%.0f MiB/s, %.2f of cp); GET %.2f s (%.0f MiB/s, %.2f of cp) (target: each >= 0.50 of cp)\n",
    c, 1024 / c, p, 1024 / p, c / p, g, 1024 / g, c / g }'
rm -f "$work/copy.bin" "$work/got.bin" "$SHOAL_HOME/objects/bench/one.bin"

# Peak resident memory of the server while a 3 GiB body streams in (sparse source: the bytes are zeros).
truncate -s 3G "$work/three.bin"
peak=0
"${s3[@]}" -T "$work/three.bin" "$endpoint/bench/three.bin" > /dev/null &
upload=$!
while kill -0 $upload 2>/dev/null; do
  rss=$(ps -o rss= -p $server | tr -d ' ')
  [ "${rss:-0}" -gt "$peak" ] && peak=$rss
  sleep 0.05
done
wait $upload
echo "3 GiB upload: server peak resident memory $((peak / 1024)) MiB (target < 100 MB)"
rm -f "$work/three.bin" "$SHOAL_HOME/objects/bench/three.bin"

# 10,000 small PUTs: curl keeps its connections alive across the URLs of one run.
head -c 1024 /dev/urandom > "$work/small.bin"
for i in $(seq 10000); do printf 'upload-file = "%s"\nurl = "%s/bench/small/%05d"\n' "$work/small.bin" "$endpoint" "$i"; done > "$work/puts.cfg"
t0=$(now)
"${s3[@]}" -Z --parallel-max 4 -K "$work/puts.cfg" > /dev/null
t1=$(now)
stored=$(find "$SHOAL_HOME/objects/bench/small" -type f | wc -l)
[ "$stored" -eq 10000 ] || { echo "only $stored of 10000 small objects stored" >&2; exit 1; }
awk -v s="$(seconds "$t0" "$t1")" 'BEGIN { printf "10,000 PutObject of 1 KiB, 4 connections: %.2f s, %.0f/s (target >= 3,000/s)\n", s, 10000 / s }'
