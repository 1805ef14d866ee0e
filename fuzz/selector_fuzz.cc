// libFuzzer target for the selector library (libcalico-go/lib/selector): Parse must never crash,
// Validate must agree with Parse, and a parsed selector must re-parse from its canonical String()
// to an equivalent selector whose canonical form is then stable. Label restrictions must be
// necessary conditions for a match.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/selector/selector.h"

namespace {

using calico::selector::LabelMap;
using calico::selector::Selector;

const std::vector<LabelMap>& LabelSets() {
  static const auto* sets = new std::vector<LabelMap>{
      {},
      {{"a", ""}},
      {{"a", "x"}, {"b", "y"}},
      {{"a", "'"}, {"b", "\""}, {"c", ""}},
      {{"in", "in"}, {"not", "x"}, {"has", ""}, {"all", "b"}, {"contains", "a"}},
  };
  return *sets;
}

bool SatisfiesRestrictions(const Selector& sel, const LabelMap& labels) {
  for (const auto& [name, r] : sel.GetLabelRestrictions()) {
    auto it = labels.find(name);
    if (r.must_be_present && it == labels.end()) return false;
    if (r.must_be_absent && it != labels.end()) return false;
    if (r.must_have_one_of_values && it != labels.end()) {
      bool found = false;
      for (const auto& v : *r.must_have_one_of_values)
        found = found || v == it->second;
      if (!found) return false;
    }
  }
  return true;
}

// Labels built from the fuzz input itself, so label names in the selector can match.
LabelMap LabelsFromSelector(const Selector& sel) {
  LabelMap labels;
  std::string value;
  for (const auto& key : sel.LabelKeys()) {
    labels[key] = value;
    value += 'x';
  }
  return labels;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  auto sel = calico::selector::Parse(input);
  auto valid = calico::selector::Validate(input);
  CALICO_CHECK(sel.has_value() == valid.has_value());
  (void)calico::selector::Normalise(input);
  (void)calico::selector::IsGlobalOnly(input);
  if (!sel.has_value()) {
    CALICO_CHECK(sel.error().message() == valid.error().message());
    return 0;
  }

  std::vector<LabelMap> label_sets = LabelSets();
  label_sets.push_back(LabelsFromSelector(*sel));

  // String() -> Parse must succeed and give an equivalent selector.
  auto reparsed = calico::selector::Parse(sel->String());
  CALICO_CHECK(reparsed.has_value());
  // One more round is a fixed point (the first may collapse "!!" printed for !(!x)).
  auto third = calico::selector::Parse(reparsed->String());
  CALICO_CHECK(third.has_value());
  CALICO_CHECK(third->String() == reparsed->String());
  CALICO_CHECK(third->UniqueId() == reparsed->UniqueId());

  for (const auto& labels : label_sets) {
    const bool match = sel->Evaluate(labels);
    CALICO_CHECK(reparsed->Evaluate(labels) == match);
    CALICO_CHECK(third->Evaluate(labels) == match);
    if (match) CALICO_CHECK(SatisfiesRestrictions(*sel, labels));
  }
  Selector prefixed = sel->WithLabelPrefix("pcns.");
  CALICO_CHECK(calico::selector::Parse(prefixed.String()).has_value());
  return 0;
}
