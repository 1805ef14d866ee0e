#include "calico/cni/calico_plugin.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <vector>

#include <fmt/format.h>

#include "calico/base/cleanup.h"
#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/cni/cni.h"
#include "calico/cni/delegate.h"
#include "calico/cni/ipam_plugin.h"
#include "calico/dataplane/netlink.h"
#include "calico/dataplane/netns.h"
#include "calico/dataplane/workload_net.h"
#include "calico/datastore/client.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/names.h"
#include "calico/datastore/read_ahead.h"
#include "calico/model/v3/cluster.h"
#include "calico/model/v3/endpoint.h"
#include "calico/net/ip.h"

namespace calico::cni {
namespace {

using model::Resource;

constexpr const char* kMtuFile = "/var/lib/calico/mtu";

struct PluginError {
  CniCode code;
  std::string msg;
};

// Everything an invocation works with.
struct Context {
  Invocation inv;
  NetConf conf;
  std::map<std::string, std::string> env;
  std::string stdin_text;
  std::string node;
  std::string ns = "default";
  // "k8s" when CNI_ARGS names the pod (K8S_POD_NAMESPACE and K8S_POD_NAME), else "cni"
  // (cni-plugin/pkg/utils GetIdentifiers).
  std::string orchestrator = "cni";
  std::string pod;
  std::unique_ptr<datastore::Backend> store;
  // The store, answering the reads an invocation makes first from one batch (read_ahead.h).
  std::unique_ptr<datastore::ReadAheadBackend> backend;
  std::unique_ptr<datastore::Client> client;
};

// The network's profile, which an ADD creates on first use (empty when the policy type leaves
// profiles to someone else).
std::string ProfileToCreate(const Context& ctx) {
  const bool k8s_policy = ctx.orchestrator == "k8s" && ctx.conf.policy_type == "k8s";
  if (!ctx.conf.policy_type.empty() || k8s_policy) return "";
  return ctx.conf.name;
}

// The reads every invocation starts with, in one batch (one etcd round trip): the
// ClusterInformation, this namespace's endpoints and, for ADD, the network's profile. IPAM's reads
// follow in a second batch once the host-wide lock is held (ipam_plugin.cc).
void PrefetchFirstReads(Context& ctx) {
  std::vector<datastore::ReadRequest> reads = {
      {.key = datastore::ResourceKey{.kind = model::LookupKind("ClusterInformation"),
                                     .name = "default"}
                  .Format()},
      {.key = datastore::ResourceListPrefix(*model::LookupKind("WorkloadEndpoint"), ctx.ns),
       .prefix = true}};
  if (ctx.inv.command == "ADD") {
    if (std::string profile = ProfileToCreate(ctx); !profile.empty()) {
      reads.push_back(
          {.key = datastore::ResourceKey{.kind = model::LookupKind("Profile"), .name = profile}
                      .Format()});
    }
  }
  // DEL with calico-ipam in this process: the handle, which the release reads first. Read before
  // the host-wide lock is held, which is safe: the release compares the handle's revision when it
  // writes (a change since is a conflict, and the handle is read again).
  if (ctx.inv.command == "DEL" && ctx.conf.ipam.type == "calico-ipam") {
    reads.push_back(
        {.key = datastore::HandleKey{.handle_id = IpamHandle(ctx.conf, ctx.inv)}.Format()});
  }
  if (Status st = ctx.backend->Prefetch(reads); !st) {
    // The reads then go to the store one by one, and report its error there.
    CALICO_LOG(debug, "cni", "batch read failed: {}", st.error().message());
  }
}

Status CheckNodenameFile(const NetConf& conf) {
  // With an explicit nodename the file adds nothing; otherwise it is how calico-node tells the
  // plugin which node this is, and running without it would register endpoints under a guess.
  if (conf.nodename_file_optional || !conf.nodename.empty()) return OkStatus();
  std::error_code ec;
  if (!std::filesystem::exists(conf.nodename_file, ec)) {
    return NotFound("stat " + conf.nodename_file +
                    ": no such file or directory: check that the calico/node container is running "
                    "and has mounted /var/lib/calico/ (or set \"nodename\" in the network config)");
  }
  return OkStatus();
}

// The netconf's mtu, else the MTU calico-node detected (the MTU file: /var/lib/calico/mtu, or
// CALICO_MTU_FILE in the plugin's environment), else 0 (the kernel's default).
Result<int> DetermineMtu(const NetConf& conf, const std::map<std::string, std::string>& env) {
  if (conf.mtu > 0) return conf.mtu;
  auto it = env.find("CALICO_MTU_FILE");
  const std::string path = it != env.end() && !it->second.empty() ? it->second : kMtuFile;
  std::ifstream in(path);
  if (!in) {
    if (conf.raw.value("require_mtu_file", false)) {
      return NotFound("failed to read MTU file: " + path + " does not exist");
    }
    return 0;
  }
  int mtu = 0;
  if (!(in >> mtu) || mtu < 0) return InvalidArgument("failed to read MTU file " + path);
  return mtu;
}

Status CheckClusterReady(datastore::Client& client) {
  auto info = client.Get("ClusterInformation", "", "default");
  if (!info) {
    // The hint fits a datastore nobody initialised, not one that is unreachable.
    return Unexpected(info.error().Wrap(
        info.error().code() == ErrorCode::kNotFound
            ? "error getting ClusterInformation (start calico-node, or run any calicoctl "
              "create/apply, to initialise the datastore)"
            : "error getting ClusterInformation"));
  }
  ASSIGN_OR_RETURN(model::v3::ClusterInformation typed, model::v3::DecodeClusterInformation(*info));
  if (!typed.spec.datastore_ready.value_or(false)) {
    return Unavailable("Calico is currently not ready to process requests");
  }
  return OkStatus();
}

datastore::WorkloadEndpointIdentifiers Identifiers(const Context& ctx) {
  datastore::WorkloadEndpointIdentifiers ids;
  ids.node = ctx.node;
  ids.orchestrator = ctx.orchestrator;
  if (ctx.orchestrator == "k8s") {
    ids.pod = ctx.pod;
  } else {
    ids.container_id = ctx.inv.container_id;
  }
  ids.endpoint = ctx.inv.ifname;
  return ids;
}

// A WorkloadEndpoint as stored (for read-modify-write) and decoded (for reading).
struct NodeEndpoint {
  Resource resource;
  model::v3::WorkloadEndpoint typed;
};

// The endpoints of this node in the plugin's namespace, and among them this container's (any
// interface name), if it has one.
struct NodeEndpoints {
  std::vector<model::v3::WorkloadEndpoint> all;
  std::optional<NodeEndpoint> mine;
};

Result<NodeEndpoints> ListNodeEndpoints(Context& ctx) {
  NodeEndpoints out;
  ASSIGN_OR_RETURN(auto weps, ctx.client->List("WorkloadEndpoint", ctx.ns));
  for (Resource& wep : weps) {
    auto typed = model::v3::DecodeWorkloadEndpoint(wep);
    if (!typed) {
      CALICO_LOG(warn, "cni", "ignoring unreadable endpoint: {}", typed.error().message());
      continue;
    }
    const model::v3::WorkloadEndpointSpec& spec = typed->spec;
    if (spec.node != ctx.node) continue;
    if (!out.mine && spec.orchestrator == ctx.orchestrator &&
        spec.container_id == ctx.inv.container_id) {
      out.mine = NodeEndpoint{.resource = std::move(wep), .typed = *typed};
    }
    out.all.push_back(*std::move(typed));
  }
  return out;
}

// Whether another container's endpoint on this node uses host interface `name`.
bool ClaimedByOther(const NodeEndpoints& eps, const std::string& name, const std::string& cid) {
  for (const model::v3::WorkloadEndpoint& wep : eps.all) {
    if (wep.spec.interface_name == name && wep.spec.container_id != cid) return true;
  }
  return false;
}

// Calico's name, "cali" + the container ID's first 11 characters, unless another container's
// endpoint already has it: IDs that share a prefix (ctr's "<namespace>-<name>") would otherwise
// take over each other's veth. Then "cali" + 11 hex digits of a hash of the whole ID.
std::string HostVethName(const NodeEndpoints& eps, const std::string& cid) {
  std::string name = dataplane::HostVethNameForContainer(cid);
  if (!ClaimedByOther(eps, name, cid)) return name;
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : cid)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return "cali" + std::string(hex, 11);
}

// The IPAM plugin's view of the environment: IgnoreUnknown so it accepts every CNI_ARGS key.
std::map<std::string, std::string> IpamEnv(const Context& ctx) {
  auto env = ctx.env;
  std::string args = env["CNI_ARGS"];
  if (args.find("IgnoreUnknown=") == std::string::npos) {
    env["CNI_ARGS"] = args.empty() ? "IgnoreUnknown=1" : "IgnoreUnknown=1;" + args;
  }
  return env;
}

// calico-ipam runs in this process on the open datastore (same code as the calico-ipam binary);
// any other IPAM plugin is executed from CNI_PATH as Calico does.
bool InProcessIpam(const Context& ctx) {
  return ctx.conf.ipam.type == "calico-ipam";
}

Status IpamRelease(const Context& ctx);

Result<CniResult> IpamAssign(const Context& ctx) {
  if (InProcessIpam(ctx)) return IpamAdd(ctx.inv, ctx.conf, *ctx.backend);
  ASSIGN_OR_RETURN(Json j, DelegateInvoke(ctx.conf.ipam.type, "ADD", IpamEnv(ctx), ctx.stdin_text));
  auto parsed = ParseResult(j);
  if (!parsed) {
    Status undo = IpamRelease(ctx);
    if (!undo)
      CALICO_LOG(error, "cni", "releasing after a bad IPAM result: {}", undo.error().message());
    return Unexpected(
        parsed.error().Wrap(ctx.conf.ipam.type + " returned a result that cannot be read"));
  }
  return parsed;
}

Status IpamRelease(const Context& ctx) {
  if (InProcessIpam(ctx)) return IpamDel(ctx.inv, ctx.conf, *ctx.backend);
  auto r = DelegateInvoke(ctx.conf.ipam.type, "DEL", IpamEnv(ctx), ctx.stdin_text);
  if (!r) return Unexpected(r.error());
  return OkStatus();
}

Resource DefaultProfile(const std::string& network) {
  Resource p("Profile", network);
  p.spec() = model::Json{
      {"ingress", model::Json::array(
                      {{{"action", "Allow"}, {"source", {{"selector", "has(" + network + ")"}}}}})},
      {"egress", model::Json::array({{{"action", "Allow"}}})},
      {"labelsToApply", {{network, ""}}}};
  return p;
}

// Kubernetes pods' labels and named ports, which upstream's plugin reads from the API server:
// here they come in the network configuration's "args" as a runtime passes them (the CNI
// conventions' args.cni.labels, [{"key": k, "value": v}], and ours, args.cni.ports,
// [{"name", "protocol", "containerPort"}] as in a pod's container ports). The WorkloadEndpoint
// validation checks them.
Result<model::Json> PodLabels(const NetConf& conf) {
  model::Json labels = model::Json::object();
  const model::Json* list = nullptr;
  if (conf.raw.contains("args") && conf.raw["args"].is_object() &&
      conf.raw["args"].contains("cni") && conf.raw["args"]["cni"].is_object() &&
      conf.raw["args"]["cni"].contains("labels")) {
    list = &conf.raw["args"]["cni"]["labels"];
  }
  if (list == nullptr) return labels;
  if (!list->is_array()) return InvalidArgument("args.cni.labels must be a list of {key, value}");
  for (const auto& l : *list) {
    if (!l.is_object() || !l.contains("key") || !l["key"].is_string() ||
        (l.contains("value") && !l["value"].is_string())) {
      return InvalidArgument("args.cni.labels: each entry needs a string key and value: " +
                             l.dump());
    }
    labels[l["key"].get<std::string>()] = l.value("value", "");
  }
  return labels;
}

Result<model::Json> PodPorts(const NetConf& conf) {
  model::Json ports = model::Json::array();
  if (!conf.raw.contains("args") || !conf.raw["args"].is_object() ||
      !conf.raw["args"].contains("cni") || !conf.raw["args"]["cni"].is_object() ||
      !conf.raw["args"]["cni"].contains("ports")) {
    return ports;
  }
  const model::Json& list = conf.raw["args"]["cni"]["ports"];
  if (!list.is_array()) return InvalidArgument("args.cni.ports must be a list of container ports");
  for (const auto& p : list) {
    // appendEndpointPorts: only named ports become endpoint ports.
    if (!p.is_object() || !p.contains("containerPort") || !p["containerPort"].is_number_integer()) {
      return InvalidArgument("args.cni.ports: each entry needs a containerPort: " + p.dump());
    }
    std::string name = p.value("name", "");
    if (name.empty()) continue;
    ports.push_back({{"name", name},
                     {"protocol", p.value("protocol", std::string("TCP"))},
                     {"port", p["containerPort"]}});
  }
  return ports;
}

// A pod's annotations, which upstream's plugin reads from the API server: here from the runtime,
// as containerd and CRI-O pass them to a plugin declaring the capability
// (runtimeConfig["io.kubernetes.cri.pod-annotations"]), or from args.cni.annotations (our key,
// shaped like a pod's metadata.annotations: {"key": "value"}); the latter wins per key.
Result<std::map<std::string, std::string>> PodAnnotations(const NetConf& conf) {
  std::map<std::string, std::string> out;
  auto read = [&](const model::Json& obj, std::string_view where) -> Status {
    if (!obj.is_object()) {
      return InvalidArgument(fmt::format("{} must be an object of strings", where));
    }
    for (const auto& [k, v] : obj.items()) {
      if (!v.is_string()) {
        return InvalidArgument(fmt::format("{}: \"{}\" is not a string", where, k));
      }
      out[k] = v.get<std::string>();
    }
    return OkStatus();
  };
  const model::Json& raw = conf.raw;
  if (raw.contains("runtimeConfig") && raw["runtimeConfig"].is_object() &&
      raw["runtimeConfig"].contains("io.kubernetes.cri.pod-annotations")) {
    RETURN_IF_ERROR(read(raw["runtimeConfig"]["io.kubernetes.cri.pod-annotations"],
                         "runtimeConfig.io.kubernetes.cri.pod-annotations"));
  }
  if (raw.contains("args") && raw["args"].is_object() && raw["args"].contains("cni") &&
      raw["args"]["cni"].is_object() && raw["args"]["cni"].contains("annotations")) {
    RETURN_IF_ERROR(read(raw["args"]["cni"]["annotations"], "args.cni.annotations"));
  }
  return out;
}

}  // namespace

// libcalico-go k8s/conversion HandleSourceIPSpoofingAnnotation: a JSON list of CIDRs, each
// normalised (host bits cleared); a value that is not such a list fails the ADD.
Result<std::vector<std::string>> AllowedSourcePrefixes(
    const std::map<std::string, std::string>& annotations) {
  std::vector<std::string> out;
  auto it = annotations.find(std::string(kAllowedSourcePrefixesAnnotation));
  if (it == annotations.end() || it->second.empty()) return out;
  const std::string& text = it->second;
  model::Json list = model::Json::parse(text, nullptr, false);
  if (list.is_discarded() || !list.is_array()) {
    return InvalidArgument(fmt::format("{}: failed to parse '{}' as JSON: not a list of strings",
                                       kAllowedSourcePrefixesAnnotation, text));
  }
  for (const model::Json& e : list) {
    std::optional<net::CIDR> cidr;
    if (e.is_string()) cidr = net::CIDR::Parse(e.get<std::string>());
    if (!cidr) {
      return InvalidArgument(fmt::format("{}: failed to parse '{}' as a CIDR",
                                         kAllowedSourcePrefixesAnnotation,
                                         e.is_string() ? e.get<std::string>() : e.dump()));
    }
    out.push_back(cidr->Masked().String());
  }
  return out;
}

namespace {

CniResult ResultFromEndpoint(const model::v3::WorkloadEndpoint& wep, const Context& ctx) {
  CniResult result;
  const model::v3::WorkloadEndpointSpec& spec = wep.spec;
  result.interfaces.push_back({spec.interface_name, "", "", std::nullopt});
  result.interfaces.push_back({spec.endpoint.empty() ? ctx.inv.ifname : spec.endpoint, spec.mac,
                               ctx.inv.netns, std::nullopt});
  for (const std::string& n : spec.ip_networks) {
    if (auto cidr = net::CIDR::Parse(n)) result.ips.push_back({*cidr, std::nullopt, 1});
  }
  return result;
}

Result<CniResult> Add(Context& ctx) {
  if (ctx.conf.raw.contains("feature_control") &&
      ctx.conf.raw["feature_control"].value("ip_addrs_no_ipam", false)) {
    return InvalidArgument("requested feature is not supported for this runtime: ip_addrs_no_ipam");
  }
  std::string device_type = ctx.conf.raw.value("device_type", "");
  if (!device_type.empty() && device_type != "veth") {
    return InvalidArgument("unsupported device_type \"" + device_type +
                           "\" (this plugin makes veth pairs)");
  }
  ASSIGN_OR_RETURN(int mtu, DetermineMtu(ctx.conf, ctx.env));
  // With policy type "k8s" a pod's endpoint takes its namespace's profile (kns.<namespace>, made
  // by calico-controllers from the Namespace), as upstream's Kubernetes path does; otherwise the
  // network's.
  const bool k8s_policy = ctx.orchestrator == "k8s" && ctx.conf.policy_type == "k8s";
  const std::string profile_id = k8s_policy ? "kns." + ctx.ns : ctx.conf.name;
  ASSIGN_OR_RETURN(model::Json pod_labels, PodLabels(ctx.conf));
  ASSIGN_OR_RETURN(model::Json pod_ports, PodPorts(ctx.conf));
  ASSIGN_OR_RETURN(auto pod_annotations, PodAnnotations(ctx.conf));
  ASSIGN_OR_RETURN(std::vector<std::string> allowed_sources,
                   AllowedSourcePrefixes(pod_annotations));

  UndoStack undo("cni");  // a failed ADD removes what it made, newest first
  ASSIGN_OR_RETURN(NodeEndpoints endpoints, ListNodeEndpoints(ctx));
  auto& existing = endpoints.mine;
  Resource wep;
  CniResult result;
  bool is_new = !existing.has_value();
  if (!is_new) {
    // Repeat ADD, or the same container joining another network: no IPAM, no plumbing; the
    // network's profile is added to the endpoint.
    const std::vector<std::string>& profiles = existing->typed.spec.profiles;
    if (std::find(profiles.begin(), profiles.end(), profile_id) == profiles.end()) {
      auto& stored = existing->resource.spec()["profiles"];
      if (!stored.is_array()) stored = model::Json::array();
      stored.push_back(profile_id);
    }
    result = ResultFromEndpoint(existing->typed, ctx);
    wep = std::move(existing->resource);
  } else {
    if (ctx.conf.ipam.type.empty()) return InvalidArgument("the network config has no ipam.type");
    auto ipam_result = IpamAssign(ctx);
    if (!ipam_result) return Unexpected(ipam_result.error());  // the IPAM made nothing
    undo.Push("release addresses", [&ctx] { return IpamRelease(ctx); });
    if (ipam_result->ips.empty()) {
      return InvalidArgument("IPAM plugin returned no IP addresses in result");
    }
    ASSIGN_OR_RETURN(std::string name, datastore::WorkloadEndpointName(Identifiers(ctx)));
    dataplane::WorkloadNetSpec spec;
    spec.netns_path = ctx.inv.netns;
    spec.container_ifname = ctx.inv.ifname;
    spec.host_ifname = HostVethName(endpoints, ctx.inv.container_id);
    spec.mtu = mtu;
    spec.num_queues = std::max(1, ctx.conf.raw.value("num_queues", 1));
    spec.allow_ip_forwarding =
        ctx.conf.raw.contains("container_settings") &&
        ctx.conf.raw["container_settings"].value("allow_ip_forwarding", false);
    model::Json networks = model::Json::array();
    for (IpConfig& ip : ipam_result->ips) {
      ip.address = net::CIDR(ip.address.addr(), ip.address.addr().bit_len());
      ip.gateway.reset();  // Calico never uses the IPAM's gateway.
      ip.interface = 1;
      spec.addresses.push_back(ip.address.addr());
      networks.push_back(ip.address.String());
    }
    auto plumbing = dataplane::SetUpWorkload(spec);
    if (!plumbing) return Unexpected(plumbing.error());
    undo.Push("remove the veth pair", [&ctx, host = spec.host_ifname]() -> Status {
      RETURN_IF_ERROR(dataplane::TearDownWorkload(ctx.inv.netns, ctx.inv.ifname));
      return dataplane::DeleteHostVeth(host);
    });
    wep = Resource("WorkloadEndpoint", name, ctx.ns);
    wep.spec() = model::Json{{"orchestrator", ctx.orchestrator},
                             {"workload", ""},
                             {"node", ctx.node},
                             {"containerID", ctx.inv.container_id},
                             {"endpoint", ctx.inv.ifname},
                             {"interfaceName", plumbing->host_ifname},
                             {"mac", plumbing->container_mac},
                             {"ipNetworks", networks},
                             {"profiles", model::Json::array({profile_id})}};
    if (ctx.orchestrator == "k8s") {
      wep.spec()["pod"] = ctx.pod;
      if (!pod_ports.empty()) wep.spec()["ports"] = pod_ports;
    }
    if (!pod_labels.empty()) wep.metadata()["labels"] = pod_labels;
    if (!allowed_sources.empty()) wep.spec()["allowSpoofedSourcePrefixes"] = allowed_sources;
    result.interfaces.push_back({plumbing->host_ifname, "", "", std::nullopt});
    result.interfaces.push_back({ctx.inv.ifname, plumbing->container_mac, ctx.inv.netns,
                                 mtu > 0 ? std::optional<int>(mtu) : std::nullopt});
    result.ips = ipam_result->ips;
    result.routes = ipam_result->routes;
  }

  if (wep.resource_version().empty()) {
    auto created = ctx.client->Create(wep);
    if (!created && created.error().code() == ErrorCode::kAlreadyExists &&
        ctx.orchestrator == "k8s") {
      // The pod's endpoint from an earlier sandbox (same pod, other container): this sandbox
      // takes it over, as upstream's Kubernetes path does.
      auto old = ctx.client->Get("WorkloadEndpoint", ctx.ns, wep.name());
      if (old) {
        wep.set_resource_version(old->resource_version());
        created = ctx.client->Update(wep);
      }
    }
    if (!created) return Unexpected(created.error().Wrap("failed to write the WorkloadEndpoint"));
    undo.Push("delete the WorkloadEndpoint", [&ctx, name = wep.name()]() -> Status {
      auto d = ctx.client->Delete("WorkloadEndpoint", ctx.ns, name);
      if (!d && d.error().code() != ErrorCode::kNotFound) return Unexpected(d.error());
      return OkStatus();
    });
  } else {
    auto updated = ctx.client->Update(wep);
    if (!updated) return Unexpected(updated.error().Wrap("failed to update the WorkloadEndpoint"));
  }

  // The network's profile: created on first use, never updated (the user may have edited it).
  if (ctx.conf.policy_type.empty() && !k8s_policy) {
    auto profile = ctx.client->Get("Profile", "", profile_id);
    if (!profile) {
      if (profile.error().code() != ErrorCode::kNotFound) {
        return Unexpected(profile.error().Wrap("failed to read profile " + profile_id));
      }
      auto made = ctx.client->Create(DefaultProfile(profile_id));
      if (!made && made.error().code() != ErrorCode::kAlreadyExists) {  // a racing ADD made it
        return Unexpected(made.error().Wrap("failed to create profile " + profile_id));
      }
    }
  }
  undo.Commit();
  return result;
}

// The endpoint a DEL read, deleted at the revision read; after a conflict read again and deleted
// only while it is still this container's (cni-plugin/pkg/k8s/k8s.go CmdDelK8s: "Endpoint was
// modified before it could be deleted. Retrying...", and "CNI_CONTAINERID does not match
// WorkloadEndpoint ContainerID, don't delete WEP" for a pod's new sandbox).
Status DeleteEndpoint(Context& ctx, const NodeEndpoint& ep) {
  const std::string& name = ep.resource.name();
  std::string version = ep.resource.resource_version();
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto d = ctx.client->Delete("WorkloadEndpoint", ctx.ns, name, version);
    if (d || d.error().code() == ErrorCode::kNotFound) return OkStatus();
    if (d.error().code() != ErrorCode::kConflict) return Unexpected(d.error());
    auto now = ctx.client->Get("WorkloadEndpoint", ctx.ns, name);
    if (!now) {
      if (now.error().code() == ErrorCode::kNotFound) return OkStatus();
      return Unexpected(now.error());
    }
    auto typed = model::v3::DecodeWorkloadEndpoint(*now);
    if (typed && typed->spec.container_id != ctx.inv.container_id) {
      CALICO_LOG(warn, "cni", "endpoint {} now belongs to container {}: not deleted", name,
                 typed->spec.container_id);
      return OkStatus();
    }
    version = now->resource_version();
  }
  return Unavailable("WorkloadEndpoint " + name + " keeps changing: not deleted");
}

// The endpoint's delete as a write of the release's transaction: compare-and-swap on the revision
// read, as the delete on its own does.
std::optional<datastore::TxnOp> EndpointDeleteOp(const Context& ctx, const NodeEndpoint& ep) {
  auto revision = ParseInt<int64_t>(ep.resource.resource_version());
  if (!revision) return std::nullopt;
  return datastore::TxnOp::Delete(
      datastore::ResourceKey{
          .kind = model::LookupKind("WorkloadEndpoint"), .ns = ctx.ns, .name = ep.resource.name()}
          .Format(),
      *revision);
}

Status Del(Context& ctx) {
  // Every step runs even when an earlier one failed; the first error is reported. The addresses
  // are released last, and only once the interfaces are gone (cni-plugin k8s.go CmdDelK8s order):
  // released first, an address could be handed to a new container while this one's veth still
  // held the route to it, and that ADD failed ("route ... already exists for an interface other
  // than ..."; found by the 4 x 250 ADD/DEL stress test with a tight block cap).
  //
  // The endpoint: upstream deletes it first. With calico-ipam in this process its delete waits for
  // the interfaces to go and is written in the release's transaction (one etcd write for the
  // endpoint, the block and the handle instead of two; docs/COMPATIBILITY.md); on its own when
  // the release does not run (the host end is left, for a retried DEL) or could not take it.
  Status first = OkStatus();
  auto keep = [&first](Status st) {
    if (!st && first) first = std::move(st);
  };
  const bool with_release = InProcessIpam(ctx);
  std::optional<NodeEndpoint> endpoint;  // to delete, with the release or on its own
  auto endpoints = ListNodeEndpoints(ctx);
  std::string host_veth = dataplane::HostVethNameForContainer(ctx.inv.container_id);
  bool veth_is_mine = false;
  if (!endpoints) {
    keep(Unexpected(endpoints.error()));
  } else {
    if (endpoints->mine) {
      if (!endpoints->mine->typed.spec.interface_name.empty()) {
        host_veth = endpoints->mine->typed.spec.interface_name;
      }
      if (with_release) {
        endpoint = endpoints->mine;
      } else {
        keep(DeleteEndpoint(ctx, *endpoints->mine));
      }
    }
    veth_is_mine = !ClaimedByOther(*endpoints, host_veth, ctx.inv.container_id);
  }
  keep(dataplane::TearDownWorkload(ctx.inv.netns, ctx.inv.ifname));
  // The namespace may be gone already (ctr sends DEL without CNI_NETNS), and a crashed ADD may
  // have left a host end without an endpoint: remove the host end by name, unless it is another
  // container's.
  Status host_end = veth_is_mine ? dataplane::DeleteHostVeth(host_veth) : OkStatus();
  keep(host_end);
  // The routes to the addresses hang off the host end: while it is left, keep the addresses (the
  // runtime retries DEL).
  if (host_end && with_release) {
    std::vector<datastore::TxnOp> with;
    if (endpoint) {
      if (auto op = EndpointDeleteOp(ctx, *endpoint)) with.push_back(*std::move(op));
    }
    const bool endpoint_with = !with.empty();
    auto released = IpamDelWith(ctx.inv, ctx.conf, *ctx.backend, std::move(with));
    if (!released) {
      keep(Unexpected(released.error()));
    } else if (*released && endpoint_with) {
      endpoint.reset();
    }
  } else if (host_end && !ctx.conf.ipam.type.empty()) {
    keep(IpamRelease(ctx));
  }
  if (endpoint) keep(DeleteEndpoint(ctx, *endpoint));
  return first;
}

Status Check(Context& ctx) {
  ASSIGN_OR_RETURN(NodeEndpoints endpoints, ListNodeEndpoints(ctx));
  auto& existing = endpoints.mine;
  if (!existing) {
    return NotFound("no WorkloadEndpoint for container " + ctx.inv.container_id + " on node " +
                    ctx.node);
  }
  CniResult want = ResultFromEndpoint(existing->typed, ctx);
  ASSIGN_OR_RETURN(auto ns, dataplane::NetnsFd::Open(ctx.inv.netns));
  return dataplane::RunInNetns(ns, [&]() -> Status {
    ASSIGN_OR_RETURN(auto nl, dataplane::NetlinkSocket::Open());
    auto link = nl->GetLink(ctx.inv.ifname);
    if (!link) return NotFound("interface " + ctx.inv.ifname + " is missing in " + ctx.inv.netns);
    for (int family : {4, 6}) {
      ASSIGN_OR_RETURN(auto addrs, nl->ListAddresses(family, link->index));
      for (const IpConfig& ip : want.ips) {
        if (ip.address.family() != family) continue;
        bool found = false;
        for (const auto& a : addrs)
          found = found || a.addr.addr() == ip.address.addr();
        if (!found) {
          return NotFound("address " + ip.address.String() + " is missing on " + ctx.inv.ifname);
        }
      }
    }
    return OkStatus();
  });
}

}  // namespace

int RunCalicoPlugin(const std::map<std::string, std::string>& env, std::string_view stdin_text,
                    std::ostream& out, std::ostream& err) {
  PluginCall call("calico", out, err);
  if (!call.Start(env, stdin_text)) return call.exit_code();
  auto fail = [&](CniCode code, const std::string& msg) { return call.Fail(code, msg); };
  const Invocation* inv = &call.inv();
  const NetConf* conf = &call.conf();
  const std::string& version = call.version();
  if (inv->command == "CHECK" && CompareVersions(version, "0.4.0") < 0) {
    return fail(CniCode::kIncompatibleVersion,
                "config version does not allow CHECK (cniVersion " + version + " < 0.4.0)");
  }
  if (inv->command == "GC" || inv->command == "STATUS") return 0;
  if (inv->command != "ADD" && inv->command != "DEL" && inv->command != "CHECK") {
    return fail(CniCode::kInvalidEnvironment, "unknown CNI_COMMAND " + inv->command);
  }
  Context ctx;
  ctx.inv = *inv;
  ctx.conf = *conf;
  ctx.env = env;
  ctx.stdin_text = std::string(stdin_text);
  auto test_ns = inv->args.find("CNI_TEST_NAMESPACE");
  if (test_ns != inv->args.end() && !test_ns->second.empty()) ctx.ns = test_ns->second;
  auto pod_ns = inv->args.find("K8S_POD_NAMESPACE");
  auto pod_name = inv->args.find("K8S_POD_NAME");
  if (pod_ns != inv->args.end() && pod_name != inv->args.end() && !pod_ns->second.empty() &&
      !pod_name->second.empty()) {
    ctx.orchestrator = "k8s";
    ctx.ns = pod_ns->second;
    ctx.pod = pod_name->second;
  }
  if (Status st = CheckNodenameFile(ctx.conf); !st)
    return fail(CniCode::kInvalidConfig, st.error().message());
  ctx.node = DetermineNodename(ctx.conf);
  ctx.store = call.OpenDatastore();
  if (!ctx.store) return call.exit_code();
  ctx.backend = std::make_unique<datastore::ReadAheadBackend>(*ctx.store);
  ctx.client = std::make_unique<datastore::Client>(*ctx.backend);
  PrefetchFirstReads(ctx);
  if (Status st = CheckClusterReady(*ctx.client); !st)
    return fail(CniCode::kTryAgainLater, st.error().message());

  if (inv->command == "ADD") return call.PrintAddResult(Add(ctx));
  if (inv->command == "DEL") {
    Status st = Del(ctx);
    if (!st) return fail(CniCode::kTryAgainLater, st.error().message());
    return 0;
  }
  Status st = Check(ctx);
  if (!st) return fail(CniCode::kUnknownContainer, st.error().message());
  return 0;
}

}  // namespace calico::cni
