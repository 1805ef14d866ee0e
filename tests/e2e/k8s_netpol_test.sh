#!/usr/bin/env bash
# Kubernetes NetworkPolicy semantics with real packets: a truth table over 3 namespaces x 3 pods
# (cyclonus' layout: namespaces x, y, z labelled ns=<name>; pods a, b, c labelled pod=<name>,
# each serving TCP 80 and 81 with the named ports serve-80-tcp / serve-81-tcp), one lab, the
# standard cases of Kubernetes' e2e network policy tests (test/e2e/network/netpol) and of
# cyclonus one after another: apply the case's objects with calicoctl (networking.k8s.io/v1
# NetworkPolicy, policy.networking.k8s.io/v1alpha1 admin policies), let calico-controllers
# convert them and calico-node program them, probe the whole 9 x 9 matrix on both ports in
# parallel, compare with the expected table, next case.
#
# A pod always reaches itself (its own address never leaves its namespace), as cyclonus treats
# loopback. Namespace names are quoted in the YAML: `y` unquoted is YAML 1.1's true, as in
# kubectl (sigs.k8s.io/yaml). Expected tables are written as rules over (from, to, port) below each case.
set -euo pipefail
has() { grep "$@" >/dev/null; }
BIN=${1:?usage: k8s_netpol_test.sh BUILD_BIN_DIR}
LAB="$BIN/calico-lab"
export CALICO_LAB_STATE_DIR=/run/calico-lab
TMP=$(mktemp -d /tmp/calico-netpol-XXXXXX)
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ] && [ -d "$CALICO_LAB_STATE_DIR" ]; then
    echo "--- calico-controllers log (tail)"; tail -n 30 "$CALICO_LAB_STATE_DIR/fabric/controllers.log" 2>/dev/null || true
  fi
  "$LAB" down >/dev/null 2>&1 || true
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

# Another test's lab is left alone: wait for it to go away, fail if it does not.
source "$(dirname "$0")/lab_guard.sh"
wait_for_no_lab || { trap - EXIT; rm -rf "$TMP"; exit 1; }

ctl() { "$LAB" host calico-01 -- calicoctl "$@"; }

echo "== lab up (2 hosts, calico-controllers in the fabric namespace)"
"$LAB" up --hosts 2 >/dev/null

NSS="x y z"
PODS=""
declare -A IP
for ns in $NSS; do
  ctl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: "$ns", labels: {ns: "$ns"}}
EOF
done
i=0
for ns in $NSS; do
  for p in a b c; do
    host=calico-0$(( i % 2 + 1 )); i=$((i + 1))
    IP[$ns-$p]=$("$LAB" run "$host" --namespace "$ns" --label "pod=$p" \
      --port serve-80-tcp=80/TCP --port serve-81-tcp=81/TCP --name "$ns-$p" -- \
      sh -c 'calico-probe serve tcp 80 & calico-probe serve tcp 81 & wait')
    PODS="$PODS $ns-$p"
  done
done
echo "pods:"; for p in $PODS; do echo "  $p ${IP[$p]}"; done

# The controllers made the namespaces' profiles; pods are k8s endpoints in their namespace.
for ns in $NSS; do
  for _ in $(seq 100); do ctl get profile "kns.$ns" >/dev/null 2>&1 && break; sleep 0.2; done
  ctl get profile "kns.$ns" -o yaml | has -E "pcns.ns: \"?$ns\"?\$" || fail "no kns.$ns profile with the namespace labels"
done
ctl get workloadendpoints -n x -o yaml | has "orchestrator: k8s" || fail "pods are not k8s endpoints"
ctl get workloadendpoints -n x -o yaml | has "calico--01-k8s-x--a-eth0" || fail "WorkloadEndpoint name is not <node>-k8s-<pod>-<iface>"

# One probe round: every pod connects to every pod on 80 and 81 at once. Output: one line per
# source "SRC d80 d80 ... | d81 ...".
probe_round() {
  local targets=""
  for port in 80 81; do for q in $PODS; do targets="$targets ${IP[$q]}:$port"; done; done
  for p in $PODS; do
    ( "$LAB" exec "$p" -- calico-probe matrix 1000 $targets >"$TMP/row.$p" 2>/dev/null || echo "exec failed" >"$TMP/row.$p" ) &
  done
  wait
  for p in $PODS; do
    local r; r=$(cat "$TMP/row.$p")
    local w=($r)
    echo "$p ${w[*]:0:9} | ${w[*]:9:9}"
  done
}

# The expected table of case $1: a function allowed_<case> FNS FPOD TNS TPOD PORT.
expected_table() {
  local c=$1
  for p in $PODS; do
    local line="$p"
    for port in 80 81; do
      [ $port = 81 ] && line="$line |"
      for q in $PODS; do
        local v=0
        if [ "$p" = "$q" ] || "allowed_$c" "${p%-*}" "${p#*-}" "${q%-*}" "${q#*-}" "$port"; then v=1; fi
        line="$line $v"
      done
    done
    echo "$line"
  done
}

ROUNDS_TOTAL=0
check_case() {
  local c=$1 title=$2
  local want; want=$(expected_table "$c")
  local got="" start=$SECONDS rounds=0
  while :; do
    got=$(probe_round); rounds=$((rounds + 1))
    [ "$got" = "$want" ] && break
    if [ $((SECONDS - start)) -gt 60 ]; then
      echo "case $c ($title): the matrix did not converge to the expected table" >&2
      echo "expected (from \\ to: $PODS; port 80 | port 81):" >&2; echo "$want" >&2
      echo "got:" >&2; echo "$got" >&2
      echo "--- calicoctl get networkpolicies -A -o yaml" >&2; ctl get networkpolicies -A -o yaml >&2 || true
      fail "case $c"
    fi
  done
  ROUNDS_TOTAL=$((ROUNDS_TOTAL + rounds))
  printf '  ok  %-28s %s (%d probe rounds)\n' "$c" "$title" "$rounds"
}

# Applies the case's objects (replacing the previous case's), then checks its table.
CURRENT=""
run_case() {
  local c=$1 title=$2 yaml=$3
  if [ -n "$CURRENT" ]; then ctl delete -f "$CURRENT" >/dev/null; fi
  CURRENT=""
  if [ -n "$yaml" ]; then
    printf '%s\n' "$yaml" >"$TMP/$c.yaml"
    ctl apply -f "$TMP/$c.yaml" >/dev/null || fail "apply of case $c"
    CURRENT="$TMP/$c.yaml"
  fi
  check_case "$c" "$title"
}

np() {  # np NAMESPACE NAME SPEC-YAML (indented under spec:)
  printf 'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: %s, namespace: "%s"}\nspec:\n%s\n---\n' "$2" "$1" "$3"
}

echo "== truth tables (from \\ to, ports 80 and 81)"

allowed_no_policies() { true; }
run_case no_policies "no policies: everything reaches everything" ""

allowed_deny_ingress() { [ "$3" != x ]; }
run_case deny_ingress "default deny ingress in x" "$(np x deny-all '  podSelector: {}
  policyTypes: [Ingress]')"

allowed_deny_egress() { [ "$1" != x ]; }
run_case deny_egress "default deny egress in x" "$(np x deny-all-egress '  podSelector: {}
  policyTypes: [Egress]')"

allowed_from_namespace() { [ "$3" != x ] || [ "$1" = y ]; }
run_case from_namespace "x allows ingress from namespace y only" "$(np x allow-from-y '  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}')"

allowed_from_pod() { [ "$3/$4" != x/a ] || [ "$1/$2" = x/b ]; }
run_case from_pod "x/a allows ingress from pod b of its namespace" "$(np x allow-a-from-b '  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: b}}')"

allowed_combined() { [ "$3/$4" != x/a ] || [ "$1/$2" = y/c ]; }
run_case combined "x/a from pod c AND namespace y (one peer)" "$(np x allow-a-from-yc '  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
      podSelector: {matchLabels: {pod: c}}')"

allowed_either() { [ "$3/$4" != x/a ] || [ "$1" = y ] || [ "$1/$2" = x/b ]; }
run_case either "x/a from namespace y OR pod b (two peers)" "$(np x allow-a-from-y-or-b '  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "y"}}
    - podSelector: {matchLabels: {pod: b}}')"

allowed_ipblock() { [ "$3/$4" != x/a ] || [ "$1/$2" != y/b ]; }
run_case ipblock "x/a from the pod CIDR except y/b's address" "$(np x allow-a-ipblock "  podSelector: {matchLabels: {pod: a}}
  ingress:
  - from:
    - ipBlock: {cidr: 198.19.0.0/16, except: [${IP[y-b]}/32]}")"

allowed_egress_port_range() { [ "$1" != x ] || [ "$5" = 81 ]; }
run_case egress_port_range "x egress only to TCP 81-90 (endPort)" "$(np x egress-81-90 '  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports:
    - {protocol: TCP, port: 81, endPort: 90}')"

allowed_named_port() { [ "$3" != x ] || [ "$5" = 81 ]; }
run_case named_port "x ingress only to the named port serve-81-tcp" "$(np x allow-named-81 '  podSelector: {}
  ingress:
  - ports:
    - {port: serve-81-tcp}')"

allowed_ns_without_policies() { [ "$3" = z ]; }
run_case ns_without_policies "x and y deny ingress; z has no policies" "$(np x deny-all '  podSelector: {}
  policyTypes: [Ingress]')
$(np y deny-all '  podSelector: {}
  policyTypes: [Ingress]')"

allowed_admin_deny() { [ "$1" != z ] && [ "$3" != x ]; }
run_case admin_deny "AdminNetworkPolicy (kube-admin) denies z, over x's NetworkPolicy allowing z" "$(np x allow-from-z '  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "z"}}')
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-from-z}
spec:
  priority: 10
  subject: {namespaces: {}}
  ingress:
  - {name: deny z, action: Deny, from: [{namespaces: {matchLabels: {ns: "z"}}}]}"

allowed_baseline() { if [ "$3" = x ]; then [ "$1" = z ]; else [ "$1" != z ]; fi; }
run_case baseline "BaselineAdminNetworkPolicy (kube-baseline) denies z unless a NetworkPolicy allows" "$(np x allow-from-z '  podSelector: {}
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {ns: "z"}}')
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {matchLabels: {ns: "z"}}}]}"

# What the controllers wrote, as calicoctl shows it (the last case is still applied).
ctl get networkpolicies -n x | has "knp.default.allow-from-z" || fail "knp.default.allow-from-z not listed"
ctl get k8snetworkpolicy -n x | has "allow-from-z" || fail "the Kubernetes NetworkPolicy is not listed"
ctl get globalnetworkpolicies -o wide | has "kbanp.kube-baseline.default.*kube-baseline" || fail "BANP not in kube-baseline"
ctl delete -f "$CURRENT" >/dev/null
for _ in $(seq 50); do
  ctl get networkpolicies -A | has knp.default || break
  sleep 0.2
done
ctl get networkpolicies -A | has knp.default && fail "knp.default.* left after deleting the Kubernetes policies"
ctl get globalnetworkpolicies | has kbanp && fail "kbanp left after deleting the BaselineAdminNetworkPolicy"
echo "PASS: 13 cases, 9 pods x 9 pods x 2 ports, $ROUNDS_TOTAL probe rounds"
