// What calico-node does with each field of the node-relevant kinds it reads (FelixConfiguration,
// Node): honoured, partly honoured, or accepted (it validates and is stored) but not acted on by
// this build. The one place that records it: calico-node logs the fields a resource sets that are
// not acted on ("accepted, not acted on by this build: ..."), counts them in the metric
// calico_node_config_fields_not_acted_on, and docs/COMPATIBILITY.md ("calico-node / Felix") shows
// the same table. A field the schema knows but this table does not is a test failure
// (field_support_test.cc), so new upstream fields must be classified here.
//
// Thread-safety: pure functions over constant data.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "calico/model/resource.h"

namespace calico::agent {

struct FieldSupport {
  enum Support { kHonoured, kPartly, kNot };
  std::string_view kind;   // "FelixConfiguration", "Node".
  std::string_view field;  // Under spec; nested fields dotted ("bgp.ipv4IPIPTunnelAddr").
  Support support;
  std::string_view why;  // What the build does with it (or instead of it).
};

// Every classified field, by kind, then field (FelixConfiguration fields in the CRD's order).
const std::vector<FieldSupport>& FieldSupportTable();

// The fields `r` sets (present, not null, and not the CRD default the client fills in) that this
// build does not act on (kNot), as "<field>" in table order. Kinds without a table give none.
std::vector<std::string> NotActedOn(const model::Resource& r);

// "accepted, not acted on by this build: FelixConfiguration(default).spec.wireguardEnabled, ..."
// or empty when `fields` is empty.
std::string NotActedOnLine(const model::Resource& r, const std::vector<std::string>& fields);

}  // namespace calico::agent
