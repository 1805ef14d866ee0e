# build/bench/scaling.png from `calico-bench plotdata` columns:
# policies full_ms incr_p99_ms gbps linear_gbps nft_full_ms nft_change_p99_ms crr_per_s
# crr_per_s_no_policy_engine
# bench/run.sh passes has_apply, has_packet and has_crr (1 or 0: whether the results hold the
# panel's rows); a panel without rows (a partial ROWS run) is drawn empty, saying so, because
# gnuplot refuses to plot a file with no valid points.
if (!exists("has_apply")) has_apply = 1
if (!exists("has_packet")) has_packet = 1
if (!exists("has_crr")) has_crr = 1
set terminal pngcairo size 1600,450 font ",10"
set output out
set datafile missing "-"
set multiplot layout 1,3 title "calico-cpp scaling with the number of policies (make bench)"

# An empty panel: its title and a note instead of curves.
not_measured(row) = sprintf("no %s rows in this results file (a partial ROWS run)", row)

set title "policy-apply (10k endpoints, 100 local)"
if (has_apply) {
  set logscale x
  set xlabel "policies"
  set ylabel "ms"
  set key top left
  plot data using 1:2 with linespoints title "full program", \
       data using 1:6 with linespoints dashtype 2 title "nft -f of the same ruleset", \
       data using 1:3 with linespoints title "one change, p99", \
       data using 1:7 with linespoints dashtype 2 title "nft -f of the same change, p99 (floor)"
} else {
  unset logscale x
  unset xlabel
  unset ylabel
  set xrange [0:1]
  set yrange [0:1]
  unset xtics
  unset ytics
  set label 1 not_measured("policy-apply") at graph 0.5, 0.5 center
  plot 2 notitle
  unset label 1
  set xrange [*:*]
  set yrange [*:*]
  set xtics
  set ytics
}

set title "per-packet: iperf3 between two workloads"
if (has_packet) {
  set logscale x
  set xlabel "policies"
  set ylabel "Gbit/s"
  set yrange [0:*]
  set key bottom right
  plot data using 1:4 with linespoints title "calico-cpp (nftables, established fast path)", \
       data using 1:5 with linespoints title "flat linear rule list"
  set yrange [*:*]
} else {
  unset logscale x
  unset xlabel
  unset ylabel
  set xrange [0:1]
  set yrange [0:1]
  unset xtics
  unset ytics
  set label 1 not_measured("per-packet") at graph 0.5, 0.5 center
  plot 2 notitle
  unset label 1
  set xrange [*:*]
  set yrange [*:*]
  set xtics
  set ytics
}

set title "connect-rate: TCP connect/request/close between two workloads"
if (has_crr) {
  set logscale x
  set xlabel "policies"
  set ylabel "connections/s"
  set yrange [0:*]
  set key bottom left
  plot data using 1:8 with linespoints title "calico-cpp", \
       data using 1:9 with linespoints dashtype 2 title "no policy engine"
} else {
  unset logscale x
  unset xlabel
  unset ylabel
  set xrange [0:1]
  set yrange [0:1]
  unset xtics
  unset ytics
  set label 1 not_measured("connect-rate") at graph 0.5, 0.5 center
  plot 2 notitle
  unset label 1
}
unset multiplot
