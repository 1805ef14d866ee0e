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
source "$(dirname "$0")/workloads.sh"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
ip netns exec "$HOST-server" iperf3 -s -p 5201 -D
CLEANUP_STEPS+=("kill \$(ip netns pids $HOST-server) 2>/dev/null")
gbps() { ip netns exec "$HOST-client" iperf3 -c "$SERVER_IP" -p 5201 -t "$SECS" -J 2>/dev/null |
  grep -o '"bits_per_second":[[:space:]]*[0-9.e+]*' | tail -1 | awk -F: '{printf "%.3f", $2/1e9}'; }
rtt_ms() { ip netns exec "$HOST-client" busybox ping -c 10 -i 0.1 "$SERVER_IP" 2>/dev/null |
  sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p'; }
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
stop_agent
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
