// Calico's etcd key layout (libcalico-go/lib/backend/model: ResourceKey.defaultPath and the IPAM
// keys) and the stored JSON form of v3 resources (reference Part 4.1, 4.4).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::datastore {

inline constexpr std::string_view kResourcePrefix = "/calico/resources/v3/projectcalico.org/";
inline constexpr std::string_view kIpamPrefix = "/calico/ipam/v2/";

// /calico/resources/v3/projectcalico.org/<plural>/[<ns>/]<name>; Kubernetes kinds under their
// KindInfo::key_root (/calico/kubernetes/<apiVersion>/<plural>/[<ns>/]<name>).
std::string ResourceKey(const model::KindInfo& kind, std::string_view ns, std::string_view name);
// Prefix listing every resource of a kind (ns "" = all namespaces), with the trailing '/'.
std::string ResourceListPrefix(const model::KindInfo& kind, std::string_view ns);

// The JSON Calico stores: the resource with resourceVersion and selfLink removed, apiVersion (the
// kind's own for Kubernetes kinds) and kind forced, and for policy kinds the
// projectcalico.org/metadata annotation holding the name.
std::string EncodeStoredResource(const model::Resource& r);
// Parses a stored value and restores the resource: name from the policy annotation (annotation
// removed), resourceVersion = mod_revision. Errors: kInternal for unparsable data (names the key).
[[nodiscard]] Result<model::Resource> DecodeStoredResource(std::string_view key,
                                                           std::string_view value,
                                                           int64_t mod_revision);

// IPAM keys (reference Part 4.4). cidr is masked text "10.65.79.0/26".
std::string IpamBlockKey(std::string_view cidr);
std::string IpamAffinityKey(std::string_view host, std::string_view cidr);
std::string IpamHandleKey(std::string_view handle);
std::string IpamConfigKey();
std::string IpamHostPrefix(std::string_view host);

// Felix's status reports (libcalico-go/lib/backend/model/statusreports.go), written by calico-node
// every reportingInterval: /calico/felix/v2/no-region/host/<node>/status (with a TTL of
// reportingTTL) and .../last_reported_status (no TTL); value {"time", "uptime", "first_update"}.
inline constexpr std::string_view kFelixStatusPrefix = "/calico/felix/v2/no-region/host/";
std::string FelixStatusKey(std::string_view node);
std::string FelixLastStatusKey(std::string_view node);

}  // namespace calico::datastore
