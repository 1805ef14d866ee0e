// IPAM block allocation logic (libcalico-go/lib/ipam/ipam_block.go).
#include "calico/ipam/block.h"

#include <algorithm>
#include <chrono>

#include "calico/base/clock.h"
#include "calico/model/json_codec.h"

namespace calico::ipam {
namespace {

bool Reserved(const net::IPAddr& ip, const std::vector<net::CIDR>& reserved) {
  for (const net::CIDR& r : reserved) {
    if (r.Contains(ip)) return true;
  }
  return false;
}

}  // namespace

Block Block::New(const net::CIDR& cidr, const std::string& host, int64_t now_ns) {
  Block b;
  b.cidr_ = cidr.Masked();
  if (!host.empty()) {
    b.affinity_ = "host:" + host;
    b.claim_time_ = FormatRfc3339(std::chrono::system_clock::now());
  }
  size_t n = static_cast<size_t>(cidr.Size());
  b.allocations_.assign(n, std::nullopt);
  b.unallocated_.resize(n);
  for (size_t i = 0; i < n; ++i)
    b.unallocated_[i] = i;
  b.sequence_number_ = now_ns;
  return b;
}

Result<Block> Block::FromJson(std::string_view text) {
  // The value comes from the datastore, where anything may have been written: the decoder limits
  // apply, and every index is checked before it can be used (an allocation naming a missing
  // attribute, or an ordinal both allocated and free, would corrupt or crash allocation).
  auto parsed = model::ParseJson(text, model::kMaxStoredValueBytes);
  if (!parsed) return Internal("unparsable IPAM block: " + parsed.error().message());
  const Json& j = *parsed;
  if (!j.is_object()) return Internal("unparsable IPAM block: not a JSON object");
  try {
    return FromParsedJson(j);
  } catch (const Json::exception& e) {
    // A field of the wrong type (Go's decoder would refuse the value the same way).
    return Internal(std::string("unparsable IPAM block: ") + e.what());
  }
}

Result<Block> Block::FromParsedJson(const Json& j) {
  Block b;
  auto cidr_field = j.find("cidr");
  auto cidr = cidr_field != j.end() && cidr_field->is_string()
                  ? net::CIDR::Parse(cidr_field->get<std::string>())
                  : std::nullopt;
  if (!cidr) return Internal("IPAM block has an invalid cidr");
  const int host_bits = (cidr->family() == 4 ? 32 : 128) - cidr->prefix_len();
  if (host_bits > kMaxBlockHostBits) {
    return Internal("IPAM block " + cidr->String() + " is larger than a Calico block can be (/" +
                    std::to_string((cidr->family() == 4 ? 32 : 128) - kMaxBlockHostBits) + ")");
  }
  // Calico writes a block's cidr as its network (libcalico-go/lib/ipam/ipam_block.go newBlock);
  // with host bits set, the addresses it hands out (cidr + ordinal) would leave the block and an
  // address below the cidr's own would have no ordinal. Refused like any other corrupt block.
  if (!cidr->IsStrictlyMasked()) {
    return Internal("IPAM block " + cidr->String() +
                    " is corrupt: its cidr has host bits set (the network is " +
                    cidr->Masked().String() + ")");
  }
  b.cidr_ = *cidr;
  if (j.contains("affinity") && j["affinity"].is_string()) b.affinity_ = j["affinity"];
  if (j.contains("affinity_claim_time") && j["affinity_claim_time"].is_string()) {
    b.claim_time_ = j["affinity_claim_time"];
  }
  const size_t n = static_cast<size_t>(cidr->Size());
  if (j.contains("attributes") && j["attributes"].is_array()) {
    for (const Json& a : j["attributes"]) {
      Attribute attr;
      if (a.is_object()) {
        if (a.contains("handle_id") && a["handle_id"].is_string()) attr.handle_id = a["handle_id"];
        if (a.contains("secondary") && a["secondary"].is_object()) attr.secondary = a["secondary"];
      }
      b.attributes_.push_back(std::move(attr));
    }
  }
  auto bad = [&](const std::string& what) {
    return Internal("IPAM block " + cidr->String() + " is corrupt: " + what);
  };
  b.allocations_.assign(n, std::nullopt);
  if (j.contains("allocations") && j["allocations"].is_array()) {
    const Json& a = j["allocations"];
    for (size_t i = 0; i < std::min(n, a.size()); ++i) {
      if (a[i].is_null()) continue;
      if (!a[i].is_number_unsigned() || a[i].get<uint64_t>() >= b.attributes_.size()) {
        return bad("allocation " + std::to_string(i) + " names attribute " + a[i].dump() + " of " +
                   std::to_string(b.attributes_.size()));
      }
      b.allocations_[i] = a[i].get<size_t>();
    }
  }
  if (j.contains("unallocated") && j["unallocated"].is_array()) {
    std::vector<bool> seen(n, false);
    for (const Json& o : j["unallocated"]) {
      if (!o.is_number_unsigned() || o.get<uint64_t>() >= n) {
        return bad("unallocated ordinal " + o.dump() + " is outside the block");
      }
      const size_t ordinal = o.get<size_t>();
      if (seen[ordinal] || b.allocations_[ordinal]) {
        return bad("ordinal " + std::to_string(ordinal) + " is listed free twice or is in use");
      }
      seen[ordinal] = true;
      b.unallocated_.push_back(ordinal);
    }
  }
  if (j.contains("sequenceNumber") && j["sequenceNumber"].is_number_integer()) {
    b.sequence_number_ = j["sequenceNumber"].get<int64_t>();
  }
  if (j.contains("sequenceNumberForAllocation") && j["sequenceNumberForAllocation"].is_object()) {
    for (auto it = j["sequenceNumberForAllocation"].begin();
         it != j["sequenceNumberForAllocation"].end(); ++it) {
      if (it->is_number_integer()) b.seq_for_allocation_[it.key()] = it->get<int64_t>();
    }
  }
  if (j.contains("deleted") && j["deleted"].is_boolean()) b.deleted_ = j["deleted"];
  return b;
}

std::string Block::ToJson() const {
  Json j;
  j["cidr"] = cidr_.String();
  j["affinity"] = affinity_.empty() ? Json(nullptr) : Json(affinity_);
  if (!claim_time_.empty()) j["affinity_claim_time"] = claim_time_;
  Json allocs = Json::array();
  for (const auto& a : allocations_)
    allocs.push_back(a ? Json(*a) : Json(nullptr));
  j["allocations"] = allocs;
  j["unallocated"] = unallocated_;
  Json attrs = Json::array();
  for (const Attribute& a : attributes_) {
    Json e;
    e["handle_id"] = a.handle_id.empty() ? Json(nullptr) : Json(a.handle_id);
    e["secondary"] = a.secondary.empty() ? Json(nullptr) : a.secondary;
    attrs.push_back(e);
  }
  j["attributes"] = attrs;
  j["sequenceNumber"] = sequence_number_;
  j["sequenceNumberForAllocation"] = seq_for_allocation_;
  j["deleted"] = deleted_;
  return j.dump();
}

std::optional<std::string> Attribute::FindSecondary(std::string_view key) const {
  if (!secondary.is_object()) return std::nullopt;
  auto it = secondary.find(std::string(key));
  if (it == secondary.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string Block::host() const {
  return affinity_.rfind("host:", 0) == 0 ? affinity_.substr(5) : std::string();
}

std::optional<size_t> Block::Ordinal(const net::IPAddr& ip) const {
  if (!cidr_.Contains(ip)) return std::nullopt;
  return static_cast<size_t>(ip.Sub(cidr_.addr()));
}

size_t Block::AttributeIndex(const Attribute& attr) {
  for (size_t i = 0; i < attributes_.size(); ++i) {
    if (attributes_[i] == attr) return i;
  }
  attributes_.push_back(attr);
  return attributes_.size() - 1;
}

std::vector<net::IPAddr> Block::AutoAssign(int num, const Attribute& attr,
                                           const std::vector<net::CIDR>& reserved) {
  std::vector<net::IPAddr> out;
  if (num <= 0) return out;
  std::vector<size_t> taken;
  for (size_t ord : unallocated_) {
    if (static_cast<int>(taken.size()) >= num) break;
    if (Reserved(cidr_.addr().Add(ord), reserved)) continue;
    taken.push_back(ord);
  }
  if (taken.empty()) return out;
  size_t idx = AttributeIndex(attr);
  ++sequence_number_;
  for (size_t ord : taken) {
    allocations_[ord] = idx;
    seq_for_allocation_[std::to_string(ord)] = sequence_number_;
    unallocated_.erase(std::find(unallocated_.begin(), unallocated_.end(), ord));
    out.push_back(cidr_.addr().Add(ord));
  }
  return out;
}

Status Block::Assign(const net::IPAddr& ip, const Attribute& attr) {
  auto ord = Ordinal(ip);
  if (!ord) return InvalidArgument("IP " + ip.String() + " is not in block " + cidr_.String());
  if (allocations_[*ord]) {
    return AlreadyExists("Address already assigned in block: " + ip.String());
  }
  allocations_[*ord] = AttributeIndex(attr);
  ++sequence_number_;
  seq_for_allocation_[std::to_string(*ord)] = sequence_number_;
  unallocated_.erase(std::remove(unallocated_.begin(), unallocated_.end(), *ord),
                     unallocated_.end());
  return OkStatus();
}

std::map<std::string, int> Block::Release(const std::vector<net::IPAddr>& ips,
                                          std::vector<net::IPAddr>& unallocated_out) {
  std::map<std::string, int> handles;
  for (const net::IPAddr& ip : ips) {
    auto ord = Ordinal(ip);
    if (!ord || !allocations_[*ord]) {
      unallocated_out.push_back(ip);
      continue;
    }
    const Attribute& attr = attributes_[*allocations_[*ord]];
    if (!attr.handle_id.empty()) handles[attr.handle_id]++;
    allocations_[*ord].reset();
    seq_for_allocation_.erase(std::to_string(*ord));
    unallocated_.push_back(*ord);  // Reused last (FIFO).
  }
  if (!handles.empty() || unallocated_out.size() < ips.size()) {
    ++sequence_number_;
    CompactAttributes();
  }
  return handles;
}

void Block::CompactAttributes() {
  std::vector<bool> used(attributes_.size(), false);
  for (const auto& a : allocations_) {
    if (a) used[*a] = true;
  }
  std::vector<size_t> remap(attributes_.size(), 0);
  std::vector<Attribute> kept;
  for (size_t i = 0; i < attributes_.size(); ++i) {
    if (!used[i]) continue;
    remap[i] = kept.size();
    kept.push_back(std::move(attributes_[i]));
  }
  for (auto& a : allocations_) {
    if (a) a = remap[*a];
  }
  attributes_ = std::move(kept);
}

std::optional<int64_t> Block::SequenceNumberOf(const net::IPAddr& ip) const {
  auto ord = Ordinal(ip);
  if (!ord || !allocations_[*ord]) return std::nullopt;
  auto it = seq_for_allocation_.find(std::to_string(*ord));
  if (it == seq_for_allocation_.end()) return std::nullopt;
  return it->second;
}

std::vector<net::IPAddr> Block::IPsByHandle(const std::string& handle) const {
  std::vector<net::IPAddr> out;
  for (size_t i = 0; i < allocations_.size(); ++i) {
    if (allocations_[i] && attributes_[*allocations_[i]].handle_id == handle) {
      out.push_back(cidr_.addr().Add(i));
    }
  }
  return out;
}

std::optional<Attribute> Block::AttributeOf(const net::IPAddr& ip) const {
  auto ord = Ordinal(ip);
  if (!ord || !allocations_[*ord]) return std::nullopt;
  return attributes_[*allocations_[*ord]];
}

std::vector<std::pair<net::IPAddr, Attribute>> Block::Allocations() const {
  std::vector<std::pair<net::IPAddr, Attribute>> out;
  for (size_t i = 0; i < allocations_.size(); ++i) {
    if (allocations_[i]) out.emplace_back(cidr_.addr().Add(i), attributes_[*allocations_[i]]);
  }
  return out;
}

}  // namespace calico::ipam
