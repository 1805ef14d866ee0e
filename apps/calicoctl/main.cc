// calicoctl: builds the Context (streams, datastore opener, build info) and hands the arguments
// to calico::ctl (calicoctl/calicoctl/calicoctl.go). Flags are parsed by the command layer.
#include <algorithm>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "calico/bird/bird_status.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/ipam_command.h"
#include "calico/ctl/legacy_command.h"
#include "calico/ctl/migrate_command.h"
#include "calico/ctl/node_command.h"
#include "calico/dataplane/nft.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"

#ifndef CALICO_VERSION
#define CALICO_VERSION "v0.0.0"
#endif

namespace {

// `calicoctl node status`: the BGP part, from BIRD's control socket.
int BgpStatus(const std::string& socket, calico::ctl::Context& ctx) {
  calico::bird::NodeStatusInput input;
  auto peers = calico::bird::ShowBirdPeers(socket);
  if (!peers) {
    input.bird_running = false;
  } else {
    input.peers = std::move(*peers);
  }
  auto text = calico::bird::RenderNodeStatus(input);
  if (!text) {
    ctx.err << text.error().message() << "\n";
    return 1;
  }
  // RenderNodeStatus starts with the process line, which node status printed already.
  std::string body = *text;
  size_t nl = body.find('\n');
  ctx.out << (nl == std::string::npos ? body : body.substr(nl + 1));
  return 0;
}

// `calicoctl node counters`: which rule of this host's policy matched how often ("which rule
// dropped this"), from the calico nftables table's per-rule counters.
int RuleCounters(bool all, calico::ctl::Context& ctx) {
  calico::dataplane::NftablesTable table;
  auto counters = table.Counters();
  if (!counters) {
    ctx.err << (counters.error().code() == calico::ErrorCode::kNotFound
                    ? std::string("no calico table on this host: is calico-node running here?")
                    : counters.error().message())
            << "\n";
    return 1;
  }
  std::stable_sort(counters->begin(), counters->end(),
                   [](const auto& a, const auto& b) { return a.packets > b.packets; });
  std::vector<std::vector<std::string>> rows = {{"PACKETS", "BYTES", "CHAIN", "RULE"}};
  for (const auto& c : *counters) {
    if (!all && c.packets == 0) continue;
    rows.push_back({std::to_string(c.packets), std::to_string(c.bytes), c.chain,
                    c.comment.empty() ? "(handle " + std::to_string(c.handle) + ")" : c.comment});
  }
  std::vector<size_t> width(4, 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      ctx.out << r[i] << (i + 1 < r.size() ? std::string(width[i] - r[i].size() + 3, ' ') : "\n");
    }
  }
  if (rows.size() == 1) ctx.out << "(no rule has matched a packet yet; --all lists every rule)\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  calico::ctl::SetNodeCountersHandler(RuleCounters);
  calico::ctl::SetNodeStatusHandler(BgpStatus);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    calico::ctl::Context ctx{.in = std::cin,
                             .out = std::cout,
                             .err = std::cerr,
                             .open_client = calico::ctl::MakeClientOpener(
                                 [](const calico::datastore::ClientConfig& config) {
                                   return calico::datastore::OpenBackend(config);
                                 }),
                             .build = {.version = CALICO_VERSION, .git_commit = "unknown"},
                             .retry_sleep_ms = 1000};
    calico::ctl::CommandRegistry registry = calico::ctl::DefaultRegistry();
    registry.Register("ipam", "IP address management", calico::ctl::RunIpam);
    registry.Register("node", "Calico node management", calico::ctl::RunNode);
    // The calico-docker era commands the libnetwork tutorial uses.
    registry.Register("pool", "Legacy: add, remove or show IP pools", calico::ctl::RunLegacyPool);
    registry.Register("profile", "Legacy: show profiles and their rules",
                      calico::ctl::RunLegacyProfile);
    registry.Register("endpoint", "Legacy: show endpoints and their profiles",
                      calico::ctl::RunLegacyEndpoint);
    registry.Register("datastore migrate", "Export or import the whole datastore",
                      calico::ctl::RunDatastoreMigrate);
    return calico::ctl::Run(registry, args, ctx);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
