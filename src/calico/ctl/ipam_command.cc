#include "calico/ctl/ipam_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include "calico/base/numbers.h"
#include "calico/base/unique_fd.h"
#include "calico/ctl/args.h"
#include "calico/datastore/keys.h"
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

// ipam check (calicoctl/calicoctl/commands/ipam/check.go): every allocation cross-referenced with
// the workload endpoints and nodes that use addresses. Problems: allocations nothing uses (leaks,
// e.g. of a CNI ADD killed before its endpoint was written), in-use addresses outside the pools
// or without an allocation, handles without addresses, allocations naming a missing handle, and
// blocks whose structure is inconsistent. `-o FILE` writes Calico's JSON report, which
// `ipam release --from-report FILE` frees.
struct Allocation {
  std::string ip;
  std::string handle;
  std::optional<int64_t> sequence_number;
  std::string pod, ns, node, type, timestamp;
  bool in_use = false;
  bool borrowed = false;
  std::vector<std::string> owners;
  Json ToJson() const {
    Json j{{"ip", ip}, {"inUse", in_use}, {"owners", owners}};
    if (!handle.empty()) j["handle"] = handle;
    if (sequence_number) j["sequenceNumber"] = *sequence_number;
    if (!pod.empty()) j["pod"] = pod;
    if (!ns.empty()) j["namespace"] = ns;
    if (!node.empty()) j["node"] = node;
    if (!type.empty()) j["type"] = type;
    if (!timestamp.empty()) j["creationTimestamp"] = timestamp;
    if (borrowed) j["borrowed"] = true;
    return j;
  }
};

std::string AttrString(const ipam::Attribute& attr) {
  std::string kvs;
  std::map<std::string, std::string> sorted;
  for (auto it = attr.secondary.begin(); it != attr.secondary.end(); ++it)
    sorted[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  for (const auto& [k, v] : sorted)
    kvs += (kvs.empty() ? "" : ",") + k + "=" + v;
  return "Main:" + (attr.handle_id.empty() ? std::string("<none>") : attr.handle_id) +
         " Extra:" + kvs;
}

// libcalico-go calicoctl check.go validateBlock: allocations and the free list must partition the
// block, every attribute must be used. Our Block keeps that invariant, so this reads the stored
// JSON: a block written by another tool (or damaged) is reported, not trusted.
std::string ValidateBlockJson(const std::string& text) {
  auto parsed = model::ParseStoredJson("block", text);  // the decoder limits
  if (!parsed) return parsed.error().message();
  const Json& j = *parsed;
  if (!j.is_object()) return "not a JSON object";
  const Json allocations = j.value("allocations", Json::array());
  const Json unallocated = j.value("unallocated", Json::array());
  const Json attributes = j.value("attributes", Json::array());
  if (!allocations.is_array() || !unallocated.is_array() || !attributes.is_array()) {
    return "allocations, unallocated and attributes must be arrays";
  }
  std::set<size_t> used_attrs, allocated;
  for (size_t o = 0; o < allocations.size(); ++o) {
    if (allocations[o].is_null()) continue;
    if (!allocations[o].is_number_integer() || allocations[o].get<int64_t>() < 0 ||
        allocations[o].get<size_t>() >= attributes.size()) {
      return "allocation " + std::to_string(o) + " indexes a nonexistent attribute " +
             allocations[o].dump();
    }
    used_attrs.insert(allocations[o].get<size_t>());
    allocated.insert(o);
  }
  for (size_t i = 0; i < attributes.size(); ++i) {
    if (used_attrs.count(i) == 0) {
      return "attribute index " + std::to_string(i) + " exists but is not indexed by an allocation";
    }
  }
  std::set<int64_t> seen;
  for (const Json& o : unallocated) {
    if (!o.is_number_integer() || o.get<int64_t>() < 0 || o.get<size_t>() >= allocations.size()) {
      return "ordinal " + o.dump() + " appears in the Unallocated array but is out of the block";
    }
    if (!seen.insert(o.get<int64_t>()).second) {
      return "ordinal " + o.dump() + " appears more than once in Unallocated array";
    }
    if (allocated.count(o.get<size_t>()) != 0) {
      return "ordinal " + o.dump() + " is allocated but appears in Unallocated";
    }
  }
  if (unallocated.size() + allocated.size() != allocations.size()) {
    return "expected " + std::to_string(allocations.size()) +
           " addresses in this block, but Unallocated (" + std::to_string(unallocated.size()) +
           ") + Allocated (" + std::to_string(allocated.size()) +
           ") = " + std::to_string(unallocated.size() + allocated.size());
  }
  return "";
}

int Check(ipam::IpamClient& client, datastore::Client& api, const FlagSet& fs, Context& ctx) {
  datastore::Backend& backend = api.backend();
  const bool show_all = fs.GetBool("show-all-ips");
  const bool show_problems = show_all || fs.GetBool("show-problem-ips");
  const std::string output = fs.GetString("output");
  auto fail = [&](const std::string& what, const Error& e) {
    ctx.err << "Error: " << what << ": " << e.message() << "\n";
    return 1;
  };
  ctx.out << "Checking IPAM for inconsistencies...\n\n";
  Json report{{"version", ctx.build.version},
              {"clusterGUID", ""},
              {"datastoreLocked", false},
              {"clusterInformationRevision", ""},
              {"clusterType", ""}};
  if (auto info = api.Get("ClusterInformation", "", "default")) {
    report["clusterGUID"] = info->spec().value("clusterGUID", "");
    report["clusterType"] = info->spec().value("clusterType", "");
    report["clusterInformationRevision"] = info->resource_version();
    report["datastoreLocked"] =
        info->spec().contains("datastoreReady") && !info->spec().value("datastoreReady", true);
  } else if (info.error().code() != ErrorCode::kNotFound) {
    return fail("failed to read ClusterInformation", info.error());
  }

  ctx.out << "Loading all IPAM blocks...\n";
  auto block_kvs = backend.List(datastore::BlockKey::ListPrefix());
  if (!block_kvs) return fail("failed to list IPAM blocks", block_kvs.error());
  ctx.out << "Found " << block_kvs->kvs.size() << " IPAM blocks.\n";
  std::map<std::string, std::vector<Allocation>> allocations;  // ip -> allocations
  std::map<std::string, size_t> by_node;
  std::set<std::string> handles_in_blocks;
  std::vector<std::pair<std::string, std::string>> invalid_blocks;  // key, why
  size_t num_allocs = 0;
  for (const auto& kv : block_kvs->kvs) {
    if (std::string why = ValidateBlockJson(kv.value); !why.empty()) {
      invalid_blocks.emplace_back(kv.key, why);
    }
    auto block = ipam::Block::FromJson(kv.value);
    if (!block) {
      if (invalid_blocks.empty() || invalid_blocks.back().first != kv.key)
        invalid_blocks.emplace_back(kv.key, block.error().message());
      continue;
    }
    ctx.out << " IPAM block " << block->cidr().String()
            << " affinity=" << (block->affinity().empty() ? "<none>" : block->affinity()) << ":\n";
    for (const auto& [ip, attr] : block->Allocations()) {
      ++num_allocs;
      Allocation a;
      a.ip = ip.String();
      a.handle = attr.handle_id;
      a.sequence_number = block->SequenceNumberOf(ip);
      a.node = attr.secondary.value("node", block->host());
      a.pod = attr.secondary.value("pod", "");
      a.ns = attr.secondary.value("namespace", "");
      a.type = attr.secondary.value("type", "");
      a.timestamp = attr.secondary.value("timestamp", "");
      a.borrowed = a.node != block->host();
      if (!a.handle.empty()) handles_in_blocks.insert(a.handle);
      ++by_node[a.node];
      if (show_all) ctx.out << "  " << a.ip << " allocated; attrs " << AttrString(attr) << "\n";
      allocations[a.ip].push_back(std::move(a));
    }
  }
  ctx.out << "IPAM blocks record " << num_allocs << " allocations.\n\n";

  ctx.out << "Loading all IPAM pools...\n";
  auto pools = client.ListPools();
  if (!pools) return fail("failed to load IP pools", pools.error());
  std::vector<net::CIDR> active;
  for (const ipam::Pool& p : *pools) {
    if (p.disabled) continue;
    ctx.out << "  " << p.cidr.String() << "\n";
    active.push_back(p.cidr);
  }
  ctx.out << "Found " << active.size() << " active IP pools.\n\n";

  std::map<std::string, std::vector<std::string>> in_use;  // ip -> owners
  auto record_in_use = [&](const std::string& ip, const std::string& owner) {
    if (show_all) ctx.out << "  " << ip << " belongs to " << owner << "\n";
    in_use[ip].push_back(owner);
    for (Allocation& a : allocations[ip]) {
      a.in_use = true;
      a.owners.push_back(owner);
    }
  };
  auto normalise = [](const std::string& text) -> std::optional<std::string> {
    if (auto c = net::CIDR::ParseNet(text)) return c->addr().String();
    if (auto ip = net::IPAddr::Parse(text)) return ip->String();
    return std::nullopt;
  };

  ctx.out << "Loading all nodes.\n";
  auto nodes = backend.List("/calico/resources/v3/projectcalico.org/nodes/");
  if (!nodes) return fail("failed to list nodes", nodes.error());
  size_t node_ips = 0;
  for (const auto& kv : nodes->kvs) {
    Json doc = model::ReadStoredJson(kv.key, kv.value);
    if (!doc.is_object()) continue;
    std::string name = doc.value("metadata", Json::object()).value("name", "");
    const Json spec = doc.value("spec", Json::object());
    std::vector<std::string> addrs;
    for (const char* f : {"ipv4VXLANTunnelAddr", "ipv6VXLANTunnelAddr"}) {
      if (spec.contains(f) && spec[f].is_string()) addrs.push_back(spec[f].get<std::string>());
    }
    if (spec.contains("bgp") && spec["bgp"].is_object() &&
        spec["bgp"].contains("ipv4IPIPTunnelAddr") && spec["bgp"]["ipv4IPIPTunnelAddr"].is_string())
      addrs.push_back(spec["bgp"]["ipv4IPIPTunnelAddr"].get<std::string>());
    if (spec.contains("wireguard") && spec["wireguard"].is_object() &&
        spec["wireguard"].contains("interfaceIPv4Address") &&
        spec["wireguard"]["interfaceIPv4Address"].is_string())
      addrs.push_back(spec["wireguard"]["interfaceIPv4Address"].get<std::string>());
    for (const std::string& a : addrs) {
      auto ip = normalise(a);
      if (!ip) continue;
      record_in_use(*ip, "Node(" + name + ")");
      ++node_ips;
    }
  }
  ctx.out << "Found " << node_ips << " node tunnel IPs.\n\n";

  ctx.out << "Loading all workload endpoints.\n";
  auto weps = backend.List("/calico/resources/v3/projectcalico.org/workloadendpoints/");
  if (!weps) return fail("failed to list workload endpoints", weps.error());
  size_t wep_ips = 0;
  for (const auto& kv : weps->kvs) {
    Json doc = model::ReadStoredJson(kv.key, kv.value);
    if (!doc.is_object()) continue;
    const Json meta = doc.value("metadata", Json::object());
    std::string owner =
        "Workload(" + meta.value("namespace", "") + "/" + meta.value("name", "") + ")";
    for (const Json& n : doc.value("spec", Json::object()).value("ipNetworks", Json::array())) {
      if (!n.is_string()) continue;
      if (auto ip = normalise(n.get<std::string>())) {
        record_in_use(*ip, owner);
        ++wep_ips;
      }
    }
  }
  ctx.out << "Found " << wep_ips << " workload IPs.\n";
  ctx.out << "Workloads and nodes are using " << in_use.size() << " IPs.\n\n";

  ctx.out << "Loading all handles\n";
  auto handle_kvs = backend.List(datastore::HandleKey::ListPrefix());
  if (!handle_kvs) return fail("failed to list handles", handle_kvs.error());
  std::map<std::string, int64_t> handles;  // id -> revision
  for (const auto& kv : handle_kvs->kvs) {
    if (auto key = datastore::HandleKey::Parse(kv.key)) handles[key->handle_id] = kv.mod_revision;
  }

  ctx.out << "Looking for top (up to 20) nodes by allocations...\n";
  std::vector<std::pair<std::string, size_t>> nodes_by_count(by_node.begin(), by_node.end());
  std::stable_sort(nodes_by_count.begin(), nodes_by_count.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  for (size_t i = 0; i < nodes_by_count.size() && i < 20; ++i) {
    ctx.out << "  " << nodes_by_count[i].first << " has " << nodes_by_count[i].second
            << " allocations\n";
  }
  if (!nodes_by_count.empty()) {
    ctx.out << "Node with most allocations has " << nodes_by_count.front().second << "; median is "
            << nodes_by_count[nodes_by_count.size() / 2].second << "\n";
  }
  ctx.out << "\n";

  size_t problems = 0;
  ctx.out << "Scanning for IPs that are allocated but not actually in use...\n";
  size_t leaked = 0;
  for (const auto& [ip, allocs] : allocations) {
    if (in_use.count(ip) != 0) continue;
    ++leaked;
    if (show_problems) {
      for (const Allocation& a : allocs) {
        ctx.out << "  " << ip << " leaked; attrs Main:" << (a.handle.empty() ? "<none>" : a.handle)
                << " Extra:node=" << a.node << "\n";
      }
    }
  }
  problems += leaked;
  ctx.out << "Found " << leaked << " IPs that are allocated in IPAM but not actually in use.\n";

  ctx.out
      << "Scanning for IPs that are in use by a workload or node but not allocated in IPAM...\n";
  size_t not_in_pool = 0, not_allocated = 0;
  for (const auto& [ip, owners] : in_use) {
    if (show_problems && owners.size() > 1) ctx.out << "  " << ip << " has multiple owners.\n";
    if (allocations.count(ip) != 0 && !allocations[ip].empty()) continue;
    auto addr = net::IPAddr::Parse(ip);
    bool in_pool = addr && std::any_of(active.begin(), active.end(),
                                       [&](const net::CIDR& c) { return c.Contains(*addr); });
    for (const std::string& owner : owners) {
      if (!show_problems) break;
      ctx.out << "  " << ip << " in use by " << owner
              << (in_pool ? " and in active IPAM pool but has no IPAM allocation.\n"
                          : " is not in any active IP pool.\n");
    }
    ++(in_pool ? not_allocated : not_in_pool);
  }
  problems += not_in_pool + not_allocated;
  ctx.out << "Found " << not_in_pool << " in-use IPs that are not in active IP pools.\n";
  ctx.out << "Found " << not_allocated
          << " in-use IPs that are in active IP pools but have no corresponding IPAM "
             "allocation.\n\n";

  ctx.out << "Scanning for IPAM handles with no matching IPs...\n";
  Json leaked_handles = Json::array();
  size_t good_handles = 0;
  for (const auto& [id, revision] : handles) {
    if (handles_in_blocks.count(id) != 0) {
      ++good_handles;
      continue;
    }
    if (show_all) ctx.out << "  " << id << " doesn't have any active IPs.\n";
    leaked_handles.push_back(
        Json{{"ID", id}, {"UID", nullptr}, {"Revision", std::to_string(revision)}});
  }
  problems += leaked_handles.size();
  ctx.out << "Found " << leaked_handles.size() << " handles with no matching IPs (and "
          << good_handles << " handles with matches).\n";

  ctx.out << "Scanning for IPs with missing handle...\n";
  size_t missing_handles = 0;
  for (const std::string& id : handles_in_blocks) {
    if (handles.count(id) != 0) continue;
    ++missing_handles;
    if (show_problems) ctx.out << "  " << id << " is in use in a block but doesn't exist.\n";
  }
  problems += missing_handles;
  ctx.out << "Found " << missing_handles
          << " handles mentioned in blocks with no matching handle resource.\n";

  ctx.out << "Validating IPAMBlock structures...\n";
  for (const auto& [key, why] : invalid_blocks)
    ctx.out << "  IPAMBlock " << key << " is invalid: " << why << "\n";
  problems += invalid_blocks.size();
  ctx.out << "Found " << invalid_blocks.size() << " invalid IPAMBlocks.\n";
  ctx.out << "Check complete; found " << problems << " problems.\n";

  if (!output.empty()) {
    Json allocs = Json::object();
    for (const auto& [ip, list] : allocations) {
      if (list.empty()) continue;
      Json arr = Json::array();
      for (const Allocation& a : list)
        arr.push_back(a.ToJson());
      allocs[ip] = arr;
    }
    report["allocations"] = allocs;
    if (!leaked_handles.empty()) report["leakedHandles"] = leaked_handles;
    // The report names addresses and workloads: readable by its owner only.
    UniqueFd fd(::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    std::string text = report.dump(2);
    if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      int err = errno;
      ctx.err << "Error: cannot write the report " << output << ": " << std::strerror(err) << "\n";
      return 1;
    }
  }
  return 0;
}

// ipam release --from-report (calicoctl/calicoctl/commands/ipam/release.go ReleaseFromReports):
// frees the leaked addresses and handles a check report lists, refusing a report of another
// cluster, of another calicoctl version (unless --force), a stale report, and an unlocked
// datastore (unless --force). An address allocated again since the report (another handle or
// sequence number) and a handle changed since are left alone.
int ReleaseFromReport(ipam::IpamClient& client, datastore::Client& api, const std::string& file,
                      bool force, Context& ctx) {
  std::ifstream in(file);
  if (!in) {
    ctx.err << "Error: open " << file << ": no such file or it cannot be read\n";
    return 1;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = model::ParseJson(text);  // the decoder limits (model/decode_limits.h)
  if (!parsed) {
    ctx.err << "Error: " << file << " is not an ipam check report: " << parsed.error().message()
            << "\n";
    return 1;
  }
  Json report = std::move(*parsed);
  if (!report.is_object()) {
    ctx.err << "Error: " << file << " is not an ipam check report (not a JSON object)\n";
    return 1;
  }
  std::string guid, revision;
  bool locked = false;
  if (auto info = api.Get("ClusterInformation", "", "default")) {
    guid = info->spec().value("clusterGUID", "");
    revision = info->resource_version();
    locked = info->spec().contains("datastoreReady") && !info->spec().value("datastoreReady", true);
  } else if (info.error().code() != ErrorCode::kNotFound) {
    ctx.err << "Error: " << info.error().message() << "\n";
    return 1;
  }
  if (report.value("clusterGUID", "") != guid) {
    ctx.err << "Error: cluster does not match the provided report (" << file
            << "): mismatched cluster GUID. Refusing to release\n";
    return 1;
  }
  if (report.value("version", "") != ctx.build.version) {
    if (!force) {
      ctx.err << "Error: the provided report (" << file
              << ") was produced using a different version (" << report.value("version", "")
              << ") of calicoctl. Refusing to release\n";
      return 1;
    }
    ctx.out << "WARNING: Report was produced using a different version of calicoctl. Ignoring due "
               "to --force option\n";
  }
  if (report.value("clusterInformationRevision", "") != revision) {
    ctx.err << "Error: the provided reports are all stale - at least one should be up-to-date. "
               "Please generate a new report while the data store is locked and try again\n";
    return 1;
  }
  if (!locked) {
    if (!force) {
      ctx.err << "Error: data store is not locked. Either lock the data store, or re-run with "
                 "--force\n";
      return 1;
    }
    ctx.out << "WARNING: Data store is not locked. Ignoring due to --force option\n";
  }
  std::vector<ipam::ReleaseOptions> releases;
  const Json report_allocations = report.value("allocations", Json::object());
  for (const auto& [ip, list] : report_allocations.items()) {
    if (!list.is_array()) continue;
    for (const Json& a : list) {
      if (!a.is_object() || a.value("inUse", true) || a.value("coolingDown", false)) continue;
      auto addr = net::IPAddr::Parse(a.value("ip", ip));
      if (!addr) continue;
      ipam::ReleaseOptions r{*addr, a.value("handle", ""), std::nullopt};
      if (a.contains("sequenceNumber") && a["sequenceNumber"].is_number_integer())
        r.sequence_number = a["sequenceNumber"].get<int64_t>();
      releases.push_back(std::move(r));
    }
  }
  int code = 0;
  if (releases.empty()) {
    ctx.out << "Report didn't contain any leaked IPs to clean up.\n";
  } else {
    ctx.out << "Releasing " << releases.size() << " old IPs...\n";
    auto skipped = client.ReleaseIPs(releases);
    if (!skipped) {
      ctx.out << "An error occurred while releasing some IPs: " << skipped.error().message()
              << ".  Problems are often caused by an out-of-date IPAM report.  Try regenerating "
                 "the IPAM report and retry.\n";
      code = 1;
    } else {
      ctx.out << "Released " << releases.size() - skipped->size() << " IPs successfully\n";
      if (!skipped->empty()) {
        ctx.out << skipped->size()
                << " addresses marked as leaked in the report had already been cleaned up.\n";
      }
    }
  }
  const Json leaked_handles = report.value("leakedHandles", Json::array());
  if (!leaked_handles.is_array() || leaked_handles.empty()) {
    ctx.out << "Report didn't contain any handles to clean up.\n";
  } else {
    ctx.out << "Deleting " << leaked_handles.size() << " handles...\n";
    ctx.out << "Key: '.' = Deleted OK; 'x' = skip, handle missing/changed.\n";
    size_t released = 0, skipped = 0, errors = 0;
    std::string failures;
    for (const Json& h : leaked_handles) {
      if (!h.is_object() || !h.contains("ID") || !h["ID"].is_string()) continue;
      const std::string id = h["ID"].get<std::string>();
      const std::string key = datastore::HandleKey{.handle_id = id}.Format();
      int64_t rev = 0;
      if (h.contains("Revision") && h["Revision"].is_string()) {
        // An unparsable revision stays 0, which matches no handle: the handle is skipped.
        const Result<int64_t> stored = ParseInt<int64_t>(h["Revision"].get<std::string>());
        if (stored) rev = *stored;
      }
      auto current = api.backend().Get(key);
      if (!current || current->mod_revision != rev) {
        if (current || current.error().code() == ErrorCode::kNotFound) {
          ++skipped;
          ctx.out << "x";
        } else {
          ++errors;
          failures += "\nDeleting handle " + id + " failed: " + current.error().message() + ".";
        }
        continue;
      }
      auto deleted = api.backend().Delete(key, rev);
      if (deleted) {
        ++released;
        ctx.out << ".";
      } else if (deleted.error().code() == ErrorCode::kConflict ||
                 deleted.error().code() == ErrorCode::kNotFound) {
        ++skipped;
        ctx.out << "x";
      } else {
        ++errors;
        failures += "\nDeleting handle " + id + " failed: " + deleted.error().message() + ".";
      }
    }
    ctx.out << failures << "\n";
    ctx.out << "Released " << released << " handles; " << skipped << " skipped; " << errors
            << " errors.\n";
    if (errors != 0) code = 1;
  }
  if (code == 0) ctx.out << "You may now unlock the data store.\n";
  return code;
}

}  // namespace

int RunIpam(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n"
      "  calicoctl ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration]\n"
      "  calicoctl ipam check [--show-all-ips] [--show-problem-ips] [-o <REPORT>]\n"
      "  calicoctl ipam release --ip=<IP>\n"
      "  calicoctl ipam release --from-report=<REPORT> [--force]\n"
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
  fs.AddBool("show-all-ips", 0, "Print all IPs that are checked.");
  fs.AddBool("show-problem-ips", 0, "Print all IPs that are leaked or not allocated properly.");
  fs.AddString("output", 'o', "", "Path to output report file.");
  fs.AddString("from-report", 0, "", "Release all leaked addresses from the report.");
  fs.AddBool("force", 0, "Force release of leaked addresses.");
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
  if (cmd == "check") return Check(ipam, *client, fs, ctx);
  if (cmd == "release") {
    if (fs.Changed("from-report")) {
      return ReleaseFromReport(ipam, *client, fs.GetString("from-report"), fs.GetBool("force"),
                               ctx);
    }
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
    Result<long> parsed = ParseIntInRange<long>(v, 0, 1000000);
    if (!parsed) {
      ctx.err << "invalid value for --max-blocks-per-host: '" << v << "'\n";
      return 1;
    }
    const long n = *parsed;
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
