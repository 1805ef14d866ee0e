// The etcd JSON gateway's request bodies (golden: what etcd 3.4's grpc-gateway reads, checked
// against a real etcd by etcd_http_backend_test.cc) and the decoding of its answers and errors.
#include <gtest/gtest.h>

#include "calico/datastore/etcdhttp/etcd_http_backend.h"

namespace calico::datastore::etcdhttp::gateway {
namespace {

TEST(EtcdGatewayJsonTest, Base64RoundTripsEveryByteAndPadding) {
  EXPECT_EQ(Base64(""), "");
  EXPECT_EQ(Base64("f"), "Zg==");
  EXPECT_EQ(Base64("fo"), "Zm8=");
  EXPECT_EQ(Base64("foo"), "Zm9v");
  EXPECT_EQ(Base64("/calico/ipam/v2/host/n1"), "L2NhbGljby9pcGFtL3YyL2hvc3QvbjE=");
  std::string all;
  for (int c = 0; c < 256; ++c)
    all += static_cast<char>(c);
  EXPECT_EQ(*Unbase64(Base64(all)), all);
  EXPECT_FALSE(Unbase64("Zm9v!"));
  EXPECT_FALSE(Unbase64("Zg==Zg"));
}

TEST(EtcdGatewayJsonTest, RangeBodies) {
  EXPECT_EQ(Range("/calico/x", false, 0, 0).dump(), R"({"key":"L2NhbGljby94"})");
  // A prefix: range_end is the prefix with its last byte incremented ("/" + 1 = "0").
  EXPECT_EQ(Range("/calico/", true, 1000, 42).dump(),
            R"({"key":"L2NhbGljby8=","limit":"1000","range_end":"L2NhbGljbzA=","revision":"42"})");
  // The whole key space: from "\0" to "\0".
  EXPECT_EQ(Range("", true, 0, 0).dump(), R"({"key":"AA==","range_end":"AA=="})");
}

TEST(EtcdGatewayJsonTest, TxnBodiesHaveCalicosCompareShapes) {
  // Create: version == 0 (the key does not exist), else read it.
  EXPECT_EQ(Txn(etcdtxn::PlanWrites({TxnOp::Create("/k", "v")})).dump(),
            R"({"compare":[{"key":"L2s=","result":"EQUAL","target":"VERSION","version":"0"}],)"
            R"("failure":[{"request_range":{"key":"L2s="}}],)"
            R"("success":[{"request_put":{"key":"L2s=","value":"dg=="}}]})");
  // Update: mod_revision == expected, with the lease and prev_kv (for create_revision).
  EXPECT_EQ(Txn(etcdtxn::PlanWrites({TxnOp::Update("/k", "v", 12)}, 7)).dump(),
            R"({"compare":[{"key":"L2s=","mod_revision":"12","result":"EQUAL","target":"MOD"}],)"
            R"("failure":[{"request_range":{"key":"L2s="}}],)"
            R"("success":[{"request_put":{"key":"L2s=","lease":"7","prev_kv":true,)"
            R"("value":"dg=="}}]})");
  // Any revision: version > 0 (the key exists).
  EXPECT_EQ(Txn(etcdtxn::PlanWrites({TxnOp::Delete("/k", 0)})).dump(),
            R"({"compare":[{"key":"L2s=","result":"GREATER","target":"VERSION","version":"0"}],)"
            R"("failure":[{"request_range":{"key":"L2s="}}],)"
            R"("success":[{"request_delete_range":{"key":"L2s=","prev_kv":true}}]})");
  EXPECT_EQ(Txn(etcdtxn::PlanReads({{"/a", false}, {"/p/", true}}, 1000)).dump(),
            R"({"success":[{"request_range":{"key":"L2E="}},)"
            R"({"request_range":{"key":"L3Av","limit":"1000","range_end":"L3Aw"}}]})");
  // IPAM's handle and block (ipam/release.cc WriteBlockAndHandle): one compare and one write each,
  // and a read of each key if a compare fails.
  EXPECT_EQ(
      Txn(etcdtxn::PlanWrites({TxnOp::Create("/h", "1"), TxnOp::Update("/b", "2", 5)})).dump(),
      R"({"compare":[{"key":"L2g=","result":"EQUAL","target":"VERSION","version":"0"},)"
      R"({"key":"L2I=","mod_revision":"5","result":"EQUAL","target":"MOD"}],)"
      R"("failure":[{"request_range":{"key":"L2g="}},{"request_range":{"key":"L2I="}}],)"
      R"("success":[{"request_put":{"key":"L2g=","value":"MQ=="}},)"
      R"({"request_put":{"key":"L2I=","prev_kv":true,"value":"Mg=="}}]})");
  EXPECT_EQ(Put("/k", "v", 0).dump(), R"({"key":"L2s=","prev_kv":true,"value":"dg=="})");
  EXPECT_EQ(DeletePrefix("/p/").dump(), R"({"key":"L3Av","range_end":"L3Aw"})");
}

// What a transaction answered, and which op the failure names.
TEST(EtcdGatewayJsonTest, TxnAnswersDecodeIntoTheBackendResult) {
  const std::vector<TxnOp> ops = {TxnOp::Create("/h", "1"), TxnOp::Update("/b", "2", 5)};
  auto ok = ParseTxn(nlohmann::json::parse(
      R"({"header":{"revision":"9"},"succeeded":true,"responses":[{"response_put":{}},)"
      R"({"response_put":{"prev_kv":{"key":"L2I=","create_revision":"3","mod_revision":"5"}}}]})"));
  ASSERT_TRUE(ok);
  auto written = etcdtxn::WritesResult(ops, *ok);
  ASSERT_TRUE(written);
  EXPECT_EQ((*written)[0], (KVPair{"/h", "1", 9, 9, 0}));
  EXPECT_EQ((*written)[1], (KVPair{"/b", "2", 9, 3, 0}));
  // The compares failed: the ranges show /h absent and /b at revision 6.
  auto failed = ParseTxn(nlohmann::json::parse(
      R"({"header":{"revision":"9"},"responses":[{"response_range":{}},)"
      R"({"response_range":{"kvs":[{"key":"L2I=","value":"Mg==","mod_revision":"6"}]}}]})"));
  ASSERT_TRUE(failed);
  auto conflict = etcdtxn::WritesResult(ops, *failed);
  ASSERT_FALSE(conflict);
  EXPECT_EQ(conflict.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(conflict.error().message(), "update conflict: /b");
  EXPECT_FALSE(ParseTxn(nlohmann::json::parse(R"({"responses":{}})")));
  etcdtxn::Response short_answer;
  short_answer.succeeded = true;
  EXPECT_FALSE(etcdtxn::WritesResult(ops, short_answer));
}

TEST(EtcdGatewayJsonTest, KeyValuesDecodeWithStringRevisions) {
  auto kv = ParseKv(nlohmann::json::parse(
      R"({"key":"L2s=","value":"dg==","mod_revision":"9","create_revision":"3","version":"2"})"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, "/k");
  EXPECT_EQ(kv->value, "v");
  EXPECT_EQ(kv->mod_revision, 9);
  EXPECT_EQ(kv->create_revision, 3);
  // An empty value is omitted by the gateway.
  EXPECT_EQ(ParseKv(nlohmann::json::parse(R"({"key":"L2s="})"))->value, "");
  EXPECT_FALSE(ParseKv(nlohmann::json::parse(R"({"key":"%%"})")));
  EXPECT_FALSE(ParseKv(nlohmann::json::parse(R"({"key":5})")));
  EXPECT_EQ(Int(nlohmann::json::parse(R"({"n":12})"), "n"), 12);
  EXPECT_EQ(Int(nlohmann::json::parse(R"({})"), "n"), 0);
}

TEST(EtcdGatewayJsonTest, ErrorsMapToTheBackendContract) {
  bool elsewhere = true;
  Error auth = GatewayError("put /k", "http://e:2379", 400,
                            R"({"error":"etcdserver: user name is empty","code":3})", &elsewhere);
  EXPECT_EQ(auth.code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(auth.message().find("user name is empty"), std::string::npos);
  EXPECT_NE(auth.message().find("http://e:2379"), std::string::npos);
  EXPECT_FALSE(elsewhere);
  Error compacted =
      GatewayError("list /p", "e", 400,
                   R"({"error":"etcdserver: mvcc: required revision has been compacted",)"
                   R"("code":11})",
                   &elsewhere);
  EXPECT_EQ(compacted.code(), ErrorCode::kConflict);
  Error down = GatewayError("get /k", "e", 503, R"({"error":"etcdserver: no leader","code":14})",
                            &elsewhere);
  EXPECT_EQ(down.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(elsewhere);
  Error garbage = GatewayError("get /k", "e", 502, "<html>bad gateway</html>", &elsewhere);
  EXPECT_EQ(garbage.code(), ErrorCode::kUnavailable);
  EXPECT_NE(garbage.message().find("HTTP 502"), std::string::npos);
  EXPECT_FALSE(elsewhere);
  // etcd 3.4 with auth on refuses the gateway to a certificate with a CommonName (plain text,
  // not JSON): kUnsupported, which the factory's fallback turns into the gRPC client.
  Error refused = GatewayError("authenticate", "https://e:2379", 400,
                               "CommonName of client sending a request against gateway will be "
                               "ignored and not used as expected\n",
                               &elsewhere);
  EXPECT_EQ(refused.code(), ErrorCode::kUnsupported);
  EXPECT_NE(refused.message().find("CALICO_ETCD_CLIENT=grpc"), std::string::npos);
  EXPECT_FALSE(elsewhere);
}

}  // namespace
}  // namespace calico::datastore::etcdhttp::gateway
