// calico-lab's command line; see args.h.
#include "calico/lab/args.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/net/ip.h"

namespace calico::lab {
namespace {

struct FlagSpec {
  std::string_view name;
  char shorthand = 0;
  bool takes_value = false;
};

constexpr FlagSpec kGlobalFlags[] = {
    {"bin", 0, true}, {"state-dir", 0, true}, {"verbose", 'v', false}, {"help", 'h', false}};

struct Scanned {
  std::map<std::string, std::vector<std::string>, std::less<>> values;  // flag -> values given
  std::vector<std::string> positionals;
  std::vector<std::string> command;  // after "--" (or after the last positional, see Scan)
  bool dashdash = false;
};

const FlagSpec* FindFlag(std::span<const FlagSpec> specs, std::string_view name, char shorthand) {
  for (const FlagSpec& f : specs) {
    if ((!name.empty() && f.name == name) || (shorthand != 0 && f.shorthand == shorthand)) {
      return &f;
    }
  }
  return nullptr;
}

std::string Prefix(std::string_view cmd) {
  return cmd.empty() ? "" : std::string(cmd) + ": ";
}

// Scans args[start...]. Flags from `specs` or the global flags are taken anywhere before "--".
// When `positionals_then_command` is non-zero, the tokens after that many positionals are the
// command (a leading "--" is dropped). When `stop_at_positional` is set, scanning stops at the
// first positional (the command word), leaving it and the rest in `command`.
Result<Scanned> Scan(std::span<const std::string> args, std::span<const FlagSpec> specs,
                     std::string_view cmd, size_t positionals_then_command,
                     bool stop_at_positional) {
  Scanned out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (positionals_then_command != 0 && out.positionals.size() == positionals_then_command) {
      size_t from = (a == "--") ? i + 1 : i;
      out.dashdash = a == "--";
      out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(from), args.end());
      return out;
    }
    if (a == "--") {
      out.dashdash = true;
      out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      return out;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (stop_at_positional) {
        out.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
        return out;
      }
      out.positionals.push_back(a);
      continue;
    }
    std::string_view body = a;
    std::string name;
    char shorthand = 0;
    std::optional<std::string> inline_value;
    if (body.starts_with("--")) {
      body.remove_prefix(2);
      size_t eq = body.find('=');
      name = std::string(body.substr(0, eq));
      if (eq != std::string_view::npos) inline_value = std::string(body.substr(eq + 1));
    } else {
      body.remove_prefix(1);
      shorthand = body[0];
      if (body.size() > 1) {
        inline_value = std::string(body.substr(body[1] == '=' ? 2 : 1));
      }
    }
    const FlagSpec* spec = FindFlag(specs, name, shorthand);
    if (spec == nullptr) spec = FindFlag(kGlobalFlags, name, shorthand);
    if (spec == nullptr) return InvalidArgument(Prefix(cmd) + "unknown flag " + a);
    std::string value;
    if (spec->takes_value) {
      if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return InvalidArgument(Prefix(cmd) + "flag --" + std::string(spec->name) +
                               " needs a value");
      }
    } else if (inline_value) {
      return InvalidArgument(Prefix(cmd) + "flag --" + std::string(spec->name) + " takes no value");
    }
    out.values[std::string(spec->name)].push_back(value);
  }
  return out;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63: a Kubernetes namespace name.
bool IsDnsLabelName(std::string_view s) {
  if (s.empty() || s.size() > 63 || s.front() == '-' || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

bool Has(const Scanned& s, std::string_view flag) {
  return s.values.contains(flag);
}
std::string Last(const Scanned& s, std::string_view flag) {
  auto it = s.values.find(flag);
  return it == s.values.end() ? "" : it->second.back();
}

// Global flags may also follow the command word.
void ApplyGlobal(const Scanned& s, GlobalOptions& g) {
  if (Has(s, "bin")) g.bin_dir = Last(s, "bin");
  if (Has(s, "state-dir")) g.state_dir = Last(s, "state-dir");
  if (Has(s, "verbose")) g.verbose = true;
}

Status ExpectPositionals(const Scanned& s, std::string_view cmd, size_t want,
                         std::string_view what) {
  if (s.positionals.size() < want) {
    return InvalidArgument(std::string(cmd) + ": missing " + std::string(what));
  }
  if (s.positionals.size() > want) {
    return InvalidArgument(std::string(cmd) + ": unexpected argument \"" + s.positionals[want] +
                           "\"" + (cmd == "run" ? " (put the command after --)" : ""));
  }
  return OkStatus();
}

Status NoCommand(const Scanned& s, std::string_view cmd) {
  if (s.dashdash || !s.command.empty()) {
    return InvalidArgument(std::string(cmd) + ": takes no command after --");
  }
  return OkStatus();
}

Result<Command> ParseUp(const Scanned& s) {
  RETURN_IF_ERROR(ExpectPositionals(s, "up", 0, ""));
  RETURN_IF_ERROR(NoCommand(s, "up"));
  UpCommand up;
  if (Has(s, "hosts")) {
    std::string text = Last(s, "hosts");
    Result<int> n = ParseIntInRange<int>(text, 1, kMaxHosts);
    if (!n) {
      return InvalidArgument("up: invalid --hosts \"" + text + "\" (1-" +
                             std::to_string(kMaxHosts) + ")");
    }
    up.hosts = *n;
  }
  if (Has(s, "datastore")) {
    auto d = ParseDatastore(Last(s, "datastore"));
    if (!d) return Unexpected(std::move(d).error().Wrap("up"));
    up.datastore = *d;
  }
  if (Has(s, "backend")) {
    auto b = ParseBackend(Last(s, "backend"));
    if (!b) return Unexpected(std::move(b).error().Wrap("up"));
    up.backend = *b;
  }
  if (Has(s, "etcd-members")) {
    std::string text = Last(s, "etcd-members");
    const Result<int> members = ParseIntInRange<int>(text, 1, 5);
    if (!members) return InvalidArgument("up: invalid --etcd-members \"" + text + "\" (1-5)");
    const int n = *members;
    if (up.datastore != Datastore::kEtcd && n != 1) {
      return InvalidArgument("up: --etcd-members needs --datastore etcd");
    }
    up.etcd_members = n;
  }
  up.ipv6 = Has(s, "ipv6");
  up.controllers = !Has(s, "no-controllers");
  if (Has(s, "node-cmd")) {
    up.node_command = SplitCommand(Last(s, "node-cmd"));
    if (up.node_command.empty()) return InvalidArgument("up: --node-cmd is empty");
  }
  return up;
}

Result<Command> ParseRun(const Scanned& s) {
  RETURN_IF_ERROR(ExpectPositionals(s, "run", 1, "HOST"));
  RunCommand run;
  run.host = s.positionals[0];
  for (const std::string& v :
       s.values.contains("net") ? s.values.at("net") : std::vector<std::string>{}) {
    for (std::string& net : StrSplit(v, ',', true)) {
      RETURN_IF_ERROR(ValidateNetworkName(net));
      if (std::find(run.nets.begin(), run.nets.end(), net) != run.nets.end()) {
        return InvalidArgument("run: network " + net + " given twice");
      }
      run.nets.push_back(std::move(net));
    }
  }
  if (Has(s, "namespace")) {
    run.k8s_namespace = Last(s, "namespace");
    if (!IsDnsLabelName(run.k8s_namespace)) {
      return InvalidArgument("run: invalid --namespace \"" + run.k8s_namespace +
                             "\" (a DNS label: lower case letters, digits and '-')");
    }
    if (run.nets.empty()) run.nets.emplace_back(kK8sNetworkName);
  }
  for (const std::string& l :
       s.values.contains("label") ? s.values.at("label") : std::vector<std::string>{}) {
    auto eq = l.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidArgument("run: invalid --label \"" + l + "\" (KEY=VALUE)");
    }
    run.labels[l.substr(0, eq)] = l.substr(eq + 1);
  }
  for (const std::string& p :
       s.values.contains("port") ? s.values.at("port") : std::vector<std::string>{}) {
    // NAME=PORT[/PROTO]
    PodPort port;
    auto eq = p.find('=');
    auto slash = p.find('/');
    std::string number =
        p.substr(eq == std::string::npos ? 0 : eq + 1,
                 slash == std::string::npos ? std::string::npos : slash - (eq + 1));
    port.name = eq == std::string::npos ? "" : p.substr(0, eq);
    if (slash != std::string::npos) port.protocol = p.substr(slash + 1);
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), port.port);
    if (port.name.empty() || ec != std::errc() || end != number.data() + number.size() ||
        port.port < 1 || port.port > 65535 ||
        (port.protocol != "TCP" && port.protocol != "UDP" && port.protocol != "SCTP")) {
      return InvalidArgument("run: invalid --port \"" + p +
                             "\" (NAME=PORT[/TCP|UDP|SCTP], e.g. http=8080/TCP)");
    }
    run.ports.push_back(port);
  }
  if ((!run.labels.empty() || !run.ports.empty()) && run.k8s_namespace.empty()) {
    return InvalidArgument("run: --label and --port describe a pod: give its --namespace too");
  }
  if (run.nets.empty()) return InvalidArgument("run: missing --net NET (or --namespace NS)");
  if (!Has(s, "name")) return InvalidArgument("run: missing --name NAME");
  run.name = Last(s, "name");
  RETURN_IF_ERROR(ValidateWorkloadName(run.name));
  if (Has(s, "ip")) {
    run.ip = Last(s, "ip");
    if (!net::IPAddr::Parse(run.ip)) {
      return InvalidArgument("run: invalid --ip \"" + run.ip + "\" (an IPv4 or IPv6 address)");
    }
  }
  if (!s.dashdash || s.command.empty()) {
    return InvalidArgument(
        "run: missing the command (calico-lab run HOST --net NET --name NAME -- CMD...)");
  }
  run.argv = s.command;
  return run;
}

}  // namespace

std::string_view DatastoreName(Datastore d) {
  return d == Datastore::kEtcd ? "etcd" : "local";
}
std::string_view BackendName(Backend b) {
  return b == Backend::kVxlan ? "vxlan" : "bird";
}

Result<Datastore> ParseDatastore(std::string_view text) {
  if (text == "local") return Datastore::kLocal;
  if (text == "etcd" || text == "etcdv3") return Datastore::kEtcd;
  return InvalidArgument("invalid datastore \"" + std::string(text) + "\" (local or etcd)");
}

Result<Backend> ParseBackend(std::string_view text) {
  if (text == "bird") return Backend::kBird;
  if (text == "vxlan") return Backend::kVxlan;
  return InvalidArgument("invalid backend \"" + std::string(text) + "\" (bird or vxlan)");
}

std::vector<std::string> SplitCommand(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

Status ValidateWorkloadName(std::string_view name) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument("invalid workload name \"" + std::string(name) + "\": " + why);
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 40) return bad("longer than 40 characters");
  if (std::isalnum(static_cast<unsigned char>(name[0])) == 0) {
    return bad("must start with a letter or digit");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    if (!ok) return bad("only a-z, 0-9, '-', '_' and '.' are allowed");
  }
  if (name == "node") return bad("reserved (list shows the hosts' node processes as \"node\")");
  return OkStatus();
}

Status ValidateNetworkName(std::string_view name) {
  bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
  if (!ok) {
    return InvalidArgument("invalid network name \"" + std::string(name) +
                           "\": only letters, digits, '_', '.' and '-' are allowed");
  }
  return OkStatus();
}

Result<Invocation> ParseArgs(std::span<const std::string> args) {
  Invocation inv;
  // Global flags, up to the command word.
  ASSIGN_OR_RETURN(Scanned head, Scan(args, {}, "", 0, true));
  ApplyGlobal(head, inv.global);
  if (Has(head, "help") || head.command.empty()) {
    if (!Has(head, "help") && head.dashdash) return InvalidArgument("missing command");
    if (!Has(head, "help")) return InvalidArgument("missing command (see calico-lab --help)");
    inv.command = HelpCommand{};
    return inv;
  }
  const std::string cmd = head.command[0];
  std::span<const std::string> rest = std::span(head.command).subspan(1);
  static constexpr FlagSpec kUpFlags[] = {{"hosts", 0, true},          {"datastore", 0, true},
                                          {"backend", 0, true},        {"ipv6", 0, false},
                                          {"node-cmd", 0, true},       {"etcd-members", 0, true},
                                          {"no-controllers", 0, false}};
  static constexpr FlagSpec kRunFlags[] = {{"net", 0, true},   {"ip", 0, true},
                                           {"name", 0, true},  {"namespace", 0, true},
                                           {"label", 0, true}, {"port", 0, true}};
  Scanned s;
  if (cmd == "up") {
    ASSIGN_OR_RETURN(s, Scan(rest, kUpFlags, cmd, 0, false));
  } else if (cmd == "run") {
    ASSIGN_OR_RETURN(s, Scan(rest, kRunFlags, cmd, 0, false));
  } else if (cmd == "exec" || cmd == "host") {
    ASSIGN_OR_RETURN(s, Scan(rest, {}, cmd, 1, false));
  } else if (cmd == "tutorial") {
    static constexpr FlagSpec kTutorialFlags[] = {{"datastore", 0, true}, {"keep", 0, false}};
    ASSIGN_OR_RETURN(s, Scan(rest, kTutorialFlags, cmd, 0, false));
  } else if (cmd == "stop") {
    static constexpr FlagSpec kStopFlags[] = {{"kill", 0, false}};
    ASSIGN_OR_RETURN(s, Scan(rest, kStopFlags, cmd, 0, false));
  } else if (cmd == "list" || cmd == "rm" || cmd == "down" || cmd == "help" || cmd == "start") {
    ASSIGN_OR_RETURN(s, Scan(rest, {}, cmd, 0, false));
  } else {
    return InvalidArgument("unknown command \"" + cmd + "\" (see calico-lab --help)");
  }
  ApplyGlobal(s, inv.global);
  if (Has(s, "help") || cmd == "help") {
    inv.command = HelpCommand{};
    return inv;
  }
  if (cmd == "up") {
    ASSIGN_OR_RETURN(inv.command, ParseUp(s));
  } else if (cmd == "run") {
    ASSIGN_OR_RETURN(inv.command, ParseRun(s));
  } else if (cmd == "exec" || cmd == "host") {
    std::string_view what = cmd == "exec" ? "NAME" : "HOST";
    if (s.positionals.empty()) return InvalidArgument(cmd + ": missing " + std::string(what));
    if (s.command.empty()) {
      return InvalidArgument(cmd + ": missing the command after " + std::string(what));
    }
    if (cmd == "exec") {
      inv.command = ExecCommand{s.positionals[0], s.command};
    } else {
      inv.command = HostCommand{s.positionals[0], s.command};
    }
  } else if (cmd == "list" || cmd == "down") {
    RETURN_IF_ERROR(ExpectPositionals(s, cmd, 0, ""));
    RETURN_IF_ERROR(NoCommand(s, cmd));
    if (cmd == "list") {
      inv.command = ListCommand{};
    } else {
      inv.command = DownCommand{};
    }
  } else if (cmd == "rm") {
    RETURN_IF_ERROR(ExpectPositionals(s, cmd, 1, "NAME"));
    RETURN_IF_ERROR(NoCommand(s, cmd));
    inv.command = RmCommand{s.positionals[0]};
  } else if (cmd == "stop" || cmd == "start") {
    RETURN_IF_ERROR(ExpectPositionals(s, cmd, 1, "HOST or etcd member"));
    RETURN_IF_ERROR(NoCommand(s, cmd));
    if (cmd == "stop") {
      inv.command = StopCommand{s.positionals[0], Has(s, "kill")};
    } else {
      inv.command = StartCommand{s.positionals[0]};
    }
  } else {  // tutorial
    RETURN_IF_ERROR(ExpectPositionals(s, cmd, 1, "NAME (rkt, isolation or libnetwork)"));
    RETURN_IF_ERROR(NoCommand(s, cmd));
    TutorialCommand t{s.positionals[0]};
    if (t.name != "rkt" && t.name != "isolation" && t.name != "libnetwork") {
      return InvalidArgument("tutorial: unknown tutorial \"" + t.name +
                             "\" (rkt, isolation or libnetwork)");
    }
    if (Has(s, "datastore")) {
      t.datastore = Last(s, "datastore");
      if (t.datastore != "local" && t.datastore != "etcd") {
        return InvalidArgument("tutorial: --datastore must be local or etcd, not \"" + t.datastore +
                               "\"");
      }
    }
    t.keep = Has(s, "keep");
    inv.command = t;
  }
  return inv;
}

std::string Usage() {
  return R"(calico-lab: a multi-host Calico lab in network namespaces

Usage: calico-lab [--bin DIR] [--state-dir DIR] [-v] COMMAND ...

Commands:
  up [--hosts N] [--datastore local|etcd] [--etcd-members N] [--backend bird|vxlan] [--ipv6]
     [--node-cmd CMD] [--no-controllers]
        start hosts calico-01..N (default 2) on a fabric bridge, the datastore (etcd: N members,
        default 1, on 198.18.0.1, .2, ...), the lab IP pools (198.19.0.0/16, fd00:198:19::/48
        with --ipv6), the node process on every host and calico-controllers in the fabric
        namespace
  run HOST --net NET[,NET...] [--ip ADDR] --name NAME -- CMD...
        network a new workload on HOST through the CNI plugins (like rkt run --net=NET), start
        CMD in it in the background and print its IP
  run HOST --namespace NS [--label K=V]... [--port NAME=PORT[/PROTO]]... --name NAME -- CMD...
        the same for a Kubernetes pod NAME in namespace NS (created when missing) on the
        k8s-pod-network network (policy type k8s: profile kns.NS, Kubernetes NetworkPolicy)
  list  workloads and node processes: NAME HOST NETS IPS STATE
  exec NAME [--] CMD...   run CMD inside a workload (stdin, stdout and exit code pass through)
  host HOST [--] CMD...   run CMD on a lab host with its environment (calicoctl, etcdctl, birdc)
  rm NAME                 stop a workload, CNI DEL, remove its namespace
  stop HOST|etcd|etcd-N [--kill]
                          stop a host's node process (BIRD, its child, is left running) or an
                          etcd member: SIGTERM, or SIGKILL with --kill
  start HOST|etcd|etcd-N  start it again (after stop, or after it died)
  down                    stop and remove everything the lab started (also after a crash)
  tutorial rkt|isolation|libnetwork [--datastore local|etcd] [--keep]
        replay a seed tutorial step by step on a fresh lab, narrated, checking every expectation
        (rkt: two CNI networks across two hosts; isolation: fixed addresses with IP=, cniVersion
        0.1.0; libnetwork: Docker with the calico network and IPAM drivers); --keep leaves the
        lab up to play with afterwards

Global flags:
  --bin DIR        where calico, calico-ipam, calicoctl and calico-node are
                   (default: CALICO_LAB_BIN, else the directory of calico-lab)
  --state-dir DIR  lab state (default: CALICO_LAB_STATE_DIR, else /run/calico-lab)
  -v, --verbose    print the commands the lab runs
The node command defaults to CALICO_LAB_NODE_CMD, else ")" +
         std::string(kDefaultNodeCommand) + R"(".
)";
}

}  // namespace calico::lab
