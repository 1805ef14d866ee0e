// See command_line.h.
#include "calico/controllers/command_line.h"

#include <algorithm>
#include <charconv>

#include "calico/base/strings.h"

namespace calico::controllers {

std::string Usage() {
  return "usage: calico-controllers [--identity NAME] [--lease-duration 15s] [--metrics-port N]\n"
         "                          [--metrics-host ADDR] [--node-netns-pattern PATH_WITH_{node}]\n"
         "                          [--node-report-timeout DURATION] [--log-level LEVEL]\n"
         "       calico-controllers -v | --version\n";
}

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args,
                                     const std::map<std::string, std::string>& env) {
  static const std::vector<std::string> kKnown = {
      "identity",           "lease-duration",      "metrics-port", "metrics-host",
      "node-netns-pattern", "node-report-timeout", "log-level"};
  CommandLine cl;
  std::map<std::string, std::string> flags;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-v" || a == "--version") {
      cl.version = true;
      return cl;
    }
    if (a == "-h" || a == "--help") {
      cl.help = true;
      return cl;
    }
    if (!StartsWith(a, "--")) return InvalidArgument("unexpected argument \"" + a + "\"");
    std::string name = a.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (std::find(kKnown.begin(), kKnown.end(), name) == kKnown.end()) {
      return InvalidArgument("unknown flag --" + name);
    }
    if (!value) {
      if (i + 1 >= args.size()) return InvalidArgument("flag --" + name + " needs a value");
      value = args[++i];
    }
    flags[name] = *value;
  }
  auto flag = [&](const std::string& name) -> const std::string* {
    auto it = flags.find(name);
    return it == flags.end() ? nullptr : &it->second;
  };
  if (const auto* v = flag("identity")) {
    if (v->empty()) return InvalidArgument("--identity: must not be empty");
    cl.identity = *v;
  }
  if (const auto* v = flag("lease-duration")) {
    auto d = ParseDuration(*v);
    if (!d || d->count() < 3000) {
      return InvalidArgument("--lease-duration: at least 3s, e.g. 15s (got \"" + *v + "\")");
    }
    cl.lease = std::chrono::duration_cast<std::chrono::seconds>(*d);
  }
  if (const auto* v = flag("metrics-port")) {
    int port = -1;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), port);
    if (v->empty() || ec != std::errc() || end != v->data() + v->size() || port < 0 ||
        port > 65535) {
      return InvalidArgument("--metrics-port: not a port number: " + *v);
    }
    cl.metrics_port = port;
  }
  if (const auto* v = flag("metrics-host")) {
    if (v->empty()) return InvalidArgument("--metrics-host: must not be empty");
    cl.metrics_host = *v;
  }
  if (const auto* v = flag("node-netns-pattern")) {
    if (v->find("{node}") == std::string::npos) {
      return InvalidArgument("--node-netns-pattern: must contain {node}, e.g. /run/netns/{node}");
    }
    cl.node_netns_pattern = *v;
  }
  std::string source = "--node-report-timeout";
  std::string timeout;
  if (const auto* v = flag("node-report-timeout")) {
    timeout = *v;
  } else if (auto it = env.find("NODE_REPORT_TIMEOUT"); it != env.end()) {
    source = "NODE_REPORT_TIMEOUT";
    timeout = it->second;
  }
  if (!timeout.empty()) {
    auto d = ParseDuration(timeout);
    if (!d || d->count() < 0) return InvalidArgument(source + ": not a duration: " + timeout);
    cl.node_report_timeout = *d;
  }
  if (const auto* v = flag("log-level")) {
    cl.log_level = *v;
  } else if (auto it = env.find("LOG_LEVEL"); it != env.end()) {
    cl.log_level = it->second;
  }
  return cl;
}

}  // namespace calico::controllers
