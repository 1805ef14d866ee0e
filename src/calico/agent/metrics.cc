#include "calico/agent/metrics.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace calico::agent {

namespace {

constexpr std::size_t kMaxSummaryWindow = 4096;
constexpr std::chrono::minutes kSummaryMaxAge{10};

// A sample value as client_golang prints it (shortest round-trip form, NaN and +Inf spelled out).
std::string Value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

void Summary::Expire(TimePoint now) {
  while (!window_.empty() &&
         (window_.size() > kMaxSummaryWindow || now - window_.front().first > kSummaryMaxAge)) {
    window_.pop_front();
  }
}

void Summary::Observe(double value, TimePoint now) {
  window_.emplace_back(now, value);
  sum_ += value;
  ++count_;
  Expire(now);
}

std::string Summary::Render(const char* name, const char* help, TimePoint now) {
  Expire(now);
  std::vector<double> values;
  values.reserve(window_.size());
  for (const auto& [t, v] : window_)
    values.push_back(v);
  std::sort(values.begin(), values.end());
  std::string out = fmt::format("# HELP {} {}\n# TYPE {} summary\n", name, help, name);
  for (double q : {0.5, 0.9, 0.99}) {
    double v = std::nan("");
    if (!values.empty()) {
      // The smallest value with at least q of the observations at or below it.
      auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
      v = values[std::max<std::size_t>(rank, 1) - 1];
    }
    out += fmt::format("{}{{quantile=\"{}\"}} {}\n", name, q, Value(v));
  }
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, Value(sum_), name, count_);
  return out;
}

Metrics::Metrics(std::function<std::chrono::steady_clock::time_point()> now)
    : now_(std::move(now)) {}

std::chrono::steady_clock::time_point Metrics::Now() const {
  return now_ ? now_() : std::chrono::steady_clock::now();
}

void Metrics::ObserveProgramming(std::chrono::duration<double> seconds) {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  apply_time_.Observe(seconds.count(), now);
}

void Metrics::ObserveCalcGraphUpdate(std::chrono::duration<double> seconds) {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  calc_graph_time_.Observe(seconds.count(), now);
}

void Metrics::ObserveRouteTableList(std::chrono::duration<double> seconds) {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  route_list_time_.Observe(seconds.count(), now);
}

void Metrics::AddResyncStarted() {
  std::lock_guard<std::mutex> lock(mu_);
  ++resyncs_started_;
}

void Metrics::SetClusterCounts(const ClusterCounts& counts) {
  std::lock_guard<std::mutex> lock(mu_);
  cluster_ = counts;
}

void Metrics::SetCounts(int64_t endpoints, int64_t policies, int64_t profiles, int64_t ip_sets,
                        int64_t rules) {
  std::lock_guard<std::mutex> lock(mu_);
  endpoints_ = endpoints;
  policies_ = policies;
  profiles_ = profiles;
  ip_sets_ = ip_sets;
  rules_ = rules;
}

void Metrics::AddDataplaneError() {
  std::lock_guard<std::mutex> lock(mu_);
  ++dataplane_errors_;
}

void Metrics::AddResync(bool repaired) {
  std::lock_guard<std::mutex> lock(mu_);
  ++resyncs_;
  if (repaired) ++repairs_;
}

void Metrics::AddRoutes(int added, int removed) {
  std::lock_guard<std::mutex> lock(mu_);
  routes_added_ += static_cast<uint64_t>(added);
  routes_removed_ += static_cast<uint64_t>(removed);
}

void Metrics::SetRenderProblems(std::vector<std::pair<std::string, std::string>> unrenderable,
                                std::map<std::pair<std::string, std::string>, int> http_ignored) {
  std::lock_guard<std::mutex> lock(mu_);
  unrenderable_ = std::move(unrenderable);
  http_ignored_ = std::move(http_ignored);
}

void Metrics::AddSkippedDatastoreValue() {
  std::lock_guard<std::mutex> lock(mu_);
  ++skipped_values_;
}

void Metrics::SetConfigNotActedOn(int64_t fields) {
  std::lock_guard<std::mutex> lock(mu_);
  not_acted_on_ = fields;
}

namespace {

// A Prometheus label value: backslash, double quote and newline escaped.
std::string LabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

}  // namespace

std::string Metrics::Render() const {
  const auto now = Now();
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  // Felix's metrics: names, types and HELP as upstream (see metrics.h for the sources).
  gauge("felix_active_local_endpoints", "Number of active endpoints on this host.", endpoints_);
  gauge("felix_active_local_policies", "Number of active policies on this host.", policies_);
  gauge("felix_active_local_selectors", "Number of active selectors on this host.", ip_sets_);
  out += calc_graph_time_.Render(
      "felix_calc_graph_update_time_seconds",
      "Seconds to update calculation graph for each datastore OnUpdate call.", now);
  gauge("felix_cluster_num_host_endpoints", "Total number of host endpoints cluster-wide.",
        cluster_.host_endpoints);
  gauge("felix_cluster_num_hosts", "Total number of calico hosts in the cluster.", cluster_.hosts);
  gauge("felix_cluster_num_policies", "Total number of policies cluster-wide.", cluster_.policies);
  gauge("felix_cluster_num_profiles", "Total number of profiles cluster-wide.", cluster_.profiles);
  gauge("felix_cluster_num_tiers", "Total number of tiers cluster-wide.", cluster_.tiers);
  gauge("felix_cluster_num_workload_endpoints", "Total number of workload endpoints cluster-wide.",
        cluster_.workload_endpoints);
  out += apply_time_.Render("felix_int_dataplane_apply_time_seconds",
                            "Time in seconds for each incremental update to the dataplane "
                            "(after the initial resync).",
                            now);
  counter("felix_int_dataplane_failures",
          "Number of times dataplane updates failed and will be retried.", dataplane_errors_);
  counter("felix_resyncs_started", "Current datastore state.", resyncs_started_);
  out += route_list_time_.Render("felix_route_table_list_seconds",
                                 "Time taken to list all the interfaces during a resync.", now);
  // This build's own metrics (not Felix's): the calico_node_ prefix.
  gauge("calico_node_active_local_profiles", "Profiles that apply to local endpoints.", profiles_);
  gauge("calico_node_ip_sets", "IP sets in the calico nftables table.", ip_sets_);
  gauge("calico_node_nft_rules", "Rules with a counter in the calico nftables table.", rules_);
  counter("calico_node_kernel_resyncs_total",
          "Periodic checks of the kernel against what was programmed.", resyncs_);
  counter("calico_node_kernel_resync_repairs_total", "Resyncs that found drift and repaired it.",
          repairs_);
  counter("calico_node_routes_added_total", "Routes the agent added.", routes_added_);
  counter("calico_node_routes_removed_total", "Routes the agent removed.", routes_removed_);
  out +=
      "# HELP calico_node_unrenderable Policies, profiles and endpoints that cannot be rendered: "
      "replaced by a drop (policies, profiles) or left out (endpoints).\n"
      "# TYPE calico_node_unrenderable gauge\n";
  for (const auto& [kind, name] : unrenderable_) {
    out += fmt::format("calico_node_unrenderable{{kind=\"{}\",name=\"{}\"}} 1\n", LabelValue(kind),
                       LabelValue(name));
  }
  out +=
      "# HELP calico_node_http_match_ignored Rules whose HTTP match is not enforced (their L3/L4 "
      "part is), per policy or profile.\n"
      "# TYPE calico_node_http_match_ignored gauge\n";
  for (const auto& [who, rules] : http_ignored_) {
    out += fmt::format("calico_node_http_match_ignored{{kind=\"{}\",name=\"{}\"}} {}\n",
                       LabelValue(who.first), LabelValue(who.second), rules);
  }
  counter("calico_node_datastore_values_skipped_total",
          "Datastore values skipped as not JSON or not a valid resource.", skipped_values_);
  gauge("calico_node_config_fields_not_acted_on",
        "FelixConfiguration/Node fields set that this build accepts but does not act on.",
        not_acted_on_);
  for (const auto& extra : extra_) {
    out += extra();
  }
  return out;
}

void Metrics::AddSource(std::function<std::string()> render) {
  std::lock_guard<std::mutex> lock(mu_);
  extra_.push_back(std::move(render));
}

}  // namespace calico::agent
