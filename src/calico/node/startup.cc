// calico-node start-up (node/pkg/lifecycle/startup/startup.go: determineNodeName,
// configureIPsAndSubnets, checkConflictingNodes, configureASNumber, configureIPPools). Messages
// that users search for keep Calico's wording.
// Size: over 700 lines because it follows startup.go's one sequence (name, addresses, AS, pools,
// default records) step by step; each step is a function, kept in the upstream order.
#include "calico/node/startup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>  // gethostname

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/base/numbers.h"
#include "calico/base/random.h"
#include "calico/base/strings.h"
#include "calico/base/subprocess.h"
#include "calico/base/unique_fd.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/node.h"

namespace calico::node {
namespace {

using model::Json;
using model::Resource;

constexpr const char* kLog = "startup";

std::string Env(const EnvMap& env, const std::string& key) {
  auto it = env.find(key);
  return it == env.end() ? std::string() : it->second;
}

bool IsSet(const EnvMap& env, const std::string& key) {
  return !Env(env, key).empty();
}

// Calico's createIPPool mode parsing (case-insensitive; unset is Never).
Result<EncapMode> ParseEncap(const std::string& var, const std::string& kind,
                             const std::string& value) {
  std::string v = AsciiLower(value);
  if (v.empty() || v == "off" || v == "never") return EncapMode::kNever;
  if (v == "always") return EncapMode::kAlways;
  if (v == "crosssubnet" || v == "cross-subnet") return EncapMode::kCrossSubnet;
  return InvalidArgument(
      fmt::format("Unrecognized {} mode specified in {} '{}' (use Never, Always or CrossSubnet)",
                  kind, var, value));
}

// Go's strconv.ParseBool.
Result<bool> ParseGoBool(const std::string& var, const std::string& value, bool def) {
  if (value.empty()) return def;
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
    if (value == t) return true;
  }
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
    if (value == f) return false;
  }
  return InvalidArgument(
      fmt::format("Invalid value '{}' for {}: must be true or false", value, var));
}

// CALICO_IPV{4,6}POOL_NAT_OUTGOING: false/0/no/n/f (any case) is false, any other value true.
bool ParseNatOutgoing(const std::string& value, bool def) {
  if (value.empty()) return def;
  std::string v = AsciiLower(value);
  return !(v == "false" || v == "0" || v == "no" || v == "n" || v == "f");
}

// numorstring.ASNumber: a 32-bit number or AS-dot "high.low" (two 16-bit numbers).
std::optional<uint32_t> ParseAsn(std::string_view s) {
  auto parse_u = [](std::string_view t, uint64_t max) -> std::optional<uint64_t> {
    Result<uint64_t> v = ParseIntInRange<uint64_t>(t, 0, max);
    if (!v) return std::nullopt;
    return *v;
  };
  if (auto dot = s.find('.'); dot != std::string_view::npos) {
    auto hi = parse_u(s.substr(0, dot), 0xffff);
    auto lo = parse_u(s.substr(dot + 1), 0xffff);
    if (!hi || !lo) return std::nullopt;
    return static_cast<uint32_t>((*hi << 16) | *lo);
  }
  auto v = parse_u(s, 0xffffffffULL);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// IP / IP6: "", autodetect, none, an address or address/len of the right family.
Status CheckIPEnv(const std::string& var, const std::string& value, int family) {
  if (value.empty() || value == "autodetect" || value == "none") return OkStatus();
  auto cidr = net::CIDR::ParseNet(value);
  if (!cidr || cidr->family() != family) {
    return InvalidArgument(fmt::format(
        "Invalid IPv{} address specified in {} environment variable: '{}' (use an address, "
        "address/prefix, autodetect or none)",
        family, var, value));
  }
  return OkStatus();
}

Result<PoolConfig> ParsePool(const EnvMap& env, int family) {
  const std::string prefix = fmt::format("CALICO_IPV{}POOL_", family);
  PoolConfig pool = PoolConfig::Defaults(family);

  const std::string cidr_var = prefix + "CIDR";
  std::string cidr_text = std::string(StrTrim(Env(env, cidr_var)));
  if (AsciiLower(cidr_text) == "none") {
    pool.enabled = false;
  } else if (!cidr_text.empty()) {
    auto cidr = net::CIDR::Parse(cidr_text);
    if (!cidr || cidr->family() != family) {
      return InvalidArgument(fmt::format("Invalid CIDR specified in {} '{}'", cidr_var, cidr_text));
    }
    pool.cidr = cidr->Masked();
  }

  const std::string bs_var = prefix + "BLOCK_SIZE";
  if (std::string bs = Env(env, bs_var); !bs.empty()) {
    auto n = ParseInt<int>(StrTrim(bs));
    const int lo = family == 4 ? 20 : 116;
    const int hi = family == 4 ? 32 : 128;
    if (!n || *n < lo || *n > hi) {
      return InvalidArgument(fmt::format(
          "Invalid block size specified in {} '{}': must be between {} and {} for IPv{}", bs_var,
          bs, lo, hi, family));
    }
    pool.block_size = *n;
  }
  if (pool.cidr && pool.cidr->prefix_len() > pool.block_size) {
    return InvalidArgument(fmt::format("{} {} is smaller than one /{} block ({})", cidr_var,
                                       pool.cidr->String(), pool.block_size, bs_var));
  }

  if (family == 4) {
    ASSIGN_OR_RETURN(pool.ipip, ParseEncap(prefix + "IPIP", "IPIP", Env(env, prefix + "IPIP")));
  }
  ASSIGN_OR_RETURN(pool.vxlan, ParseEncap(prefix + "VXLAN", "VXLAN", Env(env, prefix + "VXLAN")));
  if (pool.ipip != EncapMode::kNever && pool.vxlan != EncapMode::kNever) {
    return InvalidArgument(fmt::format(
        "Invalid configuration: {}IPIP ({}) and {}VXLAN ({}) cannot both be enabled; set one of "
        "them to Never",
        prefix, EncapModeName(pool.ipip), prefix, EncapModeName(pool.vxlan)));
  }
  pool.nat_outgoing = ParseNatOutgoing(Env(env, prefix + "NAT_OUTGOING"), pool.nat_outgoing);
  if (std::string sel = Env(env, prefix + "NODE_SELECTOR"); !sel.empty()) pool.node_selector = sel;
  ASSIGN_OR_RETURN(
      pool.disable_bgp_export,
      ParseGoBool(prefix + "DISABLE_BGP_EXPORT", Env(env, prefix + "DISABLE_BGP_EXPORT"), false));
  return pool;
}

// ---------------------------------------------------------------------------------------------
// Node addresses

const char* AddressField(int family) {
  return family == 4 ? "ipv4Address" : "ipv6Address";
}

std::string StoredAddress(const Json& bgp, int family) {
  auto it = bgp.find(AddressField(family));
  return it != bgp.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void Warn(StartupResult& result, std::string message) {
  CALICO_LOG(warn, kLog, "{}", message);
  result.warnings.push_back(std::move(message));
}

// Calico's validateIP: an address that is on no local interface is accepted with a warning.
Status ValidateIP(AddressSource& host, const std::string& text, StartupResult& result,
                  std::string* iface) {
  auto cidr = net::CIDR::ParseNet(text);
  if (!cidr) return InvalidArgument(fmt::format("Failed to parse autodetected CIDR '{}'", text));
  ASSIGN_OR_RETURN(auto local, FindLocalAddress(host, cidr->addr()));
  if (local) {
    *iface = local->interface;
  } else {
    Warn(result, fmt::format("Unable to confirm IPv{} address {} is assigned to this host",
                             cidr->family(), cidr->addr().String()));
  }
  return OkStatus();
}

// configureIPsAndSubnets for one family. Updates spec.bgp.ipv{4,6}Address in `bgp`.
Status ConfigureAddress(const StartupConfig& config, int family, AddressSource& host, Json& bgp,
                        StartupResult& result) {
  const std::string& env = family == 4 ? config.ip : config.ip6;
  const std::string& method =
      family == 4 ? config.ip_autodetection_method : config.ip6_autodetection_method;
  std::string& iface = family == 4 ? result.ipv4_interface : result.ipv6_interface;
  const char* field = AddressField(family);
  const std::string stored = StoredAddress(bgp, family);

  // IPv4 is detected when asked to, or when there is nothing stored; IPv6 only when asked to.
  const bool detect = env == "autodetect" || (family == 4 && env.empty() && stored.empty());
  if (detect) {
    auto found = AutodetectAddress(host, method, family);
    if (found) {
      CALICO_LOG(info, kLog, "autodetected ipv{} address={} interface={} method={}", family,
                 found->cidr.String(), found->interface, method.empty() ? "first-found" : method);
      bgp[field] = found->cidr.String();
      iface = found->interface;
      return OkStatus();
    }
    ErrorCode code = found.error().code();
    if (code == ErrorCode::kInvalidArgument || code == ErrorCode::kUnsupported) {
      return Unexpected(found.error());
    }
    if (stored.empty()) {
      return MakeError(code, fmt::format("Couldn't autodetect an IPv{} address. If "
                                         "auto-detecting, choose a different autodetection "
                                         "method. Otherwise provide an explicit address. ({})",
                                         family, found.error().message()));
    }
    Warn(result, fmt::format("Autodetection of IPv{} address failed, keeping existing value: {} "
                             "({})",
                             family, stored, found.error().message()));
    return ValidateIP(host, stored, result, &iface);
  }
  if (env.empty() || env == "none") {
    if (!stored.empty()) {
      CALICO_LOG(info, kLog, "keeping existing ipv{} address={}", family, stored);
      return ValidateIP(host, stored, result, &iface);
    }
    return OkStatus();
  }
  // An explicit address. A bare IPv4 address takes the prefix length of the local interface
  // holding it (GetLocalCIDR); otherwise a bare address is a /32 or /128, as Calico stores it.
  auto given = net::CIDR::ParseNet(env);
  CALICO_CHECK(given.has_value());  // checked by FromEnv
  net::CIDR addr = *given;
  if (family == 4 && env.find('/') == std::string::npos) {
    ASSIGN_OR_RETURN(auto local, FindLocalAddress(host, given->addr()));
    if (local) addr = local->cidr;
  }
  bgp[field] = addr.String();
  return ValidateIP(host, addr.String(), result, &iface);
}

// checkConflictingNodes: the first other Node using one of our addresses, as Calico words it.
Result<std::optional<std::pair<int, std::string>>> FindConflict(datastore::Client& client,
                                                                const std::string& our_name,
                                                                const Json& bgp) {
  ASSIGN_OR_RETURN(auto nodes, client.List("Node"));
  for (int family : {4, 6}) {
    auto ours = net::CIDR::ParseNet(StoredAddress(bgp, family));
    if (!ours) continue;
    for (const Resource& other : nodes) {
      if (other.name() == our_name) continue;
      auto typed = model::v3::DecodeNode(other);
      if (!typed || !typed->spec.bgp) continue;  // An unreadable Node claims no address.
      const model::v3::NodeBGPSpec& theirs_bgp = *typed->spec.bgp;
      auto theirs =
          net::CIDR::ParseNet(family == 4 ? theirs_bgp.ipv4_address : theirs_bgp.ipv6_address);
      if (theirs && theirs->addr() == ours->addr()) {
        return std::optional(
            std::pair(family, fmt::format("Calico node '{}' is already using the IPv{} address {}.",
                                          other.name(), family, ours->addr().String())));
      }
    }
  }
  return std::optional<std::pair<int, std::string>>();
}

// spec.interfaces: the non-excluded interfaces (sorted by name) with their addresses of the
// families whose IP/IP6 variable is set to something other than none; cleared otherwise.
Status RecordInterfaces(AddressSource& host, const StartupConfig& config, Json& spec) {
  const bool v4 = !config.ip.empty() && config.ip != "none";
  const bool v6 = !config.ip6.empty() && config.ip6 != "none";
  if (!v4 && !v6) {
    spec.erase("interfaces");
    return OkStatus();
  }
  ASSIGN_OR_RETURN(auto ifaces, host.ListInterfaces());
  std::stable_sort(ifaces.begin(), ifaces.end(),
                   [](const HostInterface& a, const HostInterface& b) { return a.name < b.name; });
  Json out = Json::array();
  for (const HostInterface& iface : ifaces) {
    if (IsDefaultExcludedInterface(iface.name)) continue;
    Json addrs = Json::array();
    for (const net::CIDR& a : iface.addrs) {
      if ((a.family() == 4 && v4) || (a.family() == 6 && v6)) addrs.push_back(a.addr().String());
    }
    if (!addrs.empty()) out.push_back(Json{{"name", iface.name}, {"addresses", addrs}});
  }
  if (out.empty()) {
    spec.erase("interfaces");
  } else {
    spec["interfaces"] = std::move(out);
  }
  return OkStatus();
}

void DropEmptyBgp(Json& spec) {
  auto it = spec.find("bgp");
  if (it != spec.end() && (it->is_null() || (it->is_object() && it->empty()))) spec.erase(it);
}

// Creates the Node, or updates it (compare-and-swap on the revision read) when it changed.
Result<Resource> WriteNode(datastore::Client& client, const Resource& node, bool exists) {
  if (!exists) {
    auto created = client.Create(node);
    if (!created) return Unexpected(std::move(created).error().Wrap("create Node " + node.name()));
    return created;
  }
  auto updated = client.Update(node);
  if (!updated) return Unexpected(std::move(updated).error().Wrap("update Node " + node.name()));
  return updated;
}

// ---------------------------------------------------------------------------------------------
// Pools

// 192.168.0.0/16 unless it overlaps a host subnet; then the first free 172.{16..31}.0.0/16.
Result<net::CIDR> DefaultIPv4PoolCidr(AddressSource& host, StartupResult& result) {
  ASSIGN_OR_RETURN(auto ifaces, host.ListInterfaces());
  std::vector<net::CIDR> subnets;
  for (const HostInterface& iface : ifaces) {
    for (const net::CIDR& a : iface.addrs) {
      if (a.family() == 4) subnets.push_back(a.Masked());
    }
  }
  auto is_free = [&](const net::CIDR& c) {
    return std::none_of(subnets.begin(), subnets.end(),
                        [&](const net::CIDR& s) { return s.Overlaps(c); });
  };
  const net::CIDR preferred = *net::CIDR::Parse("192.168.0.0/16");
  if (is_free(preferred)) return preferred;
  for (uint32_t second = 16; second <= 31; ++second) {
    net::CIDR c(net::IPAddr::V4((172u << 24) | (second << 16)), 16);
    if (is_free(c)) {
      Warn(result, fmt::format("Default IPv4 pool 192.168.0.0/16 overlaps a host subnet; using {}",
                               c.String()));
      return c;
    }
  }
  Warn(result,
       "Default IPv4 pool 192.168.0.0/16 overlaps a host subnet and no 172.16-31.0.0/16 "
       "range is free; using it anyway");
  return preferred;
}

// A random unique local /48: fdxx:xxxx:xxxx::/48 (RFC 4193).
net::CIDR RandomULA() {
  std::array<uint8_t, 16> bytes{};
  bytes[0] = 0xfd;
  RandomBytes(std::span<uint8_t>(bytes).subspan(1, 5));
  return {net::IPAddr::V6(bytes), 48};
}

Resource PoolResource(const std::string& name, const net::CIDR& cidr, const PoolConfig& pool) {
  Resource r("IPPool", name);
  Json& spec = r.spec();
  spec["cidr"] = cidr.String();
  spec["blockSize"] = pool.block_size;
  spec["ipipMode"] = std::string(EncapModeName(pool.ipip));
  spec["vxlanMode"] = std::string(EncapModeName(pool.vxlan));
  spec["natOutgoing"] = pool.nat_outgoing;
  spec["nodeSelector"] = pool.node_selector;
  if (pool.disable_bgp_export) spec["disableBGPExport"] = true;
  return r;
}

Status ConfigurePools(const StartupConfig& config, datastore::Client& client, AddressSource& host,
                      StartupResult& result) {
  if (config.no_default_pools) return OkStatus();
  ASSIGN_OR_RETURN(auto pools, client.List("IPPool"));
  std::array<bool, 2> have = {false, false};
  for (const Resource& p : pools) {
    auto typed = model::v3::DecodeIPPool(p);
    if (!typed) continue;
    auto cidr = net::CIDR::Parse(typed->spec.cidr);
    if (cidr) have[cidr->family() == 4 ? 0U : 1U] = true;
  }
  for (int family : {4, 6}) {
    const PoolConfig& pool = family == 4 ? config.ipv4_pool : config.ipv6_pool;
    if (have[family == 4 ? 0U : 1U] || !pool.enabled) continue;
    net::CIDR cidr;
    if (pool.cidr) {
      cidr = *pool.cidr;
    } else if (family == 4) {
      ASSIGN_OR_RETURN(cidr, DefaultIPv4PoolCidr(host, result));
    } else if (host.SupportsIPv6()) {
      cidr = RandomULA();
    } else {
      continue;  // Calico creates the default IPv6 pool only on IPv6-capable hosts.
    }
    const std::string name = family == 4 ? kDefaultIPv4PoolName : kDefaultIPv6PoolName;
    auto created = client.Create(PoolResource(name, cidr, pool));
    if (!created) {
      // Another node created it concurrently: fine.
      if (created.error().code() == ErrorCode::kAlreadyExists) continue;
      return Unexpected(std::move(created).error().Wrap(
          fmt::format("Failed to create default IPv{} IP pool {}", family, cidr.String())));
    }
    CALICO_LOG(info, kLog, "created default pool name={} cidr={}", name, cidr.String());
    result.created_pools.push_back(name);
  }
  return OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Cluster-wide defaults (node/pkg/lifecycle/startup/startup.go ensureDefaultConfig and
// libcalico-go/lib/clientv3/client.go ensureClusterInformation). Nothing a user set is changed:
// only missing fields are filled in, and clusterType only gains values.

// "a,b" + "b,c" -> "a,b,c": the stored types first, then the new ones not yet listed
// (ensureClusterInformation's set logic).
std::string AccumulateClusterType(const std::string& stored, const std::string& local) {
  if (local.empty()) return stored;
  if (stored.empty()) return local;
  std::vector<std::string> all = StrSplit(stored, ',');
  for (const std::string& t : StrSplit(local, ',')) {
    if (std::find(all.begin(), all.end(), t) == all.end()) all.push_back(t);
  }
  return StrJoin(all, ",");
}

Status EnsureClusterInformation(const StartupConfig& config, datastore::Client& client,
                                StartupResult& result) {
  // Another node may write between our Get and Update: retry on a conflict, as upstream.
  for (int attempt = 0;; ++attempt) {
    auto got = client.Get("ClusterInformation", "", "default");
    if (!got) {
      return Unexpected(std::move(got).error().Wrap("get ClusterInformation default"));
    }
    Resource info = std::move(*got);
    Json& spec = info.spec();
    bool update = false;
    if (!config.calico_version.empty() &&
        spec.value("calicoVersion", std::string()) != config.calico_version) {
      spec["calicoVersion"] = config.calico_version;
      update = true;
    }
    const std::string stored_type = spec.value("clusterType", std::string());
    const std::string type = AccumulateClusterType(stored_type, config.cluster_type);
    if (type != stored_type) {
      spec["clusterType"] = type;
      update = true;
    }
    if (!update) return OkStatus();
    auto updated = client.Update(std::move(info));
    if (updated) {
      CALICO_LOG(info, kLog, "ClusterInformation default: calicoVersion={} clusterType={}",
                 config.calico_version, type);
      result.updated_records.push_back("ClusterInformation/default");
      return OkStatus();
    }
    if (updated.error().code() != ErrorCode::kConflict || attempt >= 4) {
      return Unexpected(std::move(updated).error().Wrap("update ClusterInformation default"));
    }
    CALICO_LOG(warn, kLog, "Conflict while updating cluster information, retrying");
  }
}

// Creates FelixConfiguration `name` with `defaults` when missing; otherwise fills in the fields
// of `defaults` that the stored resource does not set. An AlreadyExists / Conflict from a
// concurrent writer is ignored (the other writer's record wins), as upstream.
Status EnsureFelixConfiguration(datastore::Client& client, const std::string& name,
                                const Json& defaults, StartupResult& result) {
  auto got = client.Get("FelixConfiguration", "", name);
  if (!got) {
    if (got.error().code() != ErrorCode::kNotFound) {
      return Unexpected(std::move(got).error().Wrap("get FelixConfiguration " + name));
    }
    Resource felix("FelixConfiguration", name);
    felix.spec() = defaults;
    auto created = client.Create(std::move(felix));
    if (created) {
      CALICO_LOG(info, kLog, "created FelixConfiguration {}: {}", name, defaults.dump());
      result.created_records.push_back("FelixConfiguration/" + name);
      return OkStatus();
    }
    if (created.error().code() == ErrorCode::kAlreadyExists) return OkStatus();
    return Unexpected(std::move(created).error().Wrap("create FelixConfiguration " + name));
  }
  Resource felix = std::move(*got);
  bool update = false;
  for (const auto& [field, value] : defaults.items()) {
    const Json* stored = felix.spec().contains(field) ? &felix.spec()[field] : nullptr;
    if (stored == nullptr || stored->is_null() || (stored->is_string() && stored->empty())) {
      felix.spec()[field] = value;
      update = true;
    }
  }
  if (!update) return OkStatus();
  auto updated = client.Update(std::move(felix));
  if (updated) {
    CALICO_LOG(info, kLog, "filled in FelixConfiguration {} defaults", name);
    result.updated_records.push_back("FelixConfiguration/" + name);
    return OkStatus();
  }
  if (updated.error().code() == ErrorCode::kConflict) return OkStatus();
  return Unexpected(std::move(updated).error().Wrap("update FelixConfiguration " + name));
}

Status EnsureDefaultConfig(const StartupConfig& config, datastore::Client& client,
                           StartupResult& result) {
  RETURN_IF_ERROR(EnsureClusterInformation(config, client, result));
  // Felix's global defaults as calico-node sets them: no status reports, screen logging at Info.
  RETURN_IF_ERROR(EnsureFelixConfiguration(
      client, "default", Json{{"reportingInterval", "0s"}, {"logSeverityScreen", "Info"}}, result));
  // Workloads may talk to their host (upstream: every datastore but Kubernetes; ours are all
  // non-Kubernetes datastores).
  RETURN_IF_ERROR(EnsureFelixConfiguration(
      client, "node." + result.node_name, Json{{"defaultEndpointToHostAction", "Return"}}, result));
  return OkStatus();
}

// Writes the nodename file atomically, without a trailing newline.
Status WriteNodenameFile(const std::string& path, const std::string& name) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path(), ec);
  if (ec) {
    return Unexpected(Error(ErrorCode::kUnavailable,
                            fmt::format("create {}: {}", p.parent_path().string(), ec.message())));
  }
  const std::string tmp = path + ".tmp";
  {
    // 0644 whatever the umask: the CNI plugins take the node name from it, so nobody but root
    // may write it.
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644));
    if (!fd) return Unexpected(Error::FromErrno(errno, "write " + tmp));
    ::fchmod(fd.get(), 0644);
    bool ok = ::write(fd.get(), name.data(), name.size()) == static_cast<ssize_t>(name.size());
    int err = errno;
    ok = ::close(fd.release()) == 0 && ok;  // close(2) reports a failed delayed write
    if (!ok) return Unexpected(Error::FromErrno(err, "write " + tmp));
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Unexpected(Error(ErrorCode::kUnavailable,
                            fmt::format("rename {} to {}: {}", tmp, path, ec.message())));
  }
  return OkStatus();
}

}  // namespace

EnvMap ProcessEnv() {
  return CurrentEnvironment();
}

std::string_view EncapModeName(EncapMode mode) {
  switch (mode) {
    case EncapMode::kAlways:
      return "Always";
    case EncapMode::kCrossSubnet:
      return "CrossSubnet";
    case EncapMode::kNever:
      break;
  }
  return "Never";
}

Result<StartupConfig> StartupConfig::FromEnv(const EnvMap& env) {
  StartupConfig c;
  c.nodename = std::string(StrTrim(Env(env, "NODENAME")));
  c.hostname = std::string(StrTrim(Env(env, "HOSTNAME")));
  if (IsSet(env, "CALICO_NODENAME_FILE")) c.nodename_file = Env(env, "CALICO_NODENAME_FILE");
  c.cluster_type = std::string(StrTrim(Env(env, "CLUSTER_TYPE")));
  while (!c.cluster_type.empty() && c.cluster_type.back() == ',')
    c.cluster_type.pop_back();

  c.ip = std::string(StrTrim(Env(env, "IP")));
  c.ip6 = std::string(StrTrim(Env(env, "IP6")));
  RETURN_IF_ERROR(CheckIPEnv("IP", c.ip, 4));
  RETURN_IF_ERROR(CheckIPEnv("IP6", c.ip6, 6));
  c.ip_autodetection_method = std::string(StrTrim(Env(env, "IP_AUTODETECTION_METHOD")));
  c.ip6_autodetection_method = std::string(StrTrim(Env(env, "IP6_AUTODETECTION_METHOD")));
  RETURN_IF_ERROR(ValidateAutodetectionMethod(c.ip_autodetection_method, 4));
  RETURN_IF_ERROR(ValidateAutodetectionMethod(c.ip6_autodetection_method, 6));

  if (std::string as = std::string(StrTrim(Env(env, "AS"))); !as.empty()) {
    c.as_number = ParseAsn(as);
    if (!c.as_number) {
      return InvalidArgument(fmt::format(
          "The AS number specified in the environment (AS={}) is not valid: use a number up to "
          "4294967295 or AS-dot notation",
          as));
    }
  }

  std::string backend = AsciiLower(StrTrim(Env(env, "CALICO_NETWORKING_BACKEND")));
  if (backend.empty() || backend == "bird") {
    c.backend = NetworkingBackend::kBird;
  } else if (backend == "vxlan") {
    c.backend = NetworkingBackend::kVxlan;
  } else if (backend == "none") {
    c.backend = NetworkingBackend::kNone;
  } else {
    return InvalidArgument(
        fmt::format("Invalid CALICO_NETWORKING_BACKEND '{}' (use bird, vxlan or none)",
                    Env(env, "CALICO_NETWORKING_BACKEND")));
  }

  c.router_id = std::string(StrTrim(Env(env, "CALICO_ROUTER_ID")));
  if (!c.router_id.empty() && c.router_id != "hash") {
    auto ip = net::IPAddr::Parse(c.router_id);
    if (!ip || !ip->is_v4()) {
      return InvalidArgument(
          fmt::format("Invalid CALICO_ROUTER_ID '{}' (use an IPv4 address or hash)", c.router_id));
    }
  }

  ASSIGN_OR_RETURN(c.disable_node_ip_check,
                   ParseGoBool("DISABLE_NODE_IP_CHECK", Env(env, "DISABLE_NODE_IP_CHECK"), false));
  c.no_default_pools = AsciiLower(StrTrim(Env(env, "NO_DEFAULT_POOLS"))) == "true";
  if (c.no_default_pools &&
      (IsSet(env, "CALICO_IPV4POOL_CIDR") || IsSet(env, "CALICO_IPV6POOL_CIDR"))) {
    return InvalidArgument(
        "Invalid configuration with NO_DEFAULT_POOLS defined and CALICO_IPV4POOL_CIDR or "
        "CALICO_IPV6POOL_CIDR defined.");
  }
  ASSIGN_OR_RETURN(c.ipv4_pool, ParsePool(env, 4));
  ASSIGN_OR_RETURN(c.ipv6_pool, ParsePool(env, 6));
  return c;
}

Result<std::string> DetermineNodeName(const StartupConfig& config) {
  if (!config.nodename.empty()) return config.nodename;
  if (!config.nodename_file.empty()) {
    std::ifstream in(config.nodename_file);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string name(StrTrim(ss.str()));
      if (!name.empty()) return name;
    }
  }
  if (!config.hostname.empty()) return AsciiLower(config.hostname);
  std::array<char, HOST_NAME_MAX + 1> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) == 0 && buf[0] != '\0') {
    return AsciiLower(buf.data());
  }
  return InvalidArgument("Unable to determine the node name: set NODENAME or HOSTNAME");
}

Result<StartupResult> RunStartup(const StartupConfig& config, datastore::Client& client,
                                 AddressSource& host) {
  StartupResult result;
  result.router_id = config.router_id;
  if (auto st = client.EnsureInitialized(); !st) {
    return Unexpected(std::move(st).error().Wrap("initialize the datastore"));
  }
  ASSIGN_OR_RETURN(result.node_name, DetermineNodeName(config));
  CALICO_LOG(info, kLog, "starting node={}", result.node_name);

  Resource node("Node", result.node_name);
  bool exists = false;
  if (auto got = client.Get("Node", "", result.node_name); got) {
    node = std::move(*got);
    exists = true;
  } else if (got.error().code() != ErrorCode::kNotFound) {
    return Unexpected(std::move(got).error().Wrap("get Node " + result.node_name));
  }
  const Json before = node.doc();
  Json& spec = node.spec();
  if (!spec.contains("bgp") || !spec["bgp"].is_object()) spec["bgp"] = Json::object();
  Json& bgp = spec["bgp"];

  // configureIPsAndSubnets runs for every backend (felix uses the node's addresses too); only
  // the BGP fields are skipped in policy-only mode (CALICO_NETWORKING_BACKEND=none).
  const std::string old_v4 = StoredAddress(bgp, 4);
  const std::string old_v6 = StoredAddress(bgp, 6);
  const Json old_interfaces = spec.value("interfaces", Json());
  RETURN_IF_ERROR(ConfigureAddress(config, 4, host, bgp, result));
  RETURN_IF_ERROR(ConfigureAddress(config, 6, host, bgp, result));
  if (auto st = RecordInterfaces(host, config, spec); !st) {
    return Unexpected(std::move(st).error().Wrap("record host interfaces"));
  }
  const bool changed = StoredAddress(bgp, 4) != old_v4 || StoredAddress(bgp, 6) != old_v6 ||
                       spec.value("interfaces", Json()) != old_interfaces;
  if (StoredAddress(bgp, 4).empty() && StoredAddress(bgp, 6).empty()) {
    if (config.backend != NetworkingBackend::kNone) {
      return InvalidArgument(
          "No IPv4 or IPv6 addresses configured or detected, required for Calico networking");
    }
  } else if (changed && !config.disable_node_ip_check) {
    // Only a changed address is checked, so that nodes already sharing an address keep running.
    ASSIGN_OR_RETURN(auto conflict, FindConflict(client, result.node_name, bgp));
    if (conflict) {
      CALICO_LOG(error, kLog, "{}", conflict->second);
      // An existing node that autodetected a conflicting address loses it in the store, freeing
      // the address for the node that owns it (Calico's clearNodeIPs).
      const bool clear =
          conflict->first == 4 ? config.ip == "autodetect" : config.ip6 == "autodetect";
      if (exists && clear) {
        bgp.erase(AddressField(conflict->first));
        DropEmptyBgp(spec);
        auto written = WriteNode(client, node, exists);
        if (!written) {
          CALICO_LOG(warn, kLog, "Failed to clear node addresses: {}", written.error().message());
        }
      }
      return AlreadyExists(conflict->second);
    }
  }
  if (config.backend != NetworkingBackend::kNone) {
    if (config.as_number) bgp["asNumber"] = *config.as_number;
    if (config.router_id.empty() && StoredAddress(bgp, 4).empty() &&
        config.backend == NetworkingBackend::kBird) {
      Warn(result,
           "No IPv4 address is configured for this node: BIRD needs a router ID, set "
           "CALICO_ROUTER_ID to an IPv4 address or to hash");
    }
  }
  DropEmptyBgp(spec);

  if (!exists || node.doc() != before) {
    ASSIGN_OR_RETURN(node, WriteNode(client, node, exists));
    result.node_created = !exists;
    result.node_updated = exists;
  }
  if (auto it = node.spec().find("bgp"); it != node.spec().end() && it->is_object()) {
    if (auto c = net::CIDR::ParseNet(StoredAddress(*it, 4))) result.ipv4 = *c;
    if (auto c = net::CIDR::ParseNet(StoredAddress(*it, 6))) result.ipv6 = *c;
  }
  result.node = node;

  RETURN_IF_ERROR(ConfigurePools(config, client, host, result));
  if (auto st = EnsureDefaultConfig(config, client, result); !st) {
    return Unexpected(std::move(st).error().Wrap("Unable to set global default configuration"));
  }
  if (auto st = WriteNodenameFile(config.nodename_file, result.node_name); !st) {
    return Unexpected(std::move(st).error().Wrap("write the nodename file"));
  }
  CALICO_LOG(info, kLog, "startup complete node={} ipv4={} ipv6={} pools_created={}",
             result.node_name, result.ipv4 ? result.ipv4->String() : "none",
             result.ipv6 ? result.ipv6->String() : "none", result.created_pools.size());
  return result;
}

}  // namespace calico::node
