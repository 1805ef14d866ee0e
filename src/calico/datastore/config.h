// Client configuration (calicoctl/calicoctl/commands/clientmgr + libcalico-go/lib/apiconfig):
// a CalicoAPIConfig file (-c/--config, default /etc/calico/calicoctl.cfg) or environment variables
// (CALICO_<VAR> first, then <VAR>).
//
//   DATASTORE_TYPE         local (default) | etcdv3 (implied when ETCD_ENDPOINTS is set)
//   CALICO_DATASTORE_PATH  the local store file (default /var/lib/calico/calico.db)
//   ETCD_ENDPOINTS, ETCD_USERNAME, ETCD_PASSWORD, ETCD_KEY_FILE, ETCD_CERT_FILE, ETCD_CA_CERT_FILE
//
// Thread-safety: pure functions (reads the environment).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "calico/base/result.h"

namespace calico::datastore {

inline constexpr const char* kDefaultConfigPath = "/etc/calico/calicoctl.cfg";
inline constexpr const char* kDefaultLocalPath = "/var/lib/calico/calico.db";

struct EtcdConfig {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379"
  std::string username;
  std::string password;
  std::string ca_cert_file;
  std::string cert_file;
  std::string key_file;
  std::chrono::milliseconds dial_timeout{10000};
};

enum class DatastoreType { kLocal, kEtcdV3 };

struct ClientConfig {
  DatastoreType type = DatastoreType::kLocal;
  std::string local_path = kDefaultLocalPath;
  // False for the CNI plugins: they only use a store calico-node (or calicoctl) created, and fail
  // with a clear message rather than create a new empty store (and its directories) of their own.
  bool create_local_store = true;
  EtcdConfig etcd;
};

// Loads from `config_path` if that file exists; a missing file is an error only when
// path_given (Calico: "Error reading config file: <path>"). Otherwise, and when the default file
// holds no document (only comments, as the Debian package ships it), from the environment.
// Errors: kInvalidArgument for a malformed file or unsupported datastore type.
[[nodiscard]] Result<ClientConfig> LoadClientConfig(
    const std::string& config_path = kDefaultConfigPath, bool path_given = false);
// From the environment only.
[[nodiscard]] Result<ClientConfig> ClientConfigFromEnv();

}  // namespace calico::datastore
