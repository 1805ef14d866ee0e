// nftables object names and comments for the policy renderer (felix/rules chain names and
// felix/ipsets set names, adapted to nftables' limits).
//
// nftables limits (kernel NFT_NAME_MAXLEN = 256 including the NUL; nft's unquoted identifier
// grammar `[a-zA-Z_.][a-zA-Z0-9/_.-]*`; rule comments at most 127 characters):
//   * Chain names keep Calico's readable form ("cali-pi-default/allow-dns") whenever they fit the
//     identifier grammar and 255 characters; otherwise they become "<prefix>_" followed by
//     base64url(SHA-256(suffix)) (43 characters), as Felix does for its 28-character iptables
//     limit.
//   * Set names follow Felix's nftables mode: "cali" + 4|6 + "0" + id with ':' replaced by '-',
//     truncated to 31 characters (e.g. "cali40s-qMt7iLlGDhvLnCjM0l9nzxb"). Ids outside the
//     identifier alphabet are hashed first ("cali40h-<base64url(SHA-224(id))>").
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace calico::policy {

inline constexpr std::size_t kMaxNftNameLen = 255;
inline constexpr std::size_t kMaxNftCommentLen = 127;
inline constexpr std::size_t kMaxSetNameLen = 31;  // Felix's (ipset-derived) set name limit.

// True if `name` can be written unquoted as an nft chain/set/map name.
bool IsNftIdentifier(std::string_view name);

// prefix + suffix, or prefix + "_" + base64url(SHA-256(suffix)) when that is not a valid
// identifier or longer than kMaxNftNameLen.
std::string ChainName(std::string_view prefix, std::string_view suffix);

// Per-endpoint chains: "cali-tw-<iface>" (to workload, ingress) / "cali-fw-<iface>" (egress).
std::string ToWorkloadChain(std::string_view iface);
std::string FromWorkloadChain(std::string_view iface);
// Host endpoint chains (Felix's HostFromEndpointPfx etc.): "cali-fh-<iface>" (packets from the
// interface: host endpoint ingress), "cali-th-<iface>" (egress), "cali-fhfw-" / "cali-thfw-"
// (forwarded traffic), and the pre-DNAT / untracked variants "mangle-cali-fh-<iface>",
// "raw-cali-fh-<iface>", "raw-cali-th-<iface>" (Felix's nftables "<table>-" namespacing). The
// all-interfaces endpoint ("*") uses Felix's name "any-interface-at-all".
enum class HostChainKind { kFrom, kTo, kFromForward, kToForward, kPreDnatFrom, kRawFrom, kRawTo };
std::string HostEndpointChain(HostChainKind kind, std::string_view iface);
// Policy chains: "cali-pi-<tier>/<id>" (inbound rules) / "cali-po-<tier>/<id>" (outbound).
std::string PolicyChain(std::string_view tier, std::string_view id, bool ingress);
// Profile chains: "cali-pri-<id>" / "cali-pro-<id>".
std::string ProfileChain(std::string_view id, bool ingress);

// The nftables set name for IP set `id` and family 4 or 6.
std::string SetName(std::string_view id, int family);

// The verdict map of a merged run of policies (policy_merge.h), named by its content: the
// direction ("ingress"/"egress"), the policy chains in order and the family (0, 4, 6):
// "cali-m4-" + 22 characters of base64url(SHA-256(...)) (within kMaxSetNameLen), so endpoints
// with the same run share one map.
std::string MergedMapName(std::string_view dir, const std::vector<std::string>& chains, int family);

// `text` as the body of an nft quoted string: '"', '\\', control and non-ASCII bytes become '_';
// the result is cut to kMaxNftCommentLen characters (the tail replaced by "~" + a short hash so
// that distinct long comments stay distinct).
std::string SanitizeComment(std::string_view text);

}  // namespace calico::policy
