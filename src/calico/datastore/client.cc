// Resource operations with Calico's clientv3 rules (libcalico-go/lib/clientv3: resources.go,
// tier.go, ippool.go, workloadendpoint.go, clusterinfo.go) over any Backend.
#include "calico/datastore/client.h"

#include <chrono>

#include <fmt/format.h>

#include "calico/base/clock.h"
#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/random.h"
#include "calico/base/strings.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/names.h"
#include "calico/datastore/schema.h"
#include "calico/model/json_codec.h"
#include "calico/model/validate.h"
#include "calico/net/ip.h"

namespace calico::datastore {
namespace {

using model::Json;
using model::Resource;

constexpr const char* kDefaultAllowProfile = "projectcalico-default-allow";

bool IsPolicyKind(std::string_view kind) {
  return kind == "NetworkPolicy" || kind == "GlobalNetworkPolicy" ||
         kind == "StagedNetworkPolicy" || kind == "StagedGlobalNetworkPolicy";
}

bool IsBuiltInTier(std::string_view name) {
  return name == "default" || name == "kube-admin" || name == "kube-baseline";
}

Resource SyntheticDefaultAllowProfile() {
  Resource r("Profile", kDefaultAllowProfile);
  r.spec()["ingress"] = Json::array({Json{{"action", "Allow"}}});
  r.spec()["egress"] = Json::array({Json{{"action", "Allow"}}});
  r.set_resource_version("1");
  return r;
}

std::string KindRef(std::string_view kind, std::string_view ns, std::string_view name) {
  std::string out = std::string(kind) + "(";
  if (!ns.empty()) out += std::string(ns) + "/";
  return out + std::string(name) + ")";
}

}  // namespace

Status Client::EnsureInitialized() {
  // First the schema record: a binary that cannot read this store must not initialise it.
  RETURN_IF_ERROR(EnsureSchema(backend_, ThisBuild()));
  struct Tier {
    const char* name;
    int order;
    const char* action;
  };
  for (const Tier& t : {Tier{"default", 1000000, "Deny"}, Tier{"kube-admin", 1000, "Pass"},
                        Tier{"kube-baseline", 10000000, "Pass"}}) {
    Resource tier("Tier", t.name);
    tier.spec()["order"] = t.order;
    tier.spec()["defaultAction"] = t.action;
    auto created = Create(std::move(tier));
    if (!created && created.error().code() != ErrorCode::kAlreadyExists) {
      return Unexpected(created.error().Wrap("initialize tier " + std::string(t.name)));
    }
  }
  return EnsureClusterInformation();
}

// clientv3 client.go ensureClusterInformation as calicoctl calls it (EnsureInitialized(ctx, "",
// "")): a missing "default" is created with a random clusterGUID (hex of a UUID's 16 bytes) and
// datastoreReady true; an existing one gets whichever of the two it lacks (an explicit
// datastoreReady false, a datastore migration's lock, stays). calicoVersion and clusterType are
// calico-node's to set at start-up.
Status Client::EnsureClusterInformation() {
  auto new_guid = [] {
    std::string guid = NewUuid();
    guid.erase(std::remove(guid.begin(), guid.end(), '-'), guid.end());
    return guid;
  };
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto existing = Get("ClusterInformation", "", "default");
    if (!existing) {
      if (existing.error().code() != ErrorCode::kNotFound) {
        return Unexpected(existing.error().Wrap("initialize cluster information"));
      }
      Resource info("ClusterInformation", "default");
      info.spec()["clusterGUID"] = new_guid();
      info.spec()["datastoreReady"] = true;
      auto created = Create(std::move(info));
      if (created) return OkStatus();
      if (created.error().code() == ErrorCode::kAlreadyExists) continue;  // Another got there.
      return Unexpected(created.error().Wrap("initialize cluster information"));
    }
    Resource info = std::move(*existing);
    if (!info.spec().is_object()) info.spec() = Json::object();
    bool update_needed = false;
    if (info.spec().value("clusterGUID", std::string()).empty()) {
      info.spec()["clusterGUID"] = new_guid();
      update_needed = true;
    }
    if (!info.spec().contains("datastoreReady") || info.spec()["datastoreReady"].is_null()) {
      info.spec()["datastoreReady"] = true;
      update_needed = true;
    }
    if (!update_needed) return OkStatus();
    auto updated = Update(std::move(info));
    if (updated) return OkStatus();
    if (updated.error().code() == ErrorCode::kConflict) continue;
    return Unexpected(updated.error().Wrap("initialize cluster information"));
  }
  return Conflict("initialize cluster information: too many concurrent updates");
}

Result<const model::KindInfo*> Client::Prepare(Resource& r) {
  const model::KindInfo* kind = model::LookupKind(r.kind());
  if (kind == nullptr || kind->kind != r.kind()) {
    std::string api = r.doc().is_object() ? r.doc().value("apiVersion", "") : "";
    return InvalidArgument("unknown resource type (" + r.kind() + ") and/or version (" + api + ")");
  }
  if (kind->kind == "WorkloadEndpoint") RETURN_IF_ERROR(CheckWorkloadEndpointName(r));
  RETURN_IF_ERROR(model::ApplyDefaultsAndValidate(r));
  if (kind->kind == "WorkloadEndpoint") {
    // clientv3 stores a WorkloadEndpoint with labels naming its namespace and orchestrator (and
    // service account), so that selectors can match on them.
    auto& labels = r.doc()["metadata"]["labels"];
    if (!labels.is_object()) labels = model::Json::object();
    labels["projectcalico.org/namespace"] = r.namespace_();
    labels["projectcalico.org/orchestrator"] = r.spec().value("orchestrator", "");
    std::string sa = r.spec().value("serviceAccountName", "");
    if (!sa.empty()) labels["projectcalico.org/serviceaccount"] = sa;
  }
  return kind;
}

Status Client::CheckCreateRules(const model::KindInfo& kind, const Resource& r,
                                bool check_pool_overlap) {
  if (IsPolicyKind(kind.kind)) {
    std::string tier = r.spec().value("tier", "default");
    auto got = backend_.Get(ResourceKey{.kind = model::LookupKind("Tier"), .name = tier}.Format());
    if (!got) {
      if (got.error().code() == ErrorCode::kNotFound) {
        return NotFound("resource does not exist: Tier(" + tier + ")");
      }
      return Unexpected(got.error());
    }
  }
  if (kind.kind == "IPPool" && check_pool_overlap) {
    auto cidr = net::CIDR::ParseNet(r.spec().value("cidr", ""));
    if (!cidr) return OkStatus();
    ASSIGN_OR_RETURN(auto pools, List("IPPool"));
    for (const Resource& other : pools) {
      if (other.name() == r.name()) continue;
      auto other_cidr = net::CIDR::ParseNet(other.spec().value("cidr", ""));
      if (other_cidr && other_cidr->Overlaps(*cidr)) {
        return InvalidArgument("IPPool(" + r.name() + ") CIDR " + cidr->String() +
                               " overlaps with IPPool(" + other.name() + ") CIDR " +
                               other_cidr->String());
      }
    }
  }
  return OkStatus();
}

namespace {

// The stored form of `r`, refused when readers would refuse it (model/decode_limits.h).
Result<std::string> EncodeWithinLimits(const Resource& r) {
  if (model::JsonDepth(r.doc()) > model::kMaxNestingDepth) {
    return InvalidArgument(fmt::format("{} {} exceeds the {} of {}", r.kind(), r.name(),
                                       model::kMaxNestingDepthName, model::kMaxNestingDepth));
  }
  std::string value = EncodeStoredResource(r);
  if (value.size() > model::kMaxStoredValueBytes) {
    return InvalidArgument(
        fmt::format("{} {} is {} bytes stored, more than the {} of {} bytes", r.kind(), r.name(),
                    value.size(), model::kMaxStoredValueBytesName, model::kMaxStoredValueBytes));
  }
  return value;
}

}  // namespace

Result<Resource> Client::Create(Resource r) {
  return CreateImpl(std::move(r), true);
}

Result<Resource> Client::UnsafeCreate(Resource r) {
  return CreateImpl(std::move(r), false);
}

Result<Resource> Client::CreateImpl(Resource r, bool check_pool_overlap) {
  ASSIGN_OR_RETURN(const model::KindInfo* kind, Prepare(r));
  if (!r.resource_version().empty()) {
    return InvalidArgument("error with field metadata.resourceVersion = '" + r.resource_version() +
                           "' (field must not be set for a Create request)");
  }
  if (kind->kind == "Profile" && r.name() == kDefaultAllowProfile) {
    return AlreadyExists("resource already exists: Profile(" + r.name() + ")");
  }
  RETURN_IF_ERROR(CheckCreateRules(*kind, r, check_pool_overlap));
  r.metadata()["uid"] = NewUuid();
  r.metadata()["creationTimestamp"] = FormatRfc3339(std::chrono::system_clock::now());
  std::string key = ResourceKey{.kind = kind, .ns = r.namespace_(), .name = r.name()}.Format();
  ASSIGN_OR_RETURN(std::string value, EncodeWithinLimits(r));
  auto kv = backend_.Create(key, value);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kAlreadyExists) {
      return AlreadyExists("resource already exists: " +
                           KindRef(kind->kind, r.namespace_(), r.name()));
    }
    return Unexpected(kv.error());
  }
  r.set_resource_version(std::to_string(kv->mod_revision));
  return r;
}

Result<Resource> Client::Update(Resource r) {
  ASSIGN_OR_RETURN(const model::KindInfo* kind, Prepare(r));
  std::string key = ResourceKey{.kind = kind, .ns = r.namespace_(), .name = r.name()}.Format();
  auto current_kv = backend_.Get(key);
  if (!current_kv) {
    if (current_kv.error().code() == ErrorCode::kNotFound) {
      return NotFound("resource does not exist: " + KindRef(kind->kind, r.namespace_(), r.name()));
    }
    return Unexpected(current_kv.error());
  }
  ASSIGN_OR_RETURN(Resource current,
                   DecodeStoredResource(key, current_kv->value, current_kv->mod_revision));
  int64_t expected = current_kv->mod_revision;
  if (!r.resource_version().empty()) {
    Result<int64_t> rv = ParseInt<int64_t>(r.resource_version());
    if (!rv) {
      return InvalidArgument("error with field metadata.resourceVersion = '" +
                             r.resource_version() + "' (invalid resource version)");
    }
    if (*rv != expected) {
      return Conflict("update conflict: " + KindRef(kind->kind, r.namespace_(), r.name()) +
                      " resource version '" + r.resource_version() +
                      "' is out of date (latest: " + std::to_string(expected) + ")");
    }
  }
  // Server-owned metadata comes from the stored object.
  for (const char* field : {"uid", "creationTimestamp"}) {
    if (current.metadata().contains(field)) r.metadata()[field] = current.metadata()[field];
  }
  // CalicoNodeStatus.status belongs to calico-node (a status subresource in Calico's CRD): an
  // update without one (the user's spec change) keeps the stored status, as the Kubernetes
  // datastore does; calico-node's own writes carry it.
  if (kind->kind == "CalicoNodeStatus" && !r.doc().contains("status") &&
      current.doc().contains("status")) {
    r.doc()["status"] = current.doc()["status"];
  }
  if (kind->kind == "IPPool") {
    auto old_cidr = net::CIDR::ParseNet(current.spec().value("cidr", ""));
    auto new_cidr = net::CIDR::ParseNet(r.spec().value("cidr", ""));
    if (old_cidr && new_cidr && old_cidr->Masked() != new_cidr->Masked()) {
      return InvalidArgument("error with field IPPool.Spec.CIDR = '" + new_cidr->String() +
                             "' (IPPool CIDR cannot be modified)");
    }
    if (current.spec().value("blockSize", 0) != r.spec().value("blockSize", 0)) {
      return InvalidArgument("error with field IPPool.Spec.BlockSize = '" +
                             r.spec().value("blockSize", Json()).dump() +
                             "' (IPPool BlockSize cannot be modified)");
    }
  }
  if (IsPolicyKind(kind->kind)) RETURN_IF_ERROR(CheckCreateRules(*kind, r));
  ASSIGN_OR_RETURN(std::string value, EncodeWithinLimits(r));
  auto kv = backend_.Update(key, value, expected);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kConflict) {
      return Conflict("update conflict: " + KindRef(kind->kind, r.namespace_(), r.name()));
    }
    return Unexpected(kv.error());
  }
  r.set_resource_version(std::to_string(kv->mod_revision));
  return r;
}

Result<Resource> Client::Apply(Resource r) {
  Resource copy = r;
  copy.set_resource_version("");
  auto created = Create(copy);
  if (created || created.error().code() != ErrorCode::kAlreadyExists) return created;
  r.set_resource_version("");
  return Update(std::move(r));
}

Result<Resource> Client::Delete(std::string_view kind_name, std::string_view ns,
                                std::string_view name, std::string_view resource_version) {
  const model::KindInfo* kind = model::LookupKind(kind_name);
  if (kind == nullptr)
    return InvalidArgument("unknown resource type (" + std::string(kind_name) + ")");
  if (kind->kind == "Profile" && name == kDefaultAllowProfile) {
    return InvalidArgument("operation Delete is not supported on Profile(" + std::string(name) +
                           "): the default profile is read-only");
  }
  if (kind->kind == "Tier") {
    if (IsBuiltInTier(name)) {
      return InvalidArgument("operation Delete is not supported on Tier(" + std::string(name) +
                             "): Cannot delete " + std::string(name) + " tier");
    }
    for (const char* policy_kind : {"NetworkPolicy", "GlobalNetworkPolicy", "StagedNetworkPolicy",
                                    "StagedGlobalNetworkPolicy"}) {
      ASSIGN_OR_RETURN(auto policies, List(policy_kind));
      for (const Resource& p : policies) {
        if (p.spec().value("tier", "default") == name) {
          return InvalidArgument("Cannot delete a non-empty tier");
        }
      }
    }
  }
  int64_t expected = 0;
  if (!resource_version.empty()) {
    Result<int64_t> rv = ParseInt<int64_t>(resource_version);
    if (!rv) {
      return InvalidArgument("invalid resource version '" + std::string(resource_version) + "'");
    }
    expected = *rv;
  }
  std::string key =
      ResourceKey{.kind = kind, .ns = std::string(ns), .name = std::string(name)}.Format();
  auto kv = backend_.Delete(key, expected);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) {
      return NotFound("resource does not exist: " + KindRef(kind->kind, ns, name));
    }
    if (kv.error().code() == ErrorCode::kConflict) {
      return Conflict("update conflict: " + KindRef(kind->kind, ns, name));
    }
    return Unexpected(kv.error());
  }
  return DecodeStoredResource(key, kv->value, kv->mod_revision);
}

Result<Resource> Client::Get(std::string_view kind_name, std::string_view ns,
                             std::string_view name) {
  const model::KindInfo* kind = model::LookupKind(kind_name);
  if (kind == nullptr)
    return InvalidArgument("unknown resource type (" + std::string(kind_name) + ")");
  if (kind->kind == "Profile" && name == kDefaultAllowProfile)
    return SyntheticDefaultAllowProfile();
  std::string key =
      ResourceKey{.kind = kind, .ns = std::string(ns), .name = std::string(name)}.Format();
  auto kv = backend_.Get(key);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) {
      return NotFound("resource does not exist: " + KindRef(kind->kind, ns, name));
    }
    return Unexpected(kv.error());
  }
  return DecodeStoredResource(key, kv->value, kv->mod_revision);
}

Result<std::vector<Resource>> Client::List(std::string_view kind_name, std::string_view ns) {
  ASSIGN_OR_RETURN(auto listed, ListWithRevision(kind_name, ns));
  return std::move(listed.items);
}

Result<Client::ListResult> Client::ListWithRevision(std::string_view kind_name,
                                                    std::string_view ns) {
  const model::KindInfo* kind = model::LookupKind(kind_name);
  if (kind == nullptr)
    return InvalidArgument("unknown resource type (" + std::string(kind_name) + ")");
  ASSIGN_OR_RETURN(auto kvs, backend_.List(ResourceListPrefix(*kind, ns)));
  ListResult out;
  out.revision = kvs.revision;
  if (kind->kind == "Profile") out.items.push_back(SyntheticDefaultAllowProfile());
  for (const KVPair& kv : kvs.kvs) {
    auto r = DecodeStoredResource(kv.key, kv.value, kv.mod_revision);
    if (!r) {
      // One unreadable value (hand-written into etcd, or over a decoder limit) must not hide
      // every other resource of the kind: skipped and logged, as calico-node does.
      CALICO_LOG(warn, "datastore", "skipping unreadable resource {}: {}", kv.key,
                 r.error().message());
      ++out.skipped;
      continue;
    }
    out.items.push_back(std::move(*r));
  }
  std::sort(out.items.begin(), out.items.end(), [](const Resource& a, const Resource& b) {
    return std::make_pair(a.namespace_(), a.name()) < std::make_pair(b.namespace_(), b.name());
  });
  return out;
}

}  // namespace calico::datastore
