// Decoder of the Node kind, see node.h.
#include "calico/model/v3/node.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeOrchRef(const Json& j, std::string_view path, OrchRef& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "nodeName", out.node_name));
  RETURN_IF_ERROR(Field(j, path, "orchestrator", out.orchestrator));
  return OkStatus();
}

Status DecodeNodeAddress(const Json& j, std::string_view path, NodeAddress& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "address", out.address));
  RETURN_IF_ERROR(Field(j, path, "type", out.type));
  return OkStatus();
}

Status DecodeNodeWireguardSpec(const Json& j, std::string_view path, NodeWireguardSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "interfaceIPv4Address", out.interface_ipv4_address));
  RETURN_IF_ERROR(Field(j, path, "interfaceIPv6Address", out.interface_ipv6_address));
  return OkStatus();
}

Status DecodeNodeInterface(const Json& j, std::string_view path, NodeInterface& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "name", out.name));
  RETURN_IF_ERROR(Field(j, path, "addresses", out.addresses));
  return OkStatus();
}

Status DecodeNodeSpec(const Json& j, std::string_view path, NodeSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "ipv4VXLANTunnelAddr", out.ipv4_vxlan_tunnel_addr));
  RETURN_IF_ERROR(Field(j, path, "vxlanTunnelMACAddr", out.vxlan_tunnel_mac_addr));
  RETURN_IF_ERROR(Field(j, path, "ipv6VXLANTunnelAddr", out.ipv6_vxlan_tunnel_addr));
  RETURN_IF_ERROR(Field(j, path, "vxlanTunnelMACAddrV6", out.vxlan_tunnel_mac_addr_v6));
  RETURN_IF_ERROR(Field(j, path, "orchRefs", out.orch_refs, DecodeOrchRef));
  RETURN_IF_ERROR(Field(j, path, "wireguard", out.wireguard, DecodeNodeWireguardSpec));
  RETURN_IF_ERROR(Field(j, path, "addresses", out.addresses, DecodeNodeAddress));
  RETURN_IF_ERROR(Field(j, path, "interfaces", out.interfaces, DecodeNodeInterface));
  return OkStatus();
}

Status DecodeCalicoNodeStatusSpec(const Json& j, std::string_view path, CalicoNodeStatusSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "node", out.node));
  RETURN_IF_ERROR(Field(j, path, "classes", out.classes));
  RETURN_IF_ERROR(Field(j, path, "updatePeriodSeconds", out.update_period_seconds));
  return OkStatus();
}

}  // namespace

Result<Node> DecodeNode(const model::Resource& r) {
  ASSIGN_OR_RETURN(Node node, DecodeResource<Node>(r, "Node", DecodeNodeSpec));
  // spec.bgp has one reader, the BGP one (bgp.h).
  ASSIGN_OR_RETURN(NodeBGP bgp, DecodeNodeBGP(r));
  node.spec.bgp = std::move(bgp.bgp);
  return node;
}

Result<CalicoNodeStatus> DecodeCalicoNodeStatus(const model::Resource& r) {
  return DecodeResource<CalicoNodeStatus>(r, "CalicoNodeStatus", DecodeCalicoNodeStatusSpec);
}

}  // namespace calico::model::v3
