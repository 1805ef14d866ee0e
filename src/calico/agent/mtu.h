// MTU auto-detection (felix/dataplane/linux/int_dataplane.go: findHostMTU, ConfigureDefaultMTUs,
// determinePodMTU, writeMTUFile): the smallest MTU of the host interfaces that are up and whose
// name matches mtuIfacePattern (1460 when none does), minus the overhead of the encapsulations in
// use (IPIP 20, VXLAN 50, IPv6 VXLAN 70, WireGuard 60; an encapsulation's own configured MTU wins,
// as Felix's ipipMTU / vxlanMTU / vxlanMTUV6), the smallest of them, or the host MTU when none is
// in use. calico-node writes it at start-up to the MTU file (/var/lib/calico/mtu, CALICO_MTU_FILE
// overrides it), which the CNI plugin reads when its network config has no "mtu"
// (cni-plugin/internal/pkg/utils MTUFromFile).
//
// Thread-safety: pure functions, except WriteMtuFile (the file system).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "calico/base/result.h"

namespace calico::agent {

// Felix's MTUIfacePattern default.
inline constexpr const char* kDefaultMtuIfacePattern =
    "^((en|wl|ww|sl|ib)[Pcopsvx].*|(eth|wlan|wwan).*)";
inline constexpr const char* kDefaultMtuFile = "/var/lib/calico/mtu";
inline constexpr int kIpipMtuOverhead = 20;
inline constexpr int kVxlanMtuOverhead = 50;
inline constexpr int kVxlanV6MtuOverhead = 70;
inline constexpr int kWireguardMtuOverhead = 60;
inline constexpr int kFallbackHostMtu = 1460;  // No interface matched (Felix's default).

struct HostLink {
  std::string name;
  int mtu = 0;
  bool up = false;
};

// The smallest MTU of the `links` that are up and match `pattern` (a search, as Go's
// MatchString), or 1460 when none does. Errors: kInvalidArgument for a pattern that is not a
// regular expression ("mtuIfacePattern: ...").
[[nodiscard]] Result<int> FindHostMtu(const std::vector<HostLink>& links,
                                      const std::string& pattern);

struct MtuEncaps {
  bool ipip = false;
  int ipip_mtu = 0;  // 0: host MTU - 20
  bool vxlan = false;
  int vxlan_mtu = 0;  // 0: host MTU - 50
  bool vxlan_v6 = false;
  int vxlan_mtu_v6 = 0;  // 0: host MTU - 70
  bool wireguard = false;
  int wireguard_mtu = 0;  // 0: host MTU - 60
};

// determinePodMTU after ConfigureDefaultMTUs.
int PodMtu(int host_mtu, const MtuEncaps& encaps);

// CALICO_MTU_FILE, else /var/lib/calico/mtu.
std::string MtuFilePath(const std::map<std::string, std::string>& env);

// Writes "<mtu>" to `path` (its directory created; replaced atomically, mode 0644).
// Errors: kInternal naming the path.
[[nodiscard]] Status WriteMtuFile(const std::string& path, int mtu);

}  // namespace calico::agent
