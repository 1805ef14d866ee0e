// ActiveRules: which policies and profiles apply on this node (felix/calc/
// active_rules_calculator.go). A policy is active while its selector matches at least one local
// endpoint; a profile while a local endpoint lists it. An active policy or profile holds a
// reference on the IP sets its rules match on (IpSetIndex), so only sets that some rendered rule
// uses are computed.
//
//   UpdatePolicy ──selector──▶ policy index      (LabelIndex: normal policies × LOCAL workload
//                                                 and host endpoints)
//                  or         host policy index  (doNotTrack / preDNAT policies × LOCAL host
//                                                 endpoints only)
//   UpdateEndpoint(local) ──labels──▶ both indexes
//   first match ⇒ active ⇒ IpSetIndex::Acquire(rule sets); last match gone ⇒ Release
//   RefProfile/UnrefProfile (local endpoints' profile lists) ⇒ the same for profiles
//
// Thread-safety: none (single-threaded, like Felix's calculation graph).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "calico/calc/decoding.h"
#include "calico/calc/ipset_index.h"
#include "calico/calc/label_index.h"

namespace calico::calc {

class ActiveRules {
 public:
  struct Policy {
    PolicyRec rec{};
    // Active = matches at least one local endpoint; then `acquired` holds the IP sets this policy
    // holds a reference on.
    bool active = false;
    std::vector<std::string> acquired{};
  };

  explicit ActiveRules(IpSetIndex& ipsets);
  ActiveRules(const ActiveRules&) = delete;
  ActiveRules& operator=(const ActiveRules&) = delete;

  // Adds or replaces the policy `key` ("<kind>/<namespace>/<name>").
  void UpdatePolicy(const std::string& key, PolicyRec rec);
  void DeletePolicy(const std::string& key);

  // Adds, replaces or (nullopt) removes a profile. Returns whether its labelsToApply changed (the
  // caller re-labels the endpoints that list it).
  bool UpdateProfile(const std::string& name, std::optional<ProfileRec> rec);
  bool HasProfile(const std::string& name) const { return profiles_.contains(name); }
  const LabelMap& ProfileLabels(const std::string& name) const;
  const ProfileRec* FindProfile(const std::string& name) const;
  // A local endpoint lists / stops listing the profile.
  void RefProfile(const std::string& name);
  void UnrefProfile(const std::string& name);

  // An endpoint's effective labels: local ones are matched against the policies (host endpoints
  // also against the doNotTrack / preDNAT ones), remote ones leave the indexes.
  void UpdateEndpoint(const std::string& key, const LabelMap& labels, bool local, bool workload);
  void DeleteEndpoint(const std::string& key);

  // For the policy resolver.
  const std::unordered_map<std::string, Policy>& policies() const { return policies_; }
  // Keys of the normal / doNotTrack-preDNAT policies whose selector matches local endpoint `key`.
  const LabelIndex::RefList& PoliciesMatching(const std::string& key) const {
    return policy_index_.SelectorsMatching(key);
  }
  const LabelIndex::RefList& HostPoliciesMatching(const std::string& key) const {
    return host_policy_index_.SelectorsMatching(key);
  }
  // Profile name -> number of local endpoints listing it (the active profiles).
  const std::unordered_map<std::string, int>& profile_refs() const { return profile_refs_; }

 private:
  bool MatchesLocalEndpoint(const std::string& policy) const;
  void ActivatePolicy(const std::string& key);
  void DeactivatePolicy(const std::string& key);
  const IpSetDefs& ProfileSets(const std::string& name) const;

  IpSetIndex& ipsets_;
  std::unordered_map<std::string, Policy> policies_;
  std::unordered_map<std::string, ProfileRec> profiles_;
  std::unordered_map<std::string, int> profile_refs_;
  std::unordered_map<std::string, std::vector<std::string>> profile_acquired_;
  LabelIndex policy_index_;       // Normal policy keys x local workload and host endpoints.
  LabelIndex host_policy_index_;  // doNotTrack / preDNAT policy keys x local host endpoints.
};

}  // namespace calico::calc
