// Typed projectcalico.org/v3 resources (api/pkg/apis/projectcalico/v3 in Calico's tree): plain
// structs named after the Go types, decoded once from a validated model::Resource so that no
// library after `model` walks JSON. This header holds the pieces several kinds share: object
// metadata, numorstring values, ICMP matches and the EntityRule of policy rules.
//
// Conventions (every header of model/v3 follows them):
//  * namespace calico::model::v3; one header per family (policy.h, endpoint.h, ipam.h, node.h,
//    felix.h, cluster.h; bgp.h belongs to the BGP work); field names are the Go fields in
//    snake_case; Go pointers and `omitempty` values whose absence means something are
//    std::optional; everything else takes the Go zero value when absent.
//  * one free function per kind, `[[nodiscard]] Result<v3::IPPool> DecodeIPPool(const
//    model::Resource&)`, whose errors (kInvalidArgument) name the resource and the field:
//    "IPPool pool-1: spec.blockSize: must be an integer". Decoders check JSON types as Go's
//    decoder does, not the validator's semantic rules (those ran when the resource was written);
//    unknown fields are ignored, as Go ignores them (rules are the exception: see DecodeRule).
//  * values keep the text Calico writes (CIDRs, selectors, ports as written); consumers parse
//    them once into their own compact form (e.g. calc's parsed rules).
//
// Thread-safety: values and pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::model::v3 {

// metav1.ObjectMeta, the fields Calico's components read.
struct ObjectMeta {
  std::string name{};
  std::string namespace_{};  // "" for cluster-scoped kinds.
  std::string resource_version{};
  std::string uid{};
  std::string creation_timestamp{};
  std::optional<std::string> deletion_timestamp{};
  std::map<std::string, std::string> labels{};
  std::map<std::string, std::string> annotations{};

  bool operator==(const ObjectMeta&) const = default;
};

// numorstring.Protocol, numorstring.Port and numorstring.ASNumber as written: a number or a
// string ("TCP", "80", "8080:8090", "http", "64512"). Whoever uses the value checks its range
// and format (policy::ParseRule for rules), so errors can name the rule they come from.
struct NumOrString {
  bool is_string = false;
  int64_t num = 0;
  std::string str{};

  static NumOrString Num(int64_t n) { return {.num = n}; }
  static NumOrString Str(std::string s) { return {.is_string = true, .str = std::move(s)}; }
  // The value as text: the string, or the number in decimal.
  std::string Text() const { return is_string ? str : std::to_string(num); }
  bool operator==(const NumOrString&) const = default;
};
using Protocol = NumOrString;
using Port = NumOrString;

// ICMPFields: type and code (Go *int).
struct ICMPFields {
  std::optional<int64_t> type{};
  std::optional<int64_t> code{};

  bool operator==(const ICMPFields&) const = default;
};

// ServiceAccountMatch of an EntityRule.
struct ServiceAccountMatch {
  std::vector<std::string> names{};
  std::string selector{};

  bool operator==(const ServiceAccountMatch&) const = default;
};

// ServiceMatch of an EntityRule (a Kubernetes Service by name and namespace).
struct ServiceMatch {
  std::string name{};
  std::string namespace_{};

  bool operator==(const ServiceMatch&) const = default;
};

// EntityRule: the source or destination of a Rule.
struct EntityRule {
  std::vector<std::string> nets{};
  std::string selector{};
  std::string namespace_selector{};
  std::optional<ServiceMatch> services{};
  std::vector<Port> ports{};
  std::vector<std::string> not_nets{};
  std::string not_selector{};
  std::vector<Port> not_ports{};
  std::optional<ServiceAccountMatch> service_accounts{};

  bool operator==(const EntityRule&) const = default;
};

[[nodiscard]] Status DecodeObjectMeta(const Json& j, std::string_view path, ObjectMeta& out);
// A number (integer) or a string.
[[nodiscard]] Status DecodeNumOrString(const Json& j, std::string_view path, NumOrString& out);
// Strict: unknown fields are errors (see DecodeRule).
[[nodiscard]] Status DecodeICMPFields(const Json& j, std::string_view path, ICMPFields& out);
[[nodiscard]] Status DecodeEntityRule(const Json& j, std::string_view path, EntityRule& out);

// The metadata and spec of `r` when it is of kind `kind` (canonical spelling); errors name the
// kind and resource. Used by every DecodeX.
[[nodiscard]] Status CheckKind(const model::Resource& r, std::string_view kind);
// Wraps a field error with "<kind> [<namespace>/]<name>: ".
[[nodiscard]] Error InResource(Error err, const model::Resource& r);

// The body of every DecodeX: kind check, metadata, then `decode_spec(spec_json, "spec",
// out.spec)`; errors wrapped with InResource.
template <typename T, typename F>
[[nodiscard]] Result<T> DecodeResource(const model::Resource& r, std::string_view kind,
                                       F&& decode_spec) {
  RETURN_IF_ERROR(CheckKind(r, kind));
  T out{};
  if (Status st = DecodeObjectMeta(r.metadata(), "metadata", out.metadata); !st) {
    return Unexpected(InResource(std::move(st).error(), r));
  }
  if (Status st = decode_spec(r.spec(), "spec", out.spec); !st) {
    return Unexpected(InResource(std::move(st).error(), r));
  }
  return out;
}

}  // namespace calico::model::v3
