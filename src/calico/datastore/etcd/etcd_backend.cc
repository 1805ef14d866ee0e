// etcd v3 Backend (libcalico-go/lib/backend/etcdv3/etcdv3.go): transactions, leases, watches and
// endpoint failover over gRPC.
#include "calico/datastore/etcd/etcd_backend.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include <grpc/support/log.h>
#include <grpcpp/grpcpp.h>

#include "calico/base/strings.h"
#include "calico/datastore/txn.h"
#include "calico/datastore/watch_queue.h"

#include "etcd_rpc.grpc.pb.h"

namespace calico::datastore::etcd {
namespace {

namespace pb = ::etcdserverpb;

constexpr auto kCallTimeout = std::chrono::seconds(10);

// gRPC's own messages (a TLS handshake the server refused, a certificate that does not verify)
// went straight to stderr, dozens of "E1207 ... ssl_transport_security.cc" lines on a calicoctl
// user's terminal, while our error said only "unreachable". They are dropped now, and the last
// TLS error is kept for the unreachable error to name; GRPC_VERBOSITY set in the environment
// (gRPC's own switch) keeps gRPC's logging for whoever debugs the transport.
std::mutex g_grpc_log_mu;
std::string g_last_tls_error;

void GrpcLog(gpr_log_func_args* args) {
  std::string_view message = args->message == nullptr ? "" : args->message;
  if (args->severity == GPR_LOG_SEVERITY_ERROR &&
      (message.find("SSL") != std::string_view::npos ||
       message.find("certificate") != std::string_view::npos ||
       message.find("handshake") != std::string_view::npos)) {
    std::lock_guard<std::mutex> lock(g_grpc_log_mu);
    g_last_tls_error = std::string(message);
  }
}

void RouteGrpcLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("GRPC_VERBOSITY") == nullptr) gpr_set_log_function(GrpcLog);
  });
}

std::string LastTlsError() {
  std::lock_guard<std::mutex> lock(g_grpc_log_mu);
  return g_last_tls_error;
}
constexpr int64_t kListPageSize = 1000;

using etcdtxn::RangeEnd;
using etcdtxn::RangeStart;

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

KVPair FromPb(const pb::KeyValue& kv) {
  return KVPair{kv.key(), kv.value(), kv.mod_revision(), kv.create_revision(), 0};
}

// The protocol-neutral transaction (datastore/txn.h) as protobuf, and back.
pb::TxnRequest EncodeTxn(const etcdtxn::Request& req) {
  pb::TxnRequest out;
  for (const etcdtxn::Compare& c : req.compare) {
    pb::Compare* cmp = out.add_compare();
    cmp->set_key(c.key);
    cmp->set_result(c.result == etcdtxn::Compare::Op::kEqual ? pb::Compare::EQUAL
                                                             : pb::Compare::GREATER);
    if (c.target == etcdtxn::Compare::Target::kMod) {
      cmp->set_target(pb::Compare::MOD);
      cmp->set_mod_revision(c.value);
    } else {
      cmp->set_target(pb::Compare::VERSION);
      cmp->set_version(c.value);
    }
  }
  auto encode = [](const etcdtxn::Op& op, pb::RequestOp* dst) {
    switch (op.kind) {
      case etcdtxn::Op::Kind::kRange: {
        auto* range = dst->mutable_request_range();
        range->set_key(op.key);
        if (!op.range_end.empty()) range->set_range_end(op.range_end);
        range->set_limit(op.limit);
        break;
      }
      case etcdtxn::Op::Kind::kPut: {
        auto* put = dst->mutable_request_put();
        put->set_key(op.key);
        put->set_value(op.value);
        put->set_lease(op.lease);
        put->set_prev_kv(op.prev_kv);
        break;
      }
      case etcdtxn::Op::Kind::kDelete: {
        auto* del = dst->mutable_request_delete_range();
        del->set_key(op.key);
        del->set_prev_kv(op.prev_kv);
        break;
      }
    }
  };
  for (const etcdtxn::Op& op : req.success)
    encode(op, out.add_success());
  for (const etcdtxn::Op& op : req.failure)
    encode(op, out.add_failure());
  return out;
}

etcdtxn::Response DecodeTxn(const pb::TxnResponse& resp) {
  etcdtxn::Response out;
  out.succeeded = resp.succeeded();
  out.revision = resp.header().revision();
  for (const pb::ResponseOp& r : resp.responses()) {
    etcdtxn::OpResponse one;
    if (r.has_response_range()) {
      for (const auto& kv : r.response_range().kvs())
        one.kvs.push_back(FromPb(kv));
      one.more = r.response_range().more();
    } else if (r.has_response_put()) {
      if (r.response_put().has_prev_kv()) one.kvs.push_back(FromPb(r.response_put().prev_kv()));
    } else if (r.has_response_delete_range()) {
      for (const auto& kv : r.response_delete_range().prev_kvs())
        one.kvs.push_back(FromPb(kv));
    }
    out.responses.push_back(std::move(one));
  }
  return out;
}

// etcd reports authentication problems as InvalidArgument/FailedPrecondition with these texts.
bool IsAuthError(const grpc::Status& st) {
  const std::string& m = st.error_message();
  return m.find("authentication failed") != std::string::npos ||
         m.find("user name is empty") != std::string::npos ||
         m.find("permission denied") != std::string::npos ||
         m.find("invalid auth token") != std::string::npos;
}

bool Retryable(const grpc::Status& st) {
  return st.error_code() == grpc::StatusCode::UNAVAILABLE ||
         st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

struct Endpoint {
  std::string url;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Auth::Stub> auth;
};

class EtcdWatchStream;

class EtcdBackend final : public etcdtxn::Writer {
 public:
  EtcdBackend(EtcdConfig config, std::vector<Endpoint> endpoints, size_t current)
      : config_(std::move(config)), endpoints_(std::move(endpoints)), current_(current) {}

  bool has_credentials() const { return !config_.username.empty() && !config_.password.empty(); }

  Status Authenticate() {
    if (!has_credentials()) return OkStatus();
    pb::AuthenticateRequest req;
    req.set_name(config_.username);
    req.set_password(config_.password);
    pb::AuthenticateResponse resp;
    RETURN_IF_ERROR(Call(
        "authenticate",
        [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.auth->Authenticate(&ctx, req, &resp);
        },
        /*with_token=*/false));
    std::lock_guard<std::mutex> lock(mu_);
    token_ = resp.token();
    return OkStatus();
  }

  // Runs `fn` against the current endpoint, failing over to the next ones on UNAVAILABLE. etcd's
  // simple tokens expire after --auth-token-ttl (default 300 s) unused, so "invalid auth token"
  // renews the token once and retries (as clientv3 does).
  template <typename Fn>
  Status Call(std::string_view what, Fn&& fn, bool with_token = true) {
    Status st = CallOnce(what, fn, with_token);
    if (!st && st.error().code() == ErrorCode::kPermissionDenied && with_token &&
        has_credentials() && st.error().message().find("invalid auth token") != std::string::npos) {
      RETURN_IF_ERROR(Authenticate());
      st = CallOnce(what, fn, with_token);
    }
    return st;
  }

  template <typename Fn>
  Status CallOnce(std::string_view what, Fn& fn, bool with_token) {
    std::string errors;
    size_t start = current_.load();
    for (size_t i = 0; i < endpoints_.size(); ++i) {
      size_t idx = (start + i) % endpoints_.size();
      Endpoint& ep = endpoints_[idx];
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
      ctx.set_wait_for_ready(false);
      if (with_token) {
        std::lock_guard<std::mutex> lock(mu_);
        if (!token_.empty()) ctx.AddMetadata("token", token_);
      }
      grpc::Status st = fn(ep, ctx);
      if (st.ok()) {
        current_.store(idx);
        return OkStatus();
      }
      if (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
          st.error_code() == grpc::StatusCode::PERMISSION_DENIED || IsAuthError(st)) {
        return MakeError(ErrorCode::kPermissionDenied,
                         std::string(what) + ": etcd at " + ep.url + ": " + st.error_message());
      }
      if (st.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
        return Conflict(std::string(what) + ": " + st.error_message());
      }
      if (!Retryable(st)) {
        return Unavailable(std::string(what) + ": etcd at " + ep.url + ": " + st.error_message());
      }
      if (!errors.empty()) errors += "; ";
      errors += "etcd unreachable at " + ep.url + ": " + st.error_message();
    }
    return Unavailable(std::string(what) + ": " + errors);
  }

  Result<KVPair> Get(std::string_view key) override {
    pb::RangeRequest req;
    req.set_key(std::string(key));
    pb::RangeResponse resp;
    RETURN_IF_ERROR(Call("get " + std::string(key), [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Range(&ctx, req, &resp);
    }));
    if (resp.kvs_size() == 0) return NotFound("resource does not exist: " + std::string(key));
    KVPair kv = FromPb(resp.kvs(0));
    return kv;
  }

  // Reads the prefix in pages of kListPageSize keys, all at the revision of the first page, so a
  // large store never needs one huge gRPC message and the result is still one consistent snapshot.
  // If that revision is compacted between pages, the whole list starts again.
  Result<ListResult> List(std::string_view prefix) override {
    for (int attempt = 0;; ++attempt) {
      auto out = ListOnce(prefix);
      if (out || out.error().code() != ErrorCode::kConflict || attempt >= 3) return out;
    }
  }

  Result<ListResult> ListOnce(std::string_view prefix) {
    ListResult out;
    std::string key = RangeStart(prefix);
    const std::string end = RangeEnd(prefix);
    while (true) {
      pb::RangeRequest req;
      req.set_key(key);
      req.set_range_end(end);
      req.set_limit(kListPageSize);
      req.set_revision(out.revision);  // 0 for the first page: the current revision.
      pb::RangeResponse resp;
      RETURN_IF_ERROR(Call(
          "list " + std::string(prefix),
          [&](Endpoint& ep, grpc::ClientContext& ctx) { return ep.kv->Range(&ctx, req, &resp); }));
      if (out.revision == 0) out.revision = resp.header().revision();
      for (const auto& kv : resp.kvs())
        out.kvs.push_back(FromPb(kv));
      if (!resp.more() || resp.kvs_size() == 0) return out;
      key = resp.kvs(resp.kvs_size() - 1).key();
      key.push_back('\0');  // The next key after the last one returned.
    }
  }

  // One Txn of ranges without compares: etcd answers every read at one revision in one round trip
  // (clientv3's Txn().Then(OpGet...), as a CNI ADD's first reads). etcd caps a transaction at
  // --max-txn-ops (128 by default): larger batches go in chunks. A prefix holding more than a page
  // (kListPageSize) is read again with the paging List.
  Result<std::vector<ListResult>> ReadMany(const std::vector<ReadRequest>& reads) override {
    constexpr size_t kMaxOps = 128;
    std::vector<ListResult> out;
    out.reserve(reads.size());
    for (size_t begin = 0; begin < reads.size(); begin += kMaxOps) {
      const size_t end = std::min(reads.size(), begin + kMaxOps);
      std::vector<ReadRequest> chunk(reads.begin() + static_cast<ptrdiff_t>(begin),
                                     reads.begin() + static_cast<ptrdiff_t>(end));
      ASSIGN_OR_RETURN(etcdtxn::Response resp,
                       RunTxn("read " + std::to_string(end - begin) + " keys",
                              etcdtxn::PlanReads(chunk, kListPageSize)));
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
    pb::LeaseGrantRequest req;
    req.set_ttl(ttl.count());
    pb::LeaseGrantResponse resp;
    RETURN_IF_ERROR(Call("grant lease", [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.lease->LeaseGrant(&ctx, req, &resp);
    }));
    if (!resp.error().empty()) return Unavailable("grant lease: " + resp.error());
    return resp.id();
  }

  Result<etcdtxn::Response> RunTxn(const std::string& what, const etcdtxn::Request& plan) override {
    pb::TxnRequest req = EncodeTxn(plan);
    pb::TxnResponse resp;
    RETURN_IF_ERROR(Call(what, [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Txn(&ctx, req, &resp);
    }));
    return DecodeTxn(resp);
  }

  Result<KVPair> Put(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override {
    ASSIGN_OR_RETURN(int64_t lease, GrantLease(ttl));
    pb::PutRequest req;
    req.set_key(std::string(key));
    req.set_value(std::string(value));
    req.set_lease(lease);
    req.set_prev_kv(true);
    pb::PutResponse resp;
    RETURN_IF_ERROR(Call("put " + std::string(key), [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Put(&ctx, req, &resp);
    }));
    int64_t rev = resp.header().revision();
    int64_t create_rev = resp.has_prev_kv() ? resp.prev_kv().create_revision() : rev;
    return KVPair{std::string(key), std::string(value), rev, create_rev, ttl.count()};
  }

  Result<int64_t> DeletePrefix(std::string_view prefix) override {
    pb::DeleteRangeRequest req;
    req.set_key(RangeStart(prefix));
    req.set_range_end(RangeEnd(prefix));
    pb::DeleteRangeResponse resp;
    RETURN_IF_ERROR(
        Call("delete prefix " + std::string(prefix), [&](Endpoint& ep, grpc::ClientContext& ctx) {
          return ep.kv->DeleteRange(&ctx, req, &resp);
        }));
    return resp.deleted();
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
    pb::CompactionRequest req;
    req.set_revision(revision);
    req.set_physical(true);
    pb::CompactionResponse resp;
    return Call("compact", [&](Endpoint& ep, grpc::ClientContext& ctx) {
      return ep.kv->Compact(&ctx, req, &resp);
    });
  }

  Endpoint& current_endpoint() { return endpoints_[current_.load()]; }
  std::string token() {
    std::lock_guard<std::mutex> lock(mu_);
    return token_;
  }

 private:
  EtcdConfig config_;
  std::vector<Endpoint> endpoints_;
  std::atomic<size_t> current_{0};
  std::mutex mu_;
  std::string token_;
};

// A watch: one gRPC bidi stream read by a background thread into a queue.
class EtcdWatchStream final : public WatchStream {
 public:
  EtcdWatchStream(Endpoint& ep, const std::string& token, std::string prefix, int64_t from)
      : prefix_(std::move(prefix)), url_(ep.url) {
    if (!token.empty()) ctx_.AddMetadata("token", token);
    // Like clientv3.WithRequireLeader: a member cut off from its cluster ends the stream instead of
    // leaving it silent, so the caller re-watches through another endpoint.
    ctx_.AddMetadata("hasleader", "true");
    stream_ = ep.watch->Watch(&ctx_);
    pb::WatchRequest req;
    auto* create = req.mutable_create_request();
    create->set_key(RangeStart(prefix_));
    create->set_range_end(RangeEnd(prefix_));
    create->set_start_revision(from);
    ok_ = stream_->Write(req);
    reader_ = std::thread([this] { ReadLoop(); });
  }

  ~EtcdWatchStream() override {
    Close();
    if (reader_.joinable()) reader_.join();
  }
  EtcdWatchStream(const EtcdWatchStream&) = delete;
  EtcdWatchStream& operator=(const EtcdWatchStream&) = delete;

  Result<std::vector<WatchEvent>> Next(std::chrono::milliseconds timeout) override {
    return queue_.Next(timeout);
  }

  void Close() override {
    if (queue_.Close()) ctx_.TryCancel();
  }

 private:
  void ReadLoop() {
    bool ended_by_server = false;
    pb::WatchResponse resp;
    while (true) {
      if (!ok_ || !stream_->Read(&resp)) {
        ended_by_server = true;
        break;
      }
      if (queue_.closed()) break;
      if (resp.compact_revision() > 0) {
        queue_.Fail(
            Error(ErrorCode::kConflict, "watch revision has been compacted (compact revision " +
                                            std::to_string(resp.compact_revision()) + ")"));
        break;
      }
      if (resp.canceled()) {
        queue_.Fail(Error(ErrorCode::kUnavailable, "watch canceled: " + resp.cancel_reason()));
        break;
      }
      std::vector<WatchEvent> events;
      events.reserve(static_cast<size_t>(resp.events_size()));
      for (const auto& ev : resp.events()) {
        WatchEvent out;
        out.type = ev.type() == pb::Event::DELETE ? WatchEventType::kDelete : WatchEventType::kPut;
        out.kv = FromPb(ev.kv());
        if (out.type == WatchEventType::kDelete) out.kv.value.clear();
        events.push_back(std::move(out));
      }
      // Back-pressure: a slow consumer stalls the stream instead of growing the queue.
      if (!events.empty() && !queue_.Push(std::move(events))) break;
    }
    // Finish() needs the call to be over: cancel it when we are the ones leaving.
    if (!ended_by_server) ctx_.TryCancel();
    grpc::Status st = stream_->Finish();
    queue_.Fail(Error(ErrorCode::kUnavailable,
                      "watch " + prefix_ + ": etcd at " + url_ + ": stream ended: " +
                          (st.ok() ? std::string("closed by server") : st.error_message())));
  }

  std::string prefix_;
  std::string url_;
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>> stream_;
  bool ok_ = false;
  WatchQueue queue_;
  std::thread reader_;
};

Result<std::unique_ptr<WatchStream>> EtcdBackend::Watch(std::string_view prefix,
                                                        int64_t from_revision) {
  // The probe picks a live endpoint (failing over like every call) and, for "from now on", gives
  // the current revision so nothing older is replayed.
  ASSIGN_OR_RETURN(auto probe, List("\x01__calico_revision_probe__"));
  if (from_revision <= 0) from_revision = probe.revision + 1;
  auto stream = std::make_unique<EtcdWatchStream>(current_endpoint(), token(), std::string(prefix),
                                                  from_revision);
  return std::unique_ptr<WatchStream>(std::move(stream));
}

Result<Endpoint> MakeEndpoint(const std::string& url, const EtcdConfig& config) {
  std::string target = url;
  bool tls = false;
  if (StartsWith(target, "https://")) {
    tls = true;
    target = target.substr(8);
  } else if (StartsWith(target, "http://")) {
    target = target.substr(7);
  } else if (target.find("://") != std::string::npos) {
    return InvalidArgument("unsupported etcd endpoint " + url + " (use http:// or https://)");
  }
  while (!target.empty() && target.back() == '/')
    target.pop_back();
  if (target.empty()) return InvalidArgument("empty etcd endpoint in ETCD_ENDPOINTS");
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (tls || !config.ca_cert_file.empty()) {
    grpc::SslCredentialsOptions opts;
    if (!config.ca_cert_file.empty()) {
      ASSIGN_OR_RETURN(opts.pem_root_certs, ReadFile(config.ca_cert_file));
    }
    if (!config.cert_file.empty()) {
      ASSIGN_OR_RETURN(opts.pem_cert_chain, ReadFile(config.cert_file));
    }
    if (!config.key_file.empty()) {
      ASSIGN_OR_RETURN(opts.pem_private_key, ReadFile(config.key_file));
    }
    creds = grpc::SslCredentials(opts);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // Values are small but a page of them, or a burst of watch events, can pass gRPC's 4 MiB default
  // (clientv3 lifts the limit the same way).
  args.SetMaxReceiveMessageSize(std::numeric_limits<int32_t>::max());
  // Each Backend holds its own connection, as each clientv3 client does: gRPC would otherwise
  // share one subchannel (one TCP connection) between all the channels of a process to the same
  // address, and the many agents of `calico-bench simulate` would look like one client to etcd.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  Endpoint ep;
  ep.url = url;
  ep.channel = grpc::CreateCustomChannel(target, creds, args);
  ep.kv = pb::KV::NewStub(ep.channel);
  ep.watch = pb::Watch::NewStub(ep.channel);
  ep.lease = pb::Lease::NewStub(ep.channel);
  ep.auth = pb::Auth::NewStub(ep.channel);
  return ep;
}

}  // namespace

Result<std::unique_ptr<Backend>> OpenEtcdBackend(const EtcdConfig& config) {
  if (config.endpoints.empty()) return InvalidArgument("no etcd endpoints specified");
  RouteGrpcLogging();
  std::vector<Endpoint> endpoints;
  for (const std::string& url : config.endpoints) {
    ASSIGN_OR_RETURN(Endpoint ep, MakeEndpoint(url, config));
    endpoints.push_back(std::move(ep));
  }
  // Reachability within the dial timeout: all endpoints dial at once and the first to connect
  // becomes the current one (a dead first endpoint costs nothing when another is up). The scan
  // starts at a random endpoint, so that the clients of a cluster, all given the same list, spread
  // their watches and requests over the members as clientv3's balancer does (grpc-go's round_robin
  // picker starts at a random subchannel); starting at the first one put every node's watch on
  // the first member (bench/README.md, the simulate row).
  auto deadline = std::chrono::steady_clock::now() + config.dial_timeout;
  std::optional<size_t> ready;
  // std::random_device, not base/random.h: this module links only base/strings.cc of the base
  // library.
  const size_t offset = std::random_device{}();
  // WaitForStateChange (not a sleep) so that gRPC makes progress on each connection attempt.
  while (!ready && std::chrono::steady_clock::now() < deadline) {
    for (size_t k = 0; k < endpoints.size() && !ready; ++k) {
      const size_t i = (offset + k) % endpoints.size();
      grpc_connectivity_state state = endpoints[i].channel->GetState(/*try_to_connect=*/true);
      if (state == GRPC_CHANNEL_READY) {
        ready = i;
        break;
      }
      endpoints[i].channel->WaitForStateChange(
          state, std::chrono::system_clock::now() + std::chrono::milliseconds(20));
    }
  }
  if (!ready) {
    std::string tls = LastTlsError();
    return Unavailable("etcd unreachable at " + StrJoin(config.endpoints, ",") + " within " +
                       std::to_string(config.dial_timeout.count()) + " ms" +
                       (tls.empty() ? ""
                                    : " (TLS: " + tls +
                                          "; check ETCD_CA_CERT_FILE, ETCD_CERT_FILE and "
                                          "ETCD_KEY_FILE)"));
  }
  auto backend = std::make_unique<EtcdBackend>(config, std::move(endpoints), *ready);
  RETURN_IF_ERROR(backend->Authenticate());
  return std::unique_ptr<Backend>(std::move(backend));
}

Status CompactEtcd(Backend& backend, int64_t revision) {
  auto* etcd = dynamic_cast<EtcdBackend*>(&backend);
  if (etcd == nullptr) return InvalidArgument("not an etcd backend");
  return etcd->Compact(revision);
}

}  // namespace calico::datastore::etcd
