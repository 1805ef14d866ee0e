// Ruleset text model and incremental transactions for the agent's nftables table; reproduces the
// "only rewrite what changed" behaviour of Felix's nftables table (felix/nftables/table.go) on the
// text rendered by calico::policy.
#include "calico/nft_model/ruleset.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "calico/base/strings.h"

namespace calico::nft_model {
namespace {

bool IsIdentChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '/' || c == '_' || c == '.' ||
         c == '-';
}

std::string Unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') {
    return std::string(s.substr(1, s.size() - 2));
  }
  return std::string(s);
}

// Drops a trailing "# handle N" that `nft -a list` appends (outside quotes).
std::string_view StripHandleComment(std::string_view line) {
  const std::size_t pos = line.rfind("# handle ");
  if (pos == std::string_view::npos) return line;
  const std::string_view rest = line.substr(pos + 9);
  if (rest.empty() || !std::all_of(rest.begin(), rest.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c)) != 0;
      })) {
    return line;
  }
  if (std::count(line.begin(), line.begin() + static_cast<std::ptrdiff_t>(pos), '"') % 2 != 0) {
    return line;
  }
  return StrTrim(line.substr(0, pos));
}

// "counter packets 3 bytes 180" -> "counter".
std::string StripCounterValues(std::string_view rule) {
  std::string out;
  std::size_t i = 0;
  constexpr std::string_view kPackets = "counter packets ";
  while (i < rule.size()) {
    const std::size_t pos = rule.find(kPackets, i);
    if (pos == std::string_view::npos) break;
    std::size_t j = pos + kPackets.size();
    auto skip_digits = [&](std::size_t k) {
      while (k < rule.size() && std::isdigit(static_cast<unsigned char>(rule[k])) != 0) {
        ++k;
      }
      return k;
    };
    const std::size_t after_packets = skip_digits(j);
    constexpr std::string_view kBytes = " bytes ";
    if (after_packets == j || rule.substr(after_packets, kBytes.size()) != kBytes) {
      out.append(rule.substr(i, j - i));
      i = j;
      continue;
    }
    j = after_packets + kBytes.size();
    const std::size_t after_bytes = skip_digits(j);
    if (after_bytes == j) {
      out.append(rule.substr(i, j - i));
      i = j;
      continue;
    }
    out.append(rule.substr(i, pos - i));
    out += "counter";
    i = after_bytes;
  }
  out.append(rule.substr(std::min(i, rule.size())));
  return out;
}

// Tokens of a rule or element, a quoted string being one token; ',', '{' and '}' separate.
std::vector<std::string> Tokenise(std::string_view text) {
  std::vector<std::string> tokens;
  std::string cur;
  bool quoted = false;
  for (char c : text) {
    if (quoted) {
      cur += c;
      if (c == '"') quoted = false;
      continue;
    }
    if (c == '"') {
      quoted = true;
      cur += c;
    } else if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',' || c == '{' ||
               c == '}') {
      if (!cur.empty()) tokens.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) tokens.push_back(std::move(cur));
  return tokens;
}

struct Refs {
  std::set<std::string> sets;
  std::set<std::string> chains;
};

void CollectRefs(std::string_view text, Refs& refs) {
  const std::vector<std::string> tokens = Tokenise(text);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t.size() > 1 && t[0] == '@') {
      refs.sets.insert(Unquote(std::string_view{t}.substr(1)));
    } else if ((t == "jump" || t == "goto") && i + 1 < tokens.size()) {
      refs.chains.insert(Unquote(tokens[i + 1]));
    }
  }
}

// The key of an element: the whole element for sets, the part before " : " for maps.
std::string ElementKey(const std::string& element, bool is_map) {
  if (!is_map) return element;
  bool quoted = false;
  for (std::size_t i = 0; i + 2 < element.size(); ++i) {
    if (element[i] == '"') quoted = !quoted;
    if (!quoted && element.compare(i, 3, " : ") == 0) {
      return std::string(StrTrim(std::string_view{element}.substr(0, i)));
    }
  }
  return element;
}

// Brace depth change of `s` outside quotes; sets `closed_at` to the index where depth (starting
// at `depth`) drops to zero, or npos.
int ScanBraces(std::string_view s, int depth, std::size_t& closed_at) {
  bool quoted = false;
  closed_at = std::string_view::npos;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '{') ++depth;
    if (c == '}') {
      --depth;
      if (depth == 0) {
        closed_at = i;
        return depth;
      }
    }
  }
  return depth;
}

bool BracesBalanced(std::string_view s) {
  int depth = 0;
  bool quoted = false;
  for (char c : s) {
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '{') ++depth;
    if (c == '}' && --depth < 0) return false;
  }
  return depth == 0 && !quoted;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view family, std::string_view table)
      : family_(family), table_(table) {
    for (const std::string& line : StrSplit(text, '\n')) {
      lines_.emplace_back(line);
    }
  }

  Result<NftRuleset> Parse() {
    NftRuleset rs;
    rs.family = std::string(family_);
    rs.table = std::string(table_);
    bool seen_table = false;
    while (Next()) {
      const std::vector<std::string> words = StrSplit(line_, ' ', true);
      if (words.size() == 4 && words[0] == "table" && words[3] == "{") {
        if (words[1] != family_ || words[2] != table_) {
          return Fail(fmt::format("unexpected table {} {} (only {} {} is managed)", words[1],
                                  words[2], family_, table_));
        }
        if (seen_table) return Fail("second table block");
        seen_table = true;
        RETURN_IF_ERROR(ParseTableBody(rs));
        continue;
      }
      for (const std::string& cmd : StrSplit(line_, ';', true)) {
        RETURN_IF_ERROR(CheckTableCommand(StrTrim(cmd)));
      }
    }
    if (!seen_table) {
      return InvalidArgument(fmt::format("no \"table {} {} {{ ... }}\" block", family_, table_));
    }
    return rs;
  }

 private:
  // Advances to the next non-blank, non-comment line (trimmed, "# handle N" dropped).
  bool Next() {
    while (index_ < lines_.size()) {
      std::string_view l = StrTrim(lines_[index_++]);
      if (l.empty() || l[0] == '#') continue;
      line_ = std::string(StripHandleComment(l));
      return true;
    }
    line_.clear();
    return false;
  }

  tl::unexpected<Error> Fail(std::string_view what) const { return FailAt(index_, what); }
  static tl::unexpected<Error> FailAt(std::size_t line, std::string_view what) {
    return InvalidArgument(fmt::format("line {}: {}", line, what));
  }

  Status CheckTableCommand(std::string_view cmd) {
    if (cmd.empty()) return OkStatus();
    std::vector<std::string> words = StrSplit(cmd, ' ', true);
    if (!words.empty() && (words[0] == "add" || words[0] == "delete" || words[0] == "flush" ||
                           words[0] == "destroy")) {
      words.erase(words.begin());
    }
    if (words.size() == 3 && words[0] == "table" && words[1] == family_ && words[2] == table_) {
      return OkStatus();
    }
    return Fail(fmt::format("unsupported statement outside the table block: {}", cmd));
  }

  // "<keyword> NAME {" -> NAME.
  Result<std::string> BlockName(std::string_view keyword) const {
    std::string_view rest = std::string_view{line_}.substr(keyword.size() + 1);
    if (!EndsWith(rest, "{")) return Fail(fmt::format("expected '{{' after {} name", keyword));
    rest = StrTrim(rest.substr(0, rest.size() - 1));
    if (rest.empty()) return Fail(fmt::format("{} without a name", keyword));
    return Unquote(rest);
  }

  Status ParseTableBody(NftRuleset& rs) {
    while (Next()) {
      if (line_ == "}") return OkStatus();
      if (StartsWith(line_, "chain ")) {
        const std::size_t start = index_;
        ASSIGN_OR_RETURN(std::string name, BlockName("chain"));
        NftChain chain;
        RETURN_IF_ERROR(ParseChain(chain));
        if (rs.chains.count(name) != 0) {
          return FailAt(start, fmt::format("duplicate chain {}", name));
        }
        rs.chains.emplace(std::move(name), std::move(chain));
      } else if (StartsWith(line_, "set ") || StartsWith(line_, "map ")) {
        const std::size_t start = index_;
        const bool is_map = line_[0] == 'm';
        ASSIGN_OR_RETURN(std::string name, BlockName(is_map ? "map" : "set"));
        NftSet set;
        set.is_map = is_map;
        RETURN_IF_ERROR(ParseSet(set));
        if (rs.sets.count(name) != 0) {
          return FailAt(start, fmt::format("duplicate set or map {}", name));
        }
        rs.sets.emplace(std::move(name), std::move(set));
      } else {
        return Fail(fmt::format("unsupported statement in table block: {}", line_));
      }
    }
    return Fail("table block not closed");
  }

  Status ParseChain(NftChain& chain) {
    while (Next()) {
      if (line_ == "}") return OkStatus();
      if (StartsWith(line_, "type ") || StartsWith(line_, "policy ") ||
          StartsWith(line_, "comment ")) {
        chain.header.push_back(line_);
      } else {
        if (!BracesBalanced(line_)) return Fail("unbalanced braces in rule");
        chain.rules.push_back(line_);
      }
    }
    return Fail("chain block not closed");
  }

  Status ParseSet(NftSet& set) {
    while (Next()) {
      if (line_ == "}") return OkStatus();
      if (!StartsWith(line_, "elements ")) {
        set.header.push_back(line_);
        continue;
      }
      const std::size_t brace = line_.find('{');
      if (brace == std::string::npos) return Fail("expected '{' after elements =");
      std::string body = line_.substr(brace + 1);
      std::size_t closed_at = 0;
      int depth = ScanBraces(body, 1, closed_at);
      std::string list;
      while (closed_at == std::string::npos) {
        list += body + " ";
        if (!Next()) return Fail("element list not closed");
        body = line_;
        depth = ScanBraces(body, depth, closed_at);
      }
      list += body.substr(0, closed_at);
      if (!StrTrim(std::string_view{body}.substr(closed_at + 1)).empty()) {
        return Fail("unexpected text after element list");
      }
      for (std::string& e : SplitNftElements(list)) {
        set.elements.push_back(std::move(e));
      }
    }
    return Fail("set block not closed");
  }

  std::string_view family_;
  std::string_view table_;
  std::vector<std::string> lines_;
  std::size_t index_ = 0;
  std::string line_;
};

std::string Declaration(const std::vector<std::string>& header) {
  std::string out;
  for (const std::string& h : header) {
    out += h;
    if (!EndsWith(h, ";")) out += ";";
    out += " ";
  }
  return out;
}

}  // namespace

std::vector<std::string> SplitNftElements(std::string_view list) {
  std::vector<std::string> out;
  int depth = 0;
  bool quoted = false;
  std::size_t start = 0;
  auto push = [&](std::size_t end) {
    std::string_view piece = StrTrim(list.substr(start, end - start));
    if (!piece.empty()) out.emplace_back(piece);
  };
  for (std::size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (c == '"') quoted = !quoted;
    if (quoted) continue;
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c == ',' && depth == 0) {
      push(i);
      start = i + 1;
    }
  }
  push(list.size());
  return out;
}

std::string NftName(std::string_view name) {
  const bool plain = !name.empty() &&
                     (std::isalpha(static_cast<unsigned char>(name[0])) != 0 || name[0] == '_' ||
                      name[0] == '.') &&
                     std::all_of(name.begin(), name.end(), IsIdentChar);
  return plain ? std::string(name) : fmt::format("\"{}\"", name);
}

Result<NftRuleset> ParseNftRuleset(std::string_view text, std::string_view family,
                                   std::string_view table) {
  return Parser(text, family, table).Parse();
}

namespace {

// A kept set or map that loses elements is flushed and refilled (rather than sent `delete
// element`) when it keeps at most this many: re-adding 1000 elements costs the kernel and
// libnftables less than the cache `delete element` fetches in a table of thousands of chains.
constexpr std::size_t kRefillElementsUpTo = 1000;

// Walks two maps ordered by name side by side: `removed` for names only in `from`, `added` for
// names only in `to`, `both` for names in both.
template <typename T, typename Removed, typename Added, typename Both>
void WalkByName(const std::map<std::string, T>& from, const std::map<std::string, T>& to,
                Removed removed, Added added, Both both) {
  auto a = from.begin();
  auto b = to.begin();
  while (a != from.end() || b != to.end()) {
    const int order = a == from.end() ? 1 : b == to.end() ? -1 : a->first.compare(b->first);
    if (order < 0) {
      removed(a->first, a->second);
      ++a;
    } else if (order > 0) {
      added(b->first, b->second);
      ++b;
    } else {
      both(a->first, a->second, b->second);
      ++a;
      ++b;
    }
  }
}

}  // namespace

NftDiff DiffNftRulesets(const NftRuleset& from, const NftRuleset& to) {
  NftDiff diff;
  const std::string t = fmt::format("{} {}", to.family, NftName(to.table));
  std::string& out = diff.commands;
  auto kind = [](const NftSet& s) { return s.is_map ? "map" : "set"; };

  // Classify.
  std::set<std::string> doomed_sets;    // Deleted (removed or re-created).
  std::set<std::string> doomed_chains;  // Deleted (removed or re-created).
  std::set<std::string> recreated_sets;
  std::set<std::string> recreated_chains;
  // Both rulesets' maps are ordered by name: one walk over each pair (a change at 10000 policies
  // compares some 20000 chains, most of them sharing their rules with `from`).
  struct KeptSet {  // In both, same declaration.
    const std::string* name;
    const NftSet* from;
    const NftSet* to;
  };
  std::vector<KeptSet> kept_sets;
  WalkByName(
      from.sets, to.sets,
      [&](const std::string& name, const NftSet&) {
        diff.removed_sets.push_back(name);
        doomed_sets.insert(name);
      },
      [&](const std::string& name, const NftSet&) { diff.added_sets.push_back(name); },
      [&](const std::string& name, const NftSet& old_set, const NftSet& new_set) {
        if (new_set.is_map != old_set.is_map || new_set.header != old_set.header) {
          recreated_sets.insert(name);
          doomed_sets.insert(name);
        } else {
          kept_sets.push_back(KeptSet{.name = &name, .from = &old_set, .to = &new_set});
        }
      });
  std::set<std::string> flush;
  WalkByName(
      from.chains, to.chains,
      [&](const std::string& name, const NftChain&) {
        diff.removed_chains.push_back(name);
        doomed_chains.insert(name);
        flush.insert(name);
      },
      [&](const std::string& name, const NftChain&) { diff.added_chains.push_back(name); },
      [&](const std::string& name, const NftChain& old_chain, const NftChain& new_chain) {
        if (new_chain.header != old_chain.header) {
          recreated_chains.insert(name);
          doomed_chains.insert(name);
          flush.insert(name);
        } else if (new_chain.rules != old_chain.rules) {
          flush.insert(name);
        }
      });
  // Old chains whose rules refer to something that is deleted must be emptied first (nothing to
  // look for in the common case of an update that deletes nothing).
  const bool anything_doomed = !doomed_sets.empty() || !doomed_chains.empty();
  for (const auto& [name, chain] : from.chains) {
    if (!anything_doomed) break;
    Refs refs;
    for (const std::string& rule : chain.rules) {
      CollectRefs(rule, refs);
    }
    const bool depends =
        std::any_of(refs.sets.begin(), refs.sets.end(),
                    [&](const std::string& s) { return doomed_sets.count(s) != 0; }) ||
        std::any_of(refs.chains.begin(), refs.chains.end(),
                    [&](const std::string& c) { return doomed_chains.count(c) != 0; });
    if (depends) flush.insert(name);
  }

  // Element changes of sets/maps that stay (elements referring to doomed chains are re-added).
  struct ElementChange {
    std::vector<std::string> del_keys;
    std::vector<std::string> add;
    bool refill = false;  // Flushed and refilled with every element instead of del_keys.
  };
  std::map<std::string, ElementChange> element_changes;
  for (const KeptSet& kept : kept_sets) {
    const std::string& name = *kept.name;
    const NftSet& old_set = *kept.from;
    const NftSet& new_set = *kept.to;
    // Same elements in the same order, and no map element can point at a deleted chain.
    if (new_set.elements == old_set.elements && (!new_set.is_map || doomed_chains.empty()))
      continue;
    const std::set<std::string> old_elems(old_set.elements.begin(), old_set.elements.end());
    const std::set<std::string> new_elems(new_set.elements.begin(), new_set.elements.end());
    ElementChange change;
    std::set<std::string> deleted_keys;
    for (const std::string& e : old_elems) {
      bool del = new_elems.count(e) == 0;
      if (!del && new_set.is_map) {
        Refs refs;
        CollectRefs(e, refs);
        del = std::any_of(refs.chains.begin(), refs.chains.end(),
                          [&](const std::string& c) { return doomed_chains.count(c) != 0; });
      }
      if (del && deleted_keys.insert(ElementKey(e, old_set.is_map)).second) {
        change.del_keys.push_back(ElementKey(e, old_set.is_map));
      }
    }
    for (const std::string& e : new_elems) {
      if (old_elems.count(e) == 0 || deleted_keys.count(ElementKey(e, new_set.is_map)) != 0) {
        change.add.push_back(e);
      }
    }
    // `delete element` makes libnftables 1.0.6 fetch every chain, set and set element of the
    // table (cache.c: CMD_DELETE asks for all of them; 0.9 s for one address of a 100-element set
    // in the 10k endpoints / 10000 policies table, against 0.17 s for the same change as below):
    // a set or map that keeps up to kRefillElementsUpTo elements is flushed and refilled in the
    // same transaction instead (`flush set` asks for the sets only), which the kernel applies
    // atomically like the deletion.
    if (!change.del_keys.empty() && new_set.elements.size() <= kRefillElementsUpTo) {
      change.refill = true;
      change.del_keys.clear();
      change.add = new_set.elements.get();
    }
    if (!change.del_keys.empty() || !change.add.empty() || change.refill) {
      diff.updated_sets.push_back(name);
      element_changes.emplace(name, std::move(change));
    }
  }

  // 1. New sets/maps and chains.
  for (const std::string& name : diff.added_sets) {
    const NftSet& s = to.sets.at(name);
    out += fmt::format("add {} {} {} {{ {}}}\n", kind(s), t, NftName(name), Declaration(s.header));
  }
  for (const std::string& name : diff.added_chains) {
    const NftChain& c = to.chains.at(name);
    if (c.header.empty()) {
      out += fmt::format("add chain {} {}\n", t, NftName(name));
    } else {
      out += fmt::format("add chain {} {} {{ {}}}\n", t, NftName(name), Declaration(c.header));
    }
  }
  // 2. Empty the chains that change or refer to something deleted.
  for (const std::string& name : flush) {
    out += fmt::format("flush chain {} {}\n", t, NftName(name));
  }
  // 3. Elements that go away.
  for (const auto& [name, change] : element_changes) {
    if (change.refill) {
      out += fmt::format("flush {} {} {}\n", kind(to.sets.at(name)), t, NftName(name));
    }
    if (change.del_keys.empty()) continue;
    out += fmt::format("delete element {} {} {{ {} }}\n", t, NftName(name),
                       StrJoin(change.del_keys, ", "));
  }
  // 4. Deletions: sets/maps first (maps may refer to chains), then chains.
  for (const std::string& name : doomed_sets) {
    out += fmt::format("delete {} {} {}\n", kind(from.sets.at(name)), t, NftName(name));
  }
  for (const std::string& name : doomed_chains) {
    out += fmt::format("delete chain {} {}\n", t, NftName(name));
  }
  // 5. Re-created declarations.
  for (const std::string& name : recreated_sets) {
    const NftSet& s = to.sets.at(name);
    out += fmt::format("add {} {} {} {{ {}}}\n", kind(s), t, NftName(name), Declaration(s.header));
  }
  for (const std::string& name : recreated_chains) {
    const NftChain& c = to.chains.at(name);
    if (c.header.empty()) {
      out += fmt::format("add chain {} {}\n", t, NftName(name));
    } else {
      out += fmt::format("add chain {} {} {{ {}}}\n", t, NftName(name), Declaration(c.header));
    }
  }
  // 6. Elements, then rules (every chain and set exists by now). Both are phrased so that
  // libnftables fetches no chain cache: `add rule` and `add element` make libnftables 1.0.6 dump
  // every chain of the table before it evaluates the transaction (cache.c, evaluate_cache_add:
  // CMD_OBJ_RULE and CMD_OBJ_ELEMENTS ask for NFT_CACHE_CHAIN), which at 20000 chains costs more
  // than the change itself, while `add set|map X { ...; elements = { ... }; }` and
  // `add chain X { rules }` ask for the table only. `add` of a set or chain that exists with the
  // same declaration adds to it (the kernel's NEWSET/NEWCHAIN without NLM_F_EXCL), so this is the
  // same change as `add element` and `add rule`. A rule's `@set` is resolved from libnftables'
  // set cache, which the table-only cache does not fill: every set the new rules refer to is
  // declared in the transaction first (again `add set X { declaration }`), which puts it in the
  // cache without asking the kernel for all sets or chains.
  std::set<std::string> declared;  // Sets/maps this transaction declares in steps 1, 5 and 6.
  declared.insert(diff.added_sets.begin(), diff.added_sets.end());
  declared.insert(recreated_sets.begin(), recreated_sets.end());
  auto declare = [&](const std::string& name, const NftSet& s, std::string_view elements) {
    out += fmt::format("add {} {} {} {{ {}", kind(s), t, NftName(name), Declaration(s.header));
    if (!elements.empty()) out += fmt::format("elements = {{ {} }}; ", elements);
    out += "}\n";
    declared.insert(name);
  };
  auto add_elements = [&](const std::string& name, const std::vector<std::string>& elements) {
    if (elements.empty()) return;
    declare(name, to.sets.at(name), StrJoin(elements, ", "));
  };
  for (const std::string& name : diff.added_sets) {
    add_elements(name, to.sets.at(name).elements.get());
  }
  for (const std::string& name : recreated_sets) {
    add_elements(name, to.sets.at(name).elements.get());
  }
  for (const auto& [name, change] : element_changes) {
    add_elements(name, change.add);
  }
  std::set<std::string> fill(diff.added_chains.begin(), diff.added_chains.end());
  fill.insert(recreated_chains.begin(), recreated_chains.end());
  for (const std::string& name : flush) {
    if (to.chains.count(name) == 0) continue;
    fill.insert(name);
    if (recreated_chains.count(name) == 0) diff.refilled_chains.push_back(name);
  }
  Refs used;
  for (const std::string& name : fill) {
    for (const std::string& rule : to.chains.at(name).rules) {
      CollectRefs(rule, used);
    }
  }
  for (const std::string& name : used.sets) {
    const auto it = to.sets.find(name);
    if (it == to.sets.end() || declared.count(name) != 0) continue;
    declare(name, it->second, {});
  }
  for (const std::string& name : fill) {
    const NftLines& rules = to.chains.at(name).rules;
    if (rules.empty()) continue;
    out += fmt::format("add chain {} {} {{\n", t, NftName(name));
    for (const std::string& rule : rules) {
      out += fmt::format("\t{}\n", rule);
    }
    out += "}\n";
  }
  diff.recreated.assign(recreated_sets.begin(), recreated_sets.end());
  diff.recreated.insert(diff.recreated.end(), recreated_chains.begin(), recreated_chains.end());
  return diff;
}

std::string NftRulesetText(const NftRuleset& ruleset) {
  std::string out = fmt::format("table {} {} {{\n", ruleset.family, NftName(ruleset.table));
  bool first = true;
  auto separate = [&] {
    if (!first) out += "\n";
    first = false;
  };
  for (bool maps : {false, true}) {
    for (const auto& [name, set] : ruleset.sets) {
      if (set.is_map != maps) continue;
      separate();
      out += fmt::format("\t{} {} {{\n", maps ? "map" : "set", NftName(name));
      for (const std::string& h : set.header) {
        out += fmt::format("\t\t{}\n", h);
      }
      if (!set.elements.empty() && maps) {
        out += "\t\telements = {\n\t\t\t" + StrJoin(set.elements.get(), ",\n\t\t\t") + "\n\t\t}\n";
      } else if (!set.elements.empty()) {
        out += "\t\telements = { " + StrJoin(set.elements.get(), ", ") + " }\n";
      }
      out += "\t}\n";
    }
  }
  for (bool base : {true, false}) {
    for (const auto& [name, chain] : ruleset.chains) {
      if (chain.header.empty() == base) continue;
      separate();
      out += fmt::format("\tchain {} {{\n", NftName(name));
      for (const std::string& h : chain.header) {
        out += fmt::format("\t\t{}\n", h);
      }
      for (const std::string& r : chain.rules) {
        out += "\t\t" + r + "\n";
      }
      out += "\t}\n";
    }
  }
  out += "}\n";
  return out;
}

std::string CanonicalNftText(const NftRuleset& ruleset) {
  std::string out = fmt::format("table {} {} {{\n", ruleset.family, NftName(ruleset.table));
  for (const auto& [name, set] : ruleset.sets) {
    out += fmt::format("\t{} {} {{\n", set.is_map ? "map" : "set", NftName(name));
    for (const std::string& h : set.header) {
      out += fmt::format("\t\t{}\n", h);
    }
    if (!set.elements.empty()) {
      std::vector<std::string> elements;
      for (const std::string& e : set.elements) {
        elements.push_back(StripCounterValues(e));
      }
      std::sort(elements.begin(), elements.end());
      out += fmt::format("\t\telements = {{ {} }}\n", StrJoin(elements, ", "));
    }
    out += "\t}\n";
  }
  for (const auto& [name, chain] : ruleset.chains) {
    out += fmt::format("\tchain {} {{\n", NftName(name));
    for (const std::string& h : chain.header) {
      out += fmt::format("\t\t{}\n", h);
    }
    for (const std::string& r : chain.rules) {
      out += fmt::format("\t\t{}\n", StripCounterValues(r));
    }
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

Result<std::string> NormaliseNftListing(std::string_view listing, std::string_view family,
                                        std::string_view table) {
  ASSIGN_OR_RETURN(NftRuleset rs, ParseNftRuleset(listing, family, table));
  return CanonicalNftText(rs);
}

}  // namespace calico::nft_model
