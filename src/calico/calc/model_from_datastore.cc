// Full resync: every kind the calculation graph consumes, listed through the datastore client and
// fed to a fresh CalcGraph (what Felix's syncer delivers before "in sync").
#include <string>
#include <string_view>

#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"

namespace calico::calc {

Status ListKinds(datastore::Client& client, std::span<const std::string_view> kinds,
                 const std::function<void(model::Resource&)>& each) {
  for (std::string_view kind : kinds) {
    auto items = client.List(kind);
    if (!items) return Unexpected(std::move(items).error().Wrap(std::string("list ") += kind));
    for (model::Resource& r : *items) {
      each(r);
    }
  }
  return OkStatus();
}

Result<policy::Model> ModelFromDatastore(datastore::Client& client, std::string_view node) {
  CalcGraph graph{std::string(node)};
  RETURN_IF_ERROR(ListKinds(client, kGraphKinds, [&](model::Resource& r) { graph.OnUpdate(r); }));
  return graph.Model();
}

}  // namespace calico::calc
