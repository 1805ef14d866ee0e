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

Result<std::optional<datastore::TxnOp>> IpamClient::HandleWrite(const std::string& handle,
                                                                const net::CIDR& block, int delta) {
  if (handle.empty() || delta == 0) return std::optional<datastore::TxnOp>{};
  std::string key = datastore::HandleKey{.handle_id = handle}.Format();
  std::string cidr = block.Masked().String();
  auto kv = backend_.Get(key);
  if (!kv) {
    if (kv.error().code() != ErrorCode::kNotFound) return Unexpected(kv.error());
    if (delta < 0) return std::optional<datastore::TxnOp>{};
    // model.IPAMHandle as libcalico-go stores it.
    Json j{{"block", {{cidr, delta}}}, {"deleted", false}};
    return datastore::TxnOp::Create(std::move(key), j.dump());
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
  if (j["block"].empty()) return datastore::TxnOp::Delete(std::move(key), kv->mod_revision);
  return datastore::TxnOp::Update(std::move(key), j.dump(), kv->mod_revision);
}

Status IpamClient::AdjustHandle(const std::string& handle, const net::CIDR& block, int delta) {
  for (int attempt = 0; attempt < kMaxRetries; ++attempt) {
    ASSIGN_OR_RETURN(std::optional<datastore::TxnOp> write, HandleWrite(handle, block, delta));
    if (!write) return OkStatus();
    auto written = backend_.Txn({*std::move(write)});
    if (written) return OkStatus();
    if (!internal::Retryable(written.error())) return Unexpected(written.error());
  }
  return Exhausted("update handle " + handle);
}

// Upstream (libcalico-go ipam.go assignFromExistingBlock) writes the handle (incrementHandle),
// then the block (compare-and-swap), and decrements the handle again when the block write fails:
// two writes, and a handle left counting an address nobody got if the process dies in between.
// Here both go in one transaction that compares both revisions (or the handle's absence): the same
// keys and values, one write, and all or nothing. Calico's own clients on the same etcd still
// compare-and-swap each key, which this transaction respects.
Status IpamClient::WriteBlockAndHandle(const datastore::KVPair& read, const Block& block,
                                       const std::string& handle, int delta) {
  std::vector<datastore::TxnOp> ops;
  ASSIGN_OR_RETURN(std::optional<datastore::TxnOp> handle_write,
                   HandleWrite(handle, block.cidr(), delta));
  if (handle_write) ops.push_back(*std::move(handle_write));
  ops.push_back(datastore::TxnOp::Update(read.key, block.ToJson(), read.mod_revision));
  auto written = backend_.Txn(ops);
  if (!written) return Unexpected(written.error());
  return OkStatus();
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
      // The block and the handles' counts in one transaction (as WriteBlockAndHandle; upstream
      // releaseIPsFromBlock then decrementHandle): a conflict on any of them reads all again.
      std::vector<datastore::TxnOp> ops;
      ops.push_back(block.Empty() && block.affinity().empty()
                        ? datastore::TxnOp::Delete(key, kv->mod_revision)
                        : datastore::TxnOp::Update(key, block.ToJson(), kv->mod_revision));
      const bool together = handles.size() < datastore::kMaxTxnOps;
      if (together) {
        for (const auto& [handle, count] : handles) {
          ASSIGN_OR_RETURN(std::optional<datastore::TxnOp> write,
                           HandleWrite(handle, cidr, -count));
          if (write) ops.push_back(*std::move(write));
        }
      }
      auto written = backend_.Txn(ops);
      if (!written) {
        if (internal::Retryable(written.error())) continue;
        return Unexpected(written.error());
      }
      unallocated.insert(unallocated.end(), not_allocated.begin(), not_allocated.end());
      unallocated.insert(unallocated.end(), changed.begin(), changed.end());
      // More handles than a transaction holds (one block of many handles): one by one after it.
      if (!together) {
        for (const auto& [handle, count] : handles)
          RETURN_IF_ERROR(AdjustHandle(handle, cidr, -count));
      }
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
// frees the handle's addresses in one compare-and-swap, then the handle's count for that block goes
// (decrementHandle; the handle is deleted once it names no block). Here each block's write and the
// handle's go in one transaction comparing both revisions: the same keys and values as upstream,
// one write per block instead of two, and never a handle without addresses or addresses without
// their handle if the process stops half way.
Status IpamClient::ReleaseByHandle(const std::string& handle) {
  auto released = ReleaseByHandle(handle, {});
  if (!released) return Unexpected(released.error());
  return OkStatus();
}

// `with` rides on the first transaction only: a CNI DEL's WorkloadEndpoint delete goes with the
// handle's (single-stack: only) block, so that an endpoint and its addresses go at once, as one
// etcd revision. Upstream (cni-plugin/pkg/k8s/k8s.go CmdDelK8s) deletes the endpoint, then the
// interfaces, then releases: a DEL stopped between those steps leaves addresses without an
// endpoint, which a retried DEL releases by handle; here it leaves either both or neither.
Result<bool> IpamClient::ReleaseByHandle(const std::string& handle,
                                         std::vector<datastore::TxnOp> with) {
  const std::string key = datastore::HandleKey{.handle_id = handle}.Format();
  bool with_written = with.empty();
  std::optional<datastore::KVPair> kv;  // the handle as last read or written
  for (int conflicts = 0; conflicts < kMaxRetries;) {
    if (!kv) {
      auto read = backend_.Get(key);
      if (!read) {
        if (read.error().code() != ErrorCode::kNotFound) return Unexpected(read.error());
        if (with.empty()) return with_written;
        // Nothing to release (a DEL retried, or after an ADD that got no address): `with` alone.
        auto written = backend_.Txn(with);
        if (written) return true;
        if (internal::Retryable(written.error())) return false;
        return Unexpected(written.error());
      }
      kv = *std::move(read);
    }
    Json j = model::ReadStoredJson(kv->key, kv->value);
    // The blocks the handle still names, in the order stored.
    std::vector<std::pair<std::string, net::CIDR>> blocks;
    if (j.is_object() && j.contains("block") && j["block"].is_object()) {
      for (auto it = j["block"].begin(); it != j["block"].end(); ++it) {
        if (auto cidr = net::CIDR::Parse(it.key())) blocks.emplace_back(it.key(), cidr->Masked());
      }
    }
    std::vector<datastore::TxnOp> ops;
    if (!blocks.empty()) {
      ASSIGN_OR_RETURN(std::optional<datastore::TxnOp> block_write,
                       ReleaseHandleWrite(handle, blocks.front().second));
      if (block_write) ops.push_back(*std::move(block_write));
    }
    // The handle without that block; deleted with its last block (or when it names none that
    // parses: whatever else it holds counts nothing).
    const bool last = blocks.size() <= 1;
    if (last) {
      ops.push_back(datastore::TxnOp::Delete(key, kv->mod_revision));
    } else {
      j["block"].erase(blocks.front().first);
      ops.push_back(datastore::TxnOp::Update(key, j.dump(), kv->mod_revision));
    }
    const size_t own_ops = ops.size();
    ops.insert(ops.end(), with.begin(), with.end());
    auto written = backend_.Txn(ops);
    if (written) {
      if (!with.empty()) {
        with.clear();
        with_written = true;
      }
      if (last) return with_written;
      kv = std::move((*written)[own_ops - 1]);  // the next block, from the handle just written
      continue;
    }
    if (!internal::Retryable(written.error())) return Unexpected(written.error());
    // Whichever key changed, `with` is the caller's to write from here (it may be what changed).
    with.clear();
    kv.reset();
    ++conflicts;
  }
  return Exhausted("release handle " + handle);
}

Result<std::optional<datastore::TxnOp>> IpamClient::ReleaseHandleWrite(const std::string& handle,
                                                                       const net::CIDR& cidr) {
  const std::string key = BlockKey(cidr);
  auto kv = backend_.Get(key);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) return std::optional<datastore::TxnOp>{};
    return Unexpected(kv.error());
  }
  ASSIGN_OR_RETURN(Block block, Block::FromJson(kv->value));
  std::vector<net::IPAddr> ips = block.IPsByHandle(handle);
  if (ips.empty()) return std::optional<datastore::TxnOp>{};
  std::vector<net::IPAddr> not_allocated;
  block.Release(ips, not_allocated);
  if (block.Empty() && block.affinity().empty()) {
    return datastore::TxnOp::Delete(key, kv->mod_revision);
  }
  return datastore::TxnOp::Update(key, block.ToJson(), kv->mod_revision);
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
