// Decoders of the IPAM kinds, see ipam.h.
#include "calico/model/v3/ipam.h"

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {
namespace {

Status DecodeIPPoolSpec(const Json& j, std::string_view path, IPPoolSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "cidr", out.cidr));
  RETURN_IF_ERROR(Field(j, path, "vxlanMode", out.vxlan_mode));
  RETURN_IF_ERROR(Field(j, path, "ipipMode", out.ipip_mode));
  RETURN_IF_ERROR(Field(j, path, "natOutgoing", out.nat_outgoing));
  RETURN_IF_ERROR(Field(j, path, "disabled", out.disabled));
  RETURN_IF_ERROR(Field(j, path, "disableBGPExport", out.disable_bgp_export));
  RETURN_IF_ERROR(Field(j, path, "blockSize", out.block_size));
  RETURN_IF_ERROR(Field(j, path, "nodeSelector", out.node_selector));
  RETURN_IF_ERROR(Field(j, path, "namespaceSelector", out.namespace_selector));
  RETURN_IF_ERROR(Field(j, path, "allowedUses", out.allowed_uses));
  RETURN_IF_ERROR(Field(j, path, "assignmentMode", out.assignment_mode));
  return OkStatus();
}

Status DecodeIPReservationSpec(const Json& j, std::string_view path, IPReservationSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  return Field(j, path, "reservedCIDRs", out.reserved_cidrs);
}

Status DecodeIPAMConfigurationSpec(const Json& j, std::string_view path,
                                   IPAMConfigurationSpec& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "strictAffinity", out.strict_affinity));
  RETURN_IF_ERROR(Field(j, path, "autoAllocateBlocks", out.auto_allocate_blocks));
  RETURN_IF_ERROR(Field(j, path, "maxBlocksPerHost", out.max_blocks_per_host));
  RETURN_IF_ERROR(Field(j, path, "ipCooldownSeconds", out.ip_cooldown_seconds));
  return OkStatus();
}

}  // namespace

Result<IPPool> DecodeIPPool(const model::Resource& r) {
  return DecodeResource<IPPool>(r, "IPPool", DecodeIPPoolSpec);
}

Result<IPReservation> DecodeIPReservation(const model::Resource& r) {
  return DecodeResource<IPReservation>(r, "IPReservation", DecodeIPReservationSpec);
}

Result<IPAMConfiguration> DecodeIPAMConfiguration(const model::Resource& r) {
  return DecodeResource<IPAMConfiguration>(r, "IPAMConfiguration", DecodeIPAMConfigurationSpec);
}

}  // namespace calico::model::v3
