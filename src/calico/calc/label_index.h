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
// Memory (Felix's design point: 100k items, most of them remote endpoints): an item's labels are
// kept as CompactLabels over strings interned in the index's pool, matches are held as pointers to
// the ids stored in the index (an item's list of selectors, a selector's set of items), and items
// are filed by (name, value) only (a has(name) selector walks the values of that name). The sets
// of ids are flat (PtrSet, ptr_set.h): a slot of an open-addressing array per entry, no node.
//
// Callbacks run synchronously, after the index recorded the change for that pair; they must not
// modify this index.
//
// Thread-safety: none (single-threaded, like Felix's calculation graph).
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "calico/calc/interned_labels.h"
#include "calico/calc/ptr_set.h"
#include "calico/selector/selector.h"

namespace calico::calc {

class LabelIndex {
 public:
  using Callback = std::function<void(const std::string& selector_id, const std::string& item_id)>;
  // Ids as stored in the index: stable while the item (selector) is in the index.
  using Ref = const std::string*;
  using RefSet = PtrSet<Ref>;  // Flat: one 8-byte slot an entry, none for a single entry.
  using RefList = std::vector<Ref>;

  LabelIndex(Callback on_match_started, Callback on_match_stopped);
  LabelIndex(const LabelIndex&) = delete;
  LabelIndex& operator=(const LabelIndex&) = delete;

  // Adds or replaces selector `id`. Replacing with an equal selector is a no-op; otherwise only
  // the difference in matches is reported.
  void UpdateSelector(const std::string& id, const selector::Selector& sel);
  void DeleteSelector(const std::string& id);

  // Adds or replaces item `id` with `labels` (its full, effective label set). Returns the id as
  // stored (stable until DeleteItem), for indexes beside this one to key on.
  Ref UpdateItem(const std::string& id, const selector::LabelMap& labels);
  void DeleteItem(const std::string& id);
  // Room for `n` items without rehashing (a full sync that knows how many endpoints it lists).
  void ReserveItems(size_t n) { items_.reserve(n); }

  // Current matches (item ids / selector ids, in no order); empty for unknown ids.
  const RefSet& ItemsMatching(const std::string& selector_id) const;
  const RefList& SelectorsMatching(const std::string& item_id) const;
  bool HasSelector(const std::string& id) const { return selectors_.contains(id); }
  // The id as stored (see UpdateItem); null for unknown ids.
  Ref FindItem(const std::string& id) const {
    auto it = items_.find(id);
    return it == items_.end() ? nullptr : &it->first;
  }
  // The item's labels; null for unknown ids.
  const CompactLabels* ItemLabels(const std::string& id) const;
  // Distinct label names and values held (for tests of the interning).
  size_t InternedStrings() const { return pool_.size(); }

 private:
  enum class Filing { kNone, kByValue, kByKey, kUnoptimised };
  struct SelectorEntry {
    selector::Selector sel;
    Filing filing = Filing::kUnoptimised;
    std::string key{};                  // kByValue / kByKey.
    std::vector<std::string> values{};  // kByValue.
    RefSet items{};                     // Matching items.
  };
  struct ItemEntry {
    CompactLabels labels{};
    RefList selectors{};  // Matching selectors.
  };

  void FileSelector(Ref id, SelectorEntry& entry);
  void UnfileSelector(Ref id, const SelectorEntry& entry);
  // Items that may match `entry` (a superset of the matches).
  template <typename Fn>
  void ForEachCandidateItem(const SelectorEntry& entry, Fn&& fn);
  void IndexItemLabels(Ref id, const CompactLabels& labels);
  void UnindexItemLabels(Ref id, const CompactLabels& labels);
  void Start(Ref sel_id, SelectorEntry& sel, Ref item_id, ItemEntry& item);
  void Stop(Ref sel_id, SelectorEntry& sel, Ref item_id, ItemEntry& item);

  Callback on_started_;
  Callback on_stopped_;

  StringInterner pool_;  // Label names and values of the items.
  std::unordered_map<std::string, SelectorEntry> selectors_;
  std::unordered_map<std::string, ItemEntry> items_;

  // Selector filing (by selector id as stored in selectors_).
  std::unordered_map<std::string, std::unordered_map<std::string, RefSet>> sels_by_value_;
  std::unordered_map<std::string, RefSet> sels_by_key_;
  RefSet unoptimised_sels_;
  // Items by label name, then value (both interned in pool_; item ids as stored in items_).
  std::unordered_map<Ref, std::unordered_map<Ref, RefSet>> items_by_value_;
};

}  // namespace calico::calc
