#!/usr/bin/env bash
# `calicoctl delete node` cascades as libcalico-go/lib/clientv3/node.go nodes.Delete does, with
# real workloads' records: two Nodes share one "host" namespace, the calico CNI plugin networks
# real containers (network namespaces this test creates) for each, then node1 is deleted. Nothing
# of node1 may be left in the datastore (its WorkloadEndpoints, addresses and their handles, block
# affinities, BGPPeer, node.node1 FelixConfiguration and BGPConfiguration, HostEndpoint), checked
# on the whole datastore export; node2's workload keeps its endpoint and address.
BIN=${1:?usage: ctl_delete_node_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/../runtimes/lib.sh"   # $T, the $HOST namespace, a store with one pool
export PATH="$BIN:$PATH"
ctl() { "$BIN/calicoctl" "$@"; }

ctl create -f - >/dev/null <<'EOF'
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node1}
spec: {bgp: {ipv4Address: 10.99.0.1/32}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: node2}
spec: {bgp: {ipv4Address: 10.99.0.2/32}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: node1-tor}
spec: {node: node1, peerIP: 10.99.0.254, asNumber: 64512}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: node.node1}
spec: {logSeverityScreen: Debug}
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: node.node1}
spec: {logSeverityScreen: Debug}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-uplink}
spec: {node: node1, interfaceName: uplink0}
EOF

# cni NODE CONTAINER COMMAND: runs the calico plugin for a container of NODE.
cni() {
  local conf
  conf=$(printf '{"cniVersion":"0.4.0","name":"net1","type":"calico","nodename":"%s","datastore_path":"%s","ipam_lock_file":"%s/ipam.lock","ipam":{"type":"calico-ipam"}}' \
    "$1" "$T/db/calico.db" "$T")
  echo "$conf" | hx env -i CNI_COMMAND="$3" CNI_CONTAINERID="$2" CNI_NETNS=/run/netns/"$HOST-$2" \
    CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/calico"
}
declare -A IP
for spec in node1:a1 node1:a2 node2:b1; do
  node=${spec%%:*} c=${spec#*:}
  ip netns add "$HOST-$c"
  CLEANUP_STEPS+=("ip netns del $HOST-$c")
  out=$(cni "$node" "$c" ADD) || fail "CNI ADD of $c on $node: $out"
  CLEANUP_STEPS+=("cni $node $c DEL >/dev/null 2>&1")
  IP[$c]=$(echo "$out" | sed -n 's/.*"address": *"\([0-9.]*\)\/.*/\1/p' | sed -n 1p)
  [ -n "${IP[$c]}" ] || fail "no address in the CNI result for $c: $out"
  echo "  ok: $c on $node has ${IP[$c]}"
done
[ "$(ctl get workloadendpoints -A -o yaml | grep -c 'node: node1')" = 2 ] || fail "expected 2 endpoints of node1"

# dump: everything in the datastore (resources and IPAM keys).
dump() {
  ctl datastore migrate lock >/dev/null || fail "lock"
  ctl datastore migrate export || fail "export"
  ctl datastore migrate unlock >/dev/null || fail "unlock"
}
dump >"$T/before.yaml"
has node1 "$T/before.yaml" || fail "node1 is not in the datastore before the delete"

out=$(ctl delete node node1) || fail "delete node node1: $out"
[ "$out" = "Successfully deleted 1 'Node' resource(s)" ] || fail "unexpected output: $out"

dump >"$T/after.yaml"
if has node1 "$T/after.yaml"; then
  fail "records of node1 are left: $(grep -n node1 "$T/after.yaml")"
fi
echo "  ok: nothing in the datastore names node1 ($(grep -c node1 "$T/before.yaml") lines before)"
for c in a1 a2; do
  ctl ipam show --ip="${IP[$c]}" | has "is not assigned" || fail "${IP[$c]} of $c is still allocated"
  if has "k8s-pod-network\.$c\b\|net1\.$c\b" "$T/after.yaml"; then fail "the handle of $c is left"; fi
done
ctl ipam show --ip="${IP[b1]}" | has "is in use" || fail "node2's ${IP[b1]} was released"
[ "$(ctl get workloadendpoints -A -o yaml | grep -c 'node: node2')" = 1 ] || fail "node2's endpoint is gone"
ctl get node node2 >/dev/null || fail "node2 was deleted"
check=$(ctl ipam check) || fail "ipam check: $check"
echo "$check" | has "Found 0 IPs that are allocated in IPAM but not actually in use." ||
  fail "ipam check finds leaks: $check"
# Deleting it again: the clean-up finds nothing, the Node does not exist.
out=$(ctl delete node node1 2>&1) && fail "a second delete succeeded: $out"
echo "$out" | has "resource does not exist: Node(node1)" || fail "unexpected error: $out"
echo "FIGURES: ctl_delete_node workloads_deleted=2 kept=1 records_named_node1_after=0"
echo "PASS: calicoctl delete node removes everything of the node and nothing else"
