// model::Resource: one projectcalico.org/v3 resource, held as the JSON document Calico writes
// (apiVersion, kind, metadata, spec[, status]). Typed views for the consumers (IPAM, agent, BGP)
// are parsed from a validated Resource by the library that needs them.
//
// Kind registry: every kind of reference Part 1.0 with its plural (etcd key segment), scope and the
// calicoctl names it answers to.
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
  std::string kind;    // "IPPool"
  std::string plural;  // "ippools" (etcd key segment, lower case)
  bool namespaced = false;
  std::vector<std::string>
      aliases;  // calicoctl names, lower case: "ippool", "ippools", "pool", ...
  bool has_crd = true;
};

// All kinds, in the order calicoctl lists them.
const std::vector<KindInfo>& AllKinds();
// Looks a kind up by its Kind, its List kind ("IPPoolList") or any calicoctl alias, ignoring case.
const KindInfo* LookupKind(std::string_view name);

class Resource {
 public:
  Resource() = default;
  explicit Resource(Json doc) : doc_(std::move(doc)) {}
  Resource(std::string_view kind, std::string_view name, std::string_view ns = "");

  const Json& doc() const { return doc_; }
  Json& doc() { return doc_; }

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
