// CNI plumbing shared by the `calico` and `calico-ipam` plugins (cni-plugin/pkg and the CNI
// skel library): the runtime environment, Calico's network configuration, results in every
// spec version 0.1.0 - 1.0.0, and CNI error objects.
//
// Thread-safety: values and pure functions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"
#include "calico/net/ip.h"

namespace calico::cni {

using Json = nlohmann::json;

inline constexpr const char* kSupportedVersions[] = {"0.1.0", "0.2.0", "0.3.0",
                                                     "0.3.1", "0.4.0", "1.0.0"};

// The MTUs a network configuration may ask for (0 = the default): IPv4's minimum (RFC 791) to
// the largest a veth takes.
inline constexpr int64_t kMinMtu = 68;
inline constexpr int64_t kMaxMtu = 65535;

// CNI error codes (spec section "Error").
enum class CniCode : int {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidConfig = 7,
  kTryAgainLater = 11,
  kInternal = 999,
};

struct CniError {
  CniCode code = CniCode::kInternal;
  std::string msg;
  std::string details;
};

// CNI_* variables of the invocation.
struct Invocation {
  std::string command;  // ADD DEL CHECK VERSION GC STATUS
  std::string container_id;
  std::string netns;
  std::string ifname;
  std::string path;
  std::map<std::string, std::string> args;  // CNI_ARGS parsed ("IP" -> "10.0.0.5")
};

// Reads CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH, CNI_ARGS from `env`.
[[nodiscard]] Result<Invocation> ParseInvocation(const std::map<std::string, std::string>& env);

struct IpamConf {
  std::string type;
  std::string assign_ipv4 = "true";
  std::string assign_ipv6 = "false";
  std::vector<std::string> ipv4_pools;
  std::vector<std::string> ipv6_pools;
};

// The network configuration Calico's plugins accept (reference 1.2). Unknown keys are ignored.
struct NetConf {
  std::string cni_version = "0.2.0";
  std::string name;
  std::string type;
  IpamConf ipam;
  int mtu = 0;
  std::string nodename;
  std::string nodename_file = "/var/lib/calico/nodename";
  bool nodename_file_optional = false;
  std::string hostname;  // deprecated alias of nodename
  std::string datastore_type;
  std::string etcd_endpoints;
  std::string etcd_key_file;
  std::string etcd_cert_file;
  std::string etcd_ca_cert_file;
  std::string datastore_path;  // Ours: the embedded store file (else CALICO_DATASTORE_PATH).
  std::string ipam_lock_file;  // The host-wide IPAM lock; "" = /var/run/calico/ipam.lock.
  std::string log_level = "info";
  std::string policy_type;
  Json raw;  // The whole stdin document (passed unchanged to the IPAM plugin).
};

// Loads the network configuration as the CNI skel and Calico's plugins do, with the decoder
// limits (model/decode_limits.h: size, nesting depth):
//   * not JSON, too big, too deep, not an object: code 6 "failed to load netconf: ...";
//   * cniVersion not a string: code 6 "decoding version from network config: json: cannot
//     unmarshal number into Go struct field .cniVersion of type string" (version.ConfigDecoder);
//   * cniVersion not one the plugins support: code 1 "incompatible CNI versions", details
//     `config is "5", plugin supports [...]` (version.Reconciler). "" means 0.1.0 there and is
//     accepted, then used as 0.2.0 (cni-plugin/pkg/plugin/plugin.go);
//   * mtu not an integer: code 6 "failed to load netconf: json: cannot unmarshal string into Go
//     struct field NetConf.mtu of type int"; an integer outside 0 (the default) or 68..65535:
//     code 7 (Go takes it and the kernel refuses the veth later);
//   * a bad network name: code 7.
[[nodiscard]] tl::expected<NetConf, CniError> LoadNetConf(std::string_view stdin_text);

// The plugins' log file, as upstream's (cni-plugin/internal/pkg/utils/utils.go ConfigureLogging,
// cni-plugin/pkg/types/types.go): the netconf's log_file_path (absent: what Calico's installer
// writes there, /var/log/calico/cni/cni.log; "": stderr only), rotated when it reaches
// log_file_max_size MB (100), rotated files (cni.1.log, cni.2.log, ...) kept at most
// log_file_max_count (10) and log_file_max_age days (30). Absent, 0 or mistyped sizes are the
// defaults: the log never fails a CNI operation.
struct LogFileConf {
  std::string path = "/var/log/calico/cni/cni.log";
  bool path_given = false;  // log_file_path was in the netconf
  int max_size_mb = 100;
  int max_age_days = 30;
  int max_count = 10;
};
LogFileConf LogFileConfFrom(const Json& netconf);

// Adds the log file beside stderr for every logger (creating its directory) and removes rotated
// files older than max_age_days. An error names the file; the caller logs it and goes on.
[[nodiscard]] Status OpenLogFile(const LogFileConf& conf);

// LoadNetConf with the CNI error's message as a kInvalidArgument error.
[[nodiscard]] Result<NetConf> ParseNetConf(std::string_view stdin_text);

// Datastore client configuration from the network config, falling back to the environment.
[[nodiscard]] Result<datastore::ClientConfig> ClientConfigFor(const NetConf& conf);

// Node name: nodename, then the nodename file, then hostname, then the OS hostname (lower case).
std::string DetermineNodename(const NetConf& conf);

// A CNI result in the internal (1.0.0-like) form.
struct IpConfig {
  net::CIDR address;  // 10.0.0.5/32
  std::optional<net::IPAddr> gateway;
  std::optional<int> interface;  // index into interfaces
};
struct Interface {
  std::string name;
  std::string mac;
  std::string sandbox;
  std::optional<int> mtu;
};
struct Route {
  net::CIDR dst;
  std::optional<net::IPAddr> gw;
};
struct CniResult {
  std::vector<Interface> interfaces;
  std::vector<IpConfig> ips;
  std::vector<Route> routes;
};

// Renders the result in `version` (0.1.0/0.2.0: ip4/ip6; 0.3.x/0.4.0: ips with "version";
// 1.0.0: ips without it). Errors: kInvalidArgument for an unsupported version.
[[nodiscard]] Result<Json> RenderResult(const CniResult& result, std::string_view version);
// Parses a result printed by another plugin (any version) into the internal form.
[[nodiscard]] Result<CniResult> ParseResult(const Json& j);

Json VersionInfo(std::string_view cni_version);

// What every plugin invocation starts with: the CNI environment, VERSION answered, the network
// configuration parsed. Fail() prints the CNI error object (in the config's cniVersion once known)
// on `out` and "<plugin>: msg" on `err`, and returns the exit code 1.
class PluginCall {
 public:
  PluginCall(std::string_view plugin, std::ostream& out, std::ostream& err)
      : plugin_(plugin), out_(out), err_(err) {}
  // Returns true when the caller should go on with inv() and conf(); false when the call is
  // answered (VERSION) or failed; exit_code() then says how.
  bool Start(const std::map<std::string, std::string>& env, std::string_view stdin_text);
  int Fail(CniCode code, const std::string& msg, const std::string& details = "");
  // The datastore the network config names; nullptr after printing the CNI error.
  std::unique_ptr<datastore::Backend> OpenDatastore();
  // An ADD's outcome: the result in the config's version on `out` (exit code 0), or the error.
  int PrintAddResult(const Result<CniResult>& result);
  int exit_code() const { return exit_code_; }
  const Invocation& inv() const { return inv_; }
  const NetConf& conf() const { return conf_; }
  const std::string& version() const { return version_; }

 private:
  std::string plugin_;
  std::ostream& out_;
  std::ostream& err_;
  std::string version_ = "1.0.0";
  Invocation inv_;
  NetConf conf_;
  int exit_code_ = 0;
};
Json ErrorJson(const CniError& error, std::string_view cni_version);

// "0.3.1" < "1.0.0" etc. Unknown text compares as 0.0.0.
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace calico::cni
