#!/usr/bin/env bash
# Cluster benchmark: a 3-node loopback cluster of tsnats and one of nats-server, alternately (A B A B ...),
# publishers on node 1 and subscribers on node 3 (natsbench -url/-suburl), as in ../shared/reference/cluster.md.
# Usage: bench/cluster.sh [rounds] [scenario...]     (default: 3 rounds, pubsub queue reqrep)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
scenarios=("${@:-pubsub queue reqrep}")
BIN=$(../shared/bench/run.sh --bin | tail -1)
out=$(mktemp -d /tmp/tsnats-cluster-bench.XXXXXX)

start_cluster() { # $1 = tsnats|nats-server; ports 1522x (clients) 1622x (routes)
  local kind=$1 i
  for i in 1 2 3; do
    local routes=""
    for j in 1 2 3; do [ "$j" != "$i" ] && routes+="nats://127.0.0.1:1622$j,"; done
    local args=(-a 127.0.0.1 -p "1522$i" -n "n$i" --cluster_name bench --cluster "nats://127.0.0.1:1622$i" --routes "${routes%,}")
    if [ "$kind" = tsnats ]; then ./bin/tsnats "${args[@]}" >"$out/$kind-n$i.log" 2>&1 &
    else nats-server "${args[@]}" >"$out/$kind-n$i.log" 2>&1 &
    fi
    echo $! >>"$out/pids"
  done
  # Wait until every node has both routes.
  for _ in $(seq 1 100); do
    local ok=0
    for i in 1 2 3; do
      if [ "$(grep -c -i 'route connection created' "$out/$kind-n$i.log" 2>/dev/null || true)" -ge 2 ]; then ok=$((ok + 1)); fi
    done
    [ "$ok" -eq 3 ] && return 0
    sleep 0.1
  done
  echo "cluster of $kind did not form" >&2
  return 1
}

stop_cluster() {
  [ -f "$out/pids" ] && kill $(cat "$out/pids") 2>/dev/null || true
  rm -f "$out/pids"
  sleep 0.5
}
trap stop_cluster EXIT

for r in $(seq 1 "$rounds"); do
  for kind in tsnats nats-server; do
    start_cluster "$kind"
    $BIN -url nats://127.0.0.1:15221 -suburl nats://127.0.0.1:15223 -label "$kind" -round "$r" \
      -o "$out/results.jsonl" ${scenarios[*]} >/dev/null
    stop_cluster
  done
done
$BIN summary -a tsnats -b nats-server "$out/results.jsonl"
echo "# results: $out/results.jsonl"
