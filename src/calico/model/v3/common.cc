// Decoders of the pieces shared by several v3 kinds, see common.h.
#include "calico/model/v3/common.h"

#include <fmt/format.h>

#include "calico/model/v3/decode.h"

namespace calico::model::v3 {

Status DecodeObjectMeta(const Json& j, std::string_view path, ObjectMeta& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(Field(j, path, "name", out.name));
  RETURN_IF_ERROR(Field(j, path, "namespace", out.namespace_));
  RETURN_IF_ERROR(Field(j, path, "resourceVersion", out.resource_version));
  RETURN_IF_ERROR(Field(j, path, "uid", out.uid));
  RETURN_IF_ERROR(Field(j, path, "creationTimestamp", out.creation_timestamp));
  RETURN_IF_ERROR(Field(j, path, "deletionTimestamp", out.deletion_timestamp));
  RETURN_IF_ERROR(Field(j, path, "labels", out.labels));
  RETURN_IF_ERROR(Field(j, path, "annotations", out.annotations));
  return OkStatus();
}

Status DecodeNumOrString(const Json& j, std::string_view path, NumOrString& out) {
  if (j.is_string()) {
    out = NumOrString::Str(j.get<std::string>());
    return OkStatus();
  }
  if (j.is_number_integer() || j.is_number_unsigned()) {
    int64_t n = 0;
    RETURN_IF_ERROR(DecodeValue(j, path, n));
    out = NumOrString::Num(n);
    return OkStatus();
  }
  return FieldError(path, "must be a number or a string");
}

Status DecodeICMPFields(const Json& j, std::string_view path, ICMPFields& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"type", "code"}));
  RETURN_IF_ERROR(Field(j, path, "type", out.type));
  RETURN_IF_ERROR(Field(j, path, "code", out.code));
  return OkStatus();
}

namespace {

Status DecodeServiceAccountMatch(const Json& j, std::string_view path, ServiceAccountMatch& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"names", "selector"}));
  RETURN_IF_ERROR(Field(j, path, "names", out.names));
  RETURN_IF_ERROR(Field(j, path, "selector", out.selector));
  return OkStatus();
}

Status DecodeServiceMatch(const Json& j, std::string_view path, ServiceMatch& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(CheckKnownFields(j, path, {"name", "namespace"}));
  RETURN_IF_ERROR(Field(j, path, "name", out.name));
  RETURN_IF_ERROR(Field(j, path, "namespace", out.namespace_));
  return OkStatus();
}

}  // namespace

Status DecodeEntityRule(const Json& j, std::string_view path, EntityRule& out) {
  RETURN_IF_ERROR(CheckObject(j, path));
  RETURN_IF_ERROR(
      CheckKnownFields(j, path,
                       {"nets", "notNets", "selector", "notSelector", "namespaceSelector", "ports",
                        "notPorts", "serviceAccounts", "services"}));
  RETURN_IF_ERROR(Field(j, path, "nets", out.nets));
  RETURN_IF_ERROR(Field(j, path, "selector", out.selector));
  RETURN_IF_ERROR(Field(j, path, "namespaceSelector", out.namespace_selector));
  RETURN_IF_ERROR(Field(j, path, "services", out.services, DecodeServiceMatch));
  RETURN_IF_ERROR(Field(j, path, "ports", out.ports, DecodeNumOrString));
  RETURN_IF_ERROR(Field(j, path, "notNets", out.not_nets));
  RETURN_IF_ERROR(Field(j, path, "notSelector", out.not_selector));
  RETURN_IF_ERROR(Field(j, path, "notPorts", out.not_ports, DecodeNumOrString));
  RETURN_IF_ERROR(
      Field(j, path, "serviceAccounts", out.service_accounts, DecodeServiceAccountMatch));
  return OkStatus();
}

Status CheckKind(const model::Resource& r, std::string_view kind) {
  const model::KindInfo* info = model::LookupKind(r.kind());
  if (info == nullptr || info->kind != kind) {
    return InvalidArgument(
        fmt::format("{} {}: not a {} (kind \"{}\")", kind, r.name(), kind, r.kind()));
  }
  return OkStatus();
}

Error InResource(Error err, const model::Resource& r) {
  const std::string ns = r.namespace_();
  return std::move(err).Wrap(ns.empty() ? fmt::format("{} {}", r.kind(), r.name())
                                        : fmt::format("{} {}/{}", r.kind(), ns, r.name()));
}

}  // namespace calico::model::v3
