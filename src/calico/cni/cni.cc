// CNI plumbing (cni-plugin/pkg/types, containernetworking/cni skel + types/040, types/100).
#include "calico/cni/cni.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/datastore/factory/factory.h"
#include "calico/model/json_codec.h"

namespace calico::cni {
namespace {

std::vector<int> VersionParts(std::string_view v) {
  std::vector<int> out;
  for (const std::string& p : StrSplit(v, '.')) {
    int n = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return {0, 0, 0};
      n = n * 10 + (c - '0');
    }
    out.push_back(n);
  }
  while (out.size() < 3)
    out.push_back(0);
  return out;
}

std::string GetString(const Json& j, const char* key, const std::string& def = "") {
  if (!j.contains(key)) return def;
  if (j[key].is_string()) return j[key].get<std::string>();
  if (j[key].is_boolean()) return j[key].get<bool>() ? "true" : "false";
  return def;
}

std::vector<std::string> GetStringList(const Json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const Json& e : j[key]) {
    if (e.is_string()) out.push_back(e.get<std::string>());
  }
  return out;
}

}  // namespace

int CompareVersions(std::string_view a, std::string_view b) {
  auto pa = VersionParts(a);
  auto pb = VersionParts(b);
  return pa < pb ? -1 : pa > pb ? 1 : 0;
}

Result<Invocation> ParseInvocation(const std::map<std::string, std::string>& env) {
  auto get = [&](const char* k) {
    auto it = env.find(k);
    return it == env.end() ? std::string() : it->second;
  };
  Invocation inv;
  inv.command = get("CNI_COMMAND");
  if (inv.command.empty()) return InvalidArgument("required env variables [CNI_COMMAND] missing");
  inv.container_id = get("CNI_CONTAINERID");
  inv.netns = get("CNI_NETNS");
  inv.ifname = get("CNI_IFNAME");
  inv.path = get("CNI_PATH");
  for (const std::string& pair : StrSplit(get("CNI_ARGS"), ';', true)) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos) return InvalidArgument("ARGS: invalid pair \"" + pair + "\"");
    inv.args[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  std::vector<std::string> missing;
  if (inv.command == "ADD" || inv.command == "DEL" || inv.command == "CHECK") {
    if (inv.container_id.empty()) missing.push_back("CNI_CONTAINERID");
    if (inv.ifname.empty()) missing.push_back("CNI_IFNAME");
    if (inv.command != "DEL" && inv.netns.empty()) missing.push_back("CNI_NETNS");
  }
  if (!missing.empty()) {
    return InvalidArgument("required env variables [" + StrJoin(missing, ",") + "] missing");
  }
  return inv;
}

namespace {

// Go's name for a JSON value's type in "cannot unmarshal X into ..." messages.
std::string GoJsonType(const Json& v) {
  if (v.is_string()) return "string";
  if (v.is_boolean()) return "bool";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  if (v.is_number_float()) return "number " + v.dump();
  return "number";
}

CniError DecodingError(std::string msg) {
  return CniError{CniCode::kDecodingFailure, std::move(msg), ""};
}

// version.ConfigDecoder + version.Reconciler of the CNI skel.
std::optional<CniError> CheckConfigVersion(const Json& j) {
  auto it = j.find("cniVersion");
  if (it == j.end() || it->is_null()) return std::nullopt;  // "0.1.0": supported
  if (!it->is_string()) {
    return DecodingError("decoding version from network config: json: cannot unmarshal " +
                         GoJsonType(*it) + " into Go struct field .cniVersion of type string");
  }
  const std::string v = it->get<std::string>();
  std::string supported;
  for (const char* s : kSupportedVersions) {
    if (v == s) return std::nullopt;
    supported += std::string(supported.empty() ? "" : " ") + "\"" + s + "\"";
  }
  // An empty string is refused, where the CNI skel reads it as "0.1.0": a version the user
  // meant to write and did not (an unset template variable, say) must not be taken for the
  // oldest one. An absent or null cniVersion still means 0.1.0, as upstream.
  return CniError{CniCode::kIncompatibleVersion, "incompatible CNI versions",
                  "config is " + Json(v).dump() + ", plugin supports [" + supported + "]"};
}

}  // namespace

Result<NetConf> ParseNetConf(std::string_view stdin_text) {
  auto conf = LoadNetConf(stdin_text);
  if (!conf) return InvalidArgument(conf.error().msg);
  return std::move(*conf);
}

tl::expected<NetConf, CniError> LoadNetConf(std::string_view stdin_text) {
  auto parsed = model::ParseJson(stdin_text);
  if (!parsed)
    return tl::unexpected(DecodingError("failed to load netconf: " + parsed.error().message()));
  Json& j = *parsed;
  if (!j.is_object()) {
    return tl::unexpected(DecodingError("failed to load netconf: stdin is not a JSON object"));
  }
  if (auto bad = CheckConfigVersion(j); bad) return tl::unexpected(std::move(*bad));
  NetConf c;
  c.cni_version = GetString(j, "cniVersion");
  if (c.cni_version.empty()) c.cni_version = "0.2.0";
  if (auto mtu = j.find("mtu"); mtu != j.end() && !mtu->is_null()) {
    if (!mtu->is_number_integer()) {
      return tl::unexpected(DecodingError("failed to load netconf: json: cannot unmarshal " +
                                          GoJsonType(*mtu) +
                                          " into Go struct field NetConf.mtu of type int"));
    }
    // Any JSON integer; an unsigned one past INT64_MAX is out of range all the same.
    const int64_t mtu_value = mtu->is_number_unsigned() && mtu->get<uint64_t>() > INT64_MAX
                                  ? INT64_MAX
                                  : mtu->get<int64_t>();
    if (mtu_value != 0 && (mtu_value < kMinMtu || mtu_value > kMaxMtu)) {
      return tl::unexpected(
          CniError{CniCode::kInvalidConfig,
                   "invalid mtu " + mtu->dump() + ": must be 0 (the default) or between " +
                       std::to_string(kMinMtu) + " and " + std::to_string(kMaxMtu),
                   ""});
    }
    c.mtu = static_cast<int>(mtu_value);
  }
  c.name = GetString(j, "name");
  static const std::regex* name_re = new std::regex("^[a-zA-Z0-9_.\\-]+$");
  if (c.name.empty() || !std::regex_match(c.name, *name_re)) {
    return tl::unexpected(
        CniError{CniCode::kInvalidConfig,
                 "invalid characters detected in the given network name: \"" + c.name +
                     "\"; only letters a-z, A-Z, numbers 0-9, and symbols _.- are supported",
                 ""});
  }
  c.type = GetString(j, "type");
  if (j.contains("ipam") && j["ipam"].is_object()) {
    const Json& ipam = j["ipam"];
    c.ipam.type = GetString(ipam, "type");
    c.ipam.assign_ipv4 = GetString(ipam, "assign_ipv4", "true");
    c.ipam.assign_ipv6 = GetString(ipam, "assign_ipv6", "false");
    c.ipam.ipv4_pools = GetStringList(ipam, "ipv4_pools");
    c.ipam.ipv6_pools = GetStringList(ipam, "ipv6_pools");
  }
  c.nodename = GetString(j, "nodename");
  c.nodename_file = GetString(j, "nodename_file", c.nodename_file);
  if (auto opt = j.find("nodename_file_optional"); opt != j.end() && !opt->is_null()) {
    if (!opt->is_boolean()) {
      return tl::unexpected(
          DecodingError("failed to load netconf: json: cannot unmarshal " + GoJsonType(*opt) +
                        " into Go struct field NetConf.nodename_file_optional of type bool"));
    }
    c.nodename_file_optional = opt->get<bool>();
  }
  c.hostname = GetString(j, "hostname");
  c.datastore_type = GetString(j, "datastore_type");
  c.etcd_endpoints = GetString(j, "etcd_endpoints");
  c.etcd_key_file = GetString(j, "etcd_key_file");
  c.etcd_cert_file = GetString(j, "etcd_cert_file");
  c.etcd_ca_cert_file = GetString(j, "etcd_ca_cert_file");
  c.datastore_path = GetString(j, "datastore_path");
  c.ipam_lock_file = GetString(j, "ipam_lock_file");
  c.log_level = GetString(j, "log_level", "info");
  if (j.contains("policy") && j["policy"].is_object())
    c.policy_type = GetString(j["policy"], "type");
  c.raw = std::move(j);
  return c;
}

LogFileConf LogFileConfFrom(const Json& netconf) {
  LogFileConf c;
  if (!netconf.is_object()) return c;
  if (auto it = netconf.find("log_file_path"); it != netconf.end() && it->is_string()) {
    c.path = it->get<std::string>();
    c.path_given = true;
  }
  for (auto [key, out] : {std::pair{"log_file_max_size", &c.max_size_mb},
                          std::pair{"log_file_max_age", &c.max_age_days},
                          std::pair{"log_file_max_count", &c.max_count}}) {
    auto it = netconf.find(key);
    if (it != netconf.end() && it->is_number_integer() && it->get<int64_t>() > 0 &&
        it->get<int64_t>() < (1 << 20)) {
      *out = static_cast<int>(it->get<int64_t>());
    }
  }
  return c;
}

Status OpenLogFile(const LogFileConf& conf) {
  if (conf.path.empty()) return OkStatus();
  namespace fs = std::filesystem;
  const fs::path path(conf.path);
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (ec) {
    return Unavailable("creating the directory of the CNI log file " + conf.path + ": " +
                       ec.message());
  }
  // Rotated files: <stem>.<n><ext> beside it; those older than max_age_days go.
  const std::string stem = path.stem().string();
  const std::string ext = path.extension().string();
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24) * conf.max_age_days;
  for (const auto& entry :
       fs::directory_iterator(path.has_parent_path() ? path.parent_path() : fs::path("."), ec)) {
    const std::string name = entry.path().filename().string();
    if (!StartsWith(name, stem + ".") || name.size() <= stem.size() + 1 + ext.size() ||
        name.substr(name.size() - ext.size()) != ext) {
      continue;
    }
    const std::string n = name.substr(stem.size() + 1, name.size() - stem.size() - 1 - ext.size());
    if (n.empty() || n.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code time_ec;
    if (entry.last_write_time(time_ec) < cutoff && !time_ec) fs::remove(entry.path(), time_ec);
  }
  if (!log::AddRotatingLogFile(conf.path, static_cast<std::size_t>(conf.max_size_mb) << 20,
                               static_cast<std::size_t>(conf.max_count))) {
    return Unavailable("cannot open the CNI log file " + conf.path);
  }
  return OkStatus();
}

Result<datastore::ClientConfig> ClientConfigFor(const NetConf& conf) {
  ASSIGN_OR_RETURN(datastore::ClientConfig cfg, datastore::ClientConfigFromEnv());
  if (!conf.etcd_endpoints.empty()) {
    cfg.type = datastore::DatastoreType::kEtcdV3;
    cfg.etcd.endpoints = StrSplit(conf.etcd_endpoints, ',', true);
  }
  if (conf.datastore_type == "etcdv3") {
    cfg.type = datastore::DatastoreType::kEtcdV3;
  } else if (conf.datastore_type == "local") {
    cfg.type = datastore::DatastoreType::kLocal;
  } else if (!conf.datastore_type.empty()) {
    return InvalidArgument("unsupported datastore_type \"" + conf.datastore_type +
                           "\" (expected local or etcdv3)");
  }
  if (!conf.etcd_key_file.empty()) cfg.etcd.key_file = conf.etcd_key_file;
  if (!conf.etcd_cert_file.empty()) cfg.etcd.cert_file = conf.etcd_cert_file;
  if (!conf.etcd_ca_cert_file.empty()) cfg.etcd.ca_cert_file = conf.etcd_ca_cert_file;
  if (!conf.datastore_path.empty()) cfg.local_path = conf.datastore_path;
  // The plugins use the store calico-node created; they never create one (nor its directories).
  cfg.create_local_store = false;
  if (cfg.type == datastore::DatastoreType::kEtcdV3 && cfg.etcd.endpoints.empty()) {
    return InvalidArgument("datastore_type etcdv3 needs etcd_endpoints");
  }
  return cfg;
}

std::string DetermineNodename(const NetConf& conf) {
  if (!conf.nodename.empty()) return conf.nodename;
  std::ifstream in(conf.nodename_file);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    if (!ss.str().empty()) return ss.str();
  }
  if (!conf.hostname.empty()) return conf.hostname;
  char buf[256] = {};
  ::gethostname(buf, sizeof(buf) - 1);
  return AsciiLower(StrTrim(buf));
}

Result<Json> RenderResult(const CniResult& result, std::string_view version) {
  bool known = false;
  for (const char* v : kSupportedVersions)
    known = known || version == v;
  if (!known) return InvalidArgument("unsupported CNI result version " + std::string(version));
  Json out;
  out["cniVersion"] = std::string(version);
  if (CompareVersions(version, "0.3.0") < 0) {
    for (int family : {4, 6}) {
      for (const IpConfig& ip : result.ips) {
        if (ip.address.family() != family) continue;
        Json e{{"ip", ip.address.String()}};
        if (ip.gateway) e["gateway"] = ip.gateway->String();
        Json routes = Json::array();
        for (const Route& r : result.routes) {
          if (r.dst.family() != family) continue;
          Json rj{{"dst", r.dst.String()}};
          if (r.gw) rj["gw"] = r.gw->String();
          routes.push_back(rj);
        }
        if (!routes.empty()) e["routes"] = routes;
        out[family == 4 ? "ip4" : "ip6"] = e;
        break;
      }
    }
    out["dns"] = Json::object();
    return out;
  }
  if (!result.interfaces.empty()) {
    Json ifs = Json::array();
    for (const Interface& i : result.interfaces) {
      Json e{{"name", i.name}};
      if (!i.mac.empty()) e["mac"] = i.mac;
      if (i.mtu && CompareVersions(version, "1.0.0") >= 0) e["mtu"] = *i.mtu;
      if (!i.sandbox.empty()) e["sandbox"] = i.sandbox;
      ifs.push_back(e);
    }
    out["interfaces"] = ifs;
  }
  Json ips = Json::array();
  for (const IpConfig& ip : result.ips) {
    Json e;
    if (CompareVersions(version, "1.0.0") < 0) e["version"] = ip.address.family() == 4 ? "4" : "6";
    e["address"] = ip.address.String();
    if (ip.gateway) e["gateway"] = ip.gateway->String();
    if (ip.interface) e["interface"] = *ip.interface;
    ips.push_back(e);
  }
  out["ips"] = ips;
  if (!result.routes.empty()) {
    Json routes = Json::array();
    for (const Route& r : result.routes) {
      Json rj{{"dst", r.dst.String()}};
      if (r.gw) rj["gw"] = r.gw->String();
      routes.push_back(rj);
    }
    out["routes"] = routes;
  }
  out["dns"] = Json::object();
  return out;
}

Result<CniResult> ParseResult(const Json& j) {
  if (!j.is_object()) return InvalidArgument("IPAM plugin returned a result that is not an object");
  CniResult r;
  auto parse_ip = [&](const Json& e, const char* key) -> Status {
    auto addr = net::CIDR::Parse(e.value(key, ""));
    if (!addr) return InvalidArgument("invalid address in IPAM result: " + e.dump());
    IpConfig ip{*addr, std::nullopt, std::nullopt};
    if (e.contains("gateway") && e["gateway"].is_string())
      ip.gateway = net::IPAddr::Parse(e["gateway"].get<std::string>());
    if (e.contains("interface") && e["interface"].is_number_integer())
      ip.interface = e["interface"].get<int>();
    r.ips.push_back(ip);
    return OkStatus();
  };
  if (j.contains("ips") && j["ips"].is_array()) {
    for (const Json& e : j["ips"])
      RETURN_IF_ERROR(parse_ip(e, "address"));
  }
  for (const char* key : {"ip4", "ip6"}) {
    if (j.contains(key) && j[key].is_object()) RETURN_IF_ERROR(parse_ip(j[key], "ip"));
  }
  if (j.contains("routes") && j["routes"].is_array()) {
    for (const Json& e : j["routes"]) {
      auto dst = net::CIDR::Parse(e.value("dst", ""));
      if (!dst) continue;
      Route route{*dst, std::nullopt};
      if (e.contains("gw") && e["gw"].is_string())
        route.gw = net::IPAddr::Parse(e["gw"].get<std::string>());
      r.routes.push_back(route);
    }
  }
  return r;
}

Json VersionInfo(std::string_view cni_version) {
  Json versions = Json::array();
  for (const char* v : kSupportedVersions)
    versions.push_back(v);
  return Json{{"cniVersion", cni_version.empty() ? "1.0.0" : std::string(cni_version)},
              {"supportedVersions", versions}};
}

Json ErrorJson(const CniError& error, std::string_view cni_version) {
  Json j{{"cniVersion", cni_version.empty() ? "1.0.0" : std::string(cni_version)},
         {"code", static_cast<int>(error.code)},
         {"msg", error.msg}};
  if (!error.details.empty()) j["details"] = error.details;
  return j;
}

int PluginCall::Fail(CniCode code, const std::string& msg, const std::string& details) {
  // The message may quote the caller's bytes, which need not be UTF-8: replaced, not thrown on.
  out_ << ErrorJson(CniError{code, msg, details}, version_)
              .dump(-1, ' ', false, Json::error_handler_t::replace)
       << "\n";
  err_ << plugin_ << ": " << msg << (details.empty() ? "" : ": " + details) << "\n";
  exit_code_ = 1;
  return 1;
}

std::unique_ptr<datastore::Backend> PluginCall::OpenDatastore() {
  auto cfg = ClientConfigFor(conf_);
  if (!cfg) {
    Fail(CniCode::kInvalidConfig, cfg.error().message());
    return nullptr;
  }
  // The JSON-gateway client on etcd: a plugin process lives for one ADD or DEL, and loading gRPC
  // cost it more than its requests (datastore/factory/factory.h).
  auto backend = datastore::OpenBackend(*cfg, datastore::EtcdClient::kHttp);
  if (!backend) {
    Fail(CniCode::kTryAgainLater, "datastore: " + backend.error().message());
    return nullptr;
  }
  return std::move(*backend);
}

int PluginCall::PrintAddResult(const Result<CniResult>& result) {
  if (!result) return Fail(CniCode::kInternal, result.error().message());
  auto rendered = RenderResult(*result, version_);
  if (!rendered) return Fail(CniCode::kIncompatibleVersion, rendered.error().message());
  out_ << rendered->dump() << "\n";
  exit_code_ = 0;
  return 0;
}

bool PluginCall::Start(const std::map<std::string, std::string>& env, std::string_view stdin_text) {
  auto inv = ParseInvocation(env);
  if (!inv) {
    Fail(CniCode::kInvalidEnvironment, inv.error().message());
    return false;
  }
  inv_ = std::move(*inv);
  if (inv_.command == "VERSION") {
    auto j = model::ParseJson(stdin_text);
    if (j && j->is_object() && j->contains("cniVersion") && (*j)["cniVersion"].is_string()) {
      version_ = (*j)["cniVersion"].get<std::string>();
    }
    out_ << VersionInfo(version_).dump() << "\n";
    exit_code_ = 0;
    return false;
  }
  auto conf = LoadNetConf(stdin_text);
  if (!conf) {
    Fail(conf.error().code, conf.error().msg, conf.error().details);
    return false;
  }
  conf_ = std::move(*conf);
  version_ = conf_.cni_version;
  // The netconf's log_level (debug, info, warning, error; Calico's default info) applies to what
  // the plugin writes on stderr, which the runtime collects, and to its log file (plugin_main.cc).
  log::SetAllLevels(conf_.log_level);
  CALICO_LOG(info, "cni", "{} container={} netns={} ifname={} network={}", inv_.command,
             inv_.container_id, inv_.netns, inv_.ifname, conf_.name);
  return true;
}

}  // namespace calico::cni
