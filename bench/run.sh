#!/usr/bin/env bash
# make bench: runs every row side by side with its peer and writes build/bench/results.json.
# Usage: bench/run.sh [BUILD_DIR]   (BUILD_DIR: a release build, default build-release)
#        ROWS="cni-add" bench/run.sh   to run some rows only.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build-release}
OUT=build/bench/results.json
ROWS=${ROWS:-cni-add ipam calc policy-apply per-packet connect-rate flow-logs flows flow-collector simulate lab}
mkdir -p build/bench
[ "$(id -u)" -eq 0 ] || { echo "bench: run as root (rows use network namespaces)" >&2; exit 1; }
for row in $ROWS; do
  case $row in
    cni-add)
      echo "bench: cni-add (calico + calico-ipam vs ptp + host-local, 100 sequential, 20 parallel x 3)"
      "$BUILD/bin/calico-bench" cni-add --samples 100 --parallel 20 --rounds 3 --bin "$BUILD/bin" --out "$OUT"
      ;;
    ipam)
      echo "bench: ipam (allocations/s with 1 and 4 concurrent clients, duplicates)"
      "$BUILD/bin/calico-bench" ipam 200 "$OUT"
      ;;
    calc)
      echo "bench: calc (start-up without the kernel at 100k endpoints / 2000 policies: phases, bytes per remote endpoint)"
      "$BUILD/bin/calico-bench" calc --endpoints 100000 --local 100 --policies 2000 --repeats 3 --out "$OUT"
      ;;
    policy-apply)
      echo "bench: policy-apply (10k endpoints, 100 local: 100, 1000 and 10000 policies; 100k endpoints: 2000 policies; one-change updates) and memory"
      "$BUILD/bin/calico-bench" policy-apply --endpoints 10000 --local 100 --policies 100,1000 --changes 50 \
        --bin "$BUILD/bin" --out "$OUT" 2>/dev/null
      "$BUILD/bin/calico-bench" policy-apply --endpoints 10000 --local 100 --policies 10000 --changes 10 \
        --bin "$BUILD/bin" --out "$OUT" 2>/dev/null
      # Felix's design point (DESIGN.md section 8).
      "$BUILD/bin/calico-bench" policy-apply --endpoints 100000 --local 100 --policies 2000 --changes 50 \
        --bin "$BUILD/bin" --out "$OUT" 2>/dev/null
      ;;
    per-packet)
      echo "bench: per-packet (iperf3 and ping between two workloads, 0/100/1000/10000 policies vs no policy engine and a flat list)"
      bench/per_packet.sh "$BUILD/bin" "$OUT" "0 100 1000 10000" 5
      ;;
    connect-rate)
      echo "bench: connect-rate (TCP connect/request/close per second between two workloads, 0/100/1000/10000 policies vs no policy engine)"
      bench/connect_rate.sh "$BUILD/bin" "$OUT" "0 100 1000 10000" 5
      ;;
    simulate)
      echo "bench: simulate (100, 250, 500 agents without a dataplane on a 3-member etcd: a policy change until every model has it, etcd CPU/RSS/watch streams)"
      # A fresh cluster per N: grown in place, every running agent recomputes its model for each
      # write of the joining nodes (bench/README.md), which on 2 cores takes longer than the row.
      for n in 100 250 500; do bench/simulate.sh "$BUILD/bin" "$OUT" "$n" 20 4; done
      ;;
    flow-logs)
      echo "bench: flow-logs (throughput and connections/s with flow logs on vs off, 100 policies)"
      bench/flow_logs.sh "$BUILD/bin" "$OUT" 5
      ;;
    flows)
      echo "bench: flows (calico-flows: 100k flow records ingested twice, records/s and RSS)"
      bench/flows_rows.sh "$BUILD/bin" "$OUT" 100000
      ;;
    flow-collector)
      echo "bench: flow-collector (calico-node's flow-log collector holding 100k live connections: RSS)"
      "$BUILD/bin/calico-bench" flow-collector --flows 100000 --out "$OUT"
      ;;
    lab)
      echo "bench: bgp and cross-host (calico-lab, 2 hosts, BGP and VXLAN, iperf3)"
      bench/lab_rows.sh "$BUILD/bin" "$OUT" 5 5
      ;;
    *) echo "bench: unknown row $row" >&2; exit 2 ;;
  esac
done
echo
"$BUILD/bin/calico-bench" table "$OUT"
# The scaling plot: policy-apply time and throughput against the number of policies. After a
# partial ROWS run the results may lack a panel's rows: that panel is drawn empty, saying so
# (gnuplot refuses a file with no valid points); with none of them there is no plot.
"$BUILD/bin/calico-bench" plotdata "$OUT" > build/bench/scaling.dat
# Whether any line of scaling.dat has a value in one of the given columns.
has_columns() { awk -v cols="$1" 'BEGIN { n = split(cols, c, ",") } !/^#/ { for (i = 1; i <= n; i++) if ($c[i] != "" && $c[i] != "-") found = 1 } END { print found ? 1 : 0 }' build/bench/scaling.dat; }
has_apply=$(has_columns 2,3,6,7)
has_packet=$(has_columns 4,5)
has_crr=$(has_columns 8,9)
if [ "$has_apply$has_packet$has_crr" = 000 ]; then
  echo "plot: skipped: $OUT holds no policy-apply, per-packet or connect-rate rows"
elif ! command -v gnuplot >/dev/null; then
  echo "plot: skipped: gnuplot is not installed (tools/deps.sh installs it)"
else
  missing=
  [ "$has_apply" = 1 ] || missing="$missing policy-apply"
  [ "$has_packet" = 1 ] || missing="$missing per-packet"
  [ "$has_crr" = 1 ] || missing="$missing connect-rate"
  [ -z "$missing" ] || echo "plot: partial: no rows for$missing in $OUT (their panels are empty)"
  if gnuplot -e "data='build/bench/scaling.dat'; out='build/bench/scaling.png'; has_apply=$has_apply; has_packet=$has_packet; has_crr=$has_crr" bench/plot.gp; then
    echo "plot: build/bench/scaling.png"
  else
    echo "plot: gnuplot failed (above); the results are in $OUT" >&2
  fi
fi
echo
echo "results: $OUT"
