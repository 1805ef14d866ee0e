// calico-node start-up (node/pkg/lifecycle/startup): the one-shot pass that runs before felix and
// BIRD. It reads its settings from the environment, then:
//
//   EnsureInitialized ─▶ node name ─▶ Get Node ─▶ IPv4/IPv6 (autodetect | explicit | keep | none)
//        ─▶ spec.interfaces ─▶ conflict check (when an address changed) ─▶ AS number
//        ─▶ write Node if changed ─▶ default IP pools (only for a family with no pool)
//        ─▶ default config (ensureDefaultConfig): ClusterInformation calicoVersion/clusterType,
//           FelixConfiguration "default" (reportingInterval 0s, logSeverityScreen Info) and
//           "node.<name>" (defaultEndpointToHostAction Return), only filling in what is unset
//        ─▶ write the nodename file
//
// The nodename file is written last: the CNI plugin waits for it, so it must not appear before
// the Node resource and the pools exist.
//
// Environment (StartupConfig::FromEnv):
//   NODENAME, HOSTNAME            node name (then CALICO_NODENAME_FILE's contents, then the OS
//                                 host name; HOSTNAME and the OS name are lower-cased)
//   CALICO_NODENAME_FILE          default /var/lib/calico/nodename
//   IP, IP6                       "" | autodetect | none | ADDR | ADDR/LEN
//   IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD   see autodetect.h (default first-found)
//   AS                            spec.bgp.asNumber (plain or AS-dot)
//   CALICO_NETWORKING_BACKEND     bird (default) | vxlan | none (policy only: addresses are still
//                                 handled, but no AS number and no address is required)
//   CALICO_ROUTER_ID              "" | hash | IPv4 address (passed on to the BGP configuration)
//   DISABLE_NODE_IP_CHECK         true: skip the duplicate-address check
//   NO_DEFAULT_POOLS              true: create no pool (error if a pool CIDR is also set)
//   CALICO_IPV4POOL_CIDR          default 192.168.0.0/16 (172.16-31.0.0/16 if that overlaps a host
//                                 subnet); "none" disables the family
//   CALICO_IPV6POOL_CIDR          default: a random ULA /48, only when the host has IPv6
//   CALICO_IPV{4,6}POOL_BLOCK_SIZE       26 (20-32) / 122 (116-128)
//   CALICO_IPV4POOL_IPIP          Never (default) | Always | CrossSubnet (also off, cross-subnet;
//                                 case-insensitive). Calico's manifests set Always explicitly.
//   CALICO_IPV{4,6}POOL_VXLAN     as above; default Never
//   CALICO_IPV{4,6}POOL_NAT_OUTGOING     v4 default true, v6 default false
//   CALICO_IPV{4,6}POOL_NODE_SELECTOR    default all()
//   CALICO_IPV{4,6}POOL_DISABLE_BGP_EXPORT  default false
//   CLUSTER_TYPE                  comma-separated types added to ClusterInformation's clusterType
//                                 (existing values are kept, new ones appended)
//
// Thread-safety: RunStartup uses the Client and AddressSource it is given from the calling thread
// only; run one start-up at a time per node.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/client.h"
#include "calico/model/resource.h"
#include "calico/net/ip.h"
#include "calico/node/autodetect.h"

namespace calico::node {

using EnvMap = std::map<std::string, std::string>;

// The process environment as an EnvMap.
EnvMap ProcessEnv();

inline constexpr const char* kDefaultNodenameFile = "/var/lib/calico/nodename";
inline constexpr const char* kDefaultIPv4PoolName = "default-ipv4-ippool";
inline constexpr const char* kDefaultIPv6PoolName = "default-ipv6-ippool";

enum class EncapMode { kNever, kAlways, kCrossSubnet };
enum class NetworkingBackend { kBird, kVxlan, kNone };

// "Never" / "Always" / "CrossSubnet" (the IPPool spelling).
std::string_view EncapModeName(EncapMode mode);

struct PoolConfig {
  bool enabled = true;            // false: CIDR "none"
  std::optional<net::CIDR> cidr;  // nullopt: the default for the family
  int block_size = 26;
  EncapMode ipip = EncapMode::kNever;
  EncapMode vxlan = EncapMode::kNever;
  bool nat_outgoing = true;
  std::string node_selector = "all()";
  bool disable_bgp_export = false;

  // Calico's defaults for `family` (4 or 6): block 26 / 122, NAT outgoing on for IPv4 only.
  static PoolConfig Defaults(int family) {
    PoolConfig p;
    p.block_size = family == 4 ? 26 : 122;
    p.nat_outgoing = family == 4;
    return p;
  }
};

struct StartupConfig {
  std::string nodename;  // NODENAME
  std::string hostname;  // HOSTNAME
  std::string nodename_file = kDefaultNodenameFile;
  std::string ip;                       // IP
  std::string ip6;                      // IP6
  std::string ip_autodetection_method;  // "" = first-found
  std::string ip6_autodetection_method;
  std::optional<uint32_t> as_number;
  NetworkingBackend backend = NetworkingBackend::kBird;
  std::string router_id;
  bool disable_node_ip_check = false;
  bool no_default_pools = false;
  PoolConfig ipv4_pool = PoolConfig::Defaults(4);
  PoolConfig ipv6_pool = PoolConfig::Defaults(6);
  std::string cluster_type;    // CLUSTER_TYPE: added to ClusterInformation's clusterType
  std::string calico_version;  // not from the environment: the caller's build version, written
                               // to ClusterInformation's calicoVersion ("" leaves it alone)

  // Parses and checks every value up front, so a typo fails before anything is written.
  // Errors: kInvalidArgument naming the variable and the value.
  [[nodiscard]] static Result<StartupConfig> FromEnv(const EnvMap& env);
};

// NODENAME, else the nodename file's contents (trimmed), else HOSTNAME, else the OS host name (both
// lower-cased). Errors: kInvalidArgument when nothing yields a name.
[[nodiscard]] Result<std::string> DetermineNodeName(const StartupConfig& config);

struct StartupResult {
  std::string node_name;
  model::Resource node;  // the Node as stored after start-up
  bool node_created = false;
  bool node_updated = false;
  std::optional<net::CIDR> ipv4;  // spec.bgp.ipv4Address
  std::optional<net::CIDR> ipv6;  // spec.bgp.ipv6Address
  std::string ipv4_interface;     // where an autodetected/explicit address was found
  std::string ipv6_interface;
  std::vector<std::string> created_pools;    // names
  std::string router_id;                     // CALICO_ROUTER_ID, for the BGP configuration
  std::vector<std::string> warnings;         // also logged
  std::vector<std::string> created_records;  // "FelixConfiguration/default", ...
  std::vector<std::string> updated_records;  // "ClusterInformation/default", ...
};

// Runs start-up against `client` with the host seen through `host`.
// Errors (nothing more is written after the first one; the nodename file only on success):
//   kNotFound / kUnavailable  autodetection found nothing / could not ask the host; with no
//                     stored address: "Couldn't autodetect an IPv4 address. If auto-detecting,
//                     choose a different autodetection method. Otherwise provide an explicit
//                     address. (<why>)"
//   kInvalidArgument  no address at all with a BGP backend, an invalid stored address, a pool the
//                     Client rejects ("Failed to create default IPv4 IP pool <cidr>: ...")
//   kAlreadyExists    another Node has our (changed) address: "Calico node 'x' is already using
//                     the IPv4 address 10.0.0.1." An existing node with IP=autodetect loses the
//                     address in the store first, as in Calico.
//   kUnsupported      kubernetes-internal-ip autodetection
//   kConflict, kUnavailable  from the datastore, wrapped with what was being written
//   kPermissionDenied / kUnavailable  writing the nodename file
[[nodiscard]] Result<StartupResult> RunStartup(const StartupConfig& config,
                                               datastore::Client& client, AddressSource& host);

}  // namespace calico::node
