// The controllers' clean-up duties (kube-controllers/pkg/controllers/node: ipam.go's leak GC and
// node_deleter.go with libcalico-go/lib/clientv3/node.go's Delete cascade), with the datastore and
// the nodes' kernels (NodeInspector) standing in for the Kubernetes API's pods and nodes.
//
//   WorkloadEndpoints ── host interface gone (inspectable node) for the grace period,
//                        still gone when re-checked ──▶ delete (CAS on its revision)
//   IP allocations    ── in a WorkloadEndpoint's ipNetworks ─────────────▶ in use
//                     ── tunnel address (type *TunnelAddress) ─────────────▶ in use while its node
//                     is ── no "netns" attribute, or node not inspectable ────▶ unknown: kept ──
//                     its netns (path, inode) still exists ─────────────▶ in use ── otherwise: a
//                     leak candidate; after leakGracePeriod, every allocation of its
//                        handle a candidate and re-checked ─▶ ReleaseByHandle
//   Nodes             ── referenced (endpoints, affinities, allocations) but no Node resource, and
//                        known to have been one (seen by this process, or calico-node's status
//                        report exists) ─▶ CleanUpNode
//                     ── opt-in: Node whose calico-node last reported longer ago than
//                        node_report_timeout (status key expired) ─▶ CleanUpNode + delete the Node
//
// Upstream waits the grace period for a candidate whose node exists and releases at once when the
// node is gone; a candidate that comes back in use (the endpoint appears, say) is forgotten. All
// releases are per handle (all-or-none), never by bare address, so an address re-assigned to
// another container in the meantime is never freed.
//
// Thread-safety: drive from one thread.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/controllers/config.h"
#include "calico/controllers/metrics.h"
#include "calico/controllers/node_inspector.h"
#include "calico/controllers/policy_sync.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/client.h"
#include "calico/ipam/ipam.h"

namespace calico::controllers {

struct GcSettings {
  bool workload_endpoints = false;  // the workloadendpoint controller
  bool ipam = false;                // the node controller with leak_grace > 0
  bool nodes = false;               // the node controller
  Duration leak_grace = kDefaultLeakGracePeriod;
  Duration node_report_timeout{0};  // 0: off (opt-in)
};

struct GcResult {
  int workload_endpoints_removed = 0;
  int ips_released = 0;
  int nodes_cleaned = 0;
  int candidates = 0;  // leak candidates still within their grace period
};

// What a node's clean-up removed.
struct NodeCleanup {
  int workload_endpoints = 0;
  int ips = 0;
  std::map<net::CIDR, int> ips_by_block{};  // Of `ips`, per block (the metrics' IP pool).
  int affinities = 0;
  int other = 0;  // BGPPeers, per-node FelixConfiguration/BGPConfiguration, HostEndpoints
};

// clientv3 nodes.Delete for `node`: releases every address allocated to it (per handle), deletes
// its WorkloadEndpoints, releases its block affinities, deletes its BGPPeers, node.<name>
// FelixConfiguration and BGPConfiguration, HostEndpoints, calico-node's status report and, when
// `delete_node_resource`, the Node. Idempotent: what is already gone is skipped.
[[nodiscard]] Result<NodeCleanup> CleanUpNode(datastore::Client& client, ipam::IpamClient& ipam,
                                              const std::string& node, bool delete_node_resource,
                                              const MayAct& may_act);

// kube-controllers' updateMetrics (kube-controllers/pkg/controllers/node/ipam.go): the IPAM
// utilisation of `blocks` per IP pool (the pool whose CIDR contains the block, "no_ippool"
// otherwise) and node, the pools' sizes and the addresses IPReservations cover in them (the
// reservations' overlaps with the pool, summed). gc_candidates is left to the GC pass.
IpamFigures IpamUtilisation(const std::vector<ipam::Block>& blocks,
                            const std::vector<std::pair<std::string, net::CIDR>>& pools,
                            const std::vector<net::CIDR>& reserved);
// The name of the pool of `pools` containing `cidr`, else "no_ippool".
std::string IpPoolOf(const std::vector<std::pair<std::string, net::CIDR>>& pools,
                     const net::CIDR& cidr);

class GarbageCollector {
 public:
  GarbageCollector(datastore::Backend& backend, NodeInspector& inspector, const Clock& clock,
                   ControllerMetrics& metrics);

  // One pass of every enabled duty. Errors (kUnavailable) leave the rest for the next pass.
  [[nodiscard]] Result<GcResult> RunOnce(const GcSettings& settings, const MayAct& may_act);

  // Forgets every candidate (a new leader starts its grace periods afresh).
  void Reset();

 private:
  struct Snapshot;
  [[nodiscard]] Status LoadSnapshot(Snapshot& snap);
  [[nodiscard]] Status CollectWorkloadEndpoints(const GcSettings& settings, Snapshot& snap,
                                                const MayAct& may_act, GcResult& result);
  [[nodiscard]] Status CollectIpam(const GcSettings& settings, Snapshot& snap,
                                   const MayAct& may_act, GcResult& result);
  [[nodiscard]] Status CleanUpNodes(const GcSettings& settings, Snapshot& snap,
                                    const MayAct& may_act, GcResult& result);
  // Whether `ip` is held by a container that still exists (fresh reads: for re-checks).
  [[nodiscard]] Result<bool> StillInUse(const std::string& ip, const std::string& node,
                                        const std::string& netns, const std::string& inode);

  datastore::Backend& backend_;
  datastore::Client client_;
  ipam::IpamClient ipam_;
  NodeInspector& inspector_;
  const Clock& clock_;
  ControllerMetrics& metrics_;
  // namespace/name/uid -> when the endpoint's interface was first seen missing.
  std::map<std::string, std::chrono::steady_clock::time_point> wep_candidates_;
  // handle|ip -> when the allocation was first seen unused.
  std::map<std::string, std::chrono::steady_clock::time_point> leak_candidates_;
  // Nodes seen as Node resources by this process.
  std::set<std::string> seen_nodes_;
  std::set<std::string> warned_nodes_;
};

}  // namespace calico::controllers
