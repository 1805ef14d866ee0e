// The selector AST (libcalico-go/lib/selector/parser/ast.go): node kinds, evaluation, canonical
// rendering and label restrictions.
//
// A Node is a plain value tree. Selector (selector.h) keeps one immutable root behind a shared_ptr,
// so callers normally only read nodes through Selector::root().
//
// Thread-safety: const operations on a Node are safe to call concurrently.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/selector/labels.h"

namespace calico::selector {

enum class NodeKind {
  kAll,         // all()
  kGlobal,      // global()
  kHas,         // has(label)
  kEq,          // label == "value"
  kNe,          // label != "value"
  kContains,    // label contains "value"
  kStartsWith,  // label starts with "value"
  kEndsWith,    // label ends with "value"
  kIn,          // label in {"v1", ...}
  kNotIn,       // label not in {"v1", ...}
  kNot,         // !operand
  kAnd,         // (op1 && op2 && ...), >= 2 operands
  kOr,          // (op1 || op2 || ...), >= 2 operands
};

struct Node {
  NodeKind kind = NodeKind::kAll;
  // The label name for kHas .. kNotIn.
  std::string label{};
  // The literal for kEq .. kEndsWith.
  std::string value{};
  // The set for kIn / kNotIn: de-duplicated and sorted bytewise ascending.
  std::vector<std::string> values{};
  // One operand for kNot; two or more for kAnd / kOr.
  std::vector<Node> operands{};

  bool operator==(const Node&) const = default;

  // Evaluates this node against `labels` (short-circuit for && and ||).
  bool Evaluate(const Labels& labels) const;

  // Appends the canonical form (see Selector::String()) to `out`.
  void AppendString(std::string& out) const;
  std::string String() const;
};

// Builds a set node value list: sorts bytewise and removes duplicates.
std::vector<std::string> MakeStringSet(std::vector<std::string> values);

// A lower bound on what a label must look like for a selector to match (upstream
// parser.LabelRestriction); used by felix-style label indexes.
struct LabelRestriction {
  // The label must be present, e.g. has(a), a == "x", a contains "x".
  bool must_be_present = false;
  // The label must be absent, e.g. !has(a).
  bool must_be_absent = false;
  // If set, the label must have one of these values (sorted, unique). nullopt means "no known
  // restriction"; an empty vector means the selector cannot match (e.g. a == "B" && a == "C").
  std::optional<std::vector<std::string>> must_have_one_of_values{};

  bool operator==(const LabelRestriction&) const = default;
  // False when the restriction is contradictory (present and absent, or an empty value set).
  bool PossibleToSatisfy() const;
  // "{MustBePresent:true, MustBeAbsent:false, MustHaveOneOfValues:[a b]}" (nil values: "[]").
  std::string DebugString() const;
};

// Label name -> restriction. Labels without a restriction are absent from the map.
using LabelRestrictions = std::map<std::string, LabelRestriction>;

// Computes the restrictions implied by `node`, following upstream's rules: == and in give value
// sets; has/contains/starts with/ends with give presence; !has gives absence; != / not in / other
// negations give nothing; && intersects; || keeps a label only if every branch restricts it.
LabelRestrictions ComputeLabelRestrictions(const Node& node);

}  // namespace calico::selector
