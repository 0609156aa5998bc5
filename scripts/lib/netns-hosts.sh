# Hosts on one machine for the cluster scripts: Linux network namespaces joined
# by veth pairs on a bridge, each with its own address, and CURVE keys for a
# coordinator, its workers and a client. Sourced, after `set -euo pipefail`, by
# scripts/cluster-test.sh and scripts/chaos-test.sh. Needs root, iproute2 and
# util-linux. Sets: shoal, id, net, work, keys, pids, client; defines on,
# cleanup (its trap), start_worker (sets `started`) and workers_listed.
shoal=$(realpath "${SHOAL:-.build/release/shoal}")
id=$$
net=10.$((id % 200 + 20)).$((id / 200 % 250)).
work=$(mktemp -d /tmp/shoal-cluster-XXXXXX)
export SHOAL_HOME=$work/home
mkdir -p "$SHOAL_HOME"
"$shoal" images map sh host > /dev/null  # the jobs are plain shell commands
pids=()
host_count=${host_count:-4}

cleanup() {
  set +e
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for n in $(seq "$host_count"); do ip netns del "sh$id-$n" 2>/dev/null; ip link del "sv$id-$n" 2>/dev/null; done
  ip link del "sb$id" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

ip link add "sb$id" type bridge
ip link set "sb$id" up
for n in $(seq "$host_count"); do
  ip netns add "sh$id-$n"
  ip link add "sv$id-$n" type veth peer name "sp$id-$n"
  ip link set "sp$id-$n" netns "sh$id-$n"
  ip link set "sv$id-$n" master "sb$id" up
  ip netns exec "sh$id-$n" ip addr add "${net}$n/24" dev "sp$id-$n"
  ip netns exec "sh$id-$n" ip link set "sp$id-$n" up
  ip netns exec "sh$id-$n" ip link set lo up
done
on() { local host=$1; shift; ip netns exec "sh$id-$host" "$@"; }

keys=$work/keys
"$shoal" keys generate coordinator --dir "$keys" > /dev/null
for worker in worker-2 worker-3; do "$shoal" keys generate "$worker" --dir "$keys/workers" > /dev/null; done
"$shoal" keys generate client --dir "$keys/clients" > /dev/null
"$shoal" keys generate stranger --dir "$keys" > /dev/null
coordinator="tcp://${net}1:7000"
api="tcp://${net}1:7001"
client=(--coordinator "$api" --server-key "$keys/coordinator.pub" --client-key "$keys/clients/client.key")

# Starts the coordinator on host 1 (again, after a kill: same addresses and home) and sets `coordinator_pid`.
start_coordinator() {
  ip netns exec "sh$id-1" "$shoal" coordinator --bind "$coordinator" --api "$api" --key "$keys/coordinator.key" \
    --allow "$keys/workers" --allow-clients "$keys/clients" >> "$work/coordinator.log" 2>&1 &
  coordinator_pid=$!
  pids+=("$coordinator_pid")
  disown "$coordinator_pid"
}

# Sets `started` to the worker's pid (no subshell, so cleanup knows every pid).
# Workers cannot see the coordinator's home (each runs in its own mount
# namespace with an empty tmpfs over it), so every input, the code included,
# and every output travels over the connection (--fetch-data).
start_worker() {
  local host=$1 name=$2 key=$3 slots=${4:-2}
  # Not through `on`: a backgrounded function is a subshell, and $! would be its pid.
  # Every step execs the next, so $! is the worker's own pid.
  ip netns exec "sh$id-$host" unshare --mount --propagation private \
    sh -c 'mount -t tmpfs -o size=1m none "$SHOAL_HOME" && exec "$@"' worker-on-"$host" \
    "$shoal" worker --fetch-data --connect "$coordinator" --id "$name" --slots "$slots" --reconnect --work-dir "$work/$name" \
    --server-key "$keys/coordinator.pub" --key "$key" >> "$work/$name.log" 2>&1 &
  started=$!
  disown "$started"
  pids+=("$started")
}
workers_listed() { on 1 "$shoal" cluster status "${client[@]}" --output json 2>/dev/null | python3 -c 'import json,sys; print(" ".join(sorted(w["id"] for w in json.load(sys.stdin))))'; }
