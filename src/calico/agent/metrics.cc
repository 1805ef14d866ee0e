#include "calico/agent/metrics.h"

#include <fmt/format.h>

namespace calico::agent {

Metrics::Metrics()
    : bounds_{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
      buckets_(bounds_.size(), 0) {}

void Metrics::ObserveProgramming(std::chrono::duration<double> seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  double s = seconds.count();
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (s <= bounds_[i]) ++buckets_[i];
  }
  sum_ += s;
  ++count_;
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
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto gauge = [&](const char* name, const char* help, int64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  out +=
      "# HELP felix_int_dataplane_apply_time_seconds Time from a change to the kernel being "
      "programmed.\n";
  out += "# TYPE felix_int_dataplane_apply_time_seconds histogram\n";
  for (size_t i = 0; i < bounds_.size(); ++i) {
    out += fmt::format("felix_int_dataplane_apply_time_seconds_bucket{{le=\"{}\"}} {}\n",
                       bounds_[i], buckets_[i]);
  }
  out += fmt::format("felix_int_dataplane_apply_time_seconds_bucket{{le=\"+Inf\"}} {}\n", count_);
  out += fmt::format("felix_int_dataplane_apply_time_seconds_sum {}\n", sum_);
  out += fmt::format("felix_int_dataplane_apply_time_seconds_count {}\n", count_);
  gauge("felix_active_local_endpoints", "Local workload endpoints programmed.", endpoints_);
  gauge("felix_active_local_policies", "Policies that apply to local endpoints.", policies_);
  gauge("felix_active_local_profiles", "Profiles that apply to local endpoints.", profiles_);
  gauge("felix_ipsets_calico", "IP sets programmed.", ip_sets_);
  gauge("felix_nft_rules", "Rules in the calico nftables table.", rules_);
  counter("felix_int_dataplane_failures", "Failed dataplane updates.", dataplane_errors_);
  counter("felix_resyncs_total", "Periodic checks of the kernel against the datastore.", resyncs_);
  counter("felix_resync_repairs_total", "Resyncs that found drift and repaired it.", repairs_);
  counter("felix_routes_added_total", "Routes the agent added.", routes_added_);
  counter("felix_routes_removed_total", "Routes the agent removed.", routes_removed_);
  // This build's own metrics (not Felix's): the calico_node_ prefix.
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
  return out;
}

}  // namespace calico::agent
