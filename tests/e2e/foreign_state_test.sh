#!/usr/bin/env bash
# The agent changes nothing outside its own nftables tables (inet calico, ip/ip6 calico-nat) and
# its own routes (proto 80): foreign tables (filter, nat, a table named calico in another family,
# a table named like ours), their chains, sets and rules, foreign routes (also inside the IP pool,
# a blackhole, another routing table, proto static and boot) and foreign interfaces and addresses
# exist in the host namespace before calico-node starts, and are byte for byte the same after
# its first sync (with workloads and a policy), after periodic resyncs, after natOutgoing, and
# after it stops.
BIN=${1:?usage: foreign_state_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/../runtimes/lib.sh"

hx nft -f - <<'NFT'
table inet filter {
  set admins { type ipv4_addr; elements = { 10.99.0.5, 10.99.0.6 } }
  chain input { type filter hook input priority 0; policy accept; ip saddr @admins tcp dport 22 accept; }
  chain forward { type filter hook forward priority 0; policy accept; counter; }
  chain side { udp dport 5353 drop; }
}
table ip nat {
  chain postrouting { type nat hook postrouting priority 100; oifname "uplink0" ip saddr 10.123.0.0/16 masquerade; }
}
table ip calico {
  chain foreign { ip daddr 10.68.0.200 counter; }
}
table inet calico-extra {
  chain input { type filter hook input priority 10; policy accept; }
}
table ip6 foreign6 {
  chain output { type filter hook output priority 0; policy accept; icmpv6 type echo-request counter; }
}
NFT
hx ip route add 10.123.0.0/24 via 10.99.0.254 dev uplink0 onlink
hx ip route add blackhole 10.124.0.0/24
hx ip route add 10.68.0.200/32 dev uplink0 proto static       # inside the Calico pool
hx ip route add 10.125.0.0/24 dev uplink0 proto boot table 100
hx ip rule add from 10.125.0.0/24 table 100 priority 1000
hx ip link add foreign0 type veth peer name foreign1
hx ip addr add 192.0.2.1/24 dev foreign0
hx ip link set foreign0 up
hx ip -6 route add fd00:123::/64 dev foreign0

# Everything but the agent's own: its tables, its routes (proto 80) and its cali* interfaces.
snapshot() {
  {
    hx nft list ruleset | awk '
      /^table / { skip = ($0 ~ /^table inet calico \{/ || $0 ~ /^table (ip|ip6) calico-nat \{/) }
      !skip { print }
      /^\}/ { skip = 0 }' | sed 's/ counter packets [0-9]* bytes [0-9]*/ counter/'
    hx ip -4 route show table all | grep -v ' proto 80' | grep -v ' dev cali'
    hx ip -6 route show table all | grep -v ' proto 80' | grep -v ' dev cali' | grep -v '^multicast\|^local fe80\|^fe80'
    hx ip rule show
    hx ip -o addr show | grep -v ' cali' | sed 's/ tentative//'
    hx ip -o link show | grep -v ': cali' | sed 's/ qlen [0-9]*//'
  } >"$1"
}
snapshot "$T/before"
grep -q "table inet filter" "$T/before" || fail "the foreign state was not set up: $(head "$T/before")"

nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
  CALICO_DATASTORE_PATH="$T/db/calico.db" FELIX_ROUTEREFRESHINTERVAL=1s CALICO_NETWORKING_BACKEND=none \
  "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
AGENT=$!
CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")
for _ in $(seq 100); do grep -q "in sync at revision" "$T/agent.log" && break; sleep 0.1; done
grep -q "in sync at revision" "$T/agent.log" || fail "the agent never got in sync: $(tail -5 "$T/agent.log")"

# Workloads, a policy and natOutgoing: the agent programs its tables and routes.
for w in w1 w2; do
  ip netns add "$HOST-$w"
  CLEANUP_STEPS+=("ip netns del $HOST-$w")
  out=$(printf '{"cniVersion":"0.4.0","name":"net1","type":"calico","nodename":"node1","datastore_path":"%s","ipam_lock_file":"%s/ipam.lock","ipam":{"type":"calico-ipam"}}' \
    "$T/db/calico.db" "$T" |
    hx env -i CNI_COMMAND=ADD CNI_CONTAINERID="$w" CNI_NETNS=/run/netns/"$HOST-$w" CNI_IFNAME=eth0 \
      CNI_PATH="$BIN" "$BIN/calico") || fail "CNI ADD $w: $out"
done
"$BIN/calicoctl" apply -f - >/dev/null <<YAML || fail "apply policy"
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: deny-9000}
spec:
  selector: all()
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [9000]}}, {action: Pass}]
YAML
"$BIN/calicoctl" patch ippool runtime-pool -p '{"spec":{"natOutgoing":true}}' >/dev/null || fail "natOutgoing"
for _ in $(seq 100); do
  hx nft list table inet calico 2>/dev/null | has deny-9000 && hx nft list table ip calico-nat >/dev/null 2>&1 && break
  sleep 0.1
done
hx nft list table inet calico | has deny-9000 || fail "the agent did not program the policy"
hx ip route show | has "dev caliw1" || fail "no workload routes: $(hx ip route show; tail -5 "$T/agent.log")"
snapshot "$T/synced"
diff "$T/before" "$T/synced" || fail "the first sync changed foreign state (diff above)"
echo "  ok: after the first sync (2 workloads, a policy, natOutgoing) the foreign state is unchanged"

# Periodic resyncs (1 s here): the agent rereads the kernel and repairs only its own drift.
hx nft add rule inet calico-extra input counter   # foreign change made meanwhile: must stay
snapshot "$T/before"
sleep 4
snapshot "$T/resynced"
diff "$T/before" "$T/resynced" || fail "a resync changed foreign state (diff above)"
echo "  ok: after periodic resyncs the foreign state (including a rule added meanwhile) is unchanged"

kill "$AGENT"
wait "$AGENT" 2>/dev/null || true
snapshot "$T/stopped"
diff "$T/before" "$T/stopped" || fail "stopping the agent changed foreign state (diff above)"
echo "  ok: after the agent stopped the foreign state is unchanged"
echo "FIGURES: security=foreign-state foreign_tables=5 foreign_routes=5 changes_after_sync=0 changes_after_resync=0 changes_after_stop=0"
echo "PASS: the agent leaves foreign nftables and routes alone"
