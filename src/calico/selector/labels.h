// The label sources a selector is evaluated against (libcalico-go/lib/selector/parser Labels,
// MapAsLabels; felix's label inheritance from profiles and namespaces).
//
// A selector only ever asks "is label K present, and with which value?". Labels is that question as
// an interface, so callers can answer it from a plain map, from an endpoint's own labels layered
// over its profiles' labelsToApply / namespace labels, or from any other source, without copying
// labels into a merged map first.
//
// Thread-safety: the implementations here are read-only views; they are as thread-safe as the maps
// they refer to. Views do not own what they point at: keep the referenced maps alive while in use.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace calico::selector {

// A read-only source of labels.
class Labels {
 public:
  virtual ~Labels() = default;

  // Returns the value of label `key`, or nullopt when the label is absent. A present label may have
  // an empty value. The returned view must stay valid at least until the next call on this object.
  virtual std::optional<std::string_view> Get(const std::string& key) const = 0;
};

using LabelMap = std::map<std::string, std::string>;

// A view of a std::map<std::string, std::string> as Labels.
class MapLabels final : public Labels {
 public:
  explicit MapLabels(const LabelMap& labels) : labels_(labels) {}
  std::optional<std::string_view> Get(const std::string& key) const override;

 private:
  const LabelMap& labels_;
};

// A view of a std::unordered_map<std::string, std::string> as Labels.
class UnorderedMapLabels final : public Labels {
 public:
  explicit UnorderedMapLabels(const std::unordered_map<std::string, std::string>& labels)
      : labels_(labels) {}
  std::optional<std::string_view> Get(const std::string& key) const override;

 private:
  const std::unordered_map<std::string, std::string>& labels_;
};

// Labels that have no label at all.
class EmptyLabels final : public Labels {
 public:
  std::optional<std::string_view> Get(const std::string&) const override { return std::nullopt; }
};

// An object's own labels layered over inherited ones: a label is looked up in `own` first, then in
// each parent in order; the first source that has it wins. This is how felix sees an endpoint's
// labels plus its profiles' labelsToApply (the endpoint wins), and how a namespace's labels are
// supplied to a namespaceSelector.
class LayeredLabels final : public Labels {
 public:
  LayeredLabels(const Labels& own, const Labels& parent)
      : own_(own), parent_(&parent), parents_() {}
  // `parents` must outlive this view (it is not copied).
  LayeredLabels(const Labels& own, std::span<const Labels* const> parents)
      : own_(own), parent_(nullptr), parents_(parents) {}
  std::optional<std::string_view> Get(const std::string& key) const override;

 private:
  const Labels& own_;
  const Labels* parent_;
  std::span<const Labels* const> parents_;
};

// Labels answered by a callback, for sources that are neither maps nor layered maps.
class FunctionLabels final : public Labels {
 public:
  using Lookup = std::function<std::optional<std::string_view>(const std::string& key)>;
  explicit FunctionLabels(Lookup lookup) : lookup_(std::move(lookup)) {}
  std::optional<std::string_view> Get(const std::string& key) const override {
    return lookup_(key);
  }

 private:
  Lookup lookup_;
};

}  // namespace calico::selector
