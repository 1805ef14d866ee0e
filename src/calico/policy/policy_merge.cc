// The merge decision for runs of simple policies (policy_merge.h): an optimisation of Felix's
// per-policy jumps (felix/rules/endpoints.go) with identical verdicts and attribution.
#include "calico/policy/policy_merge.h"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::policy {
namespace {

// Comparisons one run (or one policy's own check) may spend on overlap checks before it ends.
constexpr long kOverlapBudget = 1L << 20;
// A rule whose nets x ports product is larger stays a rule of its own (its anonymous sets are
// cheaper than that many map elements).
constexpr std::size_t kMaxRuleElements = 256;

bool NetsOverlap(const std::optional<net::CIDR>& a, const std::optional<net::CIDR>& b) {
  if (!a || !b) return true;
  if (a->family() != b->family()) return false;
  return a->Overlaps(*b);
}

// A side's nets masked, sorted, nets covered by another dropped (so a rule's own elements are
// pairwise disjoint: CIDRs nest or are disjoint); no nets: one "any".
std::vector<std::optional<net::CIDR>> SideNets(const std::vector<net::CIDR>& nets) {
  if (nets.empty()) return {std::nullopt};
  std::vector<net::CIDR> masked;
  masked.reserve(nets.size());
  for (const net::CIDR& c : nets) {
    masked.push_back(c.Masked());
  }
  // (address, prefix length) order: a covering CIDR comes before the ones it covers.
  std::sort(masked.begin(), masked.end());
  std::vector<std::optional<net::CIDR>> out;
  for (const net::CIDR& c : masked) {
    if (!out.empty() && out.back()->Contains(c)) continue;
    out.emplace_back(c);
  }
  return out;
}

// Overlap checks against the elements added so far, bucketed by (protocol, port) for single
// ports (the common shape); other elements are checked against everything.
class ElementIndex {
 public:
  // True if `e` overlaps an element added so far, or the comparison budget is spent.
  bool Conflicts(const MergeElement& e) {
    auto check = [&](uint32_t i) { return --budget_ < 0 || ElementsOverlap(all_[i], e); };
    if (e.port && e.port->first == e.port->last) {
      if (auto it = single_.find(Key(e.protocol, e.port->first)); it != single_.end()) {
        for (uint32_t i : it->second) {
          if (check(i)) return true;
        }
      }
      for (uint32_t i : wide_) {
        if (check(i)) return true;
      }
      return false;
    }
    for (uint32_t i = 0; i < all_.size(); ++i) {
      if (check(i)) return true;
    }
    return false;
  }
  void Add(const MergeElement& e) {
    const auto i = static_cast<uint32_t>(all_.size());
    all_.push_back(e);
    if (e.port && e.port->first == e.port->last) {
      single_[Key(e.protocol, e.port->first)].push_back(i);
    } else {
      wide_.push_back(i);
    }
  }

 private:
  static uint32_t Key(uint8_t protocol, uint16_t port) {
    return (static_cast<uint32_t>(protocol) << 16) | port;
  }
  std::vector<MergeElement> all_{};
  std::unordered_map<uint32_t, std::vector<uint32_t>> single_{};
  std::vector<uint32_t> wide_{};
  long budget_ = kOverlapBudget;
};

std::string NetText(const std::optional<net::CIDR>& c, int family) {
  if (!c) return family == 6 ? "::/0" : "0.0.0.0/0";
  if (c->prefix_len() == c->addr().bit_len()) return c->addr().String();
  return c->String();
}

}  // namespace

bool ElementsOverlap(const MergeElement& a, const MergeElement& b) {
  if (a.family != 0 && b.family != 0 && a.family != b.family) return false;
  if (a.protocol != b.protocol) return false;
  if (a.port && b.port && (a.port->last < b.port->first || b.port->last < a.port->first)) {
    return false;
  }
  return NetsOverlap(a.source, b.source) && NetsOverlap(a.destination, b.destination);
}

bool SimpleRule(const ParsedRule& rule) {
  if (rule.action == Action::kLog || rule.http_match_ignored) return false;
  // Protocols with ports only: `th dport` of the lookup key reads their header.
  if (!rule.protocol) return false;
  const uint8_t p = *rule.protocol;
  if (p != 6 && p != 17 && p != 132 && p != 136) return false;
  if (rule.not_protocol || rule.icmp || rule.not_icmp) return false;
  for (const EntityMatch* e : {&rule.source, &rule.destination}) {
    if (!e->not_nets.empty() || !e->selector.empty() || !e->not_selector.empty() ||
        !e->not_ports.empty() || !e->named_ports.empty() || !e->not_named_ports.empty()) {
      return false;
    }
  }
  return rule.source.ports.empty();
}

PolicyMergeInfo AnalysePolicyRules(const ParsedRules& rules) {
  PolicyMergeInfo info;
  for (const ParsedRule& rule : rules) {
    info.can_allow = info.can_allow || rule.action == Action::kAllow;
    info.can_pass = info.can_pass || rule.action == Action::kPass;
  }
  // A chain whose rules did not all parse is isolated (one drop): never merged.
  if (!rules.ok()) return info;
  ElementIndex index;
  for (std::size_t r = 0; r < rules.size(); ++r) {
    const ParsedRule& rule = rules[r];
    if (!SimpleRule(rule)) return info;
    const bool has_ports = !rule.destination.ports.empty();
    if (info.has_ports && *info.has_ports != has_ports) return info;
    info.has_ports = has_ports;
    std::vector<std::optional<PortRange>> ports;
    for (const PortRange& pr : rule.destination.ports) {
      ports.emplace_back(pr);
    }
    if (ports.empty()) ports.emplace_back(std::nullopt);
    const std::vector<std::optional<net::CIDR>> sources = SideNets(rule.source.nets);
    const std::vector<std::optional<net::CIDR>> destinations = SideNets(rule.destination.nets);
    if (sources.size() * destinations.size() * ports.size() > kMaxRuleElements) return info;
    std::vector<MergeElement> mine;
    for (const auto& src : sources) {
      for (const auto& dst : destinations) {
        for (const auto& port : ports) {
          mine.push_back(MergeElement{.family = rule.family.value_or(0),
                                      .protocol = *rule.protocol,
                                      .source = src,
                                      .destination = dst,
                                      .port = port,
                                      .rule = r});
        }
      }
    }
    // Disjoint from the earlier rules' elements: otherwise the earlier rule wins for the shared
    // packets, which the lookup (one element per packet) cannot say.
    for (const MergeElement& e : mine) {
      if (index.Conflicts(e)) return info;
    }
    for (MergeElement& e : mine) {
      index.Add(e);
      info.elements.push_back(std::move(e));
    }
  }
  info.mergeable = true;
  return info;
}

std::vector<TierSegment> PlanTier(const std::vector<const PolicyMergeInfo*>& policies,
                                  std::size_t min_run) {
  std::vector<TierSegment> out;
  bool in_run = false;
  std::size_t run_start = 0;
  std::optional<bool> run_ports;
  std::optional<ElementIndex> index;
  auto close = [&](std::size_t end) {
    if (!in_run) return;
    in_run = false;
    if (min_run > 0 && end - run_start >= min_run) {
      out.push_back(TierSegment{.first = run_start, .last = end, .merged = true});
      return;
    }
    for (std::size_t k = run_start; k < end; ++k) {
      out.push_back(TierSegment{.first = k, .last = k + 1});
    }
  };
  for (std::size_t i = 0; i < policies.size(); ++i) {
    const PolicyMergeInfo& p = *policies[i];
    if (min_run == 0 || !p.mergeable) {
      close(i);
      out.push_back(TierSegment{.first = i, .last = i + 1});
      continue;
    }
    if (in_run) {
      bool fits = !(p.has_ports && run_ports && *p.has_ports != *run_ports);
      for (std::size_t k = 0; fits && k < p.elements.size(); ++k) {
        fits = !index->Conflicts(p.elements[k]);
      }
      if (fits) {
        for (const MergeElement& e : p.elements) {
          index->Add(e);
        }
        if (p.has_ports) run_ports = p.has_ports;
        continue;
      }
      close(i);
    }
    in_run = true;
    run_start = i;
    run_ports = p.has_ports;
    index.emplace();
    for (const MergeElement& e : p.elements) {
      index->Add(e);  // Disjoint among themselves (AnalysePolicyRules).
    }
  }
  close(policies.size());
  return out;
}

std::vector<MergedLookup> BuildLookups(const std::vector<const PolicyMergeInfo*>& policies,
                                       const std::vector<std::string>& chains) {
  bool pinned = false;
  for (const PolicyMergeInfo* p : policies) {
    for (const MergeElement& e : p->elements) {
      pinned = pinned || e.family != 0;
    }
  }
  std::vector<MergedLookup> out;
  for (int family : pinned ? std::vector<int>{4, 6} : std::vector<int>{0}) {
    std::vector<std::pair<const MergeElement*, const std::string*>> elems;
    std::set<uint8_t> protocols;
    bool has_source = false, has_destination = false, has_port = false;
    for (std::size_t i = 0; i < policies.size(); ++i) {
      for (const MergeElement& e : policies[i]->elements) {
        if (family != 0 && e.family != 0 && e.family != family) continue;
        elems.emplace_back(&e, &chains[i]);
        protocols.insert(e.protocol);
        has_source = has_source || e.source.has_value();
        has_destination = has_destination || e.destination.has_value();
        has_port = has_port || e.port.has_value();
      }
    }
    if (elems.empty()) continue;
    // The key's components: the protocol when the run has several (or nothing else to key on),
    // the addresses a rule matches, the destination port.
    const bool proto_key = protocols.size() > 1 || !(has_source || has_destination || has_port);
    const std::string ip = family == 6 ? "ip6" : "ip";
    const std::string addr_type = family == 6 ? "ipv6_addr" : "ipv4_addr";
    std::vector<std::string> exprs, types;
    if (proto_key) {
      exprs.emplace_back("meta l4proto");
      types.emplace_back("inet_proto");
    }
    if (has_source) {
      exprs.push_back(ip + " saddr");
      types.push_back(addr_type);
    }
    if (has_destination) {
      exprs.push_back(ip + " daddr");
      types.push_back(addr_type);
    }
    if (has_port) {
      exprs.emplace_back("th dport");
      types.emplace_back("inet_service");
    }
    MergedLookup lookup{.family = family, .type = StrJoin(types, " . ")};
    std::vector<std::string> match;
    if (family != 0) match.push_back(family == 6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
    if (!proto_key) match.push_back(fmt::format("meta l4proto {}", *protocols.begin()));
    match.push_back(StrJoin(exprs, " . "));
    lookup.match = StrJoin(match, " ");
    for (const auto& [e, chain] : elems) {
      std::vector<std::string> key;
      if (proto_key) key.push_back(std::to_string(e->protocol));
      if (has_source) key.push_back(NetText(e->source, family));
      if (has_destination) key.push_back(NetText(e->destination, family));
      if (has_port) {
        // Runs are all-ports or no-ports (PlanTier), so every element of a port key has one.
        const PortRange pr = e->port.value_or(PortRange{.first = 0, .last = 65535});
        key.push_back(pr.first == pr.last ? std::to_string(pr.first)
                                          : fmt::format("{}-{}", pr.first, pr.last));
      }
      lookup.elements.push_back(fmt::format("{} : jump {}", StrJoin(key, " . "), *chain));
    }
    out.push_back(std::move(lookup));
  }
  return out;
}

}  // namespace calico::policy
