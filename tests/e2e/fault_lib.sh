# Shared by the concurrency and fault tests (ipam_stress_test.sh, faults_test.sh): a calico-lab
# of N hosts, CNI ADD/DEL driven exactly as a runtime drives the plugins (env + stdin, run in the
# host's namespace, a fresh namespace per container), event logs for the duplicate check, and the
# datastore-wide assertions (ipam check, endpoints, veths).
#
# Needs: BIN (the build's bin directory). Sets LAB, S (the lab's state dir), T (scratch dir).
# Every namespace a test makes is calico-lab-wl-*, so `calico-lab down` removes it even after a
# crash; processes are ended by PID only.
set -euo pipefail
has() { grep "$@" >/dev/null; }
LAB="$BIN/calico-lab"
export CALICO_LAB_STATE_DIR=/run/calico-lab
S=$CALICO_LAB_STATE_DIR
export PATH="$BIN:$PATH"
T=$(mktemp -d /tmp/calico-faults-XXXXXX)
BG_PIDS=()
cleanup() {
  local rc=$?
  for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ -z "${LAB_NOT_OURS:-}" ] && [ -d "$S" ]; then
    for f in "$S"/*/node.log "$S"/fabric/*.log; do
      [ -f "$f" ] && { echo "--- tail $f"; tail -n 15 "$f"; }
    done >&2
  fi
  [ -n "${LAB_NOT_OURS:-}" ] || "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$T"
  exit "$rc"
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# One lab per machine: another test's lab is left alone (cleanup does not tear it down); wait for
# it to go away, fail if it stays.
source "$(dirname "${BASH_SOURCE[0]}")/lab_guard.sh"
LAB_NOT_OURS=
require_no_lab() {
  wait_for_no_lab || { LAB_NOT_OURS=1; exit 1; }
}

# lab_up HOSTS local|etcd [MEMBERS]
lab_up() {
  local hosts=$1 store=$2 members=${3:-1}
  STORE=$store
  local extra=()
  if [ "$store" = etcd ]; then
    command -v etcd >/dev/null || fail "etcd is not installed: run make deps"
    extra=(--etcd-members "$members")
  fi
  HOSTS=()
  for i in $(seq "$hosts"); do HOSTS+=("$(printf 'calico-%02d' "$i")"); done
  "$LAB" up --hosts "$hosts" --datastore "$store" "${extra[@]}" >"$T/up.log" 2>&1 ||
    fail "lab up: $(cat "$T/up.log")"
  ENDPOINTS=$(grep -o 'http://[^) ]*' "$T/up.log" | head -1 || true)
  for h in "${HOSTS[@]}"; do write_conf "$h"; done
}

ctl() { "$LAB" host calico-01 -- calicoctl "$@"; }

# The network config a runtime hands the calico plugin on this host (what the lab's conflist
# gives, flattened as libcni does).
write_conf() {
  local h=$1 store
  if [ "$STORE" = etcd ]; then
    store="\"datastore_type\":\"etcdv3\",\"etcd_endpoints\":\"$ENDPOINTS\""
  else
    store="\"datastore_type\":\"local\",\"datastore_path\":\"$S/datastore/calico.db\""
  fi
  printf '{"cniVersion":"0.4.0","name":"stress","type":"calico","nodename":"%s","mtu":1500,"ipam_lock_file":"%s/%s/ipam.lock",%s,"ipam":{"type":"calico-ipam"}}' \
    "$h" "$S" "$h" "$store" >"$T/conf-$h"
}

# cni CMD HOST CID: the calico plugin for container CID (namespace calico-lab-wl-CID) on HOST;
# the plugin's stdout is printed, its exit code returned.
cni() {
  local cmd=$1 h=$2 cid=$3
  nsenter --net=/run/netns/calico-lab-"$h" env -i CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
    CNI_NETNS=/run/netns/calico-lab-wl-"$cid" CNI_IFNAME=eth0 CNI_PATH="$BIN" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin "$BIN/calico" <"$T/conf-$h" 2>/dev/null
}
# cni_bg CMD HOST CID: the same, started in the background; CNI_PID is the plugin's own PID
# (exec replaces the subshell), its stdout goes to $T/out-CID.
cni_bg() {
  local cmd=$1 h=$2 cid=$3
  (exec nsenter --net=/run/netns/calico-lab-"$h" env -i CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
    CNI_NETNS=/run/netns/calico-lab-wl-"$cid" CNI_IFNAME=eth0 CNI_PATH="$BIN" \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin "$BIN/calico" <"$T/conf-$h" >"$T/out-$cid" 2>/dev/null) &
  CNI_PID=$!
}
# The first "address" of a CNI result, without the prefix length.
result_ip() { grep -o '"address": *"[^"]*"' | head -1 | sed 's/.*"\([^"/]*\)\/.*/\1/'; }
# The "msg" of a CNI error.
result_msg() { grep -o '"msg": *"[^"]*"' | head -1 | cut -d'"' -f4; }

netns_add() { ip netns add calico-lab-wl-"$1" && ip -n calico-lab-wl-"$1" link set lo up; }
netns_del() { ip netns del calico-lab-wl-"$1" 2>/dev/null || true; }

# Workers log events as "TIME_MS EVENT CID [IP|MESSAGE]": ADD (when the ADD returned, with the
# address), ADDFAIL, DEL (when the DEL started), DELFAIL. An address is duplicated when an ADD
# returns it while another container holds it (added, and its DEL not yet started).
check_no_duplicates() {
  sort -n -k1,1 -s "$@" | awk '
    $2 == "ADD" { if (($4 in owner) && owner[$4] != $3) { print "DUPLICATE " $4 ": " owner[$4] " and " $3; dup++ }
                  owner[$4] = $3; ip_of[$3] = $4 }
    $2 == "DEL" { if ($3 in ip_of) { if (owner[ip_of[$3]] == $3) delete owner[ip_of[$3]]; delete ip_of[$3] } }
    END { exit dup > 0 }'
}

# Blocks per host as ipam check lists them ("HOST COUNT" lines).
blocks_per_host() {
  ctl ipam check --show-all-ips | grep -o 'affinity=host:[^:]*' | cut -d: -f2 | sort | uniq -c |
    awk '{print $2, $1}'
}

# ipam check finds nothing; no endpoint, handle or allocation is left; no cali veth on a host.
assert_clean() {
  local what=$1 out
  out=$(ctl ipam check) || fail "$what: ipam check failed: $out"
  echo "$out" | has "Check complete; found 0 problems." || fail "$what: ipam check: $out"
  echo "$out" | has "IPAM blocks record 0 allocations." || fail "$what: allocations left: $out"
  echo "$out" | has "Found 0 handles with no matching IPs (and 0 handles with matches)" ||
    fail "$what: handles left: $out"
  local weps
  weps=$(ctl get workloadendpoints -A 2>&1 | tail -n +2)
  [ -z "$weps" ] || fail "$what: WorkloadEndpoints left: $weps"
  local veths
  for h in "${HOSTS[@]}"; do
    veths=$(ip -n calico-lab-"$h" -o link show | awk -F': ' '{print $2}' | grep '^cali' || true)
    [ -z "$veths" ] || fail "$what: veths left on $h: $(echo $veths | head -c 300)"
  done
}

# p50/p99 (ms) of the numbers on stdin.
percentiles() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "- -"; exit }
    i50 = int(NR * 0.50 + 0.5); i99 = int(NR * 0.99 + 0.5); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
    print v[i50], v[i99] }'
}
