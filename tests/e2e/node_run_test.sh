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
echo "PASS: node run"
