// The kind registry of projectcalico.org/v3 (api/pkg/apis/projectcalico/v3 and calicoctl's
// resourcemgr aliases): Kind, etcd plural, scope, and the names calicoctl accepts.
#include <algorithm>

#include "calico/base/strings.h"
#include "calico/model/resource.h"

namespace calico::model {

const std::vector<KindInfo>& AllKinds() {
  static const std::vector<KindInfo>* kinds = new std::vector<KindInfo>{
      {"BGPConfiguration",
       "bgpconfigurations",
       false,
       {"bgpconfiguration", "bgpconfigurations", "bgpconfig", "bgpconfigs"},
       true},
      {"BGPFilter",
       "bgpfilters",
       false,
       {"bgpfilter", "bgpfilters", "bgpf", "bgpfs", "bf", "bfs"},
       true},
      {"BGPPeer", "bgppeers", false, {"bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps"}, true},
      {"CalicoNodeStatus",
       "caliconodestatuses",
       false,
       {"caliconodestatus", "caliconodestatuses", "nodestatus", "nodestatuses"},
       true},
      {"ClusterInformation",
       "clusterinformations",
       false,
       {"clusterinformation", "clusterinformations", "clusterinfo", "clusterinfos"},
       true},
      {"FelixConfiguration",
       "felixconfigurations",
       false,
       {"felixconfiguration", "felixconfigurations", "felixconfig", "felixconfigs"},
       true},
      {"GlobalNetworkPolicy",
       "globalnetworkpolicies",
       false,
       {"globalnetworkpolicy", "globalnetworkpolicies", "gnp", "gnps"},
       true},
      {"GlobalNetworkSet",
       "globalnetworksets",
       false,
       {"globalnetworkset", "globalnetworksets", "gnetset", "gnetsets"},
       true},
      {"HostEndpoint",
       "hostendpoints",
       false,
       {"hostendpoint", "hostendpoints", "hep", "heps"},
       true},
      {"IPAMConfiguration",
       "ipamconfigurations",
       false,
       {"ipamconfiguration", "ipamconfigurations", "ipamconfig", "ipamconfigs"},
       true},
      {"IPPool", "ippools", false, {"ippool", "ippools", "ipp", "ipps", "pool", "pools"}, true},
      {"IPReservation",
       "ipreservations",
       false,
       {"ipreservation", "ipreservations", "reservation", "reservations"},
       true},
      {"KubeControllersConfiguration",
       "kubecontrollersconfigurations",
       false,
       {"kubecontrollersconfiguration", "kubecontrollersconfigurations", "kubecontrollersconfig",
        "kubecontrollersconfigs"},
       true},
      {"NetworkPolicy",
       "networkpolicies",
       true,
       {"networkpolicy", "networkpolicies", "policy", "np", "nps", "policies", "pol", "pols"},
       true},
      {"NetworkSet", "networksets", true, {"networkset", "networksets", "netset", "netsets"}, true},
      {"Node", "nodes", false, {"node", "nodes", "no", "nos"}, false},
      {"Profile", "profiles", false, {"profile", "profiles", "pro", "pros"}, false},
      {"StagedGlobalNetworkPolicy",
       "stagedglobalnetworkpolicies",
       false,
       {"stagedglobalnetworkpolicy", "stagedglobalnetworkpolicies", "sgnp", "sgnps"},
       true},
      {"StagedKubernetesNetworkPolicy",
       "stagedkubernetesnetworkpolicies",
       true,
       {"stagedkubernetesnetworkpolicy", "stagedkubernetesnetworkpolicies",
        "stagedkubernetespolicy", "stagedkubernetespolicies", "sknp", "sknps", "skpol", "skpols"},
       true},
      {"StagedNetworkPolicy",
       "stagednetworkpolicies",
       true,
       {"stagednetworkpolicy", "stagednetworkpolicies", "stagedpolicy", "stagedpolicies", "snp",
        "snps", "spol", "spols"},
       true},
      {"Tier", "tiers", false, {"tier", "tiers"}, true},
      {"WorkloadEndpoint",
       "workloadendpoints",
       true,
       {"workloadendpoint", "workloadendpoints", "wep", "weps"},
       false},
  };
  return *kinds;
}

// The Kubernetes kinds calico-controllers converts (k8s.io/api networking/v1 and core/v1,
// sigs.k8s.io/network-policy-api v1alpha1), stored under kKubernetesKeyRoot + apiVersion.
const std::vector<KindInfo>& KubernetesKinds() {
  auto root = [](std::string_view api_version) {
    return std::string(kKubernetesKeyRoot) + std::string(api_version) + "/";
  };
  static const std::vector<KindInfo>* kinds = new std::vector<KindInfo>{
      {"NetworkPolicy.networking.k8s.io",
       "networkpolicies",
       true,
       {"networkpolicies.networking.k8s.io", "networkpolicy.networking.k8s.io", "k8snetworkpolicy",
        "k8snetworkpolicies", "knp", "knps"},
       false,
       "networking.k8s.io/v1",
       "NetworkPolicy",
       root("networking.k8s.io/v1")},
      {"Namespace",
       "namespaces",
       false,
       {"namespace", "namespaces", "ns"},
       false,
       "v1",
       "Namespace",
       root("v1")},
      {"AdminNetworkPolicy.policy.networking.k8s.io",
       "adminnetworkpolicies",
       false,
       {"adminnetworkpolicies.policy.networking.k8s.io", "adminnetworkpolicy",
        "adminnetworkpolicies", "anp", "anps"},
       false,
       "policy.networking.k8s.io/v1alpha1",
       "AdminNetworkPolicy",
       root("policy.networking.k8s.io/v1alpha1")},
      {"BaselineAdminNetworkPolicy.policy.networking.k8s.io",
       "baselineadminnetworkpolicies",
       false,
       {"baselineadminnetworkpolicies.policy.networking.k8s.io", "baselineadminnetworkpolicy",
        "baselineadminnetworkpolicies", "banp", "banps"},
       false,
       "policy.networking.k8s.io/v1alpha1",
       "BaselineAdminNetworkPolicy",
       root("policy.networking.k8s.io/v1alpha1")},
  };
  return *kinds;
}

const KindInfo* LookupKind(std::string_view name) {
  // The agent looks up the kind of every resource it reads: the canonical spelling needs no
  // lower-casing.
  for (const KindInfo& k : AllKinds()) {
    if (name == k.kind) return &k;
  }
  for (const KindInfo& k : KubernetesKinds()) {
    if (name == k.kind) return &k;
  }
  std::string lower = AsciiLower(name);
  for (const auto* kinds : {&AllKinds(), &KubernetesKinds()}) {
    for (const KindInfo& k : *kinds) {
      std::string kind_lower = AsciiLower(k.kind);
      if (lower == kind_lower || lower == kind_lower + "list") return &k;
      if (std::find(k.aliases.begin(), k.aliases.end(), lower) != k.aliases.end()) return &k;
    }
  }
  return nullptr;
}

const KindInfo* LookupKindByApi(std::string_view api_version, std::string_view doc_kind,
                                bool* is_list) {
  for (const auto* kinds : {&AllKinds(), &KubernetesKinds()}) {
    for (const KindInfo& k : *kinds) {
      if (k.api_version != api_version) continue;
      const std::string& dk = k.document_kind();
      if (doc_kind == dk) {
        if (is_list != nullptr) *is_list = false;
        return &k;
      }
      if (doc_kind.size() == dk.size() + 4 && doc_kind.substr(0, dk.size()) == dk &&
          doc_kind.substr(dk.size()) == "List") {
        if (is_list != nullptr) *is_list = true;
        return &k;
      }
    }
  }
  return nullptr;
}

}  // namespace calico::model
