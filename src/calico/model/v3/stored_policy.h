// The agent's fast path for policies, as stored_endpoint.h is for WorkloadEndpoints: a stored
// NetworkPolicy value (at /calico/resources/v3/projectcalico.org/networkpolicies/<ns>/<name>) or
// GlobalNetworkPolicy value (.../globalnetworkpolicies/<name>) read straight into the typed struct,
// with what model::Validate checks for the kind checked on the way, in one pass and without a
// model::Json tree (Felix decodes each KV once in libcalico-go/lib/backend/etcdv3 and validates
// it in felix/calc/validation_filter.go).
//
//   value ──ReadValidStored(Global)NetworkPolicy──▶ (Global)NetworkPolicy   (the common shape)
//         └─ nullopt ──▶ datastore::DecodeStoredResource + model::Validate + Decode(Global)
//                         NetworkPolicy (the reference path: the same struct, or the exact error)
//
// It reads the shape Calico's writers produce (calicoctl, this project's client): envelope
// apiVersion/kind/metadata/spec; metadata name, namespace, labels, annotations (the
// projectcalico.org/metadata annotation only as {"name":"..."}, whose name wins and which is
// removed, as datastore::DecodeStoredResource does), resourceVersion, uid, creationTimestamp;
// spec tier, order (an integer), selector, serviceAccountSelector, namespaceSelector (global),
// types, applyOnForward (global), ingress and egress rules with action, ipVersion, protocol (a
// name or a number) and source/destination with nets, notNets, selector, notSelector,
// namespaceSelector and ports/notPorts (numbers, ranges "a:b", port names). Anything else gives
// nullopt: another field (icmp, notProtocol, http, metadata, serviceAccounts, services,
// performanceHints, stagedAction, ...), preDNAT or doNotTrack true, global() in a selector, a
// null, a string with an escape or a non-ASCII byte, a repeated key, a number that is not a plain
// integer, a value over the stored-value limit, and every value model::Validate would refuse. So
// it may send a valid value to the reference path, never accept one that path refuses, and what it
// returns equals what that path decodes (datastore/stored_policy_test.cc checks both, also on
// 12000 mutated values; fuzz/stored_typed_fuzz.cc on fuzzed ones). Staged policies always take
// the reference path (the graph does not enforce them).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "calico/model/v3/policy.h"

namespace calico::model::v3 {

// The value as Decode(Global)NetworkPolicy would return it after
// datastore::DecodeStoredResource (resourceVersion = mod_revision) and a passing model::Validate;
// nullopt: take that path.
std::optional<NetworkPolicy> ReadValidStoredNetworkPolicy(std::string_view value,
                                                          int64_t mod_revision);
std::optional<GlobalNetworkPolicy> ReadValidStoredGlobalNetworkPolicy(std::string_view value,
                                                                      int64_t mod_revision);

}  // namespace calico::model::v3
