#!/usr/bin/env bash
# Upgrading the Debian package under running nodes, on calico-lab: the package (tools/mkdeb.sh)
# is installed with `dpkg --root` into a scratch tree, and the lab runs *that* installation
# (its calico-lab, calico-node, CNI plugins) on two hosts over BGP, each calico-node confined to
# the capability bounding set of calico-node.service (setpriv, as systemd would). An iperf3 flow
# runs from a workload on calico-02 to one on calico-01 while:
#   1. a newer package is installed over the running nodes (dpkg --root -i), and each calico-node
#      is restarted the way the package's postinst and systemd restart it (restart-requested,
#      SIGTERM, the new binary with the same environment): the old BIRD goes down for a graceful
#      restart and is gone with its calico-node, the new one recovers (-R);
#   2. calico-node on calico-01 is SIGKILLed (its BIRD dies with it) and started again, as
#      Restart=on-failure does.
# The flow must not stall (no 1 s interval without data at the receiver), the workloads keep their
# addresses and endpoints, and the kernel routes to the workloads stay as they were.
set -euo pipefail
has() { grep "$@" >/dev/null; }
BUILD=${1:?usage: upgrade_test.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: upgrade_test.sh BUILD_DIR SOURCE_DIR}
export CALICO_LAB_STATE_DIR=/run/calico-lab
S=$CALICO_LAB_STATE_DIR
T=$(mktemp -d /tmp/calico-upgrade-XXXXXX)
R=$T/root
LAB=$R/usr/bin/calico-lab
PIDS=()
cleanup() {
  local rc=$?
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -x "$LAB" ] && "$LAB" down >/dev/null 2>&1
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT INT TERM
fail() {
  echo "FAIL: $*" >&2
  for h in calico-01 calico-02; do
    echo "--- $h routes"; ip netns exec "calico-lab-$h" ip route 2>&1 | head -20
    echo "--- $h node log"; tail -25 "$S/$h/node.log" 2>/dev/null
  done >&2
  echo "--- iperf3 receiver"; cat "$S/workloads/server/log" 2>/dev/null | tail -40 >&2
  exit 1
}
# Another test's lab is left alone: wait for it to go away, fail if it does not.
source "$(dirname "$0")/lab_guard.sh"
wait_for_no_lab || { trap - EXIT; rm -rf "$T"; exit 1; }

echo "packages 0.1.0~old and 0.1.0~new, the old one installed into $R"
OLD=$(MKDEB_COMPRESS=gzip "$SRC/tools/mkdeb.sh" "$BUILD" "$T/out" 0.1.0~old | tail -1)
dpkg-deb -R "$OLD" "$T/new"
sed -i 's/^Version: .*/Version: 0.1.0~new/' "$T/new/DEBIAN/control"
NEW=$T/out/calico-cpp_0.1.0~new.deb
dpkg-deb --root-owner-group -Zgzip -z1 -b "$T/new" "$NEW" >/dev/null
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
dpkgr() { dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
dpkgr -i "$OLD" >"$T/dpkg.log" 2>&1 || fail "install: $(cat "$T/dpkg.log")"

# calico-node.service's capability bounding set and no-new-privileges, as setpriv arguments.
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$R/lib/systemd/system/calico-node.service")
[ -n "$caps" ] || fail "calico-node.service has no CapabilityBoundingSet"
bounding="-all"
for c in $caps; do c=${c#CAP_}; bounding="$bounding,+${c,,}"; done
CONFINE="setpriv --no-new-privs --inh-caps=-all --bounding-set=$bounding --"
echo "calico-node confined as calico-node.service: $caps"

echo "lab up: 2 hosts, BGP, the installed binaries"
"$LAB" up --hosts 2 --backend bird --node-cmd "$CONFINE calico-node" >/dev/null
for h in calico-01 calico-02; do
  pid=$(cut -d' ' -f1 "$S/$h/node.pid")
  [ "$(readlink -f "/proc/$pid/exe")" = "$R/usr/bin/calico-node" ] ||
    fail "$h runs $(readlink -f "/proc/$pid/exe"), not the installed calico-node"
  grep -E '^CapBnd:' "/proc/$pid/status" | has -v 'ffffffff' || fail "$h's calico-node is not confined"
done
SERVER=$("$LAB" run calico-01 --net backend --name server -- iperf3 -s -1 -i 1 --forceflush | tail -1)
CLIENT=$("$LAB" run calico-02 --net backend --name client -- sleep 3600 | tail -1)
ok=""
for _ in $(seq 60); do
  "$LAB" exec client -- busybox ping -c 1 -W 1 "$SERVER" >/dev/null 2>&1 && { ok=1; break; }
  sleep 0.5
done
[ -n "$ok" ] || fail "client ($CLIENT, calico-02) cannot reach server ($SERVER, calico-01)"
snapshot() {  # workloads, their endpoints and the hosts' routes to them
  "$LAB" list | awk '$1 == "server" || $1 == "client" {print $1, $2, $3, $4}'
  "$LAB" host calico-01 -- calicoctl get workloadendpoints -o wide
  for h in calico-01 calico-02; do ip netns exec "calico-lab-$h" ip route | grep -E 'cali|bird' | sort; done
  ip netns exec calico-lab-wl-server ip -4 -o addr show dev eth0 | awk '{print $4}'
}
snapshot >"$T/before"

echo "an iperf3 flow client -> server across the hosts"
"$LAB" exec client -- iperf3 -c "$SERVER" -t 75 -i 1 -b 50M --forceflush >"$T/iperf-client" 2>&1 &
IPERF=$!
PIDS+=("$IPERF")
sleep 5

node_pid() { cut -d' ' -f1 "$S/$1/node.pid"; }
gone() { [ ! -e "/proc/$1" ] || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
wait_gone() {  # wait_gone PID WHAT
  for _ in $(seq 150); do gone "$1" && return 0; sleep 0.2; done
  fail "$2 (pid $1) is still running"
}
# Starts the installed calico-node on HOST as systemd would restart it: the environment and
# working directory of the node process that ran there, the unit's confinement.
start_node() {  # start_node HOST ENVFILE CWD
  local env=() pid start
  mapfile -d '' env <"$2"
  (cd "$3" && exec nsenter --net="/run/netns/calico-lab-$1" env -i "${env[@]}" \
     $CONFINE "$R/usr/bin/calico-node" >>"$S/$1/node.log" 2>&1 </dev/null) &
  pid=$!
  disown "$pid"  # lab down ends it (it runs in a lab namespace); no "Killed" notice from bash
  start=$(awk '{print $22}' "/proc/$pid/stat")
  echo "$pid $start" >"$S/$1/node.pid"
}
# The agent of HOST is in sync again after the line count LINES of its log, and BIRD has its
# session back.
wait_synced() {  # wait_synced HOST LINES
  for _ in $(seq 120); do
    if tail -n +"$(($2 + 1))" "$S/$1/node.log" | has "in sync at revision" &&
       "$LAB" host "$1" -- calicoctl node status --run-dir="$S/$1" 2>/dev/null | has Established; then
      return 0
    fi
    sleep 0.5
  done
  fail "calico-node on $1 did not come back in sync with an established BGP session"
}
# Restarts HOST's calico-node the way postinst + systemd do on an upgrade.
restart_node() {
  local host=$1 old bird lines
  old=$(node_pid "$host")
  bird=$(cat "$S/$host/bird.pid")
  cp "/proc/$old/environ" "$T/$host.env"
  lines=$(wc -l <"$S/$host/node.log")
  : >"$S/$host/restart-requested"
  kill -TERM "$old"
  wait_gone "$old" "the old calico-node on $host"
  wait_gone "$bird" "the old BIRD on $host"
  tail -n +"$((lines + 1))" "$S/$host/node.log" | has "stopped for a restart" ||
    fail "the old calico-node on $host did not stop for a restart"
  start_node "$host" "$T/$host.env" "$S/$host"
  wait_synced "$host" "$lines"
  tail -n +"$((lines + 1))" "$S/$host/node.log" | has "graceful restart recovery" ||
    fail "the new BIRD on $host did not recover (-R)"
  echo "  ok: $host: calico-node $old -> $(node_pid "$host"), BIRD $bird -> $(cat "$S/$host/bird.pid")"
}

echo "upgrade: the new package over the running nodes, each calico-node restarted"
dpkgr -i "$NEW" >"$T/dpkg.log" 2>&1 || fail "upgrade: $(cat "$T/dpkg.log")"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Version}' calico-cpp | has -x 0.1.0~new ||
  fail "not upgraded"
restart_node calico-01
restart_node calico-02

echo "crash: calico-node on calico-01 SIGKILLed, its BIRD goes with it, Restart=on-failure"
old=$(node_pid calico-01)
bird=$(cat "$S/calico-01/bird.pid")
cp "/proc/$old/environ" "$T/crash.env"
lines=$(wc -l <"$S/calico-01/node.log")
kill -KILL "$old"
wait_gone "$old" "the SIGKILLed calico-node"
wait_gone "$bird" "BIRD of the SIGKILLed calico-node"
echo "  ok: BIRD $bird ended with its calico-node"
sleep 2  # systemd's RestartSec
start_node calico-01 "$T/crash.env" "$S/calico-01"
wait_synced calico-01 "$lines"
tail -n +"$((lines + 1))" "$S/calico-01/node.log" | has "graceful restart recovery" ||
  fail "BIRD did not recover after the crash"
kill -0 "$IPERF" 2>/dev/null || fail "the flow ended before the restarts were done (raise iperf3 -t)"

echo "the flow"
wait "$IPERF" || fail "iperf3 failed: $(tail -5 "$T/iperf-client")"
for _ in $(seq 20); do has "receiver" "$S/workloads/server/log" && break; sleep 0.5; done
# Receiver intervals: "[  5]  12.00-13.00  sec  5.96 MBytes  50.0 Mbits/sec"
intervals=$(grep -cE '^\[ *[0-9]+\] +[0-9.]+-[0-9.]+ +sec ' "$S/workloads/server/log" || true)
stalled=$(grep -E '^\[ *[0-9]+\] +[0-9.]+-[0-9.]+ +sec +0(\.0+)? Bytes' "$S/workloads/server/log" || true)
echo "  $intervals receiver intervals, $(echo -n "$stalled" | grep -c . || true) without data"
[ "$intervals" -ge 70 ] || fail "the receiver reported only $intervals intervals"
[ -z "$stalled" ] || fail "the flow stalled: $stalled"

echo "workloads, endpoints and routes as before"
snapshot >"$T/after"
diff "$T/before" "$T/after" || fail "workloads, endpoints or routes changed"
echo "PASS: upgrade under traffic"
