#!/usr/bin/env bash
# calicoctl policy explain agrees with real packets: seeded, generated policy sets (tiers with
# Deny/Pass default actions, policy order, Pass, selectors, namespaceSelector through kns.*
# profile labels, nets/notNets, ports/notPorts, named ports, TCP/UDP/ICMP, ingress and egress,
# the workloads' profiles and the default deny) are applied to a real calico-node programming
# nftables in a test host namespace, each case's connection is attempted with calico-probe/ping
# between workload namespaces, and the observed verdict is compared with explain's.
#   explain_agreement_test.sh BUILD_BIN_DIR [SEED]
# EXPLAIN_SEED / the second argument pick another seed; the default one runs in make test.
BIN=${1:?usage: explain_agreement_test.sh BUILD_BIN_DIR [SEED]}
SEED=${2:-${EXPLAIN_SEED:-20261207}}
SCENARIOS=${EXPLAIN_SCENARIOS:-16}
PROBES=${EXPLAIN_PROBES:-10}
source "$(dirname "$0")/../runtimes/lib.sh"

declare -A IP
wl() {  # wl NAME NETWORK: a workload namespace with servers on tcp 80, tcp 8080 and udp 53
  local name=$1 net=$2 ns=$HOST-$1 out
  ip netns add "$ns"
  CLEANUP_STEPS+=("ip netns del $ns")
  ip netns exec "$ns" ip link set lo up
  printf '{"cniVersion":"0.4.0","name":"%s","type":"calico","nodename":"node1","datastore_path":"%s","ipam":{"type":"calico-ipam"}}' \
    "$net" "$T/db/calico.db" > "$T/conf-$name"
  out=$(hx env -i CNI_COMMAND=ADD CNI_CONTAINERID="$name" CNI_NETNS=/var/run/netns/"$ns" CNI_IFNAME=eth0 \
    CNI_PATH="$BIN" "$BIN/calico" < "$T/conf-$name") || fail "CNI ADD of $name: $out"
  IP[$name]=$(echo "$out" | grep -o '"address":"[0-9.]*' | head -1 | cut -d'"' -f4)
  [ -n "${IP[$name]}" ] || fail "no address for $name: $out"
  for spec in "tcp 80" "tcp 8080" "udp 53"; do
    ip netns exec "$ns" "$BIN/calico-probe" serve $spec >/dev/null 2>&1 &
    CLEANUP_STEPS+=("kill $!")
  done
}
apply() { "$BIN/calicoctl" apply -f "$1" >/dev/null || fail "calicoctl apply -f $1: $(cat "$1")"; }

mkdir -p "$T/run"
nsenter --net=/run/netns/"$HOST" env NODENAME=node1 DATASTORE_TYPE=local \
  CALICO_DATASTORE_PATH="$T/db/calico.db" CALICO_RUN_DIR="$T/run" FELIX_LOGSEVERITYSCREEN=warning \
  "$BIN/calico-node" -felix >>"$T/agent.log" 2>&1 &
AGENT=$!
CLEANUP_STEPS+=("kill $AGENT 2>/dev/null; wait $AGENT 2>/dev/null")

W=(w0 w1 w2 w3)
wl w0 net1; wl w1 net1; wl w2 net1; wl w3 net2
# Labels, named ports and namespace labels (kns.* profiles' labelsToApply, KDD's form).
cat > "$T/kns.yaml" <<YAML
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.prod}
spec: {labelsToApply: {pcns.env: prod}}
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata: {name: kns.dev}
spec: {labelsToApply: {pcns.env: dev}}
YAML
apply "$T/kns.yaml"
patch_wl() {  # patch_wl NAME JSON
  "$BIN/calicoctl" patch workloadendpoint "node1-cni-$1-eth0" -n default -p "$2" >/dev/null ||
    fail "cannot patch $1"
}
patch_wl w0 '{"metadata":{"labels":{"app":"web"}},"spec":{"profiles":["net1","kns.prod"],"ports":[{"name":"http","protocol":"TCP","port":8080},{"name":"dns","protocol":"UDP","port":53}]}}'
patch_wl w1 '{"metadata":{"labels":{"app":"db"}},"spec":{"profiles":["net1","kns.prod"],"ports":[{"name":"http","protocol":"TCP","port":80}]}}'
patch_wl w2 '{"metadata":{"labels":{"app":"client"}},"spec":{"profiles":["net1","kns.dev"]}}'
patch_wl w3 '{"metadata":{"labels":{"app":"client"}},"spec":{"profiles":["net2","kns.dev"]}}'
echo "workloads: w0 ${IP[w0]} (web, prod) w1 ${IP[w1]} (db, prod) w2 ${IP[w2]} (client, dev) w3 ${IP[w3]} (net2, dev)"

# --- the seeded generator -------------------------------------------------------------------
# No command substitution below: bash reseeds RANDOM in subshells, which would make the cases
# differ from run to run. Functions return through REPLY / ENT / RULE.
RANDOM=$SEED
pick() { local a=("$@"); REPLY=${a[RANDOM % ${#a[@]}]}; }
SELECTORS=("all()" "app == 'web'" "app == 'db'" "app in {'web', 'db'}" "has(net2)" "app != 'client'")
PEERS=("app == 'client'" "app == 'web'" "has(net1)" "has(net2)" "app in {'db', 'client'}")
NSSEL=("env == 'prod'" "env == 'dev'")
feature() {  # feature: adds one random match to the rule being built (items, proto, src, dst)
  case $((RANDOM % 12)) in
    0) pick "${PEERS[@]}"; src+=("selector: \"$REPLY\"") ;;
    1) pick "${NSSEL[@]}"; src+=("namespaceSelector: \"$REPLY\"") ;;
    2) pick "${W[@]}"; pick 10.68.0.0/16 "${IP[$REPLY]}/32" "${IP[$REPLY]}/32" 192.0.2.0/24
       _n=$REPLY; pick src dst
       if [ "$REPLY" = src ]; then src+=("nets: [$_n]"); else dst+=("nets: [$_n]"); fi ;;
    3) pick "${W[@]}"; pick "${IP[$REPLY]}/32" "${IP[$REPLY]}/32" 192.0.2.0/24; dst+=("notNets: [$REPLY]") ;;
    4) pick "${PEERS[@]}"; src+=("notSelector: \"$REPLY\"") ;;
    5) pick "${PEERS[@]}"; dst+=("selector: \"$REPLY\"") ;;
    6|7) [ -n "$proto" ] || { pick TCP TCP UDP; proto=$REPLY; }
       if [ "$proto" = TCP ]; then pick 80 8080 '"8000:8100"' http; else pick 53 dns; fi
       if [ "$proto" != ICMP ]; then dst+=("ports: [$REPLY]"); fi ;;
    8) [ -n "$proto" ] || { pick TCP UDP; proto=$REPLY; }
       if [ "$proto" = TCP ]; then pick 80 8080 http; else pick 53 dns; fi
       if [ "$proto" != ICMP ]; then dst+=("notPorts: [$REPLY]"); fi ;;
    9) [ -n "$proto" ] || { pick TCP UDP ICMP; notproto=$REPLY; } ;;
    10) if [ -z "$proto" ]; then proto=ICMP; pick 8 0; icmp=$REPLY; fi ;;
    11) [ -n "$proto" ] || { pick TCP UDP ICMP; proto=$REPLY; } ;;
  esac
}
rule() {  # RULE = one random rule (one match, sometimes two) as a YAML flow mapping
  local proto="" notproto="" icmp="" src=() dst=() items=() _n
  pick Allow Allow Deny Pass Log; items+=("action: $REPLY")
  feature
  if [ $((RANDOM % 3)) = 0 ]; then feature; fi
  if [ -n "$proto" ]; then items+=("protocol: $proto"); fi
  if [ -n "$notproto" ] && [ -z "$proto" ]; then items+=("notProtocol: $notproto"); fi
  if [ -n "$icmp" ] && [ "$proto" = ICMP ]; then items+=("icmp: {type: $icmp}"); fi
  # A second match on the same field keeps the first (YAML keys are unique).
  local keep=() seen=" " m
  for m in "${src[@]}"; do case $seen in *" s.${m%%:*} "*) ;; *) keep+=("$m"); seen+="s.${m%%:*} " ;; esac; done
  src=("${keep[@]}"); keep=()
  for m in "${dst[@]}"; do case $seen in *" d.${m%%:*} "*) ;; *) keep+=("$m"); seen+="d.${m%%:*} " ;; esac; done
  dst=("${keep[@]}")
  local IFS=,
  if [ ${#src[@]} -gt 0 ]; then items+=("source: {${src[*]}}"); fi
  if [ ${#dst[@]} -gt 0 ]; then items+=("destination: {${dst[*]}}"); fi
  RULE="{${items[*]}}"
}
scenario() {  # scenario N: one generated policy set: its tiers to $T/sN-tiers.yaml, its policies
              # to $T/sN.yaml (no subshell)
  local n=$1 tiers=(default) t nt=$((RANDOM % 3))
  : > "$T/s$n-tiers.yaml"
  exec 3>>"$T/s$n-tiers.yaml" 4>"$T/s$n.yaml"
  for t in $(seq "$nt"); do
    tiers+=("s$n-t$t")
    pick Deny Pass
    printf -- '---\napiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: s%s-t%s}\nspec: {order: %s, defaultAction: %s}\n' \
      "$n" "$t" $((RANDOM % 3 * 50 + t)) "$REPLY" >&3
  done
  local p np=$((RANDOM % 4 + 1))
  for p in $(seq "$np"); do
    local tier name types r nr dir
    pick "${tiers[@]}"; tier=$REPLY
    name=s$n-p$p; [ "$tier" = default ] || name=$tier.s$n-p$p
    pick "[Ingress]" "[Ingress]" "[Egress]" "[Ingress, Egress]"; types=$REPLY
    pick "${SELECTORS[@]}"
    printf -- '---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: %s}\nspec:\n  tier: %s\n  selector: "%s"\n  types: %s\n' \
      "$name" "$tier" "$REPLY" "$types" >&4
    if [ $((RANDOM % 3)) != 0 ]; then printf '  order: %s\n' $((RANDOM % 4 * 10)) >&4; fi
    for dir in ingress egress; do
      case $types in *"${dir^}"*) ;; *) continue ;; esac
      nr=$((RANDOM % 3 + 1))
      printf '  %s:\n' "$dir" >&4
      for r in $(seq "$nr"); do rule; printf '  - %s\n' "$RULE" >&4; done
    done
  done
  exec 3>&- 4>&-
}
CONNS=("tcp 80" "tcp 80" "tcp 8080" "tcp 8080" "udp 53" "icmp")

# --- run ------------------------------------------------------------------------------------
ruleset_hash() { hx nft list table inet calico 2>/dev/null | sed -E 's/packets [0-9]+ bytes [0-9]+//g' | md5sum; }
# Waits until the agent has programmed the change: the ruleset differs from `before` (or 8 s
# passed: a change that renders the same) and then stays the same for 1 s.
settle() {
  local before=$1 now last i
  for i in $(seq 40); do now=$(ruleset_hash); [ "$now" != "$before" ] && break; sleep 0.2; done
  last=$now
  for i in $(seq 30); do sleep 1; now=$(ruleset_hash); [ "$now" = "$last" ] && return 0; last=$now; done
  fail "the ruleset does not settle"
}
probe() {  # probe FROM TO CONN: 0 = connected
  local from=$HOST-$1 to=${IP[$2]} proto=${3%% *} port=${3#* }
  if [ "$proto" = icmp ]; then
    ip netns exec "$from" busybox ping -c 1 -W 1 "$to" >/dev/null 2>&1
  else
    ip netns exec "$from" "$BIN/calico-probe" connect "$proto" "$to" "$port" 1000 >/dev/null 2>&1
  fi
}
explain_case() {  # explain_case FROM TO CONN: calicoctl policy explain's text
  local proto=${3%% *} port=${3#* } args
  args=(--from "${IP[$1]}" --to "${IP[$2]}" --protocol "$proto")
  [ "$proto" = icmp ] || args+=(--port "$port")
  "$BIN/calicoctl" policy explain "${args[@]}"
}
# The step that decided each direction (the last step before "=>" that is not [pending]), one
# line per direction: what the coverage summary counts.
deciders() {
  awk '/^  [0-9]+\. / && !/\[pending\]/ { last = $0 } /^  => / { print last }' "$@"
}

probe_and_compare() {  # probe_and_compare N: the probes in PF/PT/PC of scenario N, against explain
  local i p got want PIDS=()
  for i in "${!PF[@]}"; do
    ( if probe "${PF[$i]}" "${PT[$i]}" "${PC[$i]}"; then echo Allow; else echo Deny; fi ) > "$T/got-$n-$i" &
    PIDS+=($!)
  done
  for i in "${!PF[@]}"; do
    explain_case "${PF[$i]}" "${PT[$i]}" "${PC[$i]}" > "$T/explain-$n-$i" ||
      fail "calicoctl policy explain failed for ${PF[$i]} -> ${PT[$i]} ${PC[$i]}"
    sed -n 's/^Verdict: \(Allow\|Deny\).*/\1/p' "$T/explain-$n-$i" > "$T/want-$n-$i"
  done
  for p in "${PIDS[@]}"; do wait "$p" || true; done
  for i in "${!PF[@]}"; do
    got=$(cat "$T/got-$n-$i"); want=$(cat "$T/want-$n-$i"); cases=$((cases + 1))
    [ "$got" = Allow ] && allowed=$((allowed + 1))
    if [ "$got" = "$want" ]; then
      echo "  ok: scenario $n: ${PF[$i]} -> ${PT[$i]} ${PC[$i]}: $got"
    else
      mismatches=$((mismatches + 1))
      echo "MISMATCH: scenario $n: ${PF[$i]} -> ${PT[$i]} ${PC[$i]}: packets $got, explain '$want'"
      echo "--- scenario $n:"; cat "$T/s$n-tiers.yaml" "$T/s$n.yaml"
      cat "$T/explain-$n-$i"
    fi
  done
}
cases=0 mismatches=0 allowed=0
hash=$(ruleset_hash)
for n in $(seq "$SCENARIOS"); do
  scenario "$n"
  if [ "$n" -gt 1 ]; then
    "$BIN/calicoctl" delete -f "$T/s$((n - 1)).yaml" >/dev/null || fail "delete scenario $((n - 1))"
    if [ -s "$T/s$((n - 1))-tiers.yaml" ]; then
      "$BIN/calicoctl" delete -f "$T/s$((n - 1))-tiers.yaml" >/dev/null || fail "delete tiers $((n - 1))"
    fi
  fi
  if [ -s "$T/s$n-tiers.yaml" ]; then apply "$T/s$n-tiers.yaml"; fi
  apply "$T/s$n.yaml"
  settle "$hash"
  hash=$(ruleset_hash)
  PF=() PT=() PC=()
  for i in $(seq "$PROBES"); do
    pick "${W[@]}"; f=$REPLY
    pick "${W[@]}"; t=$REPLY
    while [ "$t" = "$f" ]; do pick "${W[@]}"; t=$REPLY; done
    pick "${CONNS[@]}"
    PF+=("$f"); PT+=("$t"); PC+=("$REPLY")
  done
  probe_and_compare "$n"
done

# --- merged runs: fixed scenarios whose consecutive simple policies (protocol, nets, ports) the
# agent renders as one verdict-map lookup (src/calico/policy/policy_merge.h): overlapping nets
# that break a run, port ranges, a Deny run then Allows, a Pass between runs leaving the tier, a
# non-simple policy between runs, a staged policy inside a run (never enforced), tiers.
"$BIN/calicoctl" delete -f "$T/s$SCENARIOS.yaml" >/dev/null || fail "delete scenario $SCENARIOS"
if [ -s "$T/s$SCENARIOS-tiers.yaml" ]; then
  "$BIN/calicoctl" delete -f "$T/s$SCENARIOS-tiers.yaml" >/dev/null || fail "delete tiers $SCENARIOS"
fi
POOL16=$(echo "${IP[w0]}" | cut -d. -f1-2).0.0/16
gnp() {  # gnp KIND NAME TIER ORDER RULE...: a policy on every workload with these ingress rules
  local kind=$1 name=$2 tier=$3 order=$4 r; shift 4
  printf -- '---\napiVersion: projectcalico.org/v3\nkind: %s\nmetadata: {name: %s}\nspec:\n  tier: %s\n  order: %s\n  selector: all()\n  types: [Ingress]\n  ingress:\n' \
    "$kind" "$name" "$tier" "$order"
  for r in "$@"; do printf '  - %s\n' "$r"; done
}
G=GlobalNetworkPolicy
from() { echo "source: {nets: [$1]}, destination: {ports: [$2]}"; }
{
  gnp $G m1-a default 1 "{action: Deny, protocol: TCP, $(from "${IP[w2]}/32" 80)}"
  gnp $G m1-b default 2 "{action: Deny, protocol: TCP, $(from "${IP[w3]}/32" 8080)}" \
    "{action: Deny, protocol: UDP, $(from "${IP[w3]}/32" 53)}"
  gnp StagedGlobalNetworkPolicy m1-staged default 3 "{action: Deny, protocol: TCP, $(from "$POOL16" 80)}"
  # Overlaps m1-b (w3 to 8080): a new run starts here, m1-b keeps those packets.
  gnp $G m1-c default 4 "{action: Allow, protocol: TCP, $(from "$POOL16" "'8000:8100'")}"
  gnp $G m1-d default 5 "{action: Deny, protocol: TCP, $(from "${IP[w1]}/32" 80)}"
  gnp $G m1-e default 6 "{action: Allow, protocol: TCP, destination: {ports: [80]}}"
  gnp $G m1-f default 7 "{action: Allow, protocol: UDP, destination: {ports: [53]}}"
} > "$T/sm1.yaml"
: > "$T/sm1-tiers.yaml"
printf -- 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: m2-sec}\nspec: {order: 10, defaultAction: Deny}\n' > "$T/sm2-tiers.yaml"
{
  gnp $G m2-sec.a m2-sec 1 "{action: Deny, protocol: TCP, $(from "${IP[w3]}/32" 80)}"
  gnp $G m2-sec.b m2-sec 2 "{action: Pass, protocol: TCP, $(from "$POOL16" 8080)}" \
    "{action: Pass, protocol: UDP, $(from "$POOL16" 53)}"
  gnp $G m2-sec.c m2-sec 3 "{action: Deny, protocol: TCP, $(from "${IP[w2]}/32" 80)}"
  gnp $G m2-sec.d m2-sec 4 "{action: Log}"
  gnp $G m2-sec.e m2-sec 5 "{action: Deny, protocol: TCP, $(from "${IP[w0]}/32" 8080)}"
  gnp $G m2-sec.f m2-sec 6 "{action: Allow, protocol: TCP, $(from "$POOL16" 80)}"
  gnp $G m2-h default 1 "{action: Allow, protocol: TCP, destination: {ports: ['8000:8100']}}"
  gnp $G m2-i default 2 "{action: Deny, protocol: TCP, $(from "${IP[w1]}/32" 80)}"
} > "$T/sm2.yaml"
prev=
for n in m1 m2; do
  if [ -n "$prev" ]; then
    "$BIN/calicoctl" delete -f "$T/s$prev.yaml" >/dev/null || fail "delete scenario $prev"
    if [ -s "$T/s$prev-tiers.yaml" ]; then "$BIN/calicoctl" delete -f "$T/s$prev-tiers.yaml" >/dev/null || fail "delete tiers $prev"; fi
  fi
  if [ -s "$T/s$n-tiers.yaml" ]; then apply "$T/s$n-tiers.yaml"; fi
  apply "$T/s$n.yaml"
  settle "$hash"
  hash=$(ruleset_hash)
  maps=$(hx nft list table inet calico | grep -c 'vmap @cali-m' || true)
  [ "$maps" -ge 2 ] || { hx nft list table inet calico; fail "scenario $n: no merged lookups programmed"; }
  PF=() PT=() PC=()
  for f in "${W[@]}"; do
    for t in "${W[@]}"; do
      [ "$f" = "$t" ] && continue
      for c in "tcp 80" "tcp 8080" "udp 53" "icmp"; do PF+=("$f"); PT+=("$t"); PC+=("$c"); done
    done
  done
  probe_and_compare "$n"
  prev=$n
done
echo "seed $SEED: $cases cases, $allowed allowed, $((cases - allowed)) denied, $mismatches mismatches"
# What decided the directions (and what Pass/notX steps were on the way), so that a change of the
# generator that stops exercising something shows.
deciders "$T"/explain-* > "$T/deciders"
cat "$T"/explain-* > "$T/all-steps"
count() { grep -c -- "$2" "$1" || true; }
echo "deciding steps: rule Allow $(count "$T/deciders" 'Allow matches') (profile $(count "$T/deciders" 'profile .*Allow matches')), rule Deny $(count "$T/deciders" 'Deny matches'), end of tier $(count "$T/deciders" 'end of tier: Deny'), no profile $(count "$T/deciders" 'Deny (no profile')"
echo "  deciding rules on: nets $(count "$T/deciders" ' in nets') notNets $(count "$T/deciders" 'not in notNets') selector $(count "$T/deciders" 'e selected by') notSelector $(count "$T/deciders" 'not selected by notSelector') namespaceSelector $(count "$T/deciders" 'pcns\.') ports $(count "$T/deciders" ' in ports') notPorts $(count "$T/deciders" 'not in notPorts') named ports $(count "$T/deciders" 'is the named port') protocol $(count "$T/deciders" 'matches (protocol') notProtocol $(count "$T/deciders" 'notProtocol') icmp $(count "$T/deciders" 'icmp type')"
echo "  on the way: Pass $(count "$T/all-steps" 'Pass matches') tier Pass $(count "$T/all-steps" 'end of tier: Pass') non-matching: notNets $(count "$T/all-steps" 'in notNets [0-9]') nets $(count "$T/all-steps" 'not in nets') selector $(count "$T/all-steps" 'not selected by') ports $(count "$T/all-steps" 'not in ports') notPorts $(count "$T/all-steps" 'in notPorts [0-9]') named $(count "$T/all-steps" 'is not the named port') protocol $(count "$T/all-steps" 'does not match: protocol')"
for what in 'Allow matches' 'Deny matches' 'end of tier: Deny' 'Deny (no profile'; do
  [ "$(count "$T/deciders" "$what")" -gt 0 ] || fail "no direction was decided by '$what': the generator lost coverage"
done
[ "$(count "$T/all-steps" 'Pass matches')" -gt 0 ] || fail "no Pass rule matched: the generator lost coverage"
[ "$cases" -ge 50 ] || fail "only $cases cases"
[ "$allowed" -gt 0 ] && [ "$allowed" -lt "$cases" ] || fail "the cases do not cover both verdicts"
[ "$mismatches" = 0 ] || { echo "--- agent log:"; tail -20 "$T/agent.log"; fail "$mismatches cases disagree"; }
echo "PASS: policy explain agrees with the packets in all $cases cases"
