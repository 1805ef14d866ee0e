#!/usr/bin/env bash
# containerd (`ctr run --cni`) drives calico + calico-ipam: a daemon of our own runs in the host
# namespace; ctr finds our conflist and plugins through bind mounts in a private mount namespace
# (it only looks in /etc/cni/net.d and /opt/cni/bin). Two containers reach their host and each
# other; after they go, nothing is left.
BIN=${1:?usage: containerd_test.sh BUILD_BIN_DIR}
source "$(dirname "$0")/lib.sh"
command -v containerd >/dev/null && command -v ctr >/dev/null || fail "containerd is not installed: run make deps"

mkdir -p "$T/cni-bin" "$T/ctrd"
cp "$BIN/calico" "$BIN/calico-ipam" "$T/cni-bin/"
cp /usr/lib/cni/loopback "$T/cni-bin/" 2>/dev/null || true
conflist calnet 1.0.0 > "$T/net.d/10-calnet.conflist"
cat > "$T/ctrd/config.toml" <<CONF
version = 2
root = "$T/ctrd/root"
state = "$T/ctrd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$T/ctrd/containerd.sock"
CONF
nsenter --net=/run/netns/"$HOST" containerd --config "$T/ctrd/config.toml" >"$T/ctrd/log" 2>&1 &
CTRD_PID=$!
# Last: any shim or container process of ours still there (by the PIDs containerd recorded).
CLEANUP_STEPS+=('for f in $(find "$T/ctrd/state" -name "*.pid" 2>/dev/null); do kill -9 "$(cat "$f")" 2>/dev/null; done')
CLEANUP_STEPS+=("kill $CTRD_PID; wait $CTRD_PID")
for _ in $(seq 50); do [ -S "$T/ctrd/containerd.sock" ] && break; sleep 0.1; done
[ -S "$T/ctrd/containerd.sock" ] || fail "containerd did not start: $(tail -5 "$T/ctrd/log")"

# ctr in the host namespace, with our CNI config and plugins where ctr looks for them.
c() {
  nsenter --net=/run/netns/"$HOST" unshare --mount --propagation private sh -c '
    mkdir -p /etc/cni/net.d /opt/cni/bin
    mount --bind "$0/net.d" /etc/cni/net.d && mount --bind "$0/cni-bin" /opt/cni/bin &&
    exec ctr --address "'"$T"'/ctrd/containerd.sock" --namespace calico-test "$@"' "$T" "$@"
}
CLEANUP_STEPS+=("c task kill -s KILL a >/dev/null 2>&1; sleep 0.5; c task delete a >/dev/null 2>&1; c container rm a >/dev/null 2>&1")

# In the foreground (in a background job) so that ctr itself sends DEL when the task ends.
c run --rm --cni --env PATH=/bin --rootfs "$T/rootfs" a /bin/sleep 600 >"$T/ctr-a.log" 2>&1 &
CTR_A=$!
ip_a=""
for _ in $(seq 50); do
  ip_a=$("$BIN/calicoctl" get workloadendpoints -o wide | grep -o '10\.68\.0\.[0-9]*/32' | head -1 || true)
  [ -n "$ip_a" ] && break
  sleep 0.1
done
case "$ip_a" in 10.68.0.*/32) ;; *) fail "container a has no WorkloadEndpoint with a pool address: '$ip_a'";; esac
ip_a=${ip_a%/32}
echo "containerd container a: $ip_a"
hx ip route show | has "^$ip_a dev cali" || fail "no host route to $ip_a"

out=$(c run --rm --cni --env PATH=/bin --rootfs "$T/rootfs" b /bin/sh -c "ping -c 1 -W 2 10.99.0.1 && ping -c 1 -W 2 $ip_a" 2>&1) ||
  fail "container b cannot reach its host or a: $out"
echo "containerd container b reached its host and $ip_a"

c task kill -s KILL a >/dev/null
wait $CTR_A || true  # ctr run returns the task's status (killed)
assert_nothing_left
echo "PASS: containerd"
