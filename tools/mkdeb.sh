#!/usr/bin/env bash
# Builds the Debian package calico-cpp_<version>_<arch>.deb from a build tree (make deb).
#
#   tools/mkdeb.sh BUILD_DIR OUT_DIR [VERSION]
#
# BUILD_DIR is a CMake build tree (its bin/ holds the binaries); VERSION defaults to the project
# version in CMakeLists.txt. The package is native (the version has no Debian revision) and
# installs:
#   /usr/bin                      calicoctl, calico-node, calico-libnetwork, calico-lab, and
#                                 calico-controllers / calico-flows when the build has them
#   /usr/lib/cni                  the CNI plugins calico and calico-ipam (where Debian's CNI
#                                 plugins, podman and containerd look), linked from /opt/cni/bin
#                                 (the CNI convention kubelet, rkt and Calico's docs use)
#   /usr/lib/calico               libcalico-etcd.so (the etcd backend, loaded on demand) and
#                                 lab/: calico-lab beside links to the binaries it drives
#   /usr/share/calico-lab         the tutorials
#   /lib/systemd/system           calico-node.service, calico-libnetwork.{socket,service}, and the
#                                 units of calico-controllers / calico-flows when shipped
#   /etc/calico                   calico.env and calicoctl.cfg (conffiles)
#   /usr/share/man                pages generated from each command's --help (help2man)
# Depends are computed with dpkg-shlibdeps from the binaries, plus bird2, nftables, iproute2.
# MKDEB_COMPRESS=gzip (the tests) packs faster than the default xz. Nothing outside OUT_DIR and a
# temporary directory is written.
set -euo pipefail

usage() { echo "usage: tools/mkdeb.sh BUILD_DIR OUT_DIR [VERSION]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$1" && pwd) || { echo "mkdeb: no build directory $1" >&2; exit 1; }
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
BIN=$BUILD/bin
VERSION=${3:-$(sed -n 's/^project(calico_cpp VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")}
if ! [[ $VERSION =~ ^[0-9][A-Za-z0-9.+~]*$ ]]; then
  echo "mkdeb: \"$VERSION\" is not a native Debian version (digits first; letters, digits, . + ~)" >&2
  exit 1
fi
ARCH=$(dpkg --print-architecture)
PKG=calico-cpp
MAINTAINER="calico-cpp maintainers <maintainers@users.noreply.h-seed-94012946.example>"

for tool in dpkg-deb dpkg-shlibdeps help2man strip gzip; do
  command -v "$tool" >/dev/null || { echo "mkdeb: $tool is missing: run make deps" >&2; exit 1; }
done
# Required binaries; the optional ones are packaged when the build has them.
REQUIRED=(calicoctl calico-node calico-libnetwork calico-lab calico calico-ipam libcalico-etcd.so)
OPTIONAL=(calico-controllers calico-flows)
missing=()
for b in "${REQUIRED[@]}"; do [ -f "$BIN/$b" ] || missing+=("$b"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "mkdeb: $BIN lacks ${missing[*]}: build first (make build)" >&2
  exit 1
fi
DAEMONS=(calico-node calico-libnetwork)
for b in "${OPTIONAL[@]}"; do [ -x "$BIN/$b" ] && DAEMONS+=("$b"); done

# Reproducible: every timestamp is the last commit's (dpkg-deb clamps to SOURCE_DATE_EPOCH).
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$SRC" log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH

STAGE=$(mktemp -d /tmp/calico-mkdeb-XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/root
mkdir -p "$ROOT/DEBIAN"

# ---- files -----------------------------------------------------------------------------------
# dh_strip's way: no debug info, no .comment/.note sections (lintian: unstripped-binary-or-object).
install_elf() {  # install_elf SRC DEST MODE
  install -D -m "$3" "$1" "$2"
  strip --remove-section=.comment --remove-section=.note --strip-unneeded "$2"
}
for b in calicoctl "${DAEMONS[@]}"; do
  install_elf "$BIN/$b" "$ROOT/usr/bin/$b" 0755
done
for b in calico calico-ipam; do
  install_elf "$BIN/$b" "$ROOT/usr/lib/cni/$b" 0755
  mkdir -p "$ROOT/opt/cni/bin"
  ln -s "/usr/lib/cni/$b" "$ROOT/opt/cni/bin/$b"
done
install_elf "$BIN/libcalico-etcd.so" "$ROOT/usr/lib/calico/libcalico-etcd.so" 0644
# calico-lab finds the binaries it drives (and its tutorials) beside itself.
LAB=$ROOT/usr/lib/calico/lab
install_elf "$BIN/calico-lab" "$LAB/calico-lab" 0755
ln -s ../lib/calico/lab/calico-lab "$ROOT/usr/bin/calico-lab"
for b in calico calico-ipam; do ln -s "../../cni/$b" "$LAB/$b"; done
for b in calicoctl calico-node; do ln -s "../../../bin/$b" "$LAB/$b"; done
# calico-lab up starts calico-controllers too (up --no-controllers when the package lacks it).
if [ -x "$BIN/calico-controllers" ]; then ln -s ../../../bin/calico-controllers "$LAB/calico-controllers"; fi
for t in "$BIN"/tutorials/*.sh; do
  install -D -m 0644 "$t" "$ROOT/usr/share/calico-lab/tutorials/$(basename "$t")"
done
ln -s ../../../share/calico-lab/tutorials "$LAB/tutorials"

install -D -m 0644 "$SRC/packaging/etc/calico.env" "$ROOT/etc/calico/calico.env"
install -D -m 0644 "$SRC/packaging/etc/calicoctl.cfg" "$ROOT/etc/calico/calicoctl.cfg"

UNITS=()
for d in "${DAEMONS[@]}"; do
  install -D -m 0644 "$SRC/packaging/systemd/$d.service" "$ROOT/lib/systemd/system/$d.service"
  UNITS+=("$d.service")
done
install -D -m 0644 "$SRC/packaging/systemd/calico-libnetwork.socket" \
  "$ROOT/lib/systemd/system/calico-libnetwork.socket"
UNITS+=(calico-libnetwork.socket)

# Man pages from --help (help2man runs each binary with --help and --version).
manpage() {  # manpage BINARY SECTION "one-line description"
  local out="$ROOT/usr/share/man/man$2/$1.$2"
  mkdir -p "$(dirname "$out")"
  if ! help2man --no-info --section="$2" --name="$3" --version-string="$VERSION" \
      --no-discard-stderr --output="$out" "$ROOT/usr/bin/$1" 2>"$STAGE/help2man.err"; then
    echo "mkdeb: help2man $1 failed (every packaged binary must answer --help):" >&2
    cat "$STAGE/help2man.err" >&2
    exit 1
  fi
  # help2man names the program by the path it ran; and its date must not change between builds.
  sed -i -e "s|$ROOT/usr/bin/||g" "$out"
  gzip -9n "$out"
}
manpage calicoctl 1 "manage Calico resources, IPAM and the node"
manpage calico-lab 1 "a multi-host Calico lab in network namespaces"
manpage calico-node 8 "the Calico per-host agent"
manpage calico-libnetwork 8 "the Calico network and IPAM driver for Docker"
for b in "${OPTIONAL[@]}"; do
  [ -x "$ROOT/usr/bin/$b" ] || continue
  case $b in
    calico-controllers) manpage "$b" 8 "the Calico controllers (IPAM garbage collection, node clean-up)" ;;
    calico-flows) manpage "$b" 8 "the Calico flow aggregator and flow web page" ;;
  esac
done

DOC=$ROOT/usr/share/doc/$PKG
first_year=$(git -C "$SRC" log --format=%ad --date=format:%Y 2>/dev/null | tail -n 1)
last_year=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y)
years=${first_year:-$last_year}
[ "$years" = "$last_year" ] || years="$years-$last_year"
mkdir -p "$DOC"
sed "s|@YEARS@|$years|" "$SRC/packaging/deb/copyright" > "$DOC/copyright"
chmod 0644 "$DOC/copyright"
gzip -9n -c "$SRC/README.md" > "$DOC/README.md.gz"
commit=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo unknown)
{
  echo "$PKG ($VERSION) unstable; urgency=medium"
  echo
  echo "  * Built from commit $commit of calico-cpp."
  echo
  echo " -- $MAINTAINER  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n > "$DOC/changelog.gz"
install -D -m 0644 "$SRC/packaging/deb/lintian-overrides" "$ROOT/usr/share/lintian/overrides/$PKG"

# ---- control -----------------------------------------------------------------------------------
for s in postinst prerm postrm; do
  sed "s|@UNITS@|${UNITS[*]}|" "$SRC/packaging/deb/$s" > "$ROOT/DEBIAN/$s"
  chmod 0755 "$ROOT/DEBIAN/$s"
done
printf '/etc/calico/calico.env\n/etc/calico/calicoctl.cfg\n' > "$ROOT/DEBIAN/conffiles"

# dpkg-shlibdeps wants a source package around the binaries.
mkdir -p "$STAGE/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$PKG" "$PKG" > "$STAGE/debian/control"
elves=()
while IFS= read -r f; do elves+=("$f"); done < <(find "$ROOT" -type f \( -perm -u+x -o -name '*.so' \) \
  ! -path "$ROOT/DEBIAN/*" -exec sh -c 'head -c 4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)
shlibs=$(cd "$STAGE" && dpkg-shlibdeps -O "${elves[@]}" 2>"$STAGE/shlibdeps.err" |
  sed -n 's/^shlibs:Depends=//p') || { cat "$STAGE/shlibdeps.err" >&2; exit 1; }
[ -n "$shlibs" ] || { echo "mkdeb: dpkg-shlibdeps found no libraries" >&2; cat "$STAGE/shlibdeps.err" >&2; exit 1; }

installed_size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat > "$ROOT/DEBIAN/control" <<CONTROL
Package: $PKG
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $installed_size
Depends: $shlibs, bird2 (>= 2.0.8), nftables, iproute2
Suggests: etcd-client, etcd-server, containernetworking-plugins, docker.io | podman
Section: net
Priority: optional
Description: Calico-compatible container networking (CNI, BGP, network policy)
 Per-container routable IPs across hosts, block-affinity IPAM and label-selected
 network policy, with the user-facing contract of Project Calico: the
 projectcalico.org/v3 resources, calicoctl, the CNI plugin configuration and the
 etcd key layout, written in C++.
 .
 This package holds calico-node (the per-host agent: nftables policy, routes,
 BGP through BIRD 2, VXLAN), its systemd units and configuration in
 /etc/calico, the CNI plugins calico and calico-ipam, the Docker libnetwork
 driver, calicoctl, the etcd v3 datastore module (the embedded SQLite store
 needs no daemon) and calico-lab, a multi-host lab in network namespaces.
CONTROL
(cd "$ROOT" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | LC_ALL=C sort -z |
  xargs -0 md5sum) > "$ROOT/DEBIAN/md5sums"

find "$ROOT" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
DEB=$OUT/${PKG}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Z"${MKDEB_COMPRESS:-xz}" --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
