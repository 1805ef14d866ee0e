// calico-controllers: the datastore-only duties of Calico's kube-controllers (see
// src/calico/controllers/README.md). The command line is controllers::ParseCommandLine; the work
// is calico::controllers::Controllers.
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

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "calico/base/clock.h"
#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/controllers/command_line.h"
#include "calico/controllers/controllers.h"
#include "calico/datastore/client.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  g_stop = true;
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

int Fail(const std::string& msg) {
  std::cerr << "calico-controllers: " << msg << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::map<std::string, std::string> env = calico::CurrentEnvironment();
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = calico::controllers::ParseCommandLine(args, env);
    if (!parsed) {
      std::cerr << "calico-controllers: " << parsed.error().message() << "\n"
                << calico::controllers::Usage();
      return 2;
    }
    const calico::controllers::CommandLine& cl = *parsed;
    if (cl.version) {
      std::cout << "calico-controllers " << CALICO_VERSION << "\n";
      return 0;
    }
    if (cl.help) {
      std::cout << calico::controllers::Usage();
      return 0;
    }
    if (!cl.log_level.empty()) {
      env["LOG_LEVEL"] = cl.log_level;  // also wins over logSeverityScreen, as the variable does
      calico::log::SetAllLevels(calico::AsciiLower(cl.log_level));
    }

    calico::controllers::ControllersOptions options;
    options.env = env;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    options.identity =
        !cl.identity.empty() ? cl.identity : std::string(host) + "/" + std::to_string(::getpid());
    if (cl.lease) options.lease = *cl.lease;
    options.node_report_timeout = cl.node_report_timeout;

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
    if (cl.metrics_port) {
      metrics_port = *cl.metrics_port;
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
    if (auto st = server.Start(cl.metrics_host, metrics_port); !st) {
      return Fail(st.error().message());
    }

    calico::controllers::LinuxNodeInspector inspector(LocalNode(env), cl.node_netns_pattern);
    calico::SystemClock clock;
    ::signal(SIGTERM, OnSignal);
    ::signal(SIGINT, OnSignal);
    std::cerr << "calico-controllers: starting identity=" << options.identity
              << " lease=" << options.lease.count() << "s metrics=" << cl.metrics_host << ":"
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
