// See kernel_config.h.
#include "calico/ctl/kernel_config.h"

#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include <fmt/format.h>

namespace calico::ctl {
namespace {

namespace fs = std::filesystem;

// checksystem.go checkModuleFile: "/<name>.ko" with an optional compression suffix on any line.
bool ListedIn(const std::string& file, const std::string& name) {
  std::ifstream in(file);
  if (!in) return false;
  const std::regex re("/" +
                      std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\-])"), R"(\$&)") +
                      R"(\.ko(\.(gz|xz|zst|bz2))?)");
  for (std::string line; std::getline(in, line);) {
    if (std::regex_search(line, re)) return true;
  }
  return false;
}

}  // namespace

const std::vector<KernelModuleCheck>& CalicoKernelModules() {
  static const std::vector<KernelModuleCheck> kModules = {
      {"nf_tables", {"CONFIG_NF_TABLES"}, true, "policy"},
      {"nf_conntrack", {"CONFIG_NF_CONNTRACK"}, true, "policy"},
      {"veth", {"CONFIG_VETH"}, true, "workload interfaces"},
      {"vxlan", {"CONFIG_VXLAN"}, false, "VXLAN mode"},
      {"ipip", {"CONFIG_NET_IPIP"}, false, "IPIP mode"},
      {"wireguard", {"CONFIG_WIREGUARD"}, false, "WireGuard"},
  };
  return kModules;
}

std::string FindKernelConfig(std::string_view release) {
  const std::string r(release);
  for (const std::string& path :
       {std::string("/proc/config.gz"), std::string("/usr/src/linux/.config"), "/boot/config-" + r,
        "/usr/src/linux-" + r + "/.config", "/usr/src/linux-headers-" + r + "/.config",
        "/lib/modules/" + r + "/build/.config"}) {
    std::error_code ec;
    if (fs::exists(path, ec)) return path;
  }
  return "";
}

Result<std::string> ReadKernelConfig(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFound(fmt::format("kernel config {}: no such file", path));
  }
  // gzread reads plain files as they are, and gunzips gzip ones.
  gzFile gz = ::gzopen(path.c_str(), "rb");
  if (gz == nullptr) {
    return InvalidArgument(fmt::format("kernel config {}: cannot open", path));
  }
  std::string text;
  char buf[65536];
  int n = 0;
  while ((n = ::gzread(gz, buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > (64U << 20)) break;  // no kernel config is this big
  }
  int err = Z_OK;
  const char* message = ::gzerror(gz, &err);
  ::gzclose(gz);
  if (n < 0 || (err != Z_OK && err != Z_BUF_ERROR)) {
    return InvalidArgument(fmt::format("kernel config {}: {}", path, message));
  }
  return text;
}

bool KernelModuleAvailable(const KernelModuleCheck& module, const KernelSources& sources) {
  std::vector<std::string> names = {module.name};
  std::string underscored = module.name;
  std::replace(underscored.begin(), underscored.end(), '-', '_');
  if (underscored != module.name) names.push_back(underscored);
  for (const std::string& name : names) {
    std::error_code ec;
    if (fs::exists(fs::path(sources.sys_module_dir) / name, ec)) return true;
    if (!sources.modules_dir.empty()) {
      if (ListedIn(sources.modules_dir + "/modules.dep", name)) return true;
      if (ListedIn(sources.modules_dir + "/modules.builtin", name)) return true;
    }
  }
  if (sources.config_text.empty()) return false;
  // checkModule with "^%s=[ym]" on each line.
  std::istringstream lines(sources.config_text);
  for (std::string line; std::getline(lines, line);) {
    for (const std::string& option : module.config_options) {
      if (line.starts_with(option + "=y") || line.starts_with(option + "=m")) return true;
    }
  }
  return false;
}

}  // namespace calico::ctl
