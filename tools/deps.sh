#!/usr/bin/env bash
# Installs the Debian packages the project needs, only those missing; fast when all are present.
# Daemons shipped by packages (etcd, dockerd, bird) must never start in the root namespace: the
# install runs with a policy-rc.d that forbids service starts.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config clang-14 libclang-rt-14-dev clang-format-14
  clang-tidy-14
  # libraries
  libexpected-dev libfmt-dev libspdlog-dev nlohmann-json3-dev libyaml-dev libsqlite3-dev
  libgtest-dev libgmock-dev libcli11-dev libcpp-httplib-dev libmnl-dev libnftables-dev libnftnl-dev
  libnetfilter-log-dev libnetfilter-conntrack-dev
  uuid-dev zlib1g-dev libssl-dev libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # run time and tests
  etcd-server etcd-client nftables iproute2 openssl procps bird2 busybox-static curl
  # reference plugins (host-local IPAM, ptp for the cni-add benchmark)
  containernetworking-plugins
  # real CNI runtimes for the plugin tests (their services never start: see policy-rc.d below)
  podman containerd runc docker.io
  # benchmarks
  iperf3 gnuplot-nox
  # calico-flows' web page tests (headless)
  chromium
  # the Debian package (make deb): help2man for the man pages, lintian, systemd-analyze for the
  # units, init-system-helpers for the maintainer scripts
  dpkg-dev fakeroot help2man lintian systemd init-system-helpers sqlite3
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages (${missing[*]}); run as root to install them" >&2
  exit 1
fi

echo "deps: installing ${missing[*]}"
guard=/usr/sbin/policy-rc.d
created_guard=0
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$guard"
  chmod 755 "$guard"
  created_guard=1
fi
cleanup() { if [ "$created_guard" = 1 ]; then rm -f "$guard"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
