// The Linux implementations of the agent's kernel seams (agent/programmers.h): the policy table
// through libnftables (dataplane/nft.h) and the agent's routes through rtnetlink
// (dataplane/netlink.h).
//
// Thread-safety: one instance per agent thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "calico/agent/programmers.h"
#include "calico/base/result.h"
#include "calico/dataplane/netlink.h"
#include "calico/dataplane/nft.h"

namespace calico::agent {

// nftables through libnftables (dataplane/nft.h), in the namespace of the creating thread.
class NftPolicyProgrammer final : public PolicyProgrammer {
 public:
  [[nodiscard]] Status ApplyFull(const nft_model::NftRuleset& ruleset) override {
    return table_.ApplyFull(ruleset);
  }
  [[nodiscard]] Status ApplyIncremental(const nft_model::NftRuleset& from,
                                        const nft_model::NftRuleset& to) override {
    return table_.ApplyIncremental(from, to);
  }
  // Only the named chains' diff (ChainsOnly), without copying `from`'s other chains.
  [[nodiscard]] Status ApplyChains(
      const nft_model::NftRuleset& from,
      const std::map<std::string, nft_model::NftChain>& chains) override {
    const auto [before, after] = ChainsOnly(from, chains);
    return table_.ApplyIncremental(before, after);
  }
  [[nodiscard]] Result<bool> Matches() override { return table_.Matches(); }
  dataplane::NftablesTable& table() { return table_; }

 private:
  dataplane::NftablesTable table_;
};

// rtnetlink; agent routes carry protocol `proto` (dataplane::kCalicoRouteProtocol by default).
class NetlinkRouteProgrammer final : public RouteProgrammer {
 public:
  explicit NetlinkRouteProgrammer(int proto = dataplane::kCalicoRouteProtocol,
                                  std::vector<std::string> prefixes = {"cali"})
      : proto_(proto), prefixes_(std::move(prefixes)) {}
  void SetOptions(const RouteOptions& options) override { options_ = options; }
  [[nodiscard]] Result<RouteSyncStats> Sync(const std::set<OwnedRoute>& desired) override;
  [[nodiscard]] Status ConfigureInterface(const std::string& ifname, bool v4, bool v6) override;
  [[nodiscard]] Status SetRpFilter(const std::string& ifname, bool off) override;

 private:
  int proto_;
  RouteOptions options_;
  // Routes of other owners through workload interfaces (dst, ifindex) and when first seen.
  std::map<std::pair<net::CIDR, int>, std::chrono::steady_clock::time_point> external_seen_;
  std::vector<std::string> prefixes_;
  std::unique_ptr<dataplane::NetlinkSocket> nl_;
};

}  // namespace calico::agent
