// IpSetIndex: the IP sets that active rules match on, and their members (felix/calc/
// rule_scanner.go's reference counting of IP sets; felix/labelindex: the selector member index
// and the named-port index).
//
//   active policy/profile ──Acquire(rule sets)──▶ refcount per set id ──▶ LabelIndex selector
//   every endpoint (any node) and network set ──UpdateItem(labels, addresses, ports)──▶ items
//   Sets() ─▶ policy::IpSet per referenced set: selector sets with their members (cached,
//             re-collected only when marked dirty), named-port sets with (address, protocol,
//             port) of the matching endpoints' ports of that name
//
// A set is marked dirty when an item starts or stops matching it, or when a matching item's
// addresses change; Sets() re-collects only those.
//
// Thread-safety: none (single-threaded, like Felix's calculation graph).
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "calico/calc/decoding.h"
#include "calico/calc/label_index.h"
#include "calico/net/ip.h"
#include "calico/policy/policy_model.h"

namespace calico::calc {

class IpSetIndex {
 public:
  IpSetIndex();
  IpSetIndex(const IpSetIndex&) = delete;
  IpSetIndex& operator=(const IpSetIndex&) = delete;

  // Takes a reference on every set of `defs` (a set's first reference files its selector);
  // returns their ids, to Release later.
  std::vector<std::string> Acquire(const IpSetDefs& defs);
  void Release(const std::vector<std::string>& ids);

  // Adds or replaces an item: an endpoint (with its named ports) or a network set. Returns the key
  // as stored (stable until DeleteItem), for the graph to key its own records on.
  LabelIndex::Ref UpdateItem(const std::string& key, const LabelMap& labels,
                             std::vector<net::CIDR> members, std::vector<EndpointPort> ports = {});
  // The key as stored; null for unknown keys.
  LabelIndex::Ref FindItem(const std::string& key) const { return index_.FindItem(key); }
  // The item's labels as the index holds them; null for unknown keys.
  const CompactLabels* FindItemLabels(const std::string& key) const {
    return index_.ItemLabels(key);
  }
  // The item's addresses; null for unknown keys.
  const std::vector<net::CIDR>* FindItemMembers(const std::string& key) const {
    auto it = items_.find(index_.FindItem(key));
    return it == items_.end() ? nullptr : &it->second.members;
  }
  // Room for `n` items without rehashing (see CalcGraph::ReserveEndpoints).
  void ReserveItems(size_t n) {
    items_.reserve(n);
    index_.ReserveItems(n);
  }
  // New labels for an item (an endpoint whose profiles' labelsToApply changed).
  void UpdateItemLabels(const std::string& key, const LabelMap& labels);
  void DeleteItem(const std::string& key);

  // Every referenced set, sorted by id, members sorted and unique.
  std::vector<policy::IpSet> Sets() const;

 private:
  struct Item {
    std::vector<net::CIDR> members{};
    std::vector<EndpointPort> ports{};
  };
  // Model()'s selector sets as last computed (selector text, sorted members).
  struct SetCache {
    std::string selector{};
    std::vector<net::CIDR> members{};
  };

  policy::IpSet NamedPortSet(const std::string& id, const IpSetDef& def) const;

  // Set id -> (references from active policies/profiles, definition).
  std::unordered_map<std::string, std::pair<int, IpSetDef>> refs_;
  // By the item's id as index_ stores it (one copy of each endpoint's key for both).
  std::unordered_map<LabelIndex::Ref, Item> items_;
  mutable std::unordered_map<std::string, SetCache> set_cache_;
  mutable std::unordered_set<std::string> dirty_sets_;
  LabelIndex index_;  // Referenced sets' selectors x all items.
};

}  // namespace calico::calc
