// calico-lab's commands; see lab.h. Reproduces what an operator does by hand in Calico's
// multi-host tutorials (the rkt and Docker getting-started guides): hosts on one L2 network, a
// shared datastore, calico-node on every host, and a CNI runtime calling the calico plugins.
// Size: over 700 lines because it holds every calico-lab command (up, down, run, host, list,
// tutorial) over one shared state; each command is one function.
#include "calico/lab/lab.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "calico/base/random.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"
#include "calico/dataplane/netns.h"
#include "calico/lab/process.h"

namespace calico::lab {
namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr milliseconds kCniTimeout{60000};
constexpr milliseconds kCtlTimeout{30000};
constexpr milliseconds kStopGrace{5000};

bool NetnsExists(std::string_view netns) {
  std::error_code ec;
  return fs::exists(NetnsPath(netns), ec);
}

std::string Tail(const std::string& path, size_t lines) {
  auto text = ReadFile(path);
  if (!text) return "";
  std::vector<std::string> all = StrSplit(*text, '\n', true);
  size_t from = all.size() > lines ? all.size() - lines : 0;
  std::string out;
  for (size_t i = from; i < all.size(); ++i) {
    out += "  | " + all[i] + "\n";
  }
  return out;
}

// The "address" of every entry of a CNI result's "ips" (0.3.0+) without the prefix length; also
// the 0.2.0 "ip4"/"ip6" form.
std::vector<std::string> ResultIPs(std::string_view result) {
  std::vector<std::string> ips;
  auto j = nlohmann::json::parse(result, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return ips;
  auto add = [&](const nlohmann::json& cidr) {
    if (!cidr.is_string()) return;
    std::string s = cidr.get<std::string>();
    ips.push_back(s.substr(0, s.find('/')));
  };
  if (j.contains("ips") && j["ips"].is_array()) {
    for (const auto& ip : j["ips"]) {
      if (ip.is_object() && ip.contains("address")) add(ip["address"]);
    }
  }
  for (const char* key : {"ip4", "ip6"}) {
    if (j.contains(key) && j[key].is_object() && j[key].contains("ip")) add(j[key]["ip"]);
  }
  return ips;
}

// "msg: details" from a CNI error result, else the raw output.
std::string CniErrorText(const Completed& run) {
  auto j = nlohmann::json::parse(run.out, nullptr, false);
  std::string text;
  if (!j.is_discarded() && j.is_object() && j.contains("msg") && j["msg"].is_string()) {
    text = j["msg"].get<std::string>();
    if (j.contains("details") && j["details"].is_string() &&
        !j["details"].get<std::string>().empty()) {
      text += ": " + j["details"].get<std::string>();
    }
  } else {
    text = std::string(StrTrim(run.out));
  }
  std::string err(StrTrim(run.err));
  if (!err.empty()) text += (text.empty() ? "" : " (stderr: ") + err + (text.empty() ? "" : ")");
  if (text.empty()) text = "exit status " + std::to_string(run.status);
  return text;
}

// Connects to ip:port from inside `netns_path` within `timeout`.
bool TcpReachable(const std::string& netns_path, const std::string& ip, int port,
                  milliseconds timeout) {
  auto ns = dataplane::NetnsFd::Open(netns_path);
  if (!ns) return false;
  Status st = dataplane::RunInNetns(*ns, [&]() -> Status {
    UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!sock) return Unexpected(Error::FromErrno(errno, "socket"));
    const int fd = sock.get();
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    int r = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      r = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1 ? 0 : -1;
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (r == 0 &&
          (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0)) {
        r = -1;
      }
    }
    if (r != 0) return Unavailable("not reachable");
    return OkStatus();
  });
  return st.has_value();
}

// A table with columns padded to the widest cell.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

// An exclusive flock on STATE.lock for the commands that change the lab.
class Lab::Lock {
 public:
  static Result<Lock> Take(const Paths& paths, std::ostream& err) {
    std::error_code ec;
    fs::create_directories(fs::path(paths.Lock()).parent_path(), ec);
    UniqueFd fd(::open(paths.Lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) return Unexpected(Error::FromErrno(errno, "open " + paths.Lock()));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      err << "calico-lab: waiting for another calico-lab command (" << paths.Lock() << ")\n";
      if (::flock(fd.get(), LOCK_EX) != 0) {
        return Unexpected(Error::FromErrno(errno, "lock " + paths.Lock()));
      }
    }
    return Lock(std::move(fd));
  }

 private:
  explicit Lock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // the flock goes with the descriptor
};

std::string StateDirFor(const GlobalOptions& global, const EnvMap& env) {
  std::string dir = global.state_dir;
  if (dir.empty() && env.contains("CALICO_LAB_STATE_DIR")) dir = env.at("CALICO_LAB_STATE_DIR");
  if (dir.empty()) dir = std::string(kDefaultStateDir);
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec);
  std::string s = (ec ? fs::path(dir) : abs).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') {
    s.pop_back();
  }
  return s;
}

Lab::Lab(GlobalOptions global, EnvMap env, std::string self_dir, std::ostream& out,
         std::ostream& err)
    : global_(std::move(global)),
      env_(std::move(env)),
      self_dir_(std::move(self_dir)),
      out_(out),
      err_(err),
      state_(StateDirFor(global_, env_)) {}

void Lab::Note(const std::string& text) {
  err_ << "calico-lab: " << text << "\n";
}

std::string Lab::BinDir() const {
  std::string dir = global_.bin_dir;
  if (dir.empty() && env_.contains("CALICO_LAB_BIN")) dir = env_.at("CALICO_LAB_BIN");
  if (dir.empty()) dir = self_dir_;
  std::error_code ec;
  fs::path abs = fs::absolute(dir, ec);
  return (ec ? fs::path(dir) : abs).lexically_normal().string();
}

std::string Lab::ResolveBinary(const std::string& name, const std::string& bin_dir) const {
  if (name.find('/') != std::string::npos) return name;
  std::string in_bin = bin_dir + "/" + name;
  if (IsExecutable(in_bin)) return in_bin;
  return FindProgram(name,
                     env_.contains("PATH") ? env_.at("PATH") : "/usr/sbin:/usr/bin:/sbin:/bin");
}

Status Lab::Sh(const std::vector<std::string>& argv) {
  if (global_.verbose) err_ << "+ " << StrJoin(argv, " ") << "\n";
  ASSIGN_OR_RETURN(
      Completed done,
      RunCaptured({.argv = argv, .env = env_, .netns_path = "", .cwd = ""}, "", kCtlTimeout));
  if (done.status != 0) {
    return Internal(StrJoin(argv, " ") + ": " +
                    std::string(StrTrim(done.err.empty() ? done.out : done.err)));
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------- up

Status Lab::Up(const UpCommand& up) {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  if (auto existing = state_.LoadConfig(); existing) {
    return AlreadyExists("lab is already up (hosts: " + StrJoin(existing->hosts, ", ") +
                         "): run calico-lab down first");
  }
  std::vector<std::string> leftovers = ListNetns(kNetnsPrefix);
  if (state_.Exists() || !leftovers.empty()) {
    std::string what = state_.Exists() ? "state " + state_.paths().root() : "";
    if (!leftovers.empty()) {
      what += (what.empty() ? "" : ", ") + std::string("namespaces ") + StrJoin(leftovers, " ");
    }
    return Conflict("leftovers of an earlier lab (" + what + "): run calico-lab down first");
  }

  LabConfig config;
  for (int i = 1; i <= up.hosts; ++i) {
    config.hosts.push_back(HostName(i));
  }
  config.datastore = up.datastore;
  config.etcd_members = up.datastore == Datastore::kEtcd ? up.etcd_members : 1;
  config.backend = up.backend;
  config.ipv6 = up.ipv6;
  config.bin_dir = BinDir();
  config.node_command = up.node_command;
  config.controllers = up.controllers;
  if (config.node_command.empty() && env_.contains("CALICO_LAB_NODE_CMD")) {
    config.node_command = SplitCommand(env_.at("CALICO_LAB_NODE_CMD"));
  }
  if (config.node_command.empty()) config.node_command = SplitCommand(kDefaultNodeCommand);

  std::vector<std::string> missing;
  for (const char* bin : {"calico", "calico-ipam", "calicoctl"}) {
    if (!IsExecutable(config.bin_dir + "/" + bin)) missing.emplace_back(bin);
  }
  std::string node = ResolveBinary(config.node_command[0], config.bin_dir);
  if (node.empty() || !IsExecutable(node)) {
    missing.push_back(config.node_command[0]);
  } else {
    config.node_command[0] = node;
  }
  if (config.datastore == Datastore::kEtcd && ResolveBinary("etcd", config.bin_dir).empty()) {
    missing.emplace_back("etcd");
  }
  if (config.controllers && !IsExecutable(config.bin_dir + "/calico-controllers")) {
    missing.emplace_back("calico-controllers (or up --no-controllers)");
  }
  if (!missing.empty()) {
    return NotFound("not found in " + config.bin_dir + " (or PATH): " + StrJoin(missing, ", ") +
                    " (point --bin or CALICO_LAB_BIN at the build's bin directory)");
  }

  Status st = UpSteps(config);
  if (!st) {
    Note("up failed; removing the partial lab");
    Status down = DownLocked(true);
    if (!down) Note("clean-up after the failed up: " + down.error().message());
    ::unlink(state_.paths().Lock().c_str());
    return Unexpected(std::move(st).error().Wrap("up"));
  }
  out_ << "lab up: " << config.hosts.size() << " hosts, datastore "
       << DatastoreName(config.datastore) << " ("
       << (config.datastore == Datastore::kEtcd ? EtcdEndpoints(config)
                                                : state_.paths().DatastoreFile())
       << "), backend " << BackendName(config.backend) << ", pool " << kPoolV4
       << (config.ipv6 ? " and " + std::string(kPoolV6) : "") << "\n";
  std::vector<std::vector<std::string>> rows = {{"HOST", "ADDRESS", "NODE PID", "LOG"}};
  for (const std::string& host : config.hosts) {
    auto pid = ReadFile(state_.paths().NodePid(host));
    auto ref = pid ? ParsePidFile(*pid) : Result<ProcessRef>(NotFound(""));
    rows.push_back({host, HostAddressV4(HostIndex(host)), ref ? std::to_string(ref->pid) : "-",
                    state_.paths().NodeLog(host)});
  }
  out_ << FormatTable(rows);
  if (HasFlows(config)) {
    out_ << "flows: calico-flows on http://" << kFlowsServer << " (calico-lab host "
         << config.hosts.front() << " calicoctl flows; its web page at the same address)\n";
  }
  if (config.node_command.size() >= 2 && config.node_command[1] == "-felix") {
    out_ << "note: the hosts run the policy agent only (" << StrJoin(config.node_command, " ")
         << "); routes between hosts need calico-node with BIRD or VXLAN\n";
  }
  return OkStatus();
}

Status Lab::UpSteps(const LabConfig& config) {
  const Paths& paths = state_.paths();
  RETURN_IF_ERROR(state_.SaveConfig(config));

  // The fabric: one bridge in its own namespace, the hosts' gateway (and etcd's address).
  const std::string fabric(kFabricNetns), bridge(kFabricBridge);
  RETURN_IF_ERROR(Sh({"ip", "netns", "add", fabric}));
  RETURN_IF_ERROR(Sh({"ip", "-n", fabric, "link", "set", "lo", "up"}));
  RETURN_IF_ERROR(Sh({"ip", "-n", fabric, "link", "add", bridge, "type", "bridge"}));
  RETURN_IF_ERROR(
      Sh({"ip", "-n", fabric, "addr", "add",
          std::string(kFabricGatewayV4) + "/" + std::to_string(kFabricPrefixV4), "dev", bridge}));
  if (config.ipv6) {
    RETURN_IF_ERROR(Sh({"ip", "-n", fabric, "-6", "addr", "add",
                        std::string(kFabricGatewayV6) + "/" + std::to_string(kFabricPrefixV6),
                        "dev", bridge, "nodad"}));
  }
  RETURN_IF_ERROR(Sh({"ip", "-n", fabric, "link", "set", bridge, "up"}));

  for (const std::string& host : config.hosts) {
    const int index = HostIndex(host);
    const std::string ns = HostNetns(host), port = FabricPort(host);
    RETURN_IF_ERROR(Sh({"ip", "netns", "add", ns}));
    RETURN_IF_ERROR(Sh({"ip", "-n", ns, "link", "set", "lo", "up"}));
    RETURN_IF_ERROR(Sh({"ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", port,
                        "netns", fabric}));
    RETURN_IF_ERROR(Sh({"ip", "-n", fabric, "link", "set", port, "master", bridge, "up"}));
    RETURN_IF_ERROR(
        Sh({"ip", "-n", ns, "addr", "add",
            HostAddressV4(index) + "/" + std::to_string(kFabricPrefixV4), "dev", "eth0"}));
    if (config.ipv6) {
      RETURN_IF_ERROR(Sh({"ip", "-n", ns, "-6", "addr", "add",
                          HostAddressV6(index) + "/" + std::to_string(kFabricPrefixV6), "dev",
                          "eth0", "nodad"}));
    }
    RETURN_IF_ERROR(Sh({"ip", "-n", ns, "link", "set", "eth0", "up"}));
    RETURN_IF_ERROR(
        Sh({"ip", "-n", ns, "route", "add", "default", "via", std::string(kFabricGatewayV4)}));
    if (config.ipv6) {
      RETURN_IF_ERROR(Sh(
          {"ip", "-n", ns, "-6", "route", "add", "default", "via", std::string(kFabricGatewayV6)}));
    }
    ASSIGN_OR_RETURN(auto ns_fd, dataplane::NetnsFd::Open(NetnsPath(ns)));
    Status forwarding = dataplane::RunInNetns(ns_fd, [&]() -> Status {
      RETURN_IF_ERROR(dataplane::WriteSysctl("net/ipv4/ip_forward", "1"));
      if (config.ipv6) return dataplane::WriteSysctl("net/ipv6/conf/all/forwarding", "1");
      return OkStatus();
    });
    RETURN_IF_ERROR(forwarding);
    if (global_.verbose) err_ << "+ (in " << ns << ") sysctl net.ipv4.ip_forward=1\n";
    RETURN_IF_ERROR(WriteFileAtomic(paths.NodenameFile(host), host));
    std::error_code ec;
    fs::create_directories(paths.NetD(host), ec);
    if (ec) return Internal("create " + paths.NetD(host) + ": " + ec.message());
  }

  if (config.datastore == Datastore::kEtcd) {
    RETURN_IF_ERROR(StartEtcd(config));
  } else {
    std::error_code ec;
    fs::create_directories(paths.DatastoreDir(), ec);
    if (ec) return Internal("create " + paths.DatastoreDir() + ": " + ec.message());
  }
  RETURN_IF_ERROR(CreatePools(config));
  // calico-flows before the nodes, so their first flush finds it.
  if (HasFlows(config)) RETURN_IF_ERROR(StartFlows(config));

  for (const std::string& host : config.hosts) {
    SpawnOptions spawn{.argv = config.node_command,
                       .env = NodeEnv(config, paths, host, env_),
                       .netns_path = NetnsPath(HostNetns(host)),
                       .cwd = paths.HostDir(host)};
    if (global_.verbose) {
      err_ << "+ nsenter --net=" << spawn.netns_path << " " << StrJoin(spawn.argv, " ") << " >"
           << paths.NodeLog(host) << "\n";
    }
    ASSIGN_OR_RETURN(ProcessRef ref, StartDetached(spawn, paths.NodeLog(host)));
    RETURN_IF_ERROR(state_.SavePid(paths.NodePid(host), ref));
  }
  // calico-controllers, cluster-wide, in the fabric namespace: it looks into the hosts'
  // namespaces (the pattern) for workloads' interfaces, and into the workloads' own.
  if (config.controllers) {
    std::error_code ec;  // etcd's start makes the fabric directory; with SQLite it is missing.
    fs::create_directories(paths.FabricDir(), ec);
    if (ec) return Internal("create " + paths.FabricDir() + ": " + ec.message());
    EnvMap env = DatastoreEnv(config, paths);
    env["PATH"] = config.bin_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    if (env_.contains("LOG_LEVEL")) env["LOG_LEVEL"] = env_.at("LOG_LEVEL");
    SpawnOptions spawn{
        .argv = {config.bin_dir + "/calico-controllers", "--identity", "calico-lab-fabric",
                 "--node-netns-pattern", NetnsPath(std::string(kNetnsPrefix) + "{node}"),
                 "--metrics-port", "9094"},
        .env = env,
        .netns_path = NetnsPath(kFabricNetns),
        .cwd = paths.FabricDir()};
    if (global_.verbose) {
      err_ << "+ nsenter --net=" << spawn.netns_path << " " << StrJoin(spawn.argv, " ") << " >"
           << paths.ControllersLog() << "\n";
    }
    ASSIGN_OR_RETURN(ProcessRef ref, StartDetached(spawn, paths.ControllersLog()));
    RETURN_IF_ERROR(state_.SavePid(paths.ControllersPid(), ref));
  }
  // A node process that cannot start (bad datastore, missing capability) dies within a moment.
  std::this_thread::sleep_for(milliseconds(1000));
  if (config.controllers) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(paths.ControllersPid()));
    ASSIGN_OR_RETURN(ProcessRef ref, ParsePidFile(text));
    if (!IsRunning(ref)) {
      return Unavailable("calico-controllers exited; its log " + paths.ControllersLog() + ":\n" +
                         Tail(paths.ControllersLog(), 10));
    }
  }
  if (HasFlows(config)) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(paths.FlowsPid()));
    ASSIGN_OR_RETURN(ProcessRef ref, ParsePidFile(text));
    if (!IsRunning(ref)) {
      return Unavailable("calico-flows exited; its log " + paths.FlowsLog() + ":\n" +
                         Tail(paths.FlowsLog(), 10));
    }
  }
  for (const std::string& host : config.hosts) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(paths.NodePid(host)));
    ASSIGN_OR_RETURN(ProcessRef ref, ParsePidFile(text));
    if (!IsRunning(ref)) {
      return Unavailable("the node process of " + host + " (" + StrJoin(config.node_command, " ") +
                         ") exited; its log " + paths.NodeLog(host) + ":\n" +
                         Tail(paths.NodeLog(host), 10));
    }
  }
  return OkStatus();
}

// etcd member `member` in the fabric namespace on EtcdMemberAddress(member):2379 (peers on
// :2380); a fresh cluster of config.etcd_members members, or (restart) the member's data dir.
Result<ProcessRef> Lab::SpawnEtcdMember(const LabConfig& config, int member) {
  const Paths& paths = state_.paths();
  std::error_code ec;
  fs::create_directories(paths.EtcdData(member), ec);
  if (ec) return Internal("create " + paths.EtcdData(member) + ": " + ec.message());
  auto url = [](int m, int port) {
    return "http://" + EtcdMemberAddress(m) + ":" + std::to_string(port);
  };
  std::string initial;
  for (int m = 0; m < config.etcd_members; ++m) {
    initial += (m == 0 ? "" : ",") + EtcdMemberName(m) + "=" + url(m, 2380);
  }
  SpawnOptions spawn{
      .argv = {ResolveBinary("etcd", config.bin_dir), "--name", EtcdMemberName(member),
               "--data-dir", paths.EtcdData(member), "--listen-client-urls", url(member, 2379),
               "--advertise-client-urls", url(member, 2379), "--listen-peer-urls",
               url(member, 2380), "--initial-advertise-peer-urls", url(member, 2380),
               "--initial-cluster", initial, "--initial-cluster-token", "calico-lab"},
      .env = env_,
      .netns_path = NetnsPath(kFabricNetns),
      .cwd = paths.FabricDir()};
  if (global_.verbose) {
    err_ << "+ nsenter --net=" << spawn.netns_path << " " << StrJoin(spawn.argv, " ") << "\n";
  }
  ASSIGN_OR_RETURN(ProcessRef ref, StartDetached(spawn, paths.EtcdLog(member)));
  RETURN_IF_ERROR(state_.SavePid(paths.EtcdPid(member), ref));
  return ref;
}

Status Lab::StartEtcd(const LabConfig& config) {
  const Paths& paths = state_.paths();
  for (int m = 1; m < config.etcd_members; ++m) {
    RETURN_IF_ERROR(Sh({"ip", "-n", std::string(kFabricNetns), "addr", "add",
                        EtcdMemberAddress(m) + "/" + std::to_string(kFabricPrefixV4), "dev",
                        std::string(kFabricBridge)}));
  }
  std::vector<ProcessRef> refs;
  for (int m = 0; m < config.etcd_members; ++m) {
    ASSIGN_OR_RETURN(ProcessRef ref, SpawnEtcdMember(config, m));
    refs.push_back(ref);
  }
  // Every member answers (a cluster serves once a majority has met).
  for (int m = 0; m < config.etcd_members; ++m) {
    bool up = false;
    for (int i = 0; i < 300 && !up; ++i) {
      if (!IsRunning(refs[static_cast<size_t>(m)])) {
        return Unavailable(EtcdMemberName(m) + " exited; its log " + paths.EtcdLog(m) + ":\n" +
                           Tail(paths.EtcdLog(m), 10));
      }
      up = TcpReachable(NetnsPath(kFabricNetns), EtcdMemberAddress(m), 2379, milliseconds(200));
      if (!up) std::this_thread::sleep_for(milliseconds(100));
    }
    if (!up) {
      return Unavailable(EtcdMemberName(m) + " does not answer on " + EtcdMemberAddress(m) +
                         ":2379; its log " + paths.EtcdLog(m));
    }
  }
  return OkStatus();
}

Status Lab::CreatePools(const LabConfig& config) {
  const std::string host = config.hosts.front();
  SpawnOptions spawn{.argv = {config.bin_dir + "/calicoctl", "apply", "-f", "-"},
                     .env = HostEnv(config, state_.paths(), host, env_),
                     .netns_path = NetnsPath(HostNetns(host)),
                     .cwd = ""};
  // With calico-flows, the nodes send it their flow records (FelixConfiguration default).
  const std::string yaml =
      PoolsYaml(config) + (HasFlows(config) ? "---\n" + FlowLogsFelixYaml() : std::string());
  if (global_.verbose) {
    err_ << "+ calico-lab host " << host << " -- calicoctl apply -f - <<EOF\n" << yaml << "EOF\n";
  }
  std::string last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    ASSIGN_OR_RETURN(Completed done, RunCaptured(spawn, yaml, kCtlTimeout));
    if (done.status == 0) return OkStatus();
    last = std::string(StrTrim(done.err.empty() ? done.out : done.err));
    if (config.datastore != Datastore::kEtcd) break;  // only etcd may still be settling
    std::this_thread::sleep_for(milliseconds(500));
  }
  return Internal("create the lab IP pools: calicoctl apply: " + last);
}

bool Lab::HasFlows(const LabConfig& config) const {
  return IsExecutable(config.bin_dir + "/calico-flows");
}

Status Lab::StartFlows(const LabConfig& config) {
  const Paths& paths = state_.paths();
  std::error_code ec;  // etcd's start makes the fabric directory; with SQLite it is missing.
  fs::create_directories(paths.FabricDir(), ec);
  if (ec) return Internal("create " + paths.FabricDir() + ": " + ec.message());
  // The datastore, for the web page's explain view.
  EnvMap env = DatastoreEnv(config, paths);
  env["PATH"] = config.bin_dir + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  SpawnOptions spawn{
      .argv = {config.bin_dir + "/calico-flows", "--listen", std::string(kFlowsListen)},
      .env = env,
      .netns_path = NetnsPath(kFabricNetns),
      .cwd = paths.FabricDir()};
  if (global_.verbose) {
    err_ << "+ nsenter --net=" << spawn.netns_path << " " << StrJoin(spawn.argv, " ") << " >"
         << paths.FlowsLog() << "\n";
  }
  ASSIGN_OR_RETURN(ProcessRef ref, StartDetached(spawn, paths.FlowsLog()));
  return state_.SavePid(paths.FlowsPid(), ref);
}

// --------------------------------------------------------------------------------------- run

Status Lab::EnsureNamespace(const LabConfig& config, const std::string& ns) {
  const std::string host = config.hosts.front();
  SpawnOptions spawn{.argv = {config.bin_dir + "/calicoctl", "create", "--skip-exists", "-f", "-"},
                     .env = HostEnv(config, state_.paths(), host, env_),
                     .netns_path = NetnsPath(HostNetns(host)),
                     .cwd = ""};
  if (global_.verbose) {
    err_ << "+ calico-lab host " << host << " -- calicoctl create --skip-exists -f - <<EOF\n"
         << NamespaceYaml(ns) << "EOF\n";
  }
  ASSIGN_OR_RETURN(Completed done, RunCaptured(spawn, NamespaceYaml(ns), kCtlTimeout));
  if (done.status != 0) {
    return Internal("create namespace " + ns +
                    ": calicoctl: " + std::string(StrTrim(done.err.empty() ? done.out : done.err)));
  }
  return OkStatus();
}

Result<std::string> Lab::Cni(const LabConfig& config, std::string_view command,
                             const WorkloadRecord& w, const WorkloadNet& net, std::string_view ip) {
  const Paths& paths = state_.paths();
  const std::string conflist_path = paths.Conflist(w.host, net.name);
  std::error_code ec;
  if (!fs::exists(conflist_path, ec)) {
    // Like an operator's `cat >/etc/rkt/net.d/10-calico-<net>.conf`, once per network and host.
    RETURN_IF_ERROR(WriteFileAtomic(conflist_path, ConflistJson(config, paths, w.host, net.name)));
    if (global_.verbose) err_ << "+ wrote " << conflist_path << "\n";
  }
  ASSIGN_OR_RETURN(std::string conflist, ReadFile(conflist_path));
  // libcni hands DEL the cached ADD result as prevResult from cniVersion 0.4.0 on.
  auto list = nlohmann::json::parse(conflist, nullptr, false);
  std::string version = list.is_object() ? list.value("cniVersion", "") : "";
  bool with_prev = command == "DEL" && !net.result.empty() && version >= "0.4.0";
  auto conf = PluginConfig(conflist, with_prev ? net.result : "", PodArgsJson(w.labels, w.ports));
  if (!conf) return Unexpected(std::move(conf).error().Wrap(conflist_path));
  auto plugin_conf = nlohmann::json::parse(*conf);
  std::string type = plugin_conf.value("type", "");
  std::string plugin = FindProgram(type, config.bin_dir);
  if (type.empty() || plugin.empty()) {
    return NotFound("CNI plugin \"" + type + "\" of " + conflist_path + " not found in " +
                    config.bin_dir);
  }
  SpawnOptions spawn{
      .argv = {plugin},
      .env = CniEnv(command, w.container_id, NetnsPath(w.netns), net.ifname, config.bin_dir, ip,
                    w.k8s_namespace, w.k8s_namespace.empty() ? "" : w.name),
      .netns_path = NetnsPath(HostNetns(w.host)),
      .cwd = ""};
  if (global_.verbose) {
    err_ << "+ nsenter --net=" << spawn.netns_path << " env -i "
         << StrJoin(EnvStrings(spawn.env), " ") << " " << plugin << " <<<'" << *conf << "'\n";
  }
  ASSIGN_OR_RETURN(Completed done, RunCaptured(spawn, *conf, kCniTimeout));
  if (done.status != 0) {
    return Internal("CNI " + std::string(command) + " of network " + net.name + " on " + w.host +
                    " failed: " + CniErrorText(done));
  }
  return done.out;
}

Status Lab::Run(const RunCommand& run) {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  if (!global_.bin_dir.empty() || env_.contains("CALICO_LAB_BIN")) config.bin_dir = BinDir();
  RETURN_IF_ERROR(CheckHost(config, run.host));
  if (!NetnsExists(HostNetns(run.host))) {
    return NotFound("host " + run.host + " is gone (no namespace " + HostNetns(run.host) +
                    "): run calico-lab down, then calico-lab up");
  }
  if (state_.HasWorkload(run.name)) {
    return AlreadyExists("workload " + run.name + " already exists");
  }
  if (NetnsExists(WorkloadNetns(run.name))) {
    return AlreadyExists("namespace " + WorkloadNetns(run.name) +
                         " is left from an earlier workload " + run.name + ": run calico-lab rm " +
                         run.name);
  }
  const Paths& paths = state_.paths();
  WorkloadRecord w;
  w.name = run.name;
  w.host = run.host;
  w.netns = WorkloadNetns(run.name);
  w.container_id = RandomHex(32);
  w.requested_ip = run.ip;
  w.argv = run.argv;
  w.created = static_cast<int64_t>(std::time(nullptr));
  w.k8s_namespace = run.k8s_namespace;
  w.labels = run.labels;
  w.ports = run.ports;
  if (!w.k8s_namespace.empty()) {
    // A pod's namespace must exist, as in Kubernetes: create it like `kubectl create namespace`
    // when missing (calico-controllers turns it into the kns.<namespace> profile).
    RETURN_IF_ERROR(EnsureNamespace(config, w.k8s_namespace));
  }
  RETURN_IF_ERROR(state_.SaveWorkload(w));  // before anything exists, so rm/down find it

  auto steps = [&]() -> Status {
    std::error_code ec;
    fs::create_directories(paths.WorkloadRoot(w.name), ec);
    if (ec) return Internal("create " + paths.WorkloadRoot(w.name) + ": " + ec.message());
    RETURN_IF_ERROR(Sh({"ip", "netns", "add", w.netns}));
    RETURN_IF_ERROR(Sh({"ip", "-n", w.netns, "link", "set", "lo", "up"}));
    for (size_t i = 0; i < run.nets.size(); ++i) {
      w.nets.push_back(
          {.name = run.nets[i], .ifname = "eth" + std::to_string(i), .ips = {}, .result = ""});
      RETURN_IF_ERROR(state_.SaveWorkload(w));  // a crash during ADD still gets its DEL
      ASSIGN_OR_RETURN(std::string result,
                       Cni(config, "ADD", w, w.nets.back(), i == 0 ? run.ip : ""));
      w.nets.back().result = std::string(StrTrim(result));
      w.nets.back().ips = ResultIPs(result);
      RETURN_IF_ERROR(state_.SaveWorkload(w));
    }
    SpawnOptions spawn{.argv = run.argv,
                       .env = WorkloadEnv(config, w.name, env_),
                       .netns_path = NetnsPath(w.netns),
                       .cwd = paths.WorkloadRoot(w.name)};
    if (global_.verbose) {
      err_ << "+ nsenter --net=" << spawn.netns_path << " " << StrJoin(run.argv, " ") << " >"
           << paths.WorkloadLog(w.name) << " &\n";
    }
    ASSIGN_OR_RETURN(w.process, StartDetached(spawn, paths.WorkloadLog(w.name)));
    return state_.SaveWorkload(w);
  };
  Status st = steps();
  if (!st) {
    Status undo = RemoveWorkload(&config, w, true);
    if (!undo) Note("clean-up of " + w.name + ": " + undo.error().message());
    return Unexpected(std::move(st).error().Wrap("run " + run.name));
  }
  std::this_thread::sleep_for(milliseconds(100));
  if (!IsRunning(w.process)) {
    Note("warning: " + w.name + " (" + StrJoin(run.argv, " ") + ") has already exited; its log " +
         paths.WorkloadLog(w.name) + ":\n" + Tail(paths.WorkloadLog(w.name), 10));
  }
  std::vector<std::string> ips;
  for (const WorkloadNet& n : w.nets) {
    ips.insert(ips.end(), n.ips.begin(), n.ips.end());
  }
  out_ << StrJoin(ips, " ") << "\n";
  return OkStatus();
}

// -------------------------------------------------------------------------------- list, exec

Status Lab::List() {
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  std::vector<std::vector<std::string>> rows = {{"NAME", "HOST", "NETS", "IPS", "STATE"}};
  for (const std::string& host : config.hosts) {
    auto text = ReadFile(state_.paths().NodePid(host));
    auto ref = text ? ParsePidFile(*text) : Result<ProcessRef>(NotFound(""));
    rows.push_back({"node", host, "-", HostAddressV4(HostIndex(host)),
                    ref && IsRunning(*ref) ? "running" : "exited"});
  }
  for (const WorkloadRecord& w : state_.ListWorkloads()) {
    std::vector<std::string> nets, ips;
    for (const WorkloadNet& n : w.nets) {
      nets.push_back(n.name);
      for (const std::string& ip : n.ips) {
        ips.push_back(n.name + ":" + ip);
      }
    }
    std::string state = w.host.empty()         ? "broken"
                        : w.process.pid == 0   ? "creating"
                        : IsRunning(w.process) ? "running"
                                               : "exited";
    rows.push_back({w.name, w.host.empty() ? "-" : w.host, nets.empty() ? "-" : StrJoin(nets, ","),
                    ips.empty() ? "-" : StrJoin(ips, ","), state});
  }
  out_ << FormatTable(rows);
  return OkStatus();
}

Status Lab::Exec(const ExecCommand& exec) {
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  ASSIGN_OR_RETURN(WorkloadRecord w, state_.LoadWorkload(exec.name));
  if (!NetnsExists(w.netns)) {
    return NotFound("workload " + w.name + " has no namespace " + w.netns + ": run calico-lab rm " +
                    w.name);
  }
  Status st = ExecReplace({.argv = exec.argv,
                           .env = WorkloadEnv(config, w.name, env_),
                           .netns_path = NetnsPath(w.netns),
                           .cwd = state_.paths().WorkloadRoot(w.name)});
  failure_exit_code_ = st.error().code() == ErrorCode::kNotFound ? 127 : 126;
  return st;
}

Status Lab::Host(const HostCommand& host) {
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  RETURN_IF_ERROR(CheckHost(config, host.host));
  if (!NetnsExists(HostNetns(host.host))) {
    return NotFound("host " + host.host + " is gone (no namespace " + HostNetns(host.host) +
                    "): run calico-lab down, then calico-lab up");
  }
  if (!global_.bin_dir.empty() || env_.contains("CALICO_LAB_BIN")) config.bin_dir = BinDir();
  Status st = ExecReplace({.argv = host.argv,
                           .env = HostEnv(config, state_.paths(), host.host, env_),
                           .netns_path = NetnsPath(HostNetns(host.host)),
                           .cwd = ""});
  failure_exit_code_ = st.error().code() == ErrorCode::kNotFound ? 127 : 126;
  return st;
}

// ------------------------------------------------------------------------------ rm and down

bool Lab::DatastoreReachable(const LabConfig& config) {
  if (config.datastore == Datastore::kLocal) {
    std::error_code ec;
    return fs::exists(state_.paths().DatastoreFile(), ec);
  }
  if (!NetnsExists(kFabricNetns)) return false;
  for (int m = 0; m < config.etcd_members; ++m) {
    if (TcpReachable(NetnsPath(kFabricNetns), EtcdMemberAddress(m), 2379, milliseconds(1000))) {
      return true;
    }
  }
  return false;
}

Status Lab::RemoveWorkload(const LabConfig* config, const WorkloadRecord& w, bool force) {
  std::vector<std::string> problems;
  // 1. Processes: the one `run` started, then anything else still in the namespace (exec'd
  //    commands, daemons the workload forked).
  if (w.process.pid != 0) {
    if (Status st = Terminate(w.process, kStopGrace); !st) problems.push_back(st.error().message());
  }
  for (int pid : PidsInNetns(NetnsPath(w.netns))) {
    auto start = ProcessStartTime(pid);
    if (!start) continue;
    if (Status st = Terminate({pid, *start}, kStopGrace); !st) {
      problems.push_back(st.error().message());
    }
  }
  // 2. CNI DEL, last network first, as a runtime tears down.
  bool del_failed = false;
  if (config != nullptr && !w.host.empty() && !w.nets.empty()) {
    if (!NetnsExists(HostNetns(w.host))) {
      Note("host " + w.host + " is gone: no CNI DEL for " + w.name);
    } else if (!DatastoreReachable(*config)) {
      Note("the datastore does not answer: no CNI DEL for " + w.name);
    } else {
      for (auto it = w.nets.rbegin(); it != w.nets.rend(); ++it) {
        auto del = Cni(*config, "DEL", w, *it, "");
        if (!del) {
          del_failed = true;
          problems.push_back(del.error().message());
        }
      }
    }
  }
  // 3. The namespace and the record.
  if (NetnsExists(w.netns)) {
    if (Status st = Sh({"ip", "netns", "del", w.netns}); !st) {
      problems.push_back(st.error().message());
    }
  }
  if (!del_failed || force) {
    if (Status st = state_.RemoveWorkload(w.name); !st) problems.push_back(st.error().message());
  }
  if (!problems.empty()) {
    return Internal(StrJoin(problems, "; ") +
                    (del_failed && !force
                         ? " (the record stays: run calico-lab rm " + w.name + " again)"
                         : ""));
  }
  return OkStatus();
}

Status Lab::Rm(const RmCommand& rm) {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  auto w = state_.LoadWorkload(rm.name);
  if (!w) {
    if (state_.HasWorkload(rm.name)) {  // a corrupt record: clean up what the name implies
      WorkloadRecord partial;
      partial.name = rm.name;
      partial.netns = WorkloadNetns(rm.name);
      Note(w.error().message() + "; removing what is left of " + rm.name);
      return RemoveWorkload(&config, partial, true);
    }
    if (NetnsExists(WorkloadNetns(rm.name))) {  // a namespace without a record
      return Sh({"ip", "netns", "del", WorkloadNetns(rm.name)});
    }
    return Unexpected(std::move(w).error());
  }
  if (!global_.bin_dir.empty() || env_.contains("CALICO_LAB_BIN")) config.bin_dir = BinDir();
  RETURN_IF_ERROR(RemoveWorkload(&config, *w, false));
  out_ << rm.name << "\n";
  return OkStatus();
}

Status Lab::Stop(const StopCommand& stop) {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  ASSIGN_OR_RETURN(std::string pid_file, PidFileOf(config, stop.target));
  auto text = ReadFile(pid_file);
  auto ref = text ? ParsePidFile(*text) : Result<ProcessRef>(NotFound(""));
  if (!ref || !IsRunning(*ref)) {
    out_ << stop.target << ": not running\n";
    return OkStatus();
  }
  RETURN_IF_ERROR(stop.kill ? KillNow(*ref) : Terminate(*ref, kStopGrace));
  out_ << stop.target << ": stopped (pid " << ref->pid << (stop.kill ? ", SIGKILL" : "") << ")\n";
  return OkStatus();
}

Status Lab::Start(const StartCommand& start) {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  ASSIGN_OR_RETURN(LabConfig config, state_.LoadConfig());
  if (!global_.bin_dir.empty() || env_.contains("CALICO_LAB_BIN")) config.bin_dir = BinDir();
  ASSIGN_OR_RETURN(std::string pid_file, PidFileOf(config, start.target));
  auto text = ReadFile(pid_file);
  auto old = text ? ParsePidFile(*text) : Result<ProcessRef>(NotFound(""));
  if (old && IsRunning(*old)) {
    return AlreadyExists(start.target + " is running (pid " + std::to_string(old->pid) + ")");
  }
  const Paths& paths = state_.paths();
  ProcessRef ref;
  std::string log;
  if (int member = EtcdMemberIndex(start.target); member >= 0) {
    ASSIGN_OR_RETURN(ref, SpawnEtcdMember(config, member));
    log = paths.EtcdLog(member);
  } else {
    const std::string& host = start.target;
    SpawnOptions spawn{.argv = config.node_command,
                       .env = NodeEnv(config, paths, host, env_),
                       .netns_path = NetnsPath(HostNetns(host)),
                       .cwd = paths.HostDir(host)};
    ASSIGN_OR_RETURN(ref, StartDetached(spawn, paths.NodeLog(host)));
    RETURN_IF_ERROR(state_.SavePid(paths.NodePid(host), ref));
    log = paths.NodeLog(host);
  }
  std::this_thread::sleep_for(milliseconds(300));
  if (!IsRunning(ref)) {
    return Unavailable(start.target + " exited at once; its log " + log + ":\n" + Tail(log, 10));
  }
  out_ << start.target << ": started (pid " << ref.pid << ")\n";
  return OkStatus();
}

Result<std::string> Lab::PidFileOf(const LabConfig& config, const std::string& target) {
  if (int member = EtcdMemberIndex(target); member >= 0) {
    if (config.datastore != Datastore::kEtcd || member >= config.etcd_members) {
      return NotFound("the lab has no etcd member " + target + " (datastore " +
                      std::string(DatastoreName(config.datastore)) + ", " +
                      std::to_string(config.etcd_members) + " member(s))");
    }
    return state_.paths().EtcdPid(member);
  }
  RETURN_IF_ERROR(CheckHost(config, target));
  if (!NetnsExists(HostNetns(target))) {
    return NotFound("host " + target + " is gone (no namespace " + HostNetns(target) + ")");
  }
  return state_.paths().NodePid(target);
}

Status Lab::Down() {
  ASSIGN_OR_RETURN(Lock lock, Lock::Take(state_.paths(), err_));
  Status st = DownLocked(false);
  ::unlink(state_.paths().Lock().c_str());
  return st;
}

Status Lab::DownLocked(bool quiet) {
  const Paths& paths = state_.paths();
  std::vector<std::string> problems;
  int stopped = 0;
  auto config = state_.LoadConfig();
  if (!config && config.error().code() != ErrorCode::kNotFound && !quiet) {
    Note(config.error().message() + "; cleaning up without it");
  }
  if (config && (!global_.bin_dir.empty() || env_.contains("CALICO_LAB_BIN"))) {
    config->bin_dir = BinDir();
  }
  const LabConfig* cfg = config ? &*config : nullptr;

  // Workloads first (their DEL needs the datastore, which etcd provides until the end).
  std::vector<WorkloadRecord> workloads = state_.ListWorkloads();
  for (const WorkloadRecord& w : workloads) {
    if (Status st = RemoveWorkload(cfg, w, true); !st) {
      problems.push_back("workload " + w.name + ": " + st.error().message());
    }
  }

  // Processes recorded in pid files: node processes (and BIRD), etcd last. A pid file without a
  // start time (BIRD's) is trusted only for a process inside one of the lab's namespaces.
  std::vector<std::string> lab_netns = ListNetns(kNetnsPrefix);
  auto in_lab_netns = [&](int pid) {
    for (const std::string& ns : lab_netns) {
      std::vector<int> pids = PidsInNetns(NetnsPath(ns));
      if (std::find(pids.begin(), pids.end(), pid) != pids.end()) return true;
    }
    return false;
  };
  auto pid_files = state_.PidFiles();
  std::stable_partition(pid_files.begin(), pid_files.end(), [&](const auto& p) {
    return fs::path(p.first).parent_path() != fs::path(paths.FabricDir());
  });
  for (const auto& [file, ref] : pid_files) {
    if (!IsRunning(ref)) continue;
    if (ref.start_time == 0 && !in_lab_netns(ref.pid)) {
      Note("not stopping pid " + std::to_string(ref.pid) + " of " + file +
           ": it is not in a lab namespace");
      continue;
    }
    if (!quiet) {
      Note("stopping " + ProcessCommandLine(ref.pid) + " (pid " + std::to_string(ref.pid) + ")");
    }
    if (Status st = Terminate(ref, kStopGrace); !st) {
      problems.push_back(st.error().message());
    } else {
      ++stopped;
    }
  }

  // Anything else still inside a lab namespace was started there by the lab or through it
  // (`host`, `exec`); namespaces of a crashed run have no records at all.
  for (const std::string& ns : lab_netns) {
    for (int pid : PidsInNetns(NetnsPath(ns))) {
      auto start = ProcessStartTime(pid);
      if (!start) continue;
      ProcessRef ref{pid, *start};
      if (!IsRunning(ref)) continue;
      if (!quiet) {
        Note("stopping " + ProcessCommandLine(pid) + " (pid " + std::to_string(pid) + ", in " + ns +
             ")");
      }
      if (Status st = Terminate(ref, kStopGrace); !st) {
        problems.push_back(st.error().message());
      } else {
        ++stopped;
      }
    }
  }

  // Namespaces: workloads, hosts, then the fabric.
  std::vector<std::string> order = ListNetns(kNetnsPrefix);
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& n) { return n.starts_with(kWorkloadNetnsPrefix); });
  std::stable_partition(order.begin(), order.end(),
                        [](const std::string& n) { return n != kFabricNetns; });
  int removed = 0;
  for (const std::string& ns : order) {
    if (Status st = Sh({"ip", "netns", "del", ns}); !st) {
      problems.push_back(st.error().message());
    } else {
      ++removed;
    }
  }
  bool had_state = state_.Exists();
  if (Status st = state_.RemoveAll(); !st) problems.push_back(st.error().message());
  if (!problems.empty()) return Internal("down: " + StrJoin(problems, "; "));
  if (!quiet) {
    if (!had_state && removed == 0 && stopped == 0) {
      out_ << "lab down: nothing to do\n";
    } else {
      out_ << "lab down: " << workloads.size() << " workloads removed, " << stopped
           << " processes stopped, " << removed << " namespaces deleted, " << paths.root()
           << " removed\n";
    }
  }
  return OkStatus();
}

}  // namespace calico::lab
