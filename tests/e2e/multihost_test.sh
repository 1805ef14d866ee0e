#!/usr/bin/env bash
# Multi-host end to end on calico-lab: 3 hosts running the real calico-node (and BIRD for BGP),
# workloads wired by the CNI plugins. Within a network workloads on every host reach each other,
# across networks they do not; a new workload becomes reachable from another host (time printed);
# with BGP, stopping a host's calico-node and BIRD withdraws its routes, and a route reflector
# topology (mesh off) carries the routes too.
# Usage: multihost_test.sh BUILD_BIN_DIR bird|vxlan local|etcd
set -euo pipefail
# `grep -q` in a pipeline under pipefail can fail when it stops reading early (SIGPIPE for the
# writer): `has` reads everything.
has() { grep "$@" >/dev/null; }
BIN=${1:?usage: multihost_test.sh BUILD_BIN_DIR bird|vxlan local|etcd}
BACKEND=${2:-bird}
DATASTORE=${3:-local}
LAB="$BIN/calico-lab"
export CALICO_LAB_STATE_DIR=/run/calico-lab
export PATH="$BIN:$PATH"
cleanup() {
  local rc=$?
  "$LAB" down >/dev/null 2>&1 || true
  exit $rc
}
trap cleanup EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  for h in calico-01 calico-02 calico-03; do
    echo "--- $h routes"; "$LAB" host "$h" -- ip route 2>&1 | head -20
    echo "--- $h node log"; tail -15 "$CALICO_LAB_STATE_DIR/$h/node.log" 2>/dev/null
  done >&2
  exit 1
}
# Another test's lab is left alone: wait for it to go away, fail if it does not.
source "$(dirname "$0")/lab_guard.sh"
wait_for_no_lab || { trap - EXIT; exit 1; }
if [ "$DATASTORE" = etcd ] && ! command -v etcd >/dev/null; then fail "etcd is not installed: run make deps"; fi

"$LAB" up --hosts 3 --backend "$BACKEND" --datastore "$DATASTORE" >/dev/null
echo "lab up: 3 hosts, $BACKEND, $DATASTORE"

# reach FROM IP [SECONDS]: TCP to IP:80 from workload FROM within SECONDS.
reach() {
  local from=$1 ip=$2 secs=${3:-30}
  for _ in $(seq $((secs * 2))); do
    "$LAB" exec "$from" -- calico-probe connect tcp "$ip" 80 500 && return 0
    sleep 0.5
  done
  return 1
}
run() {  # run HOST NET NAME -> prints the IP
  "$LAB" run "$1" --net "$2" --name "$3" -- calico-probe serve tcp 80 | tail -1
}

A=$(run calico-01 backend a)
B=$(run calico-02 backend b)
C=$(run calico-03 backend c)
F=$(run calico-03 frontend f)
echo "workloads: a=$A (calico-01) b=$B (calico-02) c=$C (calico-03) f=$F (calico-03, frontend)"

reach b "$A" || fail "b (calico-02) cannot reach a (calico-01)"
reach c "$A" || fail "c (calico-03) cannot reach a (calico-01)"
reach a "$C" || fail "a (calico-01) cannot reach c (calico-03)"
reach b "$C" || fail "b (calico-02) cannot reach c (calico-03)"
echo "  ok: the backend network spans the 3 hosts"
reach f "$A" 3 && fail "f (frontend) reached a (backend)"
reach a "$F" 3 && fail "a (backend) reached f (frontend)"
echo "  ok: frontend and backend are isolated across hosts"

start=$(date +%s%N)
L=$(run calico-03 backend late)
reach a "$L" 30 || fail "a new workload on calico-03 never became reachable from calico-01"
end=$(date +%s%N)
echo "  ok: a new workload on calico-03 reachable from calico-01 $(( (end - start) / 1000000 )) ms after run"

if [ "$BACKEND" = bird ]; then
  echo "route reflector: mesh off, calico-01 reflects for the others"
  "$LAB" host calico-01 -- calicoctl label nodes calico-01 route-reflector=true >/dev/null
  "$LAB" host calico-01 -- calicoctl patch node calico-01 \
    -p '{"spec":{"bgp":{"routeReflectorClusterID":"224.0.0.1"}}}' >/dev/null
  "$LAB" host calico-01 -- calicoctl apply -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer-with-route-reflectors}
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'
YAML
  "$LAB" host calico-01 -- calicoctl apply -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, asNumber: 64512}
YAML
  for _ in $(seq 40); do
    st=$("$LAB" host calico-02 -- calicoctl node status --run-dir="$CALICO_LAB_STATE_DIR/calico-02" 2>&1 || true)
    echo "$st" | has "198.18.0.11 .*global.*Established" && ! echo "$st" | has "node-to-node mesh" && break
    sleep 0.5
  done
  echo "$st" | has "198.18.0.11 .*Established" || fail "calico-02 has no session with the reflector: $st"
  echo "$st" | has "198.18.0.13" && fail "calico-02 still peers with calico-03 directly: $st"
  R=$(run calico-02 backend viarr)
  reach c "$R" 30 || fail "c (calico-03) cannot reach a new workload on calico-02 through the reflector"
  echo "  ok: routes between calico-02 and calico-03 go through the reflector"

  echo "withdrawal: calico-node and BIRD on calico-03 stop"
  for f in node.pid bird.pid; do
    pid=$(cut -d' ' -f1 "$CALICO_LAB_STATE_DIR/calico-03/$f")
    kill "$pid" 2>/dev/null || true
  done
  start=$(date +%s%N)
  block=""
  for _ in $(seq 60); do
    "$LAB" host calico-01 -- ip route | has "via 198.18.0.13 .*proto bird" || { block=gone; break; }
    sleep 0.5
  done
  [ -n "$block" ] || fail "calico-01 still routes to calico-03's blocks after its BIRD stopped"
  echo "  ok: calico-03's routes withdrawn $(( ($(date +%s%N) - start) / 1000000 )) ms after it stopped"
fi
echo "PASS: multi-host $BACKEND $DATASTORE"
