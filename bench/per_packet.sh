#!/usr/bin/env bash
# The per-packet row: iperf3 TCP throughput and ping RTT between two workloads on one host with
# 0 / 100 / 1000 (/ 10000) policies applying to the receiver, against the same path with no
# policy engine (the agent stopped, no calico table) and against a flat linear rule list of the
# same size (the classic iptables-style layout, every packet walks every rule).
# Usage: bench/per_packet.sh BIN OUT [COUNTS] [SECONDS]     COUNTS like "0 100 1000"
BIN=${1:?usage: per_packet.sh BIN OUT [COUNTS] [SECONDS]}
OUT=${2:?}
COUNTS=${3:-0 100 1000}
SECS=${4:-5}
source "$(dirname "$0")/../tests/runtimes/lib.sh"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
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
ip netns exec "$HOST-server" iperf3 -s -p 5201 -D
CLEANUP_STEPS+=("kill \$(ip netns pids $HOST-server) 2>/dev/null")
gbps() { ip netns exec "$HOST-client" iperf3 -c "$SERVER_IP" -p 5201 -t "$SECS" -J 2>/dev/null |
  grep -o '"bits_per_second":[[:space:]]*[0-9.e+]*' | tail -1 | awk -F: '{printf "%.3f", $2/1e9}'; }
rtt_ms() { ip netns exec "$HOST-client" busybox ping -c 10 -i 0.1 "$SERVER_IP" 2>/dev/null |
  sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
start_agent() {
  nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
    CALICO_DATASTORE_PATH="$T/db/calico.db" FELIX_HEALTHENABLED=false "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
  AGENT=$!
  CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")
}
policies() {  # policies N: N policies on the server's network, none of them matching the client
  : > "$T/policies.yaml"
  for i in $(seq 1 "$1"); do
    printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p%05d}\nspec:\n  order: %d\n  selector: has(bench)\n  ingress:\n  - {action: Deny, protocol: TCP, source: {nets: [203.0.113.%d/32]}, destination: {ports: [%d]}}\n' \
      "$i" "$i" $((i % 250 + 1)) $((1000 + i % 5000)) >> "$T/policies.yaml"
  done
  printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: zz-allow}\nspec:\n  order: 999999\n  selector: has(bench)\n  ingress: [{action: Allow}]\n  egress: [{action: Allow}]\n' >> "$T/policies.yaml"
  "$BIN/calicoctl" apply -f "$T/policies.yaml" >/dev/null
}
wait_programmed() {  # until the table has at least N policy chains
  for _ in $(seq 600); do
    [ "$(hx nft list table inet calico 2>/dev/null | grep -c 'chain cali-pi-')" -ge "$1" ] && return 0
    sleep 0.2
  done
  fail "the agent did not program $1 policies"
}

# Baseline: no policy engine at all.
base=$(gbps); base_rtt=$(rtt_ms)
echo "no policy engine: ${base} Gbit/s, rtt ${base_rtt} ms"
start_agent
for n in $COUNTS; do
  "$BIN/calicoctl" delete globalnetworkpolicy zz-allow >/dev/null 2>&1 || true
  if [ "$n" -gt 0 ]; then policies "$n"; wait_programmed "$n"; else sleep 2; fi
  ours=$(gbps); rtt=$(rtt_ms)
  record --row per-packet --metric "gbps_${n}_policies" --ours "$ours" --peer "$base" --unit Gbit/s --samples 1 \
    --params "{\"policies\":$n,\"seconds\":$SECS,\"peer\":\"same path, no policy engine\"}"
  record --row per-packet --metric "rtt_ms_${n}_policies" --ours "${rtt:-0}" --peer "${base_rtt:-0}" --unit ms --samples 10 \
    --params "{\"policies\":$n,\"peer\":\"same path, no policy engine\"}"
  echo "$n policies: ${ours} Gbit/s, rtt ${rtt} ms"
done
kill "$AGENT"; wait "$AGENT" 2>/dev/null
hx nft delete table inet calico 2>/dev/null || true
# The linear baseline: every packet walks N rules before the accept (no established fast path).
for n in $COUNTS; do
  [ "$n" -gt 0 ] || continue
  {
    echo "table inet linear {"
    echo "  chain forward {"
    echo "    type filter hook forward priority 0; policy accept;"
    for i in $(seq 1 "$n"); do echo "    ip saddr 203.0.113.$((i % 250 + 1)) tcp dport $((1000 + i % 5000)) drop"; done
    echo "  }"
    echo "}"
  } > "$T/linear.nft"
  hx nft -f "$T/linear.nft"
  lin=$(gbps)
  hx nft delete table inet linear
  record --row per-packet --metric "linear_gbps_${n}_rules" --ours "$lin" --peer "$base" --unit Gbit/s --samples 1 \
    --params "{\"rules\":$n,\"seconds\":$SECS,\"peer\":\"same path, no policy engine\",\"what\":\"flat linear rule list\"}"
  echo "linear list of $n rules: ${lin} Gbit/s"
done
echo "per-packet: done"
