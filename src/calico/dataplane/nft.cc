// libnftables implementation of the agent's nftables table (felix/nftables/table.go behaviour:
// atomic full loads, incremental transactions, counters, resync against the kernel).
#include "calico/dataplane/nft.h"

#include <libmnl/libmnl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <nftables/libnftables.h>
#include <nlohmann/json.hpp>

#include "calico/base/log.h"
#include "calico/base/strings.h"
#include "calico/base/unique_fd.h"
#include "calico/dataplane/nft_set_elements.h"
#include "calico/nft_model/ruleset.h"

namespace calico::dataplane {

using nft_model::DiffNftRulesets;
using nft_model::NftDiff;
using nft_model::NftName;
using nft_model::NftRuleset;
using nft_model::NftRulesetText;
using nft_model::NftSet;
using nft_model::NormaliseNftListing;
using nft_model::ParseNftRuleset;
using nft_model::RuleCounter;

namespace {

constexpr std::string_view kLog = "nft";

// libnftables keeps process-wide state (interface cache, one-time init), so its calls are
// serialised across all contexts.
std::mutex& NftMutex() {
  static std::mutex mu;
  return mu;
}

// Maps libnftables' error text to an ErrorCode. Kernel errors read "Could not process rule:
// <strerror>"; parser and evaluation errors ("syntax error", "Could not resolve ...") do not.
ErrorCode CodeFor(std::string_view message) {
  if (message.find("No such file or directory") != std::string_view::npos) {
    return ErrorCode::kNotFound;
  }
  if (message.find("Device or resource busy") != std::string_view::npos) {
    return ErrorCode::kConflict;
  }
  if (message.find("File exists") != std::string_view::npos) return ErrorCode::kAlreadyExists;
  if (message.find("Operation not permitted") != std::string_view::npos) {
    return ErrorCode::kPermissionDenied;
  }
  if (message.find("Could not process rule") != std::string_view::npos) {
    return ErrorCode::kUnavailable;
  }
  return ErrorCode::kInvalidArgument;
}

uint64_t JsonU64(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_unsigned()) return 0;
  return it->get<uint64_t>();
}

std::string ReplaceAll(std::string s, const std::string& from, std::string_view to) {
  for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

// An anonymous in-memory file holding a transaction's text; closed on destruction.
class InputFile {
 public:
  // nullopt when no memfd can be made (the caller falls back to the buffer API).
  static std::optional<InputFile> Create(std::string_view text) {
    UniqueFd fd(::memfd_create("calico-nft", MFD_CLOEXEC));
    if (!fd) return std::nullopt;
    InputFile file(std::move(fd));
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::write(file.fd_.get(), text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      done += static_cast<std::size_t>(n);
    }
    return file;
  }
  const std::string& path() const { return path_; }

 private:
  explicit InputFile(UniqueFd fd)
      : fd_(std::move(fd)), path_(fmt::format("/proc/self/fd/{}", fd_.get())) {}
  UniqueFd fd_;
  std::string path_;
};

// Whether the calling thread is in the namespace `ns` refers to.
bool InNetns(const NetnsFd& ns) {
  struct stat want {};
  struct stat have {};
  return ::fstat(ns.fd(), &want) == 0 && ::stat("/proc/thread-self/ns/net", &have) == 0 &&
         want.st_ino == have.st_ino && want.st_dev == have.st_dev;
}

}  // namespace

NftablesTable::NftablesTable(std::string family, std::string name)
    : family_(std::move(family)), name_(std::move(name)) {
  std::lock_guard<std::mutex> lock(NftMutex());
  ctx_ = nft_ctx_new(NFT_CTX_DEFAULT);
  CALICO_CHECK(ctx_ != nullptr);
  nft_ctx_buffer_output(ctx_);
  nft_ctx_buffer_error(ctx_);
  if (auto ns = NetnsFd::Current()) netns_ = std::move(*ns);
  nfnl_ = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
  if (nfnl_ != nullptr && mnl_socket_bind(nfnl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    mnl_socket_close(nfnl_);
    nfnl_ = nullptr;
  }
  if (nfnl_ == nullptr) {
    CALICO_LOG(warn, kLog, "no netfilter netlink socket ({}): full loads go through libnftables",
               ::strerrordesc_np(errno));
  }
}

void NftablesTable::ReleaseCache() {
  if (!netns_) return;
  nft_ctx* fresh = nullptr;
  auto open = [&]() -> Status {
    std::lock_guard<std::mutex> lock(NftMutex());
    fresh = nft_ctx_new(NFT_CTX_DEFAULT);
    return OkStatus();
  };
  // The usual caller is already in the table's namespace; otherwise a thread enters it.
  Status st = InNetns(*netns_) ? open() : RunInNetns(*netns_, open);
  if (!st || fresh == nullptr) {
    CALICO_LOG(warn, kLog, "cannot open a fresh libnftables context (keeping the old one): {}",
               st ? "allocation failed" : st.error().message());
    return;
  }
  std::lock_guard<std::mutex> lock(NftMutex());
  nft_ctx_buffer_output(fresh);
  nft_ctx_buffer_error(fresh);
  nft_ctx_free(ctx_);
  ctx_ = fresh;
}

NftablesTable::~NftablesTable() {
  if (nfnl_ != nullptr) mnl_socket_close(nfnl_);
  std::lock_guard<std::mutex> lock(NftMutex());
  nft_ctx_free(ctx_);
}

Result<std::string> NftablesTable::Run(std::string_view op, const std::string& commands,
                                       bool json) {
  // Multi-line input goes through a memfd "file": libnftables' error records then carry
  // "<file>:<line>:<columns>" and quote the offending line, whereas for buffers they always quote
  // the buffer's first line. The path is replaced by "ruleset" in the message.
  const std::optional<InputFile> file = commands.find('\n') != std::string::npos
                                            ? InputFile::Create(commands)
                                            : std::optional<InputFile>{};
  std::lock_guard<std::mutex> lock(NftMutex());
  nft_ctx_output_set_flags(ctx_, json ? static_cast<unsigned int>(NFT_CTX_OUTPUT_JSON) : 0U);
  const int rc = file ? nft_run_cmd_from_filename(ctx_, file->path().c_str())
                      : nft_run_cmd_from_buffer(ctx_, commands.c_str());
  // Both buffers are read (and so rewound) every time, so no output leaks into the next call.
  std::string out = nft_ctx_get_output_buffer(ctx_);
  std::string err = nft_ctx_get_error_buffer(ctx_);
  nft_ctx_output_set_flags(ctx_, 0U);
  if (rc != 0) {
    std::string message(StrTrim(err));
    if (file) message = ReplaceAll(std::move(message), file->path(), "ruleset");
    if (message.empty()) message = fmt::format("libnftables returned {}", rc);
    return MakeError(CodeFor(message), fmt::format("{}: {}", op, message));
  }
  return out;
}

void NftablesTable::Forget() {
  applied_ = false;
  applied_listing_hash_ = 0;
  listing_stale_ = false;
  applied_text_.reset();
  applied_parsed_.reset();
}

Status NftablesTable::ApplyFullText(std::string_view ruleset_text) {
  Forget();  // Unknown relation between the kernel and what was applied until this succeeds.
  elements_separately_ = false;
  // "add table" makes "delete table" valid when the table is absent; the whole buffer is one
  // transaction, so the old table stays if anything in the new text is rejected. The prefix shares
  // the first line, so line numbers in errors are those of `ruleset_text`.
  const std::string commands = fmt::format("add table {0} {1}; delete table {0} {1}; {2}", family_,
                                           NftName(name_), ruleset_text);
  auto out = Run(fmt::format("apply full ruleset to table {} {}", family_, name_), commands, false);
  if (!out) return Unexpected(out.error());
  CALICO_LOG(debug, kLog, "applied full ruleset table={} {} bytes={}", family_, name_,
             ruleset_text.size());
  applied_ = true;
  listing_stale_ = true;  // The baseline is the listing at the first Matches().
  ReleaseCache();         // libnftables keeps what it evaluated: the whole ruleset.
  return OkStatus();
}

Status NftablesTable::ApplyFull(std::string_view ruleset_text) {
  RETURN_IF_ERROR(ApplyFullText(ruleset_text));
  applied_text_ = std::string(ruleset_text);
  return OkStatus();
}

Status NftablesTable::ApplyFull(const NftRuleset& ruleset) {
  if (std::optional<Status> st = ApplyFullNewTable(ruleset)) return *st;
  return ApplyFullText(NftRulesetText(ruleset));
}

std::optional<Status> NftablesTable::ApplyFullNewTable(const NftRuleset& ruleset) {
  if (nfnl_ == nullptr || ruleset.family != family_ || ruleset.table != name_) return std::nullopt;
  // The IP sets this path loads go in `loads`. Every set and map is declared (without elements)
  // in (2), in the order the text would create them, so that `nft list table` (which lists in
  // creation order) is the same as after the one-transaction load.
  NftRuleset declared{.family = family_, .table = name_};
  std::vector<nft_internal::SetElements> loads;
  for (const auto& [set_name, set] : ruleset.sets) {
    declared.sets.emplace(set_name, NftSet{.is_map = set.is_map, .header = set.header});
    if (set.elements.empty()) continue;
    const std::optional<int> family = nft_internal::PlainIntervalSetFamily(set);
    if (!family) continue;
    auto elements = nft_internal::IntervalSetElements(set.elements, *family);
    if (!elements) continue;
    loads.push_back({.set = set_name, .family = *family, .elements = std::move(*elements)});
  }
  if (loads.empty()) return std::nullopt;
  const std::string op = fmt::format("apply full ruleset to table {} {}", family_, name_);
  // (1) Exclusive create: an existing table is replaced in one transaction instead.
  auto created = Run(op, fmt::format("create table {} {}", family_, NftName(name_)), false);
  if (!created) {
    if (created.error().code() == ErrorCode::kAlreadyExists) return std::nullopt;
    return Status(Unexpected(created.error()));
  }
  Forget();
  elements_separately_ = false;
  // With every base chain accepting by default, (2) also declares every chain (empty, base chains
  // with their hooks: an empty accepting chain changes no packet's fate), so that the elements
  // (3, on a thread: kernel time) and the regular chains' rules (4, libnftables: mostly user
  // space) load at the same time on two cores; nothing can reach a rule before (5) fills the
  // base chains, after both. Otherwise (4) is everything else and comes after (3). Declaring a
  // chain apart costs about what six elements cost the kernel (20k chains ~240 ms, 200k
  // elements ~400 ms, bench/README.md "IP set elements over netlink"), so the overlap is taken
  // only when the elements outnumber the chains eight to one (100k endpoints / 2000 policies:
  // 200k elements, 4k chains; 10k / 10000: 20k elements, 20k chains, no overlap).
  std::size_t elements = 0;
  for (const nft_internal::SetElements& l : loads) {
    elements += l.elements.size();
  }
  const bool overlap = elements >= 8 * ruleset.chains.size() &&
                       std::none_of(ruleset.chains.begin(), ruleset.chains.end(), [](auto& c) {
                         return std::any_of(c.second.header.begin(), c.second.header.end(),
                                            [](const std::string& h) {
                                              return h.find("policy drop") != std::string::npos;
                                            });
                       });
  NftRuleset rest = ruleset;
  for (const nft_internal::SetElements& l : loads) {
    rest.sets.erase(l.set);
  }
  NftRuleset base{.family = family_, .table = name_};
  if (overlap) {
    for (const auto& [chain_name, chain] : ruleset.chains) {
      declared.chains.emplace(chain_name, nft_model::NftChain{.header = chain.header});
      if (chain.header.empty()) continue;
      base.chains.emplace(chain_name, chain);
      rest.chains.erase(chain_name);
    }
  }
  // Each step's milliseconds, for the log (where a start-up's kernel time goes).
  std::array<double, 4> ms{};
  auto since = [start = std::chrono::steady_clock::now()]() mutable {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double, std::milli>(now - start).count();
    start = now;
    return elapsed;
  };
  const auto run = [&](const NftRuleset& part) -> Status {
    auto out = Run(op, NftRulesetText(part), false);
    if (!out) return Unexpected(out.error());
    return OkStatus();
  };
  const bool fail_for_test = std::exchange(fail_elements_for_test_, false);
  const auto send_elements = [&]() -> Status {
    if (fail_for_test) return Unavailable(fmt::format("{}: elements batch failed (test)", op));
    Status sent = nft_internal::SendSetElements(nfnl_, family_, name_, loads);
    if (!sent) return Unexpected(std::move(sent.error()).Wrap(op));
    return OkStatus();
  };
  // Each step runs only if the ones before it succeeded; the first failure removes the table
  // this call created. `st` holds libnftables' steps (a failure there is the ruleset's and would
  // recur in one transaction), `elements_st` the batch built here.
  Status st = run(declared);
  Status elements_st = OkStatus();
  ms[0] = since();
  if (st && overlap) {
    std::thread elements_thread([&] { elements_st = send_elements(); });
    st = run(rest);
    ms[2] = since();
    elements_thread.join();
    ms[1] = since();  // What the elements took beyond the rest.
    if (st && elements_st) st = run(base);
    ms[3] = since();
  } else if (st) {
    elements_st = send_elements();
    ms[1] = since();
    if (elements_st) st = run(rest);
    ms[2] = since();
  }
  if (!st || !elements_st) {
    auto removed = Run(fmt::format("remove table {} {} after a failed load", family_, name_),
                       fmt::format("delete table {} {}", family_, NftName(name_)), false);
    if (!removed) {
      // Sets and at most empty accepting chains are left (no effect on traffic); the next
      // ApplyFull finds the table and replaces it.
      CALICO_LOG(warn, kLog, "{}", removed.error().message());
    }
    ReleaseCache();
    if (!st) return st;
    // Only the hand-built batch failed (the kernel refused it, or a send buffer too small
    // without CAP_NET_ADMIN): said loudly, and the ruleset goes in one libnftables transaction.
    CALICO_LOG(warn, kLog, "{}; loading the table in one libnftables transaction instead",
               elements_st.error().message());
    return std::nullopt;
  }
  // Once per new table (a node's start): info, so the start-up's kernel time can be read.
  CALICO_LOG(info, kLog,
             "applied full ruleset table={} {} sets_over_netlink={} elements={} overlap={} "
             "declare_ms={:.1f} rest_ms={:.1f} elements_ms={:.1f} (after the rest when overlapped) "
             "base_chains_ms={:.1f}",
             family_, name_, loads.size(), elements, overlap, ms[0], ms[2], ms[1], ms[3]);
  applied_ = true;
  listing_stale_ = true;
  elements_separately_ = true;
  elements_overlapped_ = overlap;
  ReleaseCache();
  return OkStatus();
}

Status NftablesTable::ApplyIncremental(const NftRuleset& from, const NftRuleset& to) {
  const NftDiff diff = DiffNftRulesets(from, to);
  applied_text_.reset();
  applied_parsed_.reset();
  if (!diff.empty()) {
    auto out = Run(fmt::format("apply incremental update to table {} {}", family_, name_),
                   diff.commands, false);
    if (!out) {
      Forget();
      return Unexpected(out.error());
    }
    listing_stale_ = true;
  }
  CALICO_LOG(debug, kLog,
             "applied incremental update table={} {} chains_added={} chains_removed={} "
             "chains_refilled={} recreated={} sets_added={} sets_removed={} sets_updated={}",
             family_, name_, diff.added_chains.size(), diff.removed_chains.size(),
             diff.refilled_chains.size(), diff.recreated.size(), diff.added_sets.size(),
             diff.removed_sets.size(), diff.updated_sets.size());
  return OkStatus();
}

Status NftablesTable::ApplyIncremental(std::string_view old_text, std::string_view new_text) {
  std::optional<NftRuleset> parsed_old;
  if (!(applied_parsed_ && applied_text_ && *applied_text_ == old_text)) {
    auto from = ParseNftRuleset(old_text, family_, name_);
    if (!from) return Unexpected(from.error().Wrap("parse old ruleset"));
    parsed_old = std::move(*from);
  }
  auto to = ParseNftRuleset(new_text, family_, name_);
  if (!to) return Unexpected(to.error().Wrap("parse new ruleset"));
  const NftRuleset from = parsed_old ? std::move(*parsed_old) : std::move(*applied_parsed_);
  RETURN_IF_ERROR(ApplyIncremental(from, *to));
  applied_text_ = std::string(new_text);
  applied_parsed_ = std::move(*to);
  return OkStatus();
}

Result<std::string> NftablesTable::ListTable() {
  auto out = Run(fmt::format("list table {} {}", family_, name_),
                 fmt::format("list table {} {}", family_, NftName(name_)), false);
  ReleaseCache();
  return out;
}

Result<std::vector<RuleCounter>> NftablesTable::Counters() {
  const std::string op = fmt::format("read counters of table {} {}", family_, name_);
  auto listed = Run(op, fmt::format("list table {} {}", family_, NftName(name_)), true);
  ReleaseCache();
  ASSIGN_OR_RETURN(std::string out, std::move(listed));
  const nlohmann::json doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array()) {
    return Internal(fmt::format("{}: unexpected JSON from libnftables", op));
  }
  std::vector<RuleCounter> counters;
  for (const nlohmann::json& item : doc["nftables"]) {
    auto rule = item.find("rule");
    if (rule == item.end() || !rule->is_object()) continue;
    auto expr = rule->find("expr");
    if (expr == rule->end() || !expr->is_array()) continue;
    for (const nlohmann::json& e : *expr) {
      auto counter = e.find("counter");
      if (counter == e.end() || !counter->is_object()) continue;
      RuleCounter rc;
      rc.chain = rule->value("chain", "");
      rc.handle = JsonU64(*rule, "handle");
      rc.comment = rule->value("comment", "");
      rc.packets = JsonU64(*counter, "packets");
      rc.bytes = JsonU64(*counter, "bytes");
      counters.push_back(std::move(rc));
      break;
    }
  }
  return counters;
}

Result<bool> NftablesTable::Matches(std::string_view expected_text) {
  if (!applied_text_ || *applied_text_ != expected_text) return false;
  return Matches();
}

Result<bool> NftablesTable::Matches() {
  if (!applied_) return false;
  auto listing = ListTable();
  if (!listing) {
    if (listing.error().code() == ErrorCode::kNotFound) return false;
    return Unexpected(listing.error());
  }
  auto normalised = NormaliseNftListing(*listing, family_, name_);
  if (!normalised) {
    return Unexpected(
        normalised.error().Wrap(fmt::format("parse listing of table {} {}", family_, name_)));
  }
  const std::size_t hash = std::hash<std::string>{}(*normalised);
  if (listing_stale_) {
    // The first check after incremental updates takes the kernel's listing as the baseline.
    applied_listing_hash_ = hash;
    listing_stale_ = false;
    return true;
  }
  return hash == applied_listing_hash_;
}

Status NftablesTable::Delete() {
  Forget();
  auto out =
      Run(fmt::format("delete table {} {}", family_, name_),
          fmt::format("add table {0} {1}; delete table {0} {1}", family_, NftName(name_)), false);
  if (!out) return Unexpected(out.error());
  return OkStatus();
}

}  // namespace calico::dataplane
