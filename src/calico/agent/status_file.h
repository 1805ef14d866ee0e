// What the agent could not program as written, shared with `calicoctl node status` through a
// file in calico-node's run directory ($CALICO_RUN_DIR/agent-status.json, default
// /var/run/calico): the policies, profiles and endpoints fault isolation replaced by a drop
// (policy::RenderReport::skipped) and those whose HTTP match is ignored. calico-node rewrites the
// file (atomically, mode 0644) whenever that list changes; calicoctl prints it after the BGP part.
// Upstream Felix has no such file: it reports these only in its log.
//
// The file is JSON:
//   {"unrenderable": [{"kind": "policy", "name": "default/default.p", "reason": "...",
//                      "effect": "..."}],
//    "httpMatchIgnored": [{"kind": "policy", "name": "default/default.q", "rules": 1}]}
//
// Thread-safety: pure functions, except the file reads and writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::agent {

inline constexpr const char* kAgentStatusFileName = "agent-status.json";

struct UnrenderableItem {
  std::string kind{};    // "policy", "profile" or "endpoint"
  std::string name{};    // "<tier>/<policy id>", the profile id or the endpoint name
  std::string reason{};  // why, naming the rule and field
  std::string effect{};  // what the dataplane does instead
  bool operator==(const UnrenderableItem&) const = default;
};

struct HttpIgnoredItem {
  std::string kind{};
  std::string name{};
  int rules = 0;
  bool operator==(const HttpIgnoredItem&) const = default;
};

struct AgentStatus {
  std::vector<UnrenderableItem> unrenderable{};
  std::vector<HttpIgnoredItem> http_ignored{};
  bool operator==(const AgentStatus&) const = default;
};

std::string AgentStatusJson(const AgentStatus& status);
// Errors: kInvalidArgument naming what is wrong.
[[nodiscard]] Result<AgentStatus> ParseAgentStatus(std::string_view json);

// Writes `path` through a temporary file and a rename (readers never see half a file).
[[nodiscard]] Status WriteAgentStatusFile(const std::string& path, const AgentStatus& status);
// Errors: kNotFound when the file does not exist, kInvalidArgument when it is not an agent
// status, kUnavailable when it cannot be read.
[[nodiscard]] Result<AgentStatus> ReadAgentStatusFile(const std::string& path);

// The part `calicoctl node status` prints after the BGP part, ending with an empty line:
//
//   Policy not programmed as written (isolated by calico-node)
//   +--------+-------------------+--------------------------------+
//   |  KIND  |       NAME        |             REASON             |
//   +--------+-------------------+--------------------------------+
//   | policy | default/default.p | ingress[0]: ...: ... (dropped) |
//   +--------+-------------------+--------------------------------+
//
// then, when there are any, "HTTP matches ignored (L3/L4 part enforced)" with one line per
// item. "" when there is nothing to report.
std::string RenderAgentStatusSection(const AgentStatus& status);

}  // namespace calico::agent
