#include "calico/ctl/ipam_command.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "calico/ctl/args.h"
#include "calico/ipam/ipam.h"
#include "calico/model/json_codec.h"
#include "calico/model/resource.h"

namespace calico::ctl {
namespace {

using ipam::Json;

// go-pretty's default table: +---+ borders, centred upper-case header, one space of padding.
std::string RenderPrettyTable(const std::vector<std::string>& header,
                              const std::vector<std::vector<std::string>>& rows,
                              const std::set<size_t>& right_aligned) {
  std::vector<size_t> width(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c)
    width[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c)
      width[c] = std::max(width[c], row[c].size());
  }
  std::string sep = "+";
  for (size_t w : width)
    sep += std::string(w + 2, '-') + "+";
  sep += "\n";
  std::string out = sep + "|";
  for (size_t c = 0; c < header.size(); ++c) {
    size_t pad = width[c] - header[c].size();
    out += " " + std::string(pad / 2, ' ') + header[c] + std::string(pad - pad / 2, ' ') + " |";
  }
  out += "\n" + sep;
  for (const auto& row : rows) {
    out += "|";
    for (size_t c = 0; c < row.size(); ++c) {
      size_t pad = width[c] - row[c].size();
      out += right_aligned.count(c) ? " " + std::string(pad, ' ') + row[c] + " |"
                                    : " " + row[c] + std::string(pad, ' ') + " |";
    }
    out += "\n";
  }
  out += sep;
  return out;
}

std::string G5(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.5g", v);
  return buf;
}

std::string WithPercent(double v, double total) {
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%.5g (%.f%%)", v, total > 0 ? v * 100.0 / total : 0.0);
  return buf;
}

double Size(const net::CIDR& c) {
  return std::pow(2.0, c.addr().bit_len() - c.prefix_len());
}

// Addresses of `within` covered by the reservations (approximate for overlapping reservations).
double ReservedIn(const net::CIDR& within, const std::vector<net::CIDR>& reservations) {
  double n = 0;
  for (const net::CIDR& r : reservations) {
    if (within.Contains(r)) {
      n += Size(r);
    } else if (r.Contains(within)) {
      n += Size(within);
    }
  }
  return std::min(n, Size(within));
}

Result<std::vector<net::CIDR>> ListReservations(datastore::Backend& backend) {
  ASSIGN_OR_RETURN(auto listed,
                   backend.List("/calico/resources/v3/projectcalico.org/ipreservations/"));
  std::vector<net::CIDR> out;
  for (const auto& kv : listed.kvs) {
    Json doc = model::ReadStoredJson(kv.key, kv.value);
    if (!doc.is_object() || !doc["spec"].is_object()) continue;
    for (const Json& c : doc["spec"].value("reservedCIDRs", Json::array())) {
      if (c.is_string()) {
        if (auto cidr = net::CIDR::ParseNet(c.get<std::string>())) out.push_back(cidr->Masked());
      }
    }
  }
  return out;
}

int ShowIp(ipam::IpamClient& client, const std::string& text, Context& ctx) {
  auto ip = net::IPAddr::Parse(text);
  if (!ip) {
    ctx.err << "invalid IP address: " << text << "\n";
    return 1;
  }
  auto attr = client.GetAssignmentAttributes(*ip);
  if (!attr) {
    ctx.err << attr.error().message() << "\n";
    return 1;
  }
  if (!*attr) {
    ctx.out << text << " is not assigned\n";
    return 0;
  }
  ctx.out << "IP " << text << " is in use\n";
  ctx.out << "Handle ID: " << ((*attr)->handle_id.empty() ? "<none>" : (*attr)->handle_id) << "\n";
  if ((*attr)->secondary.empty()) {
    ctx.out << "No Active Owner attributes defined\n";
  } else {
    ctx.out << "Active Owner Attributes:\n";
    for (auto it = (*attr)->secondary.begin(); it != (*attr)->secondary.end(); ++it) {
      ctx.out << "  " << it.key() << ": " << (it->is_string() ? it->get<std::string>() : it->dump())
              << "\n";
    }
  }
  return 0;
}

int ShowConfiguration(ipam::IpamClient& client, Context& ctx) {
  auto cfg = client.GetConfig();
  if (!cfg) {
    ctx.err << cfg.error().message() << "\n";
    return 1;
  }
  ctx.out << RenderPrettyTable(
      {"PROPERTY", "VALUE"},
      {{"StrictAffinity", cfg->strict_affinity ? "true" : "false"},
       {"AutoAllocateBlocks", cfg->auto_allocate_blocks ? "true" : "false"},
       {"MaxBlocksPerHost", std::to_string(cfg->max_blocks_per_host)}},
      {});
  return 0;
}

int ShowUsage(ipam::IpamClient& client, datastore::Backend& backend, bool show_blocks,
              bool show_borrowed, Context& ctx) {
  auto pools = client.ListPools();
  auto blocks = client.ListBlocks();
  auto reservations = ListReservations(backend);
  if (!pools || !blocks || !reservations) {
    ctx.err << "Failed to read IPAM data: "
            << (!pools    ? pools.error()
                : !blocks ? blocks.error()
                          : reservations.error())
                   .message()
            << "\n";
    return 1;
  }
  if (show_borrowed) {
    std::vector<std::vector<std::string>> rows;
    for (const ipam::Block& b : *blocks) {
      for (const auto& [ip, attr] : b.Allocations()) {
        std::string node = attr.secondary.value("node", "");
        if (node.empty() || node == b.host()) continue;
        std::string to;
        if (attr.secondary.contains("namespace")) to = attr.secondary.value("namespace", "") + "/";
        to += attr.secondary.value("pod", attr.secondary.value("workload", ""));
        rows.push_back({ip.String(), node, b.cidr().String(), b.host(),
                        attr.secondary.value("type", "pod"), to});
      }
    }
    ctx.out << RenderPrettyTable(
        {"IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"}, rows, {});
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  std::set<std::string> shown;
  auto row = [&](const char* grouping, const net::CIDR& cidr, double in_use) {
    double total = Size(cidr);
    double reserved = ReservedIn(cidr, *reservations);
    double free = std::max(0.0, total - in_use - reserved);
    rows.push_back({grouping, cidr.String(), G5(total), WithPercent(in_use, total),
                    WithPercent(reserved, total), WithPercent(free, total)});
  };
  for (const ipam::Pool& p : *pools) {
    double in_use = 0;
    for (const ipam::Block& b : *blocks) {
      if (p.cidr.Contains(b.cidr())) in_use += static_cast<double>(b.size() - b.NumFree());
    }
    row("IP Pool", p.cidr, in_use);
    if (!show_blocks) continue;
    for (const ipam::Block& b : *blocks) {
      if (!p.cidr.Contains(b.cidr())) continue;
      shown.insert(b.cidr().String());
      row("Block", b.cidr(), static_cast<double>(b.size() - b.NumFree()));
    }
  }
  if (show_blocks) {
    for (const ipam::Block& b : *blocks) {
      if (shown.count(b.cidr().String()) == 0)
        row("Block", b.cidr(), static_cast<double>(b.size() - b.NumFree()));
    }
  }
  ctx.out << RenderPrettyTable(
      {"GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS RESERVED", "IPS FREE"}, rows,
      {2});  // go-pretty right-aligns only cells that are numbers.
  return 0;
}

// ipam check: allocations without a workload or node using them, and handles without IPs.
int Check(ipam::IpamClient& client, datastore::Backend& backend, Context& ctx) {
  ctx.out << "Checking IPAM for inconsistencies...\n\n";
  auto blocks = client.ListBlocks();
  auto pools = client.ListPools();
  auto weps = backend.List("/calico/resources/v3/projectcalico.org/workloadendpoints/");
  auto nodes = backend.List("/calico/resources/v3/projectcalico.org/nodes/");
  auto handles = backend.List("/calico/ipam/v2/handle/");
  if (!blocks || !pools || !weps || !nodes || !handles) {
    ctx.err << "Failed to read the datastore\n";
    return 1;
  }
  ctx.out << "Found " << blocks->size() << " IPAM blocks.\n";
  std::map<std::string, std::string> allocations;  // ip -> handle
  for (const ipam::Block& b : *blocks) {
    for (const auto& [ip, attr] : b.Allocations())
      allocations[ip.String()] = attr.handle_id;
  }
  ctx.out << " IPAM blocks record " << allocations.size() << " allocations.\n\n";
  size_t active_pools = 0;
  for (const ipam::Pool& p : *pools)
    active_pools += p.disabled ? 0 : 1;
  ctx.out << "Loading all IP pools...\n  Found " << active_pools << " active IP pools.\n\n";
  std::set<std::string> in_use;
  size_t tunnel = 0;
  for (const auto& kv : nodes->kvs) {
    Json doc = model::ReadStoredJson(kv.key, kv.value);
    if (!doc.is_object()) continue;
    const Json spec = doc.value("spec", Json::object());
    for (const char* f : {"ipv4VXLANTunnelAddr", "ipv6VXLANTunnelAddr"}) {
      if (spec.contains(f) && spec[f].is_string()) {
        in_use.insert(spec[f].get<std::string>());
        ++tunnel;
      }
    }
    if (spec.contains("bgp") && spec["bgp"].contains("ipv4IPIPTunnelAddr")) {
      in_use.insert(spec["bgp"]["ipv4IPIPTunnelAddr"].get<std::string>());
      ++tunnel;
    }
  }
  ctx.out << "Loading all nodes.\n  Found " << tunnel << " node tunnel IPs.\n\n";
  size_t workload = 0;
  for (const auto& kv : weps->kvs) {
    Json doc = model::ReadStoredJson(kv.key, kv.value);
    if (!doc.is_object() || !doc["spec"].is_object()) continue;
    for (const Json& n : doc["spec"].value("ipNetworks", Json::array())) {
      if (!n.is_string()) continue;
      auto c = net::CIDR::ParseNet(n.get<std::string>());
      if (c) {
        in_use.insert(c->addr().String());
        ++workload;
      }
    }
  }
  ctx.out << "Loading all workload endpoints.\n  Found " << workload << " workload IPs.\n";
  ctx.out << "  Workloads and nodes are using " << in_use.size() << " IPs.\n\n";
  std::vector<std::string> leaked;
  for (const auto& [ip, handle] : allocations) {
    if (in_use.count(ip) == 0)
      leaked.push_back(ip + " (handle " + (handle.empty() ? "<none>" : handle) + ")");
  }
  size_t not_in_pool = 0;
  for (const std::string& ip : in_use) {
    auto addr = net::IPAddr::Parse(ip);
    bool found = false;
    for (const ipam::Pool& p : *pools)
      found = found || (addr && !p.disabled && p.cidr.Contains(*addr));
    if (!found) ++not_in_pool;
  }
  std::set<std::string> handles_with_ips;
  for (const auto& kv : allocations)
    handles_with_ips.insert(kv.second);
  std::vector<std::string> leaked_handles;
  for (const auto& kv : handles->kvs) {
    std::string h = kv.key.substr(kv.key.rfind('/') + 1);
    if (handles_with_ips.count(h) == 0) leaked_handles.push_back(h);
  }
  ctx.out << "Scanning for IPs that are allocated but not actually in use...\n";
  ctx.out << "Found " << leaked.size()
          << " IPs that are allocated in IPAM but not actually in use.\n";
  for (const std::string& l : leaked)
    ctx.out << "  " << l << "\n";
  ctx.out
      << "Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n";
  ctx.out << "Found " << not_in_pool << " in-use IPs that are not in active IP pools.\n";
  ctx.out << "Scanning for handles with no matching IPs...\n";
  ctx.out << "Found " << leaked_handles.size() << " handles with no matching IPs (and "
          << (handles->kvs.size() - leaked_handles.size()) << " handles with matches).\n";
  for (const std::string& h : leaked_handles)
    ctx.out << "  " << h << "\n";
  ctx.out << "Check complete; found " << (leaked.size() + leaked_handles.size()) << " problems.\n";
  return 0;
}

}  // namespace

int RunIpam(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n"
      "  calicoctl ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration]\n"
      "  calicoctl ipam check\n"
      "  calicoctl ipam release --ip=<IP>\n"
      "  calicoctl ipam configure --strictaffinity=<true/false> [--max-blocks-per-host=<N>]\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddString("ip", 0, "", "IP address.");
  fs.AddBool("show-blocks", 0, "Show detailed information for IP blocks.");
  fs.AddBool("show-borrowed", 0, "Show borrowed IPs.");
  fs.AddBool("show-configuration", 0, "Show the IPAM configuration.");
  fs.AddString("strictaffinity", 0, "", "true or false.");
  fs.AddString("max-blocks-per-host", 0, "", "Maximum blocks per host (0 = unlimited).");
  fs.AddString("log-level", 'l', "panic", "Log level.");
  if (Status st = fs.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (fs.positionals().size() != 1) {
    ctx.err << "Invalid option.\n" << kUsage;
    return 1;
  }
  const std::string& cmd = fs.positionals()[0];
  if (cmd != "show" && cmd != "check" && cmd != "release" && cmd != "configure") {
    ctx.err << "Invalid option: 'ipam " << cmd << "'.\n" << kUsage;
    return 1;
  }
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  datastore::Backend& backend = client->backend();
  ipam::IpamClient ipam(backend);
  if (cmd == "show") {
    if (fs.Changed("ip")) return ShowIp(ipam, fs.GetString("ip"), ctx);
    if (fs.GetBool("show-configuration")) return ShowConfiguration(ipam, ctx);
    return ShowUsage(ipam, backend, fs.GetBool("show-blocks"), fs.GetBool("show-borrowed"), ctx);
  }
  if (cmd == "check") return Check(ipam, backend, ctx);
  if (cmd == "release") {
    auto ip = net::IPAddr::Parse(fs.GetString("ip"));
    if (!ip) {
      ctx.err << "invalid IP address: '" << fs.GetString("ip") << "'\n";
      return 1;
    }
    auto unallocated = ipam.ReleaseIPs({*ip});
    if (!unallocated) {
      ctx.err << unallocated.error().message() << "\n";
      return 1;
    }
    if (!unallocated->empty()) {
      ctx.err << "IP address " << ip->String() << " is not assigned\n";
      return 1;
    }
    ctx.out << "Successfully released IP address " << ip->String() << "\n";
    return 0;
  }
  // configure
  auto cfg = ipam.GetConfig();
  if (!cfg) {
    ctx.err << cfg.error().message() << "\n";
    return 1;
  }
  std::vector<std::string> messages;
  if (fs.Changed("strictaffinity")) {
    std::string v = fs.GetString("strictaffinity");
    if (v != "true" && v != "false") {
      ctx.err << "invalid value for --strictaffinity: '" << v << "' (expected true or false)\n";
      return 1;
    }
    cfg->strict_affinity = v == "true";
    messages.push_back("Successfully set StrictAffinity to: " + v);
  }
  if (fs.Changed("max-blocks-per-host")) {
    std::string v = fs.GetString("max-blocks-per-host");
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end != '\0' || n < 0 || n > 1000000) {
      ctx.err << "invalid value for --max-blocks-per-host: '" << v << "'\n";
      return 1;
    }
    if (n > 0 && !cfg->strict_affinity) {
      ctx.err << "maxBlocksPerHost requires strictAffinity to be true\n";
      return 1;
    }
    cfg->max_blocks_per_host = static_cast<int>(n);
    messages.push_back("Successfully set MaxBlocksPerHost to: " + v);
  }
  if (messages.empty()) {
    ctx.err << "Nothing to configure.\n" << kUsage;
    return 1;
  }
  if (Status st = ipam.SetConfig(*cfg); !st) {
    ctx.err << st.error().message() << "\n";
    return 1;
  }
  for (const std::string& m : messages)
    ctx.out << m << "\n";
  return 0;
}

}  // namespace calico::ctl
