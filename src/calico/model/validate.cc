// The validation pipeline of reference Part 1.15: defaults (api/pkg/defaults, clientv3), then the
// envelope and ObjectMeta rules (libcalico-go/lib/validator/v3 validateObjectMeta and the
// per-kind name regexes), then the kind's family validator for the spec.
#include "calico/model/validate.h"

#include <algorithm>
#include <map>
#include <optional>
#include <regex>

#include <fmt/format.h>

#include "calico/model/validation/families.h"
#include "calico/model/validation/infra_schema.h"
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

namespace {

// The envelope check and every field error of `r`, or the envelope's error (unknown kind, spec
// not an object) when the spec cannot be checked.
Status CollectErrors(const Resource& r, FieldErrors& errors) {
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
  return OkStatus();
}

// Renames the key at `path` (a FieldPath string: a.b[0].c, map entries as [key]) of `doc` to
// `canonical`. When the object already holds `canonical`, the exact name wins and the folded key
// is dropped. False when the path does not lead to an object holding the key.
bool RenameKeyAt(Json& doc, const std::string& path, const std::string& canonical) {
  Json* cur = &doc;
  size_t i = 0;
  std::string last;
  auto read_name = [&]() {
    const size_t end = path.find_first_of(".[", i);
    std::string name = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    i = end == std::string::npos ? path.size() : end;
    return name;
  };
  last = read_name();
  while (i < path.size()) {
    if (!cur->is_object() || !cur->contains(last)) return false;
    cur = &(*cur)[last];
    if (path[i] == '.') {
      ++i;
      last = read_name();
      continue;
    }
    // "[...]": an index into a list or a key of a map; then more of the path may follow.
    const size_t close = path.find(']', i);
    if (close == std::string::npos) return false;
    const std::string inner = path.substr(i + 1, close - i - 1);
    i = close + 1;
    Json* next = nullptr;
    if (cur->is_array()) {
      size_t idx = 0;
      for (char c : inner) {
        if (c < '0' || c > '9') return false;
        idx = idx * 10 + static_cast<size_t>(c - '0');
      }
      if (inner.empty() || idx >= cur->size()) return false;
      next = &(*cur)[idx];
    } else if (cur->is_object() && cur->contains(inner)) {
      next = &(*cur)[inner];
    } else {
      return false;
    }
    if (i >= path.size() || path[i] != '.') return false;  // the renamed key is a struct field
    ++i;
    cur = next;
    last = read_name();
  }
  if (!cur->is_object() || !cur->contains(last) || last == canonical) return false;
  // Every key naming this field: Go decodes them all into it in the order it sees them, which is
  // sorted (sigs.k8s.io/yaml marshals the YAML as a map), so the key sorting last wins.
  const std::string_view names[] = {canonical};
  std::vector<std::string> same;
  for (auto it = cur->begin(); it != cur->end(); ++it) {
    if (validation::FoldFieldName(it.key(), names)) same.push_back(it.key());
  }
  if (same.empty()) return false;  // the path led elsewhere (a map key holding '.' or ']')
  const std::string winner = *std::max_element(same.begin(), same.end());
  Json value = (*cur)[winner];
  for (const auto& k : same)
    cur->erase(k);
  (*cur)[canonical] = std::move(value);
  return true;
}

// The Go type a validator's type-error reason stands for, or nullopt when the reason is not a
// JSON type mismatch (the validators word them "must be a string", "must be of type integer").
std::optional<std::string> GoTypeOfTypeError(const std::string& reason) {
  static const std::map<std::string, std::string, std::less<>> kReasons = {
      {"must be a string", "string"},
      {"must be a boolean", "bool"},
      {"must be a number", "float64"},
      {"must be an integer", "int"},
      {"must be a list of strings", "[]string"},
      {"must be a list", "[]interface {}"},
      {"must be a list of rules", "[]v3.Rule"},
      {"must be of type string", "string"},
      {"must be of type boolean", "bool"},
      {"must be of type number", "float64"},
      {"must be of type integer", "int"},
      {"must be of type array", "[]interface {}"},
      {"labels must be a map of strings", "map[string]string"},
  };
  auto it = kReasons.find(reason);
  if (it == kReasons.end()) return std::nullopt;
  return it->second;
}

// The value at a FieldPath string (a.b[0].c, map entries as [key]); nullptr when absent.
const Json* ValueAt(const Json& doc, const std::string& path) {
  const Json* cur = &doc;
  size_t i = 0;
  while (i < path.size() && cur != nullptr) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    if (path[i] == '[') {
      const size_t close = path.find(']', i);
      if (close == std::string::npos) return nullptr;
      const std::string inner = path.substr(i + 1, close - i - 1);
      i = close + 1;
      if (cur->is_array()) {
        size_t idx = 0;
        for (char c : inner) {
          if (c < '0' || c > '9') return nullptr;
          idx = idx * 10 + static_cast<size_t>(c - '0');
        }
        cur = idx < cur->size() ? &(*cur)[idx] : nullptr;
      } else if (cur->is_object() && cur->contains(inner)) {
        cur = &(*cur)[inner];
      } else {
        return nullptr;
      }
      continue;
    }
    const size_t end = path.find_first_of(".[", i);
    const std::string name = path.substr(i, end == std::string::npos ? std::string::npos : end - i);
    i = end == std::string::npos ? path.size() : end;
    cur = cur->is_object() && cur->contains(name) ? &(*cur)[name] : nullptr;
  }
  return cur;
}

}  // namespace

namespace {

// CanonicalizeFieldNames; returns the errors of the last round (those of the renamed document)
// when the envelope could be checked.
std::optional<FieldErrors> Canonicalize(Resource& r) {
  // Each round renames the keys the validators reach; a renamed struct's own fields are reached
  // in the next round. Every round renames at least one key, so the document's size bounds it.
  for (int round = 0; round < 256; ++round) {
    FieldErrors errors;
    if (!CollectErrors(r, errors)) return std::nullopt;
    bool renamed = false;
    for (const FieldError& e : errors.errors()) {
      if (e.reason == validation::kFoldedFieldReason) {
        renamed = RenameKeyAt(r.doc(), e.field, e.value) || renamed;
      }
    }
    if (!renamed) return errors;
  }
  return std::nullopt;
}

Status StrictDecodingError(const Resource& r, const FieldErrors& errors);

}  // namespace

void CanonicalizeFieldNames(Resource& r) {
  (void)Canonicalize(r);
}

Status CanonicalizeAndCheckStrictDecoding(Resource& r) {
  std::optional<FieldErrors> errors = Canonicalize(r);
  if (!errors) return CheckStrictDecoding(r);
  return StrictDecodingError(r, *errors);
}

void FormatGoDurations(Resource& r) {
  const Json* schema = validation::InfraSchema(r.kind());
  if (schema == nullptr || !r.doc().is_object()) return;
  for (const char* section : {"spec", "status"}) {
    auto s = schema->find(section);
    if (s != schema->end() && r.doc().contains(section)) {
      validation::FormatSchemaDurations(*s, r.doc()[section]);
    }
  }
}

Status CheckStrictDecoding(const Resource& r) {
  FieldErrors errors;
  if (!CollectErrors(r, errors)) return OkStatus();  // the validator reports it
  return StrictDecodingError(r, errors);
}

namespace {

Status StrictDecodingError(const Resource& r, const FieldErrors& errors) {
  // A custom unmarshaler's error (metav1.Duration's time.ParseDuration) ends decoding at once;
  // an unknown field is only remembered (decode.go saveError), so the bad value is reported.
  for (const FieldError& e : errors.errors()) {
    if (e.reason.rfind("time: invalid duration", 0) == 0) {
      return InvalidArgument("error unmarshaling JSON: while decoding JSON: " + e.reason);
    }
  }
  // A value of the wrong JSON type is an UnmarshalTypeError (decode.go literalStore/array/
  // object): a decoding error, reported before an unknown field.
  for (const FieldError& e : errors.errors()) {
    if (auto go_type = GoTypeOfTypeError(e.reason)) {
      const Json* v = ValueAt(r.doc(), e.field);
      std::string json_type = "value";
      if (v != nullptr) {
        if (v->is_string()) json_type = "string";
        if (v->is_boolean()) json_type = "bool";
        if (v->is_array()) json_type = "array";
        if (v->is_object()) json_type = "object";
        if (v->is_number()) json_type = "number";
        if (v->is_number_float() && *go_type == "int") json_type = "number " + v->dump();
      }
      if (json_type == "number" && *go_type == "int") continue;  // an int out of range: validator
      // Go names the innermost struct type; the top-level one (<Kind>Spec, ObjectMeta) is used
      // here, and the path is the JSON field path without list indices, as Go 1.20+ prints it.
      std::string path;
      for (size_t i = 0; i < e.field.size(); ++i) {
        if (e.field[i] == '[') {
          i = e.field.find(']', i);
          if (i == std::string::npos) break;
          continue;
        }
        path.push_back(e.field[i]);
      }
      std::string strct = r.kind() + "Spec";
      if (path.rfind("status", 0) == 0) strct = r.kind() + "Status";
      if (path.rfind("metadata", 0) == 0) strct = "ObjectMeta";
      return InvalidArgument(fmt::format(
          "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go struct "
          "field {}.{} of type {}",
          json_type, strct, path, *go_type));
    }
  }
  for (const FieldError& e : errors.errors()) {
    if (e.reason == validation::kUnknownFieldReason || e.reason == validation::kFoldedFieldReason) {
      // Go names the key only: json: unknown field "x".
      std::string key = e.field.substr(
          e.field.find_last_of(".]") == std::string::npos ? 0 : e.field.find_last_of(".]") + 1);
      return InvalidArgument(
          "error unmarshaling JSON: while decoding JSON: json: unknown field \"" + key + "\"");
    }
  }
  return OkStatus();
}

}  // namespace

Status Validate(const Resource& r) {
  FieldErrors errors;
  RETURN_IF_ERROR(CollectErrors(r, errors));
  // Strict decoding fails before any validator runs: report the first unknown field alone (a
  // key in another case than its field's is one unless CanonicalizeFieldNames renamed it).
  for (const FieldError& e : errors.errors()) {
    if (e.reason == validation::kUnknownFieldReason || e.reason == validation::kFoldedFieldReason) {
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
