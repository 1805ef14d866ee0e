// Fuzzes the agent's one-pass typed reads of stored values (model/v3/stored_endpoint.h,
// model/v3/stored_policy.h) against the reference path they stand in for: whatever bytes etcd or
// the store file hold, a typed read neither crashes nor hangs, and what it accepts the reference
// path (DecodeStoredResource, model::Validate, the kind's decoder) accepts and decodes the same.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "calico/datastore/keys.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/policy.h"
#include "calico/model/v3/stored_endpoint.h"
#include "calico/model/v3/stored_policy.h"
#include "calico/model/validate.h"

namespace {

constexpr int64_t kRevision = 7;

// The reference path's result for `key`, decoded by `decode`; nullopt where it refuses the value.
template <typename T, typename F>
std::optional<T> Reference(std::string_view key, std::string_view value, F decode) {
  try {
    auto r = calico::datastore::DecodeStoredResource(key, value, kRevision);
    if (!r || !calico::model::Validate(*r)) return std::nullopt;
    return decode(*r);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

template <typename T>
void Check(const std::optional<T>& fast, const std::optional<T>& ref) {
  if (!fast) return;
  if (!ref || !(*fast == *ref)) __builtin_trap();  // the fast path widened or changed a value
}

}  // namespace

// `decode` for `kind` only (the stored value may name another kind than the key).
template <typename T>
auto OfKind(std::string_view kind, calico::Result<T> (*decode)(const calico::model::Resource&)) {
  return [kind, decode](const calico::model::Resource& r) -> std::optional<T> {
    if (r.kind() != kind) return std::nullopt;
    auto typed = decode(r);
    if (!typed) return std::nullopt;
    return *std::move(typed);
  };
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace calico::model::v3;
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  if (auto gnp = ReadValidStoredGlobalNetworkPolicy(value, kRevision)) {
    Check(gnp, Reference<GlobalNetworkPolicy>(
                   "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/f", value,
                   OfKind<GlobalNetworkPolicy>("GlobalNetworkPolicy", DecodeGlobalNetworkPolicy)));
  }
  if (auto np = ReadValidStoredNetworkPolicy(value, kRevision)) {
    Check(np, Reference<NetworkPolicy>(
                  "/calico/resources/v3/projectcalico.org/networkpolicies/ns/f", value,
                  OfKind<NetworkPolicy>("NetworkPolicy", DecodeNetworkPolicy)));
  }
  if (auto wep = ReadValidStoredWorkloadEndpoint(value, kRevision)) {
    Check(wep, Reference<WorkloadEndpoint>(
                   "/calico/resources/v3/projectcalico.org/workloadendpoints/ns/f", value,
                   OfKind<WorkloadEndpoint>("WorkloadEndpoint", DecodeWorkloadEndpoint)));
  }
  return 0;
}
