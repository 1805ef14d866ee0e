// model::Resource: one projectcalico.org/v3 resource, held as the JSON document Calico writes
// (apiVersion, kind, metadata, spec[, status]). Typed views for the consumers (IPAM, agent, BGP)
// are parsed from a validated Resource by the library that needs them.
//
// Kind registry: every kind of reference Part 1.0 with its plural (etcd key segment), scope and the
// calicoctl names it answers to; and the Kubernetes kinds calico-controllers converts
// (networking.k8s.io/v1 NetworkPolicy, v1 Namespace, policy.networking.k8s.io/v1alpha1
// AdminNetworkPolicy and BaselineAdminNetworkPolicy; see KubernetesKinds()).
//
// Thread-safety: values; the kind registry is immutable after static initialisation.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace calico::model {

using Json = nlohmann::json;

inline constexpr std::string_view kApiVersion = "projectcalico.org/v3";
inline constexpr std::string_view kGroup = "projectcalico.org";

struct KindInfo {
  // The kind's name in this code base: the document's `kind` for projectcalico.org/v3 kinds
  // ("IPPool"); for Kubernetes kinds of a named API group, kind and group as kubectl spells them
  // ("NetworkPolicy.networking.k8s.io"), so that it never collides with a Calico kind.
  std::string kind;
  std::string plural;  // "ippools" (etcd key segment, lower case)
  bool namespaced = false;
  std::vector<std::string>
      aliases;  // calicoctl names, lower case: "ippool", "ippools", "pool", ...
  bool has_crd = true;
  // The document's apiVersion and kind ("networking.k8s.io/v1", "NetworkPolicy").
  std::string api_version = std::string(kApiVersion);
  std::string doc_kind{};  // "" = kind.
  // Where the kind's objects are stored: "" = Calico's /calico/resources/v3/projectcalico.org/.
  std::string key_root{};

  const std::string& document_kind() const { return doc_kind.empty() ? kind : doc_kind; }
  bool is_kubernetes() const { return api_version != kApiVersion; }
};

// The prefix under which Kubernetes objects are stored. Calico has no etcd layout for them (in
// Kubernetes they live in the API server), so they sit beside Calico's, never inside
// /calico/resources/v3/projectcalico.org: /calico/kubernetes/<apiVersion>/<plural>/[<ns>/]<name>.
inline constexpr std::string_view kKubernetesKeyRoot = "/calico/kubernetes/";

// All projectcalico.org/v3 kinds, in the order calicoctl lists them.
const std::vector<KindInfo>& AllKinds();
// The Kubernetes kinds (networking.k8s.io/v1 NetworkPolicy, v1 Namespace,
// policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy).
const std::vector<KindInfo>& KubernetesKinds();
// Looks a kind up by its name (KindInfo::kind), its List kind ("IPPoolList") or any calicoctl
// alias, ignoring case. Calico kinds win: "NetworkPolicy" is projectcalico.org's.
const KindInfo* LookupKind(std::string_view name);
// Looks a kind up by a document's apiVersion and kind; `is_list` tells whether it named the
// List kind ("NetworkPolicyList"). nullptr when the pair is not known.
const KindInfo* LookupKindByApi(std::string_view api_version, std::string_view doc_kind,
                                bool* is_list = nullptr);

class Resource {
 public:
  Resource() = default;
  explicit Resource(Json doc) : doc_(std::move(doc)) {}
  // `kind` is a KindInfo::kind; a Kubernetes kind gets its own apiVersion and document kind.
  Resource(std::string_view kind, std::string_view name, std::string_view ns = "");

  const Json& doc() const { return doc_; }
  Json& doc() { return doc_; }

  // KindInfo::kind of the document: its `kind`, qualified with the API group for Kubernetes kinds
  // of a named group ("NetworkPolicy.networking.k8s.io").
  std::string kind() const;
  std::string name() const;
  std::string namespace_() const;  // "" for cluster-scoped kinds.
  std::string resource_version() const;
  void set_name(std::string_view name);
  void set_namespace(std::string_view ns);
  void set_resource_version(std::string_view rv);

  const Json& metadata() const;
  Json& metadata();
  const Json& spec() const;  // An empty object when absent.
  Json& spec();

 private:
  Json doc_ = Json::object();
};

}  // namespace calico::model
