#!/usr/bin/env bash
# The bench rows that need the multi-host lab, measured side by side in one run:
#   bgp         time from a workload's ADD on calico-02 until calico-01 reaches it, and until its
#               routes are withdrawn on calico-01 after calico-02's calico-node and BIRD stop
#               (no peer: the targets of DESIGN section 8 as the limit)
#   cross-host  iperf3 TCP throughput between workloads on two hosts, BGP-routed and VXLAN, against
#               iperf3 between the two host namespaces themselves (raw routed veth, same fabric)
# Usage: bench/lab_rows.sh BIN OUT [SAMPLES] [SECONDS]
set -euo pipefail
# `grep -q` in a pipeline under pipefail can fail when it stops reading early (SIGPIPE for the
# writer): `has` reads everything.
has() { grep "$@" >/dev/null; }
BIN=${1:?usage: lab_rows.sh BIN OUT [SAMPLES] [SECONDS]}
OUT=${2:?usage: lab_rows.sh BIN OUT [SAMPLES] [SECONDS]}
SAMPLES=${3:-5}
SECS=${4:-5}
LAB="$BIN/calico-lab"
export CALICO_LAB_STATE_DIR=/run/calico-lab
export PATH="$BIN:$PATH"
command -v iperf3 >/dev/null || { echo "bench: iperf3 is not installed (make deps)" >&2; exit 1; }
# Exit 77: skipped (ctest's SKIP_RETURN_CODE), as the e2e lab tests do: the lab is one per machine.
if ip netns list | has '^calico-lab-'; then echo "SKIP: a calico-lab is up; run calico-lab down" >&2; exit 77; fi
trap '"$LAB" down >/dev/null 2>&1 || true' EXIT
record() { "$BIN/calico-bench" record --out "$OUT" "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
percentile() {  # percentile P values...
  local p=$1; shift
  printf '%s\n' "$@" | sort -n | awk -v p="$p" '{v[NR]=$1} END {i=int((p/100)*NR+0.999999); if (i<1) i=1; print v[i]}'
}
gbps() {  # iperf3 JSON on stdin -> Gbit/s received
  grep -o '"bits_per_second":[[:space:]]*[0-9.e+]*' | tail -1 | awk -F: '{printf "%.3f", $2/1e9}'
}

for backend in bird vxlan; do
  "$LAB" up --hosts 2 --backend "$backend" >/dev/null
  S=$(
    "$LAB" run calico-01 --net bench --name server -- iperf3 -s -p 5201 | tail -1)
  C_IP=$("$LAB" run calico-02 --net bench --name client -- sleep 3600 | tail -1)
  for _ in $(seq 60); do "$LAB" exec client -- iperf3 -c "$S" -p 5201 -t 1 >/dev/null 2>&1 && break; sleep 0.5; done
  # Raw path: iperf3 between the host namespaces over the same fabric.
  "$LAB" host calico-01 -- iperf3 -s -p 5202 -D >/dev/null 2>&1 || true
  raw=(); wl=()
  for i in $(seq "$SAMPLES"); do
    wl+=("$("$LAB" exec client -- iperf3 -c "$S" -p 5201 -t "$SECS" -J | gbps)")
    raw+=("$("$LAB" host calico-02 -- iperf3 -c 198.18.0.11 -p 5202 -t "$SECS" -J | gbps)")
  done
  w50=$(percentile 50 "${wl[@]}"); r50=$(percentile 50 "${raw[@]}")
  record --row cross-host --metric "${backend}_gbps_p50" --ours "$w50" --peer "$r50" --unit Gbit/s \
    --samples "$SAMPLES" --params "{\"backend\":\"$backend\",\"seconds\":$SECS,\"peer\":\"raw routed veth between the host namespaces\"}"
  echo "cross-host $backend: workloads ${w50} Gbit/s, raw ${r50} Gbit/s"

  if [ "$backend" = bird ]; then
    adds=()
    for i in $(seq "$SAMPLES"); do
      start=$(now_ms)
      ip=$("$LAB" run calico-02 --net bench --name "late$i" -- iperf3 -s -p 5201 | tail -1)
      until "$LAB" exec server -- timeout 1 bash -c "exec 3<>/dev/tcp/$ip/5201" >/dev/null 2>&1; do sleep 0.02; done
      adds+=($(( $(now_ms) - start )))
    done
    a50=$(percentile 50 "${adds[@]}"); a99=$(percentile 99 "${adds[@]}")
    record --row bgp --metric add_p50_ms --ours "$a50" --peer 1000 --unit ms --samples "$SAMPLES" \
      --params '{"peer":"target 1 s","what":"CNI ADD on calico-02 until calico-01 reaches it"}'
    record --row bgp --metric add_p99_ms --ours "$a99" --peer 1000 --unit ms --samples "$SAMPLES" \
      --params '{"peer":"target 1 s","what":"CNI ADD on calico-02 until calico-01 reaches it"}'
    start=$(now_ms)
    for f in node.pid bird.pid; do kill "$(cut -d' ' -f1 "$CALICO_LAB_STATE_DIR/calico-02/$f")" 2>/dev/null || true; done
    until ! "$LAB" host calico-01 -- ip route | has "via 198.18.0.12 .*proto bird"; do sleep 0.02; done
    w=$(( $(now_ms) - start ))
    record --row bgp --metric withdraw_ms --ours "$w" --peer 3000 --unit ms --samples 1 \
      --params '{"peer":"target 3 s","what":"calico-02 stops until calico-01 has no route to it"}'
    echo "bgp: add p50 ${a50} ms, p99 ${a99} ms; withdrawal ${w} ms"
  fi
  "$LAB" down >/dev/null
done
