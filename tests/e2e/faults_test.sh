#!/usr/bin/env bash
# Faults on a 3-host calico-lab (real calico-node and BIRD per host), each followed until the
# system has converged, with the figures of the run printed as FIGURES lines:
#   cni      kill -9 of the calico plugin at random points of KILLS ADDs and KILLS DELs; the runtime
#            retries DEL for half of them and forgets the other half: retried DELs leave nothing,
#            ipam check finds every leak of the forgotten ones, ipam release --from-report frees
#            them, DEL of the rest leaves the store clean.
#   node     kill -9 of calico-node while it programs a burst of policies: established TCP flows
#            (same host, between two other hosts, and into the killed host) survive, the
#            restarted agent's nftables table and routes equal those a fresh start programs.
#   bird     kill -9 of BIRD: calico-node restarts it and the cross-host routes come back.
#   etcd     (etcd only) kill -9 of one member of 3 under CNI load: no acknowledged ADD is lost,
#            no address twice; then loss of quorum (2 members down): CNI ADD fails with a clear
#            error, the dataplane and established flows stay; quorum back: ADDs work again, the
#            agents pick up new workloads.
# Usage: faults_test.sh BUILD_BIN_DIR local|etcd [KILLS] [PHASES]   (PHASES: "cni node bird etcd")
BIN=${1:?usage: faults_test.sh BUILD_BIN_DIR local|etcd [KILLS] [PHASES]}
STORE_ARG=${2:-local}
KILLS=${3:-12}
PHASES=${4:-cni node bird etcd}
source "$(dirname "$0")/fault_lib.sh"
require_no_lab
phase() { [[ " $PHASES " == *" $1 "* ]]; }

lab_up 3 "$STORE_ARG" 3
echo "lab up: 3 hosts, $STORE_ARG$([ "$STORE_ARG" = etcd ] && echo ' (3 members)'); phases: $PHASES"

# run HOST NAME: a workload serving TCP 80 on network "net"; prints its address.
run() { "$LAB" run "$1" --net net --name "$2" -- calico-probe serve tcp 80 | tail -1; }
reach() {  # reach FROM IP [SECONDS]
  local from=$1 ip=$2 secs=${3:-30}
  for _ in $(seq $((secs * 4))); do
    "$LAB" exec "$from" -- calico-probe connect tcp "$ip" 80 250 && return 0
    sleep 0.25
  done
  return 1
}
# in_sync HOST SINCE_LINES: the node log has a new "in sync" line after its first SINCE_LINES.
wait_in_sync() {
  local h=$1 since=$2
  for _ in $(seq 120); do
    tail -n +"$((since + 1))" "$S/$h/node.log" | has "in sync at revision" && return 0
    sleep 0.25
  done
  return 1
}
log_lines() { wc -l <"$S/$1/node.log"; }

# ---------------------------------------------------------------------------------- cni faults
if phase cni; then
  echo "cni: kill -9 of the calico plugin during $KILLS ADDs and $KILLS DELs"
  # A typical ADD's duration, so the kills land anywhere in it.
  add_total=0 del_total=0
  for i in 1 2 3; do
    netns_add "warm$i"
    t0=$(now_ms)
    cni ADD calico-01 "warm$i" >/dev/null || fail "warm-up ADD"
    t1=$(now_ms)
    cni DEL calico-01 "warm$i" >/dev/null || fail "warm-up DEL"
    add_total=$((add_total + t1 - t0)) del_total=$((del_total + $(now_ms) - t1))
    netns_del "warm$i"
  done
  # Kills land anywhere from the start to the usual end (at most 999 ms in).
  span=$(( add_total / 3 < 999 ? add_total / 3 : 999 ))
  del_span=$(( del_total / 3 < 999 ? del_total / 3 : 999 ))
  echo "  ADD takes about $((add_total / 3)) ms, DEL $((del_total / 3)) ms here; kills land in 0-$span / 0-$del_span ms"
  retried=() forgotten=() done_before_kill=0 killed=0
  for i in $(seq "$KILLS"); do
    h=${HOSTS[$((i % 3))]}
    cid="ka$i"
    netns_add "$cid"
    cni_bg ADD "$h" "$cid"
    sleep "0.$(printf '%03d' $((RANDOM % span)))"
    kill -9 "$CNI_PID" 2>/dev/null && killed=$((killed + 1)) || true
    wait "$CNI_PID" 2>/dev/null || true
    if has '"ips"' "$T/out-$cid"; then done_before_kill=$((done_before_kill + 1)); fi
    if ((i % 2 == 0)); then retried+=("$h/$cid"); else forgotten+=("$h/$cid"); fi
  done
  for i in $(seq "$KILLS"); do
    h=${HOSTS[$((i % 3))]}
    cid="kd$i"
    netns_add "$cid"
    cni ADD "$h" "$cid" >/dev/null || fail "ADD of $cid"
    cni_bg DEL "$h" "$cid"
    sleep "0.$(printf '%03d' $((RANDOM % del_span)))"
    kill -9 "$CNI_PID" 2>/dev/null && killed=$((killed + 1)) || true
    wait "$CNI_PID" 2>/dev/null || true
    if ((i % 2 == 0)); then retried+=("$h/$cid"); else forgotten+=("$h/$cid"); fi
  done
  echo "  $killed plugins killed ($done_before_kill ADDs had already answered)"
  # The runtime retries DEL of half of them: each succeeds and leaves nothing of the container.
  for hc in "${retried[@]}"; do
    cni DEL "${hc%/*}" "${hc#*/}" >/dev/null || fail "retried DEL of ${hc#*/} failed"
    netns_del "${hc#*/}"
  done
  out=$(ctl ipam check --show-problem-ips -o "$T/report.json") || fail "ipam check: $out"
  for hc in "${retried[@]}"; do
    if echo "$out" | has "stress\.${hc#*/}\b\|Workload(default/.*-${hc#*/}-"; then
      fail "a retried DEL left something of ${hc#*/}: $out"
    fi
  done
  leaked_ips=$(echo "$out" | sed -n 's/^Found \([0-9]*\) IPs that are allocated in IPAM but not actually in use./\1/p')
  leaked_handles=$(echo "$out" | sed -n 's/^Found \([0-9]*\) handles with no matching IPs.*/\1/p')
  unallocated=$(echo "$out" | sed -n 's/^Found \([0-9]*\) in-use IPs that are in active IP pools but have no corresponding IPAM allocation./\1/p')
  # Every problem belongs to a forgotten container.
  { echo "$out" | grep ' leaked; attrs Main:' || true; } | while read -r line; do
    cid=$(echo "$line" | sed 's/.*Main:stress\.\([^ ]*\).*/\1/')
    printf '%s\n' "${forgotten[@]}" | has "/$cid\$" || fail "leak of a container that was not forgotten: $line"
  done
  echo "  ipam check: $leaked_ips leaked addresses, $leaked_handles handles without addresses, $unallocated endpoints without an allocation (all of forgotten containers)"
  rel=$(ctl ipam release --from-report "$T/report.json" --force) || fail "ipam release --from-report: $rel"
  out=$(ctl ipam check) || fail "ipam check"
  echo "$out" | has "Found 0 IPs that are allocated in IPAM but not actually in use." ||
    fail "release --from-report left leaked addresses: $out"
  echo "$out" | has "Found 0 handles with no matching IPs" || fail "release left handles: $out"
  echo "  ok: ipam release --from-report freed them: $(echo "$rel" | grep -E '^Released' | tr '\n' ' ')"
  # What is left (endpoints whose DEL was killed after IPAM) is a DEL's job: the runtime's
  # garbage collection DELs the forgotten containers, which leaves the store clean.
  for hc in "${forgotten[@]}"; do
    cni DEL "${hc%/*}" "${hc#*/}" >/dev/null || fail "late DEL of ${hc#*/} failed"
    netns_del "${hc#*/}"
  done
  assert_clean "after the CNI kills"
  echo "FIGURES: fault=cni-kill store=$STORE_ARG killed=$killed answered_before_kill=$done_before_kill retried_dels=${#retried[@]} retried_dels_failed=0 forgotten=${#forgotten[@]} leaked_ips_found=$leaked_ips leaked_handles_found=$leaked_handles endpoints_without_allocation=$unallocated left_after_release_and_del=0"
fi

# ---------------------------------------------------------------------------------- node faults
if phase node || phase bird || phase etcd; then
  A=$(run calico-01 a)    # served on calico-01
  B=$(run calico-01 b)    # client on calico-01 (same host as a)
  C=$(run calico-02 c)    # served on calico-02
  D=$(run calico-03 d)    # client on calico-03
  reach b "$A" || fail "b cannot reach a"
  reach d "$C" || fail "d (calico-03) cannot reach c (calico-02)"
  reach d "$A" || fail "d (calico-03) cannot reach a (calico-01)"
  echo "workloads: a=$A b=$B (calico-01) c=$C (calico-02) d=$D (calico-03)"
fi

# Normalised dataplane of a host: the calico table (counters dropped, each rule prefixed by its
# chain, sorted) and the agent's routes (proto 80 and blackholes), sorted.
dataplane() {
  local h=$1
  ip netns exec calico-lab-"$h" nft list table inet calico | sed 's/ counter packets [0-9]* bytes [0-9]*//' |
    awk '/^\t(chain|set|map) / { c = $2 } { print c " " $0 }' | sort
  ip -n calico-lab-"$h" route show table all proto 80 | sort
}

if phase node; then
  echo "node: kill -9 of calico-node on calico-01 while it programs 30 policies"
  holds=()
  for spec in "b $A" "d $C" "d $A"; do
    set -- $spec
    "$LAB" exec "$1" -- calico-probe hold "$2" 80 25 >"$T/hold-$1-$2" 2>&1 &
    holds+=("$!:$1->$2")
  done
  sleep 1
  policies=""
  for i in $(seq 30); do
    policies+="apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: burst-$i}
spec:
  selector: all()
  ingress: [{action: Deny, protocol: TCP, destination: {ports: [$((9000 + i))]}}, {action: Pass}]
  egress: [{action: Deny, protocol: UDP, destination: {ports: [$((9000 + i))]}}, {action: Pass}]
---
"
  done
  since=$(log_lines calico-01)
  echo "$policies" | ctl apply -f - >/dev/null || fail "apply the policies"
  sleep "0.$(printf '%03d' $((RANDOM % 400)))"
  "$LAB" stop calico-01 --kill >/dev/null || fail "kill calico-node"
  killed_at=$(now_ms)
  "$LAB" start calico-01 >/dev/null || fail "restart calico-node"
  wait_in_sync calico-01 "$since" || fail "the restarted calico-node never got in sync"
  recovered=$(( $(now_ms) - killed_at ))
  bird_pid_after=$(cat "$S/calico-01/bird.pid")
  # BIRD died with the killed calico-node (PR_SET_PDEATHSIG, bird_supervisor.h); the new one
  # starts it in graceful-restart recovery (-R): the kernel keeps the routes, the peers keep ours.
  grep -q "started bird pid=$bird_pid_after .*graceful restart recovery" "$S/calico-01/node.log" ||
    fail "the restarted calico-node did not start BIRD in recovery: $(grep -i bird "$S/calico-01/node.log" | tail -3)"
  broken=0
  for h in "${holds[@]}"; do
    if ! wait "${h%%:*}"; then
      broken=$((broken + 1))
      echo "  BROKEN: ${h#*:}: $(cat "$T/hold-$(echo "${h#*:}" | sed 's/->/-/')")" >&2
    fi
  done
  [ "$broken" = 0 ] || fail "$broken established flows broke across the calico-node kill"
  echo "  ok: 3 established flows (same host, calico-03->calico-02, calico-03->calico-01) held"
  echo "  ok: restarted, in sync $recovered ms after the kill; BIRD restarted in recovery (pid $bird_pid_after)"
  # A restart by SIGTERM (calico-node stops its BIRD too): the flows on the host and between the
  # other hosts do not notice.
  holds=()
  for spec in "b $A" "d $C"; do
    set -- $spec
    "$LAB" exec "$1" -- calico-probe hold "$2" 80 12 >"$T/thold-$1" 2>&1 &
    holds+=("$!:$1->$2")
  done
  sleep 1
  since=$(log_lines calico-01)
  "$LAB" stop calico-01 >/dev/null || fail "stop calico-node"
  "$LAB" start calico-01 >/dev/null || fail "start calico-node"
  wait_in_sync calico-01 "$since" || fail "calico-node never got in sync after a SIGTERM restart"
  for h in "${holds[@]}"; do
    wait "${h%%:*}" || fail "the flow ${h#*:} broke across a SIGTERM restart: $(cat "$T"/thold-* 2>/dev/null)"
  done
  echo "  ok: 2 established flows (same host, between the other hosts) held through a SIGTERM restart"
  # The restarted agent's dataplane equals what a fresh start programs from the datastore.
  dataplane calico-01 >"$T/after-crash"
  "$LAB" stop calico-01 >/dev/null
  ip netns exec calico-lab-calico-01 nft delete table inet calico
  ip -n calico-lab-calico-01 route show proto 80 | while read -r r; do
    ip -n calico-lab-calico-01 route del $r 2>/dev/null || true
  done
  since=$(log_lines calico-01)
  "$LAB" start calico-01 >/dev/null || fail "start calico-node"
  wait_in_sync calico-01 "$since" || fail "the fresh calico-node never got in sync"
  dataplane calico-01 >"$T/fresh"
  diff "$T/fresh" "$T/after-crash" >"$T/dataplane.diff" ||
    fail "after the crash the dataplane differs from a fresh start: $(head -20 "$T/dataplane.diff")"
  echo "  ok: nftables table ($(grep -c . "$T/fresh") lines) and routes equal a fresh start's"
  reach b "$A" 10 || fail "b cannot reach a after the restarts"
  for i in $(seq 30); do echo "burst-$i"; done | sed 's/^/globalnetworkpolicy /' |
    while read -r kind name; do ctl delete "$kind" "$name" >/dev/null; done
  echo "FIGURES: fault=node-kill store=$STORE_ARG flows_held=3 flows_broken=$broken in_sync_after_ms=$recovered dataplane_diff_lines=0 bird_restarted=no sigterm_restart_flows_held=2"
fi

if phase bird; then
  echo "bird: kill -9 of BIRD on calico-02"
  old=$(cat "$S/calico-02/bird.pid")
  kill -9 "$old"
  killed_at=$(now_ms)
  new=""
  for _ in $(seq 100); do
    new=$(cat "$S/calico-02/bird.pid" 2>/dev/null || true)
    [ -n "$new" ] && [ "$new" != "$old" ] && [ -e "/proc/$new" ] && break
    sleep 0.1
  done
  [ -n "$new" ] && [ "$new" != "$old" ] || fail "calico-node did not restart BIRD"
  restarted=$(( $(now_ms) - killed_at ))
  reach d "$C" 60 || fail "calico-03 cannot reach c on calico-02 after BIRD came back"
  reach b "$C" 30 || fail "calico-01 cannot reach c on calico-02 after BIRD came back"
  routes_back=$(( $(now_ms) - killed_at ))
  echo "  ok: BIRD restarted in $restarted ms; calico-01 and calico-03 reach calico-02 again $routes_back ms after the kill"
  echo "FIGURES: fault=bird-kill store=$STORE_ARG bird_restarted_after_ms=$restarted cross_host_back_after_ms=$routes_back"
fi

# ---------------------------------------------------------------------------------- etcd faults
if phase etcd && [ "$STORE_ARG" = etcd ]; then
  echo "etcd: kill -9 of one member of 3 under CNI load"
  LOADN=$((KILLS * 2))
  load_worker() {  # load_worker HOST W: LOADN ADDs, every other one followed by a DEL
    local h=$1 w=$2 log=$T/load-$1-$2 i cid out t0
    for ((i = 0; i < LOADN; i++)); do
      cid="e${h#calico-}-$w-$i"
      netns_add "$cid"
      if out=$(cni ADD "$h" "$cid"); then
        echo "$(now_ms) ADD $cid $(echo "$out" | result_ip)" >>"$log"
      else
        echo "$(now_ms) ADDFAIL $cid $(echo "$out" | result_msg | tr ' ' _)" >>"$log"
      fi
      if ((i % 2 == 1)); then
        echo "$(now_ms) DEL $cid" >>"$log"
        if ! out=$(cni DEL "$h" "$cid"); then
          echo "$(now_ms) DELFAIL $cid $(echo "$out" | result_msg | tr ' ' _)" >>"$log"
        fi
        netns_del "$cid"
      fi
    done
  }
  pids=()
  for h in "${HOSTS[@]}"; do
    load_worker "$h" 0 &
    pids+=($!)
    BG_PIDS+=($!)
  done
  sleep 3
  "$LAB" stop etcd --kill >/dev/null || fail "kill etcd member 0"
  echo "  etcd (member 0, the current endpoint of about a third of the clients) killed"
  for p in "${pids[@]}"; do wait "$p" || fail "a load worker failed"; done
  cat "$T"/load-* >"$T/load"
  ok=$(awk '$2 == "ADD"' "$T/load" | wc -l)
  failed=$(awk '$2 == "ADDFAIL"' "$T/load" | wc -l)
  delfail=$(awk '$2 == "DELFAIL"' "$T/load" | wc -l)
  dups=0
  check_no_duplicates "$T/load" >"$T/dups" || dups=$(wc -l <"$T/dups")
  [ "$dups" = 0 ] || fail "addresses handed out twice: $(head -3 "$T/dups")"
  [ "$delfail" = 0 ] || fail "$delfail DELs failed with a member down: $(awk '$2 == "DELFAIL" {print $4}' "$T/load" | sort | uniq -c | head -3)"
  # No acknowledged write lost: every ADD that answered and was not DELed has its endpoint and
  # its allocation.
  ctl get workloadendpoints -A -o yaml | grep -o 'containerID: [^ ]*' | cut -d' ' -f2 >"$T/cids"
  lost=0
  for cid in $(awk '$2 == "ADD" {print $3}' "$T/load"); do
    n=${cid##*-}
    ((n % 2 == 0)) || continue
    grep -qx -- "$cid" "$T/cids" || { lost=$((lost + 1)); echo "  LOST: $cid" >&2; }
  done
  [ "$lost" = 0 ] || fail "$lost acknowledged ADDs lost their endpoint"
  echo "  ok: $ok ADDs answered ($failed failed: $(awk '$2 == "ADDFAIL" {print $4}' "$T/load" | sort | uniq -c | head -3 | tr '\n' ' ')), none lost, no address twice"
  "$LAB" start etcd >/dev/null || fail "restart etcd member 0"
  echo "FIGURES: fault=etcd-member-kill adds_attempted=$((ok + failed)) adds_ok=$ok adds_failed=$failed dels_failed=$delfail acknowledged_lost=$lost duplicates=$dups"

  echo "etcd: loss and return of quorum"
  holds=()
  for spec in "b $A" "d $C"; do
    set -- $spec
    "$LAB" exec "$1" -- calico-probe hold "$2" 80 20 >"$T/qhold-$1" 2>&1 &
    holds+=("$!:$1->$2")
  done
  sleep 1
  "$LAB" stop etcd-1 --kill >/dev/null
  "$LAB" stop etcd-2 --kill >/dev/null
  lost_at=$(now_ms)
  netns_add q1
  t0=$(now_ms)
  if out=$(cni ADD calico-01 q1); then fail "an ADD succeeded without etcd quorum: $out"; fi
  fail_ms=$(( $(now_ms) - t0 ))
  msg=$(echo "$out" | result_msg)
  [ -n "$msg" ] || fail "the ADD without quorum gave no CNI error: $out"
  echo "  ADD without quorum failed in $fail_ms ms: $msg"
  cni DEL calico-01 q1 >/dev/null 2>&1 || true
  # The dataplane stays while the datastore is gone: flows and policy keep working.
  reach b "$A" 5 || fail "b cannot reach a without etcd quorum"
  sleep 8
  "$LAB" start etcd-1 >/dev/null
  "$LAB" start etcd-2 >/dev/null
  back_at=$(now_ms)
  broken=0
  for h in "${holds[@]}"; do wait "${h%%:*}" || { broken=$((broken + 1)); echo "  BROKEN: ${h#*:}" >&2; }; done
  [ "$broken" = 0 ] || fail "$broken established flows broke while etcd had no quorum"
  ok_at=""
  for _ in $(seq 120); do
    if cni ADD calico-01 q1 >"$T/q1" 2>&1; then ok_at=$(now_ms); break; fi
    sleep 0.5
  done
  [ -n "$ok_at" ] || fail "CNI ADD never worked again after quorum returned: $(cat "$T/q1")"
  Q=$(result_ip <"$T/q1")
  echo "  ok: quorum back; a CNI ADD works again $((ok_at - back_at)) ms after the members restarted"
  # The agents resynchronise: a new workload on calico-02 is reachable from calico-03.
  E=$(run calico-02 e)
  reach d "$E" 60 || fail "calico-03 cannot reach a workload added on calico-02 after the outage"
  agents_at=$(now_ms)
  cni DEL calico-01 q1 >/dev/null || fail "DEL q1"
  netns_del q1
  echo "  ok: established flows held through the outage; a new workload reachable across hosts $((agents_at - back_at)) ms after quorum returned"
  echo "FIGURES: fault=etcd-quorum-loss outage_ms=$((back_at - lost_at)) add_failed_after_ms=$fail_ms flows_broken=$broken add_works_after_ms=$((ok_at - back_at)) new_workload_reachable_after_ms=$((agents_at - back_at))"
fi

# Everything goes; nothing is left.
for w in $("$LAB" list | awk 'NR > 1 && $1 != "node" {print $1}'); do "$LAB" rm "$w" >/dev/null; done
if [ -f "$T/load" ]; then
  for cid in $(awk '$2 == "ADD" {print $3}' "$T/load"); do
    n=${cid##*-}
    ((n % 2 == 0)) || continue
    h="calico-$(echo "$cid" | sed 's/^e\([0-9]*\)-.*/\1/')"
    cni DEL "$h" "$cid" >/dev/null || fail "final DEL of $cid"
    netns_del "$cid"
  done
fi
assert_clean "at the end"
echo "PASS: faults $STORE_ARG ($PHASES)"
