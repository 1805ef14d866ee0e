// The JSON and text forms of an Explanation (explain.h).
#include <string>

#include <fmt/format.h>

#include "calico/explain/explain.h"

namespace calico::explain {
namespace {

std::string KindName(Step::Kind k) {
  switch (k) {
    case Step::Kind::kRule:
      return "rule";
    case Step::Kind::kNoRuleMatched:
      return "no-rule-matched";
    case Step::Kind::kIsolated:
      return "isolated";
    case Step::Kind::kEndOfTier:
      return "end-of-tier";
    case Step::Kind::kNoProfile:
      return "no-profile";
  }
  return "?";
}

Json PeerJson(const Peer& p) {
  Json j = {{"input", p.input}, {"ip", p.ip}};
  if (!p.endpoint.empty()) {
    j["endpoint"] = p.endpoint;
    j["node"] = p.node;
  }
  return j;
}

std::string PeerText(const Peer& p) {
  if (p.endpoint.empty())
    return fmt::format("{} (not a Calico endpoint: no policy on this side)", p.ip);
  return fmt::format("{} (workload {} on node {})", p.ip, p.endpoint, p.node);
}

std::string Where(const Step& s) {
  std::string out;
  if (s.profile) {
    out = fmt::format("profile {}", s.policy);
  } else if (s.policy.empty()) {
    out = fmt::format("tier {}", s.tier);
  } else {
    out = fmt::format("tier {}, policy {}", s.tier, s.policy);
  }
  if (s.rule) out += fmt::format(", rule {}", *s.rule);
  return out;
}

std::string StepText(const Step& s) {
  std::string what;
  switch (s.kind) {
    case Step::Kind::kRule:
      what = s.matched ? fmt::format("{} matches ({})", s.action, s.reason)
                       : fmt::format("{} does not match: {}", s.action, s.reason);
      break;
    case Step::Kind::kNoRuleMatched:
      what = fmt::format("{}: next", s.reason);
      break;
    case Step::Kind::kIsolated:
      what = fmt::format("isolated: {}", s.reason);
      break;
    case Step::Kind::kEndOfTier:
      what = fmt::format("end of tier: {} ({})", s.action, s.reason);
      break;
    case Step::Kind::kNoProfile:
      return fmt::format("{}Deny ({})", s.pending ? "[pending] " : "", s.reason);
  }
  return fmt::format("{}{}: {}", s.pending ? "[pending] " : "", Where(s), what);
}

}  // namespace

Json ToJson(const Explanation& e) {
  Json dirs = Json::array();
  for (const DirectionExplanation& d : e.directions) {
    Json steps = Json::array();
    for (const Step& s : d.steps) {
      Json j = {{"kind", KindName(s.kind)}};
      if (!s.tier.empty()) j["tier"] = s.tier;
      if (!s.policy.empty()) j["policy"] = s.policy;
      if (s.profile) j["profile"] = true;
      if (s.rule) j["rule"] = *s.rule;
      if (s.kind == Step::Kind::kRule) j["matched"] = s.matched;
      if (!s.action.empty()) j["action"] = s.action;
      j["reason"] = s.reason;
      if (s.pending) j["pending"] = true;
      steps.push_back(std::move(j));
    }
    Json dj = {{"direction", d.direction},
               {"endpoint", d.endpoint},
               {"node", d.node},
               {"verdict", VerdictName(d.verdict)},
               {"steps", std::move(steps)}};
    if (d.pending_verdict) dj["pendingVerdict"] = VerdictName(*d.pending_verdict);
    dirs.push_back(std::move(dj));
  }
  Json j = {{"query", QueryToJson(e.query)},
            {"from", PeerJson(e.from)},
            {"to", PeerJson(e.to)},
            {"verdict", VerdictName(e.verdict)},
            {"directions", std::move(dirs)}};
  if (e.pending_verdict) j["pendingVerdict"] = VerdictName(*e.pending_verdict);
  return j;
}

std::string RenderText(const Explanation& e) {
  const Query& q = e.query;
  std::string packet = q.protocol;
  if (q.port) {
    packet += fmt::format(" {}:{} -> {}:{}", e.from.ip,
                          q.source_port ? std::to_string(*q.source_port) : "*", e.to.ip, *q.port);
  } else {
    packet += fmt::format(" {} -> {}", e.from.ip, e.to.ip);
    if (q.icmp_type) packet += fmt::format(" type {}", *q.icmp_type);
    if (q.icmp_code) packet += fmt::format(" code {}", *q.icmp_code);
  }
  std::string out =
      fmt::format("Packet: {}\nFrom:   {}\nTo:     {}\n", packet, PeerText(e.from), PeerText(e.to));
  for (const DirectionExplanation& d : e.directions) {
    out += fmt::format("\n{} of {} (node {}):\n", d.direction == "egress" ? "Egress" : "Ingress",
                       d.endpoint, d.node);
    int n = 0;
    for (const Step& s : d.steps) {
      out += fmt::format("  {}. {}\n", ++n, StepText(s));
    }
    out += fmt::format("  => {}", VerdictName(d.verdict));
    if (d.pending_verdict) {
      out += fmt::format(" (with the staged policies: {})", VerdictName(*d.pending_verdict));
    }
    out += "\n";
  }
  if (e.directions.empty()) out += "\nNeither side is a Calico endpoint: no policy applies.\n";
  out += fmt::format("\nVerdict: {}", VerdictName(e.verdict));
  if (e.pending_verdict) {
    out += fmt::format(" (with the staged policies: {})", VerdictName(*e.pending_verdict));
  }
  out += "\n";
  return out;
}

}  // namespace calico::explain
