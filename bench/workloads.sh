# Two workloads on one host and N policies on the receiver: the setup the per-packet and
# connect-rate rows share (sourced; BIN and OUT set by the caller). A "host" namespace
# (tests/runtimes/lib.sh, cleaned up by its trap), workloads `server` (SERVER_IP) and `client`
# wired by the calico CNI plugin on the local store, and helpers to start the agent in the host
# namespace and load policies.
source "$(dirname "${BASH_SOURCE[0]}")/../tests/runtimes/lib.sh"
record() { "$BIN/calico-bench" record --out "$OUT" "$@"; }
wl() {  # wl NAME: a workload namespace wired by the CNI plugin; its address in WL_IP
  local name=$1 ns=$HOST-$1
  ip netns add "$ns"; CLEANUP_STEPS+=("ip netns del $ns")
  ip netns exec "$ns" ip link set lo up
  printf '{"cniVersion":"0.4.0","name":"bench","type":"calico","nodename":"node1","datastore_path":"%s","ipam":{"type":"calico-ipam"}}' \
    "$T/db/calico.db" > "$T/conf-$name"
  WL_IP=$(hx env -i CNI_COMMAND=ADD CNI_CONTAINERID="$name" CNI_NETNS=/var/run/netns/"$ns" CNI_IFNAME=eth0 \
    CNI_PATH="$BIN" "$BIN/calico" < "$T/conf-$name" | grep -o '"address":"[0-9.]*' | cut -d'"' -f4)
}
# Not in $(...): the cleanup steps wl registers must reach this shell.
wl server; SERVER_IP=$WL_IP
wl client
AGENT=
start_agent() {  # start_agent [NAME=VALUE...]: extra environment for calico-node
  nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
    CALICO_DATASTORE_PATH="$T/db/calico.db" FELIX_HEALTHENABLED=false "$@" "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
  AGENT=$!
  CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")
}
stop_agent() {  # the agent stopped and its table gone: the path with no policy engine
  kill "$AGENT"; wait "$AGENT" 2>/dev/null || true
  hx nft delete table inet calico 2>/dev/null || true
}
policies() {  # policies N: N policies on the server's network, none of them matching the client
  # In files of at most 5000 documents (calicoctl's decoder takes at most 10000 per input).
  local i
  for i in $(seq 1 "$1"); do
    printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p%05d}\nspec:\n  order: %d\n  selector: has(bench)\n  ingress:\n  - {action: Deny, protocol: TCP, source: {nets: [203.0.113.%d/32]}, destination: {ports: [%d]}}\n' \
      "$i" "$i" $((i % 250 + 1)) $((1000 + i % 5000)) >> "$T/policies-$(( (i - 1) / 5000 )).yaml"
  done
  for f in "$T"/policies-*.yaml; do "$BIN/calicoctl" apply -f "$f" >/dev/null; rm -f "$f"; done
  printf -- 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: zz-allow}\nspec:\n  order: 999999\n  selector: has(bench)\n  ingress: [{action: Allow}]\n  egress: [{action: Allow}]\n' > "$T/zz-allow.yaml"
  "$BIN/calicoctl" apply -f "$T/zz-allow.yaml" >/dev/null
}
wait_programmed() {  # wait_programmed N [logs]: until the table has at least N policy chains,
  # zz-allow's among them (and flow-log statements with `logs`; nft lists one as
  # `log prefix "..." group N`)
  local table
  for _ in $(seq 600); do
    table=$(hx nft list table inet calico 2>/dev/null || true)
    if [ "$(grep -c 'chain cali-pi-' <<<"$table")" -ge "$1" ] && grep -q 'chain cali-pi-.*zz-allow' <<<"$table" &&
      { [ "${2:-}" != logs ] || grep -Eq 'log (prefix "[^"]*" )?group' <<<"$table"; }; then
      return 0
    fi
    sleep 0.2
  done
  fail "the agent did not program $1 policies ${2:-}"
}
