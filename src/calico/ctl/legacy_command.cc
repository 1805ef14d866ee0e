#include "calico/ctl/legacy_command.h"

#include <algorithm>

#include "calico/ctl/args.h"
#include "calico/datastore/client.h"
#include "calico/model/v3/ipam.h"
#include "calico/net/ip.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

std::string PoolName(const net::CIDR& cidr) {
  std::string name = "pool-" + cidr.String();
  for (char& c : name) {
    if (c == '.' || c == '/' || c == ':') c = '-';
  }
  return name;
}

// "has(net1)" / "has(libnetwork.projectcalico.org/<id>)" -> the tag it stood for in the old CLI.
std::string TagOf(const std::string& selector,
                  const std::map<std::string, std::string>& label_to_profile) {
  if (selector.rfind("has(", 0) != 0 || selector.back() != ')') return "";
  std::string label = selector.substr(4, selector.size() - 5);
  auto it = label_to_profile.find(label);
  return it != label_to_profile.end() ? it->second : label;
}

std::string RuleText(const Json& rule, const std::map<std::string, std::string>& label_to_profile) {
  std::string out = rule.value("action", "Allow");
  std::transform(out.begin(), out.end(), out.begin(), ::tolower);
  if (rule.contains("protocol")) {
    std::string p = rule["protocol"].is_string() ? rule["protocol"].get<std::string>()
                                                 : rule["protocol"].dump();
    std::transform(p.begin(), p.end(), p.begin(), ::tolower);
    out += " " + p;
  }
  for (const char* side : {"source", "destination"}) {
    if (!rule.contains(side)) continue;
    const Json& e = rule[side];
    std::string word = std::string(side) == "source" ? "from" : "to";
    std::vector<std::string> parts;
    if (e.contains("selector")) {
      std::string sel = e["selector"].get<std::string>();
      std::string tag = TagOf(sel, label_to_profile);
      parts.push_back(tag.empty() ? "selector \"" + sel + "\"" : "tag " + tag);
    }
    if (e.contains("nets")) {
      for (const auto& n : e["nets"])
        parts.push_back("cidr " + n.get<std::string>());
    }
    if (e.contains("ports")) {
      std::string ports;
      for (const auto& p : e["ports"])
        ports += (ports.empty() ? "" : ",") + (p.is_string() ? p.get<std::string>() : p.dump());
      parts.push_back("ports " + ports);
    }
    for (const auto& p : parts)
      out += " " + word + " " + p;
  }
  return out;
}

int Usage(Context& ctx, const char* usage) {
  ctx.err << "Invalid option.\n" << usage;
  return 1;
}

}  // namespace

std::string RenderPrettyTableCentered(const std::vector<std::string>& header,
                                      const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c)
    width[c] = header[c].size();
  for (const auto& r : rows) {
    for (size_t c = 0; c < r.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  }
  std::string sep = "+";
  for (size_t w : width)
    sep += std::string(w + 2, '-') + "+";
  sep += "\n";
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = "|";
    for (size_t c = 0; c < width.size(); ++c) {
      std::string v = c < cells.size() ? cells[c] : "";
      size_t pad = width[c] - v.size();
      out += " " + std::string(pad / 2, ' ') + v + std::string(pad - pad / 2, ' ') + " |";
    }
    return out + "\n";
  };
  std::string out = sep + line(header) + sep;
  for (const auto& r : rows)
    out += line(r);
  return out + sep;
}

int RunLegacyPool(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n  calicoctl pool add <CIDR> [--ipip] [--nat-outgoing]\n"
      "  calicoctl pool remove <CIDR>\n  calicoctl pool show [--ipv4 | --ipv6]\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddBool("ipip", 0, "Use IP-in-IP encapsulation for this pool.");
  fs.AddBool("nat-outgoing", 0, "NAT traffic leaving the pool.");
  fs.AddBool("ipv4", 0, "Only IPv4 pools.");
  fs.AddBool("ipv6", 0, "Only IPv6 pools.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  const auto& pos = fs.positionals();
  if (pos.empty()) return Usage(ctx, kUsage);
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  if (pos[0] == "add" || pos[0] == "remove") {
    if (pos.size() != 2) return Usage(ctx, kUsage);
    auto cidr = net::CIDR::ParseNet(pos[1]);
    if (!cidr) {
      ctx.err << "Invalid CIDR specified: " << pos[1] << "\n";
      return 1;
    }
    std::string name = PoolName(*cidr);
    if (pos[0] == "remove") {
      auto pools = client->List("IPPool");
      if (!pools) {
        ctx.err << pools.error().message() << "\n";
        return 1;
      }
      for (const Resource& p : *pools) {
        auto typed = model::v3::DecodeIPPool(p);
        if (typed && typed->spec.cidr == cidr->String()) {
          auto d = client->Delete("IPPool", "", p.name());
          if (!d) {
            ctx.err << d.error().message() << "\n";
            return 1;
          }
          return 0;
        }
      }
      ctx.err << cidr->String() << " is not a configured pool.\n";
      return 1;
    }
    // A pool with this CIDR already (whatever its name) gets the options, as the old CLI
    // overwrote the pool's settings.
    Resource pool("IPPool", name);
    if (auto pools = client->List("IPPool")) {
      for (const Resource& p : *pools) {
        auto typed = model::v3::DecodeIPPool(p);
        if (typed && typed->spec.cidr == cidr->String()) pool = p;
      }
    }
    pool.spec()["cidr"] = cidr->String();
    pool.spec()["ipipMode"] = fs.GetBool("ipip") ? "Always" : "Never";
    pool.spec()["natOutgoing"] = fs.GetBool("nat-outgoing");
    auto r = client->Apply(pool);
    if (!r) {
      ctx.err << r.error().message() << "\n";
      return 1;
    }
    return 0;
  }
  if (pos[0] == "show") {
    auto pools = client->List("IPPool");
    if (!pools) {
      ctx.err << pools.error().message() << "\n";
      return 1;
    }
    std::vector<model::v3::IPPoolSpec> specs;
    for (const Resource& p : *pools) {
      auto typed = model::v3::DecodeIPPool(p);
      if (!typed) {
        // Written around validation: named, and the others still shown (as Client::List does).
        ctx.err << "skipping " << typed.error().message() << "\n";
        continue;
      }
      specs.push_back(std::move(typed->spec));
    }
    for (int family : {4, 6}) {
      if ((family == 4 && fs.GetBool("ipv6")) || (family == 6 && fs.GetBool("ipv4"))) continue;
      std::vector<std::vector<std::string>> rows;
      for (const model::v3::IPPoolSpec& spec : specs) {
        auto cidr = net::CIDR::ParseNet(spec.cidr);
        if (!cidr || cidr->family() != family) continue;
        std::vector<std::string> opts;
        const std::string ipip = spec.ipip_mode.value_or("Never");
        if (ipip != "Never") opts.push_back(ipip == "CrossSubnet" ? "ipip (cross-subnet)" : "ipip");
        if (spec.vxlan_mode.value_or("Never") != "Never") opts.push_back("vxlan");
        if (spec.nat_outgoing) opts.push_back("nat-outgoing");
        if (spec.disabled) opts.push_back("disabled");
        std::string joined;
        for (const auto& o : opts)
          joined += (joined.empty() ? "" : ",") + o;
        rows.push_back({cidr->String(), joined});
      }
      ctx.out << RenderPrettyTableCentered({"IPv" + std::to_string(family) + " CIDR", "Options"},
                                           rows);
    }
    return 0;
  }
  return Usage(ctx, kUsage);
}

int RunLegacyProfile(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n  calicoctl profile <PROFILE> rule show\n  calicoctl profile show\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  const auto& pos = fs.positionals();
  datastore::Client* client = nullptr;
  if (pos.size() == 1 && pos[0] == "show") {
    client = OpenClientFromFlags(fs, ctx);
    if (client == nullptr) return 1;
    auto profiles = client->List("Profile");
    if (!profiles) {
      ctx.err << profiles.error().message() << "\n";
      return 1;
    }
    std::vector<std::vector<std::string>> rows;
    for (const Resource& p : *profiles)
      rows.push_back({p.name()});
    ctx.out << RenderPrettyTableCentered({"Name"}, rows);
    return 0;
  }
  if (pos.size() != 3 || pos[1] != "rule" || pos[2] != "show") return Usage(ctx, kUsage);
  client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  auto profile = client->Get("Profile", "", pos[0]);
  if (!profile) {
    ctx.err << "Profile " << pos[0] << " not found.\n";
    return 1;
  }
  std::map<std::string, std::string> label_to_profile;
  if (auto all = client->List("Profile")) {
    for (const Resource& p : *all) {
      if (!p.spec().contains("labelsToApply")) continue;
      for (const auto& [k, v] : p.spec()["labelsToApply"].items()) {
        (void)v;
        label_to_profile[k] = p.name();
      }
    }
  }
  for (auto [title, key] :
       {std::pair{"Inbound rules:", "ingress"}, std::pair{"Outbound rules:", "egress"}}) {
    ctx.out << title << "\n";
    int i = 1;
    if (profile->spec().contains(key)) {
      for (const auto& rule : profile->spec()[key]) {
        ctx.out << "  " << (i < 10 ? " " : "") << i << " " << RuleText(rule, label_to_profile)
                << "\n";
        ++i;
      }
    }
  }
  return 0;
}

int RunLegacyEndpoint(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n  calicoctl endpoint show [--detailed]\n  calicoctl endpoint <ENDPOINT_ID> profile "
      "show\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddBool("detailed", 0, "Show every endpoint.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  const auto& pos = fs.positionals();
  bool show = pos.size() == 1 && pos[0] == "show";
  bool profiles = pos.size() == 3 && pos[1] == "profile" && pos[2] == "show";
  if (!show && !profiles) return Usage(ctx, kUsage);
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  auto weps = client->List("WorkloadEndpoint");
  if (!weps) {
    ctx.err << weps.error().message() << "\n";
    return 1;
  }
  auto join = [](const Json& a) {
    std::string out;
    if (!a.is_array()) return out;
    for (const auto& v : a)
      out += (out.empty() ? "" : ",") + v.get<std::string>();
    return out;
  };
  if (profiles) {
    for (const Resource& w : *weps) {
      const auto& s = w.spec();
      if (s.value("endpoint", "") == pos[0] || s.value("containerID", "") == pos[0] ||
          w.name() == pos[0]) {
        std::vector<std::vector<std::string>> rows;
        for (const auto& p : s.value("profiles", Json::array()))
          rows.push_back({p.get<std::string>()});
        ctx.out << RenderPrettyTableCentered({"Name"}, rows);
        return 0;
      }
    }
    ctx.err << "Failed to find endpoint matching ID " << pos[0] << "\n";
    return 1;
  }
  if (!fs.GetBool("detailed")) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const Resource& w : *weps)
      ++counts[{w.spec().value("node", ""), w.spec().value("orchestrator", "")}];
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, n] : counts)
      rows.push_back({k.first, k.second, std::to_string(n)});
    ctx.out << RenderPrettyTableCentered({"Hostname", "Orchestrator ID", "Number of Endpoints"},
                                         rows);
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Resource& w : *weps) {
    const auto& s = w.spec();
    std::string workload = s.value("workload", "");
    if (workload.empty()) workload = s.value("containerID", "");
    rows.push_back({s.value("node", ""), s.value("orchestrator", ""), workload,
                    s.value("endpoint", ""), join(s.value("ipNetworks", Json::array())),
                    s.value("mac", ""), join(s.value("profiles", Json::array())), "active"});
  }
  ctx.out << RenderPrettyTableCentered({"Hostname", "Orchestrator ID", "Workload ID", "Endpoint ID",
                                        "Addresses", "MAC", "Profiles", "State"},
                                       rows);
  return 0;
}

}  // namespace calico::ctl
