// Felix's label index (felix/labelindex), see label_index.h.
#include "calico/calc/label_index.h"

#include <utility>
#include <vector>

namespace calico::calc {
namespace {

const LabelIndex::IdSet& EmptySet() {
  static const LabelIndex::IdSet empty;
  return empty;
}

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

const LabelIndex::IdSet& LabelIndex::ItemsMatching(const std::string& selector_id) const {
  auto it = sel_to_items_.find(selector_id);
  return it == sel_to_items_.end() ? EmptySet() : it->second;
}

const LabelIndex::IdSet& LabelIndex::SelectorsMatching(const std::string& item_id) const {
  auto it = item_to_sels_.find(item_id);
  return it == item_to_sels_.end() ? EmptySet() : it->second;
}

const selector::LabelMap* LabelIndex::ItemLabels(const std::string& id) const {
  auto it = items_.find(id);
  return it == items_.end() ? nullptr : &it->second;
}

void LabelIndex::Start(const std::string& sel_id, const std::string& item_id) {
  if (!sel_to_items_[sel_id].insert(item_id).second) return;
  item_to_sels_[item_id].insert(sel_id);
  if (on_started_) on_started_(sel_id, item_id);
}

void LabelIndex::Stop(const std::string& sel_id, const std::string& item_id) {
  auto it = sel_to_items_.find(sel_id);
  if (it == sel_to_items_.end() || it->second.erase(item_id) == 0) return;
  if (it->second.empty()) sel_to_items_.erase(it);
  EraseFromSetIn(item_to_sels_, item_id, sel_id);
  if (on_stopped_) on_stopped_(sel_id, item_id);
}

void LabelIndex::FileSelector(const std::string& id, SelectorEntry& entry) {
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

void LabelIndex::UnfileSelector(const std::string& id, const SelectorEntry& entry) {
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
void LabelIndex::ForEachCandidateItem(const SelectorEntry& entry, Fn&& fn) const {
  switch (entry.filing) {
    case Filing::kNone:
      return;
    case Filing::kByValue: {
      auto it = items_by_value_.find(entry.key);
      if (it == items_by_value_.end()) return;
      for (const std::string& v : entry.values) {
        auto vit = it->second.find(v);
        if (vit == it->second.end()) continue;
        for (const std::string* item : vit->second) {
          fn(*item);
        }
      }
      return;
    }
    case Filing::kByKey: {
      auto it = items_by_key_.find(entry.key);
      if (it == items_by_key_.end()) return;
      for (const std::string* item : it->second) {
        fn(*item);
      }
      return;
    }
    case Filing::kUnoptimised:
      for (const auto& [item, labels] : items_) {
        fn(item);
      }
      return;
  }
}

void LabelIndex::UpdateSelector(const std::string& id, const selector::Selector& sel) {
  auto it = selectors_.find(id);
  if (it != selectors_.end()) {
    if (it->second.sel == sel) return;
    UnfileSelector(id, it->second);
    it->second = SelectorEntry{.sel = sel};
  } else {
    it = selectors_.emplace(id, SelectorEntry{.sel = sel}).first;
  }
  SelectorEntry& entry = it->second;
  FileSelector(id, entry);

  IdSet now;
  ForEachCandidateItem(entry, [&](const std::string& item) {
    if (entry.sel.Evaluate(items_.at(item))) now.insert(item);
  });
  // Stop the matches that ended, then start the new ones.
  std::vector<std::string> ended;
  for (const std::string& item : ItemsMatching(id)) {
    if (!now.contains(item)) ended.push_back(item);
  }
  for (const std::string& item : ended) {
    Stop(id, item);
  }
  for (const std::string& item : now) {
    Start(id, item);
  }
}

void LabelIndex::DeleteSelector(const std::string& id) {
  auto it = selectors_.find(id);
  if (it == selectors_.end()) return;
  UnfileSelector(id, it->second);
  selectors_.erase(it);
  auto mit = sel_to_items_.find(id);
  if (mit == sel_to_items_.end()) return;
  const std::vector<std::string> items(mit->second.begin(), mit->second.end());
  for (const std::string& item : items) {
    Stop(id, item);
  }
}

void LabelIndex::IndexItemLabels(const std::string* id, const selector::LabelMap& labels) {
  for (const auto& [k, v] : labels) {
    items_by_key_[k].insert(id);
    items_by_value_[k][v].insert(id);
  }
}

void LabelIndex::UnindexItemLabels(const std::string* id, const selector::LabelMap& labels) {
  for (const auto& [k, v] : labels) {
    EraseFromSetIn(items_by_key_, k, id);
    auto it = items_by_value_.find(k);
    if (it == items_by_value_.end()) continue;
    EraseFromSetIn(it->second, v, id);
    if (it->second.empty()) items_by_value_.erase(it);
  }
}

void LabelIndex::UpdateItem(const std::string& id, const selector::LabelMap& labels) {
  auto it = items_.find(id);
  if (it != items_.end()) {
    if (it->second == labels) return;
    UnindexItemLabels(&it->first, it->second);
    it->second = labels;
  } else {
    it = items_.emplace(id, labels).first;
  }
  IndexItemLabels(&it->first, labels);

  // Candidates: selectors filed under the item's labels, plus the unoptimised ones.
  const selector::MapLabels view(it->second);
  IdSet now;
  auto consider = [&](const std::string& sel_id) {
    if (now.contains(sel_id)) return;
    if (selectors_.at(sel_id).sel.Evaluate(view)) now.insert(sel_id);
  };
  for (const std::string& sel_id : unoptimised_sels_) {
    consider(sel_id);
  }
  for (const auto& [k, v] : labels) {
    if (auto kit = sels_by_key_.find(k); kit != sels_by_key_.end()) {
      for (const std::string& sel_id : kit->second) {
        consider(sel_id);
      }
    }
    if (auto kit = sels_by_value_.find(k); kit != sels_by_value_.end()) {
      if (auto vit = kit->second.find(v); vit != kit->second.end()) {
        for (const std::string& sel_id : vit->second) {
          consider(sel_id);
        }
      }
    }
  }
  std::vector<std::string> ended;
  for (const std::string& sel_id : SelectorsMatching(id)) {
    if (!now.contains(sel_id)) ended.push_back(sel_id);
  }
  for (const std::string& sel_id : ended) {
    Stop(sel_id, id);
  }
  for (const std::string& sel_id : now) {
    Start(sel_id, id);
  }
}

void LabelIndex::DeleteItem(const std::string& id) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  UnindexItemLabels(&it->first, it->second);
  items_.erase(it);
  auto mit = item_to_sels_.find(id);
  if (mit == item_to_sels_.end()) return;
  const std::vector<std::string> sels(mit->second.begin(), mit->second.end());
  for (const std::string& sel_id : sels) {
    Stop(sel_id, id);
  }
}

}  // namespace calico::calc
