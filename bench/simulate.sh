#!/usr/bin/env bash
# The simulate row (issue 20, "many nodes"): a 3-member etcd cluster (Debian's etcd-server) on
# the loopback of a fresh network namespace (its own ports; data directories in a temp dir; both
# removed by the trap), and `calico-bench simulate` in the same namespace running N agents
# against it (apps/calico-bench/simulate.h): for each N, the nodes' data, the agents' start-up,
# then policy changes until every agent's model has each; etcd's CPU and RSS per member from
# /proc, watch streams per member from its /metrics.
# Usage: bench/simulate.sh BIN OUT [NODES] [CHANGES] [ENDPOINTS_PER_NODE]   NODES like 100,250,500
set -euo pipefail
BIN=${1:?usage: simulate.sh BIN OUT [NODES] [CHANGES] [ENDPOINTS_PER_NODE]}
OUT=${2:?}
NODES=${3:-100,250,500}
CHANGES=${4:-20}
EPN=${5:-4}
command -v etcd >/dev/null || { echo "simulate: etcd is not installed (make deps: etcd-server)" >&2; exit 77; }
T=$(mktemp -d /tmp/calico-sim-XXXXXX)
NS=calico-sim-$$
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM
# Each agent holds a connection to every member, and etcd one per client per member.
soft=$(ulimit -n)
[ "$soft" = unlimited ] || [ "$soft" -ge 8192 ] || ulimit -n 8192
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
cluster=
clients=
metrics=
for m in 1 2 3; do
  cluster+="${cluster:+,}m$m=http://127.0.0.1:$((2380 + (m - 1) * 10000))"
  clients+="${clients:+,}http://127.0.0.1:$((2379 + (m - 1) * 10000))"
  metrics+="${metrics:+,}http://127.0.0.1:$((2379 + (m - 1) * 10000))/metrics"
done
for m in 1 2 3; do
  cport=$((2379 + (m - 1) * 10000)); pport=$((2380 + (m - 1) * 10000))
  ip netns exec "$NS" etcd --name "m$m" --data-dir "$T/m$m" --logger zap --log-level warn \
    --listen-client-urls "http://127.0.0.1:$cport" --advertise-client-urls "http://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token "sim-$$" \
    >"$T/m$m.log" 2>&1 &
  PIDS+=($!)
done
for _ in $(seq 100); do
  ip netns exec "$NS" env ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint health >/dev/null 2>&1 && break
  sleep 0.2
done
ip netns exec "$NS" env ETCDCTL_API=3 etcdctl --endpoints "$clients" endpoint health >/dev/null ||
  { tail -n 20 "$T"/m*.log >&2; echo "simulate: the etcd cluster did not become healthy" >&2; exit 1; }
echo "simulate: 3-member etcd up ($(etcd --version | head -1)), nodes $NODES, $CHANGES changes each"
ip netns exec "$NS" "$BIN/calico-bench" simulate --nodes "$NODES" --changes "$CHANGES" \
  --endpoints-per-node "$EPN" --etcd "$clients" --etcd-metrics "$metrics" \
  --etcd-pids "$(IFS=,; echo "${PIDS[*]}")" --out "$OUT"
echo "simulate: done"
