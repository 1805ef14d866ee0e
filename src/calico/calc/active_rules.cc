// Active policies and profiles of this node (felix/calc/active_rules_calculator.go), see
// active_rules.h.
#include "calico/calc/active_rules.h"

namespace calico::calc {

ActiveRules::ActiveRules(IpSetIndex& ipsets)
    : ipsets_(ipsets),
      // A policy is active while it matches a local endpoint in either index (it is filed in one
      // of them, but moves when its doNotTrack/preDNAT options change).
      policy_index_(
          [this](const std::string& policy, const std::string&) {
            if (policy_index_.ItemsMatching(policy).size() == 1) ActivatePolicy(policy);
          },
          [this](const std::string& policy, const std::string&) {
            if (!MatchesLocalEndpoint(policy)) DeactivatePolicy(policy);
          }),
      host_policy_index_(
          [this](const std::string& policy, const std::string&) {
            if (host_policy_index_.ItemsMatching(policy).size() == 1) ActivatePolicy(policy);
          },
          [this](const std::string& policy, const std::string&) {
            if (!MatchesLocalEndpoint(policy)) DeactivatePolicy(policy);
          }) {}

bool ActiveRules::MatchesLocalEndpoint(const std::string& policy) const {
  return !policy_index_.ItemsMatching(policy).empty() ||
         !host_policy_index_.ItemsMatching(policy).empty();
}

void ActiveRules::ActivatePolicy(const std::string& key) {
  Policy& p = policies_.at(key);
  if (p.active) return;
  p.active = true;
  p.acquired = ipsets_.Acquire(p.rec.rule_sets);
}

void ActiveRules::DeactivatePolicy(const std::string& key) {
  Policy& p = policies_.at(key);
  if (!p.active) return;
  p.active = false;
  ipsets_.Release(p.acquired);
  p.acquired.clear();
}

void ActiveRules::UpdatePolicy(const std::string& key, PolicyRec rec) {
  Policy next{.rec = std::move(rec)};
  auto it = policies_.find(key);
  if (it != policies_.end() && it->second.active) {
    // Take the new sets before releasing the old ones, so that sets both use stay computed.
    next.active = true;
    next.acquired = ipsets_.Acquire(next.rec.rule_sets);
    ipsets_.Release(it->second.acquired);
  }
  std::optional<selector::Selector> sel = next.rec.sel;
  const bool host_only = next.rec.host_only();
  if (it != policies_.end()) {
    it->second = std::move(next);
  } else {
    policies_.emplace(key, std::move(next));
  }
  // File the selector in its index first, then drop it from the other one (a policy that
  // changes kind stays active throughout if it keeps matching).
  LabelIndex& index = host_only ? host_policy_index_ : policy_index_;
  LabelIndex& other = host_only ? policy_index_ : host_policy_index_;
  if (sel) {
    index.UpdateSelector(key, *sel);
  } else {
    index.DeleteSelector(key);
  }
  other.DeleteSelector(key);
}

void ActiveRules::DeletePolicy(const std::string& key) {
  if (!policies_.contains(key)) return;
  policy_index_.DeleteSelector(key);
  host_policy_index_.DeleteSelector(key);
  DeactivatePolicy(key);
  policies_.erase(key);
}

const IpSetDefs& ActiveRules::ProfileSets(const std::string& name) const {
  static const IpSetDefs none;
  auto it = profiles_.find(name);
  return it == profiles_.end() ? none : it->second.rule_sets;
}

const LabelMap& ActiveRules::ProfileLabels(const std::string& name) const {
  static const LabelMap none;
  auto it = profiles_.find(name);
  return it == profiles_.end() ? none : it->second.labels_to_apply;
}

const ProfileRec* ActiveRules::FindProfile(const std::string& name) const {
  auto it = profiles_.find(name);
  return it == profiles_.end() ? nullptr : &it->second;
}

bool ActiveRules::UpdateProfile(const std::string& name, std::optional<ProfileRec> rec) {
  const bool labels_changed = ProfileLabels(name) != (rec ? rec->labels_to_apply : LabelMap{});
  const bool active = profile_refs_.contains(name);
  std::vector<std::string> old_acquired;
  if (active) old_acquired = std::move(profile_acquired_[name]);
  if (rec) {
    profiles_[name] = *std::move(rec);
  } else {
    profiles_.erase(name);
  }
  if (active) {
    profile_acquired_[name] = ipsets_.Acquire(ProfileSets(name));
    ipsets_.Release(old_acquired);
  }
  return labels_changed;
}

void ActiveRules::RefProfile(const std::string& name) {
  if (profile_refs_[name]++ == 0) profile_acquired_[name] = ipsets_.Acquire(ProfileSets(name));
}

void ActiveRules::UnrefProfile(const std::string& name) {
  auto it = profile_refs_.find(name);
  if (it == profile_refs_.end()) return;
  if (--it->second > 0) return;
  profile_refs_.erase(it);
  ipsets_.Release(profile_acquired_[name]);
  profile_acquired_.erase(name);
}

void ActiveRules::UpdateEndpoint(const std::string& key, const LabelMap& labels, bool local,
                                 bool workload) {
  if (local) {
    policy_index_.UpdateItem(key, labels);
  } else {
    policy_index_.DeleteItem(key);
  }
  if (local && !workload) {
    host_policy_index_.UpdateItem(key, labels);
  } else {
    host_policy_index_.DeleteItem(key);
  }
}

void ActiveRules::DeleteEndpoint(const std::string& key) {
  policy_index_.DeleteItem(key);
  host_policy_index_.DeleteItem(key);
}

}  // namespace calico::calc
