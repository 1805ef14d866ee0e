// LabelIndex: matches a changing set of selectors against a changing set of labelled items and
// reports every (selector, item) match that starts or stops (felix/labelindex: the
// SelectorAndNamedPortIndex's selector/endpoint matching, without named ports).
//
// Both directions are indexed so that an update costs work proportional to its candidates, not to
// the size of the index:
//  * items by label name and by (name, value);
//  * selectors by the label restriction they imply (selector::LabelRestrictions): a selector that
//    requires label k to have one of values {v...} is filed under (k, v...); one that only
//    requires k to be present under k; the rest are "unoptimised" and evaluated against every
//    item. A selector whose restrictions cannot be satisfied is filed nowhere (matches nothing).
// An item update evaluates only the selectors filed under its labels plus the unoptimised ones;
// a new selector is evaluated only against the items that carry its restricting label.
//
//   LabelIndex idx([](const std::string& sel, const std::string& item) { ... started ... },
//                  [](const std::string& sel, const std::string& item) { ... stopped ... });
//   idx.UpdateSelector("p1", *selector::Parse("app == 'db'"));
//   idx.UpdateItem("ep1", {{"app", "db"}});   // -> started("p1", "ep1")
//
// Callbacks run synchronously, after the index recorded the change for that pair; they must not
// modify this index.
//
// Thread-safety: none (single-threaded, like Felix's calculation graph).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "calico/selector/selector.h"

namespace calico::calc {

class LabelIndex {
 public:
  using Callback = std::function<void(const std::string& selector_id, const std::string& item_id)>;
  using IdSet = std::unordered_set<std::string>;

  LabelIndex(Callback on_match_started, Callback on_match_stopped);

  // Adds or replaces selector `id`. Replacing with an equal selector is a no-op; otherwise only
  // the difference in matches is reported.
  void UpdateSelector(const std::string& id, const selector::Selector& sel);
  void DeleteSelector(const std::string& id);

  // Adds or replaces item `id` with `labels` (its full, effective label set).
  void UpdateItem(const std::string& id, const selector::LabelMap& labels);
  void DeleteItem(const std::string& id);

  // Current matches; an empty set for unknown ids.
  const IdSet& ItemsMatching(const std::string& selector_id) const;
  const IdSet& SelectorsMatching(const std::string& item_id) const;
  bool HasSelector(const std::string& id) const { return selectors_.contains(id); }
  const selector::LabelMap* ItemLabels(const std::string& id) const;

 private:
  enum class Filing { kNone, kByValue, kByKey, kUnoptimised };
  struct SelectorEntry {
    selector::Selector sel;
    Filing filing = Filing::kUnoptimised;
    std::string key{};                  // kByValue / kByKey.
    std::vector<std::string> values{};  // kByValue.
  };

  void FileSelector(const std::string& id, SelectorEntry& entry);
  void UnfileSelector(const std::string& id, const SelectorEntry& entry);
  // Items that may match `entry` (a superset of the matches).
  template <typename Fn>
  void ForEachCandidateItem(const SelectorEntry& entry, Fn&& fn) const;
  // `id` is the key of the item's entry in items_ (stable while the item exists).
  void IndexItemLabels(const std::string* id, const selector::LabelMap& labels);
  void UnindexItemLabels(const std::string* id, const selector::LabelMap& labels);
  void Start(const std::string& sel_id, const std::string& item_id);
  void Stop(const std::string& sel_id, const std::string& item_id);

  Callback on_started_;
  Callback on_stopped_;

  std::unordered_map<std::string, SelectorEntry> selectors_;
  std::unordered_map<std::string, selector::LabelMap> items_;

  // Selector filing.
  std::unordered_map<std::string, std::unordered_map<std::string, IdSet>> sels_by_value_;
  std::unordered_map<std::string, IdSet> sels_by_key_;
  IdSet unoptimised_sels_;
  // Item label index, by the address of the item's key in items_: no id copies or string hashing
  // in sets that hold every item (e.g. all endpoints carry the namespace label).
  using ItemRefSet = std::unordered_set<const std::string*>;
  std::unordered_map<std::string, std::unordered_map<std::string, ItemRefSet>> items_by_value_;
  std::unordered_map<std::string, ItemRefSet> items_by_key_;

  std::unordered_map<std::string, IdSet> sel_to_items_;
  std::unordered_map<std::string, IdSet> item_to_sels_;
};

}  // namespace calico::calc
