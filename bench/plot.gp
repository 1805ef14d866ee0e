# build/bench/scaling.png from `calico-bench plotdata` columns:
# policies full_ms incr_p99_ms gbps linear_gbps nft_full_ms nft_change_p99_ms crr_per_s
# crr_per_s_no_policy_engine
set terminal pngcairo size 1600,450 font ",10"
set output out
set datafile missing "-"
set multiplot layout 1,3 title "calico-cpp scaling with the number of policies (make bench)"
set logscale x
set xlabel "policies"
set ylabel "ms"
set key top left
set title "policy-apply (10k endpoints, 100 local)"
plot data using 1:2 with linespoints title "full program", \
     data using 1:6 with linespoints dashtype 2 title "nft -f of the same ruleset", \
     data using 1:3 with linespoints title "one change, p99", \
     data using 1:7 with linespoints dashtype 2 title "nft -f of the same change, p99 (floor)"
set ylabel "Gbit/s"
set yrange [0:*]
set title "per-packet: iperf3 between two workloads"
set key bottom right
plot data using 1:4 with linespoints title "calico-cpp (nftables, established fast path)", \
     data using 1:5 with linespoints title "flat linear rule list"
set ylabel "connections/s"
set title "connect-rate: TCP connect/request/close between two workloads"
set key bottom left
plot data using 1:8 with linespoints title "calico-cpp", \
     data using 1:9 with linespoints dashtype 2 title "no policy engine"
unset multiplot
