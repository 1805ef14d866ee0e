// Leader election through the datastore, so that two calico-controllers never act at once: one
// key holds the leader's identity under a lease (an etcd lease; an expiring row in the embedded
// store), created only when absent and renewed by compare-and-swap on its revision.
//
//   Tick() ─ follower: Get(key) absent? ─ Create(key, me, ttl) ─ won: leader
//          ─ leader:   Update(key, me, my revision, ttl) ─ conflict/absent: lost
//   IsLeader(): leading and the last renewal started less than (lease - margin) ago
//
// A leader acts only while IsLeader() holds, checked before every write. The lease it renewed at
// time T (the moment the renewal was sent) cannot expire before T + lease in the store, and
// another instance can only win after that expiry, so even a leader that stalls (paused, slow
// store) stops acting at T + lease - margin, before anyone else can start. Calls to Tick() must
// come at least every lease/3; the runner ticks every lease/4.
//
// Thread-safety: one thread drives Tick; IsLeader may be called from that thread.
#pragma once

#include <chrono>
#include <string>

#include "calico/base/clock.h"
#include "calico/base/result.h"
#include "calico/datastore/backend.h"

namespace calico::controllers {

inline constexpr std::string_view kLeaderKey = "/calico/controllers/v1/leader";
inline constexpr std::chrono::seconds kDefaultLeaseDuration{15};

class LeaderElector {
 public:
  // `identity` names this instance in the lease (host and pid by default).
  LeaderElector(datastore::Backend& backend, const Clock& clock, std::string identity,
                std::chrono::seconds lease = kDefaultLeaseDuration);

  // Acquires or renews the lease. Returns whether this instance leads afterwards. Errors
  // (kUnavailable) when the store does not answer: a leader then keeps leading only until its
  // lease runs out (IsLeader turns false by itself).
  [[nodiscard]] Result<bool> Tick();
  bool IsLeader() const;
  // Gives the lease up (deletes the key if it is still ours), so a standby takes over at once.
  void Release();

  // Who holds the lease (empty when nobody); for logs and `calico-controllers --status`.
  [[nodiscard]] Result<std::string> Holder();
  const std::string& identity() const { return identity_; }
  std::chrono::seconds lease() const { return lease_; }

 private:
  std::string Value() const;

  datastore::Backend& backend_;
  const Clock& clock_;
  std::string identity_;
  std::chrono::seconds lease_;
  bool leading_ = false;
  int64_t revision_ = 0;
  std::chrono::steady_clock::time_point renewed_at_{};
  std::string acquired_at_;
};

}  // namespace calico::controllers
