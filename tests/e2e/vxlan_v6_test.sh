#!/usr/bin/env bash
# IPv6 VXLAN end to end (issue 16): two "hosts" (network namespaces) joined by a veth carrying only
# IPv6 (fd00:18::1/64, fd00:18::2/64; no IPv4 address, so no IPv4 tunnel), each running the real
# calico-node (start-up with IP=none, IP6=..., CALICO_NETWORKING_BACKEND=vxlan, then the agent) on
# one shared datastore, one IPv6 pool with vxlanMode Always, and a workload on each host wired by
# the real CNI plugin (IPv6 only). Checks as a user would: the Nodes' ipv6VXLANTunnelAddr and
# vxlanTunnelMACAddrV6 (calicoctl, IPAM handle vxlan-v6-tunnel-addr-<node>), vxlan-v6.calico with
# its address and MTU (`ip -d link`, `ip -6 addr`), the route to the other host's block via its
# tunnel address onlink (`ip -6 route`), the permanent FDB and NDP entries for its VTEP (`bridge
# fdb`, `ip -6 neigh`), the detected pod MTU (host MTU - 70), ping -6 and TCP between the
# workloads across the tunnel; then the pool's vxlanMode Never: the device goes and the tunnel
# addresses are released.
set -euo pipefail
has() { grep "$@" >/dev/null; }
BIN=${1:?usage: vxlan_v6_test.sh BUILD_BIN_DIR}
T=$(mktemp -d /tmp/calico-vxlan6-XXXXXX)
H1=calico-v6h1-$$
H2=calico-v6h2-$$
CLEANUP_STEPS=()
cleanup() {
  local rc=$?
  for ((i = ${#CLEANUP_STEPS[@]} - 1; i >= 0; i--)); do eval "${CLEANUP_STEPS[$i]}" || true; done
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  for h in h1 h2; do
    echo "--- $h node log"; tail -20 "$T/$h/node.log" 2>/dev/null
  done >&2
  exit 1
}
export DATASTORE_TYPE=local CALICO_DATASTORE_PATH=$T/db/calico.db
mkdir -p "$T/db"

# The hosts: IPv6-only underlay, forwarding on, no duplicate address detection (addresses usable
# at once).
for h in "$H1" "$H2"; do
  ip netns add "$h"
  CLEANUP_STEPS+=("ip netns del $h")
  ip netns exec "$h" ip link set lo up
  ip netns exec "$h" sysctl -qw net.ipv6.conf.all.forwarding=1
  ip netns exec "$h" sysctl -qw net.ipv6.conf.all.accept_dad=0
  ip netns exec "$h" sysctl -qw net.ipv6.conf.default.accept_dad=0
done
ip -n "$H1" link add eth0 type veth peer name eth0 netns "$H2"
ip -n "$H1" addr add fd00:18::1/64 dev eth0
ip -n "$H2" addr add fd00:18::2/64 dev eth0
ip -n "$H1" link set eth0 up
ip -n "$H2" link set eth0 up
if ip -n "$H1" -4 addr show dev eth0 | has "inet "; then fail "host 1's eth0 has an IPv4 address"; fi

"$BIN/calicoctl" apply -f - >/dev/null <<YAML || fail "cannot create the IPv6 pool"
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: v6-pool}
spec: {cidr: "fd00:65::/48", blockSize: 122, vxlanMode: Always, natOutgoing: false,
       nodeSelector: all()}
YAML

# start_node NAME NETNS ADDRESS
start_node() {
  mkdir -p "$T/$1/run"
  nsenter --net=/run/netns/"$2" env NODENAME="$1" DATASTORE_TYPE=local \
    CALICO_DATASTORE_PATH="$T/db/calico.db" IP=none IP6="$3" CALICO_NETWORKING_BACKEND=vxlan \
    NO_DEFAULT_POOLS=true CALICO_NODENAME_FILE="$T/$1/nodename" CALICO_RUN_DIR="$T/$1/run" \
    CALICO_MTU_FILE="$T/$1/mtu" FELIX_ROUTEREFRESHINTERVAL=2s FELIX_HEALTHENABLED=false \
    "$BIN/calico-node" >>"$T/$1/node.log" 2>&1 &
  local pid=$!
  CLEANUP_STEPS+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
}
start_node h1 "$H1" fd00:18::1/64
start_node h2 "$H2" fd00:18::2/64

# Each node gets its IPv6 VXLAN tunnel address from the pool (allocateip).
node_field() {  # node_field NODE FIELD: a string field of the Node's spec ("" when unset)
  "$BIN/calicoctl" get node "$1" -o json 2>/dev/null | grep -o "\"$2\": *\"[^\"]*\"" |
    cut -d'"' -f4 || true
}
for n in h1 h2; do
  for _ in $(seq 60); do
    [ -n "$(node_field "$n" ipv6VXLANTunnelAddr)" ] && break
    sleep 0.5
  done
done
T1=$(node_field h1 ipv6VXLANTunnelAddr)
T2=$(node_field h2 ipv6VXLANTunnelAddr)
M2=$(node_field h2 vxlanTunnelMACAddrV6)
case "$T1" in fd00:65:*) ;; *) fail "h1 has no IPv6 VXLAN tunnel address from the pool: '$T1'";; esac
case "$T2" in fd00:65:*) ;; *) fail "h2 has no IPv6 VXLAN tunnel address from the pool: '$T2'";; esac
[ -n "$M2" ] || fail "h2 has no vxlanTunnelMACAddrV6"
[ -z "$(node_field h1 ipv4VXLANTunnelAddr)" ] || fail "h1 got an IPv4 VXLAN address"
"$BIN/calicoctl" ipam show --ip="$T1" | has "vxlan-v6-tunnel-addr-h1" ||
  fail "the IPAM handle of $T1 is not vxlan-v6-tunnel-addr-h1: $("$BIN/calicoctl" ipam show --ip="$T1")"
echo "  ok: tunnel addresses h1=$T1 h2=$T2 (handle vxlan-v6-tunnel-addr-<node>), h2 MAC $M2"

# The detected pod MTU: eth0 1500 - 70 (IPv6 VXLAN in use).
for _ in $(seq 50); do [ -s "$T/h1/mtu" ] && break; sleep 0.2; done
[ "$(cat "$T/h1/mtu" 2>/dev/null)" = 1430 ] || fail "h1's MTU file should say 1430: $(cat "$T/h1/mtu" 2>&1)"

# wl NAME HOSTNS NODE: an IPv6-only workload wired by the CNI plugin; its address in WL_IP. Not
# called in $(...): the clean-up steps it registers must reach this shell's trap.
wl() {
  local name=$1 host=$2 node=$3 ns=$2-$1
  ip netns add "$ns"
  CLEANUP_STEPS+=("ip netns del $ns")
  ip netns exec "$ns" ip link set lo up
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
  ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
  printf '{"cniVersion":"0.4.0","name":"net6","type":"calico","nodename":"%s","datastore_path":"%s","log_file_path":"%s","ipam_lock_file":"%s","ipam":{"type":"calico-ipam","assign_ipv4":"false","assign_ipv6":"true"}}' \
    "$node" "$T/db/calico.db" "$T/$node/cni.log" "$T/$node/ipam.lock" > "$T/conf-$name"
  local out
  out=$(ip netns exec "$host" env -i CNI_COMMAND=ADD CNI_CONTAINERID="$name" \
    CNI_NETNS=/var/run/netns/"$ns" CNI_IFNAME=eth0 CNI_PATH="$BIN" CALICO_MTU_FILE="$T/$node/mtu" \
    "$BIN/calico" < "$T/conf-$name") || fail "CNI ADD of $name: $out"
  CLEANUP_STEPS+=("ip netns exec $host env -i CNI_COMMAND=DEL CNI_CONTAINERID=$name CNI_NETNS=/var/run/netns/$ns CNI_IFNAME=eth0 CNI_PATH=$BIN $BIN/calico < $T/conf-$name >/dev/null 2>&1")
  WL_IP=$(echo "$out" | grep -o '"address":"fd00:65:[0-9a-f:]*' | head -1 | cut -d'"' -f4)
}
wl w1 "$H1" h1; W1=$WL_IP
wl w2 "$H2" h2; W2=$WL_IP
[ -n "$W1" ] && [ -n "$W2" ] || fail "workloads without IPv6 addresses: w1=$W1 w2=$W2"
ip -n "$H1-w1" -o link show eth0 | has "mtu 1430 " ||
  fail "w1's eth0 should have the detected MTU 1430: $(ip -n "$H1-w1" -o link show eth0)"
echo "  ok: workloads w1=$W1 (h1) w2=$W2 (h2), MTU 1430 from the MTU file"
ip netns exec "$H2-w2" "$BIN/calico-probe" serve tcp 80 >/dev/null 2>&1 &
CLEANUP_STEPS+=("kill $!")

ok=""
for _ in $(seq 60); do
  routes=$(ip -n "$H1" -6 route)
  fdb=$(bridge -n "$H1" fdb show dev vxlan-v6.calico 2>/dev/null || true)
  neigh=$(ip -n "$H1" -6 neigh show dev vxlan-v6.calico 2>/dev/null || true)
  if echo "$routes" | has "via $T2 dev vxlan-v6.calico proto 80 .*onlink" &&
     echo "$fdb" | has "$M2 dst fd00:18::2 self permanent" &&
     echo "$neigh" | has "$T2 lladdr $M2 PERMANENT"; then ok=1; break; fi
  sleep 0.5
done
[ -n "$ok" ] || fail "h1 has not programmed h2's VTEP:
$routes
--- fdb: $fdb
--- neigh: $neigh"
link=$(ip -n "$H1" -d link show vxlan-v6.calico)
echo "$link" | has "vxlan id 4096 .*local fd00:18::1 dev eth0" || fail "vxlan-v6.calico: $link"
echo "$link" | has "mtu 1430 " || fail "vxlan-v6.calico's MTU should be 1500 - 70: $link"
ip -n "$H1" -6 addr show dev vxlan-v6.calico | has "inet6 $T1/128" ||
  fail "vxlan-v6.calico lacks $T1/128: $(ip -n "$H1" -6 addr show dev vxlan-v6.calico)"
ip -n "$H1" link show vxlan.calico >/dev/null 2>&1 && fail "h1 has an IPv4 vxlan.calico"
w2block=$(echo "$routes" | grep "via $T2 dev vxlan-v6.calico" | head -1)
case "$w2block" in fd00:65:*/122*) ;; *) fail "no block route via $T2: $routes";; esac
echo "  ok: h1: vxlan-v6.calico (VNI 4096, local fd00:18::1, MTU 1430, $T1/128)"
echo "      ip -6 route: $w2block"
echo "      bridge fdb:  $(echo "$fdb" | grep "$M2")"
echo "      ip -6 neigh: $(echo "$neigh" | grep "$T2")"

tx() { cat "/sys/class/net/vxlan-v6.calico/statistics/tx_packets" 2>/dev/null; }
before=$(ip netns exec "$H1" bash -c "$(declare -f tx); tx")
reached=""
for _ in $(seq 20); do
  ip netns exec "$H1-w1" busybox ping -6 -c 1 -W 1 "$W2" >/dev/null 2>&1 && { reached=1; break; }
  sleep 0.5
done
[ -n "$reached" ] || fail "w1 cannot ping6 w2 ($W2)"
ip netns exec "$H1-w1" "$BIN/calico-probe" connect tcp "$W2" 80 2000 ||
  fail "w1 cannot connect to w2 ($W2) tcp/80"
after=$(ip netns exec "$H1" bash -c "$(declare -f tx); tx")
[ "$after" -gt "$before" ] || fail "the traffic did not cross vxlan-v6.calico ($before -> $after)"
echo "  ok: w1 -> w2 ping -6 and TCP across vxlan-v6.calico (tx $before -> $after)"

# Felix's overlay filter: h1 accepts IPv6 VXLAN only from the known VTEPs (h2's address in
# cali60all-vxlan-net); VXLAN from another address is dropped in cali-INPUT.
counter() {  # counter CHAIN COMMENT: packets of the rule carrying COMMENT in h1's CHAIN
  ip netns exec "$H1" nft list chain inet calico "$1" |
    sed -n "s/.*counter packets \([0-9]*\) .*comment \"$2\".*/\1/p"
}
ip netns exec "$H1" nft list set inet calico cali60all-vxlan-net | has "fd00:18::2" ||
  fail "h1's cali60all-vxlan-net lacks h2: $(ip netns exec "$H1" nft list set inet calico cali60all-vxlan-net)"
allowed=$(counter cali-INPUT "Allow IPv6 VXLAN packets from allowed hosts")
[ "${allowed:-0}" -gt 0 ] || fail "h2's VXLAN did not meet the allow rule: $allowed"
dropped=$(counter cali-INPUT "Drop IPv6 VXLAN packets from non-allowed hosts")
ip -n "$H2" addr add fd00:18::99/64 dev eth0 nodad
ip -n "$H2" route add fd00:18::1/128 dev eth0 src fd00:18::99
ip netns exec "$H2" bash -c 'echo intruder > /dev/udp/fd00:18::1/4789' || true
ip -n "$H2" route del fd00:18::1/128 dev eth0 src fd00:18::99
ip -n "$H2" addr del fd00:18::99/64 dev eth0
now=$(counter cali-INPUT "Drop IPv6 VXLAN packets from non-allowed hosts")
[ "${now:-0}" -gt "${dropped:-0}" ] ||
  fail "VXLAN from fd00:18::99 (not a VTEP) was not dropped ($dropped -> $now)"
echo "  ok: h1 accepts IPv6 VXLAN from h2 ($allowed packets), drops it from fd00:18::99"

# The pool stops using VXLAN: the devices go, the tunnel addresses are released.
"$BIN/calicoctl" patch ippool v6-pool -p '{"spec":{"vxlanMode":"Never"}}' >/dev/null ||
  fail "cannot patch the pool"
gone=""
for _ in $(seq 60); do
  if ! ip -n "$H1" link show vxlan-v6.calico >/dev/null 2>&1 &&
     [ -z "$(node_field h1 ipv6VXLANTunnelAddr)" ]; then gone=1; break; fi
  sleep 0.5
done
[ -n "$gone" ] || fail "vxlanMode Never: h1 still has vxlan-v6.calico or its tunnel address"
"$BIN/calicoctl" ipam show --ip="$T1" | has "vxlan-v6-tunnel-addr" &&
  fail "$T1 is still allocated"
echo "  ok: vxlanMode Never: vxlan-v6.calico removed, tunnel address released"
echo "PASS: IPv6 VXLAN between two hosts"
