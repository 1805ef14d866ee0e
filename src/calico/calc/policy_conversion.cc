// Namespace scoping of v3 policy selectors and rules (libcalico-go syncer update processors);
// see policy_conversion.h.
#include "calico/calc/policy_conversion.h"

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::calc {
namespace {

// A label value as a selector string literal (double quotes unless the value contains one).
std::string Quote(std::string_view v) {
  return v.find('"') == std::string_view::npos ? fmt::format("\"{}\"", v) : fmt::format("'{}'", v);
}

std::optional<std::string> Prefixed(std::string_view text, std::string_view prefix) {
  auto sel = selector::Parse(text);
  if (!sel) return std::nullopt;
  return sel->WithLabelPrefix(prefix).String();
}

std::string NamespaceEquals(std::string_view ns) {
  return fmt::format("{} == {}", kNamespaceLabel, Quote(ns));
}

std::optional<std::string> Canonical(const std::string& text) {
  auto sel = selector::Parse(text);
  if (!sel) return std::nullopt;
  return sel->String();
}

// upstream parseServiceAccounts: names and selector, ANDed.
std::optional<std::string> ServiceAccountSelector(const model::v3::EntityRule& entity) {
  if (!entity.service_accounts) return "";
  std::vector<std::string> parts;
  if (const auto& names = entity.service_accounts->names; !names.empty()) {
    std::string set;
    for (const std::string& n : names) {
      if (!set.empty()) set += ", ";
      set += Quote(n);
    }
    parts.push_back(fmt::format("{} in {{{}}}", kServiceAccountLabel, set));
  }
  if (std::string_view sel = StrTrim(entity.service_accounts->selector); !sel.empty()) {
    auto prefixed = Prefixed(sel, kServiceAccountLabelPrefix);
    if (!prefixed) return std::nullopt;
    parts.push_back(*prefixed);
  }
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0];
  return fmt::format("({}) && ({})", parts[0], parts[1]);
}

}  // namespace

std::optional<selector::Selector> PolicyEndpointSelector(std::string_view selector_text,
                                                         std::string_view namespace_selector,
                                                         std::string_view service_account_selector,
                                                         std::string_view ns) {
  std::string text(StrTrim(selector_text));
  if (text.empty()) text = "all()";
  if (!selector::Parse(text)) return std::nullopt;
  if (!ns.empty()) {
    text = fmt::format("({}) && {}", text, NamespaceEquals(ns));
  } else if (std::string_view ns_sel = StrTrim(namespace_selector); !ns_sel.empty()) {
    auto prefixed = Prefixed(ns_sel, kNamespaceLabelPrefix);
    if (!prefixed) return std::nullopt;
    text = fmt::format("({}) && ({})", text, *prefixed);
  }
  if (std::string_view sa_sel = StrTrim(service_account_selector); !sa_sel.empty()) {
    auto prefixed = Prefixed(sa_sel, kServiceAccountLabelPrefix);
    if (!prefixed) return std::nullopt;
    text = fmt::format("({}) && ({})", text, *prefixed);
  }
  auto sel = selector::Parse(text);
  if (!sel) return std::nullopt;
  return *std::move(sel);
}

std::optional<std::string> EntityRuleSelector(const model::v3::EntityRule& entity,
                                              std::string_view ns) {
  const std::string_view ns_sel = StrTrim(entity.namespace_selector);
  std::string ns_part;
  if (!ns_sel.empty()) {
    if (selector::IsGlobalOnly(ns_sel)) {
      ns_part = fmt::format("!has({})", kNamespaceLabel);
    } else {
      auto prefixed = Prefixed(ns_sel, kNamespaceLabelPrefix);
      if (!prefixed) return std::nullopt;
      ns_part = *prefixed;
    }
  } else if (!ns.empty()) {
    ns_part = NamespaceEquals(ns);
  }

  std::vector<std::string> parts;
  auto sa = ServiceAccountSelector(entity);
  if (!sa) return std::nullopt;
  if (!sa->empty()) parts.push_back(*sa);
  if (std::string_view sel = StrTrim(entity.selector); !sel.empty()) {
    if (!selector::Parse(sel)) return std::nullopt;
    parts.emplace_back(sel);
  }
  std::string combined;
  if (parts.size() == 1) {
    combined = parts[0];
  } else if (parts.size() == 2) {
    combined = fmt::format("({}) && ({})", parts[0], parts[1]);
  }
  const bool not_sel = !StrTrim(entity.not_selector).empty();
  if (!ns_part.empty() && (!combined.empty() || not_sel || !ns_sel.empty())) {
    combined = combined.empty() ? ns_part : fmt::format("({}) && ({})", ns_part, combined);
  }
  if (combined.empty()) return combined;
  return Canonical(combined);
}

std::vector<model::v3::Rule> ScopeRules(std::vector<model::v3::Rule> rules, std::string_view ns) {
  for (model::v3::Rule& rule : rules) {
    for (model::v3::EntityRule* side : {&rule.source, &rule.destination}) {
      auto sel = EntityRuleSelector(*side, ns);
      if (!sel) continue;
      side->namespace_selector.clear();
      side->service_accounts.reset();
      side->selector = std::move(*sel);
    }
  }
  return rules;
}

}  // namespace calico::calc
