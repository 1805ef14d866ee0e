// The nftables ruleset model used by the node agent's nftables layer (no kernel access; its own
// library, calico::nft_model, which calico::policy renders into): parses a
// `table <family> <name> { ... }` (calico::policy's RenderRuleset output, or `nft list table`
// output) into chains, sets and maps, prints one back, and computes ONE incremental transaction
// between two rulesets that touches only what changed, the way Felix's nftables table
// (felix/nftables/table.go) keeps unchanged chains, and so their counters, in place.
//
//   old text ──ParseNftRuleset──▶ NftRuleset ─┐
//                                              ├─DiffNftRulesets──▶ NftDiff{commands}
//   new text ──ParseNftRuleset──▶ NftRuleset ─┘        (nft -f text)
//
// The transaction orders its commands so that every step is valid against the kernel's state
// (nftables refuses to delete a chain or set that a rule or map element still refers to):
//   1. add new sets/maps (declarations) and new chains (empty)
//   2. flush chains that change, go away, or refer to a set/map/chain that is re-created
//   3. delete set/map elements that go away (maps: by key), or flush a set/map that keeps at most
//      1000 elements (refilled in step 6; `delete element` fetches every chain, see below)
//   4. delete removed and re-created sets/maps, then removed and re-created chains
//   5. re-create sets/maps/chains whose declaration (type, flags, hook...) changed
//   6. add elements, then the rules of new, flushed and re-created chains
// Unchanged chains and sets are not mentioned at all. Step 6 is phrased so that libnftables
// (1.0.6) fetches no chain cache, whose dump of every chain of the table costs more than the
// change itself at thousands of chains: elements as `add set|map X { declaration; elements =
// { ... }; }` instead of `add element`, rules as one `add chain X { rules }` block per chain
// instead of `add rule` lines, each set a new rule refers to (`@X`) declared before it with
// `add set|map X { declaration }` (a no-op in the kernel; it lets libnftables resolve `@X`
// without fetching the set list). Deletions (`delete element|set|chain`) still make libnftables
// fetch every chain: libnftables 1.0.6 has no phrasing of them without it, hence step 3's flush.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"

namespace calico::nft_model {

// A list of lines (rules, elements) whose copies share one vector, so that the agent's render
// cache, the rendered ruleset and the applied one hold a single copy of everything that did not
// change, and comparing two copies of it is one pointer comparison. Reads like a const
// std::vector<std::string>; push_back copies first when the vector is shared (copy on write).
class NftLines {
 public:
  using value_type = std::string;
  using const_iterator = std::vector<std::string>::const_iterator;
  using iterator = const_iterator;

  NftLines() = default;
  NftLines(std::initializer_list<std::string> lines)
      : lines_(std::make_shared<std::vector<std::string>>(lines)) {}
  explicit NftLines(std::vector<std::string> lines)
      : lines_(std::make_shared<std::vector<std::string>>(std::move(lines))) {}

  const std::vector<std::string>& get() const { return lines_ ? *lines_ : Empty(); }
  const_iterator begin() const { return get().begin(); }
  const_iterator end() const { return get().end(); }
  std::size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const std::string& operator[](std::size_t i) const { return get()[i]; }

  void push_back(std::string line) {
    if (!lines_) {
      lines_ = std::make_shared<std::vector<std::string>>();
    } else if (lines_.use_count() > 1) {
      lines_ = std::make_shared<std::vector<std::string>>(*lines_);
    }
    lines_->push_back(std::move(line));
  }

  bool operator==(const NftLines& other) const {
    return lines_ == other.lines_ || get() == other.get();
  }
  bool operator==(const std::vector<std::string>& other) const { return get() == other; }

 private:
  static const std::vector<std::string>& Empty() {
    static const std::vector<std::string> empty;
    return empty;
  }
  std::shared_ptr<std::vector<std::string>> lines_{};
};

struct NftChain {
  // Declaration lines: "type filter hook forward priority filter; policy accept;" for base
  // chains; empty for regular chains.
  std::vector<std::string> header{};
  NftLines rules{};
  bool operator==(const NftChain&) const = default;
};

// A named set or map (they share one namespace in nftables).
struct NftSet {
  bool is_map = false;
  std::vector<std::string> header{};  // "type ipv4_addr", "flags interval", "comment \"...\""
  NftLines elements{};                // "10.65.0.0/24", "\"cali1\" : goto cali-fw-cali1"
  bool operator==(const NftSet&) const = default;
};

struct NftRuleset {
  std::string family = "inet";
  std::string table = "calico";
  std::map<std::string, NftChain> chains{};
  std::map<std::string, NftSet> sets{};
  bool operator==(const NftRuleset&) const = default;
};

// One rule with a `counter` statement, as `nft list` reports it
// (dataplane::NftablesTable::Counters; `calicoctl node counters` prints them).
struct RuleCounter {
  std::string chain{};
  uint64_t handle = 0;
  std::string comment{};  // "policy default/allow-dns ingress #0"; empty when the rule has none.
  uint64_t packets = 0;
  uint64_t bytes = 0;
  bool operator==(const RuleCounter&) const = default;
};

// Parses the block `table <family> <table> { ... }` of `text`. Accepted outside the block: blank
// lines, `#` comment lines and table-level commands (`table f t`, `add|delete|flush table f t`),
// which a full apply uses to replace the table. Errors (kInvalidArgument) name the line: missing
// table block, unbalanced braces, unknown statements, duplicate names.
[[nodiscard]] Result<NftRuleset> ParseNftRuleset(std::string_view text,
                                                 std::string_view family = "inet",
                                                 std::string_view table = "calico");

struct NftDiff {
  // `nft -f` text; empty when the rulesets are equal. One libnftables call = one transaction.
  std::string commands{};
  // What the transaction does (for logs and tests).
  std::vector<std::string> added_chains{};
  std::vector<std::string> removed_chains{};
  std::vector<std::string> refilled_chains{};  // Flushed and refilled (changed or dependent).
  std::vector<std::string> recreated{};        // Chains/sets/maps deleted and re-created.
  std::vector<std::string> added_sets{};
  std::vector<std::string> removed_sets{};
  std::vector<std::string> updated_sets{};  // Element add/delete only.
  bool empty() const { return commands.empty(); }
};

// The transaction that turns `from` (what the kernel has) into `to`. Both must name the same table.
[[nodiscard]] NftDiff DiffNftRulesets(const NftRuleset& from, const NftRuleset& to);

// The `nft -f` text of a ruleset: `table <family> <table> { ... }` with the sets, then the maps,
// then the base chains and the other chains, each group by name; elements and rules in order.
// ParseNftRuleset of the text gives `ruleset` back.
std::string NftRulesetText(const NftRuleset& ruleset);

// A canonical text of a ruleset for comparisons: sets and chains sorted by name, elements sorted,
// counter values dropped ("counter packets 3 bytes 180" -> "counter").
std::string CanonicalNftText(const NftRuleset& ruleset);

// Parses `nft list table` output and returns CanonicalNftText of it.
[[nodiscard]] Result<std::string> NormaliseNftListing(std::string_view listing,
                                                      std::string_view family = "inet",
                                                      std::string_view table = "calico");

// Splits the inside of an nft `{ ... }` element list at top-level commas (not inside quotes or
// nested braces) and trims the pieces.
std::vector<std::string> SplitNftElements(std::string_view list);

// `name` as an nft identifier: unchanged when it is a plain identifier, quoted otherwise.
std::string NftName(std::string_view name);

}  // namespace calico::nft_model
