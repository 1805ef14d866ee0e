// Explain (explain.h): the snapshot, the query's two sides, one calc::CalcGraph per node involved
// (and a second set with the staged policies applied), then evaluate.cc per direction.
#include "calico/explain/explain.h"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "calico/calc/calc_graph.h"
#include "calico/datastore/client.h"
#include "calico/explain/evaluate.h"
#include "calico/explain/pending.h"
#include "calico/model/v3/endpoint.h"
#include "calico/net/ip.h"
#include "calico/policy/parsed_rule.h"

namespace calico::explain {
namespace {

// Besides every kind the calculation graph consumes (calc::kGraphKinds), the staged policies.
constexpr std::array<std::string_view, 3> kStagedKinds = {
    "StagedGlobalNetworkPolicy",
    "StagedNetworkPolicy",
    "StagedKubernetesNetworkPolicy",
};

tl::unexpected<Error> FieldError(std::string_view field, std::string_view msg) {
  return InvalidArgument(fmt::format("{}: {}", field, msg));
}

bool SameObject(const model::Resource& a, const model::Resource& b) {
  return a.kind() == b.kind() && a.namespace_() == b.namespace_() && a.name() == b.name();
}

struct ResolvedPeer {
  Peer peer{};
  std::vector<net::IPAddr> addrs{};  // The endpoint's addresses, or the one given.
};

Result<ResolvedPeer> ResolvePeer(const std::vector<model::v3::WorkloadEndpoint>& weps,
                                 std::string_view field, const std::string& input) {
  if (input.empty()) return FieldError(field, "required (an endpoint or an IP address)");
  ResolvedPeer out{.peer = {.input = input}};
  auto fill = [&](const model::v3::WorkloadEndpoint& w) {
    out.peer.endpoint = fmt::format("{}/{}", w.metadata.namespace_, w.metadata.name);
    out.peer.node = w.spec.node;
    for (const std::string& n : w.spec.ip_networks) {
      if (auto c = net::CIDR::ParseNet(n)) out.addrs.push_back(c->addr());
    }
  };
  if (auto ip = net::IPAddr::Parse(input)) {
    out.peer.ip = ip->String();
    for (const auto& w : weps) {
      for (const std::string& n : w.spec.ip_networks) {
        auto c = net::CIDR::ParseNet(n);
        if (c && c->addr() == *ip) {
          fill(w);
          out.addrs = {*ip};
          return out;
        }
      }
    }
    out.addrs = {*ip};
    return out;
  }
  const auto slash = input.find('/');
  std::vector<const model::v3::WorkloadEndpoint*> found;
  for (const auto& w : weps) {
    const bool match = slash == std::string::npos
                           ? w.metadata.name == input
                           : (w.metadata.namespace_ == input.substr(0, slash) &&
                              w.metadata.name == input.substr(slash + 1));
    if (match) found.push_back(&w);
  }
  if (found.empty()) {
    return FieldError(field, fmt::format("\"{}\" is neither an IP address nor a WorkloadEndpoint "
                                         "(\"<namespace>/<name>\" or \"<name>\")",
                                         input));
  }
  if (found.size() > 1) {
    return FieldError(field, fmt::format("WorkloadEndpoint \"{}\" exists in {} namespaces: give "
                                         "\"<namespace>/<name>\"",
                                         input, found.size()));
  }
  fill(*found[0]);
  if (out.addrs.empty()) {
    return FieldError(field, fmt::format("WorkloadEndpoint {} has no address", out.peer.endpoint));
  }
  return out;
}

// The packet's addresses: the given ones, or the endpoints' first of a common family (IPv4 first).
Result<std::pair<net::IPAddr, net::IPAddr>> PickAddresses(const ResolvedPeer& from,
                                                          const ResolvedPeer& to) {
  for (int family : {4, 6}) {
    auto a = std::find_if(from.addrs.begin(), from.addrs.end(),
                          [&](const net::IPAddr& x) { return x.family() == family; });
    auto b = std::find_if(to.addrs.begin(), to.addrs.end(),
                          [&](const net::IPAddr& x) { return x.family() == family; });
    if (a != from.addrs.end() && b != to.addrs.end()) return std::pair{*a, *b};
  }
  return InvalidArgument(fmt::format("from {} and to {} have no address family in common",
                                     from.peer.input, to.peer.input));
}

Result<Packet> MakePacket(const Query& q, const net::IPAddr& src, const net::IPAddr& dst) {
  Packet p{.src = src, .dst = dst};
  auto proto = policy::ParseProtocol(model::v3::NumOrString::Str(q.protocol));
  if (!proto) return FieldError("protocol", proto.error().message());
  p.protocol = *proto;
  const bool has_ports =
      p.protocol == 6 || p.protocol == 17 || p.protocol == 132 || p.protocol == 136;
  const bool icmp = p.protocol == 1 || p.protocol == 58;
  auto port_in_range = [](std::string_view field, std::optional<int> v) -> Status {
    if (v && (*v < 1 || *v > 65535)) {
      return FieldError(field, fmt::format("{} is not a port (1-65535)", *v));
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(port_in_range("port", q.port));
  RETURN_IF_ERROR(port_in_range("sourcePort", q.source_port));
  if (has_ports && !q.port) return FieldError("port", fmt::format("required for {}", q.protocol));
  if (!has_ports && (q.port || q.source_port)) {
    return FieldError("port", fmt::format("protocol {} has no ports", q.protocol));
  }
  p.dest_port = q.port;
  p.source_port = q.source_port;
  if (!icmp && (q.icmp_type || q.icmp_code)) {
    return FieldError("icmpType", "only for protocol ICMP or ICMPv6");
  }
  for (const auto& [field, v] : {std::pair{"icmpType", q.icmp_type}, {"icmpCode", q.icmp_code}}) {
    if (v && (*v < 0 || *v > 255)) return FieldError(field, fmt::format("{} is not 0-255", *v));
  }
  if (icmp && (p.protocol == 58) != src.is_v6()) {
    return FieldError("protocol",
                      fmt::format("{} does not go with IPv{} addresses", q.protocol, src.family()));
  }
  p.icmp_type = q.icmp_type.value_or(p.protocol == 58 ? 128 : 8);
  p.icmp_code = q.icmp_code.value_or(0);
  return p;
}

// The snapshot as the agent sees it (staged policies left out: the graph ignores them anyway).
std::vector<model::Resource> EnforcedView(const Snapshot& snap) {
  std::vector<model::Resource> out;
  for (const model::Resource& r : snap.resources) {
    if (!IsStagedKind(r.kind())) out.push_back(r);
  }
  return out;
}

bool HasStaged(const Snapshot& snap) {
  return std::any_of(snap.resources.begin(), snap.resources.end(),
                     [](const model::Resource& r) { return IsStagedKind(r.kind()); });
}

// The pending view (pending.h) per node, built on demand.
class PendingGraphs {
 public:
  explicit PendingGraphs(const Snapshot* snap) : snap_(snap) {}
  struct View {
    policy::Model model{};
    std::map<std::string, std::string> staged_ids{};
  };
  const View& For(const std::string& node) {
    auto it = views_.find(node);
    if (it != views_.end()) return it->second;
    PendingGraph graph(node);
    for (const model::Resource& r : snap_->resources) {
      graph.OnUpdate(r);
    }
    policy::Model m = graph.Model();
    std::map<std::string, std::string> ids = StagedIds(m);
    return views_.emplace(node, View{std::move(m), std::move(ids)}).first->second;
  }

 private:
  const Snapshot* snap_;
  std::map<std::string, View> views_;
};

// One calculation graph per node (the node the endpoint is local to), built on demand.
class Graphs {
 public:
  explicit Graphs(const std::vector<model::Resource>* resources) : resources_(resources) {}
  const policy::Model& ModelFor(const std::string& node) {
    auto it = models_.find(node);
    if (it != models_.end()) return it->second;
    calc::CalcGraph graph(node);
    for (const model::Resource& r : *resources_) {
      graph.OnUpdate(r);
    }
    return models_.emplace(node, graph.Model()).first->second;
  }

 private:
  const std::vector<model::Resource>* resources_;
  std::map<std::string, policy::Model> models_;
};

const policy::Endpoint* FindEndpoint(const policy::Model& m, const std::string& name) {
  for (const policy::Endpoint& ep : m.endpoints) {
    if (ep.name == name) return &ep;
  }
  return nullptr;
}

}  // namespace

Result<Snapshot> SnapshotFromClient(datastore::Client& client) {
  Snapshot s;
  auto keep = [&](model::Resource& r) { s.resources.push_back(std::move(r)); };
  RETURN_IF_ERROR(calc::ListKinds(client, calc::kGraphKinds, keep));
  RETURN_IF_ERROR(calc::ListKinds(client, kStagedKinds, keep));
  return s;
}

Snapshot Overlay(Snapshot base, const std::vector<model::Resource>& overlay) {
  for (const model::Resource& o : overlay) {
    auto it = std::find_if(base.resources.begin(), base.resources.end(),
                           [&](const model::Resource& r) { return SameObject(r, o); });
    if (it != base.resources.end()) {
      *it = o;
    } else {
      base.resources.push_back(o);
    }
  }
  return base;
}

Result<Query> QueryFromJson(const Json& j) {
  if (!j.is_object()) return InvalidArgument("query: must be a JSON object");
  Query q;
  static const std::set<std::string> kKnown = {"from",       "to",       "protocol", "port",
                                               "sourcePort", "icmpType", "icmpCode"};
  for (const auto& [k, _] : j.items()) {
    if (kKnown.count(k) == 0) return FieldError(k, "unknown field");
  }
  for (const auto& [field, out] : {std::pair{"from", &q.from}, {"to", &q.to}}) {
    if (!j.contains(field)) continue;
    if (!j[field].is_string()) return FieldError(field, "must be a string");
    *out = j[field].get<std::string>();
  }
  if (j.contains("protocol")) {
    if (j["protocol"].is_string()) {
      q.protocol = j["protocol"].get<std::string>();
    } else if (j["protocol"].is_number_integer()) {
      q.protocol = std::to_string(j["protocol"].get<int64_t>());
    } else {
      return FieldError("protocol", "must be a string or a number");
    }
  }
  for (const auto& [field, out] : {std::pair{"port", &q.port},
                                   {"sourcePort", &q.source_port},
                                   {"icmpType", &q.icmp_type},
                                   {"icmpCode", &q.icmp_code}}) {
    if (!j.contains(field) || j[field].is_null()) continue;
    if (!j[field].is_number_integer()) return FieldError(field, "must be an integer");
    const int64_t v = j[field].get<int64_t>();
    if (v < 0 || v > 65535) return FieldError(field, fmt::format("{} is out of range", v));
    *out = static_cast<int>(v);
  }
  return q;
}

Json QueryToJson(const Query& q) {
  Json j = {{"from", q.from}, {"to", q.to}, {"protocol", q.protocol}};
  if (q.port) j["port"] = *q.port;
  if (q.source_port) j["sourcePort"] = *q.source_port;
  if (q.icmp_type) j["icmpType"] = *q.icmp_type;
  if (q.icmp_code) j["icmpCode"] = *q.icmp_code;
  return j;
}

std::string VerdictName(Verdict v) {
  return v == Verdict::kAllow ? "Allow" : "Deny";
}

Result<Explanation> Explain(const Snapshot& snapshot, const Query& query) {
  std::vector<model::v3::WorkloadEndpoint> weps;
  for (const model::Resource& r : snapshot.resources) {
    if (r.kind() != "WorkloadEndpoint") continue;
    auto w = model::v3::DecodeWorkloadEndpoint(r);
    if (w) weps.push_back(std::move(*w));  // The agent skips what does not decode, so here.
  }
  ASSIGN_OR_RETURN(ResolvedPeer from, ResolvePeer(weps, "from", query.from));
  ASSIGN_OR_RETURN(ResolvedPeer to, ResolvePeer(weps, "to", query.to));
  ASSIGN_OR_RETURN(auto addrs, PickAddresses(from, to));
  ASSIGN_OR_RETURN(Packet packet, MakePacket(query, addrs.first, addrs.second));
  from.peer.ip = addrs.first.String();
  to.peer.ip = addrs.second.String();

  Explanation e{.query = query, .from = from.peer, .to = to.peer};
  const std::vector<model::Resource> enforced_view = EnforcedView(snapshot);
  const bool has_staged = HasStaged(snapshot);
  Graphs enforced(&enforced_view);
  PendingGraphs pending(&snapshot);
  std::optional<Verdict> pending_all;
  bool any_pending = false;
  for (const auto& [peer, ingress] : {std::pair{&from.peer, false}, {&to.peer, true}}) {
    if (peer->endpoint.empty()) continue;
    DirectionExplanation d{.direction = ingress ? "ingress" : "egress",
                           .endpoint = peer->endpoint,
                           .node = peer->node};
    const policy::Model& model = enforced.ModelFor(peer->node);
    const policy::Endpoint* ep = FindEndpoint(model, peer->endpoint);
    if (ep == nullptr) {
      return Internal(
          fmt::format("endpoint {} is not in the model of node {}", peer->endpoint, peer->node));
    }
    DirectionResult r = EvaluateDirection(model, *ep, ingress, packet);
    d.steps = std::move(r.steps);
    d.verdict = r.verdict;
    if (has_staged) {
      // The staged policies beside the enforced ones (pending.h). Up to the first step that
      // involves a staged policy the pending evaluation runs the same enforced policies in the
      // same order as the enforced one: the steps from there on are the pending ones.
      const PendingGraphs::View& view = pending.For(peer->node);
      const policy::Model& pm = view.model;
      const policy::Endpoint* pep = FindEndpoint(pm, peer->endpoint);
      if (pep != nullptr && TouchesStaged(*pep, ingress, view.staged_ids)) {
        DirectionResult pr = EvaluateDirection(pm, *pep, ingress, packet, Scope::kPending);
        auto first = std::find_if(pr.steps.begin(), pr.steps.end(), [&](const Step& s) {
          return !s.profile && view.staged_ids.count(s.policy) != 0;
        });
        for (auto st = first; st != pr.steps.end(); ++st) {
          st->pending = true;
          d.steps.push_back(std::move(*st));
        }
        d.pending_verdict = pr.verdict;
        any_pending = true;
      }
    }
    const Verdict effective_pending = d.pending_verdict.value_or(d.verdict);
    if (d.verdict == Verdict::kDeny) e.verdict = Verdict::kDeny;
    if (effective_pending == Verdict::kDeny) pending_all = Verdict::kDeny;
    e.directions.push_back(std::move(d));
  }
  if (any_pending) e.pending_verdict = pending_all.value_or(Verdict::kAllow);
  return e;
}

}  // namespace calico::explain
