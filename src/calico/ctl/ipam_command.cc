// calicoctl ipam: show, check, release, configure and split (calicoctl/commands/ipam/*.go).
// Size: over 700 lines because the five subcommands share the block and allocation readers and
// the report format of check/release; each subcommand is one Run function below.
#include "calico/ctl/ipam_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

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

// calicoctl/calicoctl/commands/ipam/show.go ShowConfiguration: one row per field of
// libcalico-go's ipam.IPAMConfig, in struct order, the value as Go's %#v prints it (an unset
// KubeVirtVMAddressPersistence of a stored record is a nil pointer; with no stored config,
// GetIPAMConfig's defaults apply: persistence "Enabled").
int ShowConfiguration(ipam::IpamClient& client, Context& ctx) {
  auto cfg = client.GetConfig();
  if (!cfg) {
    ctx.err << "error: " << cfg.error().message() << "\n";
    return 1;
  }
  const std::string persistence = cfg->kubevirt_vm_address_persistence
                                      ? Json(*cfg->kubevirt_vm_address_persistence).dump()
                                      : std::string("(*ipam.VMAddressPersistence)(nil)");
  ctx.out << RenderPrettyTable(
      {"PROPERTY", "VALUE"},
      {{"StrictAffinity", cfg->strict_affinity ? "true" : "false"},
       {"AutoAllocateBlocks", cfg->auto_allocate_blocks ? "true" : "false"},
       {"MaxBlocksPerHost", std::to_string(cfg->max_blocks_per_host)},
       {"KubeVirtVMAddressPersistence", persistence},
       {"IPCooldownSeconds", std::to_string(cfg->ip_cooldown_seconds)}},
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
    // show.go getBorrowedIPs / ShowBorrowedDetails: an allocation whose "node" attribute is not
    // its block's affinity host. TYPE and ALLOCATED-TO: "vmi" and ns/vmi-name, "pod" and ns/pod,
    // else the "type" attribute and nothing, else both blank. Allocations without a node
    // attribute cannot be classified and are counted in a note.
    std::vector<std::vector<std::string>> rows;
    int unclassified = 0;
    for (const ipam::Block& b : *blocks) {
      for (const auto& [ip, attr] : b.Allocations()) {
        auto node = attr.FindSecondary("node");
        if (!node) {
          ++unclassified;
          continue;
        }
        if (*node == b.host()) continue;
        const std::string ns = attr.FindSecondary("namespace").value_or("");
        std::string type;
        std::string to;
        if (auto vmi = attr.FindSecondary("vmi-name")) {
          type = "vmi";
          to = ns + "/" + *vmi;
        } else if (auto pod = attr.FindSecondary("pod")) {
          type = "pod";
          to = ns + "/" + *pod;
        } else if (auto t = attr.FindSecondary("type")) {
          type = *t;
        }
        rows.push_back({ip.String(), *node, b.cidr().String(), b.host(), type, to});
      }
    }
    ctx.out << RenderPrettyTable(
        {"IP", "BORROWING-NODE", "BLOCK", "BLOCK OWNER", "TYPE", "ALLOCATED-TO"}, rows, {});
    if (unclassified != 0) {
      ctx.out << fmt::format(
          "\nNote: found {} IP allocations without an explicit node association. Unable to "
          "determine if they are borrowed.\n",
          unclassified);
    }
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
      a.node = attr.FindSecondary("node").value_or(block->host());
      a.pod = attr.Secondary("pod");
      a.ns = attr.Secondary("namespace");
      a.type = attr.Secondary("type");
      a.timestamp = attr.Secondary("timestamp");
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
// frees the leaked addresses and handles the check reports list (several --from-report: only what
// every report lists, mergeReports), refusing a report of another cluster, of another calicoctl
// version (unless --force), reports that are all stale, and an unlocked datastore (unless
// --force). An address allocated again since the report (another handle or
// sequence number) and a handle changed since are left alone.
int ReleaseFromReports(ipam::IpamClient& client, datastore::Client& api,
                       const std::vector<std::string>& files, bool force, Context& ctx) {
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
  // Every report is checked; at least one must be of the current ClusterInformation revision.
  std::vector<Json> reports;
  bool found_current = false;
  for (const std::string& file : files) {
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
      ctx.out << "WARNING: Report was produced using a different version of calicoctl. Ignoring "
                 "due to --force option\n";
    }
    if (report.value("clusterInformationRevision", "") == revision) found_current = true;
    reports.push_back(std::move(report));
  }
  if (!found_current) {
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
  // release.go mergeReports: only what every report found leaked (handles at the same revision).
  std::optional<std::map<std::string, ipam::ReleaseOptions>> leaked_ips;
  std::optional<std::map<std::string, Json>> handles;
  for (const Json& report : reports) {
    std::map<std::string, ipam::ReleaseOptions> merged_ips;
    const Json report_allocations = report.value("allocations", Json::object());
    for (const auto& [ip, list] : report_allocations.items()) {
      if (!list.is_array()) continue;
      for (const Json& a : list) {
        if (!a.is_object() || a.value("inUse", true) || a.value("coolingDown", false)) continue;
        const std::string text = a.value("ip", ip);
        if (leaked_ips && !leaked_ips->contains(text)) continue;
        auto addr = net::IPAddr::Parse(text);
        if (!addr) continue;
        ipam::ReleaseOptions r{*addr, a.value("handle", ""), std::nullopt};
        if (a.contains("sequenceNumber") && a["sequenceNumber"].is_number_integer())
          r.sequence_number = a["sequenceNumber"].get<int64_t>();
        merged_ips[text] = std::move(r);
      }
    }
    leaked_ips = std::move(merged_ips);
    std::map<std::string, Json> merged_handles;
    const Json report_handles = report.value("leakedHandles", Json::array());
    for (const Json& h : report_handles.is_array() ? report_handles : Json::array()) {
      if (!h.is_object() || !h.contains("ID") || !h["ID"].is_string()) continue;
      const std::string id = h["ID"].get<std::string>();
      if (!handles) {
        merged_handles[id] = h;
      } else if (auto old = handles->find(id);
                 old != handles->end() &&
                 old->second.value("Revision", Json()) == h.value("Revision", Json())) {
        merged_handles[id] = h;
      }
    }
    handles = std::move(merged_handles);
  }
  std::vector<ipam::ReleaseOptions> releases;
  for (auto& [ip, r] : *leaked_ips)
    releases.push_back(std::move(r));
  Json leaked_handles = Json::array();
  for (auto& [id, h] : *handles)
    leaked_handles.push_back(std::move(h));
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
  if (leaked_handles.empty()) {
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

// common.CheckLocked (calicoctl/calicoctl/commands/common/resources.go): the datastore is locked
// for a migration or a pool split while ClusterInformation's datastoreReady is false.
Result<bool> DatastoreLocked(datastore::Client& api) {
  auto info = api.Get("ClusterInformation", "", "default");
  if (!info) return Unexpected(info.error().Wrap("error retrieving ClusterInformation"));
  const Json& ready =
      info->spec().is_object() ? info->spec().value("datastoreReady", Json()) : Json();
  return ready.is_boolean() && !ready.get<bool>();
}

// ipam/split.go splitCIDR: `parts` (a power of two, at least 2) equal children of `text`, in
// address order.
Result<std::vector<net::CIDR>> SplitCidr(const std::string& text, int64_t parts) {
  int power = 0;
  while (power < 63 && (int64_t{1} << power) < parts)
    ++power;
  if (parts < 2 || (int64_t{1} << power) != parts) {
    return InvalidArgument(
        fmt::format("number to split CIDR into is not a valid power of 2: {}", parts));
  }
  auto cidr = net::CIDR::ParseNet(text);
  if (!cidr) {
    return InvalidArgument(
        fmt::format("error reading CIDR {} before attempting to split it", text));
  }
  const int ones = cidr->prefix_len();
  const int bits = cidr->addr().bit_len();
  if (power + ones > bits) {
    return InvalidArgument(
        fmt::format("the CIDR {} is not large enough to be split into {} parts", text, parts));
  }
  const net::CIDR base = cidr->Masked();
  std::vector<net::CIDR> out;
  for (int64_t i = 0; i < parts; ++i) {
    // Child i: the parent's prefix, then i in the next `power` bits.
    std::array<uint8_t, 16> bytes = base.addr().bytes();
    for (int b = 0; b < power; ++b) {  // IPAddr keeps an IPv4 address in bytes 0-3.
      if (((i >> (power - 1 - b)) & 1) == 0) continue;
      const int pos = ones + b;
      bytes[static_cast<size_t>(pos / 8)] |= static_cast<uint8_t>(0x80 >> (pos % 8));
    }
    net::IPAddr addr = base.addr().is_v4() ? net::IPAddr::V4((uint32_t{bytes[0]} << 24) |
                                                             (uint32_t{bytes[1]} << 16) |
                                                             (uint32_t{bytes[2]} << 8) | bytes[3])
                                           : net::IPAddr::V6(bytes);
    out.emplace_back(addr, ones + power);
  }
  return out;
}

// calicoctl ipam split (calicoctl/calicoctl/commands/ipam/split.go SplitPool): with the datastore
// locked, the pool named by --name (or whose spec.cidr is --cidr) is disabled, N pools
// "split-<name>-<i>" with its spec and the child CIDRs are created (clientv3 UnsafeCreate: they
// overlap the old pool) and the old pool is deleted.
int Split(datastore::Client& api, const FlagSet& fs, Context& ctx) {
  auto fail = [&](const std::string& message) {
    ctx.err << message << "\n";
    return 1;
  };
  const std::string& number = fs.positionals()[1];
  // Go's strconv.Atoi.
  const Result<int64_t> parsed_num = ParseInt<int64_t>(number);
  if (!parsed_num) {
    return fail(
        fmt::format("error reading number to split IP pools into. {} is not a valid "
                    "number: strconv.Atoi: parsing \"{}\": invalid syntax",
                    number, number));
  }
  const int64_t split_num = *parsed_num;
  const std::string cidr = fs.GetString("cidr");
  const std::string pool_name = fs.GetString("name");
  if (cidr.empty() && pool_name.empty()) {
    return fail("no name or CIDR provided. Provide a name or CIDR to denote the IP pool to split");
  }
  auto locked = DatastoreLocked(api);
  if (!locked) {
    return fail(
        fmt::format("error while checking if datastore was locked: {}", locked.error().message()));
  }
  if (!*locked) {
    return fail(
        "datastore is not locked. Run the `calicoctl datastore migrate lock` command in order "
        "split the IP pools");
  }
  std::optional<model::Resource> old_pool;
  if (!pool_name.empty()) {
    auto got = api.Get("IPPool", "", pool_name);
    if (!got) {
      return fail(
          fmt::format("unable to find IP pool with name {}: {}", pool_name, got.error().message()));
    }
    old_pool = std::move(*got);
  } else {
    auto pools = api.List("IPPool");
    if (!pools) {
      return fail(fmt::format("unable to list IP pools to find the pool specified by {}", cidr));
    }
    for (auto& p : *pools) {
      if (p.spec().value("cidr", "") == cidr) old_pool = p;
    }
  }
  if (!old_pool) {
    return fail(
        fmt::format("unable to find IP pool {} covering the specified CIDR {}", pool_name, cidr));
  }
  const std::string old_cidr = old_pool->spec().value("cidr", "");
  // Checked before anything is written (upstream disables the pool first, then finds the
  // number invalid, leaving it disabled).
  auto children = SplitCidr(old_cidr, split_num);
  if (!children) {
    return fail(fmt::format("error splitting the CIDR {} into {} CIDRs: {}", old_cidr, split_num,
                            children.error().message()));
  }
  old_pool->spec()["disabled"] = true;
  auto disabled = api.Update(*old_pool);
  if (!disabled) return fail(fmt::format("error disabling IP pool {}", cidr));
  const std::string name = disabled->name();
  std::vector<std::pair<std::string, std::string>> created;
  for (size_t i = 0; i < children->size(); ++i) {
    model::Resource pool = *disabled;
    Json md = Json::object();
    std::string new_name = fmt::format("split-{}-{}", name, i);
    if (new_name.size() > 253) new_name = fmt::format("split-{}-{}", name.substr(0, 245), i);
    md["name"] = new_name;
    for (const char* k : {"labels", "annotations"}) {
      if (disabled->metadata().contains(k)) md[k] = disabled->metadata()[k];
    }
    pool.metadata() = std::move(md);
    pool.spec()["cidr"] = (*children)[i].String();
    pool.spec()["disabled"] = false;
    auto made = api.UnsafeCreate(pool);
    if (!made) {
      return fail(fmt::format("error using unsafe create to make split pool with cidr {}: {}",
                              (*children)[i].String(), made.error().message()));
    }
    created.emplace_back(made->name(), (*children)[i].String());
  }
  auto deleted = api.Delete("IPPool", "", name);
  if (!deleted) {
    return fail(fmt::format("error removing the IP pool that was split {}: {}", name,
                            deleted.error().message()));
  }
  // Upstream prints the first and last lines without a newline; ours end their lines.
  ctx.out << fmt::format("IP Pool {} was successfully split into {} smaller pools.\n", name,
                         split_num);
  for (const auto& [n, c] : created)
    ctx.out << fmt::format("Created {} with CIDR {}.\n", n, c);
  ctx.out << "Please refer to the documentation for final steps.\n";
  return 0;
}

}  // namespace

int RunIpam(std::span<const std::string> args, Context& ctx) {
  static constexpr const char* kUsage =
      "Usage:\n"
      "  calicoctl ipam show [--ip=<IP> | --show-blocks | --show-borrowed | --show-configuration]\n"
      "  calicoctl ipam check [--show-all-ips] [--show-problem-ips] [-o <REPORT>]\n"
      "  calicoctl ipam release --ip=<IP>\n"
      "  calicoctl ipam release --from-report=<REPORT> [--from-report=<REPORT>...] [--force]\n"
      "  calicoctl ipam split (--cidr=<CIDR> | --name=<POOL>) <NUMBER>\n"
      "  calicoctl ipam configure [--strictaffinity=<true/false>] [--max-blocks-per-host=<N>]\n"
      "                           [--kubevirt-ip-persistence=<Enabled|Disabled>]\n"
      "                           [--ip-cooldown-seconds=<N>]\n";
  FlagSet fs;
  fs.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  fs.AddString("ip", 0, "", "IP address.");
  fs.AddBool("show-blocks", 0, "Show detailed information for IP blocks.");
  fs.AddBool("show-borrowed", 0, "Show borrowed IPs.");
  fs.AddBool("show-configuration", 0, "Show the IPAM configuration.");
  fs.AddString("strictaffinity", 0, "", "true or false.");
  fs.AddString("max-blocks-per-host", 0, "", "Maximum blocks per host (0 = unlimited).");
  fs.AddString("kubevirt-ip-persistence", 0, "",
               "Control whether KubeVirt VMs retain persistent IP addresses (Enabled|Disabled).");
  fs.AddString("ip-cooldown-seconds", 0, "",
               "Set the minimum time between release and re-allocation of an IP address.");
  fs.AddString("log-level", 'l', "panic", "Log level.");
  fs.AddBool("show-all-ips", 0, "Print all IPs that are checked.");
  fs.AddBool("show-problem-ips", 0, "Print all IPs that are leaked or not allocated properly.");
  fs.AddString("output", 'o', "", "Path to output report file.");
  fs.AddString("from-report", 0, "", "Release all leaked addresses from the report.");
  fs.AddBool("force", 0, "Force release of leaked addresses.");
  fs.AddString("cidr", 0, "", "CIDR of the IP pool to split.");
  fs.AddString("name", 0, "", "Name of the IP pool to split.");
  // --from-report may be given more than once (ipam_command.go: a StringArray flag).
  std::vector<std::string> reports;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--from-report" && i + 1 < args.size()) {
      reports.push_back(args[++i]);
    } else if (args[i].starts_with("--from-report=")) {
      reports.push_back(args[i].substr(std::string_view("--from-report=").size()));
    } else {
      rest.push_back(args[i]);
    }
  }
  if (Status st = fs.Parse(rest); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  const bool is_split = !fs.positionals().empty() && fs.positionals()[0] == "split";
  if (is_split && fs.positionals().size() != 2) {
    ctx.err << fmt::format("accepts 1 arg(s), received {}\n", fs.positionals().size() - 1)
            << kUsage;
    return 1;
  }
  if (!is_split && fs.positionals().size() != 1) {
    ctx.err << "Invalid option.\n" << kUsage;
    return 1;
  }
  const std::string& cmd = fs.positionals()[0];
  if (cmd != "show" && cmd != "check" && cmd != "release" && cmd != "configure" && !is_split) {
    ctx.err << "Invalid option: 'ipam " << cmd << "'.\n" << kUsage;
    return 1;
  }
  datastore::Client* client = OpenClientFromFlags(fs, ctx);
  if (client == nullptr) return 1;
  datastore::Backend& backend = client->backend();
  ipam::IpamClient ipam(backend);
  if (cmd == "show") {
    // ipam_command.go newIPAMShowCommand: --ip, then --show-blocks, --show-borrowed,
    // --show-configuration, in that precedence.
    if (fs.Changed("ip")) return ShowIp(ipam, fs.GetString("ip"), ctx);
    const bool blocks = fs.GetBool("show-blocks");
    if (!blocks && !fs.GetBool("show-borrowed") && fs.GetBool("show-configuration")) {
      return ShowConfiguration(ipam, ctx);
    }
    return ShowUsage(ipam, backend, blocks, !blocks && fs.GetBool("show-borrowed"), ctx);
  }
  if (cmd == "check") return Check(ipam, *client, fs, ctx);
  if (is_split) return Split(*client, fs, ctx);
  if (cmd == "release") {
    if (!reports.empty()) {
      return ReleaseFromReports(ipam, *client, reports, fs.GetBool("force"), ctx);
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
  // calicoctl/calicoctl/commands/ipam/configure.go parsePersistence and --ip-cooldown-seconds:
  // stored for Calico's own clients (this build's IPAM does not act on them,
  // docs/COMPATIBILITY.md).
  if (fs.Changed("kubevirt-ip-persistence")) {
    std::string v = fs.GetString("kubevirt-ip-persistence");
    if (v != "Enabled" && v != "Disabled") {
      ctx.err << "invalid value for --kubevirt-ip-persistence. Use Enabled or Disabled\n";
      return 1;
    }
    cfg->kubevirt_vm_address_persistence = v;
    messages.push_back("Successfully set KubeVirtVMAddressPersistence to: " + v);
  }
  if (fs.Changed("ip-cooldown-seconds")) {
    std::string v = fs.GetString("ip-cooldown-seconds");
    Result<long> parsed = ParseIntInRange<long>(v, 0, 1000000000);
    if (!parsed) {
      ctx.err << "invalid value for --ip-cooldown-seconds: '" << v
              << "' (expected a whole number of seconds, 0 or more)\n";
      return 1;
    }
    cfg->ip_cooldown_seconds = static_cast<int>(*parsed);
    messages.push_back("Successfully set IPCooldownSeconds to: " + v);
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
