#!/usr/bin/env bash
# `make demo`: replays seed 000 ("Calico networking with rkt") on a two-host calico-lab with the
# embedded datastore: calico-node and BIRD on each host, two CNI networks, services and clients
# wired by the real CNI plugins, reachability across hosts within a network and isolation between
# networks. Leaves nothing behind (calico-lab down), also when a step fails.
set -euo pipefail
bin="$(cd "${1:-build/bin}" && pwd)"
if [ "$(id -u)" -ne 0 ]; then
  echo "make demo needs root: the lab creates network namespaces (run as root)" >&2
  exit 1
fi
exec "$bin/calico-lab" tutorial rkt --datastore "${DEMO_DATASTORE:-local}"
