// CalicoAPIConfig and environment handling (libcalico-go/lib/apiconfig,
// clientmgr.LoadClientConfig).
#include "calico/datastore/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "calico/base/strings.h"
#include "calico/model/yaml_codec.h"

namespace calico::datastore {
namespace {

std::string Env(const char* name) {
  std::string calico_name = std::string("CALICO_") + name;
  if (const char* v = std::getenv(calico_name.c_str()); v && *v) return v;
  if (const char* v = std::getenv(name); v && *v) return v;
  return "";
}

struct RawConfig {
  std::string datastore_type;
  std::string endpoints;
  std::string username;
  std::string password;
  std::string ca;
  std::string cert;
  std::string key;
  std::string local_path;
};

Result<ClientConfig> Finish(const RawConfig& raw) {
  ClientConfig cfg;
  std::string type = raw.datastore_type;
  if (type.empty()) type = raw.endpoints.empty() ? "local" : "etcdv3";
  if (type == "etcdv3") {
    cfg.type = DatastoreType::kEtcdV3;
  } else if (type == "local") {
    cfg.type = DatastoreType::kLocal;
  } else if (type == "kubernetes") {
    return InvalidArgument(
        "datastore type kubernetes is not supported by this build; use local or etcdv3");
  } else {
    return InvalidArgument("unknown datastore type: " + type + " (expected local or etcdv3)");
  }
  if (!raw.local_path.empty()) cfg.local_path = raw.local_path;
  cfg.etcd.endpoints = StrSplit(raw.endpoints, ',', true);
  for (std::string& e : cfg.etcd.endpoints)
    e = std::string(StrTrim(e));
  cfg.etcd.username = raw.username;
  cfg.etcd.password = raw.password;
  cfg.etcd.ca_cert_file = raw.ca;
  cfg.etcd.cert_file = raw.cert;
  cfg.etcd.key_file = raw.key;
  if (cfg.type == DatastoreType::kEtcdV3 && cfg.etcd.endpoints.empty()) {
    return InvalidArgument("no etcd endpoints specified");
  }
  return cfg;
}

}  // namespace

Result<ClientConfig> ClientConfigFromEnv() {
  RawConfig raw{
      Env("DATASTORE_TYPE"),    Env("ETCD_ENDPOINTS"), Env("ETCD_USERNAME"), Env("ETCD_PASSWORD"),
      Env("ETCD_CA_CERT_FILE"), Env("ETCD_CERT_FILE"), Env("ETCD_KEY_FILE"), ""};
  if (const char* p = std::getenv("CALICO_DATASTORE_PATH"); p && *p) raw.local_path = p;
  return Finish(raw);
}

Result<ClientConfig> LoadClientConfig(const std::string& config_path, bool path_given) {
  std::error_code ec;
  if (!std::filesystem::exists(config_path, ec)) {
    if (path_given) return InvalidArgument("Error reading config file: " + config_path);
    return ClientConfigFromEnv();
  }
  std::ifstream in(config_path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return InvalidArgument("Error reading config file: " + config_path);
  // The calicoctl YAML codec (sigs.k8s.io/yaml into apiconfig.CalicoAPIConfig).
  auto parsed = model::ParseYaml(text.str());
  if (!parsed) {
    return InvalidArgument("invalid config file " + config_path + ": " + parsed.error().message());
  }
  const model::Json& doc = *parsed;
  // A string field given a number or boolean takes its text, as sigs.k8s.io/yaml does when the
  // target field is a string.
  auto text_of = [](const model::Json& obj, const char* k) -> std::string {
    auto it = obj.find(k);
    if (it == obj.end() || it->is_null() || it->is_structured()) return "";
    return it->is_string() ? it->get<std::string>() : it->dump();
  };
  if (doc.is_null() && !path_given) {
    // Only comments (the file the Debian package ships): no settings here, the environment's
    // apply. Calico's calicoctl rejects such a file; a file named with -c still must hold one.
    return ClientConfigFromEnv();
  }
  if (!doc.is_object() || text_of(doc, "kind") != "CalicoAPIConfig") {
    return InvalidArgument("invalid config file " + config_path +
                           ": expected kind CalicoAPIConfig");
  }
  if (doc.contains("apiVersion") && text_of(doc, "apiVersion") != "projectcalico.org/v3") {
    return InvalidArgument("invalid config file " + config_path +
                           ": apiVersion must be projectcalico.org/v3");
  }
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    const std::string& k = it.key();
    if (k != "apiVersion" && k != "kind" && k != "metadata" && k != "spec") {
      return InvalidArgument(
          "invalid config file " + config_path +
          ": field in document is not recognized or is in the wrong location: " + k);
    }
  }
  RawConfig raw;
  auto spec_it = doc.find("spec");
  if (spec_it != doc.end() && spec_it->is_object()) {
    const model::Json& spec = *spec_it;
    static const char* kKnown[] = {"datastoreType", "etcdEndpoints",  "etcdUsername",
                                   "etcdPassword",  "etcdCACertFile", "etcdCertFile",
                                   "etcdKeyFile",   "datastorePath",  "etcdDiscoverySrv",
                                   "etcdKey",       "etcdCert",       "etcdCACert"};
    for (auto it = spec.begin(); it != spec.end(); ++it) {
      bool known = false;
      for (const char* n : kKnown)
        known = known || it.key() == n;
      if (!known) {
        return InvalidArgument(
            "invalid config file " + config_path +
            ": field in document is not recognized or is in the wrong location: spec." + it.key());
      }
    }
    auto get = [&](const char* k) { return text_of(spec, k); };
    raw = RawConfig{get("datastoreType"), get("etcdEndpoints"),  get("etcdUsername"),
                    get("etcdPassword"),  get("etcdCACertFile"), get("etcdCertFile"),
                    get("etcdKeyFile"),   get("datastorePath")};
  }
  return Finish(raw);
}

}  // namespace calico::datastore
