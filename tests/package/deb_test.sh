#!/usr/bin/env bash
# The Debian package (make deb, tools/mkdeb.sh) built from this build tree: lintian finds no error
# or warning; its contents, conffiles, dependencies and man pages are what README says; the
# dependencies resolve on this Debian; `dpkg --root` installs it into a scratch tree with the
# maintainer scripts run there (DPKG_ROOT), the installed binaries work from there (the etcd
# module is found, calico-lab finds its binaries), the systemd units pass `systemd-analyze
# verify`, as does the unit `calicoctl node run --init-system` prints; calico-libnetwork serves a
# socket passed by socket activation (systemd-socket-activate); an upgrade keeps an
# edited conffile; a downgraded binary refuses a datastore of a newer schema; remove and purge
# leave the datastore. Nothing outside a temp dir is touched (no network changes at all).
set -euo pipefail
has() { grep "$@" >/dev/null; }
BUILD=${1:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}
SRC=${2:?usage: deb_test.sh BUILD_DIR SOURCE_DIR}
T=$(mktemp -d /tmp/calico-deb-test-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
R=$T/root

echo "build the package"
export MKDEB_COMPRESS=gzip
DEB=$("$SRC/tools/mkdeb.sh" "$BUILD" "$T/out" 0.1.0~test1 | tail -1)
[ -f "$DEB" ] || fail "mkdeb produced no package"
[[ $(basename "$DEB") == calico-cpp_0.1.0~test1_$(dpkg --print-architecture).deb ]] || fail "name: $DEB"
out=$("$SRC/tools/mkdeb.sh" "$BUILD" "$T/out" "bad version" 2>&1) && fail "a bad version was accepted"
[[ $out == *"not a native Debian version"* ]] || fail "bad version: $out"
out=$("$SRC/tools/mkdeb.sh" "$T" "$T/out" 2>&1) && fail "a tree without binaries was packaged"
[[ $out == *"lacks calicoctl"* ]] || fail "missing binaries: $out"

echo "lintian: no errors, no warnings"
lintian --fail-on error,warning "$DEB" >"$T/lintian" 2>"$T/lintian.err" ||
  fail "lintian: $(cat "$T/lintian" "$T/lintian.err")"
if has -E '^[EW]: ' "$T/lintian"; then fail "lintian: $(cat "$T/lintian")"; fi

echo "control fields"
dpkg-deb -f "$DEB" Depends >"$T/depends"
for dep in bird2 nftables libnftables1 libmnl0 libsqlite3-0 libc6; do
  has -E "(^|, )$dep( |,|$)" "$T/depends" || fail "Depends lacks $dep: $(cat "$T/depends")"
done
dpkg-deb -f "$DEB" Suggests | has etcd-client || fail "etcd-client is not suggested"
[ "$(dpkg-deb -f "$DEB" Version)" = 0.1.0~test1 ] || fail "version"
[ "$(dpkg-deb -f "$DEB" Installed-Size)" -gt 1000 ] || fail "Installed-Size"
dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles >"$T/conffiles"
[ "$(sort "$T/conffiles")" = $'/etc/calico/calico.env\n/etc/calico/calicoctl.cfg' ] ||
  fail "conffiles: $(cat "$T/conffiles")"

echo "contents"
dpkg-deb -c "$DEB" | awk '{print $6, $7, $8}' >"$T/contents"
for f in usr/bin/calicoctl usr/bin/calico-node usr/bin/calico-libnetwork usr/lib/cni/calico \
         usr/lib/cni/calico-ipam usr/lib/calico/libcalico-etcd.so usr/lib/calico/lab/calico-lab \
         lib/systemd/system/calico-node.service lib/systemd/system/calico-libnetwork.service \
         lib/systemd/system/calico-libnetwork.socket etc/calico/calico.env \
         etc/calico/calicoctl.cfg usr/share/calico-lab/tutorials/rkt.sh \
         usr/share/doc/calico-cpp/copyright usr/share/doc/calico-cpp/changelog.gz; do
  has -E "^\./$f( |$)" "$T/contents" || fail "package lacks /$f"
done
has -F "./opt/cni/bin/calico -> /usr/lib/cni/calico" "$T/contents" || fail "no /opt/cni/bin link"
has -F "./usr/bin/calico-lab -> ../lib/calico/lab/calico-lab" "$T/contents" || fail "calico-lab link"
# Every command on PATH has a man page; optional daemons come with their units.
for b in $(grep -oE '^\./usr/bin/[^ ]+' "$T/contents" | sed 's|./usr/bin/||'); do
  grep -qE "^\./usr/share/man/man[18]/$b\.[18]\.gz" "$T/contents" || fail "no man page for $b"
done
for b in calico-controllers calico-flows; do
  if [ -x "$BUILD/bin/$b" ]; then
    has "lib/systemd/system/$b.service" "$T/contents" || fail "$b without its unit"
  elif has "$b" "$T/contents"; then
    fail "$b shipped although the build has no $b"
  fi
done

echo "dependencies resolve on this Debian (apt-get --simulate)"
(cd "$T/out" && apt-get install -s -o Debug::NoLocking=1 "./$(basename "$DEB")") >"$T/apt" 2>&1 ||
  fail "apt-get -s: $(cat "$T/apt")"
inst=$(grep -E '^Inst ' "$T/apt" | awk '{print $2}' | tr '\n' ' ')
[ "$inst" = "calico-cpp " ] || fail "installing it would also install: $inst"

echo "install with dpkg --root (maintainer scripts run with DPKG_ROOT)"
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
dpkgr() { dpkg --root="$R" --force-script-chrootless --force-depends --log=/dev/null "$@"; }
dpkgr -i "$DEB" >"$T/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$T/dpkg.log")"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Status} ${Version}' calico-cpp |
  has "install ok installed 0.1.0~test1" || fail "not installed"
dpkg --root="$R" --verify calico-cpp || fail "installed files differ from the md5sums"
[ -d "$R/var/lib/calico" ] || fail "postinst did not create /var/lib/calico"
for u in calico-node.service calico-libnetwork.service calico-libnetwork.socket; do
  [ -f "$R/var/lib/systemd/deb-systemd-helper-enabled/$u.dsh-also" ] ||
    fail "postinst did not record the state of $u (deb-systemd-helper update-state)"
done
# Installed, not enabled: calico-node needs calico.env first.
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/calico-node.service" ] || fail "enabled"
for s in postinst postrm; do
  if DPKG_ROOT=$R sh "$R/var/lib/dpkg/info/calico-cpp.$s" bogus >/dev/null 2>&1; then
    fail "$s accepted an unknown argument"
  fi
done

echo "the installed binaries"
# A scratch store: nothing may create /var/lib/calico on this machine.
export DATASTORE_TYPE=local CALICO_DATASTORE_PATH=$T/db/calico.db
{ "$R/usr/bin/calicoctl" version 2>&1 || true; } | has "Client Version: *v0" || fail "calicoctl version"
"$R/usr/bin/calico-node" -v | has "calico-node v" || fail "calico-node -v"
CNI_COMMAND=VERSION "$R/usr/lib/cni/calico" </dev/null | has supportedVersions || fail "calico VERSION"
CNI_COMMAND=VERSION "$R/usr/lib/cni/calico-ipam" </dev/null | has supportedVersions || fail "ipam VERSION"
out=$(DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS=http://127.0.0.1:1 timeout 60 "$R/usr/bin/calicoctl" \
  get nodes 2>&1) && fail "calicoctl on a dead etcd succeeded"
[[ $out == *"127.0.0.1:1"* && $out != *"module"*"not found"* ]] ||
  fail "the etcd module was not loaded from /usr/lib/calico: $out"
"$R/usr/bin/calico-lab" --help | has "calico-lab: a multi-host Calico lab" || fail "calico-lab --help"
for b in calico calico-ipam calicoctl calico-node tutorials/rkt.sh; do
  [ -e "$R/usr/lib/calico/lab/$b" ] || fail "calico-lab cannot find $b beside itself"
done
zcat "$R/usr/share/man/man8/calico-node.8.gz" | has -i "graceful restart" || fail "calico-node(8)"

echo "calico-libnetwork serves the socket systemd passes (socket activation, as its .socket unit)"
sock=$T/plugins/calico.sock
mkdir -p "$T/plugins"
# systemd-socket-activate passes only the variables named with -E (so the scratch store here).
NODENAME=node-7 systemd-socket-activate -l "$sock" -E NODENAME -E DATASTORE_TYPE \
  -E CALICO_DATASTORE_PATH "$R/usr/bin/calico-libnetwork" --socket "$sock" >"$T/libnetwork.log" 2>&1 &
activated=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
reply=$(curl -s --max-time 20 --unix-socket "$sock" -X POST http://docker/Plugin.Activate) || true
kill "$activated" 2>/dev/null || true
wait "$activated" 2>/dev/null || true
[[ $reply == *'"Implements":["NetworkDriver","IpamDriver"]'* ]] ||
  fail "Plugin.Activate through the activated socket: $reply $(cat "$T/libnetwork.log")"
has "serving node node-7 on $sock (socket from systemd) (local store $T/db" "$T/libnetwork.log" ||
  fail "the driver bound its own socket or used another store: $(cat "$T/libnetwork.log")"
[ -S "$sock" ] || fail "the driver removed systemd's socket file"

echo "systemd-analyze verify"
mkdir -p "$R/etc/systemd/system"
cp -rn /lib/systemd/system/. "$R/lib/systemd/system/" 2>/dev/null || true  # targets to resolve
units="calico-node.service calico-libnetwork.service calico-libnetwork.socket"
for b in calico-controllers calico-flows; do
  [ -f "$R/lib/systemd/system/$b.service" ] && units="$units $b.service"
done
# shellcheck disable=SC2086
out=$(cd "$T" && systemd-analyze verify --root="$R" --man=no $units 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify: $out"
# The units of binaries this build lacks (not shipped) must be valid for when they are.
for b in calico-controllers calico-flows; do
  [ -f "$R/lib/systemd/system/$b.service" ] && continue
  cp "$SRC/packaging/systemd/$b.service" "$R/etc/systemd/system/$b.service"
  printf '#!/bin/sh\n' >"$R/usr/bin/$b"
  chmod 755 "$R/usr/bin/$b"
  out=$(cd "$T" && systemd-analyze verify --root="$R" --man=no "$b.service" 2>&1) ||
    fail "systemd-analyze verify $b.service: $out"
  [ -z "$out" ] || fail "systemd-analyze verify $b.service: $out"
  rm "$R/usr/bin/$b" "$R/etc/systemd/system/$b.service"
done

echo "calicoctl node run --init-system prints the unit and a filled-in calico.env"
CALICO_DATASTORE_PATH=/var/lib/calico/calico.db "$R/usr/bin/calicoctl" node run --init-system --name=node-7 --ip=10.0.0.7 --as=64600 >"$T/init.txt" ||
  fail "--init-system: $(cat "$T/init.txt")"
sed -n '/^\[Unit\]/,/^WantedBy=/p' "$T/init.txt" >"$R/etc/systemd/system/calico-printed.service"
has "^ExecStart=$R/usr/bin/calico-node$" "$R/etc/systemd/system/calico-printed.service" ||
  fail "printed ExecStart: $(grep ExecStart "$T/init.txt")"
sed -i "s|^ExecStart=$R|ExecStart=|" "$R/etc/systemd/system/calico-printed.service"
out=$(cd "$T" && systemd-analyze verify --root="$R" --man=no calico-printed.service 2>&1) ||
  fail "the printed unit: $out"
[ -z "$out" ] || fail "the printed unit: $out"
for want in NODENAME=node-7 IP=10.0.0.7 AS=64600 CALICO_NETWORKING_BACKEND=bird DATASTORE_TYPE=local; do
  has -x "$want" "$T/init.txt" || fail "--init-system env lacks $want"
done

echo "upgrade: an edited conffile is kept, the new version installed"
echo "NODENAME=edited-by-admin" >>"$R/etc/calico/calico.env"
dpkg-deb -R "$DEB" "$T/v2"
sed -i 's/^Version: .*/Version: 0.1.0~test2/' "$T/v2/DEBIAN/control"
dpkg-deb --root-owner-group -Zgzip -z1 -b "$T/v2" "$T/out/v2.deb" >/dev/null
dpkgr --force-confold -i "$T/out/v2.deb" >"$T/dpkg.log" 2>&1 || fail "upgrade: $(cat "$T/dpkg.log")"
dpkg-query --admindir="$R/var/lib/dpkg" -W -f='${Version}' calico-cpp | has -x 0.1.0~test2 ||
  fail "not upgraded"
has -x "NODENAME=edited-by-admin" "$R/etc/calico/calico.env" || fail "the admin's calico.env was replaced"

echo "a downgraded binary refuses a datastore of a newer schema"
"$R/usr/bin/calicoctl" apply -f - >/dev/null <<'EOF' || fail "calicoctl apply on a fresh store"
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p}
spec: {cidr: 10.70.0.0/16}
EOF
sqlite3 "$CALICO_DATASTORE_PATH" "SELECT value FROM kv WHERE key='/calico/calico-cpp/schema'" |
  has '"minReaderSchema":1' || fail "no schema record after initialisation"
sqlite3 "$CALICO_DATASTORE_PATH" "UPDATE kv SET value='{\"schema\":9,\"minReaderSchema\":9,\"writtenBy\":\"calico-cpp 9.0.0\"}' WHERE key='/calico/calico-cpp/schema'"
rc=0
out=$(NODENAME=node-7 IP=none NO_DEFAULT_POOLS=true "$R/usr/bin/calico-node" -startup 2>&1) || rc=$?
[ "$rc" = 78 ] || fail "calico-node -startup exited $rc against a newer schema: $out"
[[ $out == *"refusing to use the datastore"*"schema 9 data written by calico-cpp 9.0.0"*"calico-node"* ]] ||
  fail "calico-node's message: $out"
printf 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: q}\nspec: {cidr: 10.71.0.0/16}\n' >"$T/q.yaml"
out=$("$R/usr/bin/calicoctl" apply -f "$T/q.yaml" 2>&1) && fail "calicoctl wrote into a newer store"
[[ $out == *"refusing to use the datastore"* ]] || fail "calicoctl's message: $out"

echo "remove keeps the conffiles and the datastore, purge the conffiles"
touch "$R/var/lib/calico/calico.db"
dpkgr -r calico-cpp >"$T/dpkg.log" 2>&1 || fail "remove: $(cat "$T/dpkg.log")"
[ ! -e "$R/usr/bin/calico-node" ] || fail "calico-node left after remove"
[ -f "$R/etc/calico/calico.env" ] || fail "remove took the conffiles"
dpkgr -P calico-cpp >"$T/dpkg.log" 2>&1 || fail "purge: $(cat "$T/dpkg.log")"
[ ! -e "$R/etc/calico/calico.env" ] || fail "purge left calico.env"
[ ! -e "$R/var/lib/systemd/deb-systemd-helper-enabled/calico-node.service.dsh-also" ] ||
  fail "purge left the units' systemd state"
[ -f "$R/var/lib/calico/calico.db" ] || fail "purge removed the datastore"
echo "PASS: Debian package"
