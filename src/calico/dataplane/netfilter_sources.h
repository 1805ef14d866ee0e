// The Linux implementations of the flow-log collector's sources (flow_sources.h): NFLOG through
// Debian's libnetfilter-log (the groups the ruleset's flow-log statements log to) and conntrack
// through libnetfilter-conntrack (new/destroy events with counters; dumps for the counters of
// live connections). Both need CAP_NET_ADMIN in the network namespace they run in; conntrack's
// counters need net.netfilter.nf_conntrack_acct=1 (EnableConntrackAccounting sets it).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "calico/base/result.h"
#include "calico/dataplane/flow_sources.h"

namespace calico::dataplane {

// Binds the given NFLOG groups (policy::kNflogIngressGroup, kNflogEgressGroup). The socket's
// receive buffer is `rcvbuf` bytes; overruns are reported as losses.
[[nodiscard]] Result<std::unique_ptr<NflogSource>> OpenNflogSource(const std::vector<int>& groups,
                                                                   int rcvbuf = 4 << 20);
[[nodiscard]] Result<std::unique_ptr<ConntrackSource>> OpenConntrackSource();
// Sets net.netfilter.nf_conntrack_acct to 1 in the current network namespace.
[[nodiscard]] Status EnableConntrackAccounting();

// The 5-tuple of an IPv4/IPv6 packet (network header first), or nullopt if it is too short.
std::optional<FiveTuple> ParsePacketTuple(const uint8_t* data, std::size_t len);

}  // namespace calico::dataplane
