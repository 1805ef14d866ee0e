// calico-node: the per-host process.
//   calico-node -felix     the agent: datastore -> nftables policy and routes (until SIGTERM)
//   calico-node -v         version
// Configuration: NODENAME (else /var/lib/calico/nodename, else the hostname), the datastore as
// calicoctl takes it (DATASTORE_TYPE, ETCD_ENDPOINTS, CALICO_DATASTORE_PATH, ...), and Felix's
// settings from FelixConfiguration "default" / "node.<name>" and FELIX_* variables.
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

#include "calico/agent/agent.h"
#include "calico/agent/config.h"
#include "calico/agent/http.h"
#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/datastore/client.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"

extern char** environ;

namespace {

std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

std::map<std::string, std::string> Environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

std::string NodeName(const std::map<std::string, std::string>& env) {
  for (const char* key : {"NODENAME", "FELIX_FELIXHOSTNAME"}) {
    auto it = env.find(key);
    if (it != env.end() && !it->second.empty()) return it->second;
  }
  auto file = env.count("CALICO_NODENAME_FILE") ? env.at("CALICO_NODENAME_FILE")
                                                : std::string("/var/lib/calico/nodename");
  if (std::ifstream in(file); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    std::string name(calico::StrTrim(ss.str()));
    if (!name.empty()) return name;
  }
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return calico::AsciiLower(calico::StrTrim(host));
}

int Fail(const std::string& msg) {
  std::cerr << "calico-node: " << msg << "\n";
  return 1;
}

int RunFelix(const std::map<std::string, std::string>& env) {
  std::string node = NodeName(env);
  auto cfg = calico::datastore::ClientConfigFromEnv();
  if (!cfg) return Fail(cfg.error().message());
  std::unique_ptr<calico::datastore::Backend> backend;
  for (int attempt = 0; !g_stop; ++attempt) {
    auto b = calico::datastore::OpenBackend(*cfg);
    if (b) {
      backend = std::move(*b);
      break;
    }
    if (attempt == 0) std::cerr << "calico-node: waiting for the datastore: " << b.error().message() << "\n";
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (!backend) return 0;
  calico::datastore::Client client(*backend);
  auto global = client.Get("FelixConfiguration", "", "default");
  auto per_node = client.Get("FelixConfiguration", "", "node." + node);
  auto settings = calico::agent::LoadFelixSettings(env, node, global ? &*global : nullptr,
                                                   per_node ? &*per_node : nullptr);
  if (!settings) return Fail(settings.error().message());
  calico::log::SetAllLevels(settings->log_severity);

  calico::agent::Metrics metrics;
  calico::agent::HttpEndpoints http(metrics);
  auto started = http.Start(settings->health_host, settings->health_enabled ? settings->health_port : 0,
                            settings->prometheus_host,
                            settings->prometheus_enabled ? settings->prometheus_port : 0);
  if (!started) return Fail(started.error().message());
  calico::agent::NftPolicyProgrammer policy;
  calico::agent::NetlinkRouteProgrammer routes(80, settings->agent.render.interface_prefixes);
  calico::agent::Agent agent(settings->agent, *backend, policy, routes, metrics);
  std::cerr << "calico-node: agent for node " << node << " on " << backend->Describe() << "\n";
  auto st = agent.Run(g_stop);
  http.Stop();
  if (!st) return Fail(st.error().message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "-v" || mode == "--version") {
    std::cout << "calico-node v0.1.0\n";
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  if (mode == "-felix") return RunFelix(Environment());
  std::cerr << "usage: calico-node -felix | -v\n";
  return 2;
}
