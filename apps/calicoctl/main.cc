// calicoctl: builds the Context (streams, datastore opener, build info) and hands the arguments
// to calico::ctl (calicoctl/calicoctl/calicoctl.go). Flags are parsed by the command layer.
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "calico/bird/bird_status.h"
#include "calico/ctl/cluster_command.h"
#include "calico/ctl/ctl.h"
#include "calico/ctl/ipam_command.h"
#include "calico/ctl/legacy_command.h"
#include "calico/ctl/migrate_command.h"
#include "calico/ctl/node_command.h"
#include "calico/ctl/policy_explain_command.h"
#include "calico/dataplane/nft.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"
#include "calico/flows/flows_command.h"

#ifndef CALICO_VERSION
#define CALICO_VERSION "v0.0.0"
#endif

int main(int argc, char** argv) {
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    calico::ctl::Context ctx{
        .in = std::cin,
        .out = std::cout,
        .err = std::cerr,
        .open_client =
            calico::ctl::MakeClientOpener([](const calico::datastore::ClientConfig& config) {
              // Short-lived: the JSON-gateway client, no gRPC to load.
              return calico::datastore::OpenBackend(config, calico::datastore::EtcdClient::kHttp);
            }),
        .build = {.version = CALICO_VERSION, .git_commit = "unknown"},
        .retry_sleep_ms = 1000,
        .flows_get = calico::flows::FlowsGet};
    calico::ctl::CommandRegistry registry = calico::ctl::DefaultRegistry();
    registry.Register("ipam", "IP address management", calico::ctl::RunIpam);
    // `node status` reads BIRD's control socket; `node counters` this host's calico table.
    registry.Register(
        "node", "Calico node management",
        calico::ctl::NodeCommand({
            .bgp_status = calico::bird::NodeStatusBgpSection,
            .rule_counters = [] { return calico::dataplane::NftablesTable().Counters(); },
        }));
    // The calico-docker era commands the libnetwork tutorial uses.
    registry.Register("pool", "Legacy: add, remove or show IP pools", calico::ctl::RunLegacyPool);
    registry.Register("profile", "Legacy: show profiles and their rules",
                      calico::ctl::RunLegacyProfile);
    registry.Register("endpoint", "Legacy: show endpoints and their profiles",
                      calico::ctl::RunLegacyEndpoint);
    registry.Register("datastore migrate", "Lock, export, import or unlock the whole datastore",
                      calico::ctl::RunDatastoreMigrate);
    registry.Register("cluster", "Access cluster information (diags)", calico::ctl::RunCluster);
    // Flow logs from calico-flows (issue 18).
    registry.Register("flows", "Show flows and the policies that decided them",
                      [](std::span<const std::string> words, calico::ctl::Context& c) {
                        const char* env = std::getenv("CALICO_FLOWS_SERVER");
                        return calico::flows::RunFlowsCommand(words, c, env == nullptr ? "" : env);
                      });
    registry.Register("policy explain",
                      "Explain which tiers, policies and rules allow or deny a connection",
                      calico::ctl::RunPolicyExplain);
    return calico::ctl::Run(registry, args, ctx);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
}
