// Full resync: every kind the calculation graph consumes, listed through the datastore client and
// fed to a fresh CalcGraph (what Felix's syncer delivers before "in sync").
#include <array>
#include <string_view>

#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"

namespace calico::calc {

Result<policy::Model> ModelFromDatastore(datastore::Client& client, std::string_view node) {
  // Referents first (as Felix's syncer orders them), though the graph accepts any order.
  static constexpr std::array<std::string_view, 9> kKinds = {
      "Tier",
      "Profile",
      "GlobalNetworkSet",
      "NetworkSet",
      "IPPool",
      "HostEndpoint",
      "GlobalNetworkPolicy",
      "NetworkPolicy",
      "WorkloadEndpoint",
  };
  CalcGraph graph{std::string(node)};
  for (std::string_view kind : kKinds) {
    auto items = client.List(kind);
    if (!items) return Unexpected(std::move(items).error().Wrap(std::string("list ") += kind));
    for (const model::Resource& r : *items) {
      graph.OnUpdate(r);
    }
  }
  return graph.Model();
}

}  // namespace calico::calc
