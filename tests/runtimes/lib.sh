# Shared by the runtime tests: a scratch directory, a "host" network namespace playing a Calico
# host (forwarding on, an uplink with 10.99.0.1 and a default route through it), a local store
# with one IP pool, and a busybox rootfs. Everything is removed by cleanup (called from a trap).
# Needs: BIN (the build's bin directory with calico, calico-ipam, calicoctl).
set -euo pipefail
# `grep -q` in a pipeline under pipefail can fail when it stops reading early (SIGPIPE for the
# writer): `has` reads everything.
has() { grep "$@" >/dev/null; }

T=$(mktemp -d /tmp/calico-runtime-XXXXXX)
HOST=calico-rt-$$
CLEANUP_STEPS=()
cleanup() {
  local rc=$?
  for ((i = ${#CLEANUP_STEPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUP_STEPS[$i]}" || true; done
  ip netns del "$HOST" 2>/dev/null || true
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*" >&2; exit 1; }

export DATASTORE_TYPE=local CALICO_DATASTORE_PATH=$T/db/calico.db
mkdir -p "$T/db" "$T/net.d" "$T/rootfs/bin"

ip netns add "$HOST"
hx() { ip netns exec "$HOST" "$@"; }
hx ip link set lo up
hx sysctl -qw net.ipv4.ip_forward=1
hx ip link add uplink0 type veth peer name uplink1
hx ip link set uplink0 up
hx ip link set uplink1 up
hx ip addr add 10.99.0.1/32 dev uplink0
hx ip route add default dev uplink0

cat > "$T/pool.yaml" <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: runtime-pool}
spec: {cidr: 10.68.0.0/24}
YAML
"$BIN/calicoctl" create -f "$T/pool.yaml" >/dev/null

cp "$(command -v busybox)" "$T/rootfs/bin/busybox"
for a in sh ping ip wget httpd nc sleep cat; do ln -s busybox "$T/rootfs/bin/$a"; done

# netconf for network $1 in cniVersion $2
conflist() {
  cat <<JSON
{"cniVersion":"$2","name":"$1","plugins":[{"type":"calico","nodename":"node1","mtu":1400,
 "datastore_path":"$T/db/calico.db","ipam":{"type":"calico-ipam"}}]}
JSON
}

# Asserts the datastore and the host hold nothing for workloads any more.
assert_nothing_left() {
  local weps
  weps=$("$BIN/calicoctl" get workloadendpoints | tail -n +2)
  [ -z "$weps" ] || fail "WorkloadEndpoints left behind: $weps"
  "$BIN/calicoctl" ipam show | has "| 0 (0%)" || fail "addresses left allocated: $("$BIN/calicoctl" ipam show)"
  if hx ip -o link show | has cali; then fail "veths left on the host: $(hx ip -o link show)"; fi
  if hx ip route show | has "10.68.0."; then fail "routes left on the host: $(hx ip route show)"; fi
}
