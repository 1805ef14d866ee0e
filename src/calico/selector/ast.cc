// Reproduces libcalico-go/lib/selector/parser/ast.go: per-node evaluation, the canonical string
// form (collectFragments) and LabelRestrictions.
#include "calico/selector/ast.h"

#include <algorithm>

#include "calico/base/strings.h"

namespace calico::selector {
namespace {

// Values are quoted with " unless they contain ", in which case ' is used.
void AppendQuoted(std::string& out, std::string_view s) {
  const char quote = s.find('"') == std::string_view::npos ? '"' : '\'';
  out += quote;
  out += s;
  out += quote;
}

void AppendLabelOp(std::string& out, const Node& node, std::string_view op) {
  out += node.label;
  out += op;
  AppendQuoted(out, node.value);
}

void AppendSetOp(std::string& out, const Node& node, std::string_view op) {
  out += node.label;
  out += op;
  out += '{';
  bool first = true;
  for (const auto& v : node.values) {
    if (!first) out += ", ";
    first = false;
    AppendQuoted(out, v);
  }
  out += '}';
}

void AppendJoined(std::string& out, const Node& node, std::string_view sep) {
  out += '(';
  bool first = true;
  for (const auto& op : node.operands) {
    if (!first) out += sep;
    first = false;
    op.AppendString(out);
  }
  out += ')';
}

bool SetContains(const std::vector<std::string>& set, std::string_view v) {
  return std::binary_search(set.begin(), set.end(), v, std::less<>());
}

std::vector<std::string> Intersect(const std::vector<std::string>& a,
                                   const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<std::string> Union(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  std::vector<std::string> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

}  // namespace

bool Node::Evaluate(const Labels& labels) const {
  switch (kind) {
    case NodeKind::kAll:
    case NodeKind::kGlobal:
      return true;
    case NodeKind::kHas:
      return labels.Get(label).has_value();
    case NodeKind::kEq: {
      auto v = labels.Get(label);
      return v.has_value() && *v == value;
    }
    case NodeKind::kNe: {
      auto v = labels.Get(label);
      return !v.has_value() || *v != value;
    }
    case NodeKind::kContains: {
      auto v = labels.Get(label);
      return v.has_value() && v->find(value) != std::string_view::npos;
    }
    case NodeKind::kStartsWith: {
      auto v = labels.Get(label);
      return v.has_value() && StartsWith(*v, value);
    }
    case NodeKind::kEndsWith: {
      auto v = labels.Get(label);
      return v.has_value() && EndsWith(*v, value);
    }
    case NodeKind::kIn: {
      auto v = labels.Get(label);
      return v.has_value() && SetContains(values, *v);
    }
    case NodeKind::kNotIn: {
      auto v = labels.Get(label);
      return !v.has_value() || !SetContains(values, *v);
    }
    case NodeKind::kNot:
      return !operands.front().Evaluate(labels);
    case NodeKind::kAnd:
      return std::all_of(operands.begin(), operands.end(),
                         [&](const Node& n) { return n.Evaluate(labels); });
    case NodeKind::kOr:
      return std::any_of(operands.begin(), operands.end(),
                         [&](const Node& n) { return n.Evaluate(labels); });
  }
  return false;
}

void Node::AppendString(std::string& out) const {
  switch (kind) {
    case NodeKind::kAll:
      out += "all()";
      return;
    case NodeKind::kGlobal:
      out += "global()";
      return;
    case NodeKind::kHas:
      out += "has(";
      out += label;
      out += ')';
      return;
    case NodeKind::kEq:
      AppendLabelOp(out, *this, " == ");
      return;
    case NodeKind::kNe:
      AppendLabelOp(out, *this, " != ");
      return;
    case NodeKind::kContains:
      AppendLabelOp(out, *this, " contains ");
      return;
    case NodeKind::kStartsWith:
      AppendLabelOp(out, *this, " starts with ");
      return;
    case NodeKind::kEndsWith:
      AppendLabelOp(out, *this, " ends with ");
      return;
    case NodeKind::kIn:
      AppendSetOp(out, *this, " in ");
      return;
    case NodeKind::kNotIn:
      AppendSetOp(out, *this, " not in ");
      return;
    case NodeKind::kNot:
      out += '!';
      operands.front().AppendString(out);
      return;
    case NodeKind::kAnd:
      AppendJoined(out, *this, " && ");
      return;
    case NodeKind::kOr:
      AppendJoined(out, *this, " || ");
      return;
  }
}

std::string Node::String() const {
  std::string out;
  AppendString(out);
  return out;
}

std::vector<std::string> MakeStringSet(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  return values;
}

bool LabelRestriction::PossibleToSatisfy() const {
  if (must_be_present && must_be_absent) return false;
  if (must_have_one_of_values.has_value() && must_have_one_of_values->empty()) return false;
  return true;
}

std::string LabelRestriction::DebugString() const {
  std::string out = "{MustBePresent:";
  out += must_be_present ? "true" : "false";
  out += ", MustBeAbsent:";
  out += must_be_absent ? "true" : "false";
  out += ", MustHaveOneOfValues:[";
  if (must_have_one_of_values) out += StrJoin(*must_have_one_of_values, " ");
  out += "]}";
  return out;
}

LabelRestrictions ComputeLabelRestrictions(const Node& node) {
  switch (node.kind) {
    case NodeKind::kAll:
    case NodeKind::kGlobal:
    case NodeKind::kNe:
    case NodeKind::kNotIn:
      return {};
    case NodeKind::kHas:
    case NodeKind::kContains:
    case NodeKind::kStartsWith:
    case NodeKind::kEndsWith:
      return {{node.label, LabelRestriction{.must_be_present = true}}};
    case NodeKind::kEq:
      return {{node.label,
               LabelRestriction{.must_be_present = true,
                                .must_have_one_of_values = std::vector<std::string>{node.value}}}};
    case NodeKind::kIn: {
      // Upstream stores an empty set literal as a nil slice, which reads as "no value
      // restriction" rather than "no value can match"; kept for identical index behaviour.
      LabelRestriction r{.must_be_present = true};
      if (!node.values.empty()) r.must_have_one_of_values = node.values;
      return {{node.label, std::move(r)}};
    }
    case NodeKind::kNot: {
      // Only !has(a) can be inverted (to "a must be absent"); !(a == "b") does not require a to be
      // absent.
      const Node& operand = node.operands.front();
      if (operand.kind == NodeKind::kHas) {
        return {{operand.label, LabelRestriction{.must_be_absent = true}}};
      }
      return {};
    }
    case NodeKind::kAnd: {
      LabelRestrictions out;
      for (const auto& op : node.operands) {
        for (auto& [name, r] : ComputeLabelRestrictions(op)) {
          LabelRestriction& base = out[name];
          base.must_be_present = base.must_be_present || r.must_be_present;
          base.must_be_absent = base.must_be_absent || r.must_be_absent;
          if (!base.must_have_one_of_values) {
            base.must_have_one_of_values = std::move(r.must_have_one_of_values);
          } else if (r.must_have_one_of_values) {
            base.must_have_one_of_values =
                Intersect(*base.must_have_one_of_values, *r.must_have_one_of_values);
          }
        }
      }
      return out;
    }
    case NodeKind::kOr: {
      LabelRestrictions out = ComputeLabelRestrictions(node.operands.front());
      for (std::size_t i = 1; i < node.operands.size() && !out.empty(); ++i) {
        LabelRestrictions op_lr = ComputeLabelRestrictions(node.operands[i]);
        for (auto it = out.begin(); it != out.end();) {
          LabelRestriction& r = it->second;
          LabelRestriction opr;
          if (auto found = op_lr.find(it->first); found != op_lr.end()) opr = found->second;
          r.must_be_present = r.must_be_present && opr.must_be_present;
          if (!r.must_be_present || !r.must_have_one_of_values || !opr.must_have_one_of_values) {
            // Either the label may be missing, or one side is has(label)-like: no value limit.
            r.must_have_one_of_values.reset();
          } else {
            // Both sides limit the value; either set is good enough.
            r.must_have_one_of_values =
                Union(*r.must_have_one_of_values, *opr.must_have_one_of_values);
          }
          r.must_be_absent = r.must_be_absent && opr.must_be_absent;
          if (r.must_be_present || r.must_be_absent) {
            ++it;
          } else {
            it = out.erase(it);
          }
        }
      }
      return out;
    }
  }
  return {};
}

}  // namespace calico::selector
