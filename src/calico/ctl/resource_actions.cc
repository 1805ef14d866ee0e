// calicoctl's per-resource actions (calicoctl/calicoctl/resourcemgr/resourcemgr.go,
// commands/common/resources.go ExecuteResourceAction and handleNamespace).
#include "calico/ctl/resource_actions.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "calico/controllers/gc.h"
#include "calico/ctl/resource_loader.h"
#include "calico/ipam/ipam.h"
#include "calico/model/json_codec.h"
#include "calico/model/validate.h"
#include "calico/selector/selector.h"

namespace calico::ctl {
namespace {

using model::Json;
using model::Resource;

// kube-controllers/pkg/converter/networkpolicy_converter.go KubernetesNetworkPolicyEtcdPrefix.
constexpr std::string_view kKubernetesNetworkPolicyPrefix = "knp.default.";

std::string Identifier(const Resource& r) {
  if (!r.namespace_().empty()) return fmt::format("{}({}/{})", r.kind(), r.namespace_(), r.name());
  return fmt::format("{}({})", r.kind(), r.name());
}

// prepareMetadataForCreate: only name, namespace, resourceVersion, labels and annotations.
Resource PrepareForCreate(const Resource& r) {
  Resource out = r;
  Json md = Json::object();
  const Json& in = r.metadata();
  for (const char* k : {"name", "namespace", "resourceVersion", "labels", "annotations"}) {
    if (in.contains(k)) md[k] = in[k];
  }
  out.metadata() = std::move(md);
  return out;
}

// mergeMetadataForUpdate: the stored metadata with the document's labels and annotations.
Resource MergeForUpdate(const Resource& stored, Resource doc) {
  Json md = stored.metadata();
  const Json& cm = doc.metadata();
  for (const char* k : {"labels", "annotations"}) {
    if (cm.contains(k)) {
      md[k] = cm[k];
    } else {
      md.erase(k);
    }
  }
  doc.metadata() = std::move(md);
  return doc;
}

// The per-kind refusals of calicoctl's resource helpers, for the operation names upstream uses
// ("create or apply", "apply or replace", "delete"):
// - calicoctl/calicoctl/resourcemgr/networkpolicy.go: a NetworkPolicy named "knp.default.*"
//   (kube-controllers' converter.KubernetesNetworkPolicyEtcdPrefix) is the image of a Kubernetes
//   NetworkPolicy; only the controllers write it (through datastore::Client, which has no such
//   rule), users cannot.
// - calicoctl/calicoctl/resourcemgr/clusterinfo.go: ClusterInformation is managed by calico-node
//   and the datastore's initialisation.
// Upstream prints the Go object (%v) as the identifier; we print Kind(namespace/name).
Status RefuseUserWrite(const Resource& r, std::string_view operation) {
  if (r.kind() == "NetworkPolicy" && r.name().starts_with(kKubernetesNetworkPolicyPrefix)) {
    return MakeError(ErrorCode::kUnsupported,
                     fmt::format("operation {} is not supported on {}: kubernetes network "
                                 "policies must be managed through the kubernetes API",
                                 operation, Identifier(r)));
  }
  if (r.kind() == "ClusterInformation") {
    return MakeError(ErrorCode::kUnsupported,
                     fmt::format("operation {} is not supported on ClusterInformation", operation));
  }
  return OkStatus();
}

Result<Resource> DoUpdate(datastore::Client& client, const Resource& r, Context& ctx) {
  const std::string rv = r.resource_version();
  // resourcemgr Update reads the stored resource first (so a missing one is "does not exist"),
  // then calls the kind's update, which refuses.
  if (!rv.empty()) {
    ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
    RETURN_IF_ERROR(RefuseUserWrite(r, "apply or replace"));
    if (stored.resource_version() != rv) {
      return Conflict(fmt::format("update conflict: {}", Identifier(stored)));
    }
    return client.Update(MergeForUpdate(stored, r));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {
    ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
    RETURN_IF_ERROR(RefuseUserWrite(r, "apply or replace"));
    auto res = client.Update(MergeForUpdate(stored, r));
    if (!res && res.error().code() == ErrorCode::kConflict) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ctx.retry_sleep_ms));
      continue;
    }
    return res;
  }
  return Conflict(fmt::format("failed to update the resource: {}", Identifier(r)));
}

Result<Resource> DoCreate(datastore::Client& client, const Resource& r) {
  RETURN_IF_ERROR(RefuseUserWrite(r, "create or apply"));
  return client.Create(PrepareForCreate(r));
}

Result<Resource> DoApply(datastore::Client& client, Resource r, Context& ctx) {
  if (r.kind() == "ClusterInformation") {
    return MakeError(
        ErrorCode::kUnsupported,
        "operation apply is not supported on ClusterInformation: resource is readonly");
  }
  const std::string original_rv = r.resource_version();
  r.set_resource_version("");
  auto created = DoCreate(client, r);
  if (!created && (created.error().code() == ErrorCode::kAlreadyExists ||
                   created.error().code() == ErrorCode::kUnsupported)) {
    r.set_resource_version(original_rv);
    return DoUpdate(client, r, ctx);
  }
  return created;
}

// The store revision a list was read at (List objects carry it as metadata.resourceVersion).
std::string ListRevision(datastore::Client& client) {
  auto lr = client.backend().List("/calico/ctl/list-revision-probe/");
  return lr ? std::to_string(lr->revision) : std::string();
}

std::map<std::string, std::string> LabelsOf(const Resource& r) {
  std::map<std::string, std::string> labels;
  const Json& md = r.metadata();
  if (md.contains("labels") && md["labels"].is_object()) {
    for (auto it = md["labels"].begin(); it != md["labels"].end(); ++it) {
      if (it.value().is_string()) labels[it.key()] = it.value().get<std::string>();
    }
  }
  return labels;
}

// calicoctl/calicoctl/resourcemgr/tier.go (the list function): tiers sorted by spec.order,
// stable (so equal orders keep the client's name order), a tier without an order last.
void SortTiersByOrder(std::vector<Resource>& tiers) {
  auto order = [](const Resource& t) -> std::optional<double> {
    const Json& spec = t.spec();
    if (!spec.is_object()) return std::nullopt;
    auto it = spec.find("order");
    if (it == spec.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
  };
  std::stable_sort(tiers.begin(), tiers.end(), [&](const Resource& a, const Resource& b) {
    const auto oa = order(a);
    const auto ob = order(b);
    if (!oa) return false;
    if (!ob) return true;
    return *oa < *ob;
  });
}

Result<ActionOutput> DoGetOrList(datastore::Client& client, const Resource& r,
                                 const model::KindInfo& info, const ResourceArgs& args) {
  ActionOutput out;
  out.kind = info.kind;
  if (!r.name().empty()) {
    if (r.namespace_().empty() && info.namespaced) {
      return InvalidArgument("cannot use --all-namespace flag for getting a single resource");
    }
    ASSIGN_OR_RETURN(out.resource, client.Get(info.kind, r.namespace_(), r.name()));
    return out;
  }
  out.is_list = true;
  ASSIGN_OR_RETURN(out.items, client.List(info.kind, r.namespace_()));
  if (!args.selector.empty()) {
    ASSIGN_OR_RETURN(auto sel, selector::Parse(args.selector));
    std::vector<Resource> kept;
    for (auto& item : out.items) {
      if (sel.Evaluate(LabelsOf(item))) kept.push_back(std::move(item));
    }
    out.items = std::move(kept);
  }
  if (info.kind == "Tier") SortTiersByOrder(out.items);
  out.list_revision = ListRevision(client);
  return out;
}

Result<Resource> DoPatch(datastore::Client& client, const Resource& r, const ResourceArgs& args) {
  ASSIGN_OR_RETURN(Resource stored, client.Get(r.kind(), r.namespace_(), r.name()));
  auto parsed_patch = model::ParseJson(args.patch);
  if (!parsed_patch) {
    return InvalidArgument(fmt::format("performing strategic merge patch: invalid JSON patch: {}",
                                       parsed_patch.error().message()));
  }
  Json patch = std::move(*parsed_patch);
  Json patched;
  if (args.patch_type == "json") {
    if (!patch.is_array()) {
      return InvalidArgument(
          "performing strategic merge patch: json patch must be a list of operations");
    }
    try {
      patched = stored.doc().patch(patch);
    } catch (const std::exception& e) {
      return InvalidArgument(fmt::format("performing strategic merge patch: {}", e.what()));
    }
  } else {
    if (!patch.is_object()) {
      return InvalidArgument("performing strategic merge patch: patch must be a JSON object");
    }
    patched = stored.doc();
    patched.merge_patch(patch);
  }
  // A JSON patch can nest one value inside another: the result must still be readable.
  RETURN_IF_ERROR(model::CheckJsonLimits(patched, "the patched resource"));
  auto decoded = DecodeResourceObject(patched);
  if (!decoded) {
    return InvalidArgument(fmt::format("creating resource from patched data: {}",
                                       MassageError(decoded.error().message())));
  }
  if (decoded->size() != 1) {
    return InvalidArgument(fmt::format("invalid number of patched resources: {}", decoded->size()));
  }
  Result<Resource> updated = (*decoded)[0];
  if (Status refused = RefuseUserWrite(*updated, "apply or replace"); !refused) {
    updated = Unexpected(refused.error());
  } else {
    updated = client.Update((*decoded)[0]);
  }
  if (!updated) {
    return Unexpected(Error(updated.error().code(), fmt::format("updating existing resource: {}",
                                                                updated.error().message())));
  }
  return updated;
}

// libcalico-go/lib/clientv3/node.go nodes.Delete: before the Node itself goes, everything of the
// node does: the addresses allocated to it (its workloads' and its tunnel addresses, per handle,
// so the handles go too), its WorkloadEndpoints, its block affinities (an empty block is
// released, a block still holding borrowed addresses loses its affinity), its BGPPeers,
// node.<name> FelixConfiguration and BGPConfiguration, its HostEndpoints and calico-node's
// status reports. A missing Node is still cleaned up after, then reported as not existing; the
// resource version, when given, conditions only the Node's own deletion (as upstream's opts).
// The cascade is calico-controllers' node clean-up (controllers/gc.h CleanUpNode), the one
// implementation both use.
Result<Resource> DeleteNode(datastore::Client& client, const Resource& r) {
  auto existing = client.Get("Node", "", r.name());
  if (!existing && existing.error().code() != ErrorCode::kNotFound) {
    return Unexpected(existing.error());
  }
  ipam::IpamClient ipam(client.backend());
  auto cleaned = controllers::CleanUpNode(client, ipam, r.name(), /*delete_node_resource=*/false,
                                          /*may_act=*/{});
  if (!cleaned) return Unexpected(cleaned.error());
  return client.Delete("Node", "", r.name(), r.resource_version());
}

Result<Resource> DoDelete(datastore::Client& client, const Resource& r,
                          const model::KindInfo& info) {
  RETURN_IF_ERROR(RefuseUserWrite(r, "delete"));
  if (info.kind == "Node") return DeleteNode(client, r);
  return client.Delete(info.kind, r.namespace_(), r.name(), r.resource_version());
}

}  // namespace

Status HandleNamespace(Resource& r, const model::KindInfo& info, const ResourceArgs& args) {
  const std::string res_ns = r.namespace_();
  const std::string& cli_ns = args.namespace_;
  const bool all_ns = args.all_namespaces;
  if (info.namespaced) {
    if (all_ns && !cli_ns.empty()) {
      return InvalidArgument(
          "cannot use both --namespace and --all-namespaces flags at the same time");
    }
    if (res_ns.empty() && !cli_ns.empty()) {
      r.set_namespace(cli_ns);
    } else if (!res_ns.empty() && all_ns) {
      r.set_namespace("");
    } else if (res_ns.empty() && all_ns) {
      // List across all namespaces.
    } else if (res_ns.empty() && cli_ns.empty()) {
      r.set_namespace("default");
    } else if (!res_ns.empty() && cli_ns.empty()) {
      // Keep the document's namespace.
    } else if (res_ns != cli_ns) {
      return InvalidArgument(fmt::format(
          "resource namespace does not match client namespace. {} != {}", res_ns, cli_ns));
    }
    return OkStatus();
  }
  if (!res_ns.empty()) {
    return InvalidArgument(fmt::format(
        "namespace should not be specified for a non-namespaced resource. {} is not a namespaced "
        "resource",
        info.kind));
  }
  if (all_ns || !cli_ns.empty())
    return InvalidArgument(fmt::format("{} is not namespaced", info.kind));
  return OkStatus();
}

Result<ActionOutput> ExecuteResourceAction(const ResourceArgs& args, datastore::Client* client,
                                           Resource r, Context& ctx) {
  const model::KindInfo* info = model::LookupKind(r.kind());
  if (info == nullptr) {
    return InvalidArgument(fmt::format("resource type '{}' is not supported", r.kind()));
  }
  RETURN_IF_ERROR(HandleNamespace(r, *info, args));
  ActionOutput out;
  out.kind = info->kind;
  Result<Resource> res = r;
  switch (args.action) {
    case Action::kApply:
      res = DoApply(*client, r, ctx);
      break;
    case Action::kCreate:
      res = DoCreate(*client, r);
      break;
    case Action::kUpdate:
      res = DoUpdate(*client, r, ctx);
      break;
    case Action::kDelete:
      res = DoDelete(*client, r, *info);
      break;
    case Action::kGetOrList:
      return DoGetOrList(*client, r, *info, args);
    case Action::kPatch:
      res = DoPatch(*client, r, args);
      break;
    case Action::kValidate: {
      Resource copy = r;
      Status st = model::ApplyDefaultsAndValidate(copy);
      if (!st) return Unexpected(st.error());
      res = r;
      break;
    }
  }
  if (!res) {
    const ErrorCode code = res.error().code();
    const bool skip = (code == ErrorCode::kAlreadyExists && args.skip_exists) ||
                      (code == ErrorCode::kNotFound && args.skip_not_exists);
    if (!skip) return Unexpected(res.error());
    res = r;
  }
  out.resource = std::move(*res);
  return out;
}

}  // namespace calico::ctl
