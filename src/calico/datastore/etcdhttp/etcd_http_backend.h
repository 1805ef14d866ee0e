// The etcd v3 Backend over etcd's JSON gateway (the gRPC-gateway etcd serves on its client port,
// /v3/kv/range, /v3/kv/txn, ...; etcd 3.4 as Debian ships it), on one kept-alive HTTP/1.1
// connection over TCP or TLS with client certificates (http/client.h). The same keys, values,
// transactions and revisions as the gRPC backend (etcd/etcd_backend.h, after
// libcalico-go/lib/backend/etcdv3/etcdv3.go), so Calico's own clients and ours share one etcd.
//
// For short-lived processes (the CNI plugins, calicoctl): it links no gRPC, protobuf or abseil,
// whose 52 shared libraries cost a CNI ADD more than its requests (bench/README.md, issue 20).
// Long-lived processes keep the gRPC module (HTTP/2 multiplexing, watch streams at scale);
// datastore::OpenBackend chooses (factory/factory.h).
//
// Thread-safety: thread-safe (requests are serialised on the one connection; a watch has its own).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "calico/base/result.h"
#include "calico/datastore/backend.h"
#include "calico/datastore/config.h"
#include "calico/datastore/txn.h"

namespace calico::datastore::etcdhttp {

// Connects to the first reachable endpoint (the scan starts at a random one, as the gRPC backend
// does) within config.dial_timeout, and authenticates when a username is set. Errors as
// etcd::OpenEtcdBackend: kUnavailable naming every endpoint tried (and the TLS reason),
// kInvalidArgument (malformed endpoint, unreadable certificate files), kPermissionDenied,
// kUnsupported (the gateway refused, below).
//
// etcd 3.4 refuses its gateway to a client certificate with a CommonName while auth is enabled
// (embed/serve.go); such a refusal is kUnsupported, and with `fallback` (the factory's opener of
// the gRPC client) the backend moves to that client for the refused operation and every later one.
using EtcdFallback = std::function<Result<std::unique_ptr<Backend>>()>;
[[nodiscard]] Result<std::unique_ptr<Backend>> OpenEtcdHttpBackend(const EtcdConfig& config,
                                                                   EtcdFallback fallback = {});

// Compacts the etcd history up to `revision` (tests and tooling).
[[nodiscard]] Status CompactEtcdHttp(Backend& backend, int64_t revision);

// One WatchResponse on the gateway's watch stream (one JSON line of its chunked answer): as large
// as the largest answer the same client takes to a request (http/client.cc, a page of etcd
// values). etcd puts up to 1000 revisions' events in one response and the gRPC client takes up to
// 2 GiB, so the bound is against a peer that never ends a line, not against large legitimate
// responses. A longer line fails the watch with kUnavailable naming the limit (the limit's name
// is in model/decode_limits.h's style). A test lowers the limit for the watches opened after
// SetMaxWatchResponseBytesForTest.
inline constexpr size_t kMaxWatchResponseBytes = size_t{512} << 20;
inline constexpr const char* kMaxWatchResponseBytesName = "max watch response size";
void SetMaxWatchResponseBytesForTest(size_t bytes);

// The gateway's JSON (exposed for the golden tests): proto field names, bytes as base64, int64
// as decimal strings (what grpc-gateway's jsonpb writes; it reads numbers too).
namespace gateway {

std::string Base64(std::string_view data);
[[nodiscard]] Result<std::string> Unbase64(std::string_view text);
// /v3/kv/range for one key, or (prefix) every key under it, `limit` keys (0 = all) at `revision`
// (0 = current).
nlohmann::json Range(std::string_view key, bool prefix, int64_t limit, int64_t revision);
// A /v3/kv/txn body: the protocol-neutral transaction (datastore/txn.h) as JSON.
nlohmann::json Txn(const etcdtxn::Request& req);
// A /v3/kv/txn answer; kUnavailable when it is not what etcd sends.
[[nodiscard]] Result<etcdtxn::Response> ParseTxn(const nlohmann::json& resp);
// /v3/kv/put and /v3/kv/deleterange.
nlohmann::json Put(std::string_view key, std::string_view value, int64_t lease);
nlohmann::json DeletePrefix(std::string_view prefix);

// A mvccpb.KeyValue; kUnavailable when a field is not what etcd sends.
[[nodiscard]] Result<KVPair> ParseKv(const nlohmann::json& kv);
// An int64 field (string or number; absent = 0).
[[nodiscard]] int64_t Int(const nlohmann::json& object, const char* field);

// The error a non-200 answer means ({"error": ..., "code": <gRPC code>, "message": ...}):
// kPermissionDenied (authentication), kConflict (compacted revision), kUnavailable (the rest).
// `retry_elsewhere` is set when another endpoint may answer (Unavailable, DeadlineExceeded).
Error GatewayError(std::string_view what, std::string_view endpoint, int http_status,
                   std::string_view body, bool* retry_elsewhere);

}  // namespace gateway
}  // namespace calico::datastore::etcdhttp
