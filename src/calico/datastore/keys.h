// Calico's etcd key layout as typed keys (libcalico-go/lib/backend/model: resource.go
// ResourceKey, block.go BlockKey, block_affinity.go BlockAffinityKey, ipam_handle.go
// IPAMHandleKey, ipam_config.go IPAMConfigKey), and the stored JSON form of v3 resources
// (libcalico-go/lib/backend/etcdv3).
//
// Each key has one Format (the etcd path) and one Parse (the path back into the key, rejecting
// anything else), so no library takes a path apart by hand:
//
//   BlockAffinityKey{.cidr = cidr, .host = "node-1"}.Format()
//       == "/calico/ipam/v2/host/node-1/ipv4/block/10.65.0.0-26"
//   if (auto k = BlockAffinityKey::Parse(kv.key)) own_blocks.insert(k->cidr);
//
// Parse errors are kInvalidArgument and quote the path. CIDRs in keys are masked, as Calico
// writes them; Parse masks what it reads.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/net/ip.h"

namespace calico::datastore {

inline constexpr std::string_view kResourcePrefix = "/calico/resources/v3/projectcalico.org/";
inline constexpr std::string_view kIpamPrefix = "/calico/ipam/v2/";

// /calico/resources/v3/projectcalico.org/<plural>/[<namespace>/]<name>; Kubernetes kinds under
// their KindInfo::key_root (/calico/kubernetes/<apiVersion>/<plural>/[<ns>/]<name>).
struct ResourceKey {
  const model::KindInfo* kind = nullptr;  // An entry of model::AllKinds(); required by Format.
  std::string ns{};                       // Namespaced kinds only; ignored for the others.
  std::string name{};

  [[nodiscard]] std::string Format() const;
  // Errors: kInvalidArgument for a path outside the resource prefix, an unknown plural, or a
  // wrong number of segments for the kind's scope.
  [[nodiscard]] static Result<ResourceKey> Parse(std::string_view path);
  bool operator==(const ResourceKey&) const = default;
};

// Prefix listing every resource of a kind (ns "" = all namespaces), with the trailing '/'.
std::string ResourceListPrefix(const model::KindInfo& kind, std::string_view ns);

// A key under kResourcePrefix with the prefix taken off, "<plural>/[<namespace>/]<name>": the
// compact form a table of every resource key holds (the agent's, sized for 100k endpoints), where
// ResourceKey costs a kind look-up and two strings per key. Parse accepts every path under
// kResourcePrefix, so whatever was ingested under one can be found again (ResourceKey::Parse is
// the strict reader: known plural, scope); it refuses any other path.
//
//   RelativeResourceKey{.path = "workloadendpoints/ns1/n-k8s-p-eth0"}.Format()
//       == "/calico/resources/v3/projectcalico.org/workloadendpoints/ns1/n-k8s-p-eth0"
struct RelativeResourceKey {
  std::string path{};

  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<RelativeResourceKey> Parse(std::string_view path);
  // What follows the last '/' of `path` (the name, as Calico writes keys; "" without a '/'), and
  // the segment before it (the namespace of a namespaced kind, the plural of a cluster-scoped
  // one; "" without a '/').
  std::string_view LastSegment() const;
  std::string_view SegmentBeforeLast() const;
  bool operator==(const RelativeResourceKey&) const = default;
};

// /calico/ipam/v2/assignment/ipv<4|6>/block/<address>-<prefix length>
struct BlockKey {
  net::CIDR cidr{};

  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<BlockKey> Parse(std::string_view path);
  // Every block of `family` (4 or 6; 0 = both), with the trailing '/'.
  static std::string ListPrefix(int family = 0);
  bool operator==(const BlockKey&) const = default;
};

// /calico/ipam/v2/<host|virtual>/<host>/ipv<4|6>/block/<address>-<prefix length>
struct BlockAffinityKey {
  net::CIDR cidr{};
  std::string host{};
  std::string affinity_type = "host";  // "host" or "virtual" (Calico's IPAMAffinityType*).

  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<BlockAffinityKey> Parse(std::string_view path);
  // The host-affinity keys of `host` in `family` (4 or 6; 0 = both), with the trailing '/'.
  static std::string ListPrefix(std::string_view host, int family = 0);
  bool operator==(const BlockAffinityKey&) const = default;
};

// The value stored at a BlockAffinityKey: {"state": "confirmed", "deleted": false}.
struct BlockAffinity {
  // "confirmed", "pending", "pendingDeletion"; "" (older Calico versions) counts as confirmed.
  std::string state{};
  bool deleted = false;

  // A state a node may route by: not deleted, confirmed (or the empty state).
  bool Confirmed() const { return !deleted && (state.empty() || state == "confirmed"); }
  [[nodiscard]] std::string Format() const;
  // An empty value is an empty affinity (Calico used to store none). Errors: kInvalidArgument
  // for anything but a JSON object with a string state and a boolean deleted.
  [[nodiscard]] static Result<BlockAffinity> Parse(std::string_view value);
  bool operator==(const BlockAffinity&) const = default;
};

// /calico/ipam/v2/handle/<handle id>
struct HandleKey {
  std::string handle_id{};

  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<HandleKey> Parse(std::string_view path);
  static std::string ListPrefix();  // "/calico/ipam/v2/handle/"
  bool operator==(const HandleKey&) const = default;
};

// /calico/ipam/v2/config
struct IpamConfigKey {
  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<IpamConfigKey> Parse(std::string_view path);
  bool operator==(const IpamConfigKey&) const = default;
};

// "/calico/ipam/v2/host/<host>/" (BlockAffinityKey::ListPrefix(host)).
std::string IpamHostPrefix(std::string_view host);

// The JSON Calico stores: the resource with resourceVersion and selfLink removed, apiVersion (the
// kind's own for Kubernetes kinds) and kind forced, and for policy kinds the
// projectcalico.org/metadata annotation holding the name.
std::string EncodeStoredResource(const model::Resource& r);
// Parses a stored value and restores the resource: kind from the key when the value has none, name
// from the policy annotation (annotation removed), resourceVersion = mod_revision. Errors:
// kInternal for unparsable data (names the key).
[[nodiscard]] Result<model::Resource> DecodeStoredResource(std::string_view key,
                                                           std::string_view value,
                                                           int64_t mod_revision);

// Felix's status reports (libcalico-go/lib/backend/model/statusreports.go), written by calico-node
// every reportingInterval: /calico/felix/v2/no-region/host/<node>/status (with a TTL of
// reportingTTL) and .../last_reported_status (no TTL); value {"time", "uptime", "first_update"}.
inline constexpr std::string_view kFelixStatusPrefix = "/calico/felix/v2/no-region/host/";
std::string FelixStatusKey(std::string_view node);
std::string FelixLastStatusKey(std::string_view node);

// A key under kFelixStatusPrefix: <node>/<leaf>, leaf "status" or "last_reported_status" (Parse
// accepts any one segment there, as readers skip leaves they do not know).
struct FelixReportKey {
  std::string node{};
  std::string leaf{};

  [[nodiscard]] std::string Format() const;
  [[nodiscard]] static Result<FelixReportKey> Parse(std::string_view path);
  bool operator==(const FelixReportKey&) const = default;
};

// The value at both report keys (libcalico-go/lib/backend/model/statusreports.go StatusReport):
// {"time": RFC 3339, "uptime": seconds, "first_update": bool}.
struct FelixStatusReport {
  std::string time{};
  double uptime = 0;
  bool first_update = false;

  [[nodiscard]] std::string Format() const;
  // As Go's json.Unmarshal into StatusReport: absent fields keep their zero value. Errors:
  // kInvalidArgument for anything but a JSON object whose fields have those types.
  [[nodiscard]] static Result<FelixStatusReport> Parse(std::string_view value);
  bool operator==(const FelixStatusReport&) const = default;
};

}  // namespace calico::datastore
