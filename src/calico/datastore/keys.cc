// Typed keys and the stored form of v3 resources in etcdv3 mode (libcalico-go/lib/backend/model,
// libcalico-go/lib/backend/etcdv3).
#include "calico/datastore/keys.h"

#include <fmt/format.h>

#include "calico/base/strings.h"
#include "calico/model/json_codec.h"

namespace calico::datastore {
namespace {

bool IsPolicyKind(std::string_view kind) {
  return kind == "NetworkPolicy" || kind == "GlobalNetworkPolicy" ||
         kind == "StagedNetworkPolicy" || kind == "StagedGlobalNetworkPolicy";
}

constexpr const char* kMetadataAnnotation = "projectcalico.org/metadata";

tl::unexpected<Error> NotA(std::string_view what, std::string_view path) {
  return InvalidArgument(fmt::format("not {} key: \"{}\"", what, path));
}

// Drops an optional leading '/' and the given prefix (without its leading '/'); nullopt when
// `path` does not start with it (the upstream regexps are all "^/?calico/...").
std::optional<std::string_view> After(std::string_view path, std::string_view prefix) {
  if (StartsWith(path, "/")) path.remove_prefix(1);
  if (StartsWith(prefix, "/")) prefix.remove_prefix(1);
  if (!StartsWith(path, prefix)) return std::nullopt;
  return path.substr(prefix.size());
}

// One path segment: non-empty, no '/'.
bool IsSegment(std::string_view s) {
  return !s.empty() && s.find('/') == std::string_view::npos;
}

// "10.65.0.0-26" (the first '-' stands for the '/') -> the masked CIDR.
std::optional<net::CIDR> CidrSegment(std::string_view segment) {
  if (!IsSegment(segment)) return std::nullopt;
  std::string text(segment);
  const std::size_t dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  text[dash] = '/';
  auto cidr = net::CIDR::Parse(text);
  if (!cidr) return std::nullopt;
  return cidr->Masked();
}

std::string CidrSegmentText(const net::CIDR& cidr) {
  std::string text = cidr.Masked().String();
  if (const std::size_t slash = text.find('/'); slash != std::string::npos) text[slash] = '-';
  return text;
}

// "ipv4/block/<cidr>" (any character after "ipv", as upstream's "ipv.") -> the CIDR.
std::optional<net::CIDR> FamilyBlockSegments(std::string_view rest) {
  if (rest.size() < 4 || !StartsWith(rest, "ipv")) return std::nullopt;
  rest.remove_prefix(4);
  if (!StartsWith(rest, "/block/")) return std::nullopt;
  return CidrSegment(rest.substr(7));
}

const model::KindInfo* KindByPlural(std::string_view plural) {
  for (const model::KindInfo& k : model::AllKinds()) {
    if (k.plural == plural) return &k;
  }
  return nullptr;
}

}  // namespace

std::string ResourceKey::Format() const {
  CALICO_CHECK(kind != nullptr);
  std::string key = kind->key_root.empty() ? std::string(kResourcePrefix) : kind->key_root;
  key += kind->plural;
  key += '/';
  if (kind->namespaced) {
    key += ns;
    key += '/';
  }
  key += name;
  return key;
}

Result<ResourceKey> ResourceKey::Parse(std::string_view path) {
  // Kubernetes kinds live under their own roots (KindInfo::key_root): the root and plural decide.
  if (StartsWith(path, model::kKubernetesKeyRoot)) {
    for (const model::KindInfo& k : model::KubernetesKinds()) {
      auto tail = After(path, k.key_root + k.plural + "/");
      if (!tail) continue;
      ResourceKey key{.kind = &k};
      std::string_view t = *tail;
      if (k.namespaced) {
        const std::size_t ns_end = t.find('/');
        if (ns_end == std::string_view::npos || !IsSegment(t.substr(0, ns_end))) {
          return NotA("a namespaced resource", path);
        }
        key.ns = std::string(t.substr(0, ns_end));
        t.remove_prefix(ns_end + 1);
      }
      if (!IsSegment(t)) return NotA("a resource", path);
      key.name = std::string(t);
      return key;
    }
    return NotA("a resource", path);
  }
  auto rest = After(path, kResourcePrefix);
  if (!rest) return NotA("a resource", path);
  const std::size_t slash = rest->find('/');
  if (slash == std::string_view::npos) return NotA("a resource", path);
  ResourceKey key{.kind = KindByPlural(rest->substr(0, slash))};
  if (key.kind == nullptr) {
    return InvalidArgument(
        fmt::format("unknown resource type \"{}\" in key \"{}\"", rest->substr(0, slash), path));
  }
  std::string_view tail = rest->substr(slash + 1);
  if (key.kind->namespaced) {
    const std::size_t ns_end = tail.find('/');
    if (ns_end == std::string_view::npos || !IsSegment(tail.substr(0, ns_end))) {
      return NotA("a namespaced resource", path);
    }
    key.ns = std::string(tail.substr(0, ns_end));
    tail.remove_prefix(ns_end + 1);
  }
  if (!IsSegment(tail)) return NotA("a resource", path);
  key.name = std::string(tail);
  return key;
}

std::string RelativeResourceKey::Format() const {
  return std::string(kResourcePrefix) + path;
}

Result<RelativeResourceKey> RelativeResourceKey::Parse(std::string_view path) {
  auto rest = After(path, kResourcePrefix);
  if (!rest) return NotA("a resource", path);
  return RelativeResourceKey{.path = std::string(*rest)};
}

std::string_view RelativeResourceKey::LastSegment() const {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string_view() : std::string_view(path).substr(slash + 1);
}

std::string_view RelativeResourceKey::SegmentBeforeLast() const {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return {};
  const std::size_t before = path.rfind('/', slash - 1);
  const std::size_t start = before == std::string::npos ? 0 : before + 1;
  return std::string_view(path).substr(start, slash - start);
}

std::string ResourceListPrefix(const model::KindInfo& kind, std::string_view ns) {
  std::string key = kind.key_root.empty() ? std::string(kResourcePrefix) : kind.key_root;
  key += kind.plural;
  key += '/';
  if (kind.namespaced && !ns.empty()) {
    key += ns;
    key += '/';
  }
  return key;
}

std::string BlockKey::Format() const {
  return fmt::format("{}assignment/ipv{}/block/{}", kIpamPrefix, cidr.family(),
                     CidrSegmentText(cidr));
}

Result<BlockKey> BlockKey::Parse(std::string_view path) {
  auto rest = After(path, fmt::format("{}assignment/", kIpamPrefix));
  if (!rest) return NotA("a block", path);
  auto cidr = FamilyBlockSegments(*rest);
  if (!cidr) return NotA("a block", path);
  return BlockKey{.cidr = *cidr};
}

std::string BlockKey::ListPrefix(int family) {
  if (family == 0) return fmt::format("{}assignment/", kIpamPrefix);
  return fmt::format("{}assignment/ipv{}/block/", kIpamPrefix, family);
}

std::string BlockAffinityKey::Format() const {
  return fmt::format("{}{}/{}/ipv{}/block/{}", kIpamPrefix,
                     affinity_type.empty() ? "host" : affinity_type, host, cidr.family(),
                     CidrSegmentText(cidr));
}

Result<BlockAffinityKey> BlockAffinityKey::Parse(std::string_view path) {
  auto rest = After(path, kIpamPrefix);
  if (!rest) return NotA("a block affinity", path);
  BlockAffinityKey key;
  const std::size_t type_end = rest->find('/');
  if (type_end == std::string_view::npos) return NotA("a block affinity", path);
  key.affinity_type = std::string(rest->substr(0, type_end));
  if (key.affinity_type != "host" && key.affinity_type != "virtual" && key.affinity_type != "@") {
    return NotA("a block affinity", path);
  }
  std::string_view tail = rest->substr(type_end + 1);
  const std::size_t host_end = tail.find('/');
  if (host_end == std::string_view::npos || !IsSegment(tail.substr(0, host_end))) {
    return NotA("a block affinity", path);
  }
  key.host = std::string(tail.substr(0, host_end));
  auto cidr = FamilyBlockSegments(tail.substr(host_end + 1));
  if (!cidr) return NotA("a block affinity", path);
  key.cidr = *cidr;
  return key;
}

std::string BlockAffinityKey::ListPrefix(std::string_view host, int family) {
  if (family == 0) return fmt::format("{}host/{}/", kIpamPrefix, host);
  return fmt::format("{}host/{}/ipv{}/block/", kIpamPrefix, host, family);
}

std::string BlockAffinity::Format() const {
  return model::Json{{"state", state}, {"deleted", deleted}}.dump();
}

Result<BlockAffinity> BlockAffinity::Parse(std::string_view value) {
  BlockAffinity out;
  if (value.empty()) return out;
  // A stored value: the decoder limits apply (model/json_codec.h).
  auto parsed = model::ParseJson(value, model::kMaxStoredValueBytes);
  if (!parsed || !parsed->is_object()) {
    return InvalidArgument("block affinity: not a JSON object");
  }
  const model::Json& doc = *parsed;
  if (auto it = doc.find("state"); it != doc.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("block affinity: state: must be a string");
    out.state = it->get<std::string>();
  }
  if (auto it = doc.find("deleted"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) return InvalidArgument("block affinity: deleted: must be a boolean");
    out.deleted = it->get<bool>();
  }
  return out;
}

std::string HandleKey::Format() const {
  return ListPrefix() + handle_id;
}

Result<HandleKey> HandleKey::Parse(std::string_view path) {
  auto rest = After(path, ListPrefix());
  if (!rest || !IsSegment(*rest)) return NotA("an IPAM handle", path);
  return HandleKey{.handle_id = std::string(*rest)};
}

std::string HandleKey::ListPrefix() {
  return fmt::format("{}handle/", kIpamPrefix);
}

std::string IpamConfigKey::Format() const {
  return fmt::format("{}config", kIpamPrefix);
}

Result<IpamConfigKey> IpamConfigKey::Parse(std::string_view path) {
  auto rest = After(path, IpamConfigKey{}.Format());
  if (!rest || !rest->empty()) return NotA("the IPAM config", path);
  return IpamConfigKey{};
}

std::string IpamHostPrefix(std::string_view host) {
  return BlockAffinityKey::ListPrefix(host);
}

std::string EncodeStoredResource(const model::Resource& r) {
  model::Json doc = r.doc();
  const model::KindInfo* info = model::LookupKind(r.kind());
  doc["apiVersion"] = info != nullptr ? info->api_version : std::string(model::kApiVersion);
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
  // As in libcalico-go's etcdv3 backend, the key says what the value is: a value that leaves out
  // its kind is read as the key's kind.
  if (!parsed->contains("kind")) {
    if (auto rkey = ResourceKey::Parse(key)) (*parsed)["kind"] = rkey->kind->kind;
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

std::string FelixStatusKey(std::string_view node) {
  return std::string(kFelixStatusPrefix) + std::string(node) + "/status";
}
std::string FelixLastStatusKey(std::string_view node) {
  return std::string(kFelixStatusPrefix) + std::string(node) + "/last_reported_status";
}

std::string FelixReportKey::Format() const {
  return std::string(kFelixStatusPrefix) + node + "/" + leaf;
}

Result<FelixReportKey> FelixReportKey::Parse(std::string_view path) {
  auto rest = After(path, kFelixStatusPrefix);
  if (!rest) return NotA("a Felix status report", path);
  const std::size_t slash = rest->find('/');
  if (slash == std::string_view::npos || !IsSegment(rest->substr(0, slash)) ||
      !IsSegment(rest->substr(slash + 1))) {
    return NotA("a Felix status report", path);
  }
  return FelixReportKey{.node = std::string(rest->substr(0, slash)),
                        .leaf = std::string(rest->substr(slash + 1))};
}

std::string FelixStatusReport::Format() const {
  return model::Json{{"time", time}, {"uptime", uptime}, {"first_update", first_update}}.dump();
}

Result<FelixStatusReport> FelixStatusReport::Parse(std::string_view value) {
  // A stored value: the decoder limits apply (model/json_codec.h).
  auto parsed = model::ParseJson(value, model::kMaxStoredValueBytes);
  if (!parsed || !parsed->is_object()) {
    return InvalidArgument("Felix status report: not a JSON object");
  }
  const model::Json& doc = *parsed;
  FelixStatusReport out;
  if (auto it = doc.find("time"); it != doc.end() && !it->is_null()) {
    if (!it->is_string()) return InvalidArgument("Felix status report: time: must be a string");
    out.time = it->get<std::string>();
  }
  if (auto it = doc.find("uptime"); it != doc.end() && !it->is_null()) {
    if (!it->is_number()) return InvalidArgument("Felix status report: uptime: must be a number");
    out.uptime = it->get<double>();
  }
  if (auto it = doc.find("first_update"); it != doc.end() && !it->is_null()) {
    if (!it->is_boolean()) {
      return InvalidArgument("Felix status report: first_update: must be a boolean");
    }
    out.first_update = it->get<bool>();
  }
  return out;
}

}  // namespace calico::datastore
