# Sourced by every benchmark: from the repository root, a release build, a
# scratch folder removed on exit, and a fresh Shoal home in it.
cd "$(dirname "${BASH_SOURCE[1]}")/../.."
swift build -c release 2>&1 | tail -n 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SHOAL_HOME=$work/home
shoal=.build/release/shoal
# The benchmarks' jobs are shell commands and the host's programs: they name
# made-up images, run with the host's runtime.
for image in sh true x; do "$shoal" images map "$image" host > /dev/null; done

# Starts `shoal serve` (one local worker) on a free port, stopped on exit, and
# exports the client environment `shoal env` prints for a fresh key pair:
# $server is its pid, $endpoint its URL.
serve_endpoint() {
  "$shoal" credentials create bench > /dev/null
  "$shoal" serve --bind 127.0.0.1:0 --workers 1 2> "$work/serve.log" &
  server=$!
  trap 'kill -INT $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
  for _ in $(seq 300); do grep -q "endpoint http" "$work/serve.log" && break; sleep 0.1; done
  endpoint=$(grep -o "http://127.0.0.1:[0-9]*" "$work/serve.log" | head -1)
  eval "$("$shoal" env --credential bench --endpoint "$endpoint")"
}
