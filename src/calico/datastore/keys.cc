// Key layout and stored form of v3 resources in etcdv3 mode (libcalico-go/lib/backend/etcdv3).
#include "calico/datastore/keys.h"

#include "calico/base/strings.h"
#include "calico/model/json_codec.h"

namespace calico::datastore {
namespace {

bool IsPolicyKind(std::string_view kind) {
  return kind == "NetworkPolicy" || kind == "GlobalNetworkPolicy" ||
         kind == "StagedNetworkPolicy" || kind == "StagedGlobalNetworkPolicy";
}

constexpr const char* kMetadataAnnotation = "projectcalico.org/metadata";

std::string BlockPath(std::string_view cidr) {
  std::string c(cidr);
  std::string family = c.find(':') != std::string::npos ? "ipv6" : "ipv4";
  for (char& ch : c) {
    if (ch == '/') ch = '-';
  }
  return family + "/block/" + c;
}

}  // namespace

std::string ResourceKey(const model::KindInfo& kind, std::string_view ns, std::string_view name) {
  std::string key(kResourcePrefix);
  key += kind.plural;
  key += '/';
  if (kind.namespaced) {
    key += ns;
    key += '/';
  }
  key += name;
  return key;
}

std::string ResourceListPrefix(const model::KindInfo& kind, std::string_view ns) {
  std::string key(kResourcePrefix);
  key += kind.plural;
  key += '/';
  if (kind.namespaced && !ns.empty()) {
    key += ns;
    key += '/';
  }
  return key;
}

std::string EncodeStoredResource(const model::Resource& r) {
  model::Json doc = r.doc();
  doc["apiVersion"] = std::string(model::kApiVersion);
  model::Json& meta = doc["metadata"];
  if (!meta.is_object()) meta = model::Json::object();
  meta.erase("resourceVersion");
  meta.erase("selfLink");
  if (IsPolicyKind(r.kind())) {
    meta["annotations"][kMetadataAnnotation] = model::Json{{"name", r.name()}}.dump();
  }
  // Go field order: kind, apiVersion, metadata, spec, status.
  std::string out = "{\"kind\":" + doc["kind"].dump() +
                    ",\"apiVersion\":" + doc["apiVersion"].dump() + ",\"metadata\":" + meta.dump();
  if (doc.contains("spec")) out += ",\"spec\":" + doc["spec"].dump();
  if (doc.contains("status")) out += ",\"status\":" + doc["status"].dump();
  out += "}";
  return out;
}

Result<model::Resource> DecodeStoredResource(std::string_view key, std::string_view value,
                                             int64_t mod_revision) {
  // Values come from etcd or the store file: anything may be there, so the decoder limits apply.
  auto parsed = model::ParseStoredJson(key, value);
  if (!parsed) return Internal("unparsable resource: " + parsed.error().message());
  if (!parsed->is_object()) {
    return Internal("unparsable resource value at " + std::string(key) + ": not a JSON object");
  }
  model::Resource r(std::move(*parsed));
  model::Json& meta = r.metadata();
  if (meta.contains("annotations") && meta["annotations"].is_object() &&
      meta["annotations"].contains(kMetadataAnnotation)) {
    const model::Json& annotation = meta["annotations"][kMetadataAnnotation];
    model::Json stored =
        annotation.is_string()
            ? model::ParseJson(annotation.get<std::string>()).value_or(model::Json())
            : model::Json();
    if (stored.is_object() && stored.contains("name") && stored["name"].is_string()) {
      meta["name"] = stored["name"];
    }
    meta["annotations"].erase(kMetadataAnnotation);
    if (meta["annotations"].empty()) meta.erase("annotations");
  } else if (IsPolicyKind(r.kind())) {
    std::string name = r.name();
    if (StartsWith(name, "default.")) r.set_name(name.substr(8));
  }
  r.set_resource_version(std::to_string(mod_revision));
  return r;
}

std::string IpamBlockKey(std::string_view cidr) {
  return std::string(kIpamPrefix) + "assignment/" + BlockPath(cidr);
}
std::string IpamAffinityKey(std::string_view host, std::string_view cidr) {
  return std::string(kIpamPrefix) + "host/" + std::string(host) + "/" + BlockPath(cidr);
}
std::string IpamHandleKey(std::string_view handle) {
  return std::string(kIpamPrefix) + "handle/" + std::string(handle);
}
std::string IpamConfigKey() {
  return std::string(kIpamPrefix) + "config";
}
std::string IpamHostPrefix(std::string_view host) {
  return std::string(kIpamPrefix) + "host/" + std::string(host) + "/";
}

}  // namespace calico::datastore
