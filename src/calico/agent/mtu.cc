// MTU auto-detection: felix/dataplane/linux/int_dataplane.go (findHostMTU, ConfigureDefaultMTUs,
// determinePodMTU, writeMTUFile).
#include "calico/agent/mtu.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>

namespace calico::agent {

Result<int> FindHostMtu(const std::vector<HostLink>& links, const std::string& pattern) {
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return InvalidArgument("mtuIfacePattern: not a regular expression: \"" + pattern +
                           "\": " + e.what());
  }
  int smallest = 0;
  for (const HostLink& l : links) {
    if (!l.up || l.mtu <= 0 || !std::regex_search(l.name, re)) continue;
    if (smallest == 0 || l.mtu < smallest) smallest = l.mtu;
  }
  return smallest == 0 ? kFallbackHostMtu : smallest;
}

int PodMtu(int host_mtu, const MtuEncaps& e) {
  int mtu = 0;
  for (auto [enabled, configured, overhead] :
       {std::tuple{e.ipip, e.ipip_mtu, kIpipMtuOverhead},
        std::tuple{e.vxlan, e.vxlan_mtu, kVxlanMtuOverhead},
        std::tuple{e.vxlan_v6, e.vxlan_mtu_v6, kVxlanV6MtuOverhead},
        std::tuple{e.wireguard, e.wireguard_mtu, kWireguardMtuOverhead}}) {
    const int m = configured != 0 ? configured : host_mtu - overhead;
    if (enabled && m > 0 && (mtu == 0 || m < mtu)) mtu = m;
  }
  return mtu == 0 ? host_mtu : mtu;
}

std::string MtuFilePath(const std::map<std::string, std::string>& env) {
  auto it = env.find("CALICO_MTU_FILE");
  return it != env.end() && !it->second.empty() ? it->second : kDefaultMtuFile;
}

Status WriteMtuFile(const std::string& path, int mtu) {
  std::error_code ec;
  const std::filesystem::path p(path);
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << mtu;
    out.close();
    if (!out) return Internal("cannot write the MTU file " + tmp);
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Internal("cannot write the MTU file " + path);
  }
  return OkStatus();
}

}  // namespace calico::agent
