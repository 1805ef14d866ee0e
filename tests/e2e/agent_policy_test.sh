#!/usr/bin/env bash
# The agent with real packets: workloads wired by the real CNI plugin in a test host namespace,
# calico-node -felix programming nftables and routes there, policies applied with calicoctl, and
# TCP/UDP/ICMP probes between the workloads checking each Calico semantic.
BIN=${1:?usage: agent_policy_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/../runtimes/lib.sh"

declare -A IP
wl() {  # wl NAME NETWORK [v6]: a workload namespace with an echo server on tcp/udp 80, 8080 and 53;
        # with v6 it is dual-stack and IP[NAME] is its IPv6 address
  local name=$1 net=$2 family=${3:-v4} ns=$HOST-$1
  local ipam='{"type":"calico-ipam"}' pattern='"address":"[0-9.]*'
  if [ "$family" = v6 ]; then
    ipam='{"type":"calico-ipam","assign_ipv6":"true"}'
    pattern='"address":"fd00:68::[0-9a-f]*'
  fi
  ip netns add "$ns"
  CLEANUP_STEPS+=("ip netns del $ns")
  ip netns exec "$ns" ip link set lo up
  # WL_ARGS: the netconf's "args" (e.g. pod annotations), {} by default.
  printf '{"cniVersion":"0.4.0","name":"%s","type":"calico","nodename":"node1","datastore_path":"%s","log_file_path":"%s","ipam":%s,"args":%s}' \
    "$net" "$T/db/calico.db" "$T/log/cni/cni.log" "$ipam" "${WL_ARGS:-"{}"}" > "$T/conf-$name"
  local out
  out=$(hx env -i CNI_COMMAND=ADD CNI_CONTAINERID="$name" CNI_NETNS=/var/run/netns/"$ns" CNI_IFNAME=eth0 \
    CNI_PATH="$BIN" CALICO_MTU_FILE="$T/mtu" "$BIN/calico" < "$T/conf-$name") || fail "CNI ADD of $name: $out"
  IP[$name]=$(echo "$out" | grep -o "$pattern" | head -1 | cut -d'"' -f4)
  [ -n "${IP[$name]}" ] || fail "no $family address for $name: $out"
  for spec in "tcp 80" "tcp 8080" "udp 53"; do
    ip netns exec "$ns" "$BIN/calico-probe" serve $spec >/dev/null 2>&1 &
    CLEANUP_STEPS+=("kill $!")
  done
  echo "workload $name in $net: ${IP[$name]}"
}
wl_del() {
  hx env -i CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS=/var/run/netns/"$HOST-$1" CNI_IFNAME=eth0 \
    CNI_PATH="$BIN" "$BIN/calico" < "$T/conf-$1" || fail "CNI DEL of $1"
}

probe() {  # probe FROM PROTO TO PORT   (PROTO icmp: ping)
  local from=$HOST-$1 proto=$2 to=${IP[$3]} port=${4:-}
  if [ "$proto" = icmp ]; then
    ip netns exec "$from" busybox ping -c 1 -W 1 "$to" >/dev/null 2>&1
  else
    ip netns exec "$from" "$BIN/calico-probe" connect "$proto" "$to" "$port" 700
  fi
}
# The agent applies changes asynchronously: an expectation must hold within 10 s.
expect() {  # expect allow|deny FROM PROTO TO [PORT]
  local want=$1; shift
  for _ in $(seq 20); do
    if probe "$@"; then got=allow; else got=deny; fi
    [ "$got" = "$want" ] && { echo "  ok: $* -> $want"; return 0; }
    sleep 0.5
  done
  echo "--- nft ruleset:"; hx nft list table inet calico | head -80; echo "--- agent log:"; tail -20 "$T/agent.log"
  fail "$* should be ${want}ed but is ${got}ed"
}
apply() { "$BIN/calicoctl" apply -f - >/dev/null || fail "calicoctl apply failed"; }

start_agent() {
  mkdir -p "$T/run"
  nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
    CALICO_DATASTORE_PATH="$T/db/calico.db" FELIX_ROUTEREFRESHINTERVAL=2s CALICO_RUN_DIR="$T/run" \
    FELIX_LOGFILEPATH="$T/felix/felix.log" FELIX_LOGSEVERITYFILE=warning CALICO_MTU_FILE="$T/mtu" \
    "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
  AGENT=$!
  CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")
}

# MTU auto-detection: the host's interfaces matching mtuIfacePattern (eth7 here, at 1400; uplink0
# does not match) give the pod MTU (no encapsulation in use: the host MTU), written to the MTU
# file the CNI plugin uses when its netconf has no mtu (these have none; the kernel's is 1500).
hx ip link add eth7 mtu 1400 type veth peer name mtupeer7
hx ip link set eth7 up
hx ip link set mtupeer7 up
start_agent
for _ in $(seq 50); do [ -s "$T/mtu" ] && break; sleep 0.2; done
[ "$(cat "$T/mtu" 2>/dev/null)" = 1400 ] ||
  fail "calico-node's MTU file should say 1400: $(cat "$T/mtu" 2>&1); $(tail -5 "$T/agent.log")"
wl a1 net1
ip netns exec "$HOST-a1" ip -o link show eth0 | grep -q "mtu 1400 " ||
  fail "a1's eth0 should have the detected MTU 1400: $(ip netns exec "$HOST-a1" ip -o link show eth0)"
echo "  ok: MTU detected from eth7 (1400), written to the MTU file, used by the CNI plugin"
wl a2 net1
wl b1 net2
# The plugins log to the netconf's log_file_path (its directory created), at log_level.
grep -q "ADD container=a1 .* network=net1" "$T/log/cni/cni.log" ||
  fail "the CNI log file has no line for the ADD of a1: $(head -5 "$T/log/cni/cni.log" 2>&1)"
echo "  ok: the CNI plugin logs to log_file_path"

echo "profiles: a network reaches itself, not the other network"
expect allow a2 tcp a1 80
expect allow a2 udp a1 53
expect allow a2 icmp a1
expect deny b1 tcp a1 80
expect deny b1 udp a1 53
expect deny b1 icmp a1
expect deny a1 tcp b1 80

echo "a policy overrides the profile: deny tcp/80, allow the rest"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-http}
spec:
  selector: has(net1)
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [80]}}
  - {action: Allow}
YAML
expect deny a2 tcp a1 80
expect allow a2 tcp a1 8080
expect allow a2 udp a1 53
expect allow b1 tcp a1 8080   # the policy's final Allow has no source: net2 may come in now

echo "ICMP and notPorts"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: no-http}
spec:
  selector: has(net1)
  ingress:
  - {action: Deny, protocol: ICMP}
  - {action: Allow, protocol: TCP, source: {selector: has(net1)}, destination: {notPorts: [80]}}
  - {action: Allow, protocol: UDP, source: {selector: has(net1)}}
YAML
expect deny a2 icmp a1
expect deny a2 tcp a1 80
expect allow a2 tcp a1 8080
expect allow a2 udp a1 53
expect deny b1 tcp a1 8080
out=$(hx "$BIN/calicoctl" node counters) || fail "calicoctl node counters: $out"
echo "$out" | grep -E "^[1-9][0-9]* .*no-http" >/dev/null || fail "no counted rule of no-http: $out"
echo "  ok: calicoctl node counters shows the rules of no-http that matched"

echo "tiers: Pass hands over to the next tier; an earlier tier's Allow wins"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100}
YAML
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.gate}
spec:
  tier: security
  selector: has(net1)
  ingress:
  - {action: Pass}
YAML
expect deny a2 tcp a1 80
expect allow a2 tcp a1 8080
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: security.gate}
spec:
  tier: security
  selector: has(net1)
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [80]}}
YAML
expect allow a2 tcp a1 80
expect deny a2 tcp a1 8080   # no rule matched in tier security: end-of-tier deny

echo "egress policy on the sender"
"$BIN/calicoctl" delete globalnetworkpolicy security.gate >/dev/null
"$BIN/calicoctl" delete tier security >/dev/null
"$BIN/calicoctl" delete globalnetworkpolicy no-http >/dev/null
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: a2-egress}
spec:
  selector: projectcalico.org/orchestrator == 'cni' && has(net1)
  types: [Egress]
  egress:
  - {action: Deny, protocol: UDP}
  - {action: Allow}
YAML
expect deny a2 udp a1 53
expect allow a2 tcp a1 80
"$BIN/calicoctl" delete globalnetworkpolicy a2-egress >/dev/null
expect allow a2 udp a1 53
expect allow a2 icmp a1

echo "fault isolation: an HTTP-match policy, a Deny policy and an unrenderable policy"
# Felix without an L7 proxy enforces the L3/L4 part of a rule with an HTTP match; a policy the
# renderer cannot express (destination.services) drops at its place; the rest is programmed.
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: http-get}
spec:
  order: 20
  selector: has(net1)
  ingress:
  - {action: Allow, protocol: TCP, destination: {ports: [80]}, http: {methods: [GET]}}
YAML
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-8080}
spec:
  order: 10
  selector: has(net1)
  ingress:
  - {action: Deny, protocol: TCP, destination: {ports: [8080]}}
YAML
expect deny a2 tcp a1 8080    # the Deny policy on the same endpoint is enforced
expect allow a2 tcp a1 80     # the HTTP rule's L3/L4 part
expect deny a2 udp a1 53      # nothing else: the tier's end-of-tier drop
expect allow b1 tcp a1 80
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: to-dns}
spec:
  selector: has(net2)
  types: [Egress]
  egress:
  - {action: Allow, destination: {services: {name: kube-dns, namespace: kube-system}}}
YAML
expect deny b1 tcp a1 80      # b1's unrenderable egress policy drops
expect deny a2 tcp a1 8080    # and the others stay programmed
expect allow a2 tcp a1 80
[ "$(grep -c 'HTTP match ignored' "$T/agent.log")" = 1 ] ||
  fail "the ignored HTTP match is not logged exactly once: $(grep 'HTTP match' "$T/agent.log")"
grep -q "to-dns cannot be rendered" "$T/agent.log" || fail "the unrenderable policy is not logged"
hx nft list table inet calico | has "to-dns cannot be rendered: drop" ||
  fail "no drop in place of the unrenderable policy"
# calicoctl node status names it after the BGP part (calico-node's agent status file).
status=$("$BIN/calicoctl" node status --run-dir "$T/run" 2>&1)
echo "$status" | grep -E "^\| policy +\| default/to-dns +\| .*destination.services" >/dev/null ||
  fail "calicoctl node status does not name the isolated policy: $status"
echo "$status" | grep -E "^\| policy +\| default/http-get +\| 1 " >/dev/null ||
  fail "calicoctl node status does not name the ignored HTTP match: $status"
echo "  ok: calicoctl node status lists the isolated policy and the ignored HTTP match"
for p in http-get deny-8080 to-dns; do "$BIN/calicoctl" delete globalnetworkpolicy $p >/dev/null; done
expect allow a2 udp a1 53
echo "  ok: HTTP part ignored, Deny enforced, unrenderable policy isolated"

echo "named ports: only the workload's port named http is allowed, and it follows the endpoint"
WEP_A1=node1-cni-a1-eth0   # The CNI plugin's name: <node>-cni-<container id>-<interface>.
"$BIN/calicoctl" patch workloadendpoint "$WEP_A1" -n default \
  -p '{"spec":{"ports":[{"name":"http","protocol":"TCP","port":8080}]}}' >/dev/null ||
  fail "cannot give $WEP_A1 a named port"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: named-http}
spec:
  selector: has(net1)
  ingress:
  - {action: Allow, destination: {ports: [http]}}
YAML
expect allow a2 tcp a1 8080
expect deny a2 tcp a1 80
expect deny a2 udp a1 53
expect allow b1 tcp a1 8080   # no source: any sender may reach the named port
hx nft list table inet calico | has "type ipv4_addr . inet_proto . inet_service" ||
  fail "no named-port set in the ruleset"
hx nft list table inet calico | has "${IP[a1]} . tcp . 8080" || fail "a1's http port is not in its set"
# The port number moves (calicoctl get -o yaml, edit, apply): the allowed port moves with it.
"$BIN/calicoctl" get workloadendpoint "$WEP_A1" -n default -o yaml | sed 's/port: 8080/port: 80/' |
  "$BIN/calicoctl" apply -f - >/dev/null || fail "cannot change the port of $WEP_A1"
expect allow a2 tcp a1 80
expect deny a2 tcp a1 8080
"$BIN/calicoctl" delete globalnetworkpolicy named-http >/dev/null
expect allow a2 tcp a1 8080

echo "an established flow of an unaffected endpoint survives policy updates"
ip netns exec "$HOST-a2" "$BIN/calico-probe" hold "${IP[a1]}" 8080 4 &
HOLD=$!
for i in 1 2 3; do
  apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: only-net2-$i}
spec:
  selector: has(net2)
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [$((9000 + i))]}}, {action: Allow}]
YAML
  sleep 0.5
done
wait $HOLD || fail "the a2 -> a1 connection broke while unrelated policies changed"
for i in 1 2 3; do "$BIN/calicoctl" delete globalnetworkpolicy only-net2-$i >/dev/null; done
echo "  ok: connection held through 3 policy updates"

echo "drift: the agent restores a workload interface's proxy ARP and a removed route"
hx sysctl -qw net.ipv4.conf.calia1.proxy_arp=0
hx ip route del "${IP[a1]}" dev calia1
for _ in $(seq 20); do
  [ "$(hx cat /proc/sys/net/ipv4/conf/calia1/proxy_arp)" = 1 ] && hx ip route show | has "^${IP[a1]} dev calia1" && break
  sleep 0.5
done
[ "$(hx cat /proc/sys/net/ipv4/conf/calia1/proxy_arp)" = 1 ] || fail "proxy_arp on calia1 was not restored"
hx ip route show | has "^${IP[a1]} dev calia1" || fail "the route to a1 was not restored"
expect allow a2 tcp a1 80

echo "IPv6: dual-stack workloads, the same policy semantics"
hx sysctl -qw net.ipv6.conf.all.forwarding=1
"$BIN/calicoctl" apply -f - >/dev/null <<YAML
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: runtime-pool-v6}
spec: {cidr: "fd00:68::/120"}
YAML
wl c1 net1 v6
wl c2 net1 v6
wl d1 net2 v6
expect allow c2 tcp c1 80
expect deny d1 tcp c1 80
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: v6-deny}
spec:
  selector: has(net1)
  ingress: [{action: Deny, protocol: TCP, source: {nets: ["${IP[c2]}/128"]}}, {action: Allow}]
YAML
expect deny c2 tcp c1 80
expect allow d1 tcp c1 80
"$BIN/calicoctl" delete globalnetworkpolicy v6-deny >/dev/null
expect allow c2 tcp c1 80

echo "natOutgoing: traffic leaving the pools is masqueraded once the pool asks for it"
ip netns add "$HOST-outside"
CLEANUP_STEPS+=("ip netns del $HOST-outside")
ip link add out0 netns "$HOST" type veth peer name eth0 netns "$HOST-outside"
hx ip addr add 198.51.100.1/24 dev out0
hx ip link set out0 up
ip netns exec "$HOST-outside" ip addr add 198.51.100.2/24 dev eth0
ip netns exec "$HOST-outside" ip link set eth0 up
ip netns exec "$HOST-outside" ip link set lo up
ip netns exec "$HOST-outside" "$BIN/calico-probe" serve tcp 80 >/dev/null 2>&1 &
CLEANUP_STEPS+=("kill $!")
IP[outside]=198.51.100.2
# The outside knows no route back to the pool: without NAT the reply cannot come back.
expect deny a1 tcp outside 80
"$BIN/calicoctl" patch ippool runtime-pool -p '{"spec":{"natOutgoing":true}}' >/dev/null ||
  fail "cannot turn natOutgoing on"
expect allow a1 tcp outside 80
hx nft list table ip calico-nat | has "masquerade" || fail "no calico-nat table"
echo "  ok: masqueraded as the host"

echo "FelixConfiguration natOutgoingAddress and natPortRange: SNAT to that address and those ports"
# The outside accepts TCP only from 198.51.100.77 (not the host's own 198.51.100.1, which
# masquerade would use) and, once the port range is set, only from source ports 40000-40010.
hx ip addr add 198.51.100.77/32 dev out0
ip netns exec "$HOST-outside" nft -f - <<'NFT'
table ip gate {
  chain input { type filter hook input priority 0; policy accept; tcp dport 80 ip saddr != 198.51.100.77 drop; }
}
NFT
expect deny a1 tcp outside 80   # masqueraded to 198.51.100.1
felix_config() {  # felix_config 'SPEC FIELDS': FelixConfiguration default with that spec
  "$BIN/calicoctl" apply -f - >/dev/null <<YAML || fail "cannot apply FelixConfiguration default: $1"
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {$1}
YAML
}
felix_config "natOutgoingAddress: 198.51.100.77"
expect allow a1 tcp outside 80
hx nft list table ip calico-nat | has "snat to 198.51.100.77 fully-random" || fail "no SNAT rule"
ip netns exec "$HOST-outside" nft add rule ip gate input tcp dport 80 tcp sport != 40000-40010 drop
felix_config "natOutgoingAddress: 198.51.100.77, natPortRange: '40000:40010'"
expect allow a1 tcp outside 80
hx nft list table ip calico-nat | has "snat to 198.51.100.77:40000-40010" || fail "no port range"
echo "  ok: SNAT to natOutgoingAddress within natPortRange"

echo "FelixConfiguration nftablesFilterDenyAction: Reject refuses at once, Drop lets time out"
refused() {  # refused FROM TO PORT: the connection is refused (exit 3), not left unanswered
  # 3 s: an ICMP error that comes back while connect() still holds the socket (all in one kernel
  # here) is only a soft error; the SYN sent again after 1 s gets the hard one.
  local rc=0
  ip netns exec "$HOST-$1" "$BIN/calico-probe" connect tcp "${IP[$2]}" "$3" 3000 || rc=$?
  [ "$rc" = 3 ]
}
if refused b1 a1 80; then fail "b1 -> a1 refused before nftablesFilterDenyAction: Reject"; fi
felix_config "nftablesFilterDenyAction: Reject"
for _ in $(seq 5); do refused b1 a1 80 && break; sleep 0.5; done
refused b1 a1 80 || fail "b1 -> a1 (no profile matched) is not rejected: $(tail -20 "$T/agent.log"; hx nft list table inet calico | grep -n "reject" | head)"
hx nft list table inet calico | has 'reject comment "Reject if no profiles matched"' ||
  fail "no reject rule in the calico table"
expect allow a2 tcp a1 80
felix_config "nftablesFilterDenyAction: Drop"
expect deny b1 tcp a1 80
if refused b1 a1 80; then fail "b1 -> a1 still refused after nftablesFilterDenyAction: Drop"; fi
echo "  ok: Reject refuses, Drop drops"

echo "FelixConfiguration logPrefix, disableConntrackInvalidCheck, allow*PacketsFromWorkloads"
ip netns exec "$HOST-a1" "$BIN/calico-probe" serve udp 4789 >/dev/null 2>&1 &
CLEANUP_STEPS+=("kill $!")
expect deny a2 udp a1 4789   # VXLAN from a workload is dropped by default
felix_config "allowVXLANPacketsFromWorkloads: true, disableConntrackInvalidCheck: true, logPrefix: my-node"
expect allow a2 udp a1 4789
if hx nft list table inet calico | has "ct state invalid"; then fail "conntrack INVALID still dropped"; fi
hx nft list table inet calico | has "IPinIP encapped" || fail "IPIP from workloads no longer dropped"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: log-all}
spec:
  selector: has(net1)
  ingress: [{action: Log}, {action: Pass}]
YAML
for _ in $(seq 20); do hx nft list table inet calico | has 'log prefix "my-node: "' && break; sleep 0.5; done
hx nft list table inet calico | has 'log prefix "my-node: "' || fail "logPrefix not used by Log rules"
"$BIN/calicoctl" delete globalnetworkpolicy log-all >/dev/null
echo "  ok: VXLAN from workloads allowed, no INVALID check, Log rules carry the prefix"

echo "FelixConfiguration deviceRouteSourceAddress and removeExternalRoutes"
felix_config "deviceRouteSourceAddress: 10.99.0.1"
for _ in $(seq 20); do hx ip route show "${IP[a1]}" | has "src 10.99.0.1" && break; sleep 0.5; done
hx ip route show "${IP[a1]}" | has "src 10.99.0.1" ||
  fail "the route to a1 has no source address: $(hx ip route show "${IP[a1]}")"
# A route through a workload interface that the agent did not make goes (removeExternalRoutes is
# true by default) after a grace period of 10 s, at a route refresh (2 s here).
hx ip route add 10.77.0.0/24 dev calia1 proto static
for _ in $(seq 40); do hx ip route show 10.77.0.0/24 | has calia1 || break; sleep 0.5; done
if hx ip route show 10.77.0.0/24 | has calia1; then fail "the foreign route through calia1 stayed"; fi
grep -q "removed route 10.77.0.0/24 through calia1 (removeExternalRoutes)" "$T/agent.log" ||
  fail "the removal is not logged"
felix_config "deviceRouteSourceAddress: 10.99.0.1, removeExternalRoutes: false"
sleep 1
hx ip route add 10.77.0.0/24 dev calia1 proto static
sleep 14   # grace period and several route refreshes: it must stay
hx ip route show 10.77.0.0/24 | has calia1 || fail "removeExternalRoutes: false removed a foreign route"
hx ip route del 10.77.0.0/24 dev calia1
echo "  ok: workload routes carry the source address; external routes removed only when asked"

echo "FelixConfiguration nftablesRefreshInterval apart from routeRefreshInterval"
# The environment's 2 s route refresh stays; the nftables table is checked only hourly: a removed
# rule is not put back, while a removed route is. Then a 1 s nftables refresh repairs the table.
# A first check at 1 s takes the kernel's listing as the baseline (NftablesTable::Matches after
# incremental updates), then hourly checks only.
felix_config "nftablesRefreshInterval: 1s"
sleep 3
felix_config "nftablesRefreshInterval: 1h"
sleep 1
hx nft flush chain inet calico cali-wl-to-host
hx ip route del "${IP[a1]}" dev calia1
for _ in $(seq 20); do hx ip route show | has "^${IP[a1]} dev calia1" && break; sleep 0.5; done
hx ip route show | has "^${IP[a1]} dev calia1" || fail "the route to a1 was not restored"
sleep 3
if hx nft list chain inet calico cali-wl-to-host | has "Configured DefaultEndpointToHostAction"; then
  fail "the nftables table was repaired although nftablesRefreshInterval is 1h"
fi
felix_config "nftablesRefreshInterval: 1s"
for _ in $(seq 20); do
  hx nft list chain inet calico cali-wl-to-host | has "Configured DefaultEndpointToHostAction" && break
  sleep 0.5
done
hx nft list chain inet calico cali-wl-to-host | has "Configured DefaultEndpointToHostAction" ||
  fail "the nftables table was not repaired with nftablesRefreshInterval 1s"
"$BIN/calicoctl" delete felixconfiguration default >/dev/null || fail "cannot delete FelixConfiguration default"
echo "  ok: routes and the nftables table are refreshed each at its own interval"

echo "anti-spoofing: workloads send from their own addresses, or allowedSourcePrefixes with workloadSourceSpoofing: Any"
# What a1 receives from a source, counted in a1's own namespace (replies have no way back).
ip netns exec "$HOST-a1" nft -f - <<'NFT' || fail "cannot add the counting table in a1"
table ip spoofcount {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 10.88.0.5 counter
    ip saddr 10.87.0.5 counter
  }
}
NFT
CLEANUP_STEPS+=("ip netns exec $HOST-a1 nft delete table ip spoofcount")
arrived() {  # arrived SOURCE: how many packets from SOURCE reached a1
  ip netns exec "$HOST-a1" nft list chain ip spoofcount input | grep "saddr $1 " |
    grep -o 'packets [0-9]*' | cut -d' ' -f2
}
spoof() {  # spoof FROM SOURCE: FROM pings a1 three times with the source address SOURCE
  ip netns exec "$HOST-$1" ip addr add "$2/32" dev eth0
  ip netns exec "$HOST-$1" busybox ping -c 3 -W 1 -I "$2" "${IP[a1]}" >/dev/null 2>&1 || true
  ip netns exec "$HOST-$1" ip addr del "$2/32" dev eth0  # Else it may become the source of all.
}
rpf_drops() {
  hx nft list chain inet calico raw-cali-rpf-check | grep -o 'packets [0-9]*' | cut -d' ' -f2
}
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: from-spoofed}
spec:
  selector: has(net1)
  ingress: [{action: Allow, source: {nets: [10.88.0.0/24, 10.87.0.0/24]}}, {action: Pass}]
YAML
sleep 1
before=$(rpf_drops)
spoof a2 10.88.0.5
[ "$(arrived 10.88.0.5)" = 0 ] || fail "a spoofed source from a2 reached a1: $(arrived 10.88.0.5) packets"
[ "$(rpf_drops)" -ge $((before + 3)) ] ||
  fail "the reverse-path check did not count the spoofed packets: $before -> $(rpf_drops)"
expect allow a2 icmp a1
echo "  ok: a workload's packets with a source not its own are dropped before conntrack"
# The annotation without the Felix setting: the endpoint is refused (as Felix's calc validation
# filter treats it as missing): its traffic drops and the agent says why.
WL_ARGS='{"cni":{"annotations":{"cni.projectcalico.org/allowedSourcePrefixes":"[\"10.88.0.0/24\"]"}}}' wl s1 net1
"$BIN/calicoctl" get workloadendpoint -o yaml | has "10.88.0.0/24" ||
  fail "the annotation is not in s1's WorkloadEndpoint: $("$BIN/calicoctl" get workloadendpoint -o yaml)"
expect deny s1 icmp a1
grep -q "source IP spoofing requested but not enabled in Felix configuration" "$T/agent.log" ||
  fail "the refused endpoint is not reported: $(tail -5 "$T/agent.log")"
echo "  ok: allowedSourcePrefixes without workloadSourceSpoofing: Any refuses the endpoint, reported"
felix_config "workloadSourceSpoofing: Any"
expect allow s1 icmp a1
spoof s1 10.88.0.5
[ "$(arrived 10.88.0.5)" -ge 3 ] || fail "s1's allowed source 10.88.0.5 did not reach a1: $(arrived 10.88.0.5)"
spoof s1 10.87.0.5
[ "$(arrived 10.87.0.5)" = 0 ] || fail "s1's source 10.87.0.5 (not allowed) reached a1"
n=$(arrived 10.88.0.5)
spoof a2 10.88.0.5
[ "$(arrived 10.88.0.5)" = "$n" ] || fail "a2 (no allowedSourcePrefixes) sent from 10.88.0.5"
echo "  ok: with workloadSourceSpoofing: Any, s1 sends from its allowed prefix, only s1, only that prefix"
WL_ARGS='{"cni":{"annotations":{"cni.projectcalico.org/allowedSourcePrefixes":"not json"}}}'
printf '{"cniVersion":"0.4.0","name":"net1","type":"calico","nodename":"node1","datastore_path":"%s","ipam":{"type":"calico-ipam"},"args":%s}' \
  "$T/db/calico.db" "$WL_ARGS" > "$T/conf-bad"
ip netns add "$HOST-bad"
CLEANUP_STEPS+=("ip netns del $HOST-bad")
if out=$(hx env -i CNI_COMMAND=ADD CNI_CONTAINERID=bad CNI_NETNS=/var/run/netns/"$HOST-bad" CNI_IFNAME=eth0 \
  CNI_PATH="$BIN" "$BIN/calico" < "$T/conf-bad"); then fail "CNI ADD with a bad annotation succeeded: $out"; fi
echo "$out" | has "failed to parse 'not json' as JSON" || fail "the CNI error does not name the problem: $out"
"$BIN/calicoctl" get workloadendpoint | has -- "-bad-" && fail "a WorkloadEndpoint was left for the bad ADD"
echo "  ok: a bad allowedSourcePrefixes annotation fails the ADD, naming it, leaving nothing"
unset WL_ARGS
wl_del s1
"$BIN/calicoctl" delete globalnetworkpolicy from-spoofed >/dev/null
"$BIN/calicoctl" delete felixconfiguration default >/dev/null || fail "cannot delete FelixConfiguration default"

echo "FelixConfiguration ipv6Support: false: calico-node neither polices nor routes IPv6"
expect deny d1 tcp c1 80   # net2 -> net1 over IPv6: the profile drops it
felix_config "ipv6Support: false"
expect allow d1 tcp c1 80  # as Felix without its IPv6 tables: not policed
expect deny b1 tcp a1 80   # IPv4 still is
hx nft list chain inet calico cali-FORWARD | has 'meta nfproto ipv6 accept' ||
  fail "cali-FORWARD does not let IPv6 through: $(hx nft list chain inet calico cali-FORWARD)"
# Routes: a removed IPv4 workload route comes back at the next refresh (2 s), an IPv6 one not.
hx ip -6 route del "${IP[c1]}" dev calic1
hx ip route del "${IP[a2]}" dev calia2
for _ in $(seq 20); do hx ip route show | has "^${IP[a2]} dev calia2" && break; sleep 0.5; done
hx ip route show | has "^${IP[a2]} dev calia2" || fail "the IPv4 route to a2 was not restored"
sleep 3
if hx ip -6 route show | has "^${IP[c1]} dev calic1"; then
  fail "calico-node programmed an IPv6 route with ipv6Support: false"
fi
"$BIN/calicoctl" delete felixconfiguration default >/dev/null || fail "cannot delete FelixConfiguration default"
for _ in $(seq 20); do hx ip -6 route show | has "^${IP[c1]} dev calic1" && break; sleep 0.5; done
hx ip -6 route show | has "^${IP[c1]} dev calic1" || fail "the IPv6 route to c1 was not restored"
expect deny d1 tcp c1 80
echo "  ok: IPv6 unpoliced and its routes left alone with ipv6Support: false; both back without it"

echo "restart: the dataplane stays while the agent is down and after it is back"
kill "$AGENT"; wait "$AGENT" 2>/dev/null || true
expect allow a2 tcp a1 80
expect deny b1 tcp a1 80
start_agent
expect allow a2 tcp a1 80
expect deny b1 tcp a1 80

echo "a deleted workload's chains and routes go"
wl_del a2
for _ in $(seq 20); do hx nft list table inet calico | has "calia2" || break; sleep 0.5; done
if hx nft list table inet calico | has "calia2"; then fail "chains of a2 left after DEL"; fi
expect allow a1 icmp a1 || true
grep -q "in sync at revision" "$T/agent.log" || fail "the agent never reported being in sync"
# logFilePath at logSeverityFile (warning): the warnings, not the info lines.
grep -q "removeExternalRoutes\|cannot\|drifted" "$T/felix/felix.log" ||
  fail "no warning in the log file: $(head -5 "$T/felix/felix.log" 2>&1)"
if grep -q "in sync at revision" "$T/felix/felix.log"; then fail "info lines in a warning-level log file"; fi
echo "PASS: agent policy"
