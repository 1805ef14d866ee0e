// The lab layout; see layout.h.
#include "calico/lab/layout.h"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "calico/base/strings.h"

namespace calico::lab {

using Json = nlohmann::ordered_json;

std::string HostName(int index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "calico-%02d", index);
  return buf;
}

int HostIndex(std::string_view host) {
  if (!host.starts_with("calico-") || host.size() != 9) return 0;
  int n = 0;
  for (char c : host.substr(7)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n;
}

std::string HostNetns(std::string_view host) {
  return std::string(kNetnsPrefix) + std::string(host);
}
std::string WorkloadNetns(std::string_view workload) {
  return std::string(kWorkloadNetnsPrefix) + std::string(workload);
}
std::string NetnsPath(std::string_view netns) {
  return std::string(kNetnsDir) + "/" + std::string(netns);
}
std::string HostAddressV4(int index) {
  return "198.18.0." + std::to_string(10 + index);
}
std::string HostAddressV6(int index) {
  return "fd00:198:18::" + std::to_string(10 + index);
}
std::string FabricPort(std::string_view host) {
  return std::string(host);
}
std::string EtcdMemberName(int member) {
  return member == 0 ? "etcd" : "etcd-" + std::to_string(member);
}
int EtcdMemberIndex(std::string_view name) {
  if (name == "etcd") return 0;
  if (!name.starts_with("etcd-") || name.size() != 6) return -1;
  int n = name[5] - '0';
  return n >= 1 && n < kMaxEtcdMembers ? n : -1;
}
std::string EtcdMemberAddress(int member) {
  return "198.18.0." + std::to_string(1 + member);
}
std::string EtcdEndpoints(const LabConfig& config) {
  std::string out;
  for (int i = 0; i < std::max(1, config.etcd_members); ++i) {
    out += (i == 0 ? "" : ",") + std::string("http://") + EtcdMemberAddress(i) + ":2379";
  }
  return out;
}

std::string ConflistJson(const LabConfig& config, const Paths& paths, std::string_view host,
                         std::string_view net) {
  Json plugin;
  plugin["type"] = "calico";
  plugin["log_level"] = "info";
  plugin["nodename"] = std::string(host);
  plugin["mtu"] = config.backend == Backend::kVxlan ? kCniMtuVxlan : kCniMtu;
  plugin["ipam_lock_file"] = paths.IpamLock(host);
  if (config.datastore == Datastore::kEtcd) {
    plugin["datastore_type"] = "etcdv3";
    plugin["etcd_endpoints"] = EtcdEndpoints(config);
  } else {
    plugin["datastore_type"] = "local";
    plugin["datastore_path"] = paths.DatastoreFile();
  }
  Json ipam;
  ipam["type"] = "calico-ipam";
  if (config.ipv6) {
    ipam["assign_ipv4"] = "true";
    ipam["assign_ipv6"] = "true";
  }
  plugin["ipam"] = ipam;
  if (net == kK8sNetworkName) plugin["policy"] = Json{{"type", "k8s"}};
  Json list;
  list["cniVersion"] = std::string(kCniVersion);
  list["name"] = std::string(net);
  list["plugins"] = Json::array({plugin});
  return list.dump(2) + "\n";
}

std::string PodArgsJson(const std::map<std::string, std::string>& labels,
                        const std::vector<PodPort>& ports) {
  if (labels.empty() && ports.empty()) return "";
  Json cni = Json::object();
  if (!labels.empty()) {
    Json l = Json::array();
    for (const auto& [k, v] : labels) {
      l.push_back({{"key", k}, {"value", v}});
    }
    cni["labels"] = l;
  }
  if (!ports.empty()) {
    Json p = Json::array();
    for (const PodPort& port : ports) {
      p.push_back({{"name", port.name}, {"protocol", port.protocol}, {"containerPort", port.port}});
    }
    cni["ports"] = p;
  }
  return Json{{"cni", cni}}.dump();
}

std::string NamespaceYaml(std::string_view name) {
  // Quoted: a name such as `y` or `no` unquoted is a YAML 1.1 boolean (as in kubectl).
  return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \"" + std::string(name) + "\"\n";
}

Result<std::string> PluginConfig(std::string_view conflist_json, std::string_view prev_result_json,
                                 std::string_view args_json) {
  Json list = Json::parse(conflist_json, nullptr, false);
  if (list.is_discarded() || !list.is_object()) {
    return InvalidArgument("the network configuration list is not a JSON object");
  }
  if (!list.contains("plugins") || !list["plugins"].is_array() || list["plugins"].empty() ||
      !list["plugins"][0].is_object()) {
    return InvalidArgument("the network configuration list has no plugins");
  }
  Json conf = list["plugins"][0];
  conf["name"] = list.value("name", "");
  conf["cniVersion"] = list.value("cniVersion", "");
  if (!prev_result_json.empty()) {
    Json prev = Json::parse(prev_result_json, nullptr, false);
    if (!prev.is_discarded()) conf["prevResult"] = prev;
  }
  if (!args_json.empty()) {
    Json args = Json::parse(args_json, nullptr, false);
    if (args.is_discarded() || !args.is_object()) return InvalidArgument("bad pod args");
    conf["args"] = args;
  }
  return conf.dump();
}

EnvMap DatastoreEnv(const LabConfig& config, const Paths& paths) {
  if (config.datastore == Datastore::kEtcd) {
    return {{"DATASTORE_TYPE", "etcdv3"}, {"ETCD_ENDPOINTS", EtcdEndpoints(config)}};
  }
  return {{"DATASTORE_TYPE", "local"}, {"CALICO_DATASTORE_PATH", paths.DatastoreFile()}};
}

EnvMap HostEnv(const LabConfig& config, const Paths& paths, std::string_view host,
               const EnvMap& caller) {
  EnvMap env = caller;
  for (auto it = env.begin(); it != env.end();) {
    const std::string& k = it->first;
    bool conflicting = k == "CALICO_DATASTORE_TYPE" || k == "CALICO_DATASTORE_PATH" ||
                       k == "DATASTORE_PATH" || StartsWith(k, "CALICO_ETCD_") ||
                       StartsWith(k, "ETCD_") || StartsWith(k, "ETCDCTL_") ||
                       k == "CALICO_NODENAME_FILE" || k == "NODENAME";
    it = conflicting ? env.erase(it) : std::next(it);
  }
  for (auto& [k, v] : DatastoreEnv(config, paths)) {
    env[k] = v;
  }
  if (config.datastore == Datastore::kEtcd) {
    env["ETCDCTL_API"] = "3";
    env["ETCDCTL_ENDPOINTS"] = EtcdEndpoints(config);
  }
  env["NODENAME"] = std::string(host);
  env["CALICO_IPAM_LOCK_FILE"] = paths.IpamLock(host);
  env["CALICO_NODENAME_FILE"] = paths.NodenameFile(host);
  std::string path = caller.contains("PATH")
                         ? caller.at("PATH")
                         : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  env["PATH"] = config.bin_dir + ":" + path;
  env["CALICO_LAB_HOST"] = std::string(host);
  return env;
}

EnvMap NodeEnv(const LabConfig& config, const Paths& paths, std::string_view host,
               const EnvMap& caller) {
  EnvMap env = HostEnv(config, paths, host, caller);
  int index = HostIndex(host);
  env["IP"] = HostAddressV4(index) + "/" + std::to_string(kFabricPrefixV4);
  env["IP6"] = config.ipv6 ? HostAddressV6(index) + "/" + std::to_string(kFabricPrefixV6) : "none";
  env["CALICO_NETWORKING_BACKEND"] = std::string(BackendName(config.backend));
  env["NO_DEFAULT_POOLS"] = "true";
  return env;
}

EnvMap WorkloadEnv(const LabConfig& config, std::string_view workload, const EnvMap& caller) {
  EnvMap env = {
      {"PATH", config.bin_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/"},
      {"HOSTNAME", std::string(workload)},
  };
  if (auto it = caller.find("TERM"); it != caller.end()) env["TERM"] = it->second;
  return env;
}

EnvMap CniEnv(std::string_view command, std::string_view container_id, std::string_view netns,
              std::string_view ifname, std::string_view cni_path, std::string_view ip,
              std::string_view k8s_namespace, std::string_view pod_name) {
  EnvMap env = {
      {"CNI_COMMAND", std::string(command)},
      {"CNI_CONTAINERID", std::string(container_id)},
      {"CNI_NETNS", std::string(netns)},
      {"CNI_IFNAME", std::string(ifname)},
      {"CNI_PATH", std::string(cni_path)},
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
  };
  std::string args;
  if (!k8s_namespace.empty()) {
    args = "IgnoreUnknown=1;K8S_POD_NAMESPACE=" + std::string(k8s_namespace) +
           ";K8S_POD_NAME=" + std::string(pod_name) +
           ";K8S_POD_INFRA_CONTAINER_ID=" + std::string(container_id);
  }
  if (!ip.empty()) args += (args.empty() ? "IgnoreUnknown=1;IP=" : ";IP=") + std::string(ip);
  if (!args.empty()) env["CNI_ARGS"] = args;
  return env;
}

std::string PoolsYaml(const LabConfig& config) {
  std::string encap = config.backend == Backend::kVxlan ? "Always" : "Never";
  std::string yaml =
      "apiVersion: projectcalico.org/v3\n"
      "kind: IPPool\n"
      "metadata:\n"
      "  name: lab-ipv4-pool\n"
      "spec:\n"
      "  cidr: " +
      std::string(kPoolV4) +
      "\n"
      "  blockSize: 26\n"
      "  ipipMode: Never\n"
      "  vxlanMode: " +
      encap +
      "\n"
      "  natOutgoing: false\n"
      "  nodeSelector: all()\n";
  if (config.ipv6) {
    yaml +=
        "---\n"
        "apiVersion: projectcalico.org/v3\n"
        "kind: IPPool\n"
        "metadata:\n"
        "  name: lab-ipv6-pool\n"
        "spec:\n"
        "  cidr: " +
        std::string(kPoolV6) +
        "\n"
        "  blockSize: 122\n"
        "  vxlanMode: " +
        encap +
        "\n"
        "  natOutgoing: false\n"
        "  nodeSelector: all()\n";
  }
  return yaml;
}

std::string FlowLogsFelixYaml() {
  return "apiVersion: projectcalico.org/v3\n"
         "kind: FelixConfiguration\n"
         "metadata:\n"
         "  name: default\n"
         "spec:\n"
         "  flowLogsGoldmaneServer: " +
         std::string(kFlowsServer) +
         "\n"
         "  flowLogsFlushInterval: " +
         std::string(kLabFlowLogsFlushInterval) + "\n";
}

std::vector<std::string> EnvStrings(const EnvMap& env) {
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) {
    out.push_back(k + "=" + v);
  }
  return out;
}

}  // namespace calico::lab
