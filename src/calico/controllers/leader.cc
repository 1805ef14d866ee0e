// See leader.h.
#include "calico/controllers/leader.h"

#include <nlohmann/json.hpp>

#include "calico/base/log.h"

namespace calico::controllers {

LeaderElector::LeaderElector(datastore::Backend& backend, const Clock& clock, std::string identity,
                             std::chrono::seconds lease)
    : backend_(backend), clock_(clock), identity_(std::move(identity)), lease_(lease) {}

std::string LeaderElector::Value() const {
  // The fields of a Kubernetes Lease spec, for people reading the key.
  return nlohmann::json{{"holderIdentity", identity_},
                        {"leaseDurationSeconds", lease_.count()},
                        {"acquireTime", acquired_at_},
                        {"renewTime", FormatRfc3339(clock_.WallNow())}}
      .dump();
}

Result<bool> LeaderElector::Tick() {
  auto started = clock_.Now();
  if (leading_) {
    auto kv = backend_.Update(kLeaderKey, Value(), revision_, lease_);
    if (kv) {
      revision_ = kv->mod_revision;
      renewed_at_ = started;
      return true;
    }
    if (kv.error().code() == ErrorCode::kConflict || kv.error().code() == ErrorCode::kNotFound) {
      CALICO_LOG(warn, "controllers", "lost the leader lease ({}); standing by",
                 kv.error().message());
      leading_ = false;
      return false;
    }
    return Unexpected(kv.error().Wrap("renew the leader lease"));
  }
  auto current = backend_.Get(kLeaderKey);
  if (current) return false;
  if (current.error().code() != ErrorCode::kNotFound) {
    return Unexpected(current.error().Wrap("read the leader lease"));
  }
  acquired_at_ = FormatRfc3339(clock_.WallNow());
  auto kv = backend_.Create(kLeaderKey, Value(), lease_);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kAlreadyExists) return false;  // another won the race
    return Unexpected(kv.error().Wrap("take the leader lease"));
  }
  leading_ = true;
  revision_ = kv->mod_revision;
  renewed_at_ = started;
  CALICO_LOG(info, "controllers", "became leader identity={} lease={}s", identity_, lease_.count());
  return true;
}

bool LeaderElector::IsLeader() const {
  if (!leading_) return false;
  // Stop acting a third of the lease before it can expire in the store.
  auto margin = std::chrono::duration_cast<std::chrono::steady_clock::duration>(lease_) / 3;
  return clock_.Now() < renewed_at_ + lease_ - margin;
}

void LeaderElector::Release() {
  if (!leading_) return;
  leading_ = false;
  auto deleted = backend_.Delete(kLeaderKey, revision_);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound &&
      deleted.error().code() != ErrorCode::kConflict) {
    CALICO_LOG(warn, "controllers", "release the leader lease: {}", deleted.error().message());
  }
}

Result<std::string> LeaderElector::Holder() {
  auto kv = backend_.Get(kLeaderKey);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return std::string();
    return Unexpected(kv.error());
  }
  auto j = nlohmann::json::parse(kv->value, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::string("?");
  return j.value("holderIdentity", std::string("?"));
}

}  // namespace calico::controllers
