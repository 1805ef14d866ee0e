// See config.h (kube-controllers/pkg/config/runconfig.go).
#include "calico/controllers/config.h"

#include <cmath>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"

namespace calico::controllers {
namespace {

using model::Json;

const Json* Field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<Duration> DurationField(const Json& section, std::string_view key, Duration fallback,
                               std::string_view path) {
  const Json* v = Field(section, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) return InvalidArgument(fmt::format("{}.{}: not a duration", path, key));
  auto d = ParseDuration(v->get<std::string>());
  if (!d) return InvalidArgument(fmt::format("{}.{}: {}", path, key, d.error().message()));
  return *d;
}

// logrus level names as the resource spells them (status.runningConfig.logSeverityScreen).
std::string SeverityName(std::string_view level) {
  std::string l = AsciiLower(level);
  if (l == "warn") l = "warning";
  for (const char* name : {"None", "Debug", "Info", "Warning", "Error", "Fatal", "Panic"}) {
    if (AsciiLower(name) == l) return name;
  }
  return "Info";
}

}  // namespace

Result<Duration> ParseDuration(std::string_view text) {
  std::string_view s = StrTrim(text);
  if (s == "0") return Duration(0);
  if (s.empty()) return InvalidArgument("empty duration");
  double total_ms = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
      ++i;
    if (start == i) return InvalidArgument(fmt::format("invalid duration \"{}\"", text));
    Result<double> value = ParseDouble(s.substr(start, i - start));
    if (!value) return InvalidArgument(fmt::format("invalid duration \"{}\"", text));
    size_t unit_start = i;
    while (i < s.size() && !((s[i] >= '0' && s[i] <= '9') || s[i] == '.'))
      ++i;
    std::string_view unit = s.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "h") {
      scale = 3600000;
    } else if (unit == "m") {
      scale = 60000;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "ms") {
      scale = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s") {
      scale = 0.001;
    } else if (unit == "ns") {
      scale = 0.000001;
    } else {
      return InvalidArgument(
          fmt::format("invalid duration \"{}\" (unknown unit \"{}\")", text, unit));
    }
    total_ms += *value * scale;
  }
  return Duration(static_cast<int64_t>(std::llround(total_ms)));
}

std::string FormatDuration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  if (ms < 1000) return out + fmt::format("{}ms", ms);
  int64_t h = ms / 3600000;
  int64_t m = (ms / 60000) % 60;
  double sec = static_cast<double>(ms % 60000) / 1000.0;
  if (h > 0) out += fmt::format("{}h", h);
  if (h > 0 || m > 0) out += fmt::format("{}m", m);
  out += fmt::format("{}s", sec);
  return out;
}

model::Resource DefaultKubeControllersConfiguration() {
  model::Resource r("KubeControllersConfiguration", "default");
  r.spec() = Json{
      {"logSeverityScreen", "Info"},
      {"healthChecks", "Enabled"},
      {"etcdV3CompactionPeriod", "10m0s"},
      {"controllers",
       {{"node",
         {{"reconcilerPeriod", "5m0s"},
          {"syncLabels", "Enabled"},
          {"hostEndpoint", {{"autoCreate", "Disabled"}, {"createDefaultHostEndpoint", "Enabled"}}},
          {"leakGracePeriod", "15m0s"}}},
        {"policy", {{"reconcilerPeriod", "5m0s"}}},
        {"workloadEndpoint", {{"reconcilerPeriod", "5m0s"}}},
        {"serviceAccount", {{"reconcilerPeriod", "5m0s"}}},
        {"namespace", {{"reconcilerPeriod", "5m0s"}}},
        {"loadBalancer", {{"assignIPs", "AllServices"}}},
        {"migration", {{"policyNameMigrator", "Enabled"}}}}}};
  return r;
}

Result<RunConfig> MergeConfig(const std::map<std::string, std::string>& env,
                              const model::Resource& kcc) {
  RunConfig out;
  const Json& spec = kcc.spec();
  const Json empty = Json::object();
  const Json* controllers = Field(spec, "controllers");
  if (controllers == nullptr) controllers = &empty;

  // mergeEnabledControllers: ENABLED_CONTROLLERS, else the sections present.
  auto enabled = env.find("ENABLED_CONTROLLERS");
  if (enabled != env.end()) {
    for (const std::string& name : StrSplit(enabled->second, ',', true)) {
      std::string c(StrTrim(name));
      if (c == "workloadendpoint") {
        out.workload_endpoint = GenericControllerConfig{};
      } else if (c == "profile" || c == "namespace") {
        out.namespace_ = GenericControllerConfig{};
      } else if (c == "policy") {
        out.policy = GenericControllerConfig{};
      } else if (c == "node") {
        out.node = NodeControllerConfig{};
      } else if (c == "serviceaccount") {
        out.service_account = GenericControllerConfig{};
      } else if (c == "loadbalancer") {
        out.load_balancer = true;
      } else if (c == "flannelmigration") {
        return InvalidArgument(
            "ENABLED_CONTROLLERS: flannelmigration is not supported (it needs a Kubernetes API "
            "server)");
      } else if (!c.empty()) {
        return InvalidArgument(fmt::format("ENABLED_CONTROLLERS: invalid controller \"{}\"", c));
      }
    }
  } else {
    if (Field(*controllers, "node") != nullptr) out.node = NodeControllerConfig{};
    if (Field(*controllers, "policy") != nullptr) out.policy = GenericControllerConfig{};
    if (Field(*controllers, "workloadEndpoint") != nullptr) {
      out.workload_endpoint = GenericControllerConfig{};
    }
    if (Field(*controllers, "serviceAccount") != nullptr) {
      out.service_account = GenericControllerConfig{};
    }
    if (Field(*controllers, "namespace") != nullptr) out.namespace_ = GenericControllerConfig{};
    out.load_balancer = Field(*controllers, "loadBalancer") != nullptr;
  }

  // Reconciler periods from the sections (5m when a section has none).
  struct Generic {
    std::optional<GenericControllerConfig>* config;
    const char* section;
  };
  for (Generic g : {Generic{&out.policy, "policy"}, Generic{&out.namespace_, "namespace"},
                    Generic{&out.workload_endpoint, "workloadEndpoint"},
                    Generic{&out.service_account, "serviceAccount"}}) {
    if (!g.config->has_value()) continue;
    const Json* section = Field(*controllers, g.section);
    if (section == nullptr) continue;
    ASSIGN_OR_RETURN((*g.config)->reconciler_period,
                     DurationField(*section, "reconcilerPeriod", kDefaultReconcilerPeriod,
                                   std::string("spec.controllers.") + g.section));
  }
  if (out.node) {
    const Json* section = Field(*controllers, "node");
    if (section != nullptr) {
      ASSIGN_OR_RETURN(out.node->leak_grace_period,
                       DurationField(*section, "leakGracePeriod", kDefaultLeakGracePeriod,
                                     "spec.controllers.node"));
    }
  }
  // mergeReconcilerPeriod.
  if (auto it = env.find("RECONCILER_PERIOD"); it != env.end()) {
    auto d = ParseDuration(it->second);
    if (!d) return InvalidArgument("RECONCILER_PERIOD: " + d.error().message());
    for (auto* c : {&out.policy, &out.namespace_, &out.workload_endpoint, &out.service_account}) {
      if (c->has_value()) (*c)->reconciler_period = *d;
    }
  }
  // mergeLogLevel, mergeHealthEnabled, prometheusMetricsPort.
  if (const Json* v = Field(spec, "logSeverityScreen"); v != nullptr && v->is_string()) {
    out.log_severity = v->get<std::string>();
  }
  if (auto it = env.find("LOG_LEVEL"); it != env.end()) out.log_severity = it->second;
  out.log_severity = SeverityName(out.log_severity);
  if (const Json* v = Field(spec, "healthChecks"); v != nullptr && v->is_string()) {
    out.health_enabled = v->get<std::string>() != "Disabled";
  }
  if (auto it = env.find("HEALTH_ENABLED"); it != env.end()) {
    std::string v = AsciiLower(it->second);
    if (v != "true" && v != "false") {
      return InvalidArgument(fmt::format("HEALTH_ENABLED: invalid value \"{}\"", it->second));
    }
    out.health_enabled = v == "true";
  }
  if (const Json* v = Field(spec, "prometheusMetricsPort")) {
    if (!v->is_number_integer() || v->get<int>() < 0 || v->get<int>() > 65535) {
      return InvalidArgument("spec.prometheusMetricsPort: not a port number");
    }
    out.prometheus_metrics_port = v->get<int>();
  }
  return out;
}

Json RunningConfigStatus(const RunConfig& config, const std::map<std::string, std::string>& env) {
  Json controllers = Json::object();
  auto period = [](const GenericControllerConfig& c) {
    return Json{{"reconcilerPeriod", FormatDuration(c.reconciler_period)}};
  };
  if (config.node) {
    controllers["node"] = Json{{"syncLabels", "Disabled"},
                               {"leakGracePeriod", FormatDuration(config.node->leak_grace_period)}};
  }
  if (config.policy) controllers["policy"] = period(*config.policy);
  if (config.workload_endpoint) controllers["workloadEndpoint"] = period(*config.workload_endpoint);
  if (config.service_account) controllers["serviceAccount"] = period(*config.service_account);
  if (config.namespace_) controllers["namespace"] = period(*config.namespace_);
  Json running{{"logSeverityScreen", config.log_severity},
               {"healthChecks", config.health_enabled ? "Enabled" : "Disabled"},
               {"etcdV3CompactionPeriod", "0s"},
               {"prometheusMetricsPort", config.prometheus_metrics_port},
               {"controllers", controllers}};
  Json status{{"runningConfig", running}};
  Json vars = Json::object();
  for (const char* k :
       {"LOG_LEVEL", "RECONCILER_PERIOD", "ENABLED_CONTROLLERS", "COMPACTION_PERIOD",
        "HEALTH_ENABLED", "SYNC_NODE_LABELS", "AUTO_HOST_ENDPOINTS"}) {
    if (auto it = env.find(k); it != env.end()) vars[k] = it->second;
  }
  if (!vars.empty()) status["environmentVars"] = vars;
  return status;
}

}  // namespace calico::controllers
