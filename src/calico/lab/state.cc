// The lab's state directory; see state.h.
#include "calico/lab/state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/base/unique_fd.h"

namespace calico::lab {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

Result<Json> ParseObject(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return InvalidArgument(std::string(what) + " is not a JSON object");
  }
  return j;
}

template <typename T>
Result<T> Field(const Json& j, const char* key, std::string_view what) {
  if (!j.contains(key)) return InvalidArgument(std::string(what) + ": missing \"" + key + "\"");
  try {
    return j.at(key).get<T>();
  } catch (const Json::exception&) {
    return InvalidArgument(std::string(what) + ": \"" + key + "\" has the wrong type");
  }
}

template <typename T>
Result<T> OptionalField(const Json& j, const char* key, std::string_view what, T fallback) {
  if (!j.contains(key)) return fallback;
  return Field<T>(j, key, what);
}

}  // namespace

std::string LabConfigToJson(const LabConfig& config) {
  Json j;
  j["hosts"] = config.hosts;
  j["datastore"] = std::string(DatastoreName(config.datastore));
  j["backend"] = std::string(BackendName(config.backend));
  j["ipv6"] = config.ipv6;
  j["bin_dir"] = config.bin_dir;
  j["node_command"] = config.node_command;
  j["controllers"] = config.controllers;
  j["etcd_members"] = config.etcd_members;
  return j.dump(2) + "\n";
}

Result<LabConfig> LabConfigFromJson(std::string_view text) {
  constexpr std::string_view kWhat = "lab.json";
  ASSIGN_OR_RETURN(Json j, ParseObject(text, kWhat));
  LabConfig c;
  ASSIGN_OR_RETURN(c.hosts, Field<std::vector<std::string>>(j, "hosts", kWhat));
  ASSIGN_OR_RETURN(std::string datastore, Field<std::string>(j, "datastore", kWhat));
  ASSIGN_OR_RETURN(c.datastore, ParseDatastore(datastore));
  ASSIGN_OR_RETURN(std::string backend, Field<std::string>(j, "backend", kWhat));
  ASSIGN_OR_RETURN(c.backend, ParseBackend(backend));
  ASSIGN_OR_RETURN(c.ipv6, OptionalField<bool>(j, "ipv6", kWhat, false));
  ASSIGN_OR_RETURN(c.bin_dir, Field<std::string>(j, "bin_dir", kWhat));
  ASSIGN_OR_RETURN(c.node_command, Field<std::vector<std::string>>(j, "node_command", kWhat));
  ASSIGN_OR_RETURN(c.controllers, OptionalField<bool>(j, "controllers", kWhat, true));
  ASSIGN_OR_RETURN(c.etcd_members, OptionalField<int>(j, "etcd_members", kWhat, 1));
  if (c.etcd_members < 1 || c.etcd_members > kMaxEtcdMembers) {
    return InvalidArgument("lab.json: invalid etcd_members " + std::to_string(c.etcd_members));
  }
  for (const std::string& h : c.hosts) {
    if (HostIndex(h) == 0) return InvalidArgument("lab.json: invalid host name \"" + h + "\"");
  }
  return c;
}

std::string WorkloadToJson(const WorkloadRecord& w) {
  Json j;
  j["name"] = w.name;
  j["host"] = w.host;
  j["netns"] = w.netns;
  j["container_id"] = w.container_id;
  if (!w.requested_ip.empty()) j["requested_ip"] = w.requested_ip;
  j["argv"] = w.argv;
  Json nets = Json::array();
  for (const WorkloadNet& n : w.nets) {
    Json e;
    e["name"] = n.name;
    e["ifname"] = n.ifname;
    e["ips"] = n.ips;
    e["result"] = n.result;
    nets.push_back(std::move(e));
  }
  j["nets"] = std::move(nets);
  j["pid"] = w.process.pid;
  j["start_time"] = w.process.start_time;
  j["created"] = w.created;
  if (!w.k8s_namespace.empty()) {
    j["k8s_namespace"] = w.k8s_namespace;
    j["labels"] = w.labels;
    Json ports = Json::array();
    for (const PodPort& p : w.ports) {
      ports.push_back({{"name", p.name}, {"port", p.port}, {"protocol", p.protocol}});
    }
    j["ports"] = std::move(ports);
  }
  return j.dump(2) + "\n";
}

Result<WorkloadRecord> WorkloadFromJson(std::string_view text) {
  constexpr std::string_view kWhat = "workload.json";
  ASSIGN_OR_RETURN(Json j, ParseObject(text, kWhat));
  WorkloadRecord w;
  ASSIGN_OR_RETURN(w.name, Field<std::string>(j, "name", kWhat));
  ASSIGN_OR_RETURN(w.host, Field<std::string>(j, "host", kWhat));
  ASSIGN_OR_RETURN(w.netns, Field<std::string>(j, "netns", kWhat));
  ASSIGN_OR_RETURN(w.container_id, Field<std::string>(j, "container_id", kWhat));
  ASSIGN_OR_RETURN(w.requested_ip, OptionalField<std::string>(j, "requested_ip", kWhat, ""));
  ASSIGN_OR_RETURN(w.argv, OptionalField<std::vector<std::string>>(j, "argv", kWhat, {}));
  if (j.contains("nets")) {
    if (!j["nets"].is_array()) return InvalidArgument("workload.json: \"nets\" is not a list");
    for (const Json& e : j["nets"]) {
      WorkloadNet n;
      ASSIGN_OR_RETURN(n.name, Field<std::string>(e, "name", kWhat));
      ASSIGN_OR_RETURN(n.ifname, Field<std::string>(e, "ifname", kWhat));
      ASSIGN_OR_RETURN(n.ips, OptionalField<std::vector<std::string>>(e, "ips", kWhat, {}));
      ASSIGN_OR_RETURN(n.result, OptionalField<std::string>(e, "result", kWhat, ""));
      w.nets.push_back(std::move(n));
    }
  }
  ASSIGN_OR_RETURN(w.process.pid, OptionalField<int>(j, "pid", kWhat, 0));
  ASSIGN_OR_RETURN(w.process.start_time, OptionalField<uint64_t>(j, "start_time", kWhat, 0));
  ASSIGN_OR_RETURN(w.created, OptionalField<int64_t>(j, "created", kWhat, 0));
  ASSIGN_OR_RETURN(w.k8s_namespace, OptionalField<std::string>(j, "k8s_namespace", kWhat, ""));
  ASSIGN_OR_RETURN(w.labels,
                   (OptionalField<std::map<std::string, std::string>>(j, "labels", kWhat, {})));
  if (j.contains("ports") && j["ports"].is_array()) {
    for (const Json& e : j["ports"]) {
      PodPort p;
      ASSIGN_OR_RETURN(p.name, Field<std::string>(e, "name", kWhat));
      ASSIGN_OR_RETURN(p.port, Field<int>(e, "port", kWhat));
      ASSIGN_OR_RETURN(p.protocol, OptionalField<std::string>(e, "protocol", kWhat, "TCP"));
      w.ports.push_back(std::move(p));
    }
  }
  // The namespace is always the lab's own; a record cannot point `rm` at another one.
  if (w.netns != WorkloadNetns(w.name)) {
    return InvalidArgument("workload.json: netns \"" + w.netns + "\" is not the lab's " +
                           WorkloadNetns(w.name));
  }
  return w;
}

std::string PidFileText(const ProcessRef& ref) {
  return std::to_string(ref.pid) + " " + std::to_string(ref.start_time) + "\n";
}

Result<ProcessRef> ParsePidFile(std::string_view text) {
  std::vector<std::string> words = StrSplit(StrTrim(text), ' ', true);
  auto bad = [&] {
    return InvalidArgument("invalid pid file contents \"" + std::string(StrTrim(text)) + "\"");
  };
  if (words.empty() || words.size() > 2) return bad();
  ProcessRef ref;
  auto pid = ParseInt<decltype(ref.pid)>(words[0]);
  if (!pid || *pid <= 1) return bad();
  ref.pid = *pid;
  if (words.size() == 2) {
    auto start_time = ParseInt<decltype(ref.start_time)>(words[1]);
    if (!start_time) return bad();
    ref.start_time = *start_time;
  }
  return ref;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected(Error::FromErrno(errno, "open " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, std::string_view contents) {
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec) return Internal("create " + fs::path(path).parent_path().string() + ": " + ec.message());
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return Unexpected(Error::FromErrno(errno, "create " + tmp));
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      fd.reset();
      ::unlink(tmp.c_str());
      return Unexpected(Error::FromErrno(err, "write " + tmp));
    }
    done += static_cast<size_t>(n);
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Unexpected(Error::FromErrno(err, "rename " + tmp));
  }
  return OkStatus();
}

bool StateDir::Exists() const {
  std::error_code ec;
  return fs::exists(paths_.root(), ec);
}

Result<LabConfig> StateDir::LoadConfig() const {
  std::error_code ec;
  if (!fs::exists(paths_.LabJson(), ec)) return NotFound("lab is not up: run calico-lab up");
  ASSIGN_OR_RETURN(std::string text, ReadFile(paths_.LabJson()));
  auto config = LabConfigFromJson(text);
  if (!config) {
    return InvalidArgument(paths_.LabJson() + " is corrupt (" + config.error().message() +
                           "): run calico-lab down");
  }
  return config;
}

Status StateDir::SaveConfig(const LabConfig& config) const {
  return WriteFileAtomic(paths_.LabJson(), LabConfigToJson(config));
}

std::vector<std::string> StateDir::WorkloadNames() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(paths_.WorkloadsDir(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory(ec)) names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool StateDir::HasWorkload(std::string_view name) const {
  std::error_code ec;
  return fs::exists(paths_.WorkloadDir(name), ec);
}

Result<WorkloadRecord> StateDir::LoadWorkload(std::string_view name) const {
  if (!HasWorkload(name)) {
    std::vector<std::string> names = WorkloadNames();
    return NotFound(
        "no workload " + std::string(name) +
        (names.empty() ? " (no workloads)" : " (workloads: " + StrJoin(names, ", ") + ")"));
  }
  ASSIGN_OR_RETURN(std::string text, ReadFile(paths_.WorkloadJson(name)));
  auto w = WorkloadFromJson(text);
  if (!w) return InvalidArgument(paths_.WorkloadJson(name) + ": " + w.error().message());
  return w;
}

Status StateDir::SaveWorkload(const WorkloadRecord& workload) const {
  return WriteFileAtomic(paths_.WorkloadJson(workload.name), WorkloadToJson(workload));
}

std::vector<WorkloadRecord> StateDir::ListWorkloads() const {
  std::vector<WorkloadRecord> out;
  for (const std::string& name : WorkloadNames()) {
    auto w = LoadWorkload(name);
    if (w && w->name == name) {
      out.push_back(std::move(*w));
    } else {
      WorkloadRecord partial;
      partial.name = name;
      partial.netns = WorkloadNetns(name);
      out.push_back(std::move(partial));
    }
  }
  return out;
}

Status StateDir::RemoveWorkload(std::string_view name) const {
  std::error_code ec;
  fs::remove_all(paths_.WorkloadDir(name), ec);
  if (ec) return Internal("remove " + paths_.WorkloadDir(name) + ": " + ec.message());
  return OkStatus();
}

Status StateDir::SavePid(const std::string& path, const ProcessRef& ref) const {
  return WriteFileAtomic(path, PidFileText(ref));
}

std::vector<std::pair<std::string, ProcessRef>> StateDir::PidFiles() const {
  std::vector<std::pair<std::string, ProcessRef>> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(paths_.root(), ec);
  for (fs::recursive_directory_iterator end; !ec && it != end; it.increment(ec)) {
    const fs::path& p = it->path();
    if (it->is_directory(ec) &&
        (p == fs::path(paths_.WorkloadsDir()) || p.parent_path() == fs::path(paths_.FabricDir()) ||
         p == fs::path(paths_.DatastoreDir()))) {  // (the fabric's directories are etcd data)
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec) || p.extension() != ".pid") continue;
    auto text = ReadFile(p.string());
    if (!text) continue;
    auto ref = ParsePidFile(*text);
    if (ref) out.emplace_back(p.string(), *ref);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Status StateDir::RemoveAll() const {
  std::error_code ec;
  fs::remove_all(paths_.root(), ec);
  if (ec) return Internal("remove " + paths_.root() + ": " + ec.message());
  return OkStatus();
}

Status CheckHost(const LabConfig& config, std::string_view host) {
  if (std::find(config.hosts.begin(), config.hosts.end(), host) != config.hosts.end()) {
    return OkStatus();
  }
  return NotFound("no host " + std::string(host) + " (hosts: " + StrJoin(config.hosts, ", ") + ")");
}

}  // namespace calico::lab
