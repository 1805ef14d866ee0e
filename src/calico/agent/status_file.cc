// The agent status file (status_file.h).
#include "calico/agent/status_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "calico/base/strings.h"

namespace calico::agent {
namespace {

using Json = nlohmann::ordered_json;

}  // namespace

std::string AgentStatusJson(const AgentStatus& status) {
  Json doc = {{"unrenderable", Json::array()}, {"httpMatchIgnored", Json::array()}};
  for (const auto& u : status.unrenderable) {
    doc["unrenderable"].push_back(
        {{"kind", u.kind}, {"name", u.name}, {"reason", u.reason}, {"effect", u.effect}});
  }
  for (const auto& h : status.http_ignored) {
    doc["httpMatchIgnored"].push_back({{"kind", h.kind}, {"name", h.name}, {"rules", h.rules}});
  }
  return doc.dump(2) + "\n";
}

Result<AgentStatus> ParseAgentStatus(std::string_view text) {
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return InvalidArgument("agent status: not a JSON object");
  }
  AgentStatus status;
  auto str = [](const Json& item, const char* key) {
    auto it = item.find(key);
    return it != item.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (auto it = doc.find("unrenderable"); it != doc.end()) {
    if (!it->is_array()) return InvalidArgument("agent status: unrenderable is not a list");
    for (const Json& item : *it) {
      if (!item.is_object())
        return InvalidArgument("agent status: unrenderable item not an object");
      status.unrenderable.push_back(
          {str(item, "kind"), str(item, "name"), str(item, "reason"), str(item, "effect")});
    }
  }
  if (auto it = doc.find("httpMatchIgnored"); it != doc.end()) {
    if (!it->is_array()) return InvalidArgument("agent status: httpMatchIgnored is not a list");
    for (const Json& item : *it) {
      if (!item.is_object()) {
        return InvalidArgument("agent status: httpMatchIgnored item not an object");
      }
      auto rules = item.find("rules");
      status.http_ignored.push_back(
          {str(item, "kind"), str(item, "name"),
           rules != item.end() && rules->is_number_integer() ? rules->get<int>() : 0});
    }
  }
  return status;
}

Status WriteAgentStatusFile(const std::string& path, const AgentStatus& status) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Unavailable("write " + tmp + ": " + std::strerror(errno));
    }
    out << AgentStatusJson(status);
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Unavailable("write " + tmp + ": " + std::strerror(errno));
    }
  }
  ::chmod(tmp.c_str(), 0644);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return Unavailable("rename " + tmp + " to " + path + ": " + why);
  }
  return OkStatus();
}

Result<AgentStatus> ReadAgentStatusFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return NotFound("no agent status file " + path);
    return Unavailable("read " + path + ": " + std::strerror(errno));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto status = ParseAgentStatus(ss.str());
  if (!status) return InvalidArgument(path + ": " + status.error().message());
  return status;
}

std::string RenderAgentStatusSection(const AgentStatus& status) {
  std::string out;
  if (!status.unrenderable.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& u : status.unrenderable) {
      rows.push_back(
          {u.kind, u.name, u.effect.empty() ? u.reason : u.reason + " (" + u.effect + ")"});
    }
    out += "Policy not programmed as written (isolated by calico-node)\n";
    out += RenderBoxTable({"KIND", "NAME", "REASON"}, rows);
    out += "\n";
  }
  if (!status.http_ignored.empty()) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : status.http_ignored) {
      rows.push_back({h.kind, h.name, std::to_string(h.rules)});
    }
    out += "HTTP matches ignored (L3/L4 part enforced)\n";
    out += RenderBoxTable({"KIND", "NAME", "RULES"}, rows);
    out += "\n";
  }
  return out;
}

}  // namespace calico::agent
