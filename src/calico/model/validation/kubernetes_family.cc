// The Kubernetes kinds calico-controllers converts, defaulted and validated as the Kubernetes API
// server would before they reach a controller:
//   networking.k8s.io/v1 NetworkPolicy: k8s.io/kubernetes pkg/apis/networking/v1/defaults.go
//     (SetDefaults_NetworkPolicySpec: policyTypes, port protocol TCP) and
//     pkg/apis/networking/validation/validation.go (ValidateNetworkPolicySpec: peers, ports,
//     endPort, ipBlock, policyTypes) with apimachinery's ValidateLabelSelector.
//   v1 Namespace: the API server's kubernetes.io/metadata.name label (NamespaceDefaultLabelName),
//     spec.finalizers, status.phase.
//   policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy / BaselineAdminNetworkPolicy: the CRD
//     schema and CEL rules of sigs.k8s.io/network-policy-api v0.1.x (priority 0-1000, one subject,
//     actions, at most 100 rules/peers/ports, portRange start < end, BANP named "default").
#include <algorithm>

#include "calico/model/validation/common.h"
#include "calico/model/validation/families.h"
#include "calico/model/validation/meta.h"
#include "calico/net/ip.h"

namespace calico::model::validation {
namespace {

bool Has(const Json& obj, std::string_view key) {
  return obj.is_object() && obj.contains(key) && !obj[std::string(key)].is_null();
}

// Calls `each` with every element of `list` that is an object, and its path; "<list_msg>" on
// `path` when `list` is not a list, "must be an object" on an element's path when it is not one.
template <typename Fn>
void EachObject(const Json& list, const FieldPath& path, std::string_view list_msg,
                FieldErrors& errors, Fn&& each) {
  if (!list.is_array()) {
    errors.Add(path, ValueText(list), list_msg);
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& e = list[i];
    FieldPath p = path.Index(i);
    if (!e.is_object()) {
      errors.Add(p, ValueText(e), "must be an object");
      continue;
    }
    each(e, p);
  }
}

// apimachinery ValidateLabelSelector (with the strict decoder's unknown-field check).
void CheckLabelSelector(const Json& sel, const FieldPath& path, FieldErrors& errors) {
  if (sel.is_null()) return;
  if (!sel.is_object()) {
    errors.Add(path, ValueText(sel), "must be a label selector object");
    return;
  }
  CheckKnownFields(sel, path, {"matchLabels", "matchExpressions"}, errors);
  if (Has(sel, "matchLabels"))
    ValidateLabels(sel["matchLabels"], path.Child("matchLabels"), errors);
  if (!Has(sel, "matchExpressions")) return;
  EachObject(sel["matchExpressions"], path.Child("matchExpressions"), "must be a list", errors,
             [&](const Json& e, const FieldPath& p) {
               CheckKnownFields(e, p, {"key", "operator", "values"}, errors);
               std::string key = e.value("key", Json("")).is_string() ? e.value("key", "") : "";
               if (!IsQualifiedName(key)) {
                 errors.Add(p.Child("key"), key, "must be a valid label key (qualified name)");
               }
               std::string op =
                   e.value("operator", Json("")).is_string() ? e.value("operator", "") : "";
               Json values = e.value("values", Json::array());
               if (!values.is_array() && !values.is_null()) {
                 errors.Add(p.Child("values"), ValueText(values), "must be a list of strings");
                 return;
               }
               if (values.is_null()) values = Json::array();
               if (op == "In" || op == "NotIn") {
                 if (values.empty()) {
                   errors.Add(p.Child("values"), "",
                              "must be specified when `operator` is 'In' or 'NotIn'");
                 }
               } else if (op == "Exists" || op == "DoesNotExist") {
                 if (!values.empty()) {
                   errors.Add(p.Child("values"), ValueText(values),
                              "may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
                 }
               } else {
                 errors.Add(p.Child("operator"), op, "not a valid selector operator");
               }
               for (size_t j = 0; j < values.size(); ++j) {
                 if (!values[j].is_string() || !IsValidLabelValue(values[j].get<std::string>())) {
                   errors.Add(p.Child("values").Index(j), ValueText(values[j]),
                              "must be a valid label value");
                 }
               }
             });
}

// A CIDR as Kubernetes' ValidateCIDR accepts it (host bits allowed); returns it parsed.
std::optional<net::CIDR> CheckCidr(const Json& v, const FieldPath& path, FieldErrors& errors) {
  if (!v.is_string()) {
    errors.Add(path, ValueText(v), "must be a valid CIDR (e.g. 10.0.0.0/8)");
    return std::nullopt;
  }
  std::string text = v.get<std::string>();
  auto cidr = text.find('/') == std::string::npos ? std::nullopt : net::CIDR::Parse(text);
  if (!cidr) {
    errors.Add(path, text, "must be a valid CIDR (e.g. 10.0.0.0/8)");
    return std::nullopt;
  }
  return cidr;
}

void CheckNetworkPolicyPort(const Json& port, const FieldPath& p, FieldErrors& errors) {
  if (!port.is_object()) {
    errors.Add(p, ValueText(port), "must be an object");
    return;
  }
  CheckKnownFields(port, p, {"protocol", "port", "endPort"}, errors);
  if (Has(port, "protocol")) {
    std::string r = CheckEnum(port["protocol"], {"TCP", "UDP", "SCTP"});
    if (!r.empty()) errors.Add(p.Child("protocol"), ValueText(port["protocol"]), r);
  }
  bool numeric = false;
  long long start = 0;
  if (Has(port, "port")) {
    const Json& v = port["port"];
    if (v.is_number_integer()) {
      start = v.get<long long>();
      numeric = true;
      if (start < 1 || start > 65535) {
        errors.Add(p.Child("port"), ValueText(v), "must be between 1 and 65535, inclusive");
      }
    } else if (v.is_string()) {
      if (!IsValidPortName(v.get<std::string>())) {
        errors.Add(p.Child("port"), v.get<std::string>(),
                   "must be a valid port name (IANA_SVC_NAME: at most 15 characters of a-z, 0-9 "
                   "and '-', at least one letter)");
      }
    } else {
      errors.Add(p.Child("port"), ValueText(v), "must be a port number or a port name");
    }
  }
  if (Has(port, "endPort")) {
    const Json& e = port["endPort"];
    if (!Has(port, "port")) {
      errors.Add(p.Child("endPort"), ValueText(e), "may not be specified when `port` is not");
    } else if (!numeric) {
      errors.Add(p.Child("endPort"), ValueText(e),
                 "may not be specified when `port` is non-numeric");
    } else if (!e.is_number_integer() || e.get<long long>() < start || e.get<long long>() > 65535) {
      errors.Add(p.Child("endPort"), ValueText(e),
                 "must be greater than or equal to `port` and at most 65535");
    }
  }
}

void CheckNetworkPolicyPeer(const Json& peer, const FieldPath& p, FieldErrors& errors) {
  if (!peer.is_object()) {
    errors.Add(p, ValueText(peer), "must be an object");
    return;
  }
  CheckKnownFields(peer, p, {"podSelector", "namespaceSelector", "ipBlock"}, errors);
  int set = 0;
  if (Has(peer, "podSelector")) {
    ++set;
    CheckLabelSelector(peer["podSelector"], p.Child("podSelector"), errors);
  }
  if (Has(peer, "namespaceSelector")) {
    ++set;
    CheckLabelSelector(peer["namespaceSelector"], p.Child("namespaceSelector"), errors);
  }
  if (Has(peer, "ipBlock")) {
    if (set > 0) {
      errors.Add(p, "", "may not specify more than 1 peer (ipBlock with a selector)");
    }
    ++set;
    const Json& block = peer["ipBlock"];
    FieldPath bp = p.Child("ipBlock");
    if (!block.is_object()) {
      errors.Add(bp, ValueText(block), "must be an object");
      return;
    }
    CheckKnownFields(block, bp, {"cidr", "except"}, errors);
    if (!Has(block, "cidr")) {
      errors.Add(bp.Child("cidr"), "", "Required value");
      return;
    }
    auto cidr = CheckCidr(block["cidr"], bp.Child("cidr"), errors);
    if (Has(block, "except")) {
      const Json& except = block["except"];
      if (!except.is_array()) {
        errors.Add(bp.Child("except"), ValueText(except), "must be a list of CIDRs");
        return;
      }
      for (size_t i = 0; i < except.size(); ++i) {
        auto ex = CheckCidr(except[i], bp.Child("except").Index(i), errors);
        if (!cidr || !ex) continue;
        // "must be a strict subset of `cidr`": same family, longer prefix, inside.
        if (ex->family() != cidr->family() || ex->prefix_len() <= cidr->prefix_len() ||
            !cidr->Masked().Contains(ex->addr())) {
          errors.Add(bp.Child("except").Index(i), ValueText(except[i]),
                     "must be a strict subset of `cidr`");
        }
      }
    }
  }
  if (set == 0) errors.Add(p, "", "must specify a peer");
}

void CheckNetworkPolicyRules(const Json& rules, const FieldPath& path, const char* peers_key,
                             FieldErrors& errors) {
  if (rules.is_null()) return;
  EachObject(rules, path, "must be a list of rules", errors,
             [&](const Json& rule, const FieldPath& p) {
               CheckKnownFields(rule, p, {"ports", peers_key}, errors);
               if (Has(rule, "ports")) {
                 const Json& ports = rule["ports"];
                 if (!ports.is_array()) {
                   errors.Add(p.Child("ports"), ValueText(ports), "must be a list of ports");
                 } else {
                   for (size_t j = 0; j < ports.size(); ++j) {
                     CheckNetworkPolicyPort(ports[j], p.Child("ports").Index(j), errors);
                   }
                 }
               }
               if (Has(rule, peers_key)) {
                 const Json& peers = rule[peers_key];
                 if (!peers.is_array()) {
                   errors.Add(p.Child(peers_key), ValueText(peers), "must be a list of peers");
                 } else {
                   for (size_t j = 0; j < peers.size(); ++j) {
                     CheckNetworkPolicyPeer(peers[j], p.Child(peers_key).Index(j), errors);
                   }
                 }
               }
             });
}

void ValidateNetworkPolicy(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  CheckKnownFields(spec, sp, {"podSelector", "ingress", "egress", "policyTypes"}, errors);
  if (Has(spec, "podSelector")) {
    CheckLabelSelector(spec["podSelector"], sp.Child("podSelector"), errors);
  }
  CheckNetworkPolicyRules(spec.value("ingress", Json()), sp.Child("ingress"), "from", errors);
  CheckNetworkPolicyRules(spec.value("egress", Json()), sp.Child("egress"), "to", errors);
  if (Has(spec, "policyTypes")) {
    const Json& types = spec["policyTypes"];
    if (!types.is_array()) {
      errors.Add(sp.Child("policyTypes"), ValueText(types), "must be a list");
    } else {
      if (types.size() > 2) {
        errors.Add(sp.Child("policyTypes"), ValueText(types), "may not have more than 2 values");
      }
      for (size_t i = 0; i < types.size(); ++i) {
        std::string reason = CheckEnum(types[i], {"Ingress", "Egress"});
        if (!reason.empty()) {
          errors.Add(sp.Child("policyTypes").Index(i), ValueText(types[i]),
                     "supported values: \"Ingress\", \"Egress\"");
        }
      }
    }
  }
}

void ValidateNamespace(const Resource& r, FieldErrors& errors) {
  const Json& spec = r.spec();
  CheckKnownFields(spec, FieldPath("spec"), {"finalizers"}, errors);
  if (Has(spec, "finalizers")) {
    std::string reason = CheckStringList(spec["finalizers"]);
    if (!reason.empty()) errors.Add("spec.finalizers", ValueText(spec["finalizers"]), reason);
  }
  if (Has(r.doc(), "status")) {
    const Json& status = r.doc()["status"];
    CheckKnownFields(status, FieldPath("status"), {"phase", "conditions"}, errors);
    if (Has(status, "phase")) {
      std::string reason = CheckEnum(status["phase"], {"Active", "Terminating"});
      if (!reason.empty()) errors.Add("status.phase", ValueText(status["phase"]), reason);
    }
  }
}

// AdminNetworkPolicySubject / peers: exactly one of `namespaces` or `pods` (egress: also `nodes`
// and `networks`).
void CheckAdminPeer(const Json& peer, const FieldPath& p, bool egress, FieldErrors& errors) {
  if (!peer.is_object()) {
    errors.Add(p, ValueText(peer), "must be an object");
    return;
  }
  if (egress) {
    CheckKnownFields(peer, p, {"namespaces", "pods", "nodes", "networks"}, errors);
  } else {
    CheckKnownFields(peer, p, {"namespaces", "pods"}, errors);
  }
  int set = 0;
  if (Has(peer, "namespaces")) {
    ++set;
    CheckLabelSelector(peer["namespaces"], p.Child("namespaces"), errors);
  }
  if (Has(peer, "pods")) {
    ++set;
    const Json& pods = peer["pods"];
    FieldPath pp = p.Child("pods");
    CheckKnownFields(pods, pp, {"namespaceSelector", "podSelector"}, errors);
    for (const char* key : {"namespaceSelector", "podSelector"}) {
      if (!Has(pods, key)) {
        errors.Add(pp.Child(key), "", "Required value");
      } else {
        CheckLabelSelector(pods[key], pp.Child(key), errors);
      }
    }
  }
  if (egress && Has(peer, "nodes")) {
    ++set;
    CheckLabelSelector(peer["nodes"], p.Child("nodes"), errors);
  }
  if (egress && Has(peer, "networks")) {
    ++set;
    const Json& nets = peer["networks"];
    if (!nets.is_array() || nets.empty() || nets.size() > 25) {
      errors.Add(p.Child("networks"), ValueText(nets), "must be a list of 1 to 25 CIDRs");
    } else {
      for (size_t i = 0; i < nets.size(); ++i) {
        CheckCidr(nets[i], p.Child("networks").Index(i), errors);
      }
    }
  }
  if (set != 1) {
    errors.Add(p, "",
               egress ? "exactly one of namespaces, pods, nodes or networks must be set"
                      : "exactly one of namespaces or pods must be set");
  }
}

void CheckAdminPort(const Json& port, const FieldPath& p, FieldErrors& errors) {
  if (!port.is_object()) {
    errors.Add(p, ValueText(port), "must be an object");
    return;
  }
  CheckKnownFields(port, p, {"portNumber", "namedPort", "portRange"}, errors);
  int set = 0;
  auto protocol = [&](const Json& obj, const FieldPath& pp) {
    if (!Has(obj, "protocol")) return;
    std::string reason = CheckEnum(obj["protocol"], {"TCP", "UDP", "SCTP"});
    if (!reason.empty()) errors.Add(pp.Child("protocol"), ValueText(obj["protocol"]), reason);
  };
  if (Has(port, "portNumber")) {
    ++set;
    const Json& n = port["portNumber"];
    FieldPath np = p.Child("portNumber");
    CheckKnownFields(n, np, {"protocol", "port"}, errors);
    protocol(n, np);
    std::string reason = CheckInt(n.value("port", Json()), 1, 65535);
    if (!reason.empty()) errors.Add(np.Child("port"), ValueText(n.value("port", Json())), reason);
  }
  if (Has(port, "namedPort")) {
    ++set;
    const Json& n = port["namedPort"];
    if (!n.is_string() || !IsValidPortName(n.get<std::string>())) {
      errors.Add(p.Child("namedPort"), ValueText(n), "must be a valid port name");
    }
  }
  if (Has(port, "portRange")) {
    ++set;
    const Json& range = port["portRange"];
    FieldPath rp = p.Child("portRange");
    CheckKnownFields(range, rp, {"protocol", "start", "end"}, errors);
    protocol(range, rp);
    std::string rs = CheckInt(range.value("start", Json()), 1, 65535);
    std::string re = CheckInt(range.value("end", Json()), 1, 65535);
    if (!rs.empty()) errors.Add(rp.Child("start"), ValueText(range.value("start", Json())), rs);
    if (!re.empty()) errors.Add(rp.Child("end"), ValueText(range.value("end", Json())), re);
    if (rs.empty() && re.empty() &&
        range["start"].get<long long>() >= range["end"].get<long long>()) {
      errors.Add(rp, "", "Start port must be less than End port");
    }
  }
  if (set != 1) errors.Add(p, "", "exactly one of portNumber, namedPort or portRange must be set");
}

void CheckAdminRules(const Json& rules, const FieldPath& path, bool egress, bool baseline,
                     FieldErrors& errors) {
  if (rules.is_null()) return;
  if (rules.is_array() && rules.size() > 100) errors.Add(path, "", "must have at most 100 items");
  const char* peers_key = egress ? "to" : "from";
  EachObject(
      rules, path, "must be a list of rules", errors, [&](const Json& rule, const FieldPath& p) {
        CheckKnownFields(rule, p, {"name", "action", "ports", peers_key}, errors);
        if (Has(rule, "name")) {
          const Json& n = rule["name"];
          if (!n.is_string() || n.get<std::string>().size() > 100) {
            errors.Add(p.Child("name"), ValueText(n), "must be a string of at most 100 characters");
          }
        }
        std::string reason =
            baseline ? CheckEnum(rule.value("action", Json()), {"Allow", "Deny"})
                     : CheckEnum(rule.value("action", Json()), {"Allow", "Deny", "Pass"});
        if (!reason.empty()) {
          errors.Add(p.Child("action"), ValueText(rule.value("action", Json())), reason);
        }
        const Json peers = rule.value(peers_key, Json());
        if (!peers.is_array() || peers.empty() || peers.size() > 100) {
          errors.Add(p.Child(peers_key), ValueText(peers), "must be a list of 1 to 100 peers");
        } else {
          for (size_t j = 0; j < peers.size(); ++j) {
            CheckAdminPeer(peers[j], p.Child(peers_key).Index(j), egress, errors);
          }
        }
        if (Has(rule, "ports")) {
          const Json& ports = rule["ports"];
          if (!ports.is_array() || ports.empty() || ports.size() > 100) {
            errors.Add(p.Child("ports"), ValueText(ports), "must be a list of 1 to 100 ports");
          } else {
            for (size_t j = 0; j < ports.size(); ++j) {
              CheckAdminPort(ports[j], p.Child("ports").Index(j), errors);
            }
          }
        }
      });
}

void ValidateAdminNetworkPolicy(const Resource& r, bool baseline, FieldErrors& errors) {
  const Json& spec = r.spec();
  FieldPath sp("spec");
  if (baseline) {
    CheckKnownFields(spec, sp, {"subject", "ingress", "egress"}, errors);
  } else {
    CheckKnownFields(spec, sp, {"priority", "subject", "ingress", "egress"}, errors);
    std::string reason = CheckInt(spec.value("priority", Json()), 0, 1000);
    if (!reason.empty()) {
      errors.Add(sp.Child("priority"), ValueText(spec.value("priority", Json())),
                 Has(spec, "priority") ? reason : "Required value");
    }
  }
  if (!Has(spec, "subject")) {
    errors.Add(sp.Child("subject"), "", "Required value");
  } else {
    CheckAdminPeer(spec["subject"], sp.Child("subject"), false, errors);
  }
  CheckAdminRules(spec.value("ingress", Json()), sp.Child("ingress"), false, baseline, errors);
  CheckAdminRules(spec.value("egress", Json()), sp.Child("egress"), true, baseline, errors);
}

}  // namespace

bool DefaultKubernetesFamily(Resource& r) {
  const std::string kind = r.kind();
  if (kind == "Namespace") {
    // The API server labels every namespace with its name (NamespaceDefaultLabelName, GA in
    // Kubernetes 1.22), whatever the user wrote there.
    if (!r.name().empty()) {
      Json& labels = r.metadata()["labels"];
      if (!labels.is_object()) labels = Json::object();
      labels["kubernetes.io/metadata.name"] = r.name();
    }
    return true;
  }
  if (kind == "NetworkPolicy.networking.k8s.io") {
    Json& spec = r.spec();
    // SetDefaults_NetworkPolicyPort: protocol TCP.
    for (const char* dir : {"ingress", "egress"}) {
      if (!spec.contains(dir) || !spec[dir].is_array()) continue;
      for (Json& rule : spec[dir]) {
        if (!rule.is_object() || !rule.contains("ports") || !rule["ports"].is_array()) continue;
        for (Json& port : rule["ports"]) {
          if (port.is_object() && (!port.contains("protocol") || port["protocol"].is_null())) {
            port["protocol"] = "TCP";
          }
        }
      }
    }
    // SetDefaults_NetworkPolicySpec: no policyTypes = Ingress, plus Egress when there are egress
    // rules.
    if (!spec.contains("policyTypes") || spec["policyTypes"].is_null() ||
        (spec["policyTypes"].is_array() && spec["policyTypes"].empty())) {
      Json types = Json::array({"Ingress"});
      if (spec.contains("egress") && spec["egress"].is_array() && !spec["egress"].empty()) {
        types.push_back("Egress");
      }
      spec["policyTypes"] = types;
    }
    if (!spec.contains("podSelector") || spec["podSelector"].is_null()) {
      spec["podSelector"] = Json::object();
    }
    return true;
  }
  return kind == "AdminNetworkPolicy.policy.networking.k8s.io" ||
         kind == "BaselineAdminNetworkPolicy.policy.networking.k8s.io";
}

bool ValidateKubernetesFamily(const Resource& r, FieldErrors& errors) {
  const std::string kind = r.kind();
  if (kind == "NetworkPolicy.networking.k8s.io") {
    ValidateNetworkPolicy(r, errors);
  } else if (kind == "Namespace") {
    ValidateNamespace(r, errors);
  } else if (kind == "AdminNetworkPolicy.policy.networking.k8s.io") {
    ValidateAdminNetworkPolicy(r, false, errors);
  } else if (kind == "BaselineAdminNetworkPolicy.policy.networking.k8s.io") {
    if (r.name() != "default") {
      errors.Add("metadata.name", r.name(),
                 "Only one baseline admin network policy with metadata.name=\"default\" can be "
                 "created in the cluster");
    }
    ValidateAdminNetworkPolicy(r, true, errors);
  } else {
    return false;
  }
  return true;
}

}  // namespace calico::model::validation
