#!/usr/bin/env bash
# Host endpoint policy with real packets: calico-node -felix in a test "host" namespace whose
# interface hep0 faces a "client" namespace; a HostEndpoint on hep0 applied with calicoctl must
# cut the client off except for the failsafe ports, a GlobalNetworkPolicy selecting the endpoint's
# labels must open what it allows (a namespaced NetworkPolicy must not), and deleting the
# endpoint must restore everything.
BIN=${1:?usage: host_endpoint_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/../runtimes/lib.sh"

CLIENT=$HOST-client
ip netns add "$CLIENT"
CLEANUP_STEPS+=("ip netns del $CLIENT")
ip link add hep0 netns "$HOST" type veth peer name eth0 netns "$CLIENT"
hx ip addr add 10.70.0.1/24 dev hep0
hx ip link set hep0 up
ip netns exec "$CLIENT" ip addr add 10.70.0.2/24 dev eth0
ip netns exec "$CLIENT" ip link set eth0 up
ip netns exec "$CLIENT" ip link set lo up
for port in 22 8080; do  # 22 is a default inbound failsafe port, 8080 is not
  # Not through the hx function: $! must be the server itself (ip netns exec execs it).
  ip netns exec "$HOST" "$BIN/calico-probe" serve tcp $port >/dev/null 2>&1 &
  CLEANUP_STEPS+=("kill $!")
done

probe() {  # probe PORT: a TCP echo from the client to the host's hep0 address
  ip netns exec "$CLIENT" "$BIN/calico-probe" connect tcp 10.70.0.1 "$1" 700
}
# The agent applies changes asynchronously: an expectation must hold within 10 s.
expect() {  # expect allow|deny PORT
  local want=$1 port=$2 got
  for _ in $(seq 20); do
    if probe "$port"; then got=allow; else got=deny; fi
    [ "$got" = "$want" ] && { echo "  ok: client -> host tcp $port -> $want"; return 0; }
    sleep 0.5
  done
  echo "--- nft ruleset:"; hx nft list table inet calico | head -120; echo "--- agent log:"; tail -20 "$T/agent.log"
  fail "client -> host tcp $port should be ${want}ed but is ${got}ed"
}
apply() { "$BIN/calicoctl" apply -f - >/dev/null || fail "calicoctl apply failed"; }

nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
  CALICO_DATASTORE_PATH="$T/db/calico.db" FELIX_ROUTEREFRESHINTERVAL=2s \
  "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
AGENT=$!
CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")
for _ in $(seq 20); do grep -q "in sync at revision" "$T/agent.log" && break; sleep 0.5; done
grep -q "in sync at revision" "$T/agent.log" || fail "the agent never reported being in sync"

echo "no host endpoint: host traffic is not policed"
expect allow 22
expect allow 8080
if hx nft list table inet calico | has "host-endpoint"; then fail "host endpoint chains without a host endpoint"; fi

echo "a host endpoint on hep0 without policy: only failsafe ports get through"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-hep0, labels: {role: web}}
spec: {node: node1, interfaceName: hep0, expectedIPs: [10.70.0.1]}
YAML
expect deny 8080
expect allow 22
hx nft list chain inet calico cali-fh-hep0 | has "jump cali-failsafe-in" || fail "no cali-fh-hep0 chain"

echo "a namespaced NetworkPolicy never selects a host endpoint"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: allow-all, namespace: default}
spec:
  selector: all()
  ingress: [{action: Allow}]
YAML
sleep 1
expect deny 8080

echo "a GlobalNetworkPolicy selecting role == 'web' opens tcp 8080"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: web-ingress}
spec:
  selector: role == 'web'
  ingress: [{action: Allow, protocol: TCP, destination: {ports: [8080]}}]
YAML
expect allow 8080
expect allow 22

echo "the policy no longer selects the endpoint: closed again"
apply <<YAML
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-hep0, labels: {role: db}}
spec: {node: node1, interfaceName: hep0}
YAML
expect deny 8080

echo "deleting the host endpoint restores everything"
"$BIN/calicoctl" delete hostendpoint node1-hep0 >/dev/null || fail "cannot delete the host endpoint"
expect allow 8080
expect allow 22
for _ in $(seq 20); do hx nft list table inet calico | has "host-endpoint" || break; sleep 0.5; done
if hx nft list table inet calico | has "host-endpoint"; then fail "host endpoint chains left after delete"; fi
# Every change above went in as an incremental nftables transaction (no full-table fallback).
if grep -E "cannot render|incremental nftables update failed" "$T/agent.log"; then
  fail "the agent could not render or apply a change incrementally"
fi
echo "PASS: host endpoints"
