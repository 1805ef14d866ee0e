// See policy_sync.h.
#include "calico/controllers/policy_sync.h"

#include <map>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/controllers/convert.h"
#include "calico/model/validate.h"

namespace calico::controllers {
namespace {

using model::Resource;

std::string Key(const Resource& r) {
  return r.namespace_().empty() ? r.name() : r.namespace_() + "/" + r.name();
}

// Makes the owned resources of `kind` (names starting with `prefix`) equal to `desired`.
Result<SyncResult> Reconcile(datastore::Client& client, ControllerMetrics& metrics,
                             std::string_view controller, std::string_view kind,
                             std::string_view prefix, std::map<std::string, Resource> desired,
                             const MayAct& may_act) {
  ASSIGN_OR_RETURN(auto current_list, client.List(kind));
  std::map<std::string, Resource> current;
  for (Resource& r : current_list) {
    if (StartsWith(r.name(), prefix)) current.emplace(Key(r), std::move(r));
  }
  SyncResult out;
  auto check = [&]() -> Status {
    if (may_act && !may_act()) return Unavailable("not leader: pass stopped");
    return OkStatus();
  };
  for (auto& [key, want] : desired) {
    model::ApplyDefaults(want);
    auto it = current.find(key);
    if (it == current.end()) {
      RETURN_IF_ERROR(check());
      auto created = client.Create(want);
      if (!created) {
        return Unexpected(created.error().Wrap("create " + std::string(kind) + " " + key));
      }
      metrics.AddWrite(controller, kind, "create");
      ++out.created;
      continue;
    }
    Resource& have = it->second;
    if (have.spec() != want.spec()) {
      RETURN_IF_ERROR(check());
      Resource updated = have;
      updated.spec() = want.spec();
      auto written = client.Update(updated);
      if (!written) {
        return Unexpected(written.error().Wrap("update " + std::string(kind) + " " + key));
      }
      metrics.AddWrite(controller, kind, "update");
      ++out.updated;
    }
    current.erase(it);
  }
  for (auto& [key, stale] : current) {
    RETURN_IF_ERROR(check());
    auto deleted = client.Delete(kind, stale.namespace_(), stale.name(), stale.resource_version());
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
      return Unexpected(deleted.error().Wrap("delete " + std::string(kind) + " " + key));
    }
    metrics.AddWrite(controller, kind, "delete");
    ++out.deleted;
  }
  if (out.writes() > 0) {
    CALICO_LOG(info, "controllers", "{}: {} created={} updated={} deleted={}", controller, kind,
               out.created, out.updated, out.deleted);
  }
  return out;
}

void NoteDropped(ControllerMetrics& metrics, const Resource& source, const Converted& c) {
  if (c.dropped_rules.empty()) return;
  metrics.AddConversionErrors(source.kind(), static_cast<int>(c.dropped_rules.size()));
  for (const std::string& d : c.dropped_rules) {
    CALICO_LOG(warn, "controllers", "{} {}: dropping a rule that could not be converted: {}",
               source.kind(), Key(source), d);
  }
}

}  // namespace

Result<SyncResult> PolicySync::SyncNetworkPolicies(const MayAct& may_act) {
  ASSIGN_OR_RETURN(auto sources, client_.List("NetworkPolicy.networking.k8s.io"));
  std::map<std::string, Resource> desired;
  for (const Resource& np : sources) {
    auto converted = K8sNetworkPolicyToCalico(np);
    if (!converted) {
      CALICO_LOG(error, "controllers", "NetworkPolicy {}: {}", Key(np),
                 converted.error().message());
      continue;
    }
    NoteDropped(metrics_, np, *converted);
    desired.emplace(Key(converted->resource), std::move(converted->resource));
  }
  return Reconcile(client_, metrics_, "policy", "NetworkPolicy", kK8sNetworkPolicyPrefix,
                   std::move(desired), may_act);
}

Result<SyncResult> PolicySync::SyncNamespaces(const MayAct& may_act) {
  ASSIGN_OR_RETURN(auto sources, client_.List("Namespace"));
  std::map<std::string, Resource> desired;
  for (const Resource& ns : sources) {
    auto profile = NamespaceToProfile(ns);
    if (!profile) {
      CALICO_LOG(error, "controllers", "Namespace {}: {}", ns.name(), profile.error().message());
      continue;
    }
    desired.emplace(profile->name(), std::move(*profile));
  }
  return Reconcile(client_, metrics_, "namespace", "Profile", kNamespaceProfilePrefix,
                   std::move(desired), may_act);
}

Result<SyncResult> PolicySync::SyncAdminPolicies(const MayAct& may_act) {
  std::map<std::string, Resource> admin;
  std::map<std::string, Resource> baseline;
  for (bool is_baseline : {false, true}) {
    ASSIGN_OR_RETURN(
        auto sources,
        client_.List(is_baseline ? "BaselineAdminNetworkPolicy.policy.networking.k8s.io"
                                 : "AdminNetworkPolicy.policy.networking.k8s.io"));
    for (const Resource& src : sources) {
      auto converted =
          is_baseline ? BaselineAdminNetworkPolicyToCalico(src) : AdminNetworkPolicyToCalico(src);
      if (!converted) {
        CALICO_LOG(error, "controllers", "{} {}: {}", src.kind(), src.name(),
                   converted.error().message());
        continue;
      }
      NoteDropped(metrics_, src, *converted);
      auto& target = is_baseline ? baseline : admin;
      target.emplace(converted->resource.name(), std::move(converted->resource));
    }
  }
  ASSIGN_OR_RETURN(SyncResult a, Reconcile(client_, metrics_, "policy", "GlobalNetworkPolicy",
                                           kAdminPolicyPrefix, std::move(admin), may_act));
  ASSIGN_OR_RETURN(SyncResult b, Reconcile(client_, metrics_, "policy", "GlobalNetworkPolicy",
                                           kBaselinePolicyPrefix, std::move(baseline), may_act));
  return SyncResult{a.created + b.created, a.updated + b.updated, a.deleted + b.deleted};
}

}  // namespace calico::controllers
