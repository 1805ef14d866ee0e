#include "calico/controllers/metrics.h"

#include <httplib.h>

#include <fmt/format.h>

namespace calico::controllers {
namespace {

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

void ControllerMetrics::SetLeader(bool leader) {
  std::lock_guard<std::mutex> lock(mu_);
  if (leader && !leader_) ++transitions_;
  leader_ = leader;
}

void ControllerMetrics::AddWrite(std::string_view controller, std::string_view kind,
                                 std::string_view op) {
  std::lock_guard<std::mutex> lock(mu_);
  ++writes_[{std::string(controller), std::string(kind), std::string(op)}];
}

void ControllerMetrics::AddConversionErrors(std::string_view kind, int n) {
  std::lock_guard<std::mutex> lock(mu_);
  conversion_errors_[std::string(kind)] += static_cast<uint64_t>(n);
}

void ControllerMetrics::AddWorkloadEndpointsRemoved(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  weps_removed_ += static_cast<uint64_t>(n);
}

void ControllerMetrics::AddNodeCleaned(std::string_view reason) {
  std::lock_guard<std::mutex> lock(mu_);
  ++nodes_cleaned_[std::string(reason)];
}

void ControllerMetrics::AddSyncError(std::string_view controller) {
  std::lock_guard<std::mutex> lock(mu_);
  ++sync_errors_[std::string(controller)];
}

void ControllerMetrics::AddSync(std::string_view controller) {
  std::lock_guard<std::mutex> lock(mu_);
  ++syncs_[std::string(controller)];
}

void ControllerMetrics::SetIpamFigures(IpamFigures figures) {
  std::lock_guard<std::mutex> lock(mu_);
  ipam_ = std::move(figures);
}

void ControllerMetrics::AddIpamReclaimed(std::string_view pool, std::string_view node, int n) {
  if (n <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  reclaimed_[{std::string(pool), std::string(node)}] += static_cast<uint64_t>(n);
}

bool ControllerMetrics::leader() const {
  std::lock_guard<std::mutex> lock(mu_);
  return leader_;
}

uint64_t ControllerMetrics::writes(std::string_view controller) const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [key, v] : writes_) {
    if (std::get<0>(key) == controller) n += v;
  }
  return n;
}

uint64_t ControllerMetrics::reclaimed_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [key, v] : reclaimed_)
    n += v;
  return n;
}

uint64_t ControllerMetrics::workloadendpoints_removed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return weps_removed_;
}

uint64_t ControllerMetrics::nodes_cleaned(std::string_view reason) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_cleaned_.find(std::string(reason));
  return it == nodes_cleaned_.end() ? 0 : it->second;
}

std::string ControllerMetrics::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto header = [&](std::string_view name, std::string_view help, std::string_view type) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  header("calico_controllers_is_leader", "1 while this instance holds the leader lease.", "gauge");
  out += fmt::format("calico_controllers_is_leader {}\n", leader_ ? 1 : 0);
  header("calico_controllers_leader_transitions_total", "Times this instance became leader.",
         "counter");
  out += fmt::format("calico_controllers_leader_transitions_total {}\n", transitions_);
  header("calico_controllers_writes_total", "Resources written by the controllers.", "counter");
  for (const auto& [key, v] : writes_) {
    const auto& [controller, kind, op] = key;
    out += fmt::format(
        "calico_controllers_writes_total{{controller=\"{}\",kind=\"{}\",op=\"{}\"}} {}\n",
        Escape(controller), Escape(kind), Escape(op), v);
  }
  header("calico_controllers_conversion_errors_total",
         "Kubernetes policy rules that could not be converted.", "counter");
  for (const auto& [kind, v] : conversion_errors_) {
    out += fmt::format("calico_controllers_conversion_errors_total{{kind=\"{}\"}} {}\n",
                       Escape(kind), v);
  }
  header("calico_controllers_workloadendpoints_removed_total",
         "WorkloadEndpoints removed because their host interface was gone.", "counter");
  out += fmt::format("calico_controllers_workloadendpoints_removed_total {}\n", weps_removed_);
  header("calico_controllers_nodes_cleaned_total",
         "Nodes whose endpoints, addresses and configuration were cleaned up.", "counter");
  for (const auto& [reason, v] : nodes_cleaned_) {
    out += fmt::format("calico_controllers_nodes_cleaned_total{{reason=\"{}\"}} {}\n",
                       Escape(reason), v);
  }
  header("calico_controllers_sync_errors_total", "Controller passes that failed (retried).",
         "counter");
  for (const auto& [c, v] : sync_errors_) {
    out +=
        fmt::format("calico_controllers_sync_errors_total{{controller=\"{}\"}} {}\n", Escape(c), v);
  }
  header("calico_controllers_syncs_total", "Completed controller passes.", "counter");
  for (const auto& [c, v] : syncs_) {
    out += fmt::format("calico_controllers_syncs_total{{controller=\"{}\"}} {}\n", Escape(c), v);
  }
  // kube-controllers' IPAM metrics: names, help texts and labels as upstream's ipam.go.
  auto per_pool_node = [&](std::string_view name, std::string_view help, std::string_view type,
                           const auto& values) {
    header(name, help, type);
    for (const auto& [key, v] : values) {
      out += fmt::format("{}{{ippool=\"{}\",node=\"{}\"}} {}\n", name, Escape(key.first),
                         Escape(key.second), v);
    }
  };
  auto per = [&](std::string_view name, std::string_view label, std::string_view help,
                 const auto& values) {
    header(name, help, "gauge");
    for (const auto& [key, v] : values) {
      out += fmt::format("{}{{{}=\"{}\"}} {}\n", name, label, Escape(key), v);
    }
  };
  per_pool_node("ipam_allocations_in_use",
                "IPs currently allocated in IPAM to a workload or tunnel endpoint.", "gauge",
                ipam_.in_use);
  per_pool_node("ipam_allocations_borrowed",
                "IPs currently allocated in IPAM to a workload or tunnel endpoint, where the "
                "allocation was borrowed from a block affine to another node.",
                "gauge", ipam_.borrowed);
  per_pool_node("ipam_blocks", "IPAM blocks currently allocated for the IP pool.", "gauge",
                ipam_.blocks);
  per_pool_node("ipam_allocations_gc_candidates",
                "Allocations that are currently marked by the garbage collector as potential "
                "candidates to reclaim.",
                "gauge", ipam_.gc_candidates);
  per_pool_node("ipam_allocations_gc_reclamations",
                "The total allocations that have been reclaimed by the garbage collector over "
                "time.",
                "counter", reclaimed_);
  per("ipam_ippool_size", "ippool", "Total number of addresses in the IP Pool", ipam_.pool_size);
  per("ipam_ippool_reserved", "ippool",
      "Number of addresses in the IP Pool that an IPReservation covers, and so cannot be "
      "assigned.",
      ipam_.pool_reserved);
  per("ipam_allocations_per_node", "node", "Number of IPs allocated", ipam_.allocations_per_node);
  per("ipam_allocations_borrowed_per_node", "node",
      "Number of allocated IPs that are from non-affine blocks.", ipam_.borrowed_per_node);
  per("ipam_blocks_per_node", "node", "Number of blocks in IPAM", ipam_.blocks_per_node);
  return out;
}

MetricsServer::MetricsServer(const ControllerMetrics& metrics) : metrics_(metrics) {}

MetricsServer::~MetricsServer() {
  Stop();
}

Status MetricsServer::Start(const std::string& host, int port) {
  Stop();
  if (port <= 0) return OkStatus();
  server_ = std::make_unique<httplib::Server>();
  server_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_.Render(), "text/plain; version=0.0.4");
  });
  if (!server_->bind_to_port(host, port)) {
    server_.reset();
    return Unavailable(fmt::format("cannot listen for Prometheus metrics on {}:{}", host, port));
  }
  port_ = port;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return OkStatus();
}

void MetricsServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
  port_ = 0;
}

}  // namespace calico::controllers
