// Calico's block-affinity IPAM (libcalico-go/lib/ipam) over datastore::Backend, with Calico's
// keys and values (/calico/ipam/v2/...): blocks affine to hosts, handles, attributes,
// compare-and-swap on every write, borrowing when strict affinity is off, IPReservations,
// specific-address assignment, release by address and by handle.
//
//   AutoAssign ──> pools (enabled, nodeSelector, allowedUses) ──> host's affine blocks (a claim
//                  left half-made by a crash is finished, a stale affinity dropped)
//              ──> claim new block (pending affinity -> Create block -> confirmed)
//              ──> borrow from other hosts' blocks (strictAffinity=false)
//   every block write: the block's CAS and its handle's count in one transaction (release.cc);
//   a CNI DEL's WorkloadEndpoint delete can ride on the release's (ReleaseByHandle with `with`)
//
// Thread-safety: thread-safe if the Backend is (all state lives in the datastore). Concurrent
// AutoAssigns for one host never hand out an address twice (CAS on every block), but they may
// each claim a block and so pass maxBlocksPerHost together: callers on a host serialise
// assignments with the host-wide lock (host_lock.h), as Calico's CNI plugin does.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/ipam/block.h"
#include "calico/net/ip.h"

namespace calico::ipam {

// libcalico-go/lib/ipam/ipam_types.go IPAMConfig, stored as model.IPAMConfig
// (libcalico-go/lib/backend/model/ipam_config.go) at /calico/ipam/v2/config. The member defaults
// are GetIPAMConfig's defaults when nothing is stored; a stored record's missing fields are Go's
// zero values (its writer omits false, 0 and nil).
struct IpamConfig {
  bool strict_affinity = false;
  bool auto_allocate_blocks = true;
  int max_blocks_per_host = 0;  // 0 = unlimited (Calico's default cap of 20 applies).
  // KubeVirt VM address persistence ("Enabled" / "Disabled"); not used by this build's IPAM, kept
  // so that `calicoctl ipam configure` never drops it. nullopt = unset in the stored record.
  std::optional<std::string> kubevirt_vm_address_persistence = "Enabled";
  int ip_cooldown_seconds = 0;  // not used by this build's IPAM (kept, as above)

  bool operator==(const IpamConfig&) const = default;
};

struct Pool {
  std::string name;
  net::CIDR cidr;
  int block_size = 26;
  bool disabled = false;
  std::string node_selector = "all()";
  std::vector<std::string> allowed_uses = {"Workload", "Tunnel"};
  std::string assignment_mode = "Automatic";
};

struct AutoAssignArgs {
  int num4 = 0;
  int num6 = 0;
  std::string handle;           // "<network>.<containerID>"
  Json attrs = Json::object();  // secondary attributes
  std::string host;
  std::vector<net::CIDR> ipv4_pools;  // Restrict to these pools (by CIDR); empty = automatic.
  std::vector<net::CIDR> ipv6_pools;
  std::string intended_use = "Workload";
  int max_blocks_per_host = 0;
};

// An address to release only while it is still the same allocation (libcalico-go
// ipam.ReleaseOptions): held by `handle` (when set) under `sequence_number` (when set), so that a
// release from an old `ipam check` report never frees an address allocated again since.
struct ReleaseOptions {
  net::IPAddr address;
  std::string handle;
  std::optional<int64_t> sequence_number;
};

struct AssignResult {
  std::vector<net::CIDR> ipv4;  // Address with the block's prefix length (10.0.0.5/26).
  std::vector<net::CIDR> ipv6;
  std::vector<std::string> messages;
};

class IpamClient {
 public:
  explicit IpamClient(datastore::Backend& backend) : backend_(backend) {}

  // Partial fulfilment is not an error (see messages), as in Calico; callers decide.
  // Errors: kInvalidArgument (bad request), kNotFound (no qualified pool), kUnavailable.
  [[nodiscard]] Result<AssignResult> AutoAssign(const AutoAssignArgs& args);
  // Errors: kAlreadyExists (address in use), kInvalidArgument (not in a pool).
  [[nodiscard]] Status AssignIP(const net::IPAddr& ip, const std::string& handle, const Json& attrs,
                                const std::string& host);
  // Frees the addresses; returns those that were not allocated.
  [[nodiscard]] Result<std::vector<net::IPAddr>> ReleaseIPs(const std::vector<net::IPAddr>& ips);
  // Frees the addresses that are still the allocations described; returns the others (not
  // allocated, or allocated again since).
  [[nodiscard]] Result<std::vector<net::IPAddr>> ReleaseIPs(
      const std::vector<ReleaseOptions>& releases);
  // Frees every address of the handle and deletes the handle. A missing handle is not an error.
  [[nodiscard]] Status ReleaseByHandle(const std::string& handle);
  // ReleaseByHandle with the caller's own writes (`with`: a CNI DEL's WorkloadEndpoint delete) in
  // the transaction of the handle's first block, or alone when no handle is stored: one write
  // instead of two, all or nothing. Returns whether `with` was written. When that transaction fails
  // on a conflict (any of its keys changed since read, `with`'s included), the release goes on
  // without them and returns false: the caller then writes them its own way. Errors as
  // ReleaseByHandle; kInvalidArgument (nothing written) when `with` names the handle's or a block's
  // key, or makes the transaction longer than datastore::kMaxTxnOps.
  [[nodiscard]] Result<bool> ReleaseByHandle(const std::string& handle,
                                             std::vector<datastore::TxnOp> with);
  [[nodiscard]] Result<std::vector<net::IPAddr>> IPsByHandle(const std::string& handle);
  [[nodiscard]] Result<std::optional<Attribute>> GetAssignmentAttributes(const net::IPAddr& ip);
  // Releases every block affinity of the host (empty blocks are deleted).
  [[nodiscard]] Status ReleaseHostAffinities(const std::string& host);

  // GetIPAMConfig: the stored config, or the defaults when none is stored (never written by a
  // read). Errors: kInternal naming the key when the stored value is not an IPAM config.
  [[nodiscard]] Result<IpamConfig> GetConfig();
  // SetIPAMConfig: refuses what upstream refuses (StrictAffinity and AutoAllocateBlocks both off;
  // MaxBlocksPerHost without StrictAffinity) with kInvalidArgument; writes nothing when unchanged;
  // otherwise a compare-and-swap on the stored record's revision (kConflict when another writer
  // got there first).
  [[nodiscard]] Status SetConfig(const IpamConfig& config);
  [[nodiscard]] Result<std::vector<Pool>> ListPools();
  // All blocks (family 0 = both).
  [[nodiscard]] Result<std::vector<Block>> ListBlocks(int family = 0);

 private:
  struct Claimed {
    Block block;
    int64_t revision;
  };
  [[nodiscard]] Result<int> AssignFamily(int family, int num, const AutoAssignArgs& args,
                                         AssignResult& result);
  [[nodiscard]] Result<std::vector<Pool>> PoolsFor(int family, const AutoAssignArgs& args);
  [[nodiscard]] Result<std::vector<net::CIDR>> Reservations();
  // Assigns up to `num` from the block at `cidr` (CAS loop); returns the addresses. `read` is the
  // block as just read, if the caller has it (the first attempt then needs no read of its own).
  [[nodiscard]] Result<std::vector<net::IPAddr>> AssignFromBlock(
      const net::CIDR& cidr, int num, const Attribute& attr, const std::vector<net::CIDR>& reserved,
      const std::string& require_host, std::optional<datastore::KVPair> read = std::nullopt);
  // Claims a free block of the pools for the host; returns its CIDR or kNotFound.
  [[nodiscard]] Result<net::CIDR> ClaimBlock(const std::vector<Pool>& pools,
                                             const std::string& host);
  // The write that changes the handle's count of addresses in `block` by `delta`, computed from
  // the handle as read now (a create, a compare-and-swap update, or a delete at the revision read
  // once the handle names no block); nullopt when nothing is to be written (no handle id, or fewer
  // addresses for a handle that does not exist).
  [[nodiscard]] Result<std::optional<datastore::TxnOp>> HandleWrite(const std::string& handle,
                                                                    const net::CIDR& block,
                                                                    int delta);
  // HandleWrite on its own (CAS loop).
  [[nodiscard]] Status AdjustHandle(const std::string& handle, const net::CIDR& block, int delta);
  // The block written with `block` (as changed by the caller) and the handle's count for it
  // changed by `delta`, in one transaction (compare-and-swap on both): kConflict, kAlreadyExists
  // or kNotFound when either changed since it was read (Retryable), and then nothing is written.
  [[nodiscard]] Status WriteBlockAndHandle(const datastore::KVPair& read, const Block& block,
                                           const std::string& handle, int delta);
  struct Affinity {
    net::CIDR cidr;
    std::string state;  // "pending" | "confirmed" (no state in the store counts as confirmed)
  };
  [[nodiscard]] Result<std::vector<Affinity>> AffineBlocks(const std::string& host, int family);
  // Completes or drops a half-made claim of the host's affinity; the block as read (or created)
  // when it exists and is the host's (creating it when only the affinity existed), nullopt for a
  // stale affinity (deleted).
  [[nodiscard]] Result<std::optional<datastore::KVPair>> ReconcileAffinity(const Affinity& affinity,
                                                                           const std::string& host);
  // The write of the block at `cidr` that frees every address of `handle` in it (a delete, at the
  // revision read, when the block is left empty and unaffine); nullopt when the block does not
  // exist or holds none of the handle's addresses.
  [[nodiscard]] Result<std::optional<datastore::TxnOp>> ReleaseHandleWrite(
      const std::string& handle, const net::CIDR& cidr);

  datastore::Backend& backend_;
};

}  // namespace calico::ipam
