// `calicoctl get` table output (calicoctl/calicoctl/resourcemgr/*.go headings and templates,
// commands/common/printer.go ResourcePrinterTable).
//
// Every kind has default (ps) and wide headings and a map heading -> cell renderer. A table is
// rendered the way Go's text/tabwriter renders it with minwidth 5, tabwidth 1, padding 3, pad char
// ' ', flags 0: every cell, the last one included, is padded to max(5, widest cell + 3).
//
// Thread-safety: pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "calico/base/result.h"
#include "calico/model/resource.h"

namespace calico::ctl {

// Go's text/tabwriter with calicoctl's settings, for rows whose cells are all tab-terminated.
std::string RenderTabwriter(const std::vector<std::vector<std::string>>& rows);

// Default headings of a kind; empty when the kind is unknown.
std::vector<std::string> DefaultHeadings(std::string_view kind, bool wide);

struct TableOptions {
  std::vector<std::string> headings;  // Empty = the kind's default (ps or wide) headings.
  bool wide = false;
  bool print_namespace = false;  // Prepend NAMESPACE for namespaced kinds (-n or -A given).
  // Returns the global AS number for the Node ASN column ("64512" when unset).
  std::function<std::string()> global_as_number;
  // GlobalNetworkPolicy and NetworkPolicy: the HITS column of the wide table (an addition: how
  // many connections calico-flows saw this policy in the trace of; "-" when unknown). Unset: "-".
  std::function<std::string(const model::Resource&)> policy_hits;
};

// Renders one table (headings + one row per resource) followed by an empty line.
// Errors: kInvalidArgument "unknown heading X, valid values are: A, B, ..." (sorted).
[[nodiscard]] Result<std::string> RenderTable(std::string_view kind,
                                              const std::vector<model::Resource>& items,
                                              const TableOptions& options);

// Go's fmt %v of a float64 (strconv 'g' shortest, exponent when exp < -4 || exp >= 21).
std::string GoFloat(double v);

}  // namespace calico::ctl
