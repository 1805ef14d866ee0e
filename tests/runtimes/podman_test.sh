#!/usr/bin/env bash
# podman (CNI backend) drives calico + calico-ipam: two containers get addresses from the pool,
# reach their host and each other; removing them leaves nothing behind.
BIN=${1:?usage: podman_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/lib.sh"
command -v podman >/dev/null || fail "podman is not installed: run make deps"

cat > "$T/containers.conf" <<CONF
[containers]
default_ulimits=["nofile=1024:1024","nproc=1024:1024"]
[engine]
cgroup_manager="cgroupfs"
events_logger="file"
[network]
network_backend="cni"
cni_plugin_dirs=["$BIN","/usr/lib/cni"]
network_config_dir="$T/net.d"
CONF
cat > "$T/storage.conf" <<CONF
[storage]
driver="vfs"
graphroot="$T/storage"
runroot="$T/run"
CONF
export CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf
conflist calnet 1.0.0 > "$T/net.d/calnet.conflist"
pm() { nsenter --net=/run/netns/"$HOST" podman --root "$T/storage" --runroot "$T/run" "$@"; }
CLEANUP_STEPS+=("pm rm -f -a -t 0 >/dev/null 2>&1")

tar -C "$T/rootfs" -cf "$T/rootfs.tar" .
pm import -q "$T/rootfs.tar" localhost/calico-busybox >/dev/null

pm run -d --name a --network calnet localhost/calico-busybox sleep 600 >/dev/null
ip_a=$(pm exec a ip -4 -o addr show dev eth0 | awk '{print $4}')
case "$ip_a" in 10.68.0.*/32) ;; *) fail "container a has no pool address: '$ip_a'";; esac
ip_a=${ip_a%/32}
echo "podman container a: $ip_a"
"$BIN/calicoctl" get workloadendpoints -o wide | has "$ip_a/32" || fail "no WorkloadEndpoint for $ip_a"
hx ip route show | has "^$ip_a dev cali" || fail "no host route to $ip_a"

out=$(pm run --rm --cap-add NET_RAW --network calnet localhost/calico-busybox \
  sh -c "ping -c 1 -W 2 10.99.0.1 && ping -c 1 -W 2 $ip_a") || fail "container b cannot reach its host or a: $out"
echo "podman container b reached its host and $ip_a"

pm rm -f -t 0 a >/dev/null
assert_nothing_left
echo "PASS: podman"
