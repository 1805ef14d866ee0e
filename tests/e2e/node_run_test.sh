#!/usr/bin/env bash
# calicoctl node run / status / checksystem / diags / stop on a test host namespace.
BIN=${1:?usage: node_run_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/../runtimes/lib.sh"
export PATH="$BIN:$PATH"
RUN="--log-dir=$T/log --run-dir=$T/run"
CLEANUP_STEPS+=("hx $BIN/calicoctl node stop --run-dir=$T/run >/dev/null 2>&1")

out=$(hx "$BIN/calicoctl" node run --name=calico-01 --ip=autodetect --backend=none $RUN) || fail "node run: $out"
echo "$out" | has "Calico node started successfully." || fail "node run did not report success: $out"
pid=$(cat "$T/run/calico-node.pid")
[ -d "/proc/$pid" ] || fail "no calico-node process $pid"
echo "calico-node running as PID $pid"

# Where the HTTP endpoints listen (felix/config/config_params.go): health on localhost:9099 only,
# metrics off by default. `ss -ltnH` prints "LISTEN 0 N LOCAL:PORT PEER:*".
listeners() { hx ss -ltnH | awk '{print $4}' | sort; }
wait_listener() {  # wait_listener ADDR:PORT
  for _ in $(seq 1 100); do listeners | has -x -- "$1" && return 0; sleep 0.1; done
  fail "nothing listens on $1 in the host namespace: $(listeners | tr '\n' ' ')"
}
wait_listener 127.0.0.1:9099
[ "$(listeners | grep -c ':9099$')" = 1 ] || fail "health listens beyond localhost: $(listeners | tr '\n' ' ')"
listeners | has ':9091$' && fail "metrics listen although prometheusMetricsEnabled is off by default"

out=$(hx "$BIN/calicoctl" node run --name=calico-01 $RUN 2>&1) && fail "a second node run succeeded"
echo "$out" | has "already running (PID $pid)" || fail "second run error unclear: $out"

"$BIN/calicoctl" get nodes -o wide | has "calico-01 .*10.99.0.1/32" || fail "Node calico-01 with its address missing: $("$BIN/calicoctl" get nodes -o wide)"
[ "$(cat "$T/run/nodename")" = calico-01 ] || fail "nodename file not written"

out=$(hx "$BIN/calicoctl" node status --run-dir="$T/run") || fail "node status: $out"
echo "$out" | has "Calico process is running." || fail "node status: $out"

out=$(hx "$BIN/calicoctl" node checksystem) || true
echo "$out" | has "Checking kernel modules..." || fail "checksystem output: $out"

out=$(hx "$BIN/calicoctl" node diags $RUN) || fail "diags: $out"
tarball=$(echo "$out" | sed -n 's/^Diags saved to //p')
CLEANUP_STEPS+=("rm -f '$tarball'")
[ -f "$tarball" ] || fail "no diags tarball: $out"
tar -tzf "$tarball" | has "diagnostics/nftables" || fail "diags tarball lacks the ruleset"
tar -tzf "$tarball" | has "diagnostics/logs/calico-node.log" || fail "diags tarball lacks the log"
rm -f "$tarball"

out=$(hx "$BIN/calicoctl" node stop --run-dir="$T/run") || fail "node stop: $out"
echo "$out" | has "Stopped calico-node (PID $pid)" || fail "node stop: $out"
sleep 0.2
[ ! -d "/proc/$pid" ] || fail "calico-node $pid still running after stop"

# healthHost / prometheusMetricsHost from FelixConfiguration are obeyed (FELIX_* env overrides
# them as upstream's config loader does; none is set here).
cat > "$T/felix.yaml" <<YAML
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {healthHost: 10.99.0.1, healthPort: 9199, prometheusMetricsEnabled: true,
       prometheusMetricsHost: 127.0.0.1, prometheusMetricsPort: 9191}
YAML
"$BIN/calicoctl" apply -f "$T/felix.yaml" >/dev/null || fail "apply FelixConfiguration"
out=$(hx "$BIN/calicoctl" node run --name=calico-01 --ip=autodetect --backend=none $RUN) || fail "node run (2): $out"
pid=$(cat "$T/run/calico-node.pid")
wait_listener 10.99.0.1:9199
wait_listener 127.0.0.1:9191
[ "$(listeners | grep -c ':9[01]9[19]$')" = 2 ] || fail "unexpected listeners: $(listeners | tr '\n' ' ')"
for _ in $(seq 1 50); do
  out=$(hx curl -s -o /dev/null -w '%{http_code}' http://10.99.0.1:9199/liveness) || true
  [ "$out" = 200 ] && break; sleep 0.1
done
# 200 with the reporters' table, as Felix's health aggregator answers (agent/health.h).
[ "$out" = 200 ] || fail "liveness on the configured health address: $out"
hx curl -s http://127.0.0.1:9191/metrics | has '^calico_node_' || fail "no metrics on the configured metrics address"
out=$(hx "$BIN/calicoctl" node stop --run-dir="$T/run") || fail "node stop (2): $out"
sleep 0.2
[ ! -d "/proc/$pid" ] || fail "calico-node $pid still running after the second stop"
echo "PASS: node run"
