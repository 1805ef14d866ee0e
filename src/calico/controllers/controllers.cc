// See controllers.h.
#include "calico/controllers/controllers.h"

#include <thread>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/controllers/convert.h"
#include "calico/datastore/keys.h"

namespace calico::controllers {
namespace {

using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

constexpr std::string_view kWatchPrefix = "/calico/";
constexpr milliseconds kRetryAfterError{1000};

std::string ResourcePath(std::string_view plural) {
  return std::string(datastore::kResourcePrefix) + std::string(plural) + "/";
}

Duration GcPeriod(const RunConfig& config) {
  Duration period = kDefaultReconcilerPeriod;
  if (config.node && config.node->leak_grace_period.count() > 0) {
    period = std::min(period, config.node->leak_grace_period / 2);
  }
  if (config.workload_endpoint) {
    period = std::min(period, config.workload_endpoint->reconciler_period);
  }
  return std::max(period, Duration(std::chrono::seconds(1)));
}

}  // namespace

Controllers::Controllers(datastore::Backend& backend, NodeInspector& inspector, const Clock& clock,
                         ControllerMetrics& metrics, ControllersOptions options)
    : backend_(backend),
      client_(backend),
      clock_(clock),
      metrics_(metrics),
      options_(std::move(options)),
      elector_(backend, clock, options_.identity, options_.lease),
      policy_(client_, metrics),
      gc_(backend, inspector, clock, metrics) {}

Controllers::~Controllers() {
  if (watch_) watch_->Close();
}

Status Controllers::LoadConfig() {
  auto kcc = client_.Get("KubeControllersConfiguration", "", "default");
  if (!kcc && kcc.error().code() == ErrorCode::kNotFound) {
    // getOrCreateSnapshot: the defaults kube-controllers starts from.
    kcc = client_.Create(DefaultKubeControllersConfiguration());
    if (!kcc && kcc.error().code() == ErrorCode::kAlreadyExists) {
      kcc = client_.Get("KubeControllersConfiguration", "", "default");
    }
  }
  if (!kcc) return Unexpected(kcc.error().Wrap("KubeControllersConfiguration default"));
  auto merged = MergeConfig(options_.env, *kcc);
  if (!merged) return Unexpected(merged.error().Wrap("KubeControllersConfiguration default"));
  ApplyConfig(*merged);
  // Status for `calicoctl get kubecontrollersconfiguration default -o yaml`; best effort.
  model::Json status = RunningConfigStatus(*merged, options_.env);
  if (kcc->doc().value("status", model::Json()) != status) {
    model::Resource with_status = *kcc;
    with_status.doc()["status"] = status;
    auto written = client_.Update(with_status);
    if (!written && written.error().code() != ErrorCode::kConflict) {
      CALICO_LOG(warn, "controllers", "write KubeControllersConfiguration status: {}",
                 written.error().message());
    }
  }
  return OkStatus();
}

void Controllers::ApplyConfig(const RunConfig& config) {
  if (config == config_ && gc_settings_.nodes == config.node.has_value()) return;
  config_ = config;
  gc_settings_.workload_endpoints = config.workload_endpoint.has_value();
  gc_settings_.nodes = config.node.has_value();
  gc_settings_.leak_grace = config.node ? config.node->leak_grace_period : Duration(0);
  gc_settings_.ipam = config.node.has_value() && gc_settings_.leak_grace.count() > 0;
  gc_settings_.node_report_timeout = options_.node_report_timeout;
  // spdlog's names: "Warning" -> warning is not one; map to warn.
  std::string level = AsciiLower(config.log_severity);
  if (level == "warning") level = "warn";
  if (level == "fatal" || level == "panic") level = "critical";
  if (level == "none") level = "off";
  log::SetAllLevels(level);
  std::vector<std::string> on;
  if (config.policy) on.emplace_back("policy");
  if (config.namespace_) on.emplace_back("namespace");
  if (config.node) on.emplace_back("node");
  if (config.workload_endpoint) on.emplace_back("workloadendpoint");
  CALICO_LOG(info, "controllers",
             "running config: controllers={} leakGracePeriod={} gc every {} nodeReportTimeout={}",
             StrJoin(on, ","), FormatDuration(gc_settings_.leak_grace),
             FormatDuration(GcPeriod(config)), FormatDuration(options_.node_report_timeout));
  policy_duty_.dirty = namespace_duty_.dirty = gc_duty_.dirty = true;
}

Status Controllers::BecomeLeader() {
  RETURN_IF_ERROR(LoadConfig());
  // Watch from the revision the passes below will read at (or later): nothing is missed.
  ASSIGN_OR_RETURN(auto listed, backend_.List("/calico/controllers/v1/revision-probe/"));
  revision_ = listed.revision;
  ASSIGN_OR_RETURN(watch_, backend_.Watch(kWatchPrefix, revision_ + 1));
  gc_.Reset();
  policy_duty_ = namespace_duty_ = gc_duty_ = Duty{};
  leading_ = true;
  metrics_.SetLeader(true);
  return OkStatus();
}

void Controllers::StandBy() {
  if (watch_) watch_->Close();
  watch_.reset();
  gc_.Reset();
  if (leading_) CALICO_LOG(info, "controllers", "standing by (not leader)");
  leading_ = false;
  metrics_.SetLeader(false);
}

void Controllers::Ingest(const datastore::WatchEvent& ev) {
  const std::string& key = ev.kv.key;
  revision_ = std::max(revision_, ev.kv.mod_revision);
  const bool deleted = ev.type == datastore::WatchEventType::kDelete;
  std::string k8s(model::kKubernetesKeyRoot);
  if (StartsWith(key, k8s + "v1/namespaces/")) {
    namespace_duty_.dirty = true;
  } else if (StartsWith(key, k8s)) {
    policy_duty_.dirty = true;
  } else if (StartsWith(key, ResourcePath("kubecontrollersconfigurations"))) {
    if (!deleted) {
      Status st = LoadConfig();
      if (!st) CALICO_LOG(error, "controllers", "{}", st.error().message());
    }
  } else if (StartsWith(key, ResourcePath("networkpolicies")) &&
             key.find("/" + std::string(kK8sNetworkPolicyPrefix)) != std::string::npos) {
    policy_duty_.dirty = true;  // someone edited or removed what we own
  } else if (StartsWith(key, ResourcePath("globalnetworkpolicies") + "k")) {
    policy_duty_.dirty = true;
  } else if (StartsWith(key, ResourcePath("profiles") + std::string(kNamespaceProfilePrefix))) {
    namespace_duty_.dirty = true;
  } else if (deleted && StartsWith(key, ResourcePath("nodes"))) {
    gc_duty_.dirty = true;  // a node was deleted: clean up after it now
  }
}

Status Controllers::RunDue() {
  const SteadyTime now = clock_.Now();
  auto due = [&](Duty& d) { return d.dirty || now >= d.due; };
  auto done = [&](Duty& d, Duration period, const char* name, const Status& st) {
    if (st) {
      d.dirty = false;
      d.due = now + period;
      metrics_.AddSync(name);
    } else {
      CALICO_LOG(error, "controllers", "{}: {} (retrying)", name, st.error().message());
      metrics_.AddSyncError(name);
      d.dirty = false;
      d.due = now + kRetryAfterError;
    }
  };
  auto may_act = [this] { return MayAct(); };
  if (config_.policy && due(policy_duty_)) {
    Status st = [&]() -> Status {
      RETURN_IF_ERROR(policy_.SyncNetworkPolicies(may_act));
      RETURN_IF_ERROR(policy_.SyncAdminPolicies(may_act));
      return OkStatus();
    }();
    done(policy_duty_, config_.policy->reconciler_period, "policy", st);
  }
  if (config_.namespace_ && due(namespace_duty_)) {
    Status st = [&]() -> Status {
      RETURN_IF_ERROR(policy_.SyncNamespaces(may_act));
      return OkStatus();
    }();
    done(namespace_duty_, config_.namespace_->reconciler_period, "namespace", st);
  }
  if ((gc_settings_.nodes || gc_settings_.workload_endpoints) && due(gc_duty_)) {
    auto r = gc_.RunOnce(gc_settings_, may_act);
    done(gc_duty_, GcPeriod(config_), "node", r ? OkStatus() : Status(Unexpected(r.error())));
  }
  return OkStatus();
}

Status Controllers::Step(std::chrono::milliseconds wait) {
  SteadyTime now = clock_.Now();
  if (now >= next_tick_) {
    next_tick_ = now + options_.lease / 4;
    auto ticked = elector_.Tick();
    if (!ticked) CALICO_LOG(warn, "controllers", "leader election: {}", ticked.error().message());
  }
  if (!elector_.IsLeader()) {
    if (leading_) StandBy();
    auto until_tick =
        std::chrono::duration_cast<milliseconds>(next_tick_ - clock_.Now()) + milliseconds(1);
    std::this_thread::sleep_for(std::clamp(until_tick, milliseconds(0), wait));
    return OkStatus();
  }
  if (!leading_) {
    Status st = BecomeLeader();
    if (!st) {
      CALICO_LOG(error, "controllers", "{}", st.error().message());
      if (st.error().code() == ErrorCode::kInvalidArgument) return st;
      std::this_thread::sleep_for(std::min(wait, kRetryAfterError));
      return OkStatus();
    }
  }
  // Wait for events, but not past the lease renewal.
  auto until_tick = std::chrono::duration_cast<milliseconds>(next_tick_ - clock_.Now());
  auto events = watch_->Next(std::clamp(until_tick, milliseconds(0), wait));
  if (!events) {
    // Compacted or broken (or refused by the client, e.g. over a limit): log it, resume from the
    // last revision at most once per 500 ms (libcalico-go watchersyncer/watchercache.go
    // MinResyncInterval); a full pass repairs anything missed.
    CALICO_LOG(warn, "controllers", "datastore watch failed at revision {}: {}", revision_,
               events.error().message());
    watch_.reset();
    const auto since = std::chrono::steady_clock::now() - last_watch_restart_;
    if (since < kMinWatchRestartInterval)
      std::this_thread::sleep_for(kMinWatchRestartInterval - since);
    last_watch_restart_ = std::chrono::steady_clock::now();
    auto again = backend_.Watch(kWatchPrefix, revision_ + 1);
    if (!again) {
      ASSIGN_OR_RETURN(auto listed, backend_.List("/calico/controllers/v1/revision-probe/"));
      revision_ = listed.revision;
      again = backend_.Watch(kWatchPrefix, revision_ + 1);
    }
    if (!again) {
      CALICO_LOG(warn, "controllers", "watch: {}", again.error().message());
      StandBy();
      return OkStatus();
    }
    watch_ = std::move(*again);
    policy_duty_.dirty = namespace_duty_.dirty = gc_duty_.dirty = true;
  } else {
    for (const auto& ev : *events) {
      Ingest(ev);
    }
  }
  return RunDue();
}

Status Controllers::Run(const std::atomic<bool>& stop) {
  while (!stop) {
    RETURN_IF_ERROR(Step(milliseconds(500)));
  }
  Release();
  return OkStatus();
}

void Controllers::Release() {
  elector_.Release();
  if (leading_) StandBy();
}

}  // namespace calico::controllers
