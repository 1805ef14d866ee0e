#!/usr/bin/env bash
# The kernel is confined (docs/ARCHITECTURE.md, "Where the kernel is touched"):
#  1. only src/calico/dataplane/ speaks netlink or includes kernel / libmnl / libnftables headers
#     (<linux/*.h>, <libmnl/*>, <nftables/*>, <libnftnl/*>, <libnetfilter_log/*>,
#     <libnetfilter_conntrack/*>, AF_NETLINK/NETLINK_ROUTE sockets);
#  2. the contract headers (dataplane/*.h, nft_model/*.h, agent/programmers.h) include only the
#     C++ standard library and calico headers: no kernel, POSIX or third-party header.
# Prints every offending line and exits 1 when there is any.
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
bad=0

kernel=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<(linux|libmnl|nftables|libnftnl|libnetfilter_log|libnetfilter_conntrack)/|\b(AF_NETLINK|NETLINK_ROUTE)\b' \
           --include='*.h' --include='*.cc' src apps tests bench fuzz 2>/dev/null |
         grep -v '^src/calico/dataplane/' || true)
if [ -n "$kernel" ]; then
  echo "Kernel interfaces outside src/calico/dataplane/:"
  echo "$kernel"
  bad=1
fi

contracts=$(ls src/calico/dataplane/*.h src/calico/nft_model/*.h src/calico/agent/programmers.h)
third=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*<[^>]*(/|\.h)>' $contracts || true)
if [ -n "$third" ]; then
  echo "Contract headers including kernel, POSIX or third-party headers:"
  echo "$third"
  bad=1
fi

[ "$bad" -eq 0 ] && echo "kernel confinement: ok"
exit "$bad"
