#include "calico/ctl/node_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "calico/agent/status_file.h"
#include "calico/base/numbers.h"
#include "calico/base/redact.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"
#include "calico/ctl/args.h"
#include "calico/ctl/init_system.h"
#include "calico/ctl/kernel_config.h"
#include "calico/ctl/rule_counters.h"
#include "calico/datastore/config.h"

namespace calico::ctl {
namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "Usage:\n"
    "  calicoctl node run [--ip=<IP>] [--ip6=<IP6>] [--as=<AS_NUM>] [--name=<NAME>]\n"
    "                     [--ip-autodetection-method=<METHOD>] "
    "[--ip6-autodetection-method=<METHOD>]\n"
    "                     [--log-dir=<LOG_DIR>] [--run-dir=<RUN_DIR>] "
    "[--backend=(bird|vxlan|none)]\n"
    "                     [--no-default-ippools] [--libnetwork] [--dryrun] [--init-system]\n"
    "                     [--config=<CONFIG>]\n"
    "  calicoctl node stop [--run-dir=<RUN_DIR>]\n"
    "  calicoctl node status [--bird-socket=<PATH>] [--run-dir=<RUN_DIR>]\n"
    "  calicoctl node diags [--log-dir=<LOG_DIR>] [--run-dir=<RUN_DIR>]\n"
    "  calicoctl node checksystem [--kernel-config=<FILE>]\n"
    "  calicoctl node counters [--all]\n";

// The directory of this program: calico-node and calico-libnetwork are installed beside it.
std::string FindProgram(const std::string& name) {
  std::error_code ec;
  auto self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(self.parent_path() / name)) return (self.parent_path() / name).string();
  const char* path = std::getenv("PATH");
  for (const std::string& dir : StrSplit(path != nullptr ? path : "", ':', true)) {
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "";
}

// The command name of process `pid` ("" when gone).
std::string ProcessComm(const std::string& pid) {
  std::ifstream c("/proc/" + pid + "/comm");
  std::string name;
  std::getline(c, name);
  return name;
}

// The PIDs of the processes named `comm` (as /proc/PID/comm shows it, at most 15 characters).
std::vector<pid_t> ProcessesNamed(const std::string& comm) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::string n = e.path().filename().string();
    Result<pid_t> pid = ParseInt<pid_t>(n);  // the other entries of /proc are not numbers
    if (pid && ProcessComm(n) == comm.substr(0, 15)) out.push_back(*pid);
  }
  return out;
}

// The PID recorded in `pid_file` if that process is alive and is `comm`; else 0.
pid_t RunningPid(const std::string& pid_file, const std::string& comm) {
  std::ifstream in(pid_file);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return 0;
  return ProcessComm(std::to_string(pid)) == comm.substr(0, 15) ? static_cast<pid_t>(pid) : 0;
}

// A calico-node in this network namespace (one per host), started by anyone; 0 if none.
pid_t CalicoNodeInThisNetns() {
  struct stat self {};
  if (::stat("/proc/self/ns/net", &self) != 0) return 0;
  for (pid_t pid : ProcessesNamed("calico-node")) {
    struct stat ns {};
    std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
    if (::stat(path.c_str(), &ns) == 0 && ns.st_ino == self.st_ino && ns.st_dev == self.st_dev)
      return pid;
  }
  return 0;
}

bool AnyProcessNamed(const std::string& comm) {
  return !ProcessesNamed(comm).empty();
}

std::vector<std::pair<std::string, std::string>> DatastoreEnv(const datastore::ClientConfig& cfg) {
  std::vector<std::pair<std::string, std::string>> env;
  if (cfg.type == datastore::DatastoreType::kEtcdV3) {
    env.emplace_back("DATASTORE_TYPE", "etcdv3");
    env.emplace_back("ETCD_ENDPOINTS", StrJoin(cfg.etcd.endpoints, ","));
    if (!cfg.etcd.ca_cert_file.empty())
      env.emplace_back("ETCD_CA_CERT_FILE", cfg.etcd.ca_cert_file);
    if (!cfg.etcd.cert_file.empty()) env.emplace_back("ETCD_CERT_FILE", cfg.etcd.cert_file);
    if (!cfg.etcd.key_file.empty()) env.emplace_back("ETCD_KEY_FILE", cfg.etcd.key_file);
    if (!cfg.etcd.username.empty()) env.emplace_back("ETCD_USERNAME", cfg.etcd.username);
    if (!cfg.etcd.password.empty()) env.emplace_back("ETCD_PASSWORD", cfg.etcd.password);
  } else {
    env.emplace_back("DATASTORE_TYPE", "local");
    env.emplace_back("CALICO_DATASTORE_PATH", cfg.local_path);
  }
  return env;
}

// Starts `program` detached (own session), stdout/stderr appended to `log`; returns its PID.
Result<pid_t> StartDetached(const std::string& program, const std::vector<std::string>& args,
                            const std::vector<std::pair<std::string, std::string>>& extra_env,
                            const std::string& log) {
  Environment env = CurrentEnvironment();
  for (const auto& [k, v] : extra_env)
    env[k] = v;
  std::vector<std::string> argv{program};
  argv.insert(argv.end(), args.begin(), args.end());
  return SpawnSubprocess({.argv = std::move(argv), .env = std::move(env)},
                         {.log_path = log, .log_mode = 0640, .new_session = true});
}

// 0644 whatever the umask: `node stop` signals the PID in it, so nobody else may write it.
Status WritePidFile(const std::string& path, pid_t pid) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) return Unexpected(Error::FromErrno(errno, "cannot write " + path));
  ::fchmod(fd.get(), 0644);
  std::string text = std::to_string(pid) + "\n";
  bool ok = ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::close(fd.release()) == 0 && ok;  // close(2) reports a failed delayed write
  if (!ok) return Unavailable("cannot write " + path);
  return OkStatus();
}

std::string Tail(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::vector<std::string> all;
  for (std::string l; std::getline(in, l);)
    all.push_back(l);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "  " + all[i] + "\n";
  return out;
}

int NodeRun(const FlagSet& f, Context& ctx) {
  std::string log_dir = f.GetString("log-dir");
  std::string run_dir = f.GetString("run-dir");
  std::string backend = f.GetString("backend");
  if (backend != "bird" && backend != "vxlan" && backend != "none") {
    ctx.err << "Error: --backend must be bird, vxlan or none, not \"" << backend << "\"\n";
    return 1;
  }
  auto cfg = datastore::LoadClientConfig(f.GetString("config"), f.Changed("config"));
  if (!cfg) {
    ctx.err << "Error: " << cfg.error().message() << "\n";
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> env = DatastoreEnv(*cfg);
  if (f.Changed("name")) env.emplace_back("NODENAME", f.GetString("name"));
  env.emplace_back("IP", f.Changed("ip") ? f.GetString("ip") : "autodetect");
  if (f.Changed("ip6")) env.emplace_back("IP6", f.GetString("ip6"));
  if (f.Changed("as")) env.emplace_back("AS", f.GetString("as"));
  env.emplace_back("IP_AUTODETECTION_METHOD", f.GetString("ip-autodetection-method"));
  env.emplace_back("IP6_AUTODETECTION_METHOD", f.GetString("ip6-autodetection-method"));
  env.emplace_back("CALICO_NETWORKING_BACKEND", backend);
  if (f.GetBool("no-default-ippools")) env.emplace_back("NO_DEFAULT_POOLS", "true");
  env.emplace_back("CALICO_NODENAME_FILE", run_dir + "/nodename");
  env.emplace_back("CALICO_RUN_DIR", run_dir);

  std::string node_bin = FindProgram("calico-node");
  if (f.GetBool("init-system")) {
    // Under systemd the nodename file and BIRD's directory keep calico-node's defaults
    // (/var/lib/calico/nodename, where the CNI plugin looks; /var/run/calico).
    std::vector<std::pair<std::string, std::string>> settings;
    for (const auto& kv : env) {
      if (kv.first == "CALICO_NODENAME_FILE") continue;
      if (kv.first == "CALICO_RUN_DIR" && !f.Changed("run-dir")) continue;
      settings.push_back(kv);
    }
    ctx.out << InitSystemText(node_bin.empty() ? "/usr/bin/calico-node" : node_bin, settings,
                              f.GetBool("libnetwork"));
    return 0;
  }
  std::string lnw_bin = f.GetBool("libnetwork") ? FindProgram("calico-libnetwork") : "";
  std::string node_log = log_dir + "/calico-node.log";
  std::string lnw_log = log_dir + "/libnetwork.log";
  ctx.out << "Running the following command to start calico-node:\n\n";
  for (const auto& [k, v] : env)
    ctx.out << k << "=" << v << " \\\n";
  ctx.out << (node_bin.empty() ? "calico-node" : node_bin) << " >> " << node_log << " 2>&1\n\n";
  if (f.GetBool("libnetwork")) {
    ctx.out << "and the libnetwork plugin:\n\n"
            << (lnw_bin.empty() ? "calico-libnetwork" : lnw_bin) << " --socket "
            << f.GetString("libnetwork-socket") << " >> " << lnw_log << " 2>&1\n\n";
  }
  if (f.GetBool("dryrun")) return 0;
  if (node_bin.empty()) {
    ctx.err << "Error: calico-node was not found beside calicoctl or on PATH\n";
    return 1;
  }
  if (f.GetBool("libnetwork") && lnw_bin.empty()) {
    ctx.err << "Error: calico-libnetwork was not found beside calicoctl or on PATH\n";
    return 1;
  }
  std::error_code ec;
  // Directories this command makes are 0755 whatever the umask: others must not replace the pid
  // file `node stop` signals, the nodename file the CNI plugins read, or BIRD's files.
  for (const std::string& dir : {log_dir, run_dir}) {
    if (fs::exists(dir, ec)) continue;
    fs::create_directories(dir, ec);
    if (!ec) ::chmod(dir.c_str(), 0755);
  }
  std::string pid_file = run_dir + "/calico-node.pid";
  pid_t running = RunningPid(pid_file, "calico-node");
  if (running == 0) running = CalicoNodeInThisNetns();
  if (running != 0 && !f.GetBool("libnetwork")) {
    ctx.err << "Error: calico-node is already running (PID " << running
            << "); stop it with: calicoctl node stop\n";
    return 1;
  }
  if (running != 0) {
    // The calico-docker era's `calicoctl node --libnetwork` on a host whose node already runs:
    // add the libnetwork plugin beside it.
    ctx.out << "calico-node is already running (PID " << running
            << "); starting the libnetwork plugin.\n";
    std::string lnw_pid_file = run_dir + "/calico-libnetwork.pid";
    if (pid_t l = RunningPid(lnw_pid_file, "calico-libnetwork"); l != 0) {
      ctx.out << "The libnetwork plugin is already running (PID " << l << ").\n";
      return 0;
    }
    auto lpid =
        StartDetached(lnw_bin, {"--socket", f.GetString("libnetwork-socket")}, env, lnw_log);
    if (!lpid || !WritePidFile(lnw_pid_file, *lpid)) {
      ctx.err << "Error: cannot start calico-libnetwork (see " << lnw_log << ")\n";
      return 1;
    }
    std::string sock = f.GetString("libnetwork-socket");
    for (int i = 0; i < 50 && !fs::exists(sock); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(sock)) {
      ctx.err << "Error: calico-libnetwork did not open " << sock << ". Last log lines:\n"
              << Tail(lnw_log, 10);
      return 1;
    }
    ctx.out << "Calico libnetwork plugin started successfully (" << sock << ").\n";
    return 0;
  }
  auto pid = StartDetached(node_bin, {}, env, node_log);
  if (!pid) {
    ctx.err << "Error: " << pid.error().message() << "\n";
    return 1;
  }
  if (Status st = WritePidFile(pid_file, *pid); !st) {
    ctx.err << "Error: " << st.error().message() << "\n";
    return 1;
  }
  ctx.out << "Waiting for calico-node to start...\n";
  auto size_before = fs::exists(node_log) ? fs::file_size(node_log, ec) : 0;
  bool started = false;
  for (int i = 0; i < 300 && !started; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int status = 0;
    if (::waitpid(*pid, &status, WNOHANG) == *pid) {
      ctx.err << "Error: calico-node exited during start-up. Last log lines (" << node_log << "):\n"
              << Tail(node_log, 10);
      fs::remove(pid_file, ec);
      return 1;
    }
    std::ifstream in(node_log);
    in.seekg(static_cast<std::streamoff>(size_before));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    started = text.find("calico-node: agent for node") != std::string::npos;
  }
  if (!started) {
    ctx.err << "Error: calico-node did not finish start-up within 30 s (PID " << *pid
            << " left running; see " << node_log << ")\n";
    return 1;
  }
  if (!lnw_bin.empty()) {
    std::string lnw_pid_file = run_dir + "/calico-libnetwork.pid";
    if (RunningPid(lnw_pid_file, "calico-libnetwork") == 0) {
      auto lpid =
          StartDetached(lnw_bin, {"--socket", f.GetString("libnetwork-socket")}, env, lnw_log);
      if (!lpid || !WritePidFile(lnw_pid_file, *lpid)) {
        ctx.err << "Error: cannot start calico-libnetwork (see " << lnw_log << ")\n";
        return 1;
      }
    }
  }
  ctx.out << "Calico node started successfully.\n";
  return 0;
}

int NodeStop(const FlagSet& f, Context& ctx) {
  std::string run_dir = f.GetString("run-dir");
  int stopped = 0;
  for (const char* name : {"calico-libnetwork", "calico-node"}) {
    std::string pid_file = run_dir + "/" + name + ".pid";
    pid_t pid = RunningPid(pid_file, name);
    if (pid == 0) continue;
    ::kill(pid, SIGTERM);
    for (int i = 0; i < 100 && RunningPid(pid_file, name) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (RunningPid(pid_file, name) != 0) ::kill(pid, SIGKILL);
    std::error_code ec;
    fs::remove(pid_file, ec);
    ctx.out << "Stopped " << name << " (PID " << pid << ").\n";
    ++stopped;
  }
  if (stopped == 0) ctx.out << "Calico node is not running.\n";
  return 0;
}

// After the BGP part: what calico-node's agent isolated or ignored (agent/status_file.h). No
// file (an older calico-node, or one not started yet) prints nothing; a damaged one a warning.
void PrintAgentStatus(const std::string& run_dir, Context& ctx) {
  auto status = agent::ReadAgentStatusFile(run_dir + "/" + agent::kAgentStatusFileName);
  if (!status) {
    if (status.error().code() != ErrorCode::kNotFound) {
      ctx.err << "Warning: cannot read calico-node's policy status: " << status.error().message()
              << "\n";
    }
    return;
  }
  ctx.out << agent::RenderAgentStatusSection(*status);
}

int NodeStatus(const FlagSet& f, const NodeCommandDeps& deps, Context& ctx) {
  if (::geteuid() != 0) {
    ctx.err << "This command must be run as root.\n";
    return 1;
  }
  if (!AnyProcessNamed("calico-node")) {
    ctx.err << "Calico process is not running.\n";
    return 1;
  }
  ctx.out << "Calico process is running.\n";
  if (!AnyProcessNamed("bird") && !AnyProcessNamed("bird6")) {
    ctx.out << "\nThe BGP backend process (BIRD) is not running.\n\n";
    PrintAgentStatus(f.GetString("run-dir"), ctx);
    return 0;
  }
  std::string socket = f.GetString("bird-socket");
  if (!f.Changed("bird-socket")) {
    for (const std::string& candidate :
         {f.GetString("run-dir") + "/bird.ctl", std::string("/var/run/calico/bird.ctl"),
          std::string("/var/run/bird/bird.ctl")}) {
      if (fs::exists(candidate)) {
        socket = candidate;
        break;
      }
    }
  }
  if (!deps.bgp_status) {
    ctx.err << "BGP status is not available in this build\n";
    return 1;
  }
  auto section = deps.bgp_status(socket);
  if (!section) {
    ctx.err << section.error().message() << "\n";
    return 1;
  }
  ctx.out << *section;
  PrintAgentStatus(f.GetString("run-dir"), ctx);
  return 0;
}

// `node counters`: which rule of this host's policy matched how often.
int NodeCounters(const FlagSet& f, const NodeCommandDeps& deps, Context& ctx) {
  if (!deps.rule_counters) {
    ctx.err << "rule counters are not available in this build\n";
    return 1;
  }
  auto counters = deps.rule_counters();
  if (!counters) {
    ctx.err << (counters.error().code() == ErrorCode::kNotFound
                    ? std::string("no calico table on this host: is calico-node running here?")
                    : counters.error().message())
            << "\n";
    return 1;
  }
  ctx.out << RenderRuleCounters(std::move(*counters), f.GetBool("all"));
  return 0;
}

struct CheckLine {
  std::string what;
  bool ok;
  std::string note;
};

int NodeCheckSystem(const FlagSet& f, Context& ctx) {
  bool all_ok = true;
  utsname u{};
  ::uname(&u);
  std::string release = u.release;
  // --kernel-config FILE, else the running kernel's configuration (kernel_config.h): built-in
  // modules (nf_tables is often =y) count as present.
  KernelSources sources;
  sources.modules_dir = "/lib/modules/" + release;
  const std::string config_path =
      f.Changed("kernel-config") ? f.GetString("kernel-config") : FindKernelConfig(release);
  if (!config_path.empty()) {
    auto text = ReadKernelConfig(config_path);
    if (!text && f.Changed("kernel-config")) {
      ctx.err << "Error: " << text.error().message() << "\n";
      return 1;
    }
    if (text) sources.config_text = std::move(*text);
  }
  // "6.1.0-18-amd64": the leading digits of the first two dot-separated parts.
  auto version_part = [&](size_t index) {
    std::vector<std::string> parts = StrSplit(release, '.');
    if (index >= parts.size()) return 0;
    const std::string& part = parts[index];
    return ParseInt<int>(part.substr(0, part.find_first_not_of("0123456789"))).value_or(0);
  };
  const int major = version_part(0);
  const int minor = version_part(1);
  ctx.out << "Checking kernel version...\n";
  bool kernel_ok = major > 4 || (major == 4 && minor >= 19);
  ctx.out << "\t\t" << release << "\t\t\t\t\t"
          << (kernel_ok ? "OK" : "FAIL (needs 4.19 or later for nftables sets and maps)") << "\n";
  all_ok = all_ok && kernel_ok;
  ctx.out << "Checking kernel modules...\n";
  for (const KernelModuleCheck& m : CalicoKernelModules()) {
    bool ok = KernelModuleAvailable(m, sources);
    ctx.out << "\t\t" << m.name << "\t\t\t\t\t"
            << (ok           ? "OK"
                : m.required ? "FAIL"
                             : "WARNING: not available (" + m.why + ")")
            << "\n";
    if (m.required && !ok) all_ok = false;
  }
  ctx.out << "Checking tools...\n";
  bool bird = !FindProgram("bird").empty();
  ctx.out << "\t\tbird\t\t\t\t\t" << (bird ? "OK" : "WARNING: not installed (needed for BGP)")
          << "\n";
  if (all_ok) {
    ctx.out << "System meets minimum system requirements to run Calico!\n";
    return 0;
  }
  ctx.out << "System doesn't meet one or more minimum systems requirements to run Calico\n";
  return 1;
}

int NodeDiags(const FlagSet& f, Context& ctx) {
  char tmpl[] = "/tmp/calico-diags-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    ctx.err << "Error: cannot create a temporary directory\n";
    return 1;
  }
  fs::path root = tmpl;
  fs::path dir = root / "diagnostics";
  fs::create_directories(dir);
  ctx.out << "Collecting diagnostics\n";
  // Each command's output (stdout and stderr) goes to its file; a command that fails or is
  // missing leaves its error there instead, and collection goes on (calicoctl's diags does too).
  auto run = [&](const std::string& file, const std::vector<std::string>& argv) {
    ctx.out << "Running " << StrJoin(argv, " ") << "\n";
    auto done =
        RunSubprocess({.argv = argv}, {.timeout = std::chrono::seconds(30), .merge_stderr = true});
    std::ofstream(dir / file, std::ios::binary)
        << (done ? done->out : done.error().message() + "\n");
  };
  run("date", {"date"});
  run("hostname", {"hostname"});
  run("ipaddr", {"ip", "addr"});
  run("iproute", {"ip", "route"});
  run("iproute6", {"ip", "-6", "route"});
  run("ipneigh", {"ip", "neigh"});
  run("nftables", {"nft", "list", "table", "inet", "calico"});
  run("processes", {"ps", "-eo", "pid,ppid,comm,args"});
  std::string run_dir = f.GetString("run-dir");
  std::error_code ec;
  if (fs::exists(run_dir + "/nodename")) fs::copy_file(run_dir + "/nodename", dir / "nodename", ec);
  // bird.conf holds the BGP passwords: "Removing secrets" below redacts them in the copy.
  if (fs::exists(run_dir + "/bird.conf"))
    fs::copy_file(run_dir + "/bird.conf", dir / "bird.conf", ec);
  if (fs::exists(run_dir + "/bird.ctl"))
    run("birdc-protocols", {"birdc", "-s", run_dir + "/bird.ctl", "show", "protocols", "all"});
  std::string log_dir = f.GetString("log-dir");
  ctx.out << "Copying Calico logs\n";
  if (fs::exists(log_dir)) fs::copy(log_dir, dir / "logs", fs::copy_options::recursive, ec);
  // Diagnostics are read by people and attached to bug reports: no secret leaves in them (BGP
  // passwords in bird.conf, etcd passwords in process arguments and logs, private keys).
  ctx.out << "Removing secrets\n";
  base::RedactFiles(dir);
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H-%M-%S", std::gmtime(&now));
  std::string tarball = std::string("/tmp/calico-diags-") + stamp + ".tar.gz";
  // Owner-only whatever the caller's umask (it holds addresses, rules and logs).
  auto tar = RunSubprocess(
      {.argv = {"tar", "-czf", tarball, "-C", root.string(), "diagnostics"}, .umask = 077},
      {.merge_stderr = true});
  if (!tar || tar->exit_code != 0) {
    ctx.err << "Error: cannot write " << tarball << "\n";
    fs::remove_all(root, ec);
    return 1;
  }
  fs::remove_all(root, ec);
  ctx.out << "\nDiags saved to " << tarball << "\n";
  return 0;
}

int NodeMain(std::span<const std::string> args, Context& ctx, const NodeCommandDeps& deps) {
  FlagSet f;
  f.AddString("config", 'c', std::string(kDefaultConfigPath), "Path to the client config file.");
  f.AddString("ip", 0, "", "Set the IP address of this node (or autodetect, none).");
  f.AddString("ip6", 0, "", "Set the IPv6 address of this node.");
  f.AddString("as", 0, "", "Set the AS number of this node.");
  f.AddString("name", 0, "", "The name of this node (default: the hostname).");
  f.AddString("ip-autodetection-method", 0, "first-found", "IPv4 autodetection method.");
  f.AddString("ip6-autodetection-method", 0, "first-found", "IPv6 autodetection method.");
  f.AddString("log-dir", 0, "/var/log/calico", "Directory for calico-node's logs.");
  f.AddString("run-dir", 0, "/var/run/calico",
              "Directory for PID files, the BIRD socket and the nodename.");
  f.AddString("backend", 0, "bird", "Networking backend: bird, vxlan or none.");
  f.AddString("bird-socket", 0, "/var/run/calico/bird.ctl", "BIRD control socket.");
  f.AddBool("no-default-ippools", 0, "Do not create default pools.");
  f.AddBool("libnetwork", 0, "Also start the Docker libnetwork driver.");
  f.AddString("libnetwork-socket", 0, "/run/docker/plugins/calico.sock",
              "Socket of the libnetwork driver.");
  f.AddBool("dryrun", 0, "Print the commands without running them.");
  f.AddBool("init-system", 0,
            "Print the systemd unit and /etc/calico/calico.env that run calico-node with these "
            "settings.");
  f.AddBool("all", 0, "node counters: also rules that never matched.");
  f.AddString("kernel-config", 'f', "",
              "node checksystem: override the kernel config file location.");
  f.AddString("log-level", 'l', "panic", "Log level.");
  if (Status st = f.Parse(args); !st) {
    ctx.err << st.error().message() << "\n" << kUsage;
    return 1;
  }
  if (f.positionals().size() > 1) {
    ctx.err << "Invalid option.\n" << kUsage;
    return 1;
  }
  // The calico-docker era's `calicoctl node [--libnetwork] [--ip=...]` starts the node.
  const std::string cmd = f.positionals().empty() ? "run" : f.positionals()[0];
  if (cmd == "run") return NodeRun(f, ctx);
  if (cmd == "stop") return NodeStop(f, ctx);
  if (cmd == "status") return NodeStatus(f, deps, ctx);
  if (cmd == "checksystem") return NodeCheckSystem(f, ctx);
  if (cmd == "diags") return NodeDiags(f, ctx);
  if (cmd == "counters") return NodeCounters(f, deps, ctx);
  ctx.err << "Invalid option: 'node " << cmd << "'.\n" << kUsage;
  return 1;
}

}  // namespace

Handler NodeCommand(NodeCommandDeps deps) {
  return [deps = std::move(deps)](std::span<const std::string> args, Context& ctx) {
    return NodeMain(args, ctx, deps);
  };
}

int RunNode(std::span<const std::string> args, Context& ctx) {
  return NodeMain(args, ctx, NodeCommandDeps{});
}

}  // namespace calico::ctl
