// Reproduces the Labels lookups of libcalico-go/lib/selector/parser (MapAsLabels) and felix's
// endpoint-over-profile label inheritance.
#include "calico/selector/labels.h"

namespace calico::selector {

std::optional<std::string_view> MapLabels::Get(const std::string& key) const {
  auto it = labels_.find(key);
  if (it == labels_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> UnorderedMapLabels::Get(const std::string& key) const {
  auto it = labels_.find(key);
  if (it == labels_.end()) return std::nullopt;
  return std::string_view(it->second);
}

std::optional<std::string_view> LayeredLabels::Get(const std::string& key) const {
  if (auto v = own_.Get(key)) return v;
  if (parent_ != nullptr) return parent_->Get(key);
  for (const Labels* parent : parents_) {
    if (parent == nullptr) continue;
    if (auto v = parent->Get(key)) return v;
  }
  return std::nullopt;
}

}  // namespace calico::selector
