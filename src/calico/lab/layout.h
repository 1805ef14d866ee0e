// The lab's fixed layout: names, addresses, state-directory paths, and the text the lab hands to
// the programs it drives (CNI network configs, environments). Pure functions, so the whole layout
// is unit-tested without namespaces.
//
//   netns calico-lab-fabric     bridge fabric0 198.18.0.1/24 (fd00:198:18::1/64 with --ipv6);
//                               etcd on 198.18.0.1:2379 with --datastore etcd; with
//                               --etcd-members 3 members etcd-1, etcd-2 on 198.18.0.2, .3
//   netns calico-lab-calico-NN  eth0 198.18.0.(10+N)/24, default via 198.18.0.1; its veth peer
//                               calico-NN is a port of fabric0; forwarding on
//   netns calico-lab-wl-NAME    a workload, wired by the calico CNI plugin run in its host's netns
//   pools                       198.19.0.0/16 (blocks /26), fd00:198:19::/48 with --ipv6
//
//   STATE/lab.json              LabConfig
//   STATE/datastore/calico.db   the local datastore shared by every host
//   STATE/fabric/etcd.pid etcd.log etcd/      the etcd of --datastore etcd (etcd-N.pid ... for
//                                             the other members)
//   STATE/fabric/controllers.pid controllers.log   calico-controllers (in the fabric netns)
//   STATE/fabric/flows.pid flows.log   calico-flows (in the fabric netns, on 198.18.0.1:7443;
//                               the nodes' FelixConfiguration flowLogsGoldmaneServer)
//   STATE/<host>/nodename node.pid node.log ipam.lock net.d/10-calico-<net>.conflist
//   STATE/workloads/<name>/workload.json log root/   (root/ is the workload's working directory)
//
// A pid file holds "PID STARTTIME" (STARTTIME from /proc/PID/stat, so a reused PID is never
// taken for the process the lab started); a bare "PID" (BIRD's -P file) is also read.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calico/lab/args.h"

namespace calico::lab {

inline constexpr std::string_view kNetnsPrefix = "calico-lab-";
inline constexpr std::string_view kFabricNetns = "calico-lab-fabric";
inline constexpr std::string_view kWorkloadNetnsPrefix = "calico-lab-wl-";
inline constexpr std::string_view kFabricBridge = "fabric0";
inline constexpr std::string_view kFabricGatewayV4 = "198.18.0.1";
inline constexpr std::string_view kFabricGatewayV6 = "fd00:198:18::1";
inline constexpr int kFabricPrefixV4 = 24;
inline constexpr int kFabricPrefixV6 = 64;
inline constexpr std::string_view kPoolV4 = "198.19.0.0/16";
inline constexpr std::string_view kPoolV6 = "fd00:198:19::/48";
inline constexpr std::string_view kEtcdEndpoint = "http://198.18.0.1:2379";  // member 0
inline constexpr int kMaxEtcdMembers = 5;
// calico-flows in the fabric namespace (Goldmane's port): every host reaches it, and so does
// `calicoctl flows` run through `calico-lab host` (its default server, flows/flows_command.h).
inline constexpr std::string_view kFlowsServer = "198.18.0.1:7443";
inline constexpr std::string_view kFlowsListen = ":7443";
// The nodes' flush interval in the lab: short, so a flow shows within seconds (upstream: 15s).
inline constexpr std::string_view kLabFlowLogsFlushInterval = "1s";
inline constexpr std::string_view kNetnsDir = "/run/netns";
inline constexpr std::string_view kDefaultStateDir = "/run/calico-lab";
inline constexpr int kCniMtu = 1500;       // the fabric's MTU
inline constexpr int kCniMtuVxlan = 1450;  // minus the VXLAN header
inline constexpr std::string_view kCniVersion = "0.4.0";

using EnvMap = std::map<std::string, std::string>;

// "calico-01" for 1.
std::string HostName(int index);
// 1 for "calico-01"; 0 when `host` is not a lab host name.
int HostIndex(std::string_view host);
std::string HostNetns(std::string_view host);          // calico-lab-calico-01
std::string WorkloadNetns(std::string_view workload);  // calico-lab-wl-web
std::string NetnsPath(std::string_view netns);         // /run/netns/<netns>
std::string HostAddressV4(int index);                  // 198.18.0.11
std::string HostAddressV6(int index);                  // fd00:198:18::11
std::string FabricPort(std::string_view host);         // calico-01 (the fabric side of the veth)
std::string EtcdMemberName(int member);                // "etcd" for 0, else "etcd-N"
// The member number of "etcd" / "etcd-N"; -1 when `name` is not an etcd member name.
int EtcdMemberIndex(std::string_view name);
std::string EtcdMemberAddress(int member);  // 198.18.0.(1 + member)

// What `up` decided, stored as STATE/lab.json; every later command reads it.
struct LabConfig {
  std::vector<std::string> hosts;
  Datastore datastore = Datastore::kLocal;
  Backend backend = Backend::kBird;
  bool ipv6 = false;
  std::string bin_dir;
  std::vector<std::string> node_command;
  int etcd_members = 1;     // --etcd-members (datastore etcd)
  bool controllers = true;  // calico-controllers runs in the fabric namespace
  bool operator==(const LabConfig&) const = default;
};

// http://198.18.0.1:2379,... one per etcd member.
std::string EtcdEndpoints(const LabConfig& config);

class Paths {
 public:
  explicit Paths(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }
  std::string LabJson() const { return root_ + "/lab.json"; }
  // Beside the state directory, so that `down` can hold it while it removes the directory.
  std::string Lock() const { return root_ + ".lock"; }
  std::string DatastoreDir() const { return root_ + "/datastore"; }
  std::string DatastoreFile() const { return DatastoreDir() + "/calico.db"; }
  std::string FabricDir() const { return root_ + "/fabric"; }
  std::string EtcdPid(int member = 0) const {
    return FabricDir() + "/" + EtcdMemberName(member) + ".pid";
  }
  std::string EtcdLog(int member = 0) const {
    return FabricDir() + "/" + EtcdMemberName(member) + ".log";
  }
  std::string EtcdData(int member = 0) const { return FabricDir() + "/" + EtcdMemberName(member); }
  std::string ControllersPid() const { return FabricDir() + "/controllers.pid"; }
  std::string ControllersLog() const { return FabricDir() + "/controllers.log"; }
  std::string FlowsPid() const { return FabricDir() + "/flows.pid"; }
  std::string FlowsLog() const { return FabricDir() + "/flows.log"; }
  std::string HostDir(std::string_view host) const { return root_ + "/" + std::string(host); }
  std::string NetD(std::string_view host) const { return HostDir(host) + "/net.d"; }
  std::string Conflist(std::string_view host, std::string_view net) const {
    return NetD(host) + "/10-calico-" + std::string(net) + ".conflist";
  }
  std::string NodenameFile(std::string_view host) const { return HostDir(host) + "/nodename"; }
  std::string NodePid(std::string_view host) const { return HostDir(host) + "/node.pid"; }
  std::string NodeLog(std::string_view host) const { return HostDir(host) + "/node.log"; }
  // The host-wide IPAM lock of the host's CNI plugins (each lab host is its own Calico host).
  std::string IpamLock(std::string_view host) const { return HostDir(host) + "/ipam.lock"; }
  std::string WorkloadsDir() const { return root_ + "/workloads"; }
  std::string WorkloadDir(std::string_view name) const {
    return WorkloadsDir() + "/" + std::string(name);
  }
  std::string WorkloadJson(std::string_view name) const {
    return WorkloadDir(name) + "/workload.json";
  }
  std::string WorkloadLog(std::string_view name) const { return WorkloadDir(name) + "/log"; }
  std::string WorkloadRoot(std::string_view name) const { return WorkloadDir(name) + "/root"; }

 private:
  std::string root_;
};

// The conflist a host's net.d gets for network `net` (cniVersion 0.4.0, one calico plugin with
// calico-ipam, the host's node name and the lab's datastore settings; for k8s-pod-network also
// "policy": {"type": "k8s"}, as in Calico's Kubernetes manifests).
std::string ConflistJson(const LabConfig& config, const Paths& paths, std::string_view host,
                         std::string_view net);
// The network configuration a runtime passes on the plugin's stdin for the first plugin of a
// conflist (libcni: the plugin object plus the list's name and cniVersion, and prevResult when
// given). Errors: kInvalidArgument for a conflist without plugins.
// `args_json` (a JSON object, "" = none) becomes the config's "args" (a pod's labels and ports
// as args.cni.labels / args.cni.ports).
[[nodiscard]] Result<std::string> PluginConfig(std::string_view conflist_json,
                                               std::string_view prev_result_json = "",
                                               std::string_view args_json = "");
// {"cni": {"labels": [{"key", "value"}...], "ports": [{"name", "protocol", "containerPort"}...]}}
// for a pod's labels and named ports; "" when it has neither.
std::string PodArgsJson(const std::map<std::string, std::string>& labels,
                        const std::vector<PodPort>& ports);

// The datastore variables every program on a host gets (calicoctl's environment variables).
EnvMap DatastoreEnv(const LabConfig& config, const Paths& paths);
// `host HOST -- CMD`: the caller's environment with the host's settings on top: the datastore,
// NODENAME, CALICO_NODENAME_FILE, PATH starting with the bin directory, and etcdctl's endpoint.
// Prefixed variants that would win over the lab's (CALICO_DATASTORE_TYPE, CALICO_ETCD_*) go.
EnvMap HostEnv(const LabConfig& config, const Paths& paths, std::string_view host,
               const EnvMap& caller);
// The node process: HostEnv plus start-up's IP/IP6, CALICO_NETWORKING_BACKEND and
// NO_DEFAULT_POOLS (the lab makes its own pools).
EnvMap NodeEnv(const LabConfig& config, const Paths& paths, std::string_view host,
               const EnvMap& caller);
// A workload process: a container's small environment (PATH with the bin directory, HOME,
// HOSTNAME=<workload>, TERM when the caller has one).
EnvMap WorkloadEnv(const LabConfig& config, std::string_view workload, const EnvMap& caller);
// The CNI plugin's environment, as a runtime sets it; a pod (k8s_namespace non-empty) gets
// CNI_ARGS as the kubelet passes them (K8S_POD_NAMESPACE, K8S_POD_NAME,
// K8S_POD_INFRA_CONTAINER_ID).
EnvMap CniEnv(std::string_view command, std::string_view container_id, std::string_view netns,
              std::string_view ifname, std::string_view cni_path, std::string_view ip,
              std::string_view k8s_namespace = "", std::string_view pod_name = "");
// A Namespace document (for `calicoctl create`), as `kubectl create namespace` makes it.
std::string NamespaceYaml(std::string_view name);

// The lab's IPPools as calicoctl YAML.
std::string PoolsYaml(const LabConfig& config);
// FelixConfiguration default sending flow records to the lab's calico-flows
// (flowLogsGoldmaneServer) every kLabFlowLogsFlushInterval.
std::string FlowLogsFelixYaml();

// "K=V" strings for execve.
std::vector<std::string> EnvStrings(const EnvMap& env);

}  // namespace calico::lab
