// The state both halves of projectcalico/libnetwork-plugin's driver use (network records, the
// pools made for --subnet).
#include "calico/libnetwork/driver_context.h"

#include <cctype>

#include <fmt/format.h>

#include "calico/base/log.h"
#include "calico/model/json_codec.h"
#include "calico/model/v3/common.h"

namespace calico::libnetwork {

using model::Resource;

bool IsAny(const std::string& cidr) {
  return cidr == kAnyV4 || cidr == kAnyV6;
}

std::string PoolNameFor(const net::CIDR& cidr) {
  std::string name = "libnetwork-";
  for (char c : cidr.String())
    name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '-';
  return name;
}

std::string Annotation(const Resource& r, const char* key) {
  model::v3::ObjectMeta meta;
  if (!model::v3::DecodeObjectMeta(r.metadata(), "metadata", meta)) return "";
  auto it = meta.annotations.find(key);
  return it == meta.annotations.end() ? "" : it->second;
}

model::v3::IPPoolSpec PoolSpec(const Resource& pool) {
  auto typed = model::v3::DecodeIPPool(pool);
  return typed ? std::move(typed->spec) : model::v3::IPPoolSpec{};
}

bool CreatedByUs(const Resource& pool) {
  return Annotation(pool, kCreatedByAnnotation) == kCreatedBy;
}

// The Calico IPPool whose CIDR equals `cidr`, if any.
Result<std::optional<Resource>> FindPool(datastore::Client& client, const net::CIDR& cidr) {
  ASSIGN_OR_RETURN(auto pools, client.List("IPPool"));
  for (Resource& pool : pools) {
    auto typed = model::v3::DecodeIPPool(pool);
    if (!typed) continue;
    auto pc = net::CIDR::Parse(typed->spec.cidr);
    if (pc && pc->Masked() == cidr.Masked()) return std::optional<Resource>(std::move(pool));
  }
  return std::optional<Resource>();
}

Result<net::CIDR> ParseSubnet(const std::string& text) {
  auto cidr = net::CIDR::Parse(text);
  if (!cidr) return InvalidArgument(fmt::format("invalid subnet \"{}\"", text));
  return cidr->Masked();
}

Result<Json> GetNetwork(DriverContext& ctx, const std::string& network_id) {
  auto kv = ctx.backend.Get(kNetworkPrefix + network_id);
  if (!kv) {
    if (kv.error().code() == ErrorCode::kNotFound) {
      return NotFound(
          fmt::format("network {} is not a Calico network known to this driver", network_id));
    }
    return Unexpected(kv.error().Wrap("failed to read network " + network_id));
  }
  Json j = model::ReadStoredJson(kv->key, kv->value);
  if (!j.is_object())
    return Internal(fmt::format("the stored record of network {} is corrupt", network_id));
  return j;
}

// dockerd 20.10 calls ReleasePool before DeleteNetwork (and also after a failed create, with no
// network), so both try; whichever finds the pool unused removes it.
Status DeleteSubnetPoolIfUnused(DriverContext& ctx, const net::CIDR& cidr) {
  ASSIGN_OR_RETURN(auto pool, FindPool(ctx.client, cidr));
  if (!pool || !CreatedByUs(*pool) || !Annotation(*pool, kNetworkAnnotation).empty()) {
    return OkStatus();  // not ours (or a Docker-IPAM network's, removed with the network)
  }
  // Kept while a network uses the subnet or addresses are still allocated from it.
  ASSIGN_OR_RETURN(auto records, ctx.backend.List(kNetworkPrefix));
  for (const auto& kv : records.kvs) {
    Json net = model::ReadStoredJson(kv.key, kv.value);
    if (!net.is_object()) continue;
    for (const char* key : {"IPv4Data", "IPv6Data"}) {
      auto data = net.find(key);
      if (data == net.end() || !data->is_array()) continue;
      for (const Json& d : *data) {
        if (!d.is_object()) continue;
        auto c = net::CIDR::Parse(d.value("Pool", ""));
        if (c && c->Masked() == cidr) return OkStatus();
      }
    }
  }
  ASSIGN_OR_RETURN(auto blocks, ctx.ipam.ListBlocks(cidr.family()));
  for (const ipam::Block& b : blocks) {
    if (cidr.Contains(b.cidr()) && !b.Empty()) {
      CALICO_LOG(info, "libnetwork", "keeping IP pool {}: addresses are still allocated",
                 pool->name());
      return OkStatus();
    }
  }
  auto deleted = ctx.client.Delete("IPPool", "", pool->name());
  if (!deleted && deleted.error().code() != ErrorCode::kNotFound) {
    return Unexpected(deleted.error().Wrap("failed to delete IP pool " + pool->name()));
  }
  CALICO_LOG(info, "libnetwork", "deleted IP pool {}", pool->name());
  return OkStatus();
}

}  // namespace calico::libnetwork
