// Interned label strings and the compact label set the calculation graph keeps per item (the role
// of Felix's uniquelabels package, felix/labelindex and lib/std/uniquelabels): at Felix's design
// point (100k endpoints) most label names and values repeat, so each distinct string is held once
// and an item's labels are a sorted vector of (name, value) pointers into the pool, 16 bytes a
// label instead of a std::map node with two strings.
//
//   StringInterner pool;
//   CompactLabels labels = CompactLabels::Make({{"app", "db"}}, pool);   // takes references
//   sel.Evaluate(labels);                                               // a selector::Labels
//   labels.Release(pool);                                               // drops them
//
// A pooled string lives while it has references (Intern takes one, Release drops one); its address
// is stable until then, so holders compare and hash interned strings by pointer.
//
// Thread-safety: none; the owner (one LabelIndex) drives both from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "calico/selector/labels.h"

namespace calico::calc {

class StringInterner {
 public:
  StringInterner() = default;
  StringInterner(const StringInterner&) = delete;
  StringInterner& operator=(const StringInterner&) = delete;

  // The pooled copy of `s` (added on first use), with one more reference.
  const std::string* Intern(std::string_view s);
  // Drops one reference; the string leaves the pool with its last one. `s` must come from Intern.
  void Release(const std::string* s);

  // The pooled copy of `s`, or null when the pool does not hold it (no reference taken).
  const std::string* Find(std::string_view s) const;

  size_t size() const { return pool_.size(); }  // Distinct strings held.
  uint32_t References(std::string_view s) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> pool_;
};

// An item's labels: interned (name, value) pairs sorted by name. Copies share no ownership: the
// owner calls Release once per Make.
class CompactLabels final : public selector::Labels {
 public:
  using Label = std::pair<const std::string*, const std::string*>;

  CompactLabels() = default;
  static CompactLabels Make(const selector::LabelMap& labels, StringInterner& pool);
  void Release(StringInterner& pool);

  std::optional<std::string_view> Get(const std::string& key) const override;
  // Same names and values as `labels`.
  bool Equals(const selector::LabelMap& labels) const;
  selector::LabelMap ToMap() const;

  const std::vector<Label>& labels() const { return labels_; }
  size_t size() const { return labels_.size(); }

 private:
  std::vector<Label> labels_;
};

}  // namespace calico::calc
