// The typed Node kind (api/pkg/apis/projectcalico/v3 / libcalico-go/lib/apis/v3 node.go) and
// CalicoNodeStatus (nodestatus.go).
// Conventions: common.h.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/bgp.h"
#include "calico/model/v3/common.h"

namespace calico::model::v3 {

struct OrchRef {
  std::string node_name{};
  std::string orchestrator{};

  bool operator==(const OrchRef&) const = default;
};

struct NodeAddress {
  std::string address{};
  std::string type{};  // "CalicoNodeIP", "InternalIP", "ExternalIP".

  bool operator==(const NodeAddress&) const = default;
};

struct NodeWireguardSpec {
  std::string interface_ipv4_address{};
  std::string interface_ipv6_address{};

  bool operator==(const NodeWireguardSpec&) const = default;
};

// A host interface and its addresses as calico-node start-up records them (spec.interfaces).
struct NodeInterface {
  std::string name{};
  std::vector<std::string> addresses{};

  bool operator==(const NodeInterface&) const = default;
};

struct NodeSpec {
  // bgp.h's NodeBGPSpec, decoded by DecodeNodeBGP (the one reader of spec.bgp; its
  // routeReflectorClusterID also comes from the Node's annotation or label).
  std::optional<NodeBGPSpec> bgp{};
  std::string ipv4_vxlan_tunnel_addr{};
  std::string vxlan_tunnel_mac_addr{};
  std::string ipv6_vxlan_tunnel_addr{};
  std::string vxlan_tunnel_mac_addr_v6{};
  std::vector<OrchRef> orch_refs{};
  std::optional<NodeWireguardSpec> wireguard{};
  std::vector<NodeAddress> addresses{};
  std::vector<NodeInterface> interfaces{};

  bool operator==(const NodeSpec&) const = default;
};

struct Node {
  ObjectMeta metadata{};
  NodeSpec spec{};

  bool operator==(const Node&) const = default;
};

// CalicoNodeStatus (nodestatus.go): what calico-node on `node` reports into the
// resource's status, and how often. The status is written, not read, so only the spec is here.
struct CalicoNodeStatusSpec {
  std::string node{};
  std::vector<std::string> classes{};              // "Agent", "BGP", "Routes".
  std::optional<int64_t> update_period_seconds{};  // Go *uint32; absent = on spec changes only.

  bool operator==(const CalicoNodeStatusSpec&) const = default;
};

struct CalicoNodeStatus {
  ObjectMeta metadata{};
  CalicoNodeStatusSpec spec{};

  bool operator==(const CalicoNodeStatus&) const = default;
};

[[nodiscard]] Result<Node> DecodeNode(const model::Resource& r);
[[nodiscard]] Result<CalicoNodeStatus> DecodeCalicoNodeStatus(const model::Resource& r);

}  // namespace calico::model::v3
