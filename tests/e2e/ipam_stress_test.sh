#!/usr/bin/env bash
# Concurrency: 4 lab hosts (real calico-node and BIRD on each), every host running ADDS CNI ADDs
# through the real calico plugin, PAR at a time, mixed with DELs (after each ADD a worker DELs its
# oldest live container every other time), then DELs of everything. Strict affinity with the
# tightest cap the peak fits: a worker holds at most half its containers plus one, so a host at
# most ADDS/2 + PAR, in ceil((ADDS/2 + PAR) / 64) blocks of 64 (2 blocks for 250 ADDS, 3 workers).
# Checks: every ADD and DEL succeeds; no address is ever held by two live containers; every host
# stays within its block cap; after the DELs ipam check is clean and nothing is left (endpoints,
# handles, allocations, veths). Prints the figures (operations, failures, latency, duration).
# Usage: ipam_stress_test.sh BUILD_BIN_DIR local|etcd [ADDS_PER_HOST] [PARALLEL_PER_HOST]
BIN=${1:?usage: ipam_stress_test.sh BUILD_BIN_DIR local|etcd [ADDS] [PAR]}
STORE_ARG=${2:-local}
ADDS=${3:-60}
PAR=${4:-3}
source "$(dirname "$0")/fault_lib.sh"
require_no_lab

NHOSTS=4
CAP=$(( (ADDS / 2 + PAR + 63) / 64 ))
lab_up "$NHOSTS" "$STORE_ARG" 3
ctl ipam configure --strictaffinity=true --max-blocks-per-host="$CAP" >/dev/null ||
  fail "ipam configure"
echo "lab up: $NHOSTS hosts, $STORE_ARG$([ "$STORE_ARG" = etcd ] && echo ' (3 members)'), cap $CAP blocks/host, $ADDS ADDs per host, $PAR in parallel per host"

# worker HOST W: containers W, W+PAR, W+2*PAR, ... of HOST.
worker() {
  local h=$1 w=$2 log=$T/events-$1-$2 live=() i cid out ip t0 t1
  for ((i = w; i < ADDS; i += PAR)); do
    cid="s${h#calico-}-$i"
    netns_add "$cid"
    t0=$(now_ms)
    if out=$(cni ADD "$h" "$cid"); then
      t1=$(now_ms)
      ip=$(echo "$out" | result_ip)
      echo "$t1 ADD $cid $ip $((t1 - t0))" >>"$log"
      live+=("$cid")
    else
      echo "$(now_ms) ADDFAIL $cid $(echo "$out" | result_msg | tr ' ' _)" >>"$log"
      cni DEL "$h" "$cid" >/dev/null || true
      netns_del "$cid"
    fi
    if ((i / PAR % 2 == 1)) && ((${#live[@]} > 0)); then
      del_one "$h" "${live[0]}" "$log"
      live=("${live[@]:1}")
    fi
  done
  for cid in "${live[@]}"; do del_one "$h" "$cid" "$log"; done
}
del_one() {
  local h=$1 cid=$2 log=$3 t0 t1
  t0=$(now_ms)
  echo "$t0 DEL $cid" >>"$log"
  if cni DEL "$h" "$cid" >/dev/null; then
    t1=$(now_ms)
    echo "$t1 DELDONE $cid - $((t1 - t0))" >>"$log"
  else
    echo "$(now_ms) DELFAIL $cid" >>"$log"
  fi
  netns_del "$cid"
}

# Snapshot of blocks per host while the run is at its peak, to check the cap mid-flight too.
watch_caps() {
  while :; do
    blocks_per_host >>"$T/caps" 2>/dev/null || true
    sleep 2
  done
}
watch_caps &
BG_PIDS+=($!)
start=$(now_ms)
pids=()
for h in "${HOSTS[@]}"; do
  for ((w = 0; w < PAR; w++)); do
    worker "$h" "$w" &
    pids+=($!)
    BG_PIDS+=($!)
  done
done
for p in "${pids[@]}"; do wait "$p" || fail "a worker failed"; done
elapsed=$(( $(now_ms) - start ))
kill "${BG_PIDS[0]}" 2>/dev/null || true

cat "$T"/events-* >"$T/events"
adds=$(awk '$2 == "ADD"' "$T/events" | wc -l)
addfail=$(awk '$2 == "ADDFAIL"' "$T/events" | wc -l)
dels=$(awk '$2 == "DELDONE"' "$T/events" | wc -l)
delfail=$(awk '$2 == "DELFAIL"' "$T/events" | wc -l)
read -r add50 add99 < <(awk '$2 == "ADD" {print $5}' "$T/events" | percentiles)
read -r del50 del99 < <(awk '$2 == "DELDONE" {print $5}' "$T/events" | percentiles)
dups=0
check_no_duplicates "$T/events" >"$T/dups" || dups=$(wc -l <"$T/dups")
echo "FIGURES: store=$STORE_ARG hosts=$NHOSTS adds_attempted=$((adds + addfail)) adds_ok=$adds adds_failed=$addfail dels_ok=$dels dels_failed=$delfail duplicates=$dups add_p50_ms=$add50 add_p99_ms=$add99 del_p50_ms=$del50 del_p99_ms=$del99 elapsed_ms=$elapsed"
[ "$addfail" = 0 ] || fail "$addfail ADDs failed: $(awk '$2 == "ADDFAIL" {print $3, $4}' "$T/events" | head -5)"
[ "$delfail" = 0 ] || fail "$delfail DELs failed"
[ "$adds" = $((NHOSTS * ADDS)) ] || fail "$adds ADDs recorded, expected $((NHOSTS * ADDS))"
[ "$dups" = 0 ] || fail "addresses handed out twice: $(head -5 "$T/dups")"
echo "  ok: $adds ADDs and $dels DELs, no failure, no address held twice"

maxblocks=$( (cat "$T/caps" 2>/dev/null; blocks_per_host) | awk '$2 > m {m = $2} END {print m + 0}')
[ "$maxblocks" -le "$CAP" ] || fail "a host held $maxblocks blocks (cap $CAP): $(sort -u "$T/caps" | tail -8)"
echo "  ok: at most $maxblocks blocks per host (cap $CAP)"
assert_clean "after every DEL"
echo "  ok: ipam check clean, no endpoint, handle, allocation or veth left"
echo "PASS: ipam stress $STORE_ARG ($NHOSTS x $ADDS)"
