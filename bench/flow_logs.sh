#!/usr/bin/env bash
# The flow-logs row: what flow logs cost on the node. Two workloads on one host with 100
# policies applying to the receiver (the per-packet row's setup), measured with the agent's
# flow logs off and then on (FELIX_FLOWLOGSGOLDMANESERVER pointing at a calico-flows in the host
# namespace, flush every 5 s):
#   * iperf3 TCP throughput: established packets never meet a log statement, so flow logs on
#     must keep >= 95% of off;
#   * TCP connections per second (calico-bench connect-rate, each closed with a reset): every new
#     connection costs NFLOG messages (its verdict points), conntrack events and collector work.
# Usage: bench/flow_logs.sh BIN OUT [SECONDS]
BIN=${1:?usage: flow_logs.sh BIN OUT [SECONDS]}
OUT=${2:?}
SECS=${3:-5}
# The two workloads (server, client), the agent and the policies: bench/workloads.sh.
source "$(dirname "$0")/workloads.sh"
command -v iperf3 >/dev/null || fail "iperf3 is not installed (make deps)"
ip netns exec "$HOST-server" iperf3 -s -p 5201 -D
CLEANUP_STEPS+=("kill \$(ip netns pids $HOST-server) 2>/dev/null")
gbps() { ip netns exec "$HOST-client" iperf3 -c "$SERVER_IP" -p 5201 -t "$SECS" -J 2>/dev/null |
  grep -o '"bits_per_second":[[:space:]]*[0-9.e+]*' | tail -1 | awk -F: '{printf "%.3f", $2/1e9}'; }
cps() { "$BIN/calico-bench" connect-rate /var/run/netns/"$HOST-server" /var/run/netns/"$HOST-client" \
  "$SERVER_IP" 5301 "$SECS"; }
# calico-flows in the host namespace (the records' destination).
nsenter --net=/run/netns/"$HOST" "$BIN/calico-flows" --listen 127.0.0.1:7443 >>"$T/flows.log" 2>&1 &
FLOWS=$!
CLEANUP_STEPS+=("kill $FLOWS 2>/dev/null; wait $FLOWS 2>/dev/null")
# Prometheus on loopback: the flow-log record and drop counters are read from it.
METRICS_ENV=(FELIX_PROMETHEUSMETRICSENABLED=true FELIX_PROMETHEUSMETRICSHOST=127.0.0.1)
policies 100

start_agent "${METRICS_ENV[@]}"
wait_programmed 100
off_gbps=$(gbps); off_cps=$(cps)
echo "flow logs off: ${off_gbps} Gbit/s, ${off_cps} connections/s"
stop_agent
start_agent "${METRICS_ENV[@]}" FELIX_FLOWLOGSGOLDMANESERVER=127.0.0.1:7443 FELIX_FLOWLOGSFLUSHINTERVAL=5s
wait_programmed 100 logs
on_gbps=$(gbps); on_cps=$(cps)
echo "flow logs on: ${on_gbps} Gbit/s, ${on_cps} connections/s"
sleep 6  # one flush: the records reach calico-flows
metrics=$(hx curl -s http://127.0.0.1:9091/metrics || true)
dropped=$(grep '^calico_node_flow_logs_dropped_total' <<<"$metrics" | awk '{s += $2} END {print s + 0}')
records=$(grep '^calico_node_flow_logs_records_total' <<<"$metrics" | awk '{print $2}')
echo "flow-log records sent: ${records:-?}, dropped (all reasons): ${dropped}"
stop_agent
record --row flow-logs --metric gbps_flow_logs_on --ours "$on_gbps" --peer "$off_gbps" --unit Gbit/s --samples 1 \
  --params "{\"policies\":100,\"seconds\":$SECS,\"peer\":\"same agent, flow logs off\"}"
record --row flow-logs --metric connections_per_s_flow_logs_on --ours "$on_cps" --peer "$off_cps" --unit conn/s --samples 1 \
  --params "{\"policies\":100,\"seconds\":$SECS,\"peer\":\"same agent, flow logs off\"}" \
  --details "{\"records\":${records:-0},\"dropped\":${dropped:-0}}"
echo "flow-logs: done"
