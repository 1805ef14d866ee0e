// See gc.h.
#include "calico/controllers/gc.h"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/model/v3/bgp.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/ipam.h"

namespace calico::controllers {
namespace {

using model::Resource;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kWindowsReservedHandle = "windows-reserved-ipam-handle";

bool IsTunnelType(std::string_view type) {
  return type == "ipipTunnelAddress" || type == "vxlanTunnelAddress" ||
         type == "vxlanV6TunnelAddress" || type == "wireguardTunnelAddress" ||
         type == "wireguardV6TunnelAddress";
}

// Every resource of `list` in its typed form (model/v3). One that does not decode is skipped and
// logged, as datastore::Client::List skips a stored value it cannot read (and libcalico-go's
// etcdv3 list skips a value it cannot convert): it was not written through validation.
template <typename T>
std::vector<T> DecodeAll(const std::vector<Resource>& list,
                         Result<T> (*decode)(const model::Resource&)) {
  std::vector<T> out;
  out.reserve(list.size());
  for (const Resource& r : list) {
    auto typed = decode(r);
    if (!typed) {
      CALICO_LOG(warn, "controllers", "skipping unreadable resource: {}", typed.error().message());
      continue;
    }
    out.push_back(std::move(*typed));
  }
  return out;
}

std::set<std::string> WorkloadIPs(const std::vector<model::v3::WorkloadEndpoint>& weps) {
  std::set<std::string> ips;
  for (const model::v3::WorkloadEndpoint& wep : weps) {
    for (const std::string& n : wep.spec.ip_networks) {
      auto cidr = net::CIDR::Parse(n);
      if (cidr) ips.insert(cidr->addr().String());
    }
  }
  return ips;
}

// "2026-11-24T00:17:32Z" (and fractional seconds; the offset is not read) -> time; nullopt when
// unreadable. Fields are fixed-width, as Go's time.RFC3339 layout.
std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  if (text.size() < 19 || text[4] != '-' || text[7] != '-' ||
      (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  auto field = [&](size_t pos, size_t len, int min, int max) {
    return ParseIntInRange<int>(text.substr(pos, len), min, max);
  };
  const Result<int> y = field(0, 4, 0, 9999);
  const Result<int> mo = field(5, 2, 1, 12);
  const Result<int> d = field(8, 2, 1, 31);
  const Result<int> h = field(11, 2, 0, 23);
  const Result<int> mi = field(14, 2, 0, 59);
  const Result<int> s = field(17, 2, 0, 60);  // 60: a leap second, as Go accepts
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *y - 1900;
  tm.tm_mon = *mo - 1;
  tm.tm_mday = *d;
  tm.tm_hour = *h;
  tm.tm_min = *mi;
  tm.tm_sec = *s;
  time_t t = ::timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

// 2^(bits - prefix): the addresses of a CIDR (as a double: an IPv6 pool's do not fit 64 bits).
double Addresses(const net::CIDR& c) {
  return std::ldexp(1.0, c.addr().bit_len() - c.prefix_len());
}

Status CheckMayAct(const MayAct& may_act) {
  if (may_act && !may_act()) return Unavailable("not leader: pass stopped");
  return OkStatus();
}

// Deletes a resource, ignoring one that is already gone.
Status DeleteIfPresent(datastore::Client& client, std::string_view kind, const std::string& ns,
                       const std::string& name, int& count) {
  auto d = client.Delete(kind, ns, name);
  if (d) {
    ++count;
    return OkStatus();
  }
  if (d.error().code() == ErrorCode::kNotFound) return OkStatus();
  return Unexpected(d.error().Wrap("delete " + std::string(kind) + " " + name));
}

}  // namespace

Result<NodeCleanup> CleanUpNode(datastore::Client& client, ipam::IpamClient& ipam,
                                const std::string& node, bool delete_node_resource,
                                const MayAct& may_act) {
  NodeCleanup out;
  // 1. Every address allocated to the node (its endpoints', leaked ones, its tunnel addresses),
  //    per handle.
  ASSIGN_OR_RETURN(auto blocks, ipam.ListBlocks());
  std::map<std::string, std::vector<net::IPAddr>> handles;
  std::vector<net::IPAddr> no_handle;
  for (const ipam::Block& b : blocks) {
    for (const auto& [ip, attr] : b.Allocations()) {
      std::string owner = attr.Secondary("node");
      if (owner.empty()) owner = b.host();
      if (owner != node || attr.handle_id == kWindowsReservedHandle) continue;
      if (attr.handle_id.empty()) {
        no_handle.push_back(ip);
      } else {
        handles[attr.handle_id].push_back(ip);
      }
    }
  }
  std::map<net::IPAddr, net::CIDR> block_of;
  for (const ipam::Block& b : blocks) {
    for (const auto& [ip, attr] : b.Allocations()) {
      block_of.emplace(ip, b.cidr());
    }
  }
  for (const auto& [handle, ips] : handles) {
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(ipam.ReleaseByHandle(handle));
    out.ips += static_cast<int>(ips.size());
    for (const net::IPAddr& ip : ips) {
      ++out.ips_by_block[block_of.at(ip)];
    }
  }
  if (!no_handle.empty()) {
    RETURN_IF_ERROR(CheckMayAct(may_act));
    ASSIGN_OR_RETURN(auto unallocated, ipam.ReleaseIPs(no_handle));
    out.ips += static_cast<int>(no_handle.size() - unallocated.size());
    for (const net::IPAddr& ip : no_handle) {
      if (std::find(unallocated.begin(), unallocated.end(), ip) == unallocated.end()) {
        ++out.ips_by_block[block_of.at(ip)];
      }
    }
  }
  // 2. Its WorkloadEndpoints.
  ASSIGN_OR_RETURN(auto wep_list, client.List("WorkloadEndpoint"));
  for (const auto& wep : DecodeAll(wep_list, model::v3::DecodeWorkloadEndpoint)) {
    if (wep.spec.node != node) continue;
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(DeleteIfPresent(client, "WorkloadEndpoint", wep.metadata.namespace_,
                                    wep.metadata.name, out.workload_endpoints));
  }
  // 3. Its block affinities (RemoveIPAMHost); blocks still holding borrowed addresses stay.
  ASSIGN_OR_RETURN(auto affinities, client.backend().List(datastore::IpamHostPrefix(node)));
  if (!affinities.kvs.empty()) {
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(ipam.ReleaseHostAffinities(node));
    out.affinities = static_cast<int>(affinities.kvs.size());
  }
  // 4. BGPPeers, per-node configuration, HostEndpoints.
  ASSIGN_OR_RETURN(auto peers, client.List("BGPPeer"));
  for (const auto& peer : DecodeAll(peers, model::v3::DecodeBGPPeer)) {
    if (peer.spec.node != node) continue;
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(DeleteIfPresent(client, "BGPPeer", "", peer.name, out.other));
  }
  ASSIGN_OR_RETURN(auto heps, client.List("HostEndpoint"));
  for (const auto& hep : DecodeAll(heps, model::v3::DecodeHostEndpoint)) {
    if (hep.spec.node != node) continue;
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(DeleteIfPresent(client, "HostEndpoint", "", hep.metadata.name, out.other));
  }
  for (const char* kind : {"FelixConfiguration", "BGPConfiguration"}) {
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(DeleteIfPresent(client, kind, "", "node." + node, out.other));
  }
  // 5. calico-node's status reports, then the Node.
  for (const std::string& key :
       {datastore::FelixStatusKey(node), datastore::FelixLastStatusKey(node)}) {
    auto d = client.backend().Delete(key);
    if (!d && d.error().code() != ErrorCode::kNotFound) {
      return Unexpected(d.error().Wrap("delete " + key));
    }
  }
  if (delete_node_resource) {
    RETURN_IF_ERROR(CheckMayAct(may_act));
    int unused = 0;
    RETURN_IF_ERROR(DeleteIfPresent(client, "Node", "", node, unused));
  }
  CALICO_LOG(info, "controllers",
             "cleaned up node {}: ips={} workloadendpoints={} affinities={} other={}", node,
             out.ips, out.workload_endpoints, out.affinities, out.other);
  return out;
}

// Everything a pass reads, once.
struct GarbageCollector::Snapshot {
  std::set<std::string> nodes;                           // Node resources
  std::vector<model::v3::WorkloadEndpoint> weps;         // every WorkloadEndpoint
  std::vector<ipam::Block> blocks;                       // every block
  std::set<std::string> affinity_nodes;                  // nodes with block affinities
  std::map<std::string, std::string> reported;           // node -> last_reported_status time
  std::set<std::string> alive;                           // nodes whose TTL status key exists
  std::vector<std::pair<std::string, net::CIDR>> pools;  // IPPool name, CIDR
  std::vector<net::CIDR> reserved;                       // every IPReservation's CIDRs

  std::string PoolOf(const net::CIDR& cidr) const { return IpPoolOf(pools, cidr); }
};

std::string IpPoolOf(const std::vector<std::pair<std::string, net::CIDR>>& pools,
                     const net::CIDR& cidr) {
  for (const auto& [name, pool] : pools) {
    if (pool.Contains(cidr)) return name;
  }
  return std::string(kNoIpPool);
}

IpamFigures IpamUtilisation(const std::vector<ipam::Block>& blocks,
                            const std::vector<std::pair<std::string, net::CIDR>>& pools,
                            const std::vector<net::CIDR>& reserved) {
  IpamFigures f;
  for (const auto& [name, pool] : pools) {
    f.pool_size[name] = Addresses(pool);
    double n = 0;
    for (const net::CIDR& r : reserved) {
      if (pool.Contains(r)) {
        n += Addresses(r);
      } else if (r.Contains(pool)) {
        n += Addresses(pool);
      }
    }
    f.pool_reserved[name] = n;
  }
  for (const ipam::Block& b : blocks) {
    const std::string pool = IpPoolOf(pools, b.cidr());
    const std::string affine = b.host().empty() ? std::string(kNoAffinity) : b.host();
    ++f.blocks[{pool, affine}];
    ++f.blocks_per_node[affine];
    for (const auto& [addr, attr] : b.Allocations()) {
      std::string node = attr.Secondary("node");
      const bool known = !node.empty();
      if (!known) node = std::string(kUnknownNode);
      ++f.in_use[{pool, node}];
      ++f.allocations_per_node[node];
      if (known && (b.host().empty() || node != b.host())) {
        ++f.borrowed[{pool, node}];
        ++f.borrowed_per_node[node];
      }
    }
  }
  return f;
}

GarbageCollector::GarbageCollector(datastore::Backend& backend, NodeInspector& inspector,
                                   const Clock& clock, ControllerMetrics& metrics)
    : backend_(backend),
      client_(backend),
      ipam_(backend),
      inspector_(inspector),
      clock_(clock),
      metrics_(metrics) {}

void GarbageCollector::Reset() {
  wep_candidates_.clear();
  leak_candidates_.clear();
}

Status GarbageCollector::LoadSnapshot(Snapshot& snap) {
  ASSIGN_OR_RETURN(auto nodes, client_.List("Node"));
  for (const Resource& n : nodes) {
    snap.nodes.insert(n.name());
    seen_nodes_.insert(n.name());
  }
  ASSIGN_OR_RETURN(auto weps, client_.List("WorkloadEndpoint"));
  snap.weps = DecodeAll(weps, model::v3::DecodeWorkloadEndpoint);
  ASSIGN_OR_RETURN(snap.blocks, ipam_.ListBlocks());
  ASSIGN_OR_RETURN(auto pools, client_.List("IPPool"));
  for (const auto& p : DecodeAll(pools, model::v3::DecodeIPPool)) {
    auto cidr = net::CIDR::ParseNet(p.spec.cidr);
    if (cidr) snap.pools.emplace_back(p.metadata.name, *cidr);
  }
  ASSIGN_OR_RETURN(auto reservations, client_.List("IPReservation"));
  for (const auto& r : DecodeAll(reservations, model::v3::DecodeIPReservation)) {
    for (const std::string& c : r.spec.reserved_cidrs) {
      auto cidr = net::CIDR::ParseNet(c);
      if (cidr) snap.reserved.push_back(*cidr);
    }
  }
  ASSIGN_OR_RETURN(auto affinities, backend_.List(std::string(datastore::kIpamPrefix) + "host/"));
  for (const auto& kv : affinities.kvs) {
    // A key that is not a block affinity (not Calico's) names no node.
    if (auto affinity = datastore::BlockAffinityKey::Parse(kv.key)) {
      snap.affinity_nodes.insert(affinity->host);
    }
  }
  ASSIGN_OR_RETURN(auto reports, backend_.List(datastore::kFelixStatusPrefix));
  for (const auto& kv : reports.kvs) {
    auto report = datastore::FelixReportKey::Parse(kv.key);
    if (!report) continue;
    const std::string& node = report->node;
    const std::string& leaf = report->leaf;
    if (leaf == "status") {
      snap.alive.insert(node);
    } else if (leaf == "last_reported_status") {
      // An unreadable report names the node but no time (never judged silent by it).
      auto value = datastore::FelixStatusReport::Parse(kv.value);
      snap.reported[node] = value ? value->time : std::string();
    }
  }
  return OkStatus();
}

Result<GcResult> GarbageCollector::RunOnce(const GcSettings& settings, const MayAct& may_act) {
  GcResult result;
  Snapshot snap;
  RETURN_IF_ERROR(LoadSnapshot(snap));
  if (settings.nodes) RETURN_IF_ERROR(CleanUpNodes(settings, snap, may_act, result));
  if (settings.workload_endpoints) {
    RETURN_IF_ERROR(CollectWorkloadEndpoints(settings, snap, may_act, result));
  }
  if (settings.ipam) RETURN_IF_ERROR(CollectIpam(settings, snap, may_act, result));
  return result;
}

Status GarbageCollector::CleanUpNodes(const GcSettings& settings, Snapshot& snap,
                                      const MayAct& may_act, GcResult& result) {
  // Nodes something still refers to.
  std::set<std::string> referenced = snap.affinity_nodes;
  for (const model::v3::WorkloadEndpoint& wep : snap.weps) {
    referenced.insert(wep.spec.node);
  }
  for (const ipam::Block& b : snap.blocks) {
    for (const auto& [ip, attr] : b.Allocations()) {
      std::string owner = attr.Secondary("node");
      referenced.insert(owner.empty() ? b.host() : owner);
    }
  }
  for (const auto& [node, time] : snap.reported) {
    referenced.insert(node);
  }
  referenced.erase("");
  bool changed = false;
  for (const std::string& node : referenced) {
    if (snap.nodes.contains(node)) continue;
    if (!seen_nodes_.contains(node) && !snap.reported.contains(node)) {
      // A host that never ran calico-node's start-up (e.g. `calico-node -felix` alone): there is
      // no evidence it was ever a node, so it cannot have been deleted.
      if (warned_nodes_.insert(node).second) {
        CALICO_LOG(info, "controllers",
                   "node {} has endpoints or addresses but never had a Node resource; leaving them",
                   node);
      }
      continue;
    }
    ASSIGN_OR_RETURN(NodeCleanup done, CleanUpNode(client_, ipam_, node, false, may_act));
    metrics_.AddNodeCleaned("deleted");
    for (const auto& [block, n] : done.ips_by_block) {
      metrics_.AddIpamReclaimed(snap.PoolOf(block), node, n);
    }
    ++result.nodes_cleaned;
    seen_nodes_.erase(node);
    changed = true;
  }
  if (settings.node_report_timeout.count() > 0) {
    auto now = clock_.WallNow();
    for (const std::string& node : snap.nodes) {
      auto it = snap.reported.find(node);
      if (it == snap.reported.end() || snap.alive.contains(node)) continue;
      auto last = ParseRfc3339(it->second);
      if (!last || now - *last < settings.node_report_timeout) continue;
      CALICO_LOG(warn, "controllers",
                 "calico-node on {} last reported at {} (more than {} ago): removing the node",
                 node, it->second, FormatDuration(settings.node_report_timeout));
      ASSIGN_OR_RETURN(NodeCleanup done, CleanUpNode(client_, ipam_, node, true, may_act));
      metrics_.AddNodeCleaned("not-reporting");
      for (const auto& [block, n] : done.ips_by_block) {
        metrics_.AddIpamReclaimed(snap.PoolOf(block), node, n);
      }
      ++result.nodes_cleaned;
      changed = true;
    }
  }
  if (changed) {
    // What the clean-up removed must not be judged again from the old snapshot.
    snap = Snapshot{};
    RETURN_IF_ERROR(LoadSnapshot(snap));
  }
  return OkStatus();
}

Status GarbageCollector::CollectWorkloadEndpoints(const GcSettings& settings, Snapshot& snap,
                                                  const MayAct& may_act, GcResult& result) {
  const Duration grace =
      settings.leak_grace.count() > 0 ? settings.leak_grace : kDefaultLeakGracePeriod;
  const SteadyTime now = clock_.Now();
  std::set<std::string> seen;
  std::vector<model::v3::WorkloadEndpoint> kept;
  for (model::v3::WorkloadEndpoint& wep : snap.weps) {
    const std::string node = wep.spec.node;
    const std::string ifname = wep.spec.interface_name;
    const std::string key =
        wep.metadata.namespace_ + "/" + wep.metadata.name + "/" + wep.metadata.uid;
    if (ifname.empty() || !inspector_.CanInspect(node)) {
      kept.push_back(std::move(wep));
      continue;
    }
    auto exists = inspector_.InterfaceExists(node, ifname);
    if (!exists || *exists) {
      if (!exists) {
        CALICO_LOG(warn, "controllers", "check interface {} of {}: {}", ifname, key,
                   exists.error().message());
      }
      kept.push_back(std::move(wep));
      continue;
    }
    seen.insert(key);
    auto [it, inserted] = wep_candidates_.emplace(key, now);
    if (inserted) {
      CALICO_LOG(info, "controllers",
                 "WorkloadEndpoint {} has no interface {} on {}: removing it in {} unless it comes "
                 "back",
                 key, ifname, node, FormatDuration(grace));
    }
    if (now - it->second < grace) {
      kept.push_back(std::move(wep));
      continue;
    }
    // Re-check just before acting, and delete only the revision that was checked.
    auto again = inspector_.InterfaceExists(node, ifname);
    if (!again || *again) {
      kept.push_back(std::move(wep));
      continue;
    }
    RETURN_IF_ERROR(CheckMayAct(may_act));
    auto d = client_.Delete("WorkloadEndpoint", wep.metadata.namespace_, wep.metadata.name,
                            wep.metadata.resource_version);
    if (!d && d.error().code() != ErrorCode::kNotFound &&
        d.error().code() != ErrorCode::kConflict) {
      return Unexpected(d.error().Wrap("delete WorkloadEndpoint " + key));
    }
    wep_candidates_.erase(key);
    seen.erase(key);
    if (d) {
      CALICO_LOG(info, "controllers", "removed WorkloadEndpoint {}: host interface {} is gone", key,
                 ifname);
      ++result.workload_endpoints_removed;
      metrics_.AddWorkloadEndpointsRemoved(1);
    } else {
      kept.push_back(std::move(wep));  // changed or gone meanwhile: judged again next pass
    }
  }
  std::erase_if(wep_candidates_, [&](const auto& kv) { return !seen.contains(kv.first); });
  snap.weps = std::move(kept);
  return OkStatus();
}

Result<bool> GarbageCollector::StillInUse(const std::string& ip, const std::string& node,
                                          const std::string& netns, const std::string& inode) {
  ASSIGN_OR_RETURN(auto weps, client_.List("WorkloadEndpoint"));
  if (WorkloadIPs(DecodeAll(weps, model::v3::DecodeWorkloadEndpoint)).contains(ip)) return true;
  if (!inspector_.CanInspect(node)) return true;
  auto exists = inspector_.NetnsExists(node, netns, inode);
  return !exists || *exists;
}

Status GarbageCollector::CollectIpam(const GcSettings& settings, Snapshot& snap,
                                     const MayAct& may_act, GcResult& result) {
  const SteadyTime now = clock_.Now();
  const std::set<std::string> wep_ips = WorkloadIPs(snap.weps);
  struct Candidate {
    std::string ip;
    std::string pool;
    std::string node;
    std::string netns;
    std::string inode;
    bool ripe = false;
  };
  // handle -> its allocations that look leaked; handles with any allocation in use.
  std::map<std::string, std::vector<Candidate>> leaked;
  std::set<std::string> handles_in_use;
  IpamFigures figures = IpamUtilisation(snap.blocks, snap.pools, snap.reserved);
  std::set<std::string> seen;
  for (const ipam::Block& b : snap.blocks) {
    const std::string pool = snap.PoolOf(b.cidr());
    for (const auto& [addr, attr] : b.Allocations()) {
      const std::string ip = addr.String();
      std::string node = attr.Secondary("node");
      if (node.empty()) node = b.host();
      const std::string& handle = attr.handle_id;
      if (handle.empty() || handle == kWindowsReservedHandle) continue;
      // Tunnel addresses live as long as their node (the node clean-up releases them).
      if (IsTunnelType(attr.Secondary("type")) || wep_ips.contains(ip)) {
        handles_in_use.insert(handle);
        continue;
      }
      const std::string netns = attr.Secondary("netns");
      if (netns.empty() || !snap.nodes.contains(node) || !inspector_.CanInspect(node)) {
        // Nothing to confirm a leak with: assume it is in use, as upstream does for allocations
        // without pod attributes. (Deleted nodes are the node clean-up's.)
        handles_in_use.insert(handle);
        continue;
      }
      const std::string inode = attr.Secondary("netnsInode");
      auto exists = inspector_.NetnsExists(node, netns, inode);
      if (!exists || *exists) {
        handles_in_use.insert(handle);
        continue;
      }
      const std::string key = handle + "|" + ip;
      seen.insert(key);
      auto [it, inserted] = leak_candidates_.emplace(key, now);
      if (inserted) {
        CALICO_LOG(info, "controllers",
                   "address {} (handle {}, node {}) has no endpoint and its namespace {} is gone: "
                   "releasing it in {} unless it comes back",
                   ip, handle, node, netns, FormatDuration(settings.leak_grace));
      }
      bool ripe = now - it->second >= settings.leak_grace;
      // Candidates and confirmed leaks alike, as upstream counts them.
      ++figures.gc_candidates[{pool, node}];
      leaked[handle].push_back({ip, pool, node, netns, inode, ripe});
    }
  }
  std::erase_if(leak_candidates_, [&](const auto& kv) { return !seen.contains(kv.first); });

  for (const auto& [handle, allocations] : leaked) {
    if (handles_in_use.contains(handle)) continue;  // all or none per handle
    bool all_ripe = std::all_of(allocations.begin(), allocations.end(),
                                [](const Candidate& c) { return c.ripe; });
    if (!all_ripe) {
      ++result.candidates;
      continue;
    }
    bool still_used = false;
    for (const Candidate& c : allocations) {
      ASSIGN_OR_RETURN(bool used, StillInUse(c.ip, c.node, c.netns, c.inode));
      still_used = still_used || used;
    }
    if (still_used) continue;
    RETURN_IF_ERROR(CheckMayAct(may_act));
    RETURN_IF_ERROR(ipam_.ReleaseByHandle(handle));
    std::vector<std::string> ips;
    for (const Candidate& c : allocations) {
      ips.push_back(c.ip);
      leak_candidates_.erase(handle + "|" + c.ip);
    }
    CALICO_LOG(info, "controllers", "released leaked address(es) {} of handle {} on {}",
               StrJoin(ips, ","), handle, allocations.front().node);
    for (const Candidate& c : allocations) {
      metrics_.AddIpamReclaimed(c.pool, c.node, 1);
    }
    result.ips_released += static_cast<int>(allocations.size());
  }
  metrics_.SetIpamFigures(std::move(figures));
  return OkStatus();
}

}  // namespace calico::controllers
