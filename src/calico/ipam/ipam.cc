// Block-affinity IPAM (libcalico-go/lib/ipam/ipam.go, ipam_block_reader_writer.go): configuration,
// pools, affinities and assignment. Release, handles and attributes are in release.cc.
#include "calico/ipam/ipam.h"

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <type_traits>

#include "calico/base/log.h"
#include "calico/datastore/keys.h"
#include "calico/ipam/internal.h"
#include "calico/model/json_codec.h"
#include "calico/model/v3/ipam.h"
#include "calico/model/v3/node.h"
#include "calico/selector/selector.h"

namespace calico::ipam {
namespace {

using internal::BlockKey;
using internal::Exhausted;
using internal::kMaxRetries;

constexpr int kDefaultBlockCap = 20;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string AffinityKey(const std::string& host, const net::CIDR& cidr) {
  return datastore::BlockAffinityKey{.cidr = cidr, .host = host}.Format();
}

uint32_t Fnv1(std::string_view s) {
  uint32_t h = 2166136261u;
  for (char c : s) {
    h *= 16777619u;
    h ^= static_cast<uint8_t>(c);
  }
  return h;
}

// Every stored resource of `kind`.
std::string StoredListPrefix(std::string_view kind) {
  return datastore::ResourceListPrefix(*model::LookupKind(kind), "");
}

// A stored v3 resource, decoded; nullopt (logged) when it does not decode: IPAM skips it.
template <typename F>
auto DecodeStored(const datastore::KVPair& kv, F&& decode)
    -> std::optional<typename std::invoke_result_t<F, const model::Resource&>::value_type> {
  auto r = datastore::DecodeStoredResource(kv.key, kv.value, kv.mod_revision);
  if (!r) {
    CALICO_LOG(warn, "ipam", "ignoring {}: {}", kv.key, r.error().message());
    return std::nullopt;
  }
  auto typed = decode(*r);
  if (!typed) {
    CALICO_LOG(warn, "ipam", "ignoring {}: {}", kv.key, typed.error().message());
    return std::nullopt;
  }
  return *std::move(typed);
}

std::string AffinityValue(const char* state) {
  return datastore::BlockAffinity{.state = state}.Format();
}

// Another host created the block first: our pending affinity for it goes. A failure leaves a
// pending affinity that matches no block, which the next claim of this block overwrites and
// release/cleanup removes (libcalico-go/lib/ipam/ipam.go logs and goes on the same way).
void DeletePendingAffinity(datastore::Backend& backend, const std::string& aff_key) {
  auto deleted = backend.Delete(aff_key, 0);
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    CALICO_LOG(warn, "ipam", "cannot delete pending affinity key={}: {}", aff_key,
               deleted.error().message());
  }
}

}  // namespace

Result<IpamConfig> IpamClient::GetConfig() {
  IpamConfig cfg;
  const std::string key = datastore::IpamConfigKey{}.Format();
  auto kv = backend_.Get(key);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return cfg;
    return Unexpected(kv.error());
  }
  auto parsed = model::ParseStoredJson(kv->key, kv->value);
  if (!parsed) return Internal("unparsable IPAM config: " + parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object()) return Internal("unparsable IPAM config at " + key);
  // A stored record: what is missing is Go's zero value (model.IPAMConfig's fields are omitempty).
  try {
    cfg.strict_affinity = j.value("strict_affinity", false);
    cfg.auto_allocate_blocks = j.value("auto_allocate_blocks", false);
    cfg.max_blocks_per_host = j.value("maxBlocksPerHost", 0);
    cfg.kubevirt_vm_address_persistence.reset();
    if (auto p = j.find("kubeVirtVMAddressPersistence"); p != j.end() && !p->is_null())
      cfg.kubevirt_vm_address_persistence = p->get<std::string>();
    cfg.ip_cooldown_seconds = j.value("ipCooldownSeconds", 0);
  } catch (const Json::exception& e) {
    return Internal("unparsable IPAM config at " + key + ": " + e.what());
  }
  return cfg;
}

Status IpamClient::SetConfig(const IpamConfig& config) {
  if (!config.strict_affinity && !config.auto_allocate_blocks)
    return InvalidArgument(
        "Cannot disable 'StrictAffinity' and 'AutoAllocateBlocks' at the same time");
  if (config.max_blocks_per_host > 0 && !config.strict_affinity)
    return InvalidArgument("MaxBlocksPerHost requires StrictAffinity to be enabled");
  ASSIGN_OR_RETURN(IpamConfig current, GetConfig());
  if (current == config) return OkStatus();
  // model.IPAMConfig as encoding/json writes it: omitempty leaves out false, 0 and nil.
  Json j = Json::object();
  if (config.strict_affinity) j["strict_affinity"] = true;
  if (config.auto_allocate_blocks) j["auto_allocate_blocks"] = true;
  if (config.max_blocks_per_host != 0) j["maxBlocksPerHost"] = config.max_blocks_per_host;
  if (config.kubevirt_vm_address_persistence)
    j["kubeVirtVMAddressPersistence"] = *config.kubevirt_vm_address_persistence;
  if (config.ip_cooldown_seconds != 0) j["ipCooldownSeconds"] = config.ip_cooldown_seconds;
  const std::string key = datastore::IpamConfigKey{}.Format();
  // SetIPAMConfig applies with the revision it read: a concurrent writer makes this fail.
  auto old = backend_.Get(key);
  if (!old && old.error().code() != ErrorCode::kNotFound) return Unexpected(old.error());
  if (old) {
    RETURN_IF_ERROR(backend_.Update(key, j.dump(), old->mod_revision));
  } else {
    RETURN_IF_ERROR(backend_.Create(key, j.dump()));
  }
  return OkStatus();
}

Result<std::vector<Pool>> IpamClient::ListPools() {
  ASSIGN_OR_RETURN(auto listed, backend_.List(StoredListPrefix("IPPool")));
  std::vector<Pool> pools;
  for (const auto& kv : listed.kvs) {
    auto typed = DecodeStored(kv, model::v3::DecodeIPPool);
    if (!typed) continue;
    const model::v3::IPPoolSpec& spec = typed->spec;
    auto cidr = net::CIDR::ParseNet(spec.cidr);
    if (!cidr) continue;
    // Calico's defaults for what the pool does not say (a pool written by someone else).
    Pool p;
    p.name = typed->metadata.name;
    p.cidr = cidr->Masked();
    p.block_size = spec.block_size.value_or(cidr->family() == 4 ? 26 : 122);
    p.disabled = spec.disabled;
    p.node_selector = spec.node_selector.value_or("all()");
    if (p.node_selector.empty()) p.node_selector = "all()";
    if (spec.allowed_uses) p.allowed_uses = *spec.allowed_uses;
    p.assignment_mode = spec.assignment_mode.value_or("Automatic");
    pools.push_back(std::move(p));
  }
  return pools;
}

Result<std::vector<net::CIDR>> IpamClient::Reservations() {
  ASSIGN_OR_RETURN(auto listed, backend_.List(StoredListPrefix("IPReservation")));
  std::vector<net::CIDR> out;
  for (const auto& kv : listed.kvs) {
    auto typed = DecodeStored(kv, model::v3::DecodeIPReservation);
    if (!typed) continue;
    for (const std::string& c : typed->spec.reserved_cidrs) {
      if (auto cidr = net::CIDR::ParseNet(c)) out.push_back(cidr->Masked());
    }
  }
  return out;
}

Result<std::vector<Pool>> IpamClient::PoolsFor(int family, const AutoAssignArgs& args) {
  ASSIGN_OR_RETURN(auto all, ListPools());
  const auto& requested = family == 4 ? args.ipv4_pools : args.ipv6_pools;
  std::vector<Pool> out;
  if (!requested.empty()) {
    for (const net::CIDR& want : requested) {
      if (want.family() != family) {
        return InvalidArgument(std::string("provided IPv") + std::to_string(family) +
                               " IPPools list contains one or more IPv" +
                               std::to_string(family == 4 ? 6 : 4) + " IPPools");
      }
      auto it = std::find_if(all.begin(), all.end(),
                             [&](const Pool& p) { return p.cidr == want.Masked() && !p.disabled; });
      if (it == all.end()) {
        return NotFound("the given pool (" + want.String() + ") does not exist, or is not enabled");
      }
      out.push_back(*it);
    }
  } else {
    // Node labels for nodeSelector (a missing Node has no labels).
    selector::LabelMap labels;
    const datastore::ResourceKey node_key{.kind = model::LookupKind("Node"), .name = args.host};
    if (auto node = backend_.Get(node_key.Format())) {
      if (auto typed = DecodeStored(*node, model::v3::DecodeNode)) {
        labels = std::move(typed->metadata.labels);
      }
    }
    for (const Pool& p : all) {
      if (p.cidr.family() != family || p.disabled || p.assignment_mode != "Automatic") continue;
      auto sel = selector::Parse(p.node_selector);
      if (!sel || !sel->Evaluate(labels)) continue;
      out.push_back(p);
    }
    if (out.empty()) return NotFound("no configured Calico pools for node " + args.host);
  }
  std::vector<Pool> usable;
  for (const Pool& p : out) {
    if (std::find(p.allowed_uses.begin(), p.allowed_uses.end(), args.intended_use) !=
        p.allowed_uses.end()) {
      usable.push_back(p);
    }
  }
  if (usable.empty()) {
    return NotFound("cannot find a qualified ippool, no pools match the required use (" +
                    args.intended_use + ")");
  }
  return usable;
}

Result<std::vector<IpamClient::Affinity>> IpamClient::AffineBlocks(const std::string& host,
                                                                   int family) {
  ASSIGN_OR_RETURN(auto listed,
                   backend_.List(datastore::BlockAffinityKey::ListPrefix(host, family)));
  std::vector<Affinity> out;
  for (const auto& kv : listed.kvs) {
    auto key = datastore::BlockAffinityKey::Parse(kv.key);
    if (!key) continue;
    // No state (older data, or a value that does not parse) counts as confirmed, as in
    // libcalico-go.
    auto value = datastore::BlockAffinity::Parse(kv.value);
    const std::string state = value && !value->state.empty() ? value->state : "confirmed";
    out.push_back({key->cidr, state});
  }
  return out;
}

// libcalico-go lib/ipam/ipam.go getBlockFromAffinity: an affinity is only half of a claim. A
// claim interrupted after the pending affinity (kill -9, datastore outage) leaves an affinity
// without a block, or a block whose affinity never became confirmed (BIRD exports confirmed
// blocks only); another host may also have won the block. Finish or drop the claim here.
Result<std::optional<datastore::KVPair>> IpamClient::ReconcileAffinity(const Affinity& affinity,
                                                                       const std::string& host) {
  const std::string key = BlockKey(affinity.cidr);
  const std::string aff_key = AffinityKey(host, affinity.cidr);
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto kv = backend_.Get(key);
    if (!kv) {
      if (kv.error().code() != ErrorCode::kNotFound) return Unexpected(kv.error());
      // The affinity's block does not exist: create it, then confirm the affinity.
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("pending")));
      std::string value = Block::New(affinity.cidr, host, NowNs()).ToJson();
      auto created = backend_.Create(key, value);
      if (!created) {
        if (created.error().code() == ErrorCode::kAlreadyExists) continue;  // look again
        return Unexpected(created.error());
      }
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("confirmed")));
      return datastore::KVPair{.key = key,
                               .value = std::move(value),
                               .mod_revision = created->mod_revision,
                               .create_revision = created->mod_revision};
    }
    ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
    if (block.host() != host) {
      // A stale affinity: the block belongs to another host (or to none).
      auto deleted = backend_.Delete(aff_key, 0);
      if (!deleted && deleted.error().code() != ErrorCode::kNotFound)
        return Unexpected(deleted.error());
      return std::optional<datastore::KVPair>{};
    }
    if (affinity.state != "confirmed") {
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("confirmed")));
    }
    return *std::move(kv);
  }
  return Exhausted("claim block " + affinity.cidr.String());
}

Result<std::vector<net::IPAddr>> IpamClient::AssignFromBlock(
    const net::CIDR& cidr, int num, const Attribute& attr, const std::vector<net::CIDR>& reserved,
    const std::string& require_host, std::optional<datastore::KVPair> read) {
  std::string key = BlockKey(cidr);
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    // The caller's read serves the first attempt; after a conflict the block is read again.
    Result<datastore::KVPair> kv =
        read ? Result<datastore::KVPair>(*std::move(read)) : backend_.Get(key);
    read.reset();
    if (!kv) {
      if (kv.error().code() == ErrorCode::kNotFound) return std::vector<net::IPAddr>{};
      return Unexpected(kv.error());
    }
    ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
    if (!require_host.empty() && block.host() != require_host) return std::vector<net::IPAddr>{};
    std::vector<net::IPAddr> ips = block.AutoAssign(num, attr, reserved);
    if (ips.empty()) return ips;
    Status written = WriteBlockAndHandle(*kv, block, attr.handle_id, static_cast<int>(ips.size()));
    if (written) return ips;
    if (!internal::Retryable(written.error())) return Unexpected(written.error());
  }
  return Exhausted("assign from block " + cidr.String());
}

Result<net::CIDR> IpamClient::ClaimBlock(const std::vector<Pool>& pools, const std::string& host) {
  ASSIGN_OR_RETURN(auto listed, backend_.List(datastore::BlockKey::ListPrefix()));
  std::set<std::string> existing;
  for (const auto& kv : listed.kvs)
    existing.insert(kv.key);
  for (const Pool& pool : pools) {
    int host_bits = pool.cidr.addr().bit_len() - pool.block_size;
    int index_bits = pool.block_size - pool.cidr.prefix_len();
    if (index_bits < 0) continue;
    uint64_t num_blocks = index_bits >= 20 ? (uint64_t{1} << 20) : (uint64_t{1} << index_bits);
    std::mt19937_64 rng(Fnv1(host));
    uint64_t start = std::uniform_int_distribution<uint64_t>(0, num_blocks - 1)(rng);
    for (uint64_t i = 0; i < num_blocks; ++i) {
      uint64_t idx = (start + i) % num_blocks;
      net::CIDR cidr(pool.cidr.addr().Add(idx << host_bits), pool.block_size);
      std::string key = BlockKey(cidr);
      if (existing.count(key) != 0) continue;
      std::string aff_key = AffinityKey(host, cidr);
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("pending")));
      auto created = backend_.Create(key, Block::New(cidr, host, NowNs()).ToJson());
      if (!created) {
        if (created.error().code() != ErrorCode::kAlreadyExists) return Unexpected(created.error());
        auto other = backend_.Get(key);
        if (other) {
          auto b = Block::FromJson(other->value);
          if (b && b->host() == host) {
            RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("confirmed")));
            return cidr;
          }
        }
        DeletePendingAffinity(backend_, aff_key);
        continue;
      }
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("confirmed")));
      return cidr;
    }
  }
  return NotFound("No Free Blocks");
}

Result<int> IpamClient::AssignFamily(int family, int num, const AutoAssignArgs& args,
                                     AssignResult& result) {
  if (num <= 0) return 0;
  ASSIGN_OR_RETURN(std::vector<Pool> pools, PoolsFor(family, args));
  ASSIGN_OR_RETURN(std::vector<net::CIDR> reserved, Reservations());
  ASSIGN_OR_RETURN(IpamConfig config, GetConfig());
  Attribute attr{args.handle, args.attrs.is_object() ? args.attrs : Json::object()};
  auto& out = family == 4 ? result.ipv4 : result.ipv6;
  auto in_pools = [&](const net::CIDR& block) {
    return std::any_of(pools.begin(), pools.end(),
                       [&](const Pool& p) { return p.cidr.Contains(block); });
  };
  auto take = [&](const net::CIDR& block, int want, const std::string& require_host,
                  std::optional<datastore::KVPair> read = std::nullopt) -> Result<int> {
    ASSIGN_OR_RETURN(auto ips,
                     AssignFromBlock(block, want, attr, reserved, require_host, std::move(read)));
    for (const net::IPAddr& ip : ips)
      out.emplace_back(ip, block.prefix_len());
    return static_cast<int>(ips.size());
  };

  int remaining = num;
  ASSIGN_OR_RETURN(std::vector<Affinity> affine, AffineBlocks(args.host, family));
  int owned = 0;
  for (const Affinity& affinity : affine) {
    // The count of owned blocks matters only when a new block is needed, i.e. when every affine
    // block has been tried; once satisfied, the rest need not be read.
    if (remaining == 0) break;
    if (!in_pools(affinity.cidr)) continue;
    ASSIGN_OR_RETURN(std::optional<datastore::KVPair> mine, ReconcileAffinity(affinity, args.host));
    if (!mine) continue;
    ++owned;
    ASSIGN_OR_RETURN(int got, take(affinity.cidr, remaining,
                                   config.strict_affinity ? args.host : "", std::move(mine)));
    remaining -= got;
  }
  int max_blocks =
      args.max_blocks_per_host != 0 ? args.max_blocks_per_host : config.max_blocks_per_host;
  if (max_blocks == 0) max_blocks = kDefaultBlockCap;
  while (remaining > 0) {
    if (owned >= max_blocks) {
      result.messages.push_back("Need to allocate an IPAM block but could not - limit of " +
                                std::to_string(max_blocks) + " blocks reached for this node");
      return num - remaining;  // No borrowing past the block limit, as Calico.
    }
    if (!config.auto_allocate_blocks) break;
    auto claimed = ClaimBlock(pools, args.host);
    if (!claimed) {
      if (claimed.error().code() != ErrorCode::kNotFound) return Unexpected(claimed.error());
      if (config.strict_affinity) {
        result.messages.push_back("No more free affine blocks and strict affinity enabled");
      }
      break;
    }
    ++owned;
    ASSIGN_OR_RETURN(int got, take(*claimed, remaining, config.strict_affinity ? args.host : ""));
    remaining -= got;
  }
  if (remaining > 0 && !config.strict_affinity) {
    ASSIGN_OR_RETURN(std::vector<Block> blocks, ListBlocks(family));
    for (const Block& b : blocks) {
      if (remaining == 0) break;
      if (!in_pools(b.cidr()) || b.NumFree() == 0) continue;
      ASSIGN_OR_RETURN(int got, take(b.cidr(), remaining, ""));
      remaining -= got;
    }
  }
  if (remaining > 0) {
    std::vector<std::string> cidrs;
    for (const Pool& p : pools)
      cidrs.push_back(p.cidr.String());
    std::string list;
    for (const auto& c : cidrs)
      list += (list.empty() ? "" : ",") + c;
    result.messages.push_back("No IPs available in pools: [" + list + "]");
  }
  return num - remaining;
}

Result<AssignResult> IpamClient::AutoAssign(const AutoAssignArgs& args) {
  if (args.host.empty()) return InvalidArgument("IPAM request needs a host");
  if (args.intended_use.empty()) return InvalidArgument("IPAM request needs an intended use");
  AssignResult result;
  RETURN_IF_ERROR(AssignFamily(4, args.num4, args, result));
  RETURN_IF_ERROR(AssignFamily(6, args.num6, args, result));
  return result;
}

Status IpamClient::AssignIP(const net::IPAddr& ip, const std::string& handle, const Json& attrs,
                            const std::string& host) {
  ASSIGN_OR_RETURN(std::vector<Pool> pools, ListPools());
  auto pool = std::find_if(pools.begin(), pools.end(),
                           [&](const Pool& p) { return !p.disabled && p.cidr.Contains(ip); });
  if (pool == pools.end()) {
    return InvalidArgument("The provided IP address " + ip.String() +
                           " is not in a configured pool");
  }
  net::CIDR cidr = net::CIDR(ip, pool->block_size).Masked();
  std::string key = BlockKey(cidr);
  ASSIGN_OR_RETURN(IpamConfig config, GetConfig());
  Attribute attr{handle, attrs.is_object() ? attrs : Json::object()};
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto kv = backend_.Get(key);
    if (!kv) {
      if (kv.error().code() != ErrorCode::kNotFound) return Unexpected(kv.error());
      // The block does not exist yet: claim it for this host.
      std::string aff_key = AffinityKey(host, cidr);
      RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("pending")));
      auto created = backend_.Create(key, Block::New(cidr, host, NowNs()).ToJson());
      if (created) {
        RETURN_IF_ERROR(backend_.Put(aff_key, AffinityValue("confirmed")));
      } else {
        DeletePendingAffinity(backend_, aff_key);
        if (created.error().code() != ErrorCode::kAlreadyExists) return Unexpected(created.error());
      }
      continue;
    }
    ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
    if (config.strict_affinity && block.host() != host) {
      return InvalidArgument("Block affinity (" + block.affinity() + ") does not match provided (" +
                             host + ")");
    }
    RETURN_IF_ERROR(block.Assign(ip, attr));
    Status written = WriteBlockAndHandle(*kv, block, handle, 1);
    if (written) return OkStatus();
    if (!internal::Retryable(written.error())) return Unexpected(written.error());
  }
  return Exhausted("assign " + ip.String());
}

}  // namespace calico::ipam
