// Namespace scoping of v3 policy selectors and rules (libcalico-go syncer update processors);
// see policy_conversion.h.
#include "calico/calc/policy_conversion.h"

#include <vector>

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::calc {
namespace {

std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return std::string(StrTrim(it->get_ref<const std::string&>()));
}

// A label value as a selector string literal (double quotes unless the value contains one).
std::string Quote(std::string_view v) {
  return v.find('"') == std::string_view::npos ? fmt::format("\"{}\"", v) : fmt::format("'{}'", v);
}

std::optional<std::string> Prefixed(const std::string& text, std::string_view prefix) {
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
std::optional<std::string> ServiceAccountSelector(const Json& entity) {
  if (!entity.is_object()) return "";
  auto it = entity.find("serviceAccounts");
  if (it == entity.end() || !it->is_object()) return "";
  std::vector<std::string> parts;
  if (auto nit = it->find("names"); nit != it->end() && nit->is_array() && !nit->empty()) {
    std::string set;
    for (const Json& n : *nit) {
      if (!n.is_string()) return std::nullopt;
      if (!set.empty()) set += ", ";
      set += Quote(n.get_ref<const std::string&>());
    }
    parts.push_back(fmt::format("{} in {{{}}}", kServiceAccountLabel, set));
  }
  if (std::string sel = StringField(*it, "selector"); !sel.empty()) {
    auto prefixed = Prefixed(sel, kServiceAccountLabelPrefix);
    if (!prefixed) return std::nullopt;
    parts.push_back(*prefixed);
  }
  if (parts.empty()) return "";
  if (parts.size() == 1) return parts[0];
  return fmt::format("({}) && ({})", parts[0], parts[1]);
}

}  // namespace

std::optional<selector::Selector> PolicyEndpointSelector(const Json& spec, std::string_view ns) {
  std::string text = StringField(spec, "selector");
  if (text.empty()) text = "all()";
  if (!selector::Parse(text)) return std::nullopt;
  if (!ns.empty()) {
    text = fmt::format("({}) && {}", text, NamespaceEquals(ns));
  } else if (std::string ns_sel = StringField(spec, "namespaceSelector"); !ns_sel.empty()) {
    auto prefixed = Prefixed(ns_sel, kNamespaceLabelPrefix);
    if (!prefixed) return std::nullopt;
    text = fmt::format("({}) && ({})", text, *prefixed);
  }
  if (std::string sa_sel = StringField(spec, "serviceAccountSelector"); !sa_sel.empty()) {
    auto prefixed = Prefixed(sa_sel, kServiceAccountLabelPrefix);
    if (!prefixed) return std::nullopt;
    text = fmt::format("({}) && ({})", text, *prefixed);
  }
  auto sel = selector::Parse(text);
  if (!sel) return std::nullopt;
  return *std::move(sel);
}

std::optional<std::string> EntityRuleSelector(const Json& entity, std::string_view ns) {
  const std::string ns_sel = StringField(entity, "namespaceSelector");
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
  if (std::string sel = StringField(entity, "selector"); !sel.empty()) {
    if (!selector::Parse(sel)) return std::nullopt;
    parts.push_back(sel);
  }
  std::string combined;
  if (parts.size() == 1) {
    combined = parts[0];
  } else if (parts.size() == 2) {
    combined = fmt::format("({}) && ({})", parts[0], parts[1]);
  }
  const std::string not_sel = StringField(entity, "notSelector");
  if (!ns_part.empty() && (!combined.empty() || !not_sel.empty() || !ns_sel.empty())) {
    combined = combined.empty() ? ns_part : fmt::format("({}) && ({})", ns_part, combined);
  }
  if (combined.empty()) return combined;
  return Canonical(combined);
}

Json ScopeRules(const Json& rules, std::string_view ns) {
  if (!rules.is_array()) return Json::array();
  Json out = rules;
  for (Json& rule : out) {
    if (!rule.is_object()) continue;
    for (const char* side : {"source", "destination"}) {
      auto it = rule.find(side);
      if (it == rule.end() || !it->is_object()) continue;
      auto sel = EntityRuleSelector(*it, ns);
      if (!sel) continue;
      it->erase("namespaceSelector");
      it->erase("serviceAccounts");
      if (sel->empty()) {
        it->erase("selector");
      } else {
        (*it)["selector"] = *sel;
      }
    }
  }
  return out;
}

}  // namespace calico::calc
