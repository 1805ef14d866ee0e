// Interned label strings and compact label sets, see interned_labels.h.
#include "calico/calc/interned_labels.h"

#include <algorithm>

namespace calico::calc {

const std::string* StringInterner::Intern(std::string_view s) {
  auto it = pool_.find(s);
  if (it == pool_.end()) it = pool_.emplace(std::string(s), 0).first;
  ++it->second;
  return &it->first;
}

void StringInterner::Release(const std::string* s) {
  auto it = pool_.find(std::string_view(*s));
  if (it == pool_.end() || &it->first != s) return;
  if (--it->second == 0) pool_.erase(it);
}

const std::string* StringInterner::Find(std::string_view s) const {
  auto it = pool_.find(s);
  return it == pool_.end() ? nullptr : &it->first;
}

uint32_t StringInterner::References(std::string_view s) const {
  auto it = pool_.find(s);
  return it == pool_.end() ? 0 : it->second;
}

CompactLabels CompactLabels::Make(const selector::LabelMap& labels, StringInterner& pool) {
  CompactLabels out;
  out.labels_.reserve(labels.size());
  // A LabelMap is sorted by name already.
  for (const auto& [k, v] : labels) {
    out.labels_.emplace_back(pool.Intern(k), pool.Intern(v));
  }
  return out;
}

void CompactLabels::Release(StringInterner& pool) {
  for (const auto& [k, v] : labels_) {
    pool.Release(k);
    pool.Release(v);
  }
  labels_.clear();
  labels_.shrink_to_fit();
}

std::optional<std::string_view> CompactLabels::Get(const std::string& key) const {
  auto it = std::lower_bound(labels_.begin(), labels_.end(), key,
                             [](const Label& l, const std::string& k) { return *l.first < k; });
  if (it == labels_.end() || *it->first != key) return std::nullopt;
  return std::string_view(*it->second);
}

bool CompactLabels::Equals(const selector::LabelMap& labels) const {
  if (labels.size() != labels_.size()) return false;
  auto it = labels_.begin();
  for (const auto& [k, v] : labels) {
    if (*it->first != k || *it->second != v) return false;
    ++it;
  }
  return true;
}

selector::LabelMap CompactLabels::ToMap() const {
  selector::LabelMap out;
  for (const auto& [k, v] : labels_) {
    out.emplace_hint(out.end(), *k, *v);
  }
  return out;
}

}  // namespace calico::calc
