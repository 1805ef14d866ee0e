#!/usr/bin/env bash
# dockerd drives calico-libnetwork (network and IPAM driver) as in the seed tutorial "Calico as a
# libnetwork plugin": our own dockerd runs in the host namespace, in a private mount namespace
# whose /run is a fresh tmpfs with /run/docker/plugins bind-mounted from a scratch directory that
# holds our driver's socket (so it finds this driver and no other, and leaves no trace in /run).
# Two networks (Calico's pools; --subnet making a pool); containers reach their host and each
# other; removing them leaves nothing behind.
BIN=${1:?usage: docker_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/lib.sh"
command -v dockerd >/dev/null || fail "dockerd is not installed: run make deps (docker.io)"
[ -x "$BIN/calico-libnetwork" ] || fail "$BIN/calico-libnetwork is missing: build it first"
DOCKER_CLI=/usr/bin/docker
[ -x "$DOCKER_CLI" ] || DOCKER_CLI=$(command -v docker) || fail "no docker client"

D=$T/docker
mkdir -p "$D/plugins" "$D/data" "$D/exec"

# The driver, in the host namespace, on $D/plugins/calico.sock.
NODENAME=node1 nsenter --net=/run/netns/"$HOST" "$BIN/calico-libnetwork" \
  --socket "$D/plugins/calico.sock" --log-level debug >"$D/driver.log" 2>&1 &
DRIVER_PID=$!
CLEANUP_STEPS+=("kill $DRIVER_PID 2>/dev/null; wait $DRIVER_PID 2>/dev/null")
for _ in $(seq 50); do [ -S "$D/plugins/calico.sock" ] && break; sleep 0.1; done
[ -S "$D/plugins/calico.sock" ] || fail "calico-libnetwork did not start: $(tail -5 "$D/driver.log")"

# dockerd: nsenter and unshare exec (no fork), so $! is dockerd itself.
nsenter --net=/run/netns/"$HOST" unshare --mount --propagation private sh -c '
  mount -t tmpfs tmpfs /run && mkdir -p /run/docker/plugins &&
  mount --bind "$0/plugins" /run/docker/plugins &&
  exec dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    --data-root "$0/data" --exec-root "$0/exec" -H "unix://$0/docker.sock" --pidfile "$0/dockerd.pid"' \
  "$D" >"$D/dockerd.log" 2>&1 &
DOCKERD_PID=$!
# Last: shims and container processes of ours still there (by the PIDs containerd recorded).
CLEANUP_STEPS+=('for f in $(find "$D/exec" -name "*.pid" 2>/dev/null); do kill -9 "$(cat "$f")" 2>/dev/null; done')
CLEANUP_STEPS+=("kill $DOCKERD_PID 2>/dev/null; wait $DOCKERD_PID 2>/dev/null")
dk() { "$DOCKER_CLI" -H "unix://$D/docker.sock" "$@"; }
for _ in $(seq 150); do dk version >/dev/null 2>&1 && break; sleep 0.2; done
dk version >/dev/null 2>&1 || fail "dockerd did not start: $(tail -20 "$D/dockerd.log")"
CLEANUP_STEPS+=('dk rm -f $(dk ps -aq) >/dev/null 2>&1; dk network rm net1 net2 >/dev/null 2>&1')

tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
dk import "$T/rootfs.tar" calico-busybox >/dev/null || fail "docker import"

# Calico IPAM from Calico's pools, and from a pool made for --subnet.
dk network create --driver calico --ipam-driver calico net1 >/dev/null ||
  fail "network create net1: $(tail -20 "$D/driver.log")"
net1=$(dk network inspect -f '{{.Id}}' net1)
"$BIN/calicoctl" get profile "$net1" >/dev/null || fail "no profile named after network $net1"
dk network create --driver calico --ipam-driver calico --subnet 10.69.0.0/24 net2 >/dev/null ||
  fail "network create net2: $(tail -20 "$D/driver.log")"
"$BIN/calicoctl" get ippools -o wide | has "10.69.0.0/24" || fail "no IP pool for --subnet 10.69.0.0/24"

dk run -d --name wa --net net1 calico-busybox sleep 600 >/dev/null || fail "run wa: $(tail -20 "$D/dockerd.log")"
ip_a=$(dk inspect -f "{{.NetworkSettings.Networks.net1.IPAddress}}" wa)
case "$ip_a" in 10.68.0.*) ;; *) fail "container a has no pool address: '$ip_a'";; esac
echo "docker container a: $ip_a"
dk exec wa ip -o link show eth0 | has "ee:ee:ee:ee:ee:ee" || fail "eth0 of a: $(dk exec wa ip -o link)"
dk exec wa ip route | has "default via 169.254.1.1" || fail "routes of a: $(dk exec wa ip route)"
"$BIN/calicoctl" get workloadendpoints -o wide | has "$ip_a/32" || fail "no WorkloadEndpoint for $ip_a"
hx ip route show | has "^$ip_a dev cali" || fail "no host route to $ip_a"

out=$(dk run --rm --net net1 calico-busybox sh -c "ping -c 1 -W 2 10.99.0.1 && ping -c 1 -W 2 $ip_a" 2>&1) ||
  fail "container b cannot reach its host or a: $out"
echo "docker container b reached its host and $ip_a"
out=$(dk run --rm --net net2 calico-busybox sh -c "ip -4 -o addr show eth0 && ping -c 1 -W 2 10.99.0.1" 2>&1) ||
  fail "container c on net2: $out"
echo "$out" | has "10.69.0." || fail "container c has no address from 10.69.0.0/24: $out"
echo "docker container c on net2 got an address from 10.69.0.0/24 and reached its host"

dk rm -f wa >/dev/null
dk network rm net1 net2 >/dev/null
"$BIN/calicoctl" get profile "$net1" >/dev/null 2>&1 && fail "profile $net1 left behind"
"$BIN/calicoctl" get ippools -o wide | has "10.69.0.0/24" && fail "the --subnet pool was left behind: $(grep -i "10.69\|network\|keeping" "$D/driver.log" | cut -c1-250 | tail -12)"
assert_nothing_left
echo "PASS: docker"
