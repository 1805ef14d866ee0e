// Resources -> the calculation graph's records (libcalico-go syncer update processors), see
// decoding.h.
#include "calico/calc/decoding.h"

#include <algorithm>

#include "calico/calc/policy_conversion.h"
#include "calico/model/v3/endpoint.h"
#include "calico/model/v3/policy.h"
#include "calico/policy/named_ports.h"

namespace calico::calc {
namespace {

constexpr std::string_view kDefaultTier = "default";

// Addresses as host routes (/32, /128): workload ipNetworks and host endpoint expectedIPs.
std::vector<net::CIDR> HostAddresses(const std::vector<std::string>& texts) {
  std::vector<net::CIDR> out;
  for (const std::string& t : texts) {
    auto cidr = net::CIDR::ParseNet(t);
    if (!cidr) continue;
    out.emplace_back(cidr->addr(), cidr->addr().bit_len());
  }
  return out;
}

// Network set nets: host bits allowed and bare addresses (reference 1.8); members are masked.
std::vector<net::CIDR> Networks(const std::vector<std::string>& texts) {
  std::vector<net::CIDR> out;
  for (const std::string& t : texts) {
    if (auto cidr = net::CIDR::ParseNet(t)) out.push_back(cidr->Masked());
  }
  return out;
}

// spec.ports: entries without a name or a valid port number are skipped (libcalico-go passes only
// named ports to Felix). The protocol is 6/17/132 for TCP/UDP/SCTP (any case), a number 1-255 as
// given, else 0 (which no named-port set matches).
template <typename Port>
std::vector<EndpointPort> EndpointPorts(const std::vector<Port>& ports) {
  std::vector<EndpointPort> out;
  for (const Port& p : ports) {
    if (p.name.empty() || p.port < 1 || p.port > 65535) continue;
    EndpointPort port{.name = p.name, .port = static_cast<uint16_t>(p.port)};
    if (p.protocol.is_string) {
      port.protocol = policy::ParseNamedPortProtocol(p.protocol.str).value_or(0);
    } else if (p.protocol.num > 0 && p.protocol.num < 256) {
      port.protocol = static_cast<uint8_t>(p.protocol.num);
    }
    out.push_back(std::move(port));
  }
  return out;
}

std::vector<std::string> UniqueProfiles(const std::vector<std::string>& profiles) {
  std::vector<std::string> out;
  for (const std::string& p : profiles) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

IpSetDefs RuleIpSets(const policy::ParsedRules& rules) {
  IpSetDefs out;
  for (const policy::ParsedRule& rule : rules) {
    policy::RuleIpSets sets = policy::ScanRuleIpSets(rule);
    for (const std::string& text : sets.selectors) {
      if (auto sel = selector::Parse(text)) out.emplace(sel->UniqueId(), IpSetDef{.sel = *sel});
    }
    for (policy::NamedPortSetDef& np : sets.named_ports) {
      out.emplace(std::move(np.id), IpSetDef{.sel = std::move(np.selector),
                                             .named_port = std::move(np.port),
                                             .protocol = np.protocol});
    }
  }
  return out;
}

Result<EndpointRec> DecodeWorkloadEndpointRec(const model::Resource& r, std::string_view node) {
  ASSIGN_OR_RETURN(model::v3::WorkloadEndpoint wep, model::v3::DecodeWorkloadEndpoint(r));
  return WorkloadEndpointRec(std::move(wep), node);
}

EndpointRec WorkloadEndpointRec(model::v3::WorkloadEndpoint&& wep, std::string_view node) {
  EndpointRec ep{.is_workload = true,
                 .ns = std::move(wep.metadata.namespace_),
                 .name = std::move(wep.metadata.name),
                 .local = wep.spec.node == node,
                 .interface_name = std::move(wep.spec.interface_name),
                 .addresses = HostAddresses(wep.spec.ip_networks),
                 .ports = EndpointPorts(wep.spec.ports),
                 .own_labels = std::move(wep.metadata.labels),
                 .profiles = UniqueProfiles(wep.spec.profiles),
                 .allowed_source_prefixes = Networks(wep.spec.allow_spoofed_source_prefixes)};
  if (!ep.ns.empty()) ep.own_labels.emplace(kNamespaceLabel, ep.ns);
  return ep;
}

EndpointRec HostEndpointRec(const model::v3::HostEndpoint& hep, std::string_view node) {
  // A host endpoint of this node is enforced on its interface ("*" = all of them) or, with
  // expectedIPs only, on the interfaces carrying those addresses (policy::ResolveHostEndpoints).
  return EndpointRec{.is_workload = false,
                     .name = hep.metadata.name,
                     .local = hep.spec.node == node,
                     .interface_name = hep.spec.interface_name,
                     .addresses = HostAddresses(hep.spec.expected_ips),
                     .ports = EndpointPorts(hep.spec.ports),
                     .own_labels = hep.metadata.labels,
                     .profiles = UniqueProfiles(hep.spec.profiles)};
}

Result<EndpointRec> DecodeHostEndpointRec(const model::Resource& r, std::string_view node) {
  ASSIGN_OR_RETURN(model::v3::HostEndpoint hep, model::v3::DecodeHostEndpoint(r));
  return HostEndpointRec(hep, node);
}

namespace {

// The record from the fields both kinds share (the host endpoint options, GlobalNetworkPolicy's
// only, are set by the caller).
template <typename Spec>
PolicyRec PolicyRecFrom(std::string kind, model::v3::ObjectMeta&& meta, Spec&& spec,
                        std::string namespace_selector) {
  PolicyRec p;
  p.kind = std::move(kind);
  p.name = std::move(meta.name);
  p.ns = std::move(meta.namespace_);
  p.tier = std::move(spec.tier);
  p.order = spec.order;
  std::vector<model::v3::Rule> ingress = std::move(spec.ingress);
  std::vector<model::v3::Rule> egress = std::move(spec.egress);
  p.id = p.ns.empty() ? p.name : p.ns + "/" + p.name;
  if (p.tier.empty()) p.tier = std::string(kDefaultTier);
  if (spec.types.empty()) {
    // api/pkg/defaults: no egress rules -> [Ingress]; egress only -> [Egress]; both -> both.
    p.applies_ingress = !ingress.empty() || egress.empty();
    p.applies_egress = !egress.empty();
  } else {
    p.applies_ingress = Contains(spec.types, "Ingress");
    p.applies_egress = Contains(spec.types, "Egress");
  }
  // Rules are scoped to the policy's namespace and parsed once, here.
  if (p.applies_ingress)
    p.ingress = policy::ParsedRules::Parse(ScopeRules(std::move(ingress), p.ns));
  if (p.applies_egress) p.egress = policy::ParsedRules::Parse(ScopeRules(std::move(egress), p.ns));
  p.rule_sets = RuleIpSets(p.ingress);
  p.rule_sets.merge(RuleIpSets(p.egress));
  p.sort_name = p.name + "/" + p.ns + "/" + p.kind;
  p.sel = PolicyEndpointSelector(spec.selector, namespace_selector, spec.service_account_selector,
                                 p.ns);
  return p;
}

}  // namespace

PolicyRec NetworkPolicyRec(model::v3::NetworkPolicy&& np) {
  return PolicyRecFrom("NetworkPolicy", std::move(np.metadata), std::move(np.spec), "");
}

PolicyRec GlobalNetworkPolicyRec(model::v3::GlobalNetworkPolicy&& gnp) {
  std::string namespace_selector = std::move(gnp.spec.namespace_selector);
  const bool apply_on_forward = gnp.spec.apply_on_forward;
  const bool pre_dnat = gnp.spec.pre_dnat;
  const bool do_not_track = gnp.spec.do_not_track;
  gnp.metadata.namespace_.clear();  // a global policy has no namespace
  PolicyRec p = PolicyRecFrom("GlobalNetworkPolicy", std::move(gnp.metadata), std::move(gnp.spec),
                              std::move(namespace_selector));
  // Untracked and pre-DNAT policies only ever apply to host endpoints (reference 3.2).
  p.apply_on_forward = apply_on_forward;
  p.pre_dnat = pre_dnat;
  p.do_not_track = do_not_track;
  return p;
}

Result<PolicyRec> DecodePolicyRec(const model::Resource& r) {
  const model::KindInfo* kind = model::LookupKind(r.kind());
  if (kind != nullptr && kind->kind == "NetworkPolicy") {
    ASSIGN_OR_RETURN(model::v3::NetworkPolicy np, model::v3::DecodeNetworkPolicy(r));
    return NetworkPolicyRec(std::move(np));
  }
  ASSIGN_OR_RETURN(model::v3::GlobalNetworkPolicy gnp, model::v3::DecodeGlobalNetworkPolicy(r));
  return GlobalNetworkPolicyRec(std::move(gnp));
}

Result<ProfileRec> DecodeProfileRec(const model::Resource& r) {
  ASSIGN_OR_RETURN(model::v3::Profile profile, model::v3::DecodeProfile(r));
  ProfileRec rec{
      .labels_to_apply = std::move(profile.spec.labels_to_apply),
      .ingress = policy::ParsedRules::Parse(ScopeRules(std::move(profile.spec.ingress), "")),
      .egress = policy::ParsedRules::Parse(ScopeRules(std::move(profile.spec.egress), ""))};
  rec.rule_sets = RuleIpSets(rec.ingress);
  rec.rule_sets.merge(RuleIpSets(rec.egress));
  return rec;
}

Result<TierRec> DecodeTierRec(const model::Resource& r) {
  ASSIGN_OR_RETURN(model::v3::Tier tier, model::v3::DecodeTier(r));
  return TierRec{.order = tier.spec.order,
                 .default_deny = tier.spec.default_action.value_or("") != "Pass"};
}

Result<NetworkSetRec> DecodeNetworkSetRec(const model::Resource& r) {
  NetworkSetRec rec;
  const model::KindInfo* kind = model::LookupKind(r.kind());
  if (kind != nullptr && kind->kind == "NetworkSet") {
    ASSIGN_OR_RETURN(model::v3::NetworkSet set, model::v3::DecodeNetworkSet(r));
    rec.labels = std::move(set.metadata.labels);
    rec.labels[std::string(kNamespaceLabel)] = set.metadata.namespace_;
    rec.members = Networks(set.spec.nets);
  } else {
    ASSIGN_OR_RETURN(model::v3::GlobalNetworkSet set, model::v3::DecodeGlobalNetworkSet(r));
    rec.labels = std::move(set.metadata.labels);
    rec.members = Networks(set.spec.nets);
  }
  return rec;
}

}  // namespace calico::calc
