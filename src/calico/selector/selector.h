// Calico label selectors (libcalico-go/lib/selector): Parse, Validate, Normalise and the Selector
// value type.
//
// Grammar (precedence: ! binds tighter than &&, which binds tighter than ||):
//   selector := <empty> | or_expr EOF            (empty or blank input means all())
//   or_expr  := and_expr ( "||" and_expr )*
//   and_expr := op ( "&&" op )*
//   op       := "!"* primary
//   primary  := has(label) | all() | global()
//             | label ( "==" | "!=" | contains | starts with | ends with ) STRING
//             | label ( in | not in ) "{" [ STRING ( "," STRING )* [","] ] "}"
//             | "(" or_expr ")"
//
//   auto sel = selector::Parse("role == 'db' && !has(legacy)");
//   if (!sel) return Unexpected(std::move(sel).error());
//   bool match = sel->Evaluate(LabelMap{{"role", "db"}});
//   sel->String();    // (role == "db" && !has(legacy))
//   sel->UniqueId();  // s:<base64url(sha224)>
//
// Thread-safety: Selector is an immutable value that shares its AST; copies are cheap and may be
// used from any number of threads concurrently.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "calico/base/result.h"
#include "calico/selector/ast.h"
#include "calico/selector/labels.h"

namespace calico::selector {

// Longest selector the API accepts (enforced by the CRD schema / validators, not by Parse).
inline constexpr std::size_t kMaxSelectorLength = 1024;

class Selector {
 public:
  // The all() selector.
  Selector();
  // Wraps an AST (e.g. built by hand or rewritten); computes String() and UniqueId().
  explicit Selector(Node root);

  // Matches everything: "all()".
  static const Selector& All();
  // Matches nothing: "!all()".
  static const Selector& NoMatch();

  bool Evaluate(const Labels& labels) const { return impl_->root.Evaluate(labels); }
  bool Evaluate(const LabelMap& labels) const { return Evaluate(MapLabels(labels)); }

  // Canonical form: `k == "v"`, `k in {"a", "b"}`, `!has(a)`, `(a && b)`, `all()`, ...
  const std::string& String() const { return impl_->text; }
  // "s:" + base64url_nopad(SHA-224("s:" + String())).
  const std::string& UniqueId() const { return impl_->unique_id; }

  const Node& root() const { return impl_->root; }

  // True if global() appears anywhere in the selector.
  bool UsesGlobal() const { return impl_->uses_global; }
  // True if the selector is exactly global() (the only form allowed in EntityRule
  // namespaceSelector).
  bool IsGlobalOnly() const { return impl_->root.kind == NodeKind::kGlobal; }
  // True if the selector is exactly all() (or was empty).
  bool IsAll() const { return impl_->root.kind == NodeKind::kAll; }

  // Every label name the selector refers to, sorted.
  std::set<std::string> LabelKeys() const;

  // Lower-bound restrictions on labels for a match (see ast.h).
  LabelRestrictions GetLabelRestrictions() const { return ComputeLabelRestrictions(impl_->root); }

  // A copy with every label name prefixed (upstream PrefixVisitor), e.g. "pcns." for namespace
  // labels.
  Selector WithLabelPrefix(std::string_view prefix) const;

  // Selectors are equal when their canonical forms are.
  bool operator==(const Selector& other) const { return UniqueId() == other.UniqueId(); }

 private:
  struct Impl {
    Node root;
    std::string text;
    std::string unique_id;
    bool uses_global = false;
  };
  std::shared_ptr<const Impl> impl_;
};

// Parses a selector expression. Empty or blank (spaces/tabs) input gives all().
// Errors: kInvalidArgument with the upstream message, e.g. "unterminated string",
// "expected operator after label \"a\"", "unexpected content at end of selector [TokRParen()
// TokEOF()]".
[[nodiscard]] Result<Selector> Parse(std::string_view text);

// Checks the syntax of a selector without building it; accepts and rejects exactly as Parse.
[[nodiscard]] Status Validate(std::string_view text);

// Trims ASCII whitespace, parses and returns String(); unparsable input is returned (trimmed)
// unchanged.
std::string Normalise(std::string_view text);

// True if `text` is exactly global() (modulo spaces/tabs), as required for an EntityRule
// namespaceSelector that uses global() at all.
bool IsGlobalOnly(std::string_view text);

}  // namespace calico::selector

// Selectors hash by UniqueId(), consistently with operator==, so they can key unordered containers.
template <>
struct std::hash<calico::selector::Selector> {
  std::size_t operator()(const calico::selector::Selector& sel) const noexcept {
    return std::hash<std::string>()(sel.UniqueId());
  }
};
