// calico-node: the per-host process.
//   calico-node            start-up (Node resource, addresses, default pools, nodename file),
//                          then the agent until SIGTERM
//   calico-node -startup   start-up only (exits 0 when done)
//   calico-node -felix     the agent only: datastore -> nftables policy and routes (until SIGTERM)
//   calico-node -v         version
//   calico-node -h         usage (the man page is generated from it)
// Configuration: NODENAME (else /var/lib/calico/nodename, else the hostname), the datastore as
// calicoctl takes it (DATASTORE_TYPE, ETCD_ENDPOINTS, CALICO_DATASTORE_PATH, ...), and Felix's
// settings from FelixConfiguration "default" / "node.<name>" and FELIX_* variables; for BGP,
// CALICO_NETWORKING_BACKEND (bird), CALICO_RUN_DIR, CALICO_SECRETS_DIR (BGP password secrets as
// <dir>/<name>/<key>, default /etc/calico/secrets) and CALICO_ROUTER_ID.
// Exit codes: 0 after SIGTERM/SIGINT, 1 on errors, 2 for usage errors, 78 (EX_CONFIG) when the
// datastore holds data of a newer schema than this binary reads (datastore/schema.h): the
// systemd unit does not restart it then (RestartPreventExitStatus=78).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "calico/agent/agent.h"
#include "calico/agent/config.h"
#include "calico/agent/http.h"
#include "calico/agent/linux/dataplane.h"
#include "calico/agent/mtu.h"
#include "calico/agent/status_file.h"
#include "calico/agent/tunnel_addr.h"
#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/bird/bird_reconciler.h"
#include "calico/bird/bird_supervisor.h"
#include "calico/dataplane/netlink.h"
#include "calico/datastore/client.h"
#include "calico/datastore/config.h"
#include "calico/datastore/factory/factory.h"
#include "calico/datastore/schema.h"
#include "calico/flowlog/flows_codec.h"
#include "calico/flowlog/linux/node_flow_logs.h"
#include "calico/ipam/ipam.h"
#include "calico/node/netlink_address_source.h"
#include "calico/node/node_status_reporter.h"
#include "calico/node/startup.h"
#include "calico/node/status_report.h"

#ifndef CALICO_VERSION
#define CALICO_VERSION "0.0.0"
#endif

namespace {

// sysexits.h EX_CONFIG: the datastore is newer than this binary (see the unit's
// RestartPreventExitStatus).
constexpr int kExitNewerSchema = 78;

constexpr const char* kUsage = R"(Usage: calico-node [-startup | -felix | -v | -h]

The per-host Calico agent. Without a flag it runs the node start-up (the Node resource with this
host's addresses and AS, the default IP pools, the nodename file for the CNI plugin), then the
agent until SIGTERM: nftables policy, routes to local workloads, the VXLAN/IPIP overlay, and BIRD
for BGP (CALICO_NETWORKING_BACKEND=bird, the default).

Options:
  -startup    run the start-up only and exit 0 when done
  -felix      run the agent only (the start-up has run before)
  -v, --version
              print the version and exit
  -h, --help  print this help and exit

Environment (the names of Calico's calico/node image; /etc/calico/calico.env under systemd):
  NODENAME                  this node's name (else /var/lib/calico/nodename, else the hostname)
  IP, IP6                   the node's addresses: ADDRESS[/PREFIX], autodetect or none
  IP_AUTODETECTION_METHOD   first-found, interface=REGEX, skip-interface=REGEX, cidr=CIDR,
                            can-reach=DEST (IP6_AUTODETECTION_METHOD for IPv6)
  AS                        the node's BGP AS number (default: BGPConfiguration's, 64512)
  CALICO_NETWORKING_BACKEND bird (default), vxlan or none
  CALICO_IPV4POOL_CIDR, CALICO_IPV4POOL_IPIP, CALICO_IPV4POOL_VXLAN, NO_DEFAULT_POOLS, ...
                            the default pools created when none exist
  CLUSTER_TYPE              types added to ClusterInformation's clusterType (comma-separated)
  DATASTORE_TYPE            local (default) or etcdv3 (default when ETCD_ENDPOINTS is set)
  CALICO_DATASTORE_PATH     the embedded store (default /var/lib/calico/calico.db)
  ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD
                            etcd v3 (also read with a CALICO_ prefix)
  CALICO_RUN_DIR            BIRD's configuration, control socket and pid file
                            (default /var/run/calico)
  CALICO_MTU_FILE           where the detected pod MTU is written for the CNI plugin
                            (default /var/lib/calico/mtu)
  FELIX_*                   Felix settings (FELIX_LOGSEVERITYSCREEN, FELIX_HEALTHPORT,
                            FELIX_PROMETHEUSMETRICSENABLED, ...); FelixConfiguration resources
                            override the defaults, FELIX_* variables override both

Signals: SIGTERM and SIGINT stop the agent; the nftables table and routes stay. BIRD stops with
it and withdraws this node's routes from its peers, unless a restart was requested: when
$CALICO_RUN_DIR/restart-requested exists (the package's upgrade writes it before restarting the
unit; `touch /var/run/calico/restart-requested && systemctl restart calico-node` does the same),
BIRD goes down for a graceful restart instead, so peers keep routing to this node's workloads
until the next calico-node's BIRD has recovered its sessions. BIRD never outlives calico-node,
not even a SIGKILLed one (then peers keep the routes as for a graceful restart).

Exit status: 0 after SIGTERM/SIGINT, 1 on errors, 2 for usage errors, 78 when the datastore
holds data of a newer schema than this calico-node reads (a downgrade).
)";

std::atomic<bool> g_stop{false};

void OnSignal(int) {
  g_stop = true;
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

// Opens the datastore, waiting for it (calico-node keeps trying while etcd comes up).
std::unique_ptr<calico::datastore::Backend> OpenDatastore() {
  auto cfg = calico::datastore::ClientConfigFromEnv();
  if (!cfg) {
    Fail(cfg.error().message());
    return nullptr;
  }
  for (int attempt = 0; !g_stop; ++attempt) {
    auto b = calico::datastore::OpenBackend(*cfg);
    if (b) return std::move(*b);
    if (attempt == 0)
      std::cerr << "calico-node: waiting for the datastore: " << b.error().message() << "\n";
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  return nullptr;
}

// Refuses a datastore written by a newer, incompatible calico-cpp (datastore/schema.h); returns
// the exit code to end with, or 0 to carry on.
int CheckDatastoreSchema(calico::datastore::Backend& backend) {
  auto st = calico::datastore::CheckSchema(backend, "calico-node " CALICO_VERSION);
  if (st) return 0;
  Fail(st.error().message());
  return st.error().code() == calico::ErrorCode::kUnsupported ? kExitNewerSchema : 1;
}

// Calico's start-up; returns the node name, or "" after printing the error.
std::string RunStartup(calico::datastore::Backend& backend) {
  auto config = calico::node::StartupConfig::FromEnv(calico::node::ProcessEnv());
  if (!config) {
    Fail(config.error().message());
    return "";
  }
  config->calico_version = "v" CALICO_VERSION;
  auto host = calico::node::NetlinkAddressSource::Open();
  if (!host) {
    Fail(host.error().message());
    return "";
  }
  calico::datastore::Client client(backend);
  auto result = calico::node::RunStartup(*config, client, **host);
  if (!result) {
    Fail(result.error().message());
    return "";
  }
  std::cerr << "calico-node: node " << result->node_name
            << (result->node_created   ? " created"
                : result->node_updated ? " updated"
                                       : " unchanged");
  if (result->ipv4) std::cerr << ", IPv4 " << result->ipv4->String();
  if (result->ipv6) std::cerr << ", IPv6 " << result->ipv6->String();
  for (const auto& pool : result->created_pools)
    std::cerr << ", created pool " << pool;
  std::cerr << "\n";
  return result->node_name;
}

// Felix's MTU auto-detection (agent/mtu.h): the pod MTU from this host's interfaces and the
// encapsulations in use, written to the MTU file the CNI plugin reads. Once at start-up, as Felix.
void WriteDetectedMtu(const std::map<std::string, std::string>& env,
                      const calico::agent::FelixSettings& settings,
                      calico::datastore::Client& client) {
  std::vector<calico::agent::HostLink> links;
  auto nl = calico::dataplane::NetlinkSocket::Open();
  if (nl) {
    if (auto listed = (*nl)->ListLinks()) {
      for (const auto& l : *listed)
        links.push_back({l.name, l.mtu, l.up});
    } else {
      CALICO_LOG(warn, "node", "MTU detection: listing interfaces: {}", listed.error().message());
    }
  } else {
    CALICO_LOG(warn, "node", "MTU detection: netlink: {}", nl.error().message());
  }
  auto host_mtu = calico::agent::FindHostMtu(links, settings.mtu_iface_pattern);
  if (!host_mtu) {
    CALICO_LOG(warn, "node", "{}; using the default pattern", host_mtu.error().message());
    host_mtu = calico::agent::FindHostMtu(links, calico::agent::kDefaultMtuIfacePattern);
    if (!host_mtu) return;
  }
  // ipipEnabled / vxlanEnabled when set, else whether an enabled pool uses the encapsulation
  // (Felix's auto-detection of IPIPEnabled / VXLANEnabled from the pools).
  bool pool_ipip = false;
  bool pool_vxlan = false;
  bool pool_vxlan_v6 = false;
  if (auto pools = client.List("IPPool")) {
    for (const auto& p : *pools) {
      if (p.spec().value("disabled", false)) continue;
      const bool v6 = p.spec().value("cidr", "").find(':') != std::string::npos;
      if (p.spec().value("ipipMode", "Never") != "Never" && !v6) pool_ipip = true;
      if (p.spec().value("vxlanMode", "Never") != "Never") (v6 ? pool_vxlan_v6 : pool_vxlan) = true;
    }
  }
  calico::agent::MtuEncaps encaps{
      .ipip = settings.ipip_enabled.value_or(pool_ipip),
      .vxlan = settings.agent.vxlan_enabled.value_or(pool_vxlan),
      .vxlan_mtu = settings.agent.vxlan.mtu,
      .vxlan_v6 = settings.agent.vxlan_enabled.value_or(true) && pool_vxlan_v6};
  const int pod_mtu = calico::agent::PodMtu(*host_mtu, encaps);
  const std::string path = calico::agent::MtuFilePath(env);
  if (auto st = calico::agent::WriteMtuFile(path, pod_mtu); !st) {
    CALICO_LOG(warn, "node", "MTU file: {}", st.error().message());
    return;
  }
  CALICO_LOG(info, "node", "host MTU {} (mtuIfacePattern {}), pod MTU {} written to {}", *host_mtu,
             settings.mtu_iface_pattern, pod_mtu, path);
}

int RunFelix(const std::map<std::string, std::string>& env, calico::datastore::Backend* open,
             std::string node) {
  std::unique_ptr<calico::datastore::Backend> owned;
  if (open == nullptr) {
    owned = OpenDatastore();
    if (!owned) return g_stop ? 0 : 1;
    open = owned.get();
    if (int rc = CheckDatastoreSchema(*open); rc != 0) return rc;
  }
  calico::datastore::Backend* backend = open;
  if (node.empty()) node = NodeName(env);
  calico::datastore::Client client(*backend);
  auto global = client.Get("FelixConfiguration", "", "default");
  auto per_node = client.Get("FelixConfiguration", "", "node." + node);
  auto settings = calico::agent::LoadFelixSettings(env, node, global ? &*global : nullptr,
                                                   per_node ? &*per_node : nullptr);
  if (!settings) return Fail(settings.error().message());
  // logFilePath (opened at start-up; a change applies when calico-node restarts) beside stderr,
  // each output at its own level (logSeverityScreen, logSeverityFile).
  const std::string log_file = settings->log_file_path;
  if (!log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(log_file).parent_path(), ec);
    if (!calico::log::AddLogFile(log_file)) {
      std::cerr << "calico-node: cannot open the log file " << log_file
                << " (logFilePath); logging to stderr only\n";
    }
  }
  calico::log::SetScreenAndFileLevels(settings->log_severity, settings->log_severity_file);
  // Felix's health aggregator (agent/health.h): FelixStartup here, the agent's reporters below.
  calico::SystemClock clock;
  calico::agent::HealthAggregator health(clock);
  health.RegisterReporter(calico::agent::kHealthFelixStartup, {.live = true, .ready = true},
                          calico::agent::HealthAggregator::Duration(0));
  health.Report(calico::agent::kHealthFelixStartup, {.live = true, .ready = true});
  settings->agent.health = &health;
  // Felix's status reports (node/status_report.h), reportingInterval / reportingTTL.
  calico::node::StatusReporter reporter(
      *backend, clock, node,
      calico::node::StatusReportSettings{.interval = settings->reporting_interval,
                                         .ttl = settings->reporting_ttl});
  // FelixConfiguration changes while running: policy rendering, the refresh intervals, route
  // options, natOutgoing options, log level, healthTimeoutOverrides and the status reports'
  // reportingInterval / reportingTTL follow them; the health/metrics listeners keep their
  // start-up values.
  // Flow logs (flowLogsGoldmaneServer, read at start-up: a change applies when calico-node
  // restarts, so the ruleset's log statements and the collector stay in step).
  const calico::agent::FlowLogSettings flow_logs = settings->flow_logs;
  // dataplaneWatchdogTimeout is InternalDataplaneMainLoop's registered timeout: read at start-up
  // (Felix restarts for it); healthTimeoutOverrides changes it while running.
  const auto watchdog = settings->agent.dataplane_watchdog_timeout;
  auto flow_logs_on = std::make_shared<bool>(!flow_logs.goldmane_server.empty());
  settings->agent.reload_settings =
      [env, node, log_file, flow_logs, flow_logs_on, watchdog, &reporter](
          const calico::model::Resource* g,
          const calico::model::Resource* n) -> calico::Result<calico::agent::ReloadableSettings> {
    ASSIGN_OR_RETURN(auto next, calico::agent::LoadFelixSettings(env, node, g, n));
    calico::log::SetScreenAndFileLevels(next.log_severity, next.log_severity_file);
    reporter.SetSettings(calico::node::StatusReportSettings{.interval = next.reporting_interval,
                                                            .ttl = next.reporting_ttl});
    if (next.flow_logs != flow_logs) {
      CALICO_LOG(warn, "node",
                 "flowLogs* settings changed: they take effect when calico-node restarts");
    }
    next.agent.render.flow_logs.enabled = *flow_logs_on;
    if (next.agent.dataplane_watchdog_timeout != watchdog) {
      CALICO_LOG(warn, "node",
                 "dataplaneWatchdogTimeout changed: it takes effect when calico-node restarts "
                 "(healthTimeoutOverrides applies at once)");
    }
    if (next.log_file_path != log_file) {
      CALICO_LOG(warn, "node",
                 "logFilePath is now \"{}\": it takes effect when calico-node restarts",
                 next.log_file_path);
    }
    return calico::agent::ReloadableSettings{
        .route_refresh_interval = next.agent.route_refresh_interval,
        .policy_refresh_interval = next.agent.policy_refresh_interval,
        .render = std::move(next.agent.render),
        .routes = next.agent.routes,
        .nat = next.agent.nat,
        .vxlan = next.agent.vxlan,
        .vxlan_enabled = next.agent.vxlan_enabled,
        .health_timeout_overrides = std::move(next.agent.health_timeout_overrides)};
  };

  WriteDetectedMtu(env, *settings, client);

  calico::agent::Metrics metrics;
  calico::agent::HttpEndpoints http(metrics, health);
  auto started = http.Start(
      settings->health_host, settings->health_enabled ? settings->health_port : 0,
      settings->prometheus_host, settings->prometheus_enabled ? settings->prometheus_port : 0);
  if (!started) return Fail(started.error().message());
  // The kernel side (nftables, routes, overlays, NAT) in this thread's network namespace.
  calico::agent::LinuxDataplane dataplane(settings->agent.render.interface_prefixes);
  dataplane.Wire(settings->agent);

  // Routing between hosts: BIRD (BGP) by default, VXLAN for pools that ask for it, both driven by
  // the agent's view of the datastore (after every batch of changes).
  std::string networking =
      env.count("CALICO_NETWORKING_BACKEND") ? env.at("CALICO_NETWORKING_BACKEND") : "bird";
  std::string run_dir = env.count("CALICO_RUN_DIR") ? env.at("CALICO_RUN_DIR") : "";
  if (run_dir.empty() && env.count("CALICO_NODENAME_FILE")) {
    run_dir = std::filesystem::path(env.at("CALICO_NODENAME_FILE")).parent_path().string();
  }
  if (run_dir.empty()) run_dir = "/var/run/calico";
  // A restart request is for the calico-node that runs when it is made, never a later one.
  ::unlink((run_dir + "/restart-requested").c_str());
  std::unique_ptr<calico::bird::BirdSupervisor> bird;
  std::unique_ptr<calico::bird::BirdReconciler> bird_reconciler;
  if (networking == "bird") {
    calico::bird::BirdSupervisorOptions opts;
    opts.run_dir = run_dir;
    bird = std::make_unique<calico::bird::BirdSupervisor>(opts);
    // BGP password secrets are read as <CALICO_SECRETS_DIR>/<secret>/<key> (confd's secret
    // watcher); CALICO_ROUTER_ID overrides the router id.
    calico::bird::BirdInputOptions bird_options;
    if (auto it = env.find("CALICO_SECRETS_DIR"); it != env.end() && !it->second.empty()) {
      bird_options.secrets_dir = it->second;
    }
    if (auto it = env.find("CALICO_ROUTER_ID"); it != env.end())
      bird_options.router_id = it->second;
    bird_reconciler =
        std::make_unique<calico::bird::BirdReconciler>(client, *backend, node, *bird, bird_options);
  }
  // What the agent isolated or ignored, for `calicoctl node status` (agent/status_file.h).
  const std::string status_file = run_dir + "/" + calico::agent::kAgentStatusFileName;
  auto write_status = [status_file](const calico::agent::AgentStatus& status) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(status_file).parent_path(), ec);
    if (auto st = calico::agent::WriteAgentStatusFile(status_file, status); !st) {
      CALICO_LOG(warn, "node", "agent status file: {}", st.error().message());
    }
  };
  write_status({});  // Nothing from a previous run is shown before the first render.
  settings->agent.on_status = write_status;
  calico::ipam::IpamClient ipam(*backend);
  settings->agent.on_synced = [&](bool routing_changed) {
    if (!routing_changed) return;
    // node/pkg/allocateip: the tunnel addresses of the IPIP and VXLAN pools that apply.
    if (networking == "vxlan" || networking == "bird") {
      auto st = calico::agent::EnsureIpipTunnelAddress(client, ipam, node);
      if (!st) CALICO_LOG(warn, "node", "IPIP tunnel address: {}", st.error().message());
      st = calico::agent::EnsureVxlanTunnelAddress(client, ipam, node);
      if (!st) CALICO_LOG(warn, "node", "VXLAN tunnel address: {}", st.error().message());
    }
    // A failure is logged by the reconciler; BIRD keeps its last good configuration.
    if (bird_reconciler) (void)bird_reconciler->Reconcile();
  };
  settings->agent.on_idle = [&]() {
    if (bird_reconciler) bird_reconciler->OnIdle();
  };
  // Flow logs: NFLOG verdicts and conntrack counters -> records -> calico-flows. A collector
  // that cannot start (no CAP_NET_ADMIN, NFLOG groups taken) leaves the ruleset without the
  // log statements rather than logging to nobody.
  std::unique_ptr<calico::flowlog::NodeFlowLogs> flow_log_pipeline;
  if (!flow_logs.goldmane_server.empty()) {
    calico::flowlog::NodeFlowLogOptions opts{.server = flow_logs.goldmane_server,
                                             .flush_interval = flow_logs.flush_interval,
                                             .debug_trace = flow_logs.debug_trace,
                                             .encode = calico::flowlog::EncodeIngestBody,
                                             .evaluate_pending = flow_logs.evaluate_pending,
                                             .node_name = node};
    auto started_flows = calico::flowlog::NodeFlowLogs::Start(std::move(opts));
    if (started_flows) {
      flow_log_pipeline = std::move(*started_flows);
      calico::flowlog::NodeFlowLogs* p = flow_log_pipeline.get();
      settings->agent.on_policy_programmed = [p](const calico::policy::Model& m,
                                                 const calico::calc::CalcGraph& g) {
        p->OnPolicyProgrammed(m, g);
      };
      // The staged policies' pending view follows what the graph is fed.
      if (flow_logs.evaluate_pending) {
        settings->agent.on_resource = [p](const calico::model::Resource* r, std::string_view kind,
                                          std::string_view ns, std::string_view name) {
          p->OnResource(r, kind, ns, name);
        };
        settings->agent.on_workload_endpoint = [p](const calico::model::v3::WorkloadEndpoint& w) {
          p->OnWorkloadEndpoint(w);
        };
        settings->agent.on_resync = [p] { p->OnResync(); };
      }
      metrics.AddSource([p] { return p->MetricsText(); });
    } else {
      CALICO_LOG(error, "node", "flow logs are off: {}", started_flows.error().message());
      settings->agent.render.flow_logs.enabled = false;
      *flow_logs_on = false;
    }
  }
  calico::agent::Agent agent(settings->agent, *backend, dataplane.policy(), dataplane.routes(),
                             metrics);
  // CalicoNodeStatus resources of this node, filled in from BIRD (node/pkg/status).
  calico::node::BirdcStatusSource bird_status(run_dir + "/bird.ctl");
  calico::node::CalicoNodeStatusReporter node_status(client, clock, node, bird_status);
  std::thread node_status_thread([&] { node_status.Run(g_stop); });
  std::thread reporting([&] { reporter.Run(g_stop); });
  std::cerr << "calico-node: agent for node " << node << " on " << backend->Describe() << "\n";
  auto st = agent.Run(g_stop);
  g_stop = true;
  node_status_thread.join();
  reporting.join();
  http.Stop();
  if (bird) {
    // Stopping for good withdraws this node's routes (peers stop routing to it within seconds).
    // Stopping to be replaced (a package upgrade, an operator's restart: restart-requested) ends
    // BIRD for a graceful restart: peers keep routing to this node's workloads and the next
    // calico-node's BIRD recovers the sessions (BirdSupervisor).
    const std::string request = run_dir + "/restart-requested";
    const bool restart = ::unlink(request.c_str()) == 0;
    auto stopped = restart ? bird->StopForRestart() : bird->Stop();
    if (!stopped) std::cerr << "calico-node: stopping BIRD: " << stopped.error().message() << "\n";
    std::cerr << "calico-node: stopped"
              << (restart ? " for a restart: BIRD's peers keep this node's routes\n"
                          : "; BIRD withdrew this node's routes\n");
  }
  if (!st) return Fail(st.error().message());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "-v" || mode == "--version") {
    std::cout << "calico-node v" CALICO_VERSION "\n";
    return 0;
  }
  if (mode == "-h" || mode == "--help") {
    std::cout << kUsage;
    return 0;
  }
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  if (mode == "-felix") return RunFelix(calico::CurrentEnvironment(), nullptr, "");
  if (mode == "-startup" || mode.empty()) {
    auto backend = OpenDatastore();
    if (!backend) return g_stop ? 0 : 1;
    if (int rc = CheckDatastoreSchema(*backend); rc != 0) return rc;
    std::string node = RunStartup(*backend);
    if (node.empty()) return 1;
    if (mode == "-startup") return 0;
    return RunFelix(calico::CurrentEnvironment(), backend.get(), node);
  }
  std::cerr << "calico-node: unknown option \"" << mode << "\"\n" << kUsage;
  return 2;
}
