#!/usr/bin/env bash
# `make demo`: what works end to end so far, on the embedded datastore in a temporary directory.
# Creates an IP pool and the two network profiles of seed 000 (frontend, backend), lists them in
# every output format, shows a rejected resource, and removes everything it made.
set -euo pipefail
bin="$(cd "${1:-build/bin}" && pwd)"
work="$(mktemp -d /tmp/calico-demo.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export CALICO_DATASTORE_PATH="$work/calico.db"
export PATH="$bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }
run() { step "$1" "$2"; bash -c "$2"; }

run "Create an IP pool" "calicoctl create -f - <<'YAML'
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 192.168.0.0/16
  natOutgoing: true
YAML"

run "Create the profiles of two networks (as the CNI plugin does on first use)" "calicoctl apply -f - <<'YAML'
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: frontend
spec:
  ingress:
  - action: Allow
    source:
      selector: has(frontend)
  egress:
  - action: Allow
  labelsToApply:
    frontend: ''
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: backend
spec:
  ingress:
  - action: Allow
    source:
      selector: has(backend)
  egress:
  - action: Allow
  labelsToApply:
    backend: ''
YAML"

run "List the pools" "calicoctl get ippools -o wide"
run "List the profiles" "calicoctl get profiles"
run "One profile as YAML (defaults filled in, server fields set)" "calicoctl get profile backend -o yaml"
run "The built-in tiers" "calicoctl get tiers"
step "A bad resource is rejected with the field and the reason, and nothing is written" \
  "calicoctl create -f bad-pool.yaml"
cat > "$work/bad-pool.yaml" <<'YAML'
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: bad-pool
spec:
  cidr: 10.0.0.1/8
YAML
if calicoctl create -f "$work/bad-pool.yaml"; then
  echo "demo: the bad pool was accepted" >&2
  exit 1
fi
run "Still one pool" "calicoctl get ippools"
printf '\n\033[1mdemo: success\033[0m (datastore was %s, now removed)\n' "$CALICO_DATASTORE_PATH"
