// Typed IPAM kinds (api/pkg/apis/projectcalico/v3: ippool.go, ipreservation.go,
// ipamconfig.go). Conventions: common.h. Fields the defaulting fills in on write (blockSize,
// nodeSelector, allowedUses, assignmentMode) stay optional here, so readers apply Calico's
// defaults to resources written by others.
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"
#include "calico/model/v3/common.h"

namespace calico::model::v3 {

struct IPPoolSpec {
  std::string cidr{};
  std::optional<std::string> vxlan_mode{};  // "Never" (absent), "Always", "CrossSubnet".
  std::optional<std::string> ipip_mode{};
  bool nat_outgoing = false;
  bool disabled = false;
  bool disable_bgp_export = false;
  std::optional<int32_t> block_size{};         // 26 (IPv4) / 122 (IPv6) when absent.
  std::optional<std::string> node_selector{};  // all() when absent or empty.
  std::string namespace_selector{};
  std::optional<std::vector<std::string>> allowed_uses{};  // Workload, Tunnel when absent.
  std::optional<std::string> assignment_mode{};            // Automatic when absent.

  bool operator==(const IPPoolSpec&) const = default;
};

struct IPPool {
  ObjectMeta metadata{};
  IPPoolSpec spec{};

  bool operator==(const IPPool&) const = default;
};

struct IPReservationSpec {
  std::vector<std::string> reserved_cidrs{};

  bool operator==(const IPReservationSpec&) const = default;
};

struct IPReservation {
  ObjectMeta metadata{};
  IPReservationSpec spec{};

  bool operator==(const IPReservation&) const = default;
};

struct IPAMConfigurationSpec {
  bool strict_affinity = false;
  bool auto_allocate_blocks = true;
  std::optional<int32_t> max_blocks_per_host{};
  std::optional<int32_t> ip_cooldown_seconds{};

  bool operator==(const IPAMConfigurationSpec&) const = default;
};

struct IPAMConfiguration {
  ObjectMeta metadata{};
  IPAMConfigurationSpec spec{};

  bool operator==(const IPAMConfiguration&) const = default;
};

[[nodiscard]] Result<IPPool> DecodeIPPool(const model::Resource& r);
[[nodiscard]] Result<IPReservation> DecodeIPReservation(const model::Resource& r);
[[nodiscard]] Result<IPAMConfiguration> DecodeIPAMConfiguration(const model::Resource& r);

}  // namespace calico::model::v3
