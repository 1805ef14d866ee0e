// AllocationBlock: one IPAM block as Calico stores it (libcalico-go/lib/backend/model/block.go,
// lib/ipam/ipam_block.go): allocations (ordinal -> attribute index or null), the FIFO list of
// unallocated ordinals, attributes {handle_id, secondary}, sequence numbers and affinity.
// Pure logic: the IPAM client reads and CAS-writes blocks through the datastore.
//
// Thread-safety: values.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/net/ip.h"

namespace calico::ipam {

using Json = nlohmann::json;

struct Attribute {
  std::string handle_id;            // "" = none.
  Json secondary = Json::object();  // {"node": ..., "namespace": ..., "pod": ...}

  // One secondary attribute (Go's map[string]string AttrSecondary, e.g. "node", "netns",
  // "type"): nullopt (FindSecondary) or "" (Secondary) when absent or not a string.
  std::optional<std::string> FindSecondary(std::string_view key) const;
  std::string Secondary(std::string_view key) const { return FindSecondary(key).value_or(""); }
  bool operator==(const Attribute& o) const {
    return handle_id == o.handle_id && secondary == o.secondary;
  }
};

class Block {
 public:
  // A new empty block for `cidr` (masked) affine to "host:<host>" (empty host = no affinity).
  static Block New(const net::CIDR& cidr, const std::string& host, int64_t now_ns);
  // The largest block there can be: IPPool's blockSize is 20..32 (IPv4) or 116..128 (IPv6),
  // so 4096 addresses. A stored block claiming more is refused rather than allocated for.
  static constexpr int kMaxBlockHostBits = 12;
  // Decodes a stored AllocationBlock (any value: the decoder limits apply, and indexes are
  // checked). Errors: kInternal naming what is wrong.
  [[nodiscard]] static Result<Block> FromJson(std::string_view text);
  std::string ToJson() const;

  const net::CIDR& cidr() const { return cidr_; }
  // "host:node1", or "" when unaffined.
  const std::string& affinity() const { return affinity_; }
  std::string host() const;  // The host of a "host:" affinity, else "".
  size_t size() const { return allocations_.size(); }
  size_t NumFree() const { return unallocated_.size(); }
  bool Empty() const { return unallocated_.size() == allocations_.size(); }
  bool deleted() const { return deleted_; }  // Marked deleted (being removed by its owner).

  // Takes up to `num` free ordinals in FIFO order, skipping reserved addresses (kept in place).
  // All share one attribute entry. Returns the addresses.
  std::vector<net::IPAddr> AutoAssign(int num, const Attribute& attr,
                                      const std::vector<net::CIDR>& reserved);
  // Assigns a specific address. Errors: kAlreadyExists when allocated, kInvalidArgument when the
  // address is outside the block.
  [[nodiscard]] Status Assign(const net::IPAddr& ip, const Attribute& attr);
  // Frees the addresses; returns the handles they held (handle -> count). Addresses that were not
  // allocated are appended to `unallocated_out`.
  std::map<std::string, int> Release(const std::vector<net::IPAddr>& ips,
                                     std::vector<net::IPAddr>& unallocated_out);
  // Every allocated address of `handle`.
  std::vector<net::IPAddr> IPsByHandle(const std::string& handle) const;
  // The attribute of an allocated address, if any.
  std::optional<Attribute> AttributeOf(const net::IPAddr& ip) const;
  // The sequence number recorded when the address was allocated (unset when it is free).
  std::optional<int64_t> SequenceNumberOf(const net::IPAddr& ip) const;
  // (address, attribute) for every allocation.
  std::vector<std::pair<net::IPAddr, Attribute>> Allocations() const;

 private:
  [[nodiscard]] static Result<Block> FromParsedJson(const Json& j);
  std::optional<size_t> Ordinal(const net::IPAddr& ip) const;
  size_t AttributeIndex(const Attribute& attr);
  void CompactAttributes();

  net::CIDR cidr_;
  std::string affinity_;
  std::string claim_time_;
  std::vector<std::optional<size_t>> allocations_;
  std::vector<size_t> unallocated_;
  std::vector<Attribute> attributes_;
  int64_t sequence_number_ = 0;
  std::map<std::string, int64_t> seq_for_allocation_;
  bool deleted_ = false;
};

}  // namespace calico::ipam
