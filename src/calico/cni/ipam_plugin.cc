#include "calico/cni/ipam_plugin.h"

#include <sys/stat.h>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/cni/cni.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/read_ahead.h"
#include "calico/ipam/host_lock.h"
#include "calico/ipam/ipam.h"

namespace calico::cni {
namespace {

struct Failure {
  CniError error;
};

// Pool entries are CIDRs or IPPool names (cni-plugin resolves names by listing pools).
Result<std::vector<net::CIDR>> ResolvePools(ipam::IpamClient& client,
                                            const std::vector<std::string>& entries, int family) {
  std::vector<net::CIDR> out;
  if (entries.empty()) return out;
  ASSIGN_OR_RETURN(auto pools, client.ListPools());
  for (const std::string& e : entries) {
    auto cidr = net::CIDR::Parse(e);
    if (!cidr) {
      auto it = std::find_if(pools.begin(), pools.end(),
                             [&](const ipam::Pool& p) { return p.name == e; });
      if (it == pools.end()) return InvalidArgument("IPPool \"" + e + "\" not found");
      cidr = it->cidr;
    }
    if (cidr->family() != family) {
      return InvalidArgument("\"" + e + "\" isn't a IPv" + std::to_string(family) + " address");
    }
    out.push_back(*cidr);
  }
  return out;
}

net::CIDR HostPrefix(const net::IPAddr& ip) {
  return net::CIDR(ip, ip.bit_len());
}

// An ADD that failed half way gives back what it got (cni-plugin/pkg/ipamplugin: ReleaseByHandle
// before returning the error). The ADD's error is what the runtime sees; a failed release leaves
// addresses that the runtime's DEL (which it sends after a failed ADD) releases again.
void ReleaseAfterFailure(ipam::IpamClient& client, const std::string& handle) {
  if (Status released = client.ReleaseByHandle(handle); !released) {
    CALICO_LOG(warn, "cni", "cannot release handle={} after a failed ADD: {}", handle,
               released.error().message());
  }
}

// The host-wide lock held around every assignment and release (cni-plugin ipam_plugin.go
// autoAssignWithLock / assignIPWithLock and cmdDel): one request of this host at a time reaches
// the datastore, so maxBlocksPerHost holds under any number of parallel plugins.
Result<ipam::HostLock> LockHost(const NetConf& conf) {
  return ipam::HostLock::Acquire(conf.ipam_lock_file.empty() ? ipam::kDefaultIpamLockFile
                                                             : conf.ipam_lock_file);
}

// What an assignment reads, in one batch (one etcd round trip instead of six): read once the
// host-wide lock is held, since the host's affinities and the handle are what the lock keeps
// still (see ipam.h).
void PrefetchAssignmentReads(datastore::ReadAheadBackend* read_ahead, const NetConf& conf,
                             const std::string& node, const std::string& handle) {
  if (read_ahead == nullptr) return;
  std::vector<datastore::ReadRequest> reads = {
      {.key = datastore::HandleKey{.handle_id = handle}.Format()},
      {.key = datastore::ResourceListPrefix(*model::LookupKind("IPPool"), ""), .prefix = true},
      {.key = datastore::ResourceListPrefix(*model::LookupKind("IPReservation"), ""),
       .prefix = true},
      {.key = datastore::IpamConfigKey{}.Format()},
      {.key = datastore::ResourceKey{.kind = model::LookupKind("Node"), .name = node}.Format()}};
  if (conf.ipam.assign_ipv4 != "false") {
    reads.push_back({.key = datastore::BlockAffinityKey::ListPrefix(node, 4), .prefix = true});
  }
  if (conf.ipam.assign_ipv6 == "true") {
    reads.push_back({.key = datastore::BlockAffinityKey::ListPrefix(node, 6), .prefix = true});
  }
  if (Status st = read_ahead->Prefetch(reads); !st) {
    // The reads then go to the store one by one, and report its error there.
    CALICO_LOG(debug, "cni", "batch read failed: {}", st.error().message());
  }
}

Result<CniResult> Add(const Invocation& inv, const NetConf& conf, ipam::IpamClient& client,
                      datastore::ReadAheadBackend* read_ahead) {
  std::string node = DetermineNodename(conf);
  std::string handle = IpamHandle(conf, inv);
  ASSIGN_OR_RETURN(ipam::HostLock lock, LockHost(conf));
  PrefetchAssignmentReads(read_ahead, conf, node, handle);
  CniResult result;
  // A repeated ADD for the same container returns what it already holds.
  ASSIGN_OR_RETURN(auto existing, client.IPsByHandle(handle));
  if (!existing.empty()) {
    for (const net::IPAddr& ip : existing)
      result.ips.push_back({HostPrefix(ip), std::nullopt, std::nullopt});
    return result;
  }
  ipam::Json attrs{{"node", node}, {"timestamp", ""}};
  // The pod (cni-plugin's ipam_plugin.go: AttributePod, AttributeNamespace), and the container's
  // network namespace: calico-controllers releases an address whose endpoint and namespace are
  // gone (src/calico/controllers/gc.h). The inode tells a recycled /proc/PID/ns/net path apart.
  auto pod = inv.args.find("K8S_POD_NAME");
  auto pod_ns = inv.args.find("K8S_POD_NAMESPACE");
  if (pod != inv.args.end() && pod_ns != inv.args.end() && !pod->second.empty()) {
    attrs["pod"] = pod->second;
    attrs["namespace"] = pod_ns->second;
  }
  if (!inv.netns.empty()) {
    attrs["netns"] = inv.netns;
    struct stat st {};
    if (::stat(inv.netns.c_str(), &st) == 0) attrs["netnsInode"] = std::to_string(st.st_ino);
  }
  auto ip_arg = inv.args.find("IP");
  if (ip_arg != inv.args.end() && !ip_arg->second.empty()) {
    for (const std::string& text : StrSplit(ip_arg->second, ',', true)) {
      auto ip = net::IPAddr::Parse(text);
      if (!ip) return InvalidArgument("invalid IP address in CNI_ARGS: \"" + text + "\"");
      Status st = client.AssignIP(*ip, handle, attrs, node);
      if (!st) {
        ReleaseAfterFailure(client, handle);
        return Unexpected(st.error().Wrap("failed to assign " + ip->String()));
      }
      result.ips.push_back({HostPrefix(*ip), std::nullopt, std::nullopt});
    }
    return result;
  }
  ipam::AutoAssignArgs args;
  args.num4 = conf.ipam.assign_ipv4 == "false" ? 0 : 1;
  args.num6 = conf.ipam.assign_ipv6 == "true" ? 1 : 0;
  args.handle = handle;
  args.attrs = attrs;
  args.host = node;
  ASSIGN_OR_RETURN(args.ipv4_pools, ResolvePools(client, conf.ipam.ipv4_pools, 4));
  ASSIGN_OR_RETURN(args.ipv6_pools, ResolvePools(client, conf.ipam.ipv6_pools, 6));
  auto assigned = client.AutoAssign(args);
  if (!assigned) {
    ReleaseAfterFailure(client, handle);
    return Unexpected(assigned.error());
  }
  for (auto [family, want, got] : {std::tuple{4, args.num4, assigned->ipv4.size()},
                                   std::tuple{6, args.num6, assigned->ipv6.size()}}) {
    if (want > 0 && got < static_cast<size_t>(want)) {
      ReleaseAfterFailure(client, handle);
      std::string msg = "failed to request " + std::to_string(want) + " IPv" +
                        std::to_string(family) + " addresses. IPAM allocated only " +
                        std::to_string(got);
      for (const std::string& m : assigned->messages)
        msg += "; " + m;
      return Unavailable(msg);
    }
  }
  for (const auto& c : assigned->ipv4)
    result.ips.push_back({HostPrefix(c.addr()), std::nullopt, std::nullopt});
  for (const auto& c : assigned->ipv6)
    result.ips.push_back({HostPrefix(c.addr()), std::nullopt, std::nullopt});
  return result;
}

}  // namespace

std::string IpamHandle(const NetConf& conf, const Invocation& inv) {
  return conf.name + "." + inv.container_id;
}

Result<CniResult> IpamAdd(const Invocation& inv, const NetConf& conf, datastore::Backend& backend) {
  ipam::IpamClient client(backend);
  return Add(inv, conf, client, dynamic_cast<datastore::ReadAheadBackend*>(&backend));
}

Status IpamDel(const Invocation& inv, const NetConf& conf, datastore::Backend& backend) {
  auto released = IpamDelWith(inv, conf, backend, {});
  if (!released) return Unexpected(released.error());
  return OkStatus();
}

Result<bool> IpamDelWith(const Invocation& inv, const NetConf& conf, datastore::Backend& backend,
                         std::vector<datastore::TxnOp> with) {
  ipam::IpamClient client(backend);
  ASSIGN_OR_RETURN(ipam::HostLock lock, LockHost(conf));
  return client.ReleaseByHandle(IpamHandle(conf, inv), std::move(with));
}

int RunIpamPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                  std::ostream& out, std::ostream& err) {
  PluginCall call("calico-ipam", out, err);
  if (!call.Start(env, stdin_text)) return call.exit_code();
  auto fail = [&](CniCode code, const std::string& msg) { return call.Fail(code, msg); };
  const Invocation* inv = &call.inv();
  const NetConf* conf = &call.conf();
  auto opened = call.OpenDatastore();
  if (!opened) return call.exit_code();
  datastore::ReadAheadBackend backend(*opened);
  ipam::IpamClient client(backend);
  std::string handle = IpamHandle(*conf, *inv);
  if (inv->command == "ADD") return call.PrintAddResult(Add(*inv, *conf, client, &backend));
  if (inv->command == "DEL") {
    Status st = IpamDel(*inv, *conf, backend);
    if (!st) return fail(CniCode::kTryAgainLater, st.error().message());
    return 0;
  }
  if (inv->command == "CHECK") {
    auto ips = client.IPsByHandle(handle);
    if (!ips) return fail(CniCode::kTryAgainLater, ips.error().message());
    if (ips->empty()) return fail(CniCode::kUnknownContainer, "no IP addresses held by " + handle);
    return 0;
  }
  if (inv->command == "GC" || inv->command == "STATUS") return 0;
  return fail(CniCode::kInvalidEnvironment, "unknown CNI_COMMAND " + inv->command);
}

}  // namespace calico::cni
