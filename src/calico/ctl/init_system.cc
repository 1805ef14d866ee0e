// `calicoctl node run --init-system` (init_system.h): the shipped unit and environment file.
#include "calico/ctl/init_system.h"

#include <sstream>

#include "calico/ctl/init_system_templates.h"

namespace calico::ctl {
namespace {

constexpr std::string_view kPackagedExecStart = "ExecStart=/usr/bin/calico-node";

// The variable a line sets, commented or not ("#IP=autodetect" -> "IP"); "" for other lines.
std::string VariableOf(std::string_view line) {
  if (!line.empty() && line[0] == '#') line.remove_prefix(1);
  const size_t eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0) return "";
  for (char c : line.substr(0, eq)) {
    if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return "";
  }
  return std::string(line.substr(0, eq));
}

}  // namespace

std::string RenderNodeUnit(std::string_view node_binary) {
  std::istringstream in{std::string(kCalicoNodeUnitTemplate)};
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line == kPackagedExecStart) line = "ExecStart=" + std::string(node_binary);
    out += line + "\n";
  }
  return out;
}

std::string RenderCalicoEnv(const std::vector<std::pair<std::string, std::string>>& settings) {
  std::vector<bool> placed(settings.size(), false);
  std::istringstream in{std::string(kCalicoEnvTemplate)};
  std::string out;
  for (std::string line; std::getline(in, line);) {
    const std::string var = VariableOf(line);
    for (size_t i = 0; !var.empty() && i < settings.size(); ++i) {
      if (settings[i].first != var) continue;
      // The first mention takes the value; a later one (an example) stays commented.
      line = placed[i] ? (line[0] == '#' ? line : "#" + line)
                       : settings[i].first + "=" + settings[i].second;
      placed[i] = true;
    }
    out += line + "\n";
  }
  bool header = false;
  for (size_t i = 0; i < settings.size(); ++i) {
    if (placed[i]) continue;
    if (!header) {
      out +=
          "\n# ---- Also set by calicoctl node run "
          "-----------------------------------------------------------\n";
      header = true;
    }
    out += settings[i].first + "=" + settings[i].second + "\n";
  }
  return out;
}

std::string InitSystemText(std::string_view node_binary,
                           const std::vector<std::pair<std::string, std::string>>& settings,
                           bool libnetwork) {
  std::string out =
      "Use the following systemd unit to run calico-node (save it as\n"
      "/etc/systemd/system/calico-node.service; the calico-cpp package installs it as\n"
      "/lib/systemd/system/calico-node.service):\n\n";
  out += RenderNodeUnit(node_binary);
  out += "\nwith this environment file (/etc/calico/calico.env):\n\n";
  out += RenderCalicoEnv(settings);
  out += "\nThen start calico-node and enable it at boot:\n\n";
  out += "systemctl daemon-reload\nsystemctl enable --now calico-node\n";
  if (libnetwork) out += "systemctl enable --now calico-libnetwork.socket\n";
  out += "\nUse the following command to stop calico-node:\n\nsystemctl stop calico-node\n";
  return out;
}

}  // namespace calico::ctl
