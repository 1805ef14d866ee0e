#!/usr/bin/env bash
# Where a new connection's CPU goes (bench/README.md, connect-rate): `perf record -a` for 4 s
# while the connect-rate workload runs (bench/workloads.sh: two workloads, the receiver's
# policies) with no policy engine, 1000 policies merged, the same 1000 in Felix's layout
# (CALICO_POLICY_MERGE_MIN=0) and 10000 merged; prints the connections/s and, per setup, the
# nftables symbols' share of calico-bench's samples (the process whose softirqs forward).
# Not a row (no peer); needs perf (linux-perf). Usage: bench/connect_rate_profile.sh BIN [OUTDIR]
BIN=${1:?usage: connect_rate_profile.sh BIN [OUTDIR]}
DIR=${2:-build/bench/profile}
OUT=$DIR/results.json
SECS=5
mkdir -p "$DIR"
command -v perf >/dev/null || { echo "connect_rate_profile: needs perf" >&2; exit 77; }
source "$(dirname "$0")/workloads.sh"
crr() { "$BIN/calico-bench" connect-rate /var/run/netns/"$HOST-server" /var/run/netns/"$HOST-client" \
  "$SERVER_IP" 5301 "$SECS" --request; }
prof() {  # prof NAME
  perf record -a -F 1999 -o "$DIR/perf-$1.data" -- sleep 4 >/dev/null 2>&1 &
  local p=$! r
  r=$(crr)
  wait "$p"
  local all nft
  all=$(perf report -i "$DIR/perf-$1.data" --sort comm --stdio 2>/dev/null | awk '$2 == "calico-bench" {sub("%", "", $1); print $1}')
  nft=$(perf report -i "$DIR/perf-$1.data" --comms calico-bench --sort symbol --stdio 2>/dev/null |
    awk '$3 ~ /^(nft_|pipapo|nf_tables)/ {sub("%", "", $1); s += $1} END {printf "%.2f", s}')
  echo "$1: $r connections/s; calico-bench ${all:-?}% of samples, nftables ${nft}% of samples"
}
prof no-policy-engine
start_agent
policies 1000; wait_programmed 1000
prof merged-1000
stop_agent
start_agent CALICO_POLICY_MERGE_MIN=0
wait_programmed 1000
prof felix-layout-1000
stop_agent
start_agent
policies 10000; wait_programmed 10000
prof merged-10000
stop_agent
echo "perf data: $DIR/perf-*.data"
