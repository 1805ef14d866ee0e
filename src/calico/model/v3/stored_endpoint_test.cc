// The WorkloadEndpoint fast path against the reference path it stands in for (the stored value
// parsed into a JSON tree, resourceVersion set from the revision as
// datastore::DecodeStoredResource does, model::Validate, DecodeWorkloadEndpoint): whatever the
// fast path returns, the reference path accepts and decodes to the same struct, on the shapes
// Calico writes, on valid values it leaves to the reference path, on invalid ones, and on many
// mutations of each.
#include "calico/model/v3/stored_endpoint.h"

#include <random>

#include <gtest/gtest.h>

#include "calico/model/json_codec.h"
#include "calico/model/testing/mutate.h"
#include "calico/model/validate.h"

namespace calico::model::v3 {
namespace {

constexpr int64_t kRevision = 42;

// The reference path; nullopt where it refuses the value (a skip in the agent).
std::optional<WorkloadEndpoint> Reference(std::string_view value) {
  auto parsed =
      ParseStoredJson("/calico/resources/v3/projectcalico.org/workloadendpoints/x/y", value);
  if (!parsed || !parsed->is_object()) return std::nullopt;
  try {
    Resource r(std::move(*parsed));
    r.set_resource_version(std::to_string(kRevision));
    if (!Validate(r)) return std::nullopt;
    auto wep = DecodeWorkloadEndpoint(r);
    if (!wep) return std::nullopt;
    return *wep;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// What calico-cni and the bench write (the client's stored form, keys sorted).
constexpr std::string_view kCni =
    R"({"apiVersion":"projectcalico.org/v3","kind":"WorkloadEndpoint","metadata":{)"
    R"("annotations":{"cni.projectcalico.org/containerID":"abc"},)"
    R"("creationTimestamp":"2026-12-07T10:00:00Z","labels":{"app":"web",)"
    R"("projectcalico.org/namespace":"default","projectcalico.org/orchestrator":"k8s"},)"
    R"("name":"node--1-k8s-pod--a-eth0","namespace":"default","uid":"1f0e-22"},)"
    R"("spec":{"containerID":"0123abcd","endpoint":"eth0","interfaceName":"cali0123abcd",)"
    R"("ipNetworks":["10.65.0.1/32","fd00::1/128"],"mac":"ee:ee:ee:ee:ee:ee","node":"node-1",)"
    R"("orchestrator":"k8s","pod":"pod-a","ports":[{"name":"http","port":80,"protocol":"TCP"},)"
    R"({"name":"dns","port":53,"protocol":"UDP"}],"profiles":["kns.default","ksa.default.default"],)"
    R"("serviceAccountName":"default","workload":""}})";

TEST(StoredWorkloadEndpointTest, ReadsWhatCalicoWritesAsTheReferencePathDoes) {
  auto fast = ReadValidStoredWorkloadEndpoint(kCni, kRevision);
  ASSERT_TRUE(fast.has_value());
  auto ref = Reference(kCni);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*fast, *ref);
  EXPECT_EQ(fast->metadata.name, "node--1-k8s-pod--a-eth0");
  EXPECT_EQ(fast->metadata.resource_version, "42");
  EXPECT_EQ(fast->metadata.labels.at("app"), "web");
  ASSERT_EQ(fast->spec.ports.size(), 2u);
  EXPECT_EQ(fast->spec.ports[1].protocol, NumOrString::Str("UDP"));
  EXPECT_EQ(fast->spec.ports[1].port, 53);
  EXPECT_EQ(fast->spec.ip_networks, (std::vector<std::string>{"10.65.0.1/32", "fd00::1/128"}));
  // Whitespace as a pretty-printer leaves it changes nothing.
  const std::string pretty = Json::parse(kCni).dump(2);
  auto fast_pretty = ReadValidStoredWorkloadEndpoint(pretty, kRevision);
  ASSERT_TRUE(fast_pretty.has_value());
  EXPECT_EQ(*fast_pretty, *ref);
}

std::string With(std::string_view base, std::string_view from, std::string_view to) {
  std::string s(base);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(StoredWorkloadEndpointTest, InvalidValuesAreLeftToTheReferencePath) {
  // Each refused by model::Validate or the decoder: the fast path must not take it.
  const std::vector<std::string> invalid = {
      With(kCni, R"("name":"node--1-k8s-pod--a-eth0")", R"("name":"-bad")"),
      With(kCni, R"("name":"node--1-k8s-pod--a-eth0",)", ""),
      With(kCni, R"("namespace":"default")", R"("namespace":"Default")"),
      With(kCni, R"("app":"web")", R"("app":"-web")"),
      With(kCni, R"("app":"web")", R"("a b":"web")"),
      With(kCni, R"("node":"node-1")", R"("node":"Node_1")"),
      With(kCni, R"("containerID":"0123abcd")", R"("containerID":"01_23")"),
      With(kCni, R"("interfaceName":"cali0123abcd")", R"("interfaceName":"cali0123456789abcdef")"),
      With(kCni, R"("interfaceName":"cali0123abcd",)", ""),
      With(kCni, R"("10.65.0.1/32")", R"("10.65.0.0/24")"),
      With(kCni, R"("10.65.0.1/32")", R"("10.65.0.1/24")"),
      With(kCni, R"("10.65.0.1/32")", R"("10.65.0.300")"),
      With(kCni, R"("mac":"ee:ee:ee:ee:ee:ee")", R"("mac":"ee:ee")"),
      With(kCni, R"("kns.default")", R"("KNS")"),
      With(kCni, R"("name":"http")", R"("name":"HTTP")"),
      With(kCni, R"("port":80)", R"("port":0)"),
      With(kCni, R"("port":80)", R"("port":70000)"),
      With(kCni, R"("protocol":"TCP")", R"("protocol":"ICMP")"),
      With(kCni, R"("protocol":"TCP")", R"("protocol":"tcp")"),
      With(kCni, R"(,"protocol":"TCP")", ""),
      With(kCni, R"("pod":"pod-a")", R"("pod":7)"),
      With(kCni, R"("workload":"")", R"("workload":"","bogus":1)"),
      With(kCni, R"("workload":"")", R"("workload":"","Node":"x")"),
      With(kCni, R"("kind":"WorkloadEndpoint")", R"("kind":"HostEndpoint")"),
      With(kCni, R"("apiVersion":"projectcalico.org/v3")", R"("apiVersion":"v1")"),
      With(kCni, R"("uid":"1f0e-22")", R"("uid":3)"),
      std::string(kCni) + "x",
      std::string(kCni.substr(0, kCni.size() - 1)),
      "[]",
      "",
  };
  for (const std::string& v : invalid) {
    EXPECT_FALSE(Reference(v).has_value()) << "the reference path accepts " << v;
    EXPECT_FALSE(ReadValidStoredWorkloadEndpoint(v, kRevision).has_value()) << v;
  }
}

TEST(StoredWorkloadEndpointTest, ValidValuesOfOtherShapesAreLeftToTheReferencePath) {
  const std::vector<std::string> other = {
      With(kCni, R"("app":"web")", R"("app":"w\u0065b")"),           // an escape
      With(kCni, R"("workload":"")", R"("workload":"caf\u00e9")"),   // non-ASCII
      With(kCni, R"("workload":"")", R"("workload":null)"),          // a null
      With(kCni, R"("port":80)", R"("port":80.0)"),                  // a float
      With(kCni, R"("port":80,)", R"("port":80,"hostPort":8080,)"),  // hostPort
      With(kCni, R"("workload":"")", R"("workload":"","ipv4Gateway":"10.65.0.254")"),
      With(kCni, R"("uid":"1f0e-22")", R"("uid":"1f0e-22","uid":"x")"),  // a repeated key
      With(kCni, R"("apiVersion":"projectcalico.org/v3",)", ""),         // no apiVersion
  };
  for (const std::string& v : other) {
    EXPECT_FALSE(ReadValidStoredWorkloadEndpoint(v, kRevision).has_value()) << v;
  }
  // These are valid: the agent still reads them, through the reference path.
  EXPECT_TRUE(Reference(other[0]).has_value());
  EXPECT_TRUE(Reference(other[1]).has_value());
  EXPECT_TRUE(Reference(other[4]).has_value());
  EXPECT_TRUE(Reference(other[5]).has_value());
}

// Random edits of valid values (a byte replaced, removed or inserted, from the characters that
// matter to JSON and to the validators): the fast path never takes what the reference path
// refuses, and what both take decodes the same.
TEST(StoredWorkloadEndpointTest, MutationsNeverWidenWhatIsAccepted) {
  const std::string bench =
      R"({"apiVersion":"projectcalico.org/v3","kind":"WorkloadEndpoint","metadata":{)"
      R"("creationTimestamp":"2026-12-07T10:00:00Z","labels":{"app":"app-7","tier":"db"},)"
      R"("name":"node--7-cni-0000000007-eth0","namespace":"default","uid":"u-7"},)"
      R"("spec":{"containerID":"00000000007","endpoint":"eth0","interfaceName":"cali00000000007",)"
      R"("ipNetworks":["10.100.0.7/32"],"node":"node-7","orchestrator":"cni",)"
      R"("profiles":["bench"]}})";
  const std::string alphabet = "\"{}[],: \\.-_/0123456789aAzZ\x7f\x01\xc3";
  std::mt19937 rng(20);
  int accepted = 0;
  auto fast = [](const std::string& v) { return ReadValidStoredWorkloadEndpoint(v, kRevision); };
  for (const std::string& base : {std::string(kCni), bench}) {
    ASSERT_NO_FATAL_FAILURE(model::testing::ExpectMutationsAgree(base, 6000, rng, alphabet, fast,
                                                                 Reference, &accepted));
  }
  EXPECT_GT(accepted, 100);  // The edits also hit places where the value stays valid.
}

}  // namespace
}  // namespace calico::model::v3
