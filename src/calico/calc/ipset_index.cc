// The IP sets of active rules and their members (felix/calc/rule_scanner.go,
// felix/labelindex), see ipset_index.h.
#include "calico/calc/ipset_index.h"

#include <algorithm>

namespace calico::calc {

IpSetIndex::IpSetIndex()
    : index_([this](const std::string& set, const std::string&) { dirty_sets_.insert(set); },
             [this](const std::string& set, const std::string&) { dirty_sets_.insert(set); }) {}

std::vector<std::string> IpSetIndex::Acquire(const IpSetDefs& defs) {
  std::vector<std::string> ids;
  ids.reserve(defs.size());
  for (const auto& [id, def] : defs) {
    auto& ref = refs_[id];
    if (ref.first++ == 0) {
      ref.second = def;
      index_.UpdateSelector(id, def.sel);
    }
    ids.push_back(id);
  }
  return ids;
}

void IpSetIndex::Release(const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    auto it = refs_.find(id);
    if (it == refs_.end()) continue;
    if (--it->second.first == 0) {
      refs_.erase(it);
      index_.DeleteSelector(id);
    }
  }
}

LabelIndex::Ref IpSetIndex::UpdateItem(const std::string& key, const LabelMap& labels,
                                       std::vector<net::CIDR> members,
                                       std::vector<EndpointPort> ports) {
  // The sets it joins or leaves are marked by the index's callbacks; those it stays in are marked
  // below when its members change.
  const LabelIndex::Ref id = index_.UpdateItem(key, labels);
  auto [it, fresh] = items_.try_emplace(id);
  Item& item = it->second;
  item.ports = std::move(ports);
  if (item.members != members) {
    item.members = std::move(members);
    // A new item's sets were all marked as it started matching them (no second lookup by key).
    if (!fresh) {
      for (const std::string* set : index_.SelectorsMatching(key)) {
        dirty_sets_.insert(*set);
      }
    }
  }
  return id;
}

void IpSetIndex::UpdateItemLabels(const std::string& key, const LabelMap& labels) {
  index_.UpdateItem(key, labels);
}

void IpSetIndex::DeleteItem(const std::string& key) {
  items_.erase(index_.FindItem(key));
  index_.DeleteItem(key);
}

policy::IpSet IpSetIndex::NamedPortSet(const std::string& id, const IpSetDef& def) const {
  // (address, protocol, port) of the matching endpoints' ports of that name and protocol.
  policy::IpSet set{.id = id, .selector = def.sel.String()};
  set.named_port = def.named_port;
  set.named_port_protocol = def.protocol;
  for (const std::string* key : index_.ItemsMatching(id)) {
    auto it = items_.find(key);
    if (it == items_.end()) continue;
    for (const EndpointPort& p : it->second.ports) {  // Network sets have no ports.
      if (p.name != set.named_port || p.protocol != set.named_port_protocol) continue;
      for (const net::CIDR& addr : it->second.members) {
        set.port_members.push_back({.addr = addr.addr(), .protocol = p.protocol, .port = p.port});
      }
    }
  }
  std::sort(set.port_members.begin(), set.port_members.end());
  set.port_members.erase(std::unique(set.port_members.begin(), set.port_members.end()),
                         set.port_members.end());
  return set;
}

std::vector<policy::IpSet> IpSetIndex::Sets() const {
  // Selector sets' members are re-collected only for sets marked dirty; named-port sets (few, and
  // their members also follow spec.ports) every time.
  for (auto it = set_cache_.begin(); it != set_cache_.end();) {
    it = refs_.contains(it->first) ? std::next(it) : set_cache_.erase(it);
  }
  std::vector<policy::IpSet> out;
  out.reserve(refs_.size());
  for (const auto& [id, ref] : refs_) {
    if (!ref.second.named_port.empty()) {
      out.push_back(NamedPortSet(id, ref.second));
      continue;
    }
    auto [cached, fresh] = set_cache_.try_emplace(id);
    if (fresh || dirty_sets_.contains(id)) {
      SetCache& c = cached->second;
      if (fresh) c.selector = ref.second.sel.String();
      c.members.clear();
      for (const std::string* key : index_.ItemsMatching(id)) {
        auto it = items_.find(key);
        if (it == items_.end()) continue;
        c.members.insert(c.members.end(), it->second.members.begin(), it->second.members.end());
      }
      std::sort(c.members.begin(), c.members.end());
      c.members.erase(std::unique(c.members.begin(), c.members.end()), c.members.end());
    }
    out.push_back(
        {.id = id, .selector = cached->second.selector, .members = cached->second.members});
  }
  dirty_sets_.clear();
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return out;
}

}  // namespace calico::calc
