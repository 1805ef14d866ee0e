// Block-affinity IPAM (libcalico-go/lib/ipam/ipam.go): handles, release by address and by handle,
// assignment attributes and host affinities' release. Configuration, pools, affinities and
// assignment are in ipam.cc.
#include <map>
#include <set>

#include "calico/base/log.h"
#include "calico/datastore/keys.h"
#include "calico/ipam/internal.h"
#include "calico/ipam/ipam.h"
#include "calico/model/json_codec.h"

namespace calico::ipam {

using internal::BlockKey;
using internal::Exhausted;
using internal::kMaxRetries;

Status IpamClient::AdjustHandle(const std::string& handle, const net::CIDR& block, int delta) {
  if (handle.empty() || delta == 0) return OkStatus();
  std::string key = datastore::HandleKey{.handle_id = handle}.Format();
  std::string cidr = block.Masked().String();
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto kv = backend_.Get(key);
    if (!kv) {
      if (kv.error().code() != ErrorCode::kNotFound) return Unexpected(kv.error());
      if (delta < 0) return OkStatus();
      Json j{{"block", {{cidr, delta}}}, {"deleted", false}};
      auto created = backend_.Create(key, j.dump());
      if (created) return OkStatus();
      if (created.error().code() == ErrorCode::kAlreadyExists) continue;
      return Unexpected(created.error());
    }
    Json j = model::ReadStoredJson(kv->key, kv->value);
    if (!j.is_object()) j = Json{{"block", Json::object()}, {"deleted", false}};
    if (!j.contains("block") || !j["block"].is_object()) j["block"] = Json::object();
    const Json& current = j["block"][cidr];
    int count = (current.is_number_integer() ? current.get<int>() : 0) + delta;
    if (count <= 0) {
      j["block"].erase(cidr);
    } else {
      j["block"][cidr] = count;
    }
    Result<datastore::KVPair> written = j["block"].empty()
                                            ? backend_.Delete(key, kv->mod_revision)
                                            : backend_.Update(key, j.dump(), kv->mod_revision);
    if (written) return OkStatus();
    if (written.error().code() == ErrorCode::kConflict ||
        written.error().code() == ErrorCode::kNotFound) {
      continue;
    }
    return Unexpected(written.error());
  }
  return Exhausted("update handle " + handle);
}

Result<std::vector<Block>> IpamClient::ListBlocks(int family) {
  ASSIGN_OR_RETURN(auto listed, backend_.List(datastore::BlockKey::ListPrefix(family)));
  std::vector<Block> out;
  for (const auto& kv : listed.kvs) {
    ASSIGN_OR_RETURN(Block b, Block::FromJson(kv.value));
    out.push_back(std::move(b));
  }
  return out;
}

Result<std::vector<net::IPAddr>> IpamClient::ReleaseIPs(const std::vector<net::IPAddr>& ips) {
  std::vector<ReleaseOptions> releases;
  releases.reserve(ips.size());
  for (const net::IPAddr& ip : ips)
    releases.push_back({ip, "", std::nullopt});
  return ReleaseIPs(releases);
}

Result<std::vector<net::IPAddr>> IpamClient::ReleaseIPs(
    const std::vector<ReleaseOptions>& releases) {
  ASSIGN_OR_RETURN(std::vector<Pool> pools, ListPools());
  std::vector<net::IPAddr> unallocated;
  std::map<net::CIDR, std::vector<ReleaseOptions>> by_block;
  std::optional<std::vector<Block>> blocks;
  for (const ReleaseOptions& r : releases) {
    const net::IPAddr& ip = r.address;
    auto pool = std::find_if(pools.begin(), pools.end(),
                             [&](const Pool& p) { return p.cidr.Contains(ip); });
    if (pool != pools.end()) {
      by_block[net::CIDR(ip, pool->block_size).Masked()].push_back(r);
      continue;
    }
    if (!blocks) {
      ASSIGN_OR_RETURN(auto all, ListBlocks(ip.family()));
      blocks = std::move(all);
    }
    auto b = std::find_if(blocks->begin(), blocks->end(),
                          [&](const Block& blk) { return blk.cidr().Contains(ip); });
    if (b == blocks->end()) {
      unallocated.push_back(ip);
    } else {
      by_block[b->cidr()].push_back(r);
    }
  }
  for (const auto& [cidr, block_releases] : by_block) {
    std::string key = BlockKey(cidr);
    bool done = false;
    for (int attempt = 0; attempt < kMaxRetries && !done; ++attempt) {
      auto kv = backend_.Get(key);
      if (!kv) {
        if (kv.error().code() != ErrorCode::kNotFound) return Unexpected(kv.error());
        for (const ReleaseOptions& r : block_releases)
          unallocated.push_back(r.address);
        done = true;
        break;
      }
      ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
      std::vector<net::IPAddr> block_ips;
      std::vector<net::IPAddr> changed;  // allocated again since the caller looked
      for (const ReleaseOptions& r : block_releases) {
        auto attr = block.AttributeOf(r.address);
        bool same = attr && (r.handle.empty() || attr->handle_id == r.handle) &&
                    (!r.sequence_number || block.SequenceNumberOf(r.address) == r.sequence_number);
        (attr && !same ? changed : block_ips).push_back(r.address);
      }
      std::vector<net::IPAddr> not_allocated;
      std::map<std::string, int> handles = block.Release(block_ips, not_allocated);
      if (not_allocated.size() == block_ips.size()) {
        unallocated.insert(unallocated.end(), not_allocated.begin(), not_allocated.end());
        unallocated.insert(unallocated.end(), changed.begin(), changed.end());
        done = true;
        break;
      }
      Result<datastore::KVPair> written =
          block.Empty() && block.affinity().empty()
              ? backend_.Delete(key, kv->mod_revision)
              : backend_.Update(key, block.ToJson(), kv->mod_revision);
      if (!written) {
        if (written.error().code() == ErrorCode::kConflict) continue;
        return Unexpected(written.error());
      }
      unallocated.insert(unallocated.end(), not_allocated.begin(), not_allocated.end());
      unallocated.insert(unallocated.end(), changed.begin(), changed.end());
      for (const auto& [handle, count] : handles)
        RETURN_IF_ERROR(AdjustHandle(handle, cidr, -count));
      done = true;
    }
    if (!done) return Exhausted("release from block " + cidr.String());
  }
  return unallocated;
}

Result<std::vector<net::IPAddr>> IpamClient::IPsByHandle(const std::string& handle) {
  auto kv = backend_.Get(datastore::HandleKey{.handle_id = handle}.Format());
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return std::vector<net::IPAddr>{};
    return Unexpected(kv.error());
  }
  Json j = model::ReadStoredJson(kv->key, kv->value);
  std::vector<net::IPAddr> out;
  if (!j.is_object() || !j.contains("block") || !j["block"].is_object()) return out;
  for (auto it = j["block"].begin(); it != j["block"].end(); ++it) {
    auto cidr = net::CIDR::Parse(it.key());
    if (!cidr) continue;
    auto block_kv = backend_.Get(BlockKey(*cidr));
    if (!block_kv) continue;
    ASSIGN_OR_RETURN(Block block, Block::FromJson(block_kv->value));
    auto ips = block.IPsByHandle(handle);
    out.insert(out.end(), ips.begin(), ips.end());
  }
  return out;
}

// libcalico-go ipam.go ReleaseByHandle / releaseByHandle: the handle names its blocks; each block
// frees the handle's addresses in one compare-and-swap, then the handle goes. Upstream decrements
// the handle per block and deletes it once empty; here the handle is deleted once at the end (its
// count for every block it names is gone by then), which leaves the same keys for one write less.
Status IpamClient::ReleaseByHandle(const std::string& handle) {
  const std::string key = datastore::HandleKey{.handle_id = handle}.Format();
  auto kv = backend_.Get(key);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return OkStatus();
    return Unexpected(kv.error());
  }
  Json j = model::ReadStoredJson(kv->key, kv->value);
  if (j.is_object() && j.contains("block") && j["block"].is_object()) {
    for (auto it = j["block"].begin(); it != j["block"].end(); ++it) {
      auto cidr = net::CIDR::Parse(it.key());
      if (!cidr) continue;
      RETURN_IF_ERROR(ReleaseHandleFromBlock(handle, cidr->Masked()));
    }
  }
  // Whatever is left of the handle (e.g. counts for blocks that no longer hold its IPs).
  auto left = backend_.Delete(key, 0);
  if (!left && left.error().code() != ErrorCode::kNotFound) return Unexpected(left.error());
  return OkStatus();
}

Status IpamClient::ReleaseHandleFromBlock(const std::string& handle, const net::CIDR& cidr) {
  const std::string key = BlockKey(cidr);
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    auto kv = backend_.Get(key);
    if (!kv) {
      if (kv.error().code() == ErrorCode::kNotFound) return OkStatus();
      return Unexpected(kv.error());
    }
    ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
    std::vector<net::IPAddr> ips = block.IPsByHandle(handle);
    if (ips.empty()) return OkStatus();
    std::vector<net::IPAddr> not_allocated;
    block.Release(ips, not_allocated);
    Result<datastore::KVPair> written =
        block.Empty() && block.affinity().empty()
            ? backend_.Delete(key, kv->mod_revision)
            : backend_.Update(key, block.ToJson(), kv->mod_revision);
    if (written) return OkStatus();
    // A conflict, or the block deleted since: read it again.
    if (written.error().code() != ErrorCode::kConflict &&
        written.error().code() != ErrorCode::kNotFound) {
      return Unexpected(written.error());
    }
  }
  return Exhausted("release " + handle + " from block " + cidr.String());
}

Result<std::optional<Attribute>> IpamClient::GetAssignmentAttributes(const net::IPAddr& ip) {
  ASSIGN_OR_RETURN(std::vector<Block> blocks, ListBlocks(ip.family()));
  for (const Block& b : blocks) {
    if (b.cidr().Contains(ip)) return b.AttributeOf(ip);
  }
  return std::optional<Attribute>{};
}

Status IpamClient::ReleaseHostAffinities(const std::string& host) {
  ASSIGN_OR_RETURN(auto listed, backend_.List(datastore::BlockAffinityKey::ListPrefix(host)));
  for (const auto& kv : listed.kvs) {
    auto affinity = datastore::BlockAffinityKey::Parse(kv.key);
    if (!affinity) continue;
    std::string key = BlockKey(affinity->cidr);
    for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
      auto block_kv = backend_.Get(key);
      if (!block_kv) break;
      ASSIGN_OR_RETURN(Block block, Block::FromJson(block_kv->value));
      if (block.host() != host) break;
      Result<datastore::KVPair> written = Unavailable("unset");
      if (block.Empty()) {
        written = backend_.Delete(key, block_kv->mod_revision);
      } else {
        Json j = Json::parse(block.ToJson());
        j["affinity"] = nullptr;
        written = backend_.Update(key, j.dump(), block_kv->mod_revision);
      }
      if (written) break;
      if (written.error().code() != ErrorCode::kConflict) return Unexpected(written.error());
    }
    auto deleted = backend_.Delete(kv.key, 0);
    if (!deleted && deleted.error().code() != ErrorCode::kNotFound)
      return Unexpected(deleted.error());
  }
  return OkStatus();
}

}  // namespace calico::ipam
