// The node agent's nftables programming layer: one nftables table (`inet calico`) in the network
// namespace of the thread that creates it, programmed through libnftables (never the `nft`
// binary). Reproduces Felix's nftables table (felix/nftables/table.go): full atomic replacement,
// incremental updates that leave unchanged chains (and their counters) alone, per-rule counters for
// "which rule dropped this", and a drift check for the periodic resync.
//
//   agent ── rendered text (calico::policy) ──▶ NftablesTable ──libnftables──▶ kernel (netns of
//                                                 │  ApplyFull         creator thread)
//                                                 │  ApplyIncremental ─ nft_model/ruleset.h (ONE
//                                                 batch) └─ ListTable / Counters / Matches / Delete
//
// Every Apply* is one libnftables call, i.e. one nftables transaction: it succeeds completely or
// leaves the table as it was. The first Matches() after an apply takes the kernel's listing as the
// baseline; later ones compare the kernel with it (a hash of the normalised listing).
//
// Thread-safety: an instance is not thread-safe; use it from one thread at a time. libnftables
// keeps process-wide state (interface cache), so calls of all instances are serialised on a
// process-wide mutex. The netlink socket is opened by the constructor, in the calling thread's
// network namespace (create the table on a thread inside the target namespace, see RunInNetns);
// later calls go to that namespace whichever thread makes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/dataplane/netns.h"
#include "calico/nft_model/ruleset.h"

struct nft_ctx;
struct mnl_socket;

namespace calico::dataplane {

class NftablesTable {
 public:
  // Opens a libnftables context (and its netlink socket) in the calling thread's network
  // namespace. Aborts only if libnftables cannot allocate its context.
  explicit NftablesTable(std::string family = "inet", std::string name = "calico");
  ~NftablesTable();
  NftablesTable(const NftablesTable&) = delete;
  NftablesTable& operator=(const NftablesTable&) = delete;
  NftablesTable(NftablesTable&&) = delete;
  NftablesTable& operator=(NftablesTable&&) = delete;

  const std::string& family() const { return family_; }
  const std::string& name() const { return name_; }

  // Replaces the table with `ruleset_text` (nft -f syntax, e.g. RenderRuleset output) in one
  // transaction: "add table; delete table;" + the text, so it works whether or not the table
  // exists, and counters restart. On failure the previous table is untouched. Errors carry
  // libnftables' message: kInvalidArgument (syntax/evaluation), kNotFound, kConflict (EBUSY),
  // kAlreadyExists, kPermissionDenied or kUnavailable (other kernel errors).
  [[nodiscard]] Status ApplyFull(std::string_view ruleset_text);

  // Moves the table from `old_text` (what was last applied) to `new_text` in one transaction that
  // touches only what changed (DiffNftRulesets in nft_model/ruleset.h). Both texts must parse (else
  // kInvalidArgument before anything is sent). If the kernel has drifted from `old_text` the
  // transaction may fail (kNotFound, kConflict...): the table is then unchanged and the caller
  // should fall back to ApplyFull(new_text).
  [[nodiscard]] Status ApplyIncremental(std::string_view old_text, std::string_view new_text);

  // The same with the ruleset model (what the agent uses, so that nothing is printed and parsed
  // on the way): ApplyFull applies NftRulesetText(ruleset); ApplyIncremental sends
  // DiffNftRulesets(from, to), where `from` must be what was last applied (else the transaction
  // may fail as above and the caller falls back to ApplyFull(to)).
  //
  // When the table does not exist yet (node start), ApplyFull(ruleset) loads the elements of the
  // IP sets (`type ipv4_addr|ipv6_addr; flags interval`) as a hand-built netlink batch instead of
  // text, in Felix's ipsets-before-rules order (felix/dataplane/linux/int_dataplane.go apply):
  // (1) `create table` (exclusive: if the table exists, the one-transaction replacement above is
  // used instead), (2) every set, map and chain declared empty, in the text's order (base chains
  // with their hooks accept everything, as no table does), (3) the IP sets' elements
  // (nft_set_elements.h, on a thread) while (4) libnftables loads the regular chains' rules and
  // the other sets' and maps' elements, then (5) the base chains' rules: only then can a packet
  // reach a rule. If a step fails the table is deleted again (the state before: no table) and the
  // error returned (if only the elements' batch failed: a warning, then the one-transaction load);
  // the kernel listing after success is the same as after the one-transaction load (rule handles
  // differ). With a base chain whose policy is drop, (2) declares no chain and (3), (4) run one
  // after the other. `set_elements_loaded_separately()` says whether the last successful ApplyFull
  // took this path.
  [[nodiscard]] Status ApplyFull(const nft_model::NftRuleset& ruleset);
  [[nodiscard]] Status ApplyIncremental(const nft_model::NftRuleset& from,
                                        const nft_model::NftRuleset& to);

  // `list table <family> <name>` in nft syntax. kNotFound when the table does not exist.
  [[nodiscard]] Result<std::string> ListTable();

  // Every rule of the table that has a counter, in listing order, with its chain, handle and
  // comment (from libnftables' JSON output). kNotFound when the table does not exist.
  [[nodiscard]] Result<std::vector<nft_model::RuleCounter>> Counters();

  // True when `expected_text` is the text last applied through this object and the kernel's table
  // still lists exactly as it did right after that apply (counter values ignored). False when the
  // table is missing, drifted, or `expected_text` was never applied here: the agent then calls
  // ApplyFull(expected_text). Errors: the listing could not be read or parsed.
  [[nodiscard]] Result<bool> Matches(std::string_view expected_text);
  // True when something was applied through this object and the kernel's table still lists as it
  // did right after that (counter values ignored).
  [[nodiscard]] Result<bool> Matches();

  // Removes the table; a missing table is not an error.
  [[nodiscard]] Status Delete();

  bool set_elements_loaded_separately() const { return elements_separately_; }
  // Whether that load ran (3) beside (4) (elements at least eight times the chains, no drop
  // policy) or after it.
  bool set_elements_overlapped() const { return elements_overlapped_; }
  // The next hand-built set elements batch fails as if the kernel had refused it.
  void FailNextSetElementsForTest() { fail_elements_for_test_ = true; }

 private:
  // libnftables keeps the last listing it fetched or the ruleset it loaded (every rule and set
  // element: tens of MB for a big table) in its context until a later command needs another
  // cache. After a listing or a full apply the context is replaced by a fresh one opened in this
  // table's namespace, which frees it.
  void ReleaseCache();
  // Runs `commands` as one libnftables call; returns its standard output. `op` names the
  // operation in errors: "<op>: <libnftables error text>".
  [[nodiscard]] Result<std::string> Run(std::string_view op, const std::string& commands,
                                        bool json);
  [[nodiscard]] Status ApplyFullText(std::string_view ruleset_text);
  // ApplyFull(ruleset) into an absent table with the IP sets' elements over netlink (see
  // ApplyFull). nullopt when it did not apply (the table exists, or no set qualifies): nothing was
  // changed and the caller loads the ruleset in one transaction.
  [[nodiscard]] std::optional<Status> ApplyFullNewTable(const nft_model::NftRuleset& ruleset);
  void Forget();

  std::string family_;
  std::string name_;
  nft_ctx* ctx_ = nullptr;
  // NETLINK_NETFILTER socket for the set elements' batches, opened next to ctx_ (same namespace);
  // nullptr if it could not be opened (ApplyFull then always uses libnftables alone).
  mnl_socket* nfnl_ = nullptr;
  bool elements_separately_ = false;
  bool elements_overlapped_ = false;
  bool fail_elements_for_test_ = false;
  std::optional<NetnsFd> netns_{};  // Where ctx_'s netlink socket was opened.
  bool applied_ = false;            // The kernel holds what was last applied through this object.
  // Hash of NormaliseNftListing of the listing after the last apply (a 10k-policy listing is
  // megabytes; drift only needs "same or not").
  std::size_t applied_listing_hash_ = 0;
  // After an apply the kernel listing is taken at the next Matches() (listing a big table after
  // every change costs more than the change): drift in between becomes the baseline.
  bool listing_stale_ = false;
  // Text applies only: the text last applied and its parsed form, so the next incremental update
  // from it parses only the new text.
  std::optional<std::string> applied_text_{};
  std::optional<nft_model::NftRuleset> applied_parsed_{};
};

}  // namespace calico::dataplane
