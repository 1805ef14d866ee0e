// The elements of the agent's IP sets (`type ipv4_addr|ipv6_addr; flags interval`, one per
// selector, felix/ipsets behaviour) as the kernel's nf_tables stores them, and one nfnetlink batch
// that adds them (NFT_MSG_NEWSETELEM messages between NFNL_MSG_BATCH_BEGIN and _END: one
// transaction). NftablesTable::ApplyFull uses it to load a new table's set elements without going
// through libnftables' text parser (the user-space part of their cost; the kernel's insertion,
// the larger part, stays: bench/README.md "IP set elements over netlink"), beside the chains.
//
// The encoding is the one libnftables 1.0.6 sends for the same `elements = { ... }` (checked by
// nft_test against `nft --debug=netlink`): for an interval set every member a..b is a start element
// (key a) and an end element (key b+1, NFT_SET_ELEM_INTERVAL_END), in key order; when the first
// member does not start at address zero an end element with key zero comes first; a member that
// reaches the last address has no end element and carries the "open interval" element flag in its
// user data (NFTNL_UDATA_SET_ELEM_FLAGS = NFTNL_SET_ELEM_F_INTERVAL_OPEN), as in nft's
// src/netlink.c alloc_nftnl_setelem and src/intervals.c.
//
// Thread-safety: pure functions; SendSetElements uses the socket it is given.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/nft_model/ruleset.h"

struct mnl_socket;

namespace calico::dataplane::nft_internal {

// One element as the kernel stores it.
struct KernelElement {
  std::array<uint8_t, 16> key{};  // Network order; the first 4 bytes for IPv4.
  bool end = false;               // NFT_SET_ELEM_INTERVAL_END.
  bool open = false;              // Open interval (reaches the last address): udata flag.
  bool operator==(const KernelElement&) const = default;
};

// The address family (4 or 6) of a set whose declaration is exactly what this path loads:
// "type ipv4_addr" or "type ipv6_addr", "flags interval", and at most a comment; not a map.
// nullopt for every other set (libnftables loads those).
std::optional<int> PlainIntervalSetFamily(const nft_model::NftSet& set);

// The kernel elements of an interval set of `family` holding `members` ("10.0.0.1",
// "10.0.1.0/24", "fd00::/64"). nullopt when a member is not a plain address or prefix of that
// family with its host bits clear, or when two members overlap: libnftables then loads the set, so
// that anything unusual gets exactly its treatment (its error for overlaps, for instance).
std::optional<std::vector<KernelElement>> IntervalSetElements(const nft_model::NftLines& members,
                                                              int family);

struct SetElements {
  std::string set;
  int family = 4;
  std::vector<KernelElement> elements;
};

// Adds `sets`' elements to the existing sets of table `family_name` `table` (an nftables family:
// "inet", "ip", "ip6") in ONE transaction on `sock` (a NETLINK_NETFILTER socket): all or nothing.
// Errors name the set the kernel refused and carry the errno's code (kNotFound when a set or the
// table is missing, kAlreadyExists, kPermissionDenied, kUnavailable).
[[nodiscard]] Status SendSetElements(mnl_socket* sock, const std::string& family_name,
                                     const std::string& table,
                                     const std::vector<SetElements>& sets);

}  // namespace calico::dataplane::nft_internal
