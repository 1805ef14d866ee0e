#!/usr/bin/env bash
# The connect-rate row: what policy costs per new connection. Established flows skip the policy
# chains (the per-packet row), so this row makes every packet exchange a new connection: TCP
# connect, a 64-byte request, a 128-byte response, close (netperf TCP_CRR style; `calico-bench
# connect-rate --request`, one connection at a time) from the client workload to the server
# workload with 0 / 100 / 1000 / 10000 policies applying to the receiver (bench/workloads.sh, the
# per-packet row's setup), against the same path with no policy engine (the agent stopped, no
# calico table), measured before and after the agent's runs (the peer is their mean). At 1000
# policies the agent is also run with CALICO_POLICY_MERGE_MIN=0 (Felix's one jump per policy
# instead of the merged lookup of src/calico/policy/policy_merge.h): crr_per_s_1000_policies_felix_layout.
# Usage: bench/connect_rate.sh BIN OUT [COUNTS] [SECONDS]     COUNTS like "0 100 1000"
BIN=${1:?usage: connect_rate.sh BIN OUT [COUNTS] [SECONDS]}
OUT=${2:?}
COUNTS=${3:-0 100 1000 10000}
SECS=${4:-5}
source "$(dirname "$0")/workloads.sh"
crr() { "$BIN/calico-bench" connect-rate /var/run/netns/"$HOST-server" /var/run/netns/"$HOST-client" \
  "$SERVER_IP" 5301 "$SECS" --request; }

before=$(crr)
echo "no policy engine: ${before} connections/s"
start_agent
declare -A ours
for n in $COUNTS; do
  "$BIN/calicoctl" delete globalnetworkpolicy zz-allow >/dev/null 2>&1 || true
  if [ "$n" -gt 0 ]; then policies "$n"; wait_programmed "$n"; else sleep 2; fi
  ours[$n]=$(crr)
  echo "$n policies: ${ours[$n]} connections/s"
  if [ "$n" = 1000 ]; then
    # The same 1000 policies in Felix's layout (one jump per policy: CALICO_POLICY_MERGE_MIN=0,
    # src/calico/policy/policy_merge.h), in the same run: what the merged lookup saves.
    stop_agent
    start_agent CALICO_POLICY_MERGE_MIN=0
    wait_programmed "$n"
    felix_layout=$(crr)
    echo "$n policies, Felix's layout (no merged lookups): ${felix_layout} connections/s"
    stop_agent
    start_agent
    wait_programmed "$n"
  fi
done
stop_agent
after=$(crr)
echo "no policy engine (after): ${after} connections/s"
base=$(awk -v a="$before" -v b="$after" 'BEGIN {printf "%.1f", (a + b) / 2}')
for n in $COUNTS; do
  record --row connect-rate --metric "crr_per_s_${n}_policies" --ours "${ours[$n]}" --peer "$base" \
    --unit conn/s --samples 1 \
    --params "{\"policies\":$n,\"seconds\":$SECS,\"peer\":\"same path, no policy engine\",\"target\":\">= 0.9 at 1000 policies\"}" \
    --details "{\"peer_before\":$before,\"peer_after\":$after}"
done
if [ -n "${felix_layout:-}" ]; then
  record --row connect-rate --metric crr_per_s_1000_policies_felix_layout --ours "$felix_layout" \
    --peer "$base" --unit conn/s --samples 1 \
    --params "{\"felix_layout_policies\":1000,\"seconds\":$SECS,\"peer\":\"same path, no policy engine\",\"layout\":\"one jump per policy (CALICO_POLICY_MERGE_MIN=0)\"}"
fi
echo "connect-rate: done"
