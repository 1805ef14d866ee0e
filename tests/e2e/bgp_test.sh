#!/usr/bin/env bash
# BGP end to end (issue 17): the BGPConfiguration, BGPPeer and BGPFilter fields calico-node renders
# into BIRD change what real BIRD daemons exchange. One calico-lab bring-up (2 hosts running the
# real calico-node and BIRD) and a top-of-rack router: a third BIRD in the lab's fabric namespace
# (AS 65000, 198.18.0.1) that both hosts peer with through BGPPeers.
#
#   calico-01 198.18.0.11 ──mesh── calico-02 198.18.0.12 (per-node AS 64600)
#        │ local AS 65100, password,        │ nextHopMode Keep / Self / keepOriginalNextHop
#        │ TTL security, filters             │ filters
#        └────────────── ToR 198.18.0.1 AS 65000 ──┘
#
# Phases: filters (import and export, prefix lengths), communities, service ranges, per-node AS,
# localASNumber, allow local as, reachableBy, keepalive, ttlSecurity, bindMode, ignoredInterfaces;
# next-hop modes; BGPPeer and mesh passwords from secret files (files per host through a wrapper
# that sets CALICO_SECRETS_DIR); graceful restart within maxRestartTime; the
# projectcalico.org/RouteReflectorClusterID label and reversePeering; routes withdrawn after
# maxRestartTime. Passwords are in no log and not in `calicoctl node diags`.
# Usage: bgp_test.sh BUILD_BIN_DIR
set -euo pipefail
has() { grep "$@" >/dev/null; }  # reads all its input (see multihost_test.sh)
BIN=${1:?usage: bgp_test.sh BUILD_BIN_DIR}
LAB="$BIN/calico-lab"
export CALICO_LAB_STATE_DIR=/run/calico-lab
export PATH="$BIN:$PATH"
STATE=$CALICO_LAB_STATE_DIR
WORK=$(mktemp -d /tmp/calico-bgp-e2e-XXXXXX)
SECRETS=$WORK/secrets
TOR_PID=""
TARBALL=""
cleanup() {
  local rc=$?
  if [ -n "$TOR_PID" ]; then kill "$TOR_PID" 2>/dev/null || true; fi
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$WORK"
  if [ -n "$TARBALL" ]; then rm -f "$TARBALL"; fi
  exit $rc
}
trap cleanup EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  for h in calico-01 calico-02; do
    echo "--- $h routes"; ip -n "calico-lab-$h" route 2>&1 | head -30
    echo "--- $h protocols"; birdc -s "$STATE/$h/bird.ctl" show protocols 2>&1 | tail -n +2
    echo "--- $h node log"; tail -15 "$STATE/$h/node.log" 2>/dev/null
    echo "--- $h bird log"; tail -15 "$STATE/$h/bird.log" 2>/dev/null
  done >&2
  echo "--- ToR protocols" >&2; tor show protocols all >&2 2>&1 || true
  echo "--- ToR log" >&2; tail -20 "$WORK/tor.log" >&2 2>/dev/null || true
  exit 1
}
# Another test's lab is left alone: wait for it to go away, fail if it does not.
source "$(dirname "$0")/lab_guard.sh"
wait_for_no_lab || { trap - EXIT; rm -rf "$WORK"; exit 1; }
command -v bird >/dev/null || fail "bird is not installed: run make deps"

# wait_for SECONDS DESCRIPTION CODE: evaluates the shell code CODE every half second until it
# succeeds.
wait_for() {
  local secs=$1 what=$2 code=$3
  for _ in $(seq $((secs * 2))); do
    eval "$code" && return 0
    sleep 0.5
  done
  fail "$what (not within ${secs}s)"
}
tor() { birdc -s "$WORK/tor.ctl" "$@"; }
node_birdc() { local h=$1; shift; birdc -s "$STATE/$h/bird.ctl" "$@"; }
established() { node_birdc "$1" show protocols "$2" 2>/dev/null | has Established; }
tor_established() { tor show protocols "$1" 2>/dev/null | has Established; }
kroutes() { ip -n "calico-lab-$1" route show "${@:2}"; }
calicoctl_apply() { "$LAB" host calico-01 -- calicoctl apply -f - >/dev/null; }
secret() {  # secret HOST NAME KEY VALUE: what a mounted Kubernetes secret would hold
  mkdir -p "$SECRETS/$1/$2"
  printf '%s' "$4" >"$SECRETS/$1/$2/$3.tmp" && mv "$SECRETS/$1/$2/$3.tmp" "$SECRETS/$1/$2/$3"
}
mark() { MARK=$(date +%s%N); }
block_of() {  # the /26 a host owns in a pool (its blackhole route)
  kroutes "$1" | awk -v p="$2" '$1 == "blackhole" && index($2, p) == 1 {print $2; exit}'
}
since() { echo "$(( ($(date +%s%N) - MARK) / 1000000 )) ms"; }

# Each host's calico-node reads its own secrets directory, as each Kubernetes node mounts its own.
cat >"$WORK/calico-node" <<EOF
#!/bin/sh
export CALICO_SECRETS_DIR=$SECRETS/\$NODENAME
exec calico-node "\$@"
EOF
chmod +x "$WORK/calico-node"
mkdir -p "$SECRETS/calico-01" "$SECRETS/calico-02"

"$LAB" up --hosts 2 --backend bird --node-cmd "$WORK/calico-node" >/dev/null
echo "lab up: 2 hosts"
run() { "$LAB" run "$1" --net backend --name "$2" ${3:+--ip "$3"} -- calico-probe serve tcp 80 | tail -1; }
A=$(run calico-01 a)
B=$(run calico-02 b)
calicoctl_apply <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: filtered-pool}
spec: {cidr: 10.200.0.0/16, blockSize: 26, ipipMode: Never, vxlanMode: Never, nodeSelector: all()}
YAML
F=$(run calico-01 f 10.200.0.10)
wait_for 30 "calico-01 owns a block of each pool" \
  '[ -n "$(block_of calico-01 198.19.)" ] && [ -n "$(block_of calico-01 10.200.)" ]'
BLOCK1=$(block_of calico-01 198.19.)
BLOCK2=$(block_of calico-02 198.19.)
FBLOCK=$(block_of calico-01 10.200.)
echo "workloads a=$A (calico-01, block $BLOCK1) b=$B (calico-02, block $BLOCK2) f=$F (calico-01, block $FBLOCK)"
# An address on an interface BIRD's direct protocol sees, inside a pool: exported to the mesh.
# (A veth pair: the dummy module is not always there.)
ip -n calico-lab-calico-01 link add extra0 type veth peer name extra0-peer
ip -n calico-lab-calico-01 addr add 10.200.250.1/32 dev extra0
ip -n calico-lab-calico-01 link set extra0-peer up
ip -n calico-lab-calico-01 link set extra0 up
wait_for 40 "calico-02 learns calico-01's blocks and extra0's address over the mesh" \
  'kroutes calico-02 $BLOCK1 | has "via 198.18.0.11" && kroutes calico-02 10.200.250.1 | has "via 198.18.0.11"'

echo "phase 1: the top-of-rack router, filters, communities, services, AS numbers, peer options"
cat >"$WORK/tor.conf" <<EOF
log "$WORK/tor.log" all;
router id 198.18.0.1;
protocol device { scan time 2; }
protocol static tor_routes {
  ipv4;
  route 203.0.113.0/24 blackhole;
  route 198.51.100.0/24 blackhole;
  route 198.51.100.128/25 blackhole;
  route 100.64.0.0/24 blackhole;
}
filter tor_out {
  if source != RTS_STATIC then reject;
  # A route whose path holds calico-01's local AS: refused unless allow local as.
  if net = 100.64.0.0/24 then bgp_path.prepend(65100);
  accept;
}
template bgp calico {
  local 198.18.0.1 as 65000;
  connect delay time 1;
  ipv4 { import all; export filter tor_out; };
}
protocol bgp node1 from calico { neighbor 198.18.0.11 as 65100; password "tor-pw-1"; ttl security on; }
protocol bgp node2 from calico { neighbor 198.18.0.12 as 64600; }
EOF
bird -p -c "$WORK/tor.conf" || fail "the ToR configuration does not parse"
ip netns exec calico-lab-fabric bird -f -c "$WORK/tor.conf" -s "$WORK/tor.ctl" -P "$WORK/tor.pid" \
  >"$WORK/tor.out" 2>&1 &
TOR_PID=$!
wait_for 10 "the ToR BIRD answers" 'tor show status >/dev/null 2>&1'

secret calico-01 bgp mesh "mesh-pw-7"
secret calico-02 bgp mesh "mesh-pw-7"
# calico-01's ToR password: not there yet.
"$LAB" host calico-01 -- calicoctl patch node calico-02 -p '{"spec":{"bgp":{"asNumber":64600}}}' >/dev/null
calicoctl_apply <<YAML
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: tor-export}
spec:
  exportV4:
  - {cidr: 10.200.0.0/16, matchOperator: In, action: Reject}
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: tor-import}
spec:
  importV4:
  - {cidr: 203.0.113.0/24, matchOperator: Equal, action: Reject}
  - {cidr: 198.51.100.0/24, matchOperator: In, prefixLength: {min: 25}, action: Reject}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor-01}
spec:
  node: calico-01
  peerIP: 198.18.0.1
  asNumber: 65000
  localASNumber: 65100
  password: {secretKeyRef: {name: bgp, key: tor}}
  ttlSecurity: 1
  keepaliveTime: 7s
  maxRestartTime: 30s
  numAllowedLocalASNumbers: 1
  reachableBy: 198.18.0.1
  filters: [tor-export, tor-import]
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor-02}
spec:
  node: calico-02
  peerIP: 198.18.0.1
  asNumber: 65000
  nextHopMode: Keep
  filters: [tor-export]
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec:
  nodeToNodeMeshEnabled: true
  asNumber: 64512
  nodeMeshPassword: {secretKeyRef: {name: bgp, key: mesh}}
  nodeMeshMaxRestartTime: 20s
  bindMode: NodeIP
  ignoredInterfaces: [extra0]
  communities: [{name: lab, value: "65000:100"}]
  prefixAdvertisements: [{cidr: 198.19.0.0/16, communities: [lab, "1:2:3"]}]
  serviceClusterIPs: [{cidr: 10.96.0.0/12}]
  serviceExternalIPs: [{cidr: 10.97.0.0/16}]
  serviceLoadBalancerIPs: [{cidr: 10.98.0.0/16}]
YAML
mark
wait_for 60 "the mesh (now eBGP: calico-02 is AS 64600) with its password is up" \
  'established calico-01 Mesh_198_18_0_12'
wait_for 60 "calico-02's session with the ToR is up" 'tor_established node2'
echo "  ok: mesh and calico-02 <-> ToR established $(since) after the configuration"
# calico-01's ToR session has no password yet: the secret file does not exist.
established calico-01 Node_198_18_0_1 && fail "calico-01 peered with the ToR without its password"
grep "bgp/tor cannot be read ($SECRETS/calico-01/bgp/tor: No such file or directory): configured without a password" \
  "$STATE/calico-01/node.log" >/dev/null || fail "calico-node did not report the missing secret"
secret calico-01 bgp tor "tor-pw-1"
mark
wait_for 40 "calico-01's ToR session comes up once its password secret exists" \
  'tor_established node1'
echo "  ok: BGPPeer password from the secret file: session up $(since) after the file was written"

# localASNumber 65100 (the ToR expects it), per-node AS 64600 for calico-02.
wait_for 20 "the ToR learns calico-01's block from calico-01" \
  'tor show route all $BLOCK1 protocol node1 | has "BGP.as_path: 65100\$"'
tor show route all "$BLOCK2" protocol node2 | has 'BGP.as_path: 64600$' ||
  fail "the ToR does not see calico-02's block with AS path 64600: $(tor show route all "$BLOCK2")"
echo "  ok: localASNumber (path 65100) and the per-node AS number (path 64600) reach the ToR"
# Communities from prefixAdvertisements.
route=$(tor show route all "$BLOCK1" protocol node1)
echo "$route" | has 'BGP.community: (65000,100)' || fail "no community (65000,100): $route"
echo "$route" | has 'BGP.large_community: (1, 2, 3)' || fail "no large community (1, 2, 3): $route"
echo "  ok: communities and large communities on the pool's routes"
# Export filter: the filtered pool's routes never reach the ToR, from either node.
tor show route all | has "^${FBLOCK%/*}" && fail "the ToR has the filtered pool's block $FBLOCK"
tor show route all | has "10.200." && fail "the ToR has routes in the filtered pool 10.200.0.0/16"
kroutes calico-02 "$FBLOCK" | has 'via 198.18.0.11' || fail "calico-02 lost $FBLOCK (only the ToR export is filtered)"
echo "  ok: BGPFilter export rule: 10.200.0.0/16 absent from the ToR, still on the mesh"
# Import filter on calico-01: Equal and In with prefixLength; calico-02 has no import filter.
wait_for 20 "calico-01 installs the ToR's 198.51.100.0/24" \
  'kroutes calico-01 198.51.100.0/24 | has "via 198.18.0.1 .*proto bird"'
kroutes calico-01 203.0.113.0/24 | has proto && fail "calico-01 imported 203.0.113.0/24 (Equal reject)"
kroutes calico-01 198.51.100.128/25 | has proto && fail "calico-01 imported 198.51.100.128/25 (prefixLength min 25)"
wait_for 20 "calico-02 imports all the ToR's routes" 'kroutes calico-02 203.0.113.0/24 | has "proto bird"'
echo "  ok: BGPFilter import rules (Equal, In with prefixLength) on calico-01 only"
# numAllowedLocalASNumbers: 100.64.0.0/24 carries 65100, calico-01's local AS on that session.
kroutes calico-01 100.64.0.0/24 | has 'via 198.18.0.1' ||
  fail "calico-01 refused 100.64.0.0/24 (path with its own AS) despite numAllowedLocalASNumbers"
echo "  ok: numAllowedLocalASNumbers accepts a path holding the local AS"
# reachableBy: a static route to the peer through the gateway.
kroutes calico-01 198.18.0.1 | has '198.18.0.1 via 198.18.0.1 .*proto bird' ||
  fail "no reachableBy route: $(kroutes calico-01 198.18.0.1)"
# keepaliveTime and the ToR's GTSM (ttlSecurity: the session is up only if both ends use it).
node_birdc calico-01 show protocols all Node_198_18_0_1 | has 'Keepalive timer: .*/7$' ||
  fail "keepalive 7 s not in effect: $(node_birdc calico-01 show protocols all Node_198_18_0_1)"
echo "  ok: reachableBy route, keepaliveTime 7 s, ttlSecurity (GTSM with the ToR)"
# Service ranges: originated by both nodes, never in their kernels.
for cidr in 10.96.0.0/12 10.97.0.0/16 10.98.0.0/16; do
  wait_for 20 "the ToR learns $cidr from both nodes" \
    'tor show route $cidr protocol node1 | has $cidr && tor show route $cidr protocol node2 | has $cidr'
  for h in calico-01 calico-02; do
    kroutes "$h" "$cidr" | has . && fail "$h programmed the service range $cidr: $(kroutes "$h" "$cidr")"
  done
done
echo "  ok: serviceClusterIPs/ExternalIPs/LoadBalancerIPs advertised by both nodes, not programmed"
# ignoredInterfaces: extra0's address is gone from the mesh.
wait_for 20 "calico-02 drops extra0's address (ignoredInterfaces)" \
  '! kroutes calico-02 10.200.250.1 | has proto'
# bindMode NodeIP: BIRD listens on the node's address only.
listen=$(ip netns exec calico-lab-calico-01 ss -Hltn 'sport = :179')
echo "$listen" | has '198.18.0.11:179' || fail "BIRD does not listen on 198.18.0.11:179: $listen"
echo "$listen" | has -E '(0.0.0.0|\*|\[::\]):179' && fail "BIRD still listens on all addresses: $listen"
echo "  ok: ignoredInterfaces, bindMode NodeIP"

echo "phase 2: next hop of calico-01's routes that calico-02 passes to the ToR"
next_hop() { tor show route all "$BLOCK1" protocol node2 | awk '/BGP.next_hop:/ {print $2}'; }
wait_for 20 "nextHopMode Keep: the ToR sees calico-01 (198.18.0.11) as next hop via calico-02" \
  '[ "$(next_hop)" = 198.18.0.11 ]'
peer02() {
  calicoctl_apply <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor-02}
spec: {node: calico-02, peerIP: 198.18.0.1, asNumber: 65000, filters: [tor-export], $1}
YAML
}
peer02 "nextHopMode: Self"
wait_for 40 "nextHopMode Self: calico-02 (198.18.0.12) as next hop" '[ "$(next_hop)" = 198.18.0.12 ]'
peer02 "keepOriginalNextHop: true"
wait_for 40 "keepOriginalNextHop (eBGP): 198.18.0.11 again" '[ "$(next_hop)" = 198.18.0.11 ]'
echo "  ok: nextHopMode Keep, Self and keepOriginalNextHop change the next hop the ToR receives"

echo "phase 3: the mesh password comes from each node's secret"
secret calico-02 bgp mesh "another-pw"
wait_for 20 "calico-02 re-renders with its changed secret" 'has another-pw $STATE/calico-02/bird.conf'
mark
sleep 6
established calico-01 Mesh_198_18_0_12 && fail "the mesh is up with different passwords on each side"
secret calico-02 bgp mesh "mesh-pw-7"
wait_for 40 "the mesh comes back with equal passwords" 'established calico-01 Mesh_198_18_0_12'
echo "  ok: mesh down with different secrets, up again $(since) after they differed"

echo "phase 4: graceful restart within the restart time"
wait_for 20 "calico-02 routes calico-01's block" 'kroutes calico-02 $BLOCK1 | has "via 198.18.0.11"'
old_bird=$(cat "$STATE/calico-01/bird.pid")
kill -9 "$old_bird"
mark
gone=""
restarted=""
back=""
for _ in $(seq 40); do  # 10 s of samples while calico-node restarts BIRD
  kroutes calico-02 "$BLOCK1" | has 'via 198.18.0.11' || gone="calico-02 at $(since)"
  tor show route "$BLOCK1" protocol node1 | has "$BLOCK1" || gone="${gone:+$gone, }the ToR at $(since)"
  [ -n "$gone" ] && fail "calico-01's block was withdrawn while its BIRD restarted: $gone"
  if [ -z "$restarted" ] && node_birdc calico-01 show status >/dev/null 2>&1; then
    restarted=$(since)
  fi
  if [ -z "$back" ] && established calico-01 Mesh_198_18_0_12 && tor_established node1; then
    back=$(since)
  fi
  sleep 0.25
done
new_bird=$(cat "$STATE/calico-01/bird.pid" 2>/dev/null || true)
[ -n "$new_bird" ] && [ "$new_bird" != "$old_bird" ] || fail "calico-node did not restart BIRD"
wait_for 40 "calico-01's sessions are back after the restart" \
  'established calico-01 Mesh_198_18_0_12 && tor_established node1'
echo "  ok: BIRD killed, answering again after ${restarted:-?}, sessions back after ${back:-$(since)};" \
  "its routes stayed on calico-02 (mesh) and the ToR throughout"

echo "phase 5: route reflector by label, reversePeering"
"$LAB" host calico-01 -- calicoctl label nodes calico-01 route-reflector=true >/dev/null
"$LAB" host calico-01 -- calicoctl label nodes calico-01 \
  projectcalico.org/RouteReflectorClusterID=224.0.0.1 >/dev/null
rr_peer() {
  calicoctl_apply <<YAML
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: to-rr}
spec: {nodeSelector: all(), peerSelector: "route-reflector == 'true'", maxRestartTime: 10s, reversePeering: $1}
YAML
}
rr_peer Manual
wait_for 20 "the mesh goes: calico-01 is a route reflector (label)" \
  '! node_birdc calico-02 show protocols | has Mesh_ && ! node_birdc calico-01 show protocols | has Mesh_'
has 'rr cluster id\|route reflector (cluster 224.0.0.1)' "$STATE/calico-01/bird.conf" ||
  fail "calico-01's bird.conf does not make it a route reflector"
wait_for 20 "calico-02 configures its peering with the reflector" \
  'node_birdc calico-02 show protocols | has Node_198_18_0_11'
sleep 6
established calico-02 Node_198_18_0_11 && fail "reversePeering Manual: calico-01 peered back anyway"
node_birdc calico-01 show protocols | has Node_198_18_0_12 && fail "reversePeering Manual: calico-01 has a reverse peering"
rr_peer Auto
mark
wait_for 40 "reversePeering Auto: the reverse peering makes the session" \
  'established calico-02 Node_198_18_0_11'
wait_for 20 "calico-02 routes calico-01's block through the peering" \
  'kroutes calico-02 $BLOCK1 | has "via 198.18.0.11"'
echo "  ok: the label makes a route reflector; Manual gives no reverse peering, Auto does ($(since))"

echo "phase 6: withdrawn after maxRestartTime (calico-01 stops without restarting BIRD)"
kill -9 "$(cut -d' ' -f1 "$STATE/calico-01/node.pid")"
kill -9 "$(cat "$STATE/calico-01/bird.pid")"
mark
sleep 3
kroutes calico-02 "$BLOCK1" | has 'via 198.18.0.11' || fail "calico-02 dropped calico-01's block at once ($(since))"
tor show route "$BLOCK1" protocol node1 | has "$BLOCK1" || fail "the ToR dropped calico-01's block at once"
wait_for 40 "calico-02 withdraws calico-01's block after to-rr's maxRestartTime (10 s)" \
  '! kroutes calico-02 $BLOCK1 | has "via 198.18.0.11"'
t_node=$(since)
tor show route "$BLOCK1" protocol node1 | has "$BLOCK1" ||
  fail "the ToR dropped calico-01's block as early as calico-02 ($t_node), its maxRestartTime is 30 s"
wait_for 60 "the ToR withdraws calico-01's block after tor-01's maxRestartTime (30 s)" \
  '! tor show route $BLOCK1 protocol node1 | has $BLOCK1'
echo "  ok: stale routes kept, then withdrawn: calico-02 after $t_node (10 s), the ToR after $(since) (30 s)"

echo "passwords stay out of logs and diagnostics"
for f in "$STATE"/calico-0*/node.log "$STATE"/calico-0*/bird.log; do
  grep -l -e tor-pw-1 -e mesh-pw-7 -e another-pw "$f" && fail "a password is in $f"
done
# calico-01's bird.conf still holds the ToR password (its calico-node is gone, the file stays).
has tor-pw-1 "$STATE/calico-01/bird.conf" || fail "calico-01's bird.conf has no ToR password to hide"
(cd "$WORK" && calicoctl node diags --run-dir="$STATE/calico-01" --log-dir="$WORK/none" >diags.out 2>&1) ||
  fail "calicoctl node diags failed: $(cat "$WORK/diags.out")"
TARBALL=$(awk '/Diags saved to/ {print $4}' "$WORK/diags.out")
mkdir "$WORK/diags" && tar -xzf "$TARBALL" -C "$WORK/diags"
has 'password "<redacted>"' "$WORK/diags/diagnostics/bird.conf" || fail "diags has no redacted bird.conf"
grep -r -l -e tor-pw-1 -e mesh-pw-7 -e another-pw "$WORK/diags" && fail "a password is in the diags tarball"
[ "$(stat -c %a "$STATE/calico-01/bird.conf")" = 600 ] || fail "bird.conf is readable by others"
echo "  ok: no password in node.log, bird.log or the diags tarball; bird.conf is 0600"
echo "PASS: BGP"
