// The agent's two kernel seams (Envoy-style interfaces with a real and a fake implementation):
// the policy table (nftables) and the routes it owns. The agent decides what should be; these
// make the kernel say so. Interfaces only: the Linux implementations (libnftables, rtnetlink) are
// in agent/linux/programmers.h, the tests' fakes beside the tests.
//
// Thread-safety: one instance per agent thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "calico/base/result.h"
#include "calico/net/ip.h"
#include "calico/nft_model/ruleset.h"

namespace calico::agent {

// The two rulesets PolicyProgrammer::ApplyChains's change is between, holding only the chains
// `chains` names (as in `from`, and with their new rules) and all of `from`'s sets and maps:
// their DiffNftRulesets is the whole rulesets' diff, which mentions unchanged chains not at all
// (agent_incremental_test checks it), without a copy of every other chain.
inline std::pair<nft_model::NftRuleset, nft_model::NftRuleset> ChainsOnly(
    const nft_model::NftRuleset& from, const std::map<std::string, nft_model::NftChain>& chains) {
  std::pair<nft_model::NftRuleset, nft_model::NftRuleset> out;
  out.first = nft_model::NftRuleset{.family = from.family, .table = from.table, .sets = from.sets};
  out.second = out.first;
  for (const auto& [name, chain] : chains) {
    const nft_model::NftChain& was = from.chains.at(name);
    out.first.chains.emplace(name, was);
    out.second.chains.emplace(name,
                              nft_model::NftChain{.header = was.header, .rules = chain.rules});
  }
  return out;
}

// `from` with the rules of `chains` (chains of `from`) replaced: the whole ruleset
// PolicyProgrammer::ApplyChains moves to.
inline nft_model::NftRuleset WithChainRules(
    const nft_model::NftRuleset& from, const std::map<std::string, nft_model::NftChain>& chains) {
  nft_model::NftRuleset to = from;
  for (const auto& [name, chain] : chains) {
    to.chains.at(name).rules = chain.rules;
  }
  return to;
}

class PolicyProgrammer {
 public:
  virtual ~PolicyProgrammer() = default;
  // Replaces the whole table (start, resync after drift, fallback).
  [[nodiscard]] virtual Status ApplyFull(const nft_model::NftRuleset& ruleset) = 0;
  // Moves from `from` (the ruleset last applied) to `to`, touching only what changed.
  [[nodiscard]] virtual Status ApplyIncremental(const nft_model::NftRuleset& from,
                                                const nft_model::NftRuleset& to) = 0;
  // Moves from `from` (the ruleset last applied) to `from` with the rules of `chains` (chains of
  // `from`, headers as there) replaced, touching nothing else: the agent's path for a change of
  // some policies' rules alone (policy::RenderPolicyRulesChains), which never builds the whole
  // new ruleset. This default does (a copy of `from`, patched, then ApplyIncremental), for
  // implementations that want both rulesets.
  [[nodiscard]] virtual Status ApplyChains(
      const nft_model::NftRuleset& from, const std::map<std::string, nft_model::NftChain>& chains) {
    return ApplyIncremental(from, WithChainRules(from, chains));
  }
  // Whether the kernel still holds what was last applied.
  [[nodiscard]] virtual Result<bool> Matches() = 0;
};

// A route the agent owns: a workload's /32 (/128) through its cali interface, or a blackhole for
// one of this host's IPAM blocks.
struct OwnedRoute {
  net::CIDR dst;
  std::string ifname;  // empty for blackhole
  bool blackhole = false;
  auto operator<=>(const OwnedRoute&) const = default;
};

struct RouteSyncStats {
  int added = 0;
  int removed = 0;
  int waiting = 0;  // workload routes whose interface does not exist (yet)
};

// How routes are programmed (FelixConfiguration; the agent passes them before every Sync).
struct RouteOptions {
  // removeExternalRoutes (Felix's default true): any route through a workload interface that the
  // agent does not want is removed, whoever made it; false: only the agent's own (its route
  // protocol) are, as felix/routetable/ownershippol/main_route_table_policy.go.
  bool remove_external_routes = true;
  // deviceRouteSourceAddress / deviceRouteSourceAddressIPv6: the source address (RTA_PREFSRC)
  // of workload routes, so that traffic from the host to its workloads leaves from it.
  std::optional<net::IPAddr> source_v4{};
  std::optional<net::IPAddr> source_v6{};
  // ipv6Support (Felix's default true): false leaves IPv6 routes alone (Felix then has no IPv6
  // route table), whoever made them.
  bool ipv6 = true;
  bool operator==(const RouteOptions&) const = default;
};

class RouteProgrammer {
 public:
  virtual ~RouteProgrammer() = default;
  // The options for the next Syncs (fakes may ignore them).
  virtual void SetOptions(const RouteOptions& options) { (void)options; }
  // Makes the agent's routes exactly `desired`: adds missing ones (a workload route only once its
  // interface exists), replaces wrong ones, removes agent routes no longer desired. Routes of
  // other owners are never touched, except a stale route to a desired workload address through a
  // cali interface (left by a deleted workload), which is replaced.
  [[nodiscard]] virtual Result<RouteSyncStats> Sync(const std::set<OwnedRoute>& desired) = 0;
  // Proxy ARP/NDP, forwarding and the other sysctls Calico sets on a workload's host interface.
  // kNotFound when the interface does not exist (yet).
  [[nodiscard]] virtual Status ConfigureInterface(const std::string& ifname, bool v4, bool v6) = 0;
  // The interface's IPv4 rp_filter sysctl: 0 (`off`) for an endpoint whose allowed source
  // prefixes are honoured, else back to the host's default (net.ipv4.conf.default.rp_filter), as
  // Felix's endpoint_mgr configureInterface. kNotFound when the interface does not exist (yet).
  [[nodiscard]] virtual Status SetRpFilter(const std::string& ifname, bool off) {
    (void)ifname;
    (void)off;
    return OkStatus();
  }
};

}  // namespace calico::agent
