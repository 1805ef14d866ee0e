// etcd v3 over the JSON gateway; see etcd_http_backend.h. The request shapes are those of the
// gRPC backend (etcd/etcd_backend.cc, after libcalico-go/lib/backend/etcdv3/etcdv3.go); the JSON
// names are the proto field names of etcd's api/etcdserverpb/rpc.proto.
#include "calico/datastore/etcdhttp/etcd_http_backend.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/strings.h"
#include "calico/datastore/watch_queue.h"
#include "calico/http/chunked.h"
#include "calico/http/client.h"

namespace calico::datastore::etcdhttp {
namespace gateway {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

using etcdtxn::RangeEnd;
using etcdtxn::RangeStart;

nlohmann::json OpJson(const etcdtxn::Op& op) {
  switch (op.kind) {
    case etcdtxn::Op::Kind::kRange: {
      nlohmann::json r = {{"key", Base64(op.key)}};
      if (!op.range_end.empty()) r["range_end"] = Base64(op.range_end);
      if (op.limit != 0) r["limit"] = std::to_string(op.limit);
      return {{"request_range", std::move(r)}};
    }
    case etcdtxn::Op::Kind::kPut: {
      nlohmann::json put = {{"key", Base64(op.key)}, {"value", Base64(op.value)}};
      if (op.lease != 0) put["lease"] = std::to_string(op.lease);
      if (op.prev_kv) put["prev_kv"] = true;
      return {{"request_put", std::move(put)}};
    }
    case etcdtxn::Op::Kind::kDelete: {
      nlohmann::json del = {{"key", Base64(op.key)}};
      if (op.prev_kv) del["prev_kv"] = true;
      return {{"request_delete_range", std::move(del)}};
    }
  }
  return nlohmann::json::object();
}

nlohmann::json CompareJson(const etcdtxn::Compare& c) {
  const bool mod = c.target == etcdtxn::Compare::Target::kMod;
  return {{"key", Base64(c.key)},
          {"target", mod ? "MOD" : "VERSION"},
          {"result", c.result == etcdtxn::Compare::Op::kEqual ? "EQUAL" : "GREATER"},
          {mod ? "mod_revision" : "version", std::to_string(c.value)}};
}

}  // namespace

std::string Base64(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8 |
                       static_cast<unsigned char>(data[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == data.size()) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(data[i])) << 16 |
                       static_cast<uint32_t>(static_cast<unsigned char>(data[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Unbase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t i = 0;
  for (; i < text.size() && text[i] != '='; ++i) {
    const int v = B64Value(text[i]);
    if (v < 0) return Unavailable(fmt::format("etcd sent malformed base64 at offset {}", i));
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  for (; i < text.size(); ++i) {
    if (text[i] != '=') return Unavailable("etcd sent malformed base64 (data after padding)");
  }
  return out;
}

nlohmann::json Range(std::string_view key, bool prefix, int64_t limit, int64_t revision) {
  nlohmann::json r = {{"key", Base64(prefix ? RangeStart(key) : std::string(key))}};
  if (prefix) r["range_end"] = Base64(RangeEnd(key));
  if (limit != 0) r["limit"] = std::to_string(limit);
  if (revision != 0) r["revision"] = std::to_string(revision);
  return r;
}

nlohmann::json Txn(const etcdtxn::Request& req) {
  nlohmann::json out = nlohmann::json::object();
  auto ops = [](const std::vector<etcdtxn::Op>& list) {
    nlohmann::json a = nlohmann::json::array();
    for (const etcdtxn::Op& op : list)
      a.push_back(OpJson(op));
    return a;
  };
  if (!req.compare.empty()) {
    nlohmann::json compare = nlohmann::json::array();
    for (const etcdtxn::Compare& c : req.compare)
      compare.push_back(CompareJson(c));
    out["compare"] = std::move(compare);
  }
  if (!req.success.empty()) out["success"] = ops(req.success);
  if (!req.failure.empty()) out["failure"] = ops(req.failure);
  return out;
}

Result<etcdtxn::Response> ParseTxn(const nlohmann::json& resp) {
  etcdtxn::Response out;
  out.succeeded = resp.value("succeeded", false);
  out.revision = Int(resp.value("header", nlohmann::json::object()), "revision");
  auto responses = resp.find("responses");
  if (responses == resp.end()) return out;
  if (!responses->is_array()) return Unavailable("etcd sent a transaction answer without a list");
  for (const nlohmann::json& r : *responses) {
    if (!r.is_object()) return Unavailable("etcd sent a transaction answer that is not an object");
    etcdtxn::OpResponse one;
    auto add = [&](const nlohmann::json& kv) -> Status {
      ASSIGN_OR_RETURN(KVPair p, ParseKv(kv));
      one.kvs.push_back(std::move(p));
      return OkStatus();
    };
    auto list = [&](const nlohmann::json& body, const char* field) -> Status {
      auto kvs = body.find(field);
      if (kvs == body.end()) return OkStatus();
      if (!kvs->is_array()) return Unavailable(std::string("etcd sent a non-list ") + field);
      for (const nlohmann::json& kv : *kvs)
        RETURN_IF_ERROR(add(kv));
      return OkStatus();
    };
    if (auto range = r.find("response_range"); range != r.end()) {
      RETURN_IF_ERROR(list(*range, "kvs"));
      one.more = range->value("more", false);
    } else if (auto put = r.find("response_put"); put != r.end()) {
      if (auto prev = put->find("prev_kv"); prev != put->end()) RETURN_IF_ERROR(add(*prev));
    } else if (auto del = r.find("response_delete_range"); del != r.end()) {
      RETURN_IF_ERROR(list(*del, "prev_kvs"));
    }
    out.responses.push_back(std::move(one));
  }
  return out;
}

nlohmann::json Put(std::string_view key, std::string_view value, int64_t lease) {
  nlohmann::json put = {{"key", Base64(key)}, {"value", Base64(value)}, {"prev_kv", true}};
  if (lease != 0) put["lease"] = std::to_string(lease);
  return put;
}

nlohmann::json DeletePrefix(std::string_view prefix) {
  return {{"key", Base64(RangeStart(prefix))}, {"range_end", Base64(RangeEnd(prefix))}};
}

int64_t Int(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    int64_t v = 0;
    bool neg = false;
    size_t i = 0;
    if (!s.empty() && s[0] == '-') {
      neg = true;
      i = 1;
    }
    for (; i < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9') return 0;
      v = v * 10 + (s[i] - '0');
    }
    return neg ? -v : v;
  }
  return 0;
}

Result<KVPair> ParseKv(const nlohmann::json& kv) {
  if (!kv.is_object()) return Unavailable("etcd sent a key-value that is not an object");
  KVPair out;
  auto text = [&](const char* field, std::string& dst) -> Status {
    auto it = kv.find(field);
    if (it == kv.end()) return OkStatus();
    if (!it->is_string()) return Unavailable(fmt::format("etcd sent a non-string {}", field));
    ASSIGN_OR_RETURN(dst, Unbase64(it->get_ref<const std::string&>()));
    return OkStatus();
  };
  RETURN_IF_ERROR(text("key", out.key));
  RETURN_IF_ERROR(text("value", out.value));
  out.mod_revision = Int(kv, "mod_revision");
  out.create_revision = Int(kv, "create_revision");
  return out;
}

Error GatewayError(std::string_view what, std::string_view endpoint, int http_status,
                   std::string_view body, bool* retry_elsewhere) {
  *retry_elsewhere = false;
  int code = 0;
  std::string message;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object()) {
    code = static_cast<int>(Int(parsed, "code"));
    for (const char* field : {"message", "error"}) {
      auto it = parsed.find(field);
      if (it != parsed.end() && it->is_string() && !it->get_ref<const std::string&>().empty()) {
        message = it->get<std::string>();
        break;
      }
    }
  }
  if (message.empty()) message = fmt::format("HTTP {}: {}", http_status, body.substr(0, 200));
  // etcd 3.4 (embed/serve.go) refuses every gateway request that presents a client certificate
  // with a CommonName while auth is enabled (the gateway cannot pass the CN on as the user): the
  // gRPC API is the only way in, so the caller switches to it (OpenEtcdHttpBackend's fallback).
  if (body.find("CommonName of client sending a request against gateway") !=
      std::string_view::npos) {
    return Error(ErrorCode::kUnsupported,
                 fmt::format("{}: etcd at {} refuses its JSON gateway to a client certificate with "
                             "a CommonName while auth is enabled ({}); use the gRPC client "
                             "(CALICO_ETCD_CLIENT=grpc)",
                             what, endpoint, message));
  }
  // gRPC codes (google.golang.org/grpc/codes): 4 DeadlineExceeded, 7 PermissionDenied,
  // 11 OutOfRange, 14 Unavailable, 16 Unauthenticated. etcd reports authentication problems as
  // InvalidArgument/FailedPrecondition with these texts (as the gRPC backend checks).
  const bool auth = code == 7 || code == 16 || http_status == 401 || http_status == 403 ||
                    message.find("authentication failed") != std::string::npos ||
                    message.find("user name is empty") != std::string::npos ||
                    message.find("permission denied") != std::string::npos ||
                    message.find("invalid auth token") != std::string::npos;
  if (auth) {
    return Error(ErrorCode::kPermissionDenied,
                 fmt::format("{}: etcd at {}: {}", what, endpoint, message));
  }
  if (code == 11) return Error(ErrorCode::kConflict, fmt::format("{}: {}", what, message));
  if (code == 14 || code == 4 || http_status == 503 || http_status == 504) {
    *retry_elsewhere = true;
  }
  return Error(ErrorCode::kUnavailable, fmt::format("{}: etcd at {}: {}", what, endpoint, message));
}

}  // namespace gateway

namespace {

constexpr auto kCallTimeout = std::chrono::seconds(10);
constexpr auto kNoQuorumMemory = std::chrono::seconds(10);
constexpr int64_t kListPageSize = 1000;
// kMaxWatchResponseBytes, lowered by tests (SetMaxWatchResponseBytesForTest).
std::atomic<size_t> max_watch_response_bytes{kMaxWatchResponseBytes};

struct Endpoint {
  std::string url;
  http::Url parsed;
};

http::TlsFiles TlsOf(const EtcdConfig& c) {
  return http::TlsFiles{
      .ca_file = c.ca_cert_file, .cert_file = c.cert_file, .key_file = c.key_file};
}

class HttpWatchStream;

class EtcdHttpBackend final : public etcdtxn::Writer {
 public:
  EtcdHttpBackend(EtcdConfig config, std::vector<Endpoint> endpoints)
      : config_(std::move(config)), endpoints_(std::move(endpoints)) {}

  bool has_credentials() const { return !config_.username.empty() && !config_.password.empty(); }

  // Connects to the first endpoint that answers, starting at a random one (the clients of a
  // cluster, all given the same list, spread over the members; etcd/etcd_backend.cc).
  Status Connect() {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::random_device{}() % endpoints_.size();
    const auto deadline = std::chrono::steady_clock::now() + config_.dial_timeout;
    std::string errors;
    std::string tls_error;
    // Each endpoint gets its share of the dial timeout (a refused connection returns at once;
    // an address that drops packets must not eat the others' time); then round again.
    const auto share = std::max(std::chrono::milliseconds(200),
                                config_.dial_timeout / static_cast<int>(endpoints_.size()));
    do {
      for (size_t k = 0; k < endpoints_.size(); ++k) {
        const size_t i = (current_ + k) % endpoints_.size();
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        auto conn = http::ClientConnection::Open(endpoints_[i].parsed, TlsOf(config_),
                                                 std::min(left, share));
        if (conn) {
          conn_ = std::move(*conn);
          current_ = i;
          return OkStatus();
        }
        if (conn.error().code() == ErrorCode::kInvalidArgument) return Unexpected(conn.error());
        if (conn.error().message().find("TLS") != std::string::npos) {
          tls_error = conn.error().message();
          continue;
        }
        if (errors.find(conn.error().message()) == std::string::npos) {
          if (!errors.empty()) errors += "; ";
          errors += conn.error().message();
        }
      }
      if (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    } while (std::chrono::steady_clock::now() < deadline);
    std::vector<std::string> urls;
    for (const Endpoint& ep : endpoints_)
      urls.push_back(ep.url);
    // The message the gRPC backend gives for a refused handshake (docs/COMPATIBILITY.md).
    if (!tls_error.empty()) {
      errors += (errors.empty() ? "" : "; ") + std::string("TLS: ") + tls_error +
                "; check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and ETCD_KEY_FILE";
    }
    return Unavailable(fmt::format("etcd unreachable at {} within {} ms ({})", StrJoin(urls, ","),
                                   config_.dial_timeout.count(), errors));
  }

  Status Authenticate() {
    if (!has_credentials()) return OkStatus();
    nlohmann::json body = {{"name", config_.username}, {"password", config_.password}};
    ASSIGN_OR_RETURN(nlohmann::json resp,
                     CallOnce("authenticate", "/v3/auth/authenticate", body.dump(), false));
    std::lock_guard<std::mutex> lock(mu_);
    auto it = resp.find("token");
    token_ = it != resp.end() && it->is_string() ? it->get<std::string>() : "";
    return OkStatus();
  }

  // One request to the current endpoint, failing over to the next ones when it cannot be
  // reached or answers Unavailable. etcd's simple tokens expire after --auth-token-ttl unused:
  // "invalid auth token" renews the token once and retries (as clientv3 and the gRPC backend).
  Result<nlohmann::json> Call(std::string_view what, std::string_view path,
                              const nlohmann::json& body) {
    const std::string text = body.dump();
    auto out = CallOnce(what, path, text, true);
    if (!out && out.error().code() == ErrorCode::kPermissionDenied && has_credentials() &&
        out.error().message().find("invalid auth token") != std::string::npos) {
      RETURN_IF_ERROR(Authenticate());
      out = CallOnce(what, path, text, true);
    }
    return out;
  }

  Result<nlohmann::json> CallOnce(std::string_view what, std::string_view path,
                                  const std::string& body, bool with_token) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string headers = "Content-Type: application/json\r\n";
    if (with_token && !token_.empty()) headers += "Authorization: " + token_ + "\r\n";
    // A cluster that just made us wait for etcd's request timeout on every endpoint (no quorum)
    // is not asked again for a while: the process (a CNI invocation, calicoctl) would otherwise
    // wait that long once per request it makes (docs/RELIABILITY.md).
    if (std::chrono::steady_clock::now() < no_quorum_until_) {
      return Unavailable(std::string(what) + ": not asked again for " +
                         std::to_string(kNoQuorumMemory.count()) +
                         " s after etcd answered every request with Unavailable: " + no_quorum_);
    }
    std::string errors;
    bool server_unavailable = false;
    const size_t start = current_;
    for (size_t k = 0; k < endpoints_.size(); ++k) {
      const size_t i = (start + k) % endpoints_.size();
      const Endpoint& ep = endpoints_[i];
      // A kept-alive connection the server closed while idle fails on first use: one fresh
      // connection to the same endpoint before moving on (net/http's retry of a reused conn).
      for (int attempt = 0; attempt < 2; ++attempt) {
        const bool reused = conn_ != nullptr && current_ == i && conn_->open();
        if (!reused) {
          conn_.reset();
          auto opened = http::ClientConnection::Open(ep.parsed, TlsOf(config_),
                                                     std::chrono::milliseconds(kCallTimeout));
          if (!opened) {
            if (opened.error().code() == ErrorCode::kInvalidArgument) {
              return Unexpected(opened.error());
            }
            if (!errors.empty()) errors += "; ";
            errors += "etcd unreachable at " + ep.url + ": " + opened.error().message();
            break;
          }
          conn_ = std::move(*opened);
          current_ = i;
        }
        auto resp = conn_->RoundTrip("POST", path, headers, body, kCallTimeout);
        if (!resp) {
          // A request the server held past the deadline (a member without quorum) is not
          // repeated on the same member: it counts as that member's Unavailable answer.
          const bool timed_out = conn_->timed_out();
          conn_.reset();
          if (timed_out) server_unavailable = true;
          if (reused && attempt == 0 && !timed_out) continue;
          if (!errors.empty()) errors += "; ";
          errors += "etcd unreachable at " + ep.url + ": " + resp.error().message();
          break;
        }
        if (resp->status == 200) {
          auto parsed = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
          if (!parsed.is_object()) {
            return Unavailable(fmt::format("{}: etcd at {} sent malformed JSON", what, ep.url));
          }
          return parsed;
        }
        bool elsewhere = false;
        Error e = gateway::GatewayError(what, ep.url, resp->status, resp->body, &elsewhere);
        if (!elsewhere) return Unexpected(std::move(e));
        conn_.reset();
        server_unavailable = true;
        if (!errors.empty()) errors += "; ";
        errors += e.message();
        break;
      }
    }
    if (server_unavailable) {
      no_quorum_until_ = std::chrono::steady_clock::now() + kNoQuorumMemory;
      no_quorum_ = errors;
    }
    return Unavailable(std::string(what) + ": " + errors);
  }

  Result<KVPair> Get(std::string_view key) override {
    ASSIGN_OR_RETURN(auto resp, Call("get " + std::string(key), "/v3/kv/range",
                                     gateway::Range(key, false, 0, 0)));
    auto kvs = resp.find("kvs");
    if (kvs == resp.end() || !kvs->is_array() || kvs->empty()) {
      return NotFound("resource does not exist: " + std::string(key));
    }
    return gateway::ParseKv((*kvs)[0]);
  }

  Result<ListResult> List(std::string_view prefix) override {
    for (int attempt = 0;; ++attempt) {
      auto out = ListOnce(prefix);
      if (out || out.error().code() != ErrorCode::kConflict || attempt >= 3) return out;
    }
  }

  // Pages of kListPageSize keys, all at the revision of the first page (etcd/etcd_backend.cc).
  Result<ListResult> ListOnce(std::string_view prefix) {
    ListResult out;
    std::string key;
    bool first = true;
    while (true) {
      nlohmann::json req = gateway::Range(prefix, true, kListPageSize, out.revision);
      if (!first) req["key"] = gateway::Base64(key);  // from the key after the last one
      ASSIGN_OR_RETURN(auto resp, Call("list " + std::string(prefix), "/v3/kv/range", req));
      if (out.revision == 0)
        out.revision = gateway::Int(resp.value("header", nlohmann::json{}), "revision");
      first = false;
      auto kvs = resp.find("kvs");
      if (kvs == resp.end() || !kvs->is_array() || kvs->empty()) return out;
      for (const auto& kv : *kvs) {
        ASSIGN_OR_RETURN(KVPair p, gateway::ParseKv(kv));
        out.kvs.push_back(std::move(p));
      }
      if (!resp.value("more", false)) return out;
      key = out.kvs.back().key;
      key.push_back('\0');
    }
  }

  Result<std::vector<ListResult>> ReadMany(const std::vector<ReadRequest>& reads) override {
    constexpr size_t kMaxOps = 128;  // etcd's --max-txn-ops default
    std::vector<ListResult> out;
    out.reserve(reads.size());
    for (size_t begin = 0; begin < reads.size(); begin += kMaxOps) {
      const size_t end = std::min(reads.size(), begin + kMaxOps);
      std::vector<ReadRequest> chunk(reads.begin() + static_cast<ptrdiff_t>(begin),
                                     reads.begin() + static_cast<ptrdiff_t>(end));
      const std::string what = "read " + std::to_string(end - begin) + " keys";
      ASSIGN_OR_RETURN(etcdtxn::Response resp,
                       RunTxn(what, etcdtxn::PlanReads(chunk, kListPageSize)));
      ASSIGN_OR_RETURN(auto results, etcdtxn::ReadResults(chunk, resp));
      for (size_t i = begin; i < end; ++i) {
        if (results[i - begin]) {
          out.push_back(*std::move(results[i - begin]));
          continue;
        }
        ASSIGN_OR_RETURN(ListResult listed, List(reads[i].key));
        out.push_back(std::move(listed));
      }
    }
    return out;
  }

  Result<int64_t> GrantLease(std::chrono::seconds ttl) override {
    if (ttl.count() <= 0) return int64_t{0};
    ASSIGN_OR_RETURN(auto resp, Call("grant lease", "/v3/lease/grant",
                                     nlohmann::json{{"TTL", std::to_string(ttl.count())}}));
    if (auto e = resp.find("error"); e != resp.end() && e->is_string() && !e->empty()) {
      return Unavailable("grant lease: " + e->get<std::string>());
    }
    return gateway::Int(resp, "ID");
  }

  static int64_t Revision(const nlohmann::json& resp) {
    return gateway::Int(resp.value("header", nlohmann::json{}), "revision");
  }

  Result<etcdtxn::Response> RunTxn(const std::string& what, const etcdtxn::Request& req) override {
    ASSIGN_OR_RETURN(auto resp, Call(what, "/v3/kv/txn", gateway::Txn(req)));
    return gateway::ParseTxn(resp);
  }

  Result<KVPair> Put(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override {
    ASSIGN_OR_RETURN(int64_t lease, GrantLease(ttl));
    ASSIGN_OR_RETURN(
        auto resp, Call("put " + std::string(key), "/v3/kv/put", gateway::Put(key, value, lease)));
    const int64_t rev = Revision(resp);
    int64_t create_rev = rev;
    if (auto prev = resp.find("prev_kv"); prev != resp.end()) {
      create_rev = gateway::Int(*prev, "create_revision");
    }
    return KVPair{std::string(key), std::string(value), rev, create_rev, ttl.count()};
  }

  Result<int64_t> DeletePrefix(std::string_view prefix) override {
    ASSIGN_OR_RETURN(auto resp, Call("delete prefix " + std::string(prefix), "/v3/kv/deleterange",
                                     gateway::DeletePrefix(prefix)));
    return gateway::Int(resp, "deleted");
  }

  Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                             int64_t from_revision) override;

  std::string Describe() const override {
    std::vector<std::string> urls;
    for (const Endpoint& ep : endpoints_)
      urls.push_back(ep.url);
    return "etcd " + StrJoin(urls, ",");
  }

  Status Compact(int64_t revision) {
    auto done = Call("compact", "/v3/kv/compaction",
                     nlohmann::json{{"revision", std::to_string(revision)}, {"physical", true}});
    if (!done) return Unexpected(done.error());
    return OkStatus();
  }

  const EtcdConfig& config() const { return config_; }
  std::pair<Endpoint, std::string> CurrentEndpointAndToken() {
    std::lock_guard<std::mutex> lock(mu_);
    return {endpoints_[current_], token_};
  }

 private:
  EtcdConfig config_;
  std::vector<Endpoint> endpoints_;
  std::mutex mu_;  // the connection, current_ and token_
  size_t current_ = 0;
  std::unique_ptr<http::ClientConnection> conn_;
  std::string token_;
  std::chrono::steady_clock::time_point no_quorum_until_{};
  std::string no_quorum_;
};

// A watch: its own connection holding POST /v3/watch, whose answer is a chunked stream of
// newline-separated JSON WatchResponses ({"result": {...}}), read by a thread into a queue.
class HttpWatchStream final : public WatchStream {
 public:
  HttpWatchStream(std::unique_ptr<http::ClientConnection> conn, std::string prefix, std::string url)
      : conn_(std::move(conn)), prefix_(std::move(prefix)), url_(std::move(url)) {
    reader_ = std::thread([this] { ReadLoop(); });
  }
  ~HttpWatchStream() override {
    Close();
    if (reader_.joinable()) reader_.join();
  }
  HttpWatchStream(const HttpWatchStream&) = delete;
  HttpWatchStream& operator=(const HttpWatchStream&) = delete;

  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    return queue_.Next(timeout);
  }

  void Close() override {
    if (queue_.Close()) conn_->Shutdown();
  }

 private:
  void Fail(Error e) { queue_.Fail(std::move(e)); }

  // One WatchResponse; false when the stream is over.
  bool Deliver(std::string_view line) {
    auto msg = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!msg.is_object()) {
      Fail(Error(ErrorCode::kUnavailable,
                 "watch " + prefix_ + ": etcd at " + url_ + " sent malformed JSON"));
      return false;
    }
    if (auto e = msg.find("error"); e != msg.end()) {
      bool elsewhere = false;
      Fail(gateway::GatewayError("watch " + prefix_, url_, 200, e->dump(), &elsewhere));
      return false;
    }
    const nlohmann::json result = msg.value("result", nlohmann::json::object());
    if (const int64_t compacted = gateway::Int(result, "compact_revision"); compacted > 0) {
      Fail(Error(ErrorCode::kConflict, "watch revision has been compacted (compact revision " +
                                           std::to_string(compacted) + ")"));
      return false;
    }
    if (result.value("canceled", false)) {
      Fail(Error(ErrorCode::kUnavailable,
                 "watch canceled: " + result.value("cancel_reason", std::string())));
      return false;
    }
    std::vector<WatchEvent> events;
    if (auto evs = result.find("events"); evs != result.end() && evs->is_array()) {
      for (const auto& ev : *evs) {
        WatchEvent out;
        out.type = ev.value("type", std::string("PUT")) == "DELETE" ? WatchEventType::kDelete
                                                                    : WatchEventType::kPut;
        auto kv = gateway::ParseKv(ev.value("kv", nlohmann::json::object()));
        if (!kv) {
          Fail(kv.error());
          return false;
        }
        out.kv = std::move(*kv);
        if (out.type == WatchEventType::kDelete) out.kv.value.clear();
        events.push_back(std::move(out));
      }
    }
    if (events.empty()) return true;
    return queue_.Push(std::move(events));
  }

  void FailStream(const std::string& what) {
    Fail(Error(ErrorCode::kUnavailable, "watch " + prefix_ + ": etcd at " + url_ + ": " + what));
  }

  // The answer: a head (http::ParseHead, at most kMaxHttpHeaderBytes), then a chunked body
  // (http::ChunkedDecoder: bounded lines, strict CRLF) of newline-separated WatchResponses, each
  // at most max_line_ bytes. Any breach fails the stream with the limit named; the consumer
  // re-establishes the watch as on any stream error (agent/agent.cc Agent::Step).
  void ReadLoop() {
    std::string head;  // the status line and headers until they are complete
    std::optional<http::ChunkedDecoder> chunked;
    std::string lines;   // de-chunked payload not yet split into lines
    size_t scanned = 0;  // bytes of `lines` known to hold no newline
    char chunk[16384];
    for (;;) {
      if (queue_.closed()) return;
      auto n = conn_->Read(chunk, sizeof(chunk), std::chrono::milliseconds(1000));
      if (!n) {
        FailStream("stream ended: " + n.error().message());
        return;
      }
      std::string_view in(chunk, *n);
      if (!chunked) {
        head.append(in);
        const http::ParseResult r = http::ParseHead(head, http::Limits{}, /*is_response=*/true);
        if (r.state == http::ParseState::kNeedMore) continue;
        if (r.state == http::ParseState::kBad) {
          FailStream("not an HTTP answer: " + r.error);
          return;
        }
        if (r.status != 200) {
          FailStream(r.request.version);
          return;
        }
        if (!http::IsChunked(r.request)) {
          FailStream("the watch answer is not a chunked stream");
          return;
        }
        chunked.emplace(http::ChunkedLimits{
            .max_chunk_bytes = max_line_,
            .max_chunk_bytes_name = kMaxWatchResponseBytesName,
        });
        // The body's first bytes came with the head.
        const size_t body_in_chunk = head.size() - r.consumed;
        in = in.substr(in.size() - body_in_chunk);
        head.clear();
        head.shrink_to_fit();
      }
      chunked->Feed(in, lines);
      if (chunked->failed()) {
        FailStream("malformed chunked stream: " + chunked->error_message());
        return;
      }
      size_t start = 0;
      for (size_t nl; (nl = lines.find('\n', std::max(start, scanned))) != std::string::npos;) {
        const std::string_view line = std::string_view(lines).substr(start, nl - start);
        start = nl + 1;
        if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
        if (!Deliver(line)) return;
      }
      lines.erase(0, start);
      scanned = lines.size();
      if (lines.size() > max_line_) {
        FailStream(fmt::format("a watch response longer than the {} of {} bytes",
                               kMaxWatchResponseBytesName, max_line_));
        return;
      }
      if (chunked->ended()) {
        FailStream("stream ended by the server");
        return;
      }
    }
  }

  std::unique_ptr<http::ClientConnection> conn_;
  std::string prefix_;
  std::string url_;
  const size_t max_line_ = max_watch_response_bytes.load();
  WatchQueue queue_;
  std::thread reader_;  // Last: starts after the members it uses exist.
};

Result<std::unique_ptr<WatchStream>> EtcdHttpBackend::Watch(std::string_view prefix,
                                                            int64_t from_revision) {
  // The probe picks a live endpoint (failing over like every call) and, for "from now on", gives
  // the current revision so nothing older is replayed.
  ASSIGN_OR_RETURN(auto probe, List("\x01__calico_revision_probe__"));
  if (from_revision <= 0) from_revision = probe.revision + 1;
  auto [ep, token] = CurrentEndpointAndToken();
  ASSIGN_OR_RETURN(auto conn,
                   http::ClientConnection::Open(ep.parsed, TlsOf(config()),
                                                std::chrono::milliseconds(kCallTimeout)));
  nlohmann::json create = gateway::Range(prefix, true, 0, 0);
  create["start_revision"] = std::to_string(from_revision);
  const std::string body = nlohmann::json{{"create_request", create}}.dump();
  std::string req = fmt::format(
      "POST /v3/watch HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n"
      "Content-Length: {}\r\n{}\r\n{}",
      conn->peer(), body.size(), token.empty() ? "" : "Authorization: " + token + "\r\n", body);
  RETURN_IF_ERROR(conn->Write(req, std::chrono::milliseconds(kCallTimeout)));
  return std::unique_ptr<WatchStream>(
      std::make_unique<HttpWatchStream>(std::move(conn), std::string(prefix), ep.url));
}

// The JSON-gateway backend that moves to the gRPC client (opened on first need) when etcd
// refuses the gateway (GatewayError's kUnsupported): the operation is repeated there, and every
// later one goes there too. Only reads and refused requests are repeated: etcd refuses before
// running anything.
class FallbackBackend final : public Backend {
 public:
  FallbackBackend(std::unique_ptr<Backend> http, EtcdFallback open_grpc)
      : http_(std::move(http)), open_grpc_(std::move(open_grpc)) {}

  Result<KVPair> Get(std::string_view key) override {
    return Run([&](Backend& b) { return b.Get(key); });
  }
  Result<ListResult> List(std::string_view prefix) override {
    return Run([&](Backend& b) { return b.List(prefix); });
  }
  Result<std::vector<ListResult>> ReadMany(const std::vector<ReadRequest>& reads) override {
    return Run([&](Backend& b) { return b.ReadMany(reads); });
  }
  Result<KVPair> Create(std::string_view key, std::string_view value,
                        std::chrono::seconds ttl) override {
    return Run([&](Backend& b) { return b.Create(key, value, ttl); });
  }
  Result<KVPair> Update(std::string_view key, std::string_view value, int64_t expected_revision,
                        std::chrono::seconds ttl) override {
    return Run([&](Backend& b) { return b.Update(key, value, expected_revision, ttl); });
  }
  Result<KVPair> Put(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override {
    return Run([&](Backend& b) { return b.Put(key, value, ttl); });
  }
  Result<KVPair> Delete(std::string_view key, int64_t expected_revision) override {
    return Run([&](Backend& b) { return b.Delete(key, expected_revision); });
  }
  Result<std::vector<KVPair>> Txn(const std::vector<TxnOp>& ops) override {
    return Run([&](Backend& b) { return b.Txn(ops); });
  }
  Result<int64_t> DeletePrefix(std::string_view prefix) override {
    return Run([&](Backend& b) { return b.DeletePrefix(prefix); });
  }
  Result<std::unique_ptr<WatchStream>> Watch(std::string_view prefix,
                                             int64_t from_revision) override {
    return Run([&](Backend& b) { return b.Watch(prefix, from_revision); });
  }
  std::string Describe() const override { return http_->Describe(); }

 private:
  template <typename Fn>
  auto Run(Fn&& fn) -> decltype(fn(std::declval<Backend&>())) {
    Backend* grpc = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      grpc = grpc_.get();
    }
    if (grpc != nullptr) return fn(*grpc);
    auto out = fn(*http_);
    if (out || out.error().code() != ErrorCode::kUnsupported) return out;
    std::lock_guard<std::mutex> lock(mu_);
    if (!grpc_) {
      auto opened = open_grpc_();
      if (!opened) return Unexpected(opened.error());
      grpc_ = std::move(*opened);
    }
    return fn(*grpc_);
  }

  std::unique_ptr<Backend> http_;
  EtcdFallback open_grpc_;
  std::mutex mu_;
  std::unique_ptr<Backend> grpc_;
};

}  // namespace

Result<std::unique_ptr<Backend>> OpenEtcdHttpBackend(const EtcdConfig& config,
                                                     EtcdFallback fallback) {
  if (config.endpoints.empty()) return InvalidArgument("no etcd endpoints specified");
  std::vector<Endpoint> endpoints;
  for (const std::string& url : config.endpoints) {
    if (url.find("://") != std::string::npos && !StartsWith(url, "http://") &&
        !StartsWith(url, "https://")) {
      return InvalidArgument("unsupported etcd endpoint " + url + " (use http:// or https://)");
    }
    auto parsed = http::ParseUrl(url);
    if (!parsed) return InvalidArgument("etcd endpoint: " + parsed.error().message());
    // As the gRPC backend: a CA file means TLS even on an http:// endpoint.
    if (!config.ca_cert_file.empty()) parsed->tls = true;
    endpoints.push_back(Endpoint{url, *parsed});
  }
  auto backend = std::make_unique<EtcdHttpBackend>(config, std::move(endpoints));
  RETURN_IF_ERROR(backend->Connect());
  if (Status auth = backend->Authenticate(); !auth) {
    if (auth.error().code() == ErrorCode::kUnsupported && fallback) return fallback();
    return Unexpected(auth.error());
  }
  if (!fallback) return std::unique_ptr<Backend>(std::move(backend));
  return std::unique_ptr<Backend>(
      std::make_unique<FallbackBackend>(std::move(backend), std::move(fallback)));
}

void SetMaxWatchResponseBytesForTest(size_t bytes) {
  max_watch_response_bytes.store(bytes);
}

Status CompactEtcdHttp(Backend& backend, int64_t revision) {
  auto* etcd = dynamic_cast<EtcdHttpBackend*>(&backend);
  if (etcd == nullptr) return InvalidArgument("not an etcd JSON-gateway backend");
  return etcd->Compact(revision);
}

}  // namespace calico::datastore::etcdhttp
