// calicoctl node status: BIRD `show protocols` parsing and the go-pretty peer table
// (calicoctl/commands/node/status.go).
#include "calico/bird/bird_status.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/net/ip.h"

namespace calico::bird {
namespace {

std::vector<std::string> Fields(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string word;
  while (in >> word)
    out.push_back(word);
  return out;
}

std::string Lower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsHeader(std::string_view line) {
  std::vector<std::string> f = Fields(line);
  for (auto& w : f)
    w = Lower(w);
  return f == std::vector<std::string>{"name", "proto", "table", "state", "since", "info"};
}

// A 4-digit reply code followed by ' ' or '-' (BIRD's control-socket protocol).
bool HasCode(std::string_view line) {
  if (line.size() < 5) return false;
  for (size_t i = 0; i < 4; ++i) {
    if (line[i] < '0' || line[i] > '9') return false;
  }
  return line[4] == ' ' || line[4] == '-';
}

// "Mesh_198_18_0_2", "Global_10_0_0_3_port_1179", "Mesh_fd00_1__2" → a peer, or nothing for rows
// calicoctl does not show.
std::optional<BgpPeerStatus> PeerFromRow(const std::vector<std::string>& cols) {
  if (cols.size() < 5 || cols[1] != "BGP") return std::nullopt;
  const std::string& name = cols[0];
  BgpPeerStatus p;
  std::string rest;
  for (auto [prefix, type] : {std::pair{"Mesh_", BgpPeerType::kNodeToNodeMesh},
                              std::pair{"Global_", BgpPeerType::kGlobal},
                              std::pair{"Node_", BgpPeerType::kNodeSpecific}}) {
    const std::string_view pre(prefix);
    if (name.size() > pre.size() && name.compare(0, pre.size(), pre) == 0) {
      p.type = type;
      rest = name.substr(pre.size());
      break;
    }
  }
  if (rest.empty()) return std::nullopt;
  if (size_t at = rest.rfind("_port_"); at != std::string::npos) {
    if (Result<uint16_t> port = ParseInt<uint16_t>(rest.substr(at + 6))) {
      p.port = *port;
      rest.resize(at);
    }
  }
  std::string v4 = rest;
  std::replace(v4.begin(), v4.end(), '_', '.');
  std::string v6 = rest;
  std::replace(v6.begin(), v6.end(), '_', ':');
  // An IPv6 name is one that does not read as IPv4 but does as IPv6. Anything else is shown as
  // calicoctl shows it: whatever the IPv4 substitution gives.
  const auto ip4 = net::IPAddr::Parse(v4);
  const auto ip6 = net::IPAddr::Parse(v6);
  const bool is_v6 = !(ip4 && ip4->is_v4()) && ip6 && ip6->is_v6();
  p.peer_address = is_v6 ? v6 : v4;
  p.family = is_v6 ? 6 : 4;
  p.name = name;
  p.state = cols[3];
  p.since = cols[4];
  if (cols.size() > 5) p.bgp_state = cols[5];
  for (size_t i = 6; i < cols.size(); ++i) {
    if (!p.info.empty()) p.info += ' ';
    p.info += cols[i];
  }
  return p;
}

std::string DisplayAddress(const BgpPeerStatus& p) {
  if (p.port == 0) return p.peer_address;
  if (p.family == 6) return "[" + p.peer_address + "]:" + std::to_string(p.port);
  return p.peer_address + ":" + std::to_string(p.port);
}

std::string FamilySection(const std::vector<BgpPeerStatus>& peers, int family) {
  const std::string v = std::to_string(family);
  std::string out = "\nIPv" + v + " BGP status\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& p : peers) {
    if (p.family != family) continue;
    std::string info = p.bgp_state;
    if (!p.info.empty()) info += (info.empty() ? "" : " ") + p.info;
    rows.push_back(
        {DisplayAddress(p), std::string(BgpPeerTypeName(p.type)), p.state, p.since, info});
  }
  if (rows.empty()) return out + "No IPv" + v + " peers found.\n";
  return out + RenderBoxTable({"PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"}, rows);
}

}  // namespace

std::optional<BgpPeerStatus> PeerFromProtocolName(std::string_view name) {
  auto p = PeerFromRow({std::string(name), "BGP", "", "", ""});
  if (p) p->state.clear();
  return p;
}

std::string_view BgpPeerTypeName(BgpPeerType type) {
  switch (type) {
    case BgpPeerType::kNodeToNodeMesh:
      return "node-to-node mesh";
    case BgpPeerType::kGlobal:
      return "global";
    case BgpPeerType::kNodeSpecific:
      return "node specific";
  }
  return "unknown";
}

Result<std::vector<BgpPeerStatus>> ParseBirdProtocols(std::string_view output) {
  std::vector<std::string> lines;
  {
    std::istringstream in{std::string(output)};
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(line);
    }
  }
  std::vector<BgpPeerStatus> peers;
  auto take_row = [&](std::string_view row) {
    if (auto p = PeerFromRow(Fields(row))) peers.push_back(std::move(*p));
  };
  const auto first =
      std::find_if(lines.begin(), lines.end(), [](const std::string& l) { return !l.empty(); });
  if (first == lines.end()) {
    return InvalidArgument("unknown BIRD table output format: empty reply");
  }

  if (HasCode(*first)) {
    // The control-socket protocol, parsed as calicoctl does.
    bool header = false;
    bool ended = false;
    for (const auto& line : lines) {
      if (ended || line.empty()) continue;
      if (line.rfind("0001 ", 0) == 0) continue;
      if (line.rfind("0000", 0) == 0) {
        ended = true;
        continue;
      }
      if (line.rfind("2002-", 0) == 0) {
        if (!IsHeader(line.substr(5))) {
          return InvalidArgument("unknown BIRD table output format: " + line);
        }
        header = true;
        continue;
      }
      if (header && line.rfind("1002-", 0) == 0) {
        take_row(line.substr(5));
        continue;
      }
      if (header && line.front() == ' ') {
        take_row(line);
        continue;
      }
      if (HasCode(line) && (line[0] == '8' || line[0] == '9')) {
        return InvalidArgument("BIRD error: " + line.substr(5));
      }
      return InvalidArgument("unexpected output line from BIRD: " + line);
    }
    if (!header && !ended) return InvalidArgument("unknown BIRD table output format: no header");
    return peers;
  }

  // birdc's human-readable form.
  bool header = false;
  for (const auto& line : lines) {
    if (line.empty()) continue;
    if (!header) {
      if (line.rfind("BIRD ", 0) == 0 && line.find(" ready.") != std::string::npos) continue;
      if (IsHeader(line)) {
        header = true;
        continue;
      }
      if (line.find("Unable to connect") != std::string::npos) {
        return Unavailable("BIRD is not reachable: " + line);
      }
      return InvalidArgument("unknown BIRD table output format: " + line);
    }
    take_row(line);
  }
  if (!header) return InvalidArgument("unknown BIRD table output format: no header");
  return peers;
}

Result<std::string> RenderNodeStatus(const NodeStatusInput& input) {
  if (!input.calico_running) return Unavailable("Calico process is not running.");
  std::string out = "Calico process is running.\n";
  if (!input.bird_running) {
    out += "\nThe BGP backend process (BIRD) is not running.\n";
  } else {
    out += FamilySection(input.peers, 4);
    out += FamilySection(input.peers, 6);
  }
  out += '\n';
  return out;
}

namespace {

// `birdc -s <socket> show <what>`'s output. Errors: RunSubprocess's; kUnavailable when birdc
// fails or cannot reach the socket.
Result<std::string> RunBirdc(const std::string& socket_path, const std::string& birdc_binary,
                             std::chrono::milliseconds timeout, const std::string& what) {
  ASSIGN_OR_RETURN(SubprocessOutput result,
                   RunSubprocess({.argv = {birdc_binary, "-s", socket_path, "show", what}},
                                 {.timeout = timeout, .merge_stderr = true}));
  if (result.exit_code != 0 || result.out.find("Unable to connect") != std::string::npos) {
    std::string why = result.out;
    while (!why.empty() && (why.back() == '\n' || why.back() == ' '))
      why.pop_back();
    return Unavailable("birdc -s " + socket_path + " show " + what + " failed: " + why);
  }
  return std::move(result.out);
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  return s;
}

// The text after a reply code ("1011-Router ID is ..."), or the line itself (birdc's form).
std::string_view Payload(std::string_view line) {
  if (HasCode(line)) return line.substr(5);
  return line;
}

}  // namespace

Result<BirdDaemonStatus> ParseBirdShowStatus(std::string_view output) {
  BirdDaemonStatus st;
  bool any = false;
  for (const std::string& raw : StrSplit(output, '\n', true)) {
    std::string_view line = TrimLeft(Payload(raw));
    if (line.find("Unable to connect") != std::string_view::npos) {
      return Unavailable("BIRD is not reachable: " + std::string(line));
    }
    auto after = [&](std::string_view prefix, std::string& into) {
      if (line.substr(0, prefix.size()) != prefix) return false;
      into = std::string(line.substr(prefix.size()));
      return true;
    };
    if (line.rfind("BIRD ", 0) == 0 && line.find(" ready.") != std::string_view::npos) {
      st.ready = true;
    } else if (line.rfind("BIRD ", 0) == 0) {
      st.version = std::string(line.substr(5));
    } else if (!after("Router ID is ", st.router_id) &&
               !after("Current server time is ", st.server_time) &&
               !after("Last reboot on ", st.last_boot) &&
               !after("Last reconfiguration on ", st.last_reconfig)) {
      continue;
    }
    any = true;
  }
  if (!any) return InvalidArgument("unexpected output from BIRD's show status");
  return st;
}

Result<std::vector<BirdRoute>> ParseBirdRoutes(std::string_view output) {
  std::vector<BirdRoute> routes;
  int table_family = 0;
  std::string previous_dest;
  for (const std::string& raw : StrSplit(output, '\n', true)) {
    std::string_view line = Payload(raw);
    if (line.find("Unable to connect") != std::string_view::npos) {
      return Unavailable("BIRD is not reachable: " + std::string(line));
    }
    if (TrimLeft(line).empty()) continue;
    if (line.rfind("BIRD ", 0) == 0) continue;
    if (line.rfind("Table ", 0) == 0) {
      table_family = line.find('6') != std::string_view::npos ? 6 : 4;
      continue;
    }
    if (line.front() == '\t') {
      // A next hop or an attribute of the last route ("Type: ...", "BGP.origin: ..." with `all`).
      if (routes.empty()) continue;
      BirdRoute& r = routes.back();
      std::vector<std::string> f = Fields(line);
      if (!r.interface.empty() || f.empty()) continue;  // Multipath: the first hop only.
      if (f[0] == "via" && f.size() >= 4 && f[2] == "on") {
        r.gateway = f[1];
        r.interface = f[3];
      } else if (f[0] == "dev" && f.size() >= 2) {
        r.gateway = "N/A";
        r.interface = f[1];
      }
      continue;
    }
    std::vector<std::string> f = Fields(line);
    BirdRoute r;
    size_t at = 0;
    if (line.front() != ' ') {
      previous_dest = f[0];
      at = 1;
    } else if (previous_dest.empty()) {
      return InvalidArgument("route without a destination in BIRD's show route: " +
                             std::string(line));
    }
    r.destination = previous_dest;
    if (at < f.size()) {
      const std::string& type = f[at];
      if (type == "blackhole" || type == "unreachable" || type == "prohibit") {
        r.gateway = "N/A";
        r.interface = type;
      }
    }
    if (at + 1 < f.size() && f[at + 1].size() > 1 && f[at + 1].front() == '[') {
      r.protocol = f[at + 1].substr(1);
      if (!r.protocol.empty() && r.protocol.back() == ']') r.protocol.pop_back();
    }
    r.primary = line.find("] *") != std::string_view::npos;
    r.family = table_family != 0                              ? table_family
               : r.destination.find(':') != std::string::npos ? 6
                                                              : 4;
    routes.push_back(std::move(r));
  }
  return routes;
}

Result<BirdDaemonStatus> ShowBirdStatus(const std::string& socket_path,
                                        const std::string& birdc_binary,
                                        std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string out, RunBirdc(socket_path, birdc_binary, timeout, "status"));
  return ParseBirdShowStatus(out);
}

Result<std::vector<BirdRoute>> ShowBirdRoutes(const std::string& socket_path,
                                              const std::string& birdc_binary,
                                              std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string out, RunBirdc(socket_path, birdc_binary, timeout, "route"));
  return ParseBirdRoutes(out);
}

Result<std::vector<BgpPeerStatus>> ShowBirdPeers(const std::string& socket_path,
                                                 const std::string& birdc_binary,
                                                 std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(std::string out, RunBirdc(socket_path, birdc_binary, timeout, "protocols"));
  return ParseBirdProtocols(out);
}

Result<std::string> NodeStatusBgpSection(const std::string& socket_path) {
  NodeStatusInput input;
  auto peers = ShowBirdPeers(socket_path);
  if (!peers) {
    input.bird_running = false;
  } else {
    input.peers = std::move(*peers);
  }
  ASSIGN_OR_RETURN(std::string text, RenderNodeStatus(input));
  // The process line is the caller's (calicoctl checks calico-node itself).
  const size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

}  // namespace calico::bird
