// Felix's label index (felix/labelindex), see label_index.h.
#include "calico/calc/label_index.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace calico::calc {
namespace {

template <typename Map, typename Key, typename Id>
void EraseFromSetIn(Map& map, const Key& key, const Id& id) {
  auto it = map.find(key);
  if (it == map.end()) return;
  it->second.erase(id);
  if (it->second.empty()) map.erase(it);
}

}  // namespace

LabelIndex::LabelIndex(Callback on_match_started, Callback on_match_stopped)
    : on_started_(std::move(on_match_started)), on_stopped_(std::move(on_match_stopped)) {}

const LabelIndex::RefSet& LabelIndex::ItemsMatching(const std::string& selector_id) const {
  static const RefSet empty;
  auto it = selectors_.find(selector_id);
  return it == selectors_.end() ? empty : it->second.items;
}

const LabelIndex::RefList& LabelIndex::SelectorsMatching(const std::string& item_id) const {
  static const RefList empty;
  auto it = items_.find(item_id);
  return it == items_.end() ? empty : it->second.selectors;
}

const CompactLabels* LabelIndex::ItemLabels(const std::string& id) const {
  auto it = items_.find(id);
  return it == items_.end() ? nullptr : &it->second.labels;
}

void LabelIndex::Start(Ref sel_id, SelectorEntry& sel, Ref item_id, ItemEntry& item) {
  if (!sel.items.insert(item_id)) return;
  item.selectors.push_back(sel_id);
  if (on_started_) on_started_(*sel_id, *item_id);
}

void LabelIndex::Stop(Ref sel_id, SelectorEntry& sel, Ref item_id, ItemEntry& item) {
  if (sel.items.erase(item_id) == 0) return;
  auto it = std::find(item.selectors.begin(), item.selectors.end(), sel_id);
  if (it != item.selectors.end()) {
    *it = item.selectors.back();
    item.selectors.pop_back();
  }
  if (item.selectors.empty()) item.selectors.shrink_to_fit();
  if (on_stopped_) on_stopped_(*sel_id, *item_id);
}

void LabelIndex::FileSelector(Ref id, SelectorEntry& entry) {
  const selector::LabelRestrictions restrictions = entry.sel.GetLabelRestrictions();
  const std::string* best_values_key = nullptr;
  const std::string* present_key = nullptr;
  for (const auto& [key, r] : restrictions) {
    if (!r.PossibleToSatisfy()) {
      entry.filing = Filing::kNone;
      return;
    }
    if (r.must_have_one_of_values) {
      if (best_values_key == nullptr ||
          r.must_have_one_of_values->size() <
              restrictions.at(*best_values_key).must_have_one_of_values->size()) {
        best_values_key = &key;
      }
    } else if (r.must_be_present && present_key == nullptr) {
      present_key = &key;
    }
  }
  if (best_values_key != nullptr) {
    entry.filing = Filing::kByValue;
    entry.key = *best_values_key;
    entry.values = *restrictions.at(*best_values_key).must_have_one_of_values;
    auto& by_value = sels_by_value_[entry.key];
    for (const std::string& v : entry.values) {
      by_value[v].insert(id);
    }
  } else if (present_key != nullptr) {
    entry.filing = Filing::kByKey;
    entry.key = *present_key;
    sels_by_key_[entry.key].insert(id);
  } else {
    entry.filing = Filing::kUnoptimised;
    unoptimised_sels_.insert(id);
  }
}

void LabelIndex::UnfileSelector(Ref id, const SelectorEntry& entry) {
  switch (entry.filing) {
    case Filing::kNone:
      break;
    case Filing::kByValue: {
      auto it = sels_by_value_.find(entry.key);
      if (it == sels_by_value_.end()) break;
      for (const std::string& v : entry.values) {
        EraseFromSetIn(it->second, v, id);
      }
      if (it->second.empty()) sels_by_value_.erase(it);
      break;
    }
    case Filing::kByKey:
      EraseFromSetIn(sels_by_key_, entry.key, id);
      break;
    case Filing::kUnoptimised:
      unoptimised_sels_.erase(id);
      break;
  }
}

template <typename Fn>
void LabelIndex::ForEachCandidateItem(const SelectorEntry& entry, Fn&& fn) {
  switch (entry.filing) {
    case Filing::kNone:
      return;
    case Filing::kByValue:
    case Filing::kByKey: {
      // Label names and values no item carries are not in the pool.
      const std::string* key = pool_.Find(entry.key);
      if (key == nullptr) return;
      auto it = items_by_value_.find(key);
      if (it == items_by_value_.end()) return;
      if (entry.filing == Filing::kByKey) {
        for (auto& [value, items] : it->second) {
          for (Ref item : items) {
            fn(item);
          }
        }
        return;
      }
      for (const std::string& v : entry.values) {
        const std::string* value = pool_.Find(v);
        if (value == nullptr) continue;
        auto vit = it->second.find(value);
        if (vit == it->second.end()) continue;
        for (Ref item : vit->second) {
          fn(item);
        }
      }
      return;
    }
    case Filing::kUnoptimised:
      for (const auto& [item, entry_] : items_) {
        fn(&item);
      }
      return;
  }
}

void LabelIndex::UpdateSelector(const std::string& id, const selector::Selector& sel) {
  auto it = selectors_.find(id);
  if (it != selectors_.end()) {
    if (it->second.sel == sel) return;
    UnfileSelector(&it->first, it->second);
    it->second.sel = sel;
    it->second.key.clear();
    it->second.values.clear();
  } else {
    it = selectors_.emplace(id, SelectorEntry{.sel = sel}).first;
  }
  const Ref sel_id = &it->first;
  SelectorEntry& entry = it->second;
  FileSelector(sel_id, entry);

  RefSet now;
  ForEachCandidateItem(entry, [&](Ref item) {
    if (entry.sel.Evaluate(items_.find(*item)->second.labels)) now.insert(item);
  });
  // Stop the matches that ended, then start the new ones.
  RefList ended;
  for (Ref item : entry.items) {
    if (!now.contains(item)) ended.push_back(item);
  }
  for (Ref item : ended) {
    Stop(sel_id, entry, item, items_.find(*item)->second);
  }
  for (Ref item : now) {
    Start(sel_id, entry, item, items_.find(*item)->second);
  }
}

void LabelIndex::DeleteSelector(const std::string& id) {
  auto it = selectors_.find(id);
  if (it == selectors_.end()) return;
  const Ref sel_id = &it->first;
  UnfileSelector(sel_id, it->second);
  const RefList items(it->second.items.begin(), it->second.items.end());
  for (Ref item : items) {
    Stop(sel_id, it->second, item, items_.find(*item)->second);
  }
  selectors_.erase(it);
}

void LabelIndex::IndexItemLabels(Ref id, const CompactLabels& labels) {
  for (const auto& [k, v] : labels.labels()) {
    items_by_value_[k][v].insert(id);
  }
}

void LabelIndex::UnindexItemLabels(Ref id, const CompactLabels& labels) {
  for (const auto& [k, v] : labels.labels()) {
    auto it = items_by_value_.find(k);
    if (it == items_by_value_.end()) continue;
    EraseFromSetIn(it->second, v, id);
    if (it->second.empty()) items_by_value_.erase(it);
  }
}

LabelIndex::Ref LabelIndex::UpdateItem(const std::string& id, const selector::LabelMap& labels) {
  // One probe for a new item (find then emplace hashed the key and missed the cache twice).
  auto [it, fresh] = items_.try_emplace(id);
  if (fresh) {
    it->second.labels = CompactLabels::Make(labels, pool_);
  } else {
    if (it->second.labels.Equals(labels)) return &it->first;
    UnindexItemLabels(&it->first, it->second.labels);
    // Intern the new labels before releasing the old ones: the strings both share stay put.
    CompactLabels old = std::move(it->second.labels);
    it->second.labels = CompactLabels::Make(labels, pool_);
    old.Release(pool_);
  }
  const Ref item_id = &it->first;
  ItemEntry& item = it->second;
  IndexItemLabels(item_id, item.labels);

  // Candidates: selectors filed under the item's labels, plus the unoptimised ones.
  RefSet now;
  auto consider = [&](Ref sel_id) {
    if (now.contains(sel_id)) return;
    if (selectors_.find(*sel_id)->second.sel.Evaluate(item.labels)) now.insert(sel_id);
  };
  for (Ref sel_id : unoptimised_sels_) {
    consider(sel_id);
  }
  for (const auto& [k, v] : labels) {
    if (auto kit = sels_by_key_.find(k); kit != sels_by_key_.end()) {
      for (Ref sel_id : kit->second) {
        consider(sel_id);
      }
    }
    if (auto kit = sels_by_value_.find(k); kit != sels_by_value_.end()) {
      if (auto vit = kit->second.find(v); vit != kit->second.end()) {
        for (Ref sel_id : vit->second) {
          consider(sel_id);
        }
      }
    }
  }
  RefList ended;
  for (Ref sel_id : item.selectors) {
    if (!now.contains(sel_id)) ended.push_back(sel_id);
  }
  for (Ref sel_id : ended) {
    Stop(sel_id, selectors_.find(*sel_id)->second, item_id, item);
  }
  for (Ref sel_id : now) {
    Start(sel_id, selectors_.find(*sel_id)->second, item_id, item);
  }
  return item_id;
}

void LabelIndex::DeleteItem(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  const Ref item_id = &it->first;
  UnindexItemLabels(item_id, it->second.labels);
  const RefList sels = it->second.selectors;
  for (Ref sel_id : sels) {
    Stop(sel_id, selectors_.find(*sel_id)->second, item_id, it->second);
  }
  it->second.labels.Release(pool_);
  items_.erase(it);
}

}  // namespace calico::calc
