// calico-controllers: the datastore-only duties of Calico's kube-controllers (see
// src/calico/controllers/README.md). Flags only; the work is calico::controllers::Controllers.
//
//   calico-controllers [--identity NAME] [--lease-duration 15s] [--metrics-port N]
//                      [--metrics-host ADDR] [--node-netns-pattern /run/netns/{node}]
//                      [--node-report-timeout DURATION] [--log-level LEVEL]
//   calico-controllers -v | --version
//
// Datastore: as calicoctl (DATASTORE_TYPE, ETCD_ENDPOINTS, CALICO_DATASTORE_PATH, ...).
// Environment as kube-controllers: ENABLED_CONTROLLERS, RECONCILER_PERIOD, LOG_LEVEL,
// HEALTH_ENABLED; NODENAME (or /var/lib/calico/nodename) names the node this process runs on;
// NODE_REPORT_TIMEOUT as --node-report-timeout.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "calico/base/clock.h"
#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/controllers/controllers.h"
#include "calico/datastore/client.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"

extern char** environ;

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  g_stop = true;
}

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string LocalNode(const std::map<std::string, std::string>& env) {
  if (auto it = env.find("NODENAME"); it != env.end() && !it->second.empty()) return it->second;
  std::string file = env.count("CALICO_NODENAME_FILE") ? env.at("CALICO_NODENAME_FILE")
                                                       : std::string("/var/lib/calico/nodename");
  if (std::ifstream in(file); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    return std::string(calico::StrTrim(ss.str()));
  }
  return "";
}

int Usage(std::ostream& out, int code) {
  out << "usage: calico-controllers [--identity NAME] [--lease-duration 15s] [--metrics-port N]\n"
         "                          [--metrics-host ADDR] [--node-netns-pattern PATH_WITH_{node}]\n"
         "                          [--node-report-timeout DURATION] [--log-level LEVEL]\n"
         "       calico-controllers -v | --version\n";
  return code;
}

int Fail(const std::string& msg) {
  std::cerr << "calico-controllers: " << msg << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, std::string> env = Environment();
    std::map<std::string, std::string> flags;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-v" || a == "--version") {
        std::cout << "calico-controllers " << CALICO_VERSION << "\n";
        return 0;
      }
      if (a == "-h" || a == "--help") return Usage(std::cout, 0);
      if (!calico::StartsWith(a, "--")) return Usage(std::cerr, 2);
      std::string name = a.substr(2);
      std::string value;
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return Fail("flag --" + name + " needs a value");
      }
      static const char* kKnown[] = {"identity",     "lease-duration",     "metrics-port",
                                     "metrics-host", "node-netns-pattern", "node-report-timeout",
                                     "log-level"};
      if (std::find(std::begin(kKnown), std::end(kKnown), name) == std::end(kKnown)) {
        std::cerr << "calico-controllers: unknown flag --" << name << "\n";
        return Usage(std::cerr, 2);
      }
      flags[name] = value;
    }
    if (flags.count("log-level")) env["LOG_LEVEL"] = flags["log-level"];
    if (env.count("LOG_LEVEL")) calico::log::SetAllLevels(calico::AsciiLower(env["LOG_LEVEL"]));

    calico::controllers::ControllersOptions options;
    options.env = env;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    options.identity = flags.count("identity")
                           ? flags["identity"]
                           : std::string(host) + "/" + std::to_string(::getpid());
    if (flags.count("lease-duration")) {
      auto d = calico::controllers::ParseDuration(flags["lease-duration"]);
      if (!d || d->count() < 3000) return Fail("--lease-duration: at least 3s, e.g. 15s");
      options.lease = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    std::string timeout = flags.count("node-report-timeout") ? flags["node-report-timeout"]
                          : env.count("NODE_REPORT_TIMEOUT") ? env["NODE_REPORT_TIMEOUT"]
                                                             : "";
    if (!timeout.empty()) {
      auto d = calico::controllers::ParseDuration(timeout);
      if (!d || d->count() < 0) return Fail("--node-report-timeout: not a duration: " + timeout);
      options.node_report_timeout = *d;
    }

    auto cfg = calico::datastore::ClientConfigFromEnv();
    if (!cfg) return Fail(cfg.error().message());
    std::unique_ptr<calico::datastore::Backend> backend;
    for (int attempt = 0; !g_stop; ++attempt) {
      auto b = calico::datastore::OpenBackend(*cfg);
      if (b) {
        backend = std::move(*b);
        break;
      }
      if (attempt == 0)
        std::cerr << "calico-controllers: waiting for the datastore: " << b.error().message()
                  << "\n";
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    if (!backend) return 1;

    // The metrics port: the flag, else KubeControllersConfiguration's prometheusMetricsPort.
    int metrics_port = calico::controllers::kDefaultMetricsPort;
    if (flags.count("metrics-port")) {
      const std::string& text = flags["metrics-port"];
      int port = -1;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
      if (ec != std::errc() || end != text.data() + text.size() || port < 0 || port > 65535) {
        return Fail("--metrics-port: not a port number: " + text);
      }
      metrics_port = port;
    } else {
      calico::datastore::Client client(*backend);
      auto kcc = client.Get("KubeControllersConfiguration", "", "default");
      if (kcc) {
        auto merged = calico::controllers::MergeConfig(env, *kcc);
        if (merged) metrics_port = merged->prometheus_metrics_port;
      }
    }
    calico::controllers::ControllerMetrics metrics;
    calico::controllers::MetricsServer server(metrics);
    std::string metrics_host = flags.count("metrics-host") ? flags["metrics-host"] : "0.0.0.0";
    if (auto st = server.Start(metrics_host, metrics_port); !st) return Fail(st.error().message());

    calico::controllers::LinuxNodeInspector inspector(
        LocalNode(env), flags.count("node-netns-pattern") ? flags["node-netns-pattern"] : "");
    calico::SystemClock clock;
    ::signal(SIGTERM, OnSignal);
    ::signal(SIGINT, OnSignal);
    std::cerr << "calico-controllers: starting identity=" << options.identity
              << " lease=" << options.lease.count() << "s metrics=" << metrics_host << ":"
              << metrics_port << "\n";
    calico::controllers::Controllers controllers(*backend, inspector, clock, metrics, options);
    auto st = controllers.Run(g_stop);
    server.Stop();
    if (!st) return Fail(st.error().message());
    return 0;
  } catch (const std::exception& e) {
    return Fail(std::string("internal error: ") + e.what());
  }
}
