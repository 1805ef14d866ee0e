// See convert.h. Function names follow libcalico-go/lib/backend/k8s/conversion/conversion.go.
#include "calico/controllers/convert.h"

#include <algorithm>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/net/ip.h"

namespace calico::controllers {
namespace {

using model::Resource;

constexpr std::string_view kOrchestratorTerm = "projectcalico.org/orchestrator == 'k8s'";

const Json* Field(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string StringOf(const Json* v) {
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

// numorstring.Port as JSON: a number for one port, "min:max" for a range, the name otherwise.
Json PortJson(int min, int max) {
  if (min == max) return min;
  return fmt::format("{}:{}", min, max);
}

struct NumericRange {
  int min = 0;
  int max = 0;
};

// A port as Calico writes it, parsed: nullopt for a named port.
std::optional<NumericRange> NumericPort(const Json& p) {
  if (p.is_number_integer()) {
    int v = p.get<int>();
    return NumericRange{v, v};
  }
  if (!p.is_string()) return std::nullopt;
  std::string s = p.get<std::string>();
  auto colon = s.find(':');
  auto parse = [](std::string_view t) -> std::optional<int> {
    if (t.empty() || t.size() > 5) return std::nullopt;
    int v = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return v;
  };
  if (colon == std::string::npos) {
    auto v = parse(s);
    if (!v) return std::nullopt;
    return NumericRange{*v, *v};
  }
  auto lo = parse(std::string_view(s).substr(0, colon));
  auto hi = parse(std::string_view(s).substr(colon + 1));
  if (!lo || !hi) return std::nullopt;
  return NumericRange{*lo, *hi};
}

// numorstring.PortFromString of intstr.String() (+ ":endPort"): errors name the port.
Result<Json> PortFromString(const std::string& text) {
  if (auto range = NumericPort(Json(text))) {
    if (range->min < 0 || range->max > 65535 || range->min > range->max) {
      return InvalidArgument(fmt::format("invalid port {}: port range is not valid", text));
    }
    return PortJson(range->min, range->max);
  }
  if (text.empty() || text.find(':') != std::string::npos) {
    return InvalidArgument(fmt::format("invalid port {}", text));
  }
  return Json(text);
}

// One peer of a NetworkPolicy rule: selector, namespaceSelector, nets, notNets.
struct Peer {
  std::string selector;
  std::string ns_selector;
  std::vector<std::string> nets;
  std::vector<std::string> not_nets;
};

// k8sPeerToCalicoFields. `peer` null = no peer (all sources / destinations).
Peer PeerToCalico(const Json* peer) {
  Peer out;
  if (peer == nullptr) return out;
  if (const Json* block = Field(*peer, "ipBlock")) {
    auto cidr = net::CIDR::Parse(StringOf(Field(*block, "cidr")));
    if (!cidr) return out;  // Validated on write; upstream logs and returns nothing too.
    out.nets.push_back(cidr->Masked().String());
    if (const Json* except = Field(*block, "except"); except != nullptr && except->is_array()) {
      for (const Json& e : *except) {
        auto ex = net::CIDR::Parse(e.is_string() ? e.get<std::string>() : "");
        if (!ex) return out;
        out.not_nets.push_back(ex->Masked().String());
      }
    }
    return out;
  }
  out.selector = K8sSelectorToCalico(Field(*peer, "podSelector"), SelectorType::kPod);
  out.ns_selector =
      K8sSelectorToCalico(Field(*peer, "namespaceSelector"), SelectorType::kNamespace);
  return out;
}

Json EntityJson(const Peer& peer, const Json& ports) {
  Json e = Json::object();
  if (!peer.selector.empty()) e["selector"] = peer.selector;
  if (!peer.ns_selector.empty()) e["namespaceSelector"] = peer.ns_selector;
  if (!peer.nets.empty()) e["nets"] = peer.nets;
  if (!peer.not_nets.empty()) e["notNets"] = peer.not_nets;
  if (!ports.is_null() && !ports.empty()) e["ports"] = ports;
  return e;
}

// protocol -> ports; "" = no protocol (all traffic); a null port list = all ports.
using ProtocolPorts = std::map<std::string, Json>;

// One rule of a converted policy: `action` for `protocol` (empty: any) between `peer` and the
// policy's subject; ingress puts the peer in source and the ports in destination, egress both in
// destination (libcalico-go k8s/conversion/conversion.go k8sRuleToCalico; the admin policies'
// rules alike).
Json PeerRule(const std::string& action, const std::string& protocol, const Peer& peer,
              const Json& ports, bool ingress) {
  Json r = Json::object();
  r["action"] = action;
  if (!protocol.empty()) r["protocol"] = protocol;
  if (ingress) {
    r["source"] = EntityJson(peer, Json());
    r["destination"] = EntityJson(Peer{}, ports);
  } else {
    r["source"] = Json::object();
    r["destination"] = EntityJson(peer, ports);
  }
  return r;
}

void AddPorts(ProtocolPorts& pp, const std::string& protocol, const Json& ports) {
  auto it = pp.find(protocol);
  if (ports.is_null()) {
    pp[protocol] = Json();  // all ports of this protocol
  } else if (it == pp.end()) {
    pp[protocol] = ports;
  } else if (!it->second.is_null()) {
    for (const Json& p : ports) {
      it->second.push_back(p);
    }
  }
}

// k8sRuleToCalico.
Result<Json> NetworkPolicyRuleToCalico(const Json& rule, bool ingress) {
  const char* peers_key = ingress ? "from" : "to";
  std::vector<const Json*> peers;
  if (const Json* list = Field(rule, peers_key); list != nullptr && list->is_array()) {
    for (const Json& p : *list) {
      peers.push_back(&p);
    }
  }
  if (peers.empty()) peers.push_back(nullptr);

  ProtocolPorts protocol_ports;
  const Json* ports = Field(rule, "ports");
  if (ports == nullptr || !ports->is_array() || ports->empty()) {
    protocol_ports[""] = Json();
  } else {
    for (const Json& port : *ports) {
      std::string protocol = StringOf(Field(port, "protocol"));
      if (protocol.empty()) protocol = "TCP";  // NetworkPolicyPort's implicit default.
      const Json* number = Field(port, "port");
      if (number == nullptr) {
        AddPorts(protocol_ports, protocol, Json());
        continue;
      }
      std::string text = number->is_string() ? number->get<std::string>() : number->dump();
      if (const Json* end = Field(port, "endPort")) text += ":" + end->dump();
      auto calico_port = PortFromString(text);
      if (!calico_port) {
        return InvalidArgument("failed to parse k8s port: " + calico_port.error().message());
      }
      AddPorts(protocol_ports, protocol, Json::array({*calico_port}));
    }
  }

  Json rules = Json::array();
  for (const auto& [protocol, port_list] : protocol_ports) {
    Json simplified = port_list.is_null() ? Json() : SimplifyPorts(port_list);
    for (const Json* p : peers) {
      rules.push_back(PeerRule("Allow", protocol, PeerToCalico(p), simplified, ingress));
    }
  }
  return rules;
}

// The admin policies' subject (AdminNetworkPolicySubject): namespaces, or pods.
std::pair<std::string, std::string> SubjectSelectors(const Json& spec) {
  const Json* subject = Field(spec, "subject");
  const Json empty = Json::object();
  if (subject != nullptr) {
    if (const Json* ns = Field(*subject, "namespaces")) {
      return {K8sSelectorToCalico(ns, SelectorType::kNamespace),
              K8sSelectorToCalico(nullptr, SelectorType::kPod)};
    }
    if (const Json* pods = Field(*subject, "pods")) {
      const Json* ns = Field(*pods, "namespaceSelector");
      const Json* pod = Field(*pods, "podSelector");
      return {K8sSelectorToCalico(ns != nullptr ? ns : &empty, SelectorType::kNamespace),
              K8sSelectorToCalico(pod != nullptr ? pod : &empty, SelectorType::kPod)};
    }
  }
  return {K8sSelectorToCalico(&empty, SelectorType::kNamespace),
          K8sSelectorToCalico(&empty, SelectorType::kPod)};
}

// unpackANPPorts / k8sAdminPolicyPortToCalicoFields. A named port (not converted by upstream's
// v1alpha1 converter, which let it match every port) matches the pods' port of that name over TCP
// and UDP.
Result<ProtocolPorts> AdminPorts(const Json* ports) {
  ProtocolPorts out;
  if (ports == nullptr || !ports->is_array() || ports->empty()) {
    out[""] = Json();
    return out;
  }
  for (const Json& port : *ports) {
    if (const Json* n = Field(port, "portNumber")) {
      std::string protocol = StringOf(Field(*n, "protocol"));
      if (protocol.empty()) protocol = "TCP";
      const Json* p = Field(*n, "port");
      if (p == nullptr || !p->is_number_integer()) return InvalidArgument("invalid portNumber");
      AddPorts(out, protocol, Json::array({p->get<int>()}));
    } else if (const Json* r = Field(port, "portRange")) {
      std::string protocol = StringOf(Field(*r, "protocol"));
      if (protocol.empty()) protocol = "TCP";
      const Json* start = Field(*r, "start");
      const Json* end = Field(*r, "end");
      if (start == nullptr || end == nullptr || !start->is_number_integer() ||
          !end->is_number_integer() || start->get<int>() > end->get<int>()) {
        return InvalidArgument("invalid portRange");
      }
      AddPorts(out, protocol, Json::array({PortJson(start->get<int>(), end->get<int>())}));
    } else if (const Json* name = Field(port, "namedPort")) {
      if (!name->is_string() || name->get<std::string>().empty()) {
        return InvalidArgument("invalid namedPort");
      }
      AddPorts(out, "TCP", Json::array({*name}));
      AddPorts(out, "UDP", Json::array({*name}));
    } else {
      // An empty port struct: every port, as upstream.
      out.clear();
      out[""] = Json();
      return out;
    }
  }
  return out;
}

// combinePortsWith{ANP,BANP}{Ingress,Egress}Peers.
Result<Json> AdminRuleToCalico(const Json& rule, bool ingress, bool baseline) {
  std::string action = StringOf(Field(rule, "action"));
  bool action_ok = action == "Allow" || action == "Deny" || (!baseline && action == "Pass");
  if (!action_ok) return InvalidArgument("unsupported admin network policy action " + action);
  ASSIGN_OR_RETURN(ProtocolPorts protocol_ports, AdminPorts(Field(rule, "ports")));
  const Json* peers = Field(rule, ingress ? "from" : "to");
  std::string rule_name = StringOf(Field(rule, "name"));
  Json rules = Json::array();
  for (const auto& [protocol, port_list] : protocol_ports) {
    Json simplified = port_list.is_null() ? Json() : SimplifyPorts(port_list);
    if (peers == nullptr || !peers->is_array()) continue;
    for (const Json& peer : *peers) {
      Peer p;
      bool found = false;
      if (const Json* ns = Field(peer, "namespaces")) {
        p.ns_selector = K8sSelectorToCalico(ns, SelectorType::kNamespace);
        found = true;
      }
      if (const Json* pods = Field(peer, "pods")) {
        const Json empty = Json::object();
        const Json* ns = Field(*pods, "namespaceSelector");
        const Json* pod = Field(*pods, "podSelector");
        p.selector = K8sSelectorToCalico(pod != nullptr ? pod : &empty, SelectorType::kPod);
        p.ns_selector = K8sSelectorToCalico(ns != nullptr ? ns : &empty, SelectorType::kNamespace);
        found = true;
      }
      if (!ingress) {
        if (const Json* nets = Field(peer, "networks"); nets != nullptr && nets->is_array()) {
          for (const Json& n : *nets) {
            auto cidr = net::CIDR::Parse(n.is_string() ? n.get<std::string>() : "");
            if (!cidr) return InvalidArgument("invalid CIDR in ANP rule: " + n.dump());
            p.nets.push_back(cidr->Masked().String());
          }
          found = !p.nets.empty() || found;
        }
      }
      if (!found) {
        return InvalidArgument(std::string("none of supported fields in '") +
                               (ingress ? "From" : "To") + "' is set.");
      }
      Json r = PeerRule(action, protocol, p, simplified, ingress);
      if (!rule_name.empty()) r["metadata"] = {{"annotations", {{"name", rule_name}}}};
      rules.push_back(std::move(r));
    }
  }
  return rules;
}

Result<Converted> AdminToCalico(const Resource& anp, bool baseline) {
  const std::string want = baseline ? "BaselineAdminNetworkPolicy.policy.networking.k8s.io"
                                    : "AdminNetworkPolicy.policy.networking.k8s.io";
  if (anp.kind() != want) return InvalidArgument("not a " + want + ": " + anp.kind());
  if (anp.name().empty()) return InvalidArgument(want + " without a name");
  Converted out;
  const Json& spec = anp.spec();
  Json ingress = Json::array();
  Json egress = Json::array();
  for (bool in : {true, false}) {
    const Json* rules = Field(spec, in ? "ingress" : "egress");
    if (rules == nullptr || !rules->is_array()) continue;
    for (size_t i = 0; i < rules->size(); ++i) {
      const Json& rule = (*rules)[i];
      auto converted = AdminRuleToCalico(rule, in, baseline);
      Json& target = in ? ingress : egress;
      if (!converted) {
        out.dropped_rules.push_back(fmt::format("{} rule {}: {}", in ? "ingress" : "egress", i,
                                                converted.error().message()));
        std::string action = StringOf(Field(rule, "action"));
        // k8sANPHandleFailedRules / k8sBANPHandleFailedRules: fail closed.
        if (action == "Deny" || (!baseline && action == "Pass")) {
          target.push_back(Json{
              {"action", "Deny"}, {"source", Json::object()}, {"destination", Json::object()}});
        }
        continue;
      }
      for (Json& r : *converted) {
        target.push_back(std::move(r));
      }
    }
  }
  auto [ns_selector, selector] = SubjectSelectors(spec);
  Resource gnp("GlobalNetworkPolicy",
               std::string(baseline ? kBaselinePolicyPrefix : kAdminPolicyPrefix) + anp.name());
  Json& s = gnp.spec();
  s["tier"] = std::string(baseline ? kBaselineTier : kAdminTier);
  const Json* priority = Field(spec, "priority");
  if (baseline) {
    s["order"] = 1000;
  } else {
    s["order"] = priority != nullptr && priority->is_number() ? *priority : Json(0);
  }
  if (!ns_selector.empty()) s["namespaceSelector"] = ns_selector;
  s["selector"] = selector;
  // clusterNetPolicyTypes: the admin tiers pass by default, so only directions with rules.
  Json types = Json::array();
  if (!ingress.empty()) {
    s["ingress"] = ingress;
    types.push_back("Ingress");
  }
  if (!egress.empty()) {
    s["egress"] = egress;
    types.push_back("Egress");
  }
  s["types"] = types;
  out.resource = std::move(gnp);
  return out;
}

}  // namespace

std::string K8sSelectorToCalico(const Json* selector, SelectorType type) {
  std::vector<std::string> terms;
  if (type == SelectorType::kPod) terms.emplace_back(kOrchestratorTerm);
  if (selector == nullptr || selector->is_null()) return StrJoin(terms, " && ");
  const Json* labels = Field(*selector, "matchLabels");
  const Json* exprs = Field(*selector, "matchExpressions");
  bool no_labels = labels == nullptr || !labels->is_object() || labels->empty();
  bool no_exprs = exprs == nullptr || !exprs->is_array() || exprs->empty();
  if (type == SelectorType::kNamespace && no_labels && no_exprs) return "all()";
  if (!no_labels) {
    // nlohmann's object iterates in key order, as upstream sorts the keys.
    for (const auto& [k, v] : labels->items()) {
      terms.push_back(fmt::format("{} == '{}'", k, v.is_string() ? v.get<std::string>() : ""));
    }
  }
  if (!no_exprs) {
    for (const Json& e : *exprs) {
      std::string key = StringOf(Field(e, "key"));
      std::string op = StringOf(Field(e, "operator"));
      std::vector<std::string> values;
      if (const Json* vs = Field(e, "values"); vs != nullptr && vs->is_array()) {
        for (const Json& v : *vs) {
          values.push_back(v.is_string() ? v.get<std::string>() : "");
        }
      }
      std::string list = StrJoin(values, "', '");
      if (op == "In") {
        terms.push_back(fmt::format("{} in {{ '{}' }}", key, list));
      } else if (op == "NotIn") {
        terms.push_back(fmt::format("{} not in {{ '{}' }}", key, list));
      } else if (op == "Exists") {
        terms.push_back(fmt::format("has({})", key));
      } else if (op == "DoesNotExist") {
        terms.push_back(fmt::format("! has({})", key));
      }
    }
  }
  return StrJoin(terms, " && ");
}

Json SimplifyPorts(const Json& ports) {
  if (!ports.is_array() || ports.size() <= 1) return ports;
  std::vector<int> numeric;
  Json out = Json::array();
  for (const Json& p : ports) {
    auto range = NumericPort(p);
    if (!range) {
      out.push_back(p);  // Named ports pass through.
      continue;
    }
    for (int i = range->min; i <= range->max; ++i) {
      numeric.push_back(i);
    }
  }
  if (numeric.size() <= 1) return ports;
  std::sort(numeric.begin(), numeric.end());
  size_t i = 0;
  while (i < numeric.size()) {
    int first = numeric[i];
    int last = first;
    ++i;
    while (i < numeric.size() && numeric[i] <= last + 1) {
      last = numeric[i];
      ++i;
    }
    out.push_back(PortJson(first, last));
  }
  return out;
}

Result<Converted> K8sNetworkPolicyToCalico(const Resource& np) {
  if (np.kind() != "NetworkPolicy.networking.k8s.io") {
    return InvalidArgument("not a networking.k8s.io/v1 NetworkPolicy: " + np.kind());
  }
  if (np.name().empty()) return InvalidArgument("NetworkPolicy without a name");
  Converted out;
  const Json& spec = np.spec();
  Json ingress = Json::array();
  Json egress = Json::array();
  for (bool in : {true, false}) {
    const Json* rules = Field(spec, in ? "ingress" : "egress");
    if (rules == nullptr || !rules->is_array()) continue;
    for (size_t i = 0; i < rules->size(); ++i) {
      auto converted = NetworkPolicyRuleToCalico((*rules)[i], in);
      if (!converted) {
        // Dropped, as upstream does ("dropping k8s rule that couldn't be converted").
        out.dropped_rules.push_back(fmt::format("{} rule {}: {}", in ? "ingress" : "egress", i,
                                                converted.error().message()));
        continue;
      }
      Json& target = in ? ingress : egress;
      for (Json& r : *converted) {
        target.push_back(std::move(r));
      }
    }
  }
  bool has_ingress = false;
  bool has_egress = false;
  if (const Json* types = Field(spec, "policyTypes"); types != nullptr && types->is_array()) {
    for (const Json& t : *types) {
      has_ingress = has_ingress || t == "Ingress";
      has_egress = has_egress || t == "Egress";
    }
  }
  Json types = Json::array();
  if (has_ingress) types.push_back("Ingress");
  if (has_egress) types.push_back("Egress");
  // No types: a cluster without the field, where policies were ingress only.
  if (types.empty()) types.push_back("Ingress");

  Resource policy("NetworkPolicy", std::string(kK8sNetworkPolicyPrefix) + np.name(),
                  np.namespace_());
  Json& s = policy.spec();
  s["order"] = 1000;
  const Json empty = Json::object();
  const Json* pod_selector = Field(spec, "podSelector");
  s["selector"] =
      K8sSelectorToCalico(pod_selector != nullptr ? pod_selector : &empty, SelectorType::kPod);
  if (!ingress.empty()) s["ingress"] = ingress;
  if (!egress.empty()) s["egress"] = egress;
  s["types"] = types;
  out.resource = std::move(policy);
  return out;
}

Result<Resource> NamespaceToProfile(const Resource& ns) {
  if (ns.kind() != "Namespace") return InvalidArgument("not a v1 Namespace: " + ns.kind());
  if (ns.name().empty()) return InvalidArgument("Namespace without a name");
  Json labels = Json::object();
  if (const Json* l = Field(ns.metadata(), "labels"); l != nullptr && l->is_object()) {
    for (const auto& [k, v] : l->items()) {
      labels[std::string(kNamespaceLabelPrefix) + k] = v;
    }
  }
  labels[std::string(kNamespaceLabelPrefix) + std::string(kNameLabel)] = ns.name();
  Resource profile("Profile", std::string(kNamespaceProfilePrefix) + ns.name());
  profile.spec() = Json{{"ingress", Json::array({Json{{"action", "Allow"}}})},
                        {"egress", Json::array({Json{{"action", "Allow"}}})},
                        {"labelsToApply", labels}};
  return profile;
}

Result<Converted> AdminNetworkPolicyToCalico(const Resource& anp) {
  return AdminToCalico(anp, false);
}

Result<Converted> BaselineAdminNetworkPolicyToCalico(const Resource& banp) {
  return AdminToCalico(banp, true);
}

}  // namespace calico::controllers
