#include "calico/ctl/rule_counters.h"

#include <algorithm>

namespace calico::ctl {

std::string RenderRuleCounters(std::vector<nft_model::RuleCounter> counters, bool all) {
  std::stable_sort(counters.begin(), counters.end(),
                   [](const auto& a, const auto& b) { return a.packets > b.packets; });
  std::vector<std::vector<std::string>> rows = {{"PACKETS", "BYTES", "CHAIN", "RULE"}};
  for (const auto& c : counters) {
    if (!all && c.packets == 0) continue;
    rows.push_back({std::to_string(c.packets), std::to_string(c.bytes), c.chain,
                    c.comment.empty() ? "(handle " + std::to_string(c.handle) + ")" : c.comment});
  }
  std::vector<size_t> width(4, 0);
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i)
      width[i] = std::max(width[i], r[i].size());
  }
  std::string out;
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) {
      out += r[i];
      out += i + 1 < r.size() ? std::string(width[i] - r[i].size() + 3, ' ') : "\n";
    }
  }
  if (rows.size() == 1) out += "(no rule has matched a packet yet; --all lists every rule)\n";
  return out;
}

}  // namespace calico::ctl
