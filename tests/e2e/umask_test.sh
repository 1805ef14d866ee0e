#!/usr/bin/env bash
# Whatever the umask (000 here, for every binary), what the binaries create is root-only: the
# embedded store and its WAL/SHM files (0600), the host-wide IPAM lock (0600), the libnetwork
# socket (0660, root's group), an ipam check report (0600), the calicoctl node diags tarball
# (0600), and nothing calicoctl node run or calico-node writes is writable by others.
BIN=${1:?usage: umask_test.sh BUILD_BIN_DIR}
umask 000
source "$(dirname "$0")/../runtimes/lib.sh"   # creates the store with calicoctl, under umask 000
export PATH="$BIN:$PATH"

mode() { stat -c %a "$1"; }
expect_mode() {  # expect_mode FILE MODE
  [ -e "$1" ] || fail "$1 does not exist"
  [ "$(mode "$1")" = "$2" ] || fail "$1 has mode $(mode "$1"), expected $2"
  echo "  ok: $(basename "$1") $2"
}

# The CNI plugins write the store (WAL) and take the IPAM lock.
ip netns add "$HOST-w"
CLEANUP_STEPS+=("ip netns del $HOST-w")
conf=$(printf '{"cniVersion":"0.4.0","name":"net1","type":"calico","nodename":"node1","datastore_path":"%s","ipam_lock_file":"%s/run/ipam.lock","ipam":{"type":"calico-ipam"}}' "$T/db/calico.db" "$T")
out=$(echo "$conf" | hx env -i CNI_COMMAND=ADD CNI_CONTAINERID=u1 CNI_NETNS=/run/netns/"$HOST-w" \
  CNI_IFNAME=eth0 CNI_PATH="$BIN" "$BIN/calico") || fail "CNI ADD: $out"
CLEANUP_STEPS+=("echo '$conf' | hx env -i CNI_COMMAND=DEL CNI_CONTAINERID=u1 CNI_NETNS=/run/netns/$HOST-w CNI_IFNAME=eth0 CNI_PATH=$BIN $BIN/calico >/dev/null 2>&1")
for f in "$T/db/calico.db" "$T/db/calico.db-wal" "$T/db/calico.db-shm"; do
  [ -e "$f" ] && expect_mode "$f" 600
done
expect_mode "$T/db/calico.db" 600
expect_mode "$T/run/ipam.lock" 600
[ "$(mode "$T/run")" = 755 ] || fail "the lock's directory $T/run has mode $(mode "$T/run"), expected 755"

# calicoctl: a check report, node run (calico-node's files) and node diags.
"$BIN/calicoctl" ipam check -o "$T/report.json" >/dev/null || fail "ipam check"
expect_mode "$T/report.json" 600
out=$(hx "$BIN/calicoctl" node run --name=node1 --ip=autodetect --backend=none \
  --log-dir="$T/log" --run-dir="$T/node") || fail "node run: $out"
CLEANUP_STEPS+=("hx $BIN/calicoctl node stop --run-dir=$T/node >/dev/null 2>&1")
for _ in $(seq 100); do has "in sync at revision" "$T/log/calico-node.log" 2>/dev/null && break; sleep 0.1; done
writable=$(find "$T/log" "$T/node" "$T/run" "$T/db" -perm -o=w ! -path "$T/db" ! -type s)
[ -z "$writable" ] || fail "files or directories writable by others: $writable"
echo "  ok: nothing calicoctl node run or calico-node wrote (files, directories) is writable by others"
out=$(hx "$BIN/calicoctl" node diags --log-dir="$T/log" --run-dir="$T/node") || fail "diags: $out"
tarball=$(echo "$out" | sed -n 's/^Diags saved to //p')
CLEANUP_STEPS+=("rm -f '$tarball'")
expect_mode "$tarball" 600

# calico-libnetwork's socket.
SOCK=$T/run/calico.sock
ip netns exec "$HOST" env NODENAME=node1 DATASTORE_TYPE=local CALICO_DATASTORE_PATH="$T/db/calico.db" \
  "$BIN/calico-libnetwork" --socket "$SOCK" --docker-host unix://"$T/none.sock" \
  --ipam-lock-file "$T/run/ipam.lock" >"$T/libnetwork.log" 2>&1 &
LN=$!
CLEANUP_STEPS+=("kill $LN 2>/dev/null; wait $LN 2>/dev/null")
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
expect_mode "$SOCK" 660
[ "$(stat -c %g "$SOCK")" = 0 ] || fail "the libnetwork socket's group is $(stat -c %G "$SOCK"), not root"
echo "FIGURES: security=umask-000 store=600 lock=600 report=600 diags=600 libnetwork_socket=660 other_writable=0"
echo "PASS: root-only files and sockets under umask 000"
