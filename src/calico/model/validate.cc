// The validation pipeline of reference Part 1.15: defaults (api/pkg/defaults, clientv3), then the
// envelope and ObjectMeta rules (libcalico-go/lib/validator/v3 validateObjectMeta and the
// per-kind name regexes), then the kind's family validator for the spec.
#include "calico/model/validate.h"

#include <regex>

#include "calico/model/validation/families.h"
#include "calico/model/validation/meta.h"

namespace calico::model {
namespace {

using validation::IsDnsLabel;
using validation::IsDnsSubdomain;
using validation::ValueText;

constexpr std::string_view kLabel = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";

bool MatchesPolicyName(const std::string& name) {
  static const std::regex* re = new std::regex(
      "^(" + std::string(kLabel) + "(\\." + std::string(kLabel) + ")?|(knp|ossg)\\.default\\." +
      std::string(kLabel) + "(\\." + std::string(kLabel) + ")*)$");
  return name.size() <= 253 && std::regex_match(name, *re);
}

// The GlobalNetworkPolicies calico-controllers writes for AdminNetworkPolicies
// ("kanp.kube-admin.<name>") and the BaselineAdminNetworkPolicy ("kbanp.kube-baseline.default")
// carry the object's name, a DNS subdomain, after the prefix, as "knp.default." NetworkPolicies
// do (docs/COMPATIBILITY.md, "Kubernetes policy and controllers").
bool MatchesGlobalPolicyName(const std::string& name) {
  static const std::regex* re = new std::regex(
      "^((" + std::string(kLabel) + "\\.)?" + std::string(kLabel) + "|kanp\\.kube-admin\\." +
      std::string(kLabel) + "(\\." + std::string(kLabel) + ")*|kbanp\\.kube-baseline\\." +
      std::string(kLabel) + "(\\." + std::string(kLabel) + ")*)$");
  return name.size() <= 253 && std::regex_match(name, *re);
}

bool MatchesWorkloadEndpointName(const std::string& name) {
  // WEP names embed container IDs, which may be mixed case (names.WorkloadEndpoint).
  static const std::regex* re = new std::regex("^[a-zA-Z0-9]([-a-zA-Z0-9._]*[a-zA-Z0-9])?$");
  return name.size() <= 253 && std::regex_match(name, *re);
}

void ValidateName(const std::string& kind, const Json& name_json, FieldErrors& errors) {
  FieldPath path("metadata.name");
  if (name_json.is_null() || (name_json.is_string() && name_json.get<std::string>().empty())) {
    errors.Add(path, "", "name is required");
    return;
  }
  if (!name_json.is_string()) {
    errors.Add(path, ValueText(name_json), "name must be a string");
    return;
  }
  const std::string name = name_json.get<std::string>();
  if (kind == "ClusterInformation" || kind == "KubeControllersConfiguration" ||
      kind == "IPAMConfiguration") {
    if (name != "default") {
      errors.Add(path, name,
                 "Cannot create a " + kind + " resource with a name other than \"default\"");
    }
    return;
  }
  if (kind == "Tier") {
    if (!IsDnsLabel(name)) {
      errors.Add(path, name,
                 "name must consist of lower case alphanumeric characters or '-' (max 63 chars), "
                 "and must start and end with an alphanumeric character");
    }
    return;
  }
  if (kind == "NetworkPolicy" || kind == "StagedNetworkPolicy") {
    if (!MatchesPolicyName(name)) {
      errors.Add(path, name,
                 "name must consist of lower case alphanumeric characters, '-' or '.' (at most "
                 "one '.'), and must start and end with an alphanumeric character");
    }
    return;
  }
  if (kind == "GlobalNetworkPolicy" || kind == "StagedGlobalNetworkPolicy") {
    if (!MatchesGlobalPolicyName(name)) {
      errors.Add(path, name,
                 "name must consist of lower case alphanumeric characters, '-' or '.' (at most "
                 "one '.'), and must start and end with an alphanumeric character");
    }
    return;
  }
  if (kind == "Namespace") {  // ValidateNamespaceName: a DNS-1123 label.
    if (!IsDnsLabel(name)) {
      errors.Add(path, name,
                 "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                 "'-', and must start and end with an alphanumeric character (max 63 chars)");
    }
    return;
  }
  if (kind == "WorkloadEndpoint") {
    if (!MatchesWorkloadEndpointName(name)) {
      errors.Add(path, name, "name must consist of alphanumeric characters, '-', '_' or '.'");
    }
    return;
  }
  if (!IsDnsSubdomain(name)) {
    errors.Add(path, name,
               "name must consist of lower case alphanumeric characters, '-' or '.', and must "
               "start and end with an alphanumeric character");
  }
}

void ValidateMetadata(const KindInfo& kind, const Json& meta, FieldErrors& errors) {
  FieldPath path("metadata");
  validation::CheckKnownFields(
      meta, path,
      {"name", "namespace", "labels", "annotations", "resourceVersion", "uid", "creationTimestamp",
       "generation", "finalizers", "ownerReferences", "deletionTimestamp",
       "deletionGracePeriodSeconds", "selfLink", "managedFields", "generateName"},
      errors);
  if (!meta.is_object()) return;
  if (meta.contains("generateName") && !meta["generateName"].is_null() &&
      !(meta["generateName"].is_string() && meta["generateName"].get<std::string>().empty())) {
    errors.Add(path.Child("generateName"), ValueText(meta["generateName"]),
               "generateName is not supported");
  }
  ValidateName(kind.kind, meta.contains("name") ? meta["name"] : Json(), errors);

  Json ns = meta.contains("namespace") ? meta["namespace"] : Json();
  bool has_ns = ns.is_string() && !ns.get<std::string>().empty();
  if (!ns.is_null() && !ns.is_string()) {
    errors.Add(path.Child("namespace"), ValueText(ns), "namespace must be a string");
  } else if (kind.namespaced && has_ns && !IsDnsLabel(ns.get<std::string>())) {
    errors.Add(path.Child("namespace"), ns.get<std::string>(),
               "namespace must be a valid DNS label");
  } else if (!kind.namespaced && has_ns) {
    errors.Add(path.Child("namespace"), ns.get<std::string>(),
               "namespace should not be specified for a non-namespaced resource. " + kind.kind +
                   " is not a namespaced resource");
  }

  if (meta.contains("labels")) {
    validation::ValidateLabels(meta["labels"], path.Child("labels"), errors);
    if ((kind.kind == "NetworkSet" || kind.kind == "GlobalNetworkSet") &&
        meta["labels"].is_object() && meta["labels"].contains("projectcalico.org/namespace")) {
      errors.Add(
          path.Child("labels").Key("projectcalico.org/namespace"), "",
          "label projectcalico.org/namespace is reserved and cannot be set on a " + kind.kind);
    }
  }
  if (meta.contains("annotations")) {
    validation::ValidateAnnotations(meta["annotations"], path.Child("annotations"), errors);
  }
  for (const char* field : {"resourceVersion", "uid", "creationTimestamp"}) {
    if (meta.contains(field) && !meta[field].is_null() && !meta[field].is_string()) {
      errors.Add(path.Child(field), ValueText(meta[field]), "must be a string");
    }
  }
}

}  // namespace

void ApplyDefaults(Resource& r) {
  if (!r.doc().is_object()) return;
  if (!validation::DefaultPolicyFamily(r) && !validation::DefaultInfraFamily(r)) {
    validation::DefaultKubernetesFamily(r);
  }
}

Status Validate(const Resource& r) {
  const Json& doc = r.doc();
  if (!doc.is_object()) return InvalidArgument("resource document must be an object");
  std::string api_version = doc.contains("apiVersion") && doc["apiVersion"].is_string()
                                ? doc["apiVersion"].get<std::string>()
                                : "";
  std::string kind_name = r.kind();
  const KindInfo* kind = LookupKind(kind_name);
  if (kind == nullptr || kind->kind != kind_name || api_version != kind->api_version) {
    std::string doc_kind = doc.contains("kind") && doc["kind"].is_string()
                               ? doc["kind"].get<std::string>()
                               : kind_name;
    return InvalidArgument("unknown resource type (" + doc_kind + ") and/or version (" +
                           api_version + ")");
  }
  FieldErrors errors;
  validation::CheckKnownFields(doc, FieldPath(),
                               {"apiVersion", "kind", "metadata", "spec", "status"}, errors);
  ValidateMetadata(*kind, doc.contains("metadata") ? doc["metadata"] : Json::object(), errors);
  if (doc.contains("spec") && !doc["spec"].is_null() && !doc["spec"].is_object()) {
    errors.Add("spec", ValueText(doc["spec"]), "spec must be an object");
  } else if (!validation::ValidatePolicyFamily(r, errors) &&
             !validation::ValidateInfraFamily(r, errors) &&
             !validation::ValidateKubernetesFamily(r, errors)) {
    return Internal("no validator for kind " + kind_name);
  }
  // Strict decoding fails before any validator runs: report the first unknown field alone.
  for (const FieldError& e : errors.errors()) {
    if (e.reason == validation::kUnknownFieldReason) {
      return InvalidArgument("field in document is not recognized or is in the wrong location: " +
                             e.field);
    }
  }
  return errors.ToStatus();
}

Status ApplyDefaultsAndValidate(Resource& r) {
  ApplyDefaults(r);
  return Validate(r);
}

}  // namespace calico::model
