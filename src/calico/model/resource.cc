#include "calico/model/resource.h"

namespace calico::model {
namespace {

std::string StringField(const Json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

const Json& EmptyObject() {
  static const Json* empty = new Json(Json::object());
  return *empty;
}

}  // namespace

Resource::Resource(std::string_view kind, std::string_view name, std::string_view ns) {
  const KindInfo* info = LookupKind(kind);
  if (info != nullptr && info->kind == kind && info->is_kubernetes()) {
    doc_["apiVersion"] = info->api_version;
    doc_["kind"] = info->document_kind();
  } else {
    doc_["apiVersion"] = std::string(kApiVersion);
    doc_["kind"] = std::string(kind);
  }
  doc_["metadata"] = Json::object();
  doc_["metadata"]["name"] = std::string(name);
  if (!ns.empty()) doc_["metadata"]["namespace"] = std::string(ns);
  doc_["spec"] = Json::object();
}

std::string Resource::kind() const {
  std::string kind = StringField(doc_, "kind");
  std::string api = StringField(doc_, "apiVersion");
  if (api.empty() || api == kApiVersion) return kind;
  const KindInfo* info = LookupKindByApi(api, kind);
  return info != nullptr ? info->kind : kind;
}
std::string Resource::name() const {
  return StringField(metadata(), "name");
}
std::string Resource::namespace_() const {
  return StringField(metadata(), "namespace");
}
std::string Resource::resource_version() const {
  return StringField(metadata(), "resourceVersion");
}

void Resource::set_name(std::string_view name) {
  metadata()["name"] = std::string(name);
}

void Resource::set_namespace(std::string_view ns) {
  if (ns.empty()) {
    metadata().erase("namespace");
  } else {
    metadata()["namespace"] = std::string(ns);
  }
}

void Resource::set_resource_version(std::string_view rv) {
  if (rv.empty()) {
    metadata().erase("resourceVersion");
  } else {
    metadata()["resourceVersion"] = std::string(rv);
  }
}

const Json& Resource::metadata() const {
  if (!doc_.is_object()) return EmptyObject();
  auto it = doc_.find("metadata");
  if (it == doc_.end() || !it->is_object()) return EmptyObject();
  return *it;
}

Json& Resource::metadata() {
  if (!doc_.is_object()) doc_ = Json::object();
  Json& m = doc_["metadata"];
  if (!m.is_object()) m = Json::object();
  return m;
}

const Json& Resource::spec() const {
  if (!doc_.is_object()) return EmptyObject();
  auto it = doc_.find("spec");
  if (it == doc_.end() || !it->is_object()) return EmptyObject();
  return *it;
}

Json& Resource::spec() {
  if (!doc_.is_object()) doc_ = Json::object();
  Json& s = doc_["spec"];
  if (!s.is_object()) s = Json::object();
  return s;
}

}  // namespace calico::model
