#!/usr/bin/env bash
# Replicated JetStream benchmark: a 3-node loopback JetStream cluster of tsnats and one of nats-server,
# alternately (A B A B ...), a fresh cluster each round, the natsbench JetStream scenarios run against node 1
# with the benchmark stream created with `num_replicas: 3`.
#
# natsbench (../shared/bench) creates its stream with one replica and has no flag for more, so this script
# builds a copy of it in a temporary directory with one change, `Replicas: 3` in its StreamConfig (the sed
# below), and runs that. Nothing of natsbench is kept in this repository.
#
# Usage: bench/cluster-js.sh [rounds] [scenario...]   (default: 3 rounds, jspub; NATSBENCH_ARGS adds flags)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
scenarios=("${@:-jspub}")
../shared/bench/run.sh --bin >/dev/null # installs Go and nats.go when missing
work=$(mktemp -d /tmp/tsnats-cluster-js-bench.XXXXXX)
cp ../shared/bench/natsbench/*.go "$work/"
sed -i 's/Subjects: \[\]string{jsSubject}, Storage: storage})/Subjects: []string{jsSubject}, Storage: storage, Replicas: 3})/' "$work/main.go"
grep -q 'Replicas: 3' "$work/main.go" || { echo "could not patch natsbench for R3" >&2; exit 1; }
(cd "$work" && GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS='' GOCACHE="$HOME/.cache/natsbench/go-build" \
  go build -o "$work/natsbench-r3" .)
BIN="$work/natsbench-r3"

start_cluster() { # $1 = tsnats|nats-server; ports 1542x (clients) 1642x (routes)
  local kind=$1 i
  for i in 1 2 3; do
    mkdir -p "$work/$kind-n$i"
    cat >"$work/$kind-n$i.conf" <<EOF
server_name: n$i
host: 127.0.0.1
port: 1542$i
jetstream { store_dir: "$work/$kind-n$i" }
cluster {
  name: bench
  host: 127.0.0.1
  port: 1642$i
  routes: [ nats://127.0.0.1:16421, nats://127.0.0.1:16422, nats://127.0.0.1:16423 ]
}
EOF
    if [ "$kind" = tsnats ]; then ./bin/tsnats -c "$work/$kind-n$i.conf" >"$work/$kind-n$i.log" 2>&1 &
    else nats-server -c "$work/$kind-n$i.conf" >"$work/$kind-n$i.log" 2>&1 &
    fi
    echo $! >>"$work/pids"
  done
  # Wait until the meta group has a leader (nats-server and tsnats both log it).
  for _ in $(seq 1 300); do
    if grep -q -i 'metadata leader' "$work/$kind"-n*.log 2>/dev/null; then sleep 1; return 0; fi
    sleep 0.1
  done
  echo "JetStream cluster of $kind did not form" >&2
  return 1
}

stop_cluster() {
  [ -f "$work/pids" ] && kill $(cat "$work/pids") 2>/dev/null || true
  rm -f "$work/pids"
  sleep 0.5
  rm -rf "$work"/*-n?
}
trap stop_cluster EXIT

for r in $(seq 1 "$rounds"); do
  for kind in tsnats nats-server; do
    start_cluster "$kind"
    # shellcheck disable=SC2086
    $BIN -url nats://127.0.0.1:15421 -label "$kind" -round "$r" -o "$work/results.jsonl" \
      ${NATSBENCH_ARGS:-} ${scenarios[*]} >/dev/null || true
    stop_cluster
  done
done
$BIN summary -a tsnats -b nats-server "$work/results.jsonl"
echo "# results: $work/results.jsonl"
