// The (Global)NetworkPolicy fast path (model/v3/stored_policy.h) against the reference path it
// stands in for (DecodeStoredResource, model::Validate, Decode(Global)NetworkPolicy, as the
// agent's DecodeValue runs them): whatever the fast path returns, the reference path accepts and
// decodes to the same struct, on what the client stores, on valid values left to the reference
// path, on invalid ones, and on many mutations of each. It lives here because the reference path
// starts in datastore (the name annotation).
#include "calico/model/v3/stored_policy.h"

#include <random>

#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/keys.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/model/testing/mutate.h"
#include "calico/model/validate.h"

namespace calico::model::v3 {
namespace {

using model::Json;

constexpr int64_t kRevision = 42;
constexpr std::string_view kGnpKey =
    "/calico/resources/v3/projectcalico.org/globalnetworkpolicies/x";
constexpr std::string_view kNpKey = "/calico/resources/v3/projectcalico.org/networkpolicies/ns1/x";

// The reference path; nullopt where it refuses the value (a skip in the agent).
template <typename Policy>
std::optional<Policy> Reference(std::string_view key, std::string_view value) {
  try {
    auto r = datastore::DecodeStoredResource(key, value, kRevision);
    if (!r || !Validate(*r)) return std::nullopt;
    if constexpr (std::is_same_v<Policy, GlobalNetworkPolicy>) {
      if (r->kind() != "GlobalNetworkPolicy") return std::nullopt;
      auto p = DecodeGlobalNetworkPolicy(*r);
      return p ? std::optional<Policy>(*p) : std::nullopt;
    } else {
      if (r->kind() != "NetworkPolicy") return std::nullopt;
      auto p = DecodeNetworkPolicy(*r);
      return p ? std::optional<Policy>(*p) : std::nullopt;
    }
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::optional<GlobalNetworkPolicy> RefGnp(std::string_view v) {
  return Reference<GlobalNetworkPolicy>(kGnpKey, v);
}
std::optional<NetworkPolicy> RefNp(std::string_view v) {
  return Reference<NetworkPolicy>(kNpKey, v);
}
std::optional<GlobalNetworkPolicy> FastGnp(std::string_view v) {
  return ReadValidStoredGlobalNetworkPolicy(v, kRevision);
}
std::optional<NetworkPolicy> FastNp(std::string_view v) {
  return ReadValidStoredNetworkPolicy(v, kRevision);
}

// What the client stores for `r` (defaults applied, the name annotation added).
std::string StoredValue(model::Resource r) {
  datastore::MemBackend backend;
  datastore::Client client(backend);
  EXPECT_TRUE(client.EnsureInitialized());
  model::Resource tier("Tier", "sec");
  tier.spec() = Json{{"order", 10}};
  EXPECT_TRUE(client.Create(tier));
  auto made = client.Create(std::move(r));
  EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message());
  auto list = backend.List("/calico/resources/v3/projectcalico.org/");
  EXPECT_TRUE(list.has_value());
  for (const auto& kv : list->kvs) {
    if (kv.key.find("networkpolicies/") != std::string::npos) return kv.value;
  }
  ADD_FAILURE() << "no policy stored";
  return "";
}

// The bench's policy (apps/calico-bench policy_apply.cc BenchPolicy).
std::string BenchGnp() {
  model::Resource p("GlobalNetworkPolicy", "p00007");
  p.spec() = Json{
      {"order", 7},
      {"selector", "app == 'app-7'"},
      {"ingress",
       Json::array({{{"action", "Allow"},
                     {"protocol", "TCP"},
                     {"source", {{"selector", "app == 'app-8'"}}},
                     {"destination", {{"ports", Json::array({1007})}}}},
                    {{"action", "Deny"}, {"source", {{"nets", Json::array({"192.0.2.0/24"})}}}}})},
      {"egress", Json::array({{{"action", "Allow"}}})}};
  return StoredValue(p);
}

// Most of what the fast path reads, in a tier.
std::string RichGnp() {
  model::Resource p("GlobalNetworkPolicy", "sec.allow-dns");
  p.metadata()["labels"] = {{"team", "net"}};
  p.metadata()["annotations"] = {{"example.com/owner", "ops"}};
  p.spec() = Json{
      {"tier", "sec"},
      {"order", -5},
      {"selector", "all()"},
      {"namespaceSelector", "has(projectcalico.org/name)"},
      {"serviceAccountSelector", ""},
      {"applyOnForward", true},
      {"preDNAT", false},
      {"types", Json::array({"Egress", "Ingress"})},
      {"ingress",
       Json::array({{{"action", "Pass"},
                     {"ipVersion", 6},
                     {"protocol", 58},
                     {"source", {{"notNets", Json::array({"fd00::/8"})}}}},
                    {{"action", "Log"},
                     {"protocol", "UDP"},
                     {"destination",
                      {{"ports", Json::array({"1000:2000", "dns", 53})},
                       {"notPorts", Json::array({1500})},
                       {"notSelector", "x in {'a', 'b'}"},
                       {"namespaceSelector", "kubernetes.io/metadata.name == 'kube-system'"}}}}})},
      {"egress", Json::array({{{"action", "Allow"},
                               {"destination", {{"ports", Json::array({"http"})}}},
                               {"source", {{"nets", Json::array({"10.0.0.0/8"})}}}}})}};
  return StoredValue(p);
}

std::string Np() {
  model::Resource p("NetworkPolicy", "knp.default.web", "ns1");
  p.spec() = Json{{"order", 100},
                  {"selector", "app == 'web'"},
                  {"serviceAccountSelector", "role == 'x'"},
                  {"ingress", Json::array({{{"action", "Allow"},
                                            {"protocol", "SCTP"},
                                            {"destination", {{"ports", Json::array({9})}}}}})}};
  return StoredValue(p);
}

TEST(StoredPolicyTest, ReadsWhatTheClientStoresAsTheReferencePathDoes) {
  for (const std::string& v : {BenchGnp(), RichGnp()}) {
    auto fast = FastGnp(v);
    ASSERT_TRUE(fast.has_value()) << v;
    auto ref = RefGnp(v);
    ASSERT_TRUE(ref.has_value()) << v;
    EXPECT_EQ(*fast, *ref) << v;
    // Whitespace as a pretty-printer leaves it changes nothing.
    auto pretty = FastGnp(Json::parse(v).dump(2));
    ASSERT_TRUE(pretty.has_value());
    EXPECT_EQ(*pretty, *ref);
  }
  auto bench = FastGnp(BenchGnp());
  EXPECT_EQ(bench->metadata.name, "p00007");
  EXPECT_EQ(bench->metadata.resource_version, "42");
  EXPECT_TRUE(bench->metadata.annotations.empty());  // the name annotation is removed
  EXPECT_EQ(bench->spec.order, 7.0);
  ASSERT_EQ(bench->spec.ingress.size(), 2u);
  EXPECT_EQ(bench->spec.ingress[0].destination.ports, std::vector<Port>{Port::Num(1007)});
  auto rich = FastGnp(RichGnp());
  EXPECT_EQ(rich->metadata.name, "sec.allow-dns");
  EXPECT_EQ(rich->spec.order, -5.0);
  EXPECT_TRUE(rich->spec.apply_on_forward);
  const std::string np = Np();
  auto fast = FastNp(np);
  ASSERT_TRUE(fast.has_value()) << np;
  auto ref = RefNp(np);
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*fast, *ref);
  EXPECT_EQ(fast->metadata.namespace_, "ns1");
  EXPECT_EQ(fast->metadata.name, "knp.default.web");
  // One kind is not read as the other.
  EXPECT_FALSE(FastNp(BenchGnp()).has_value());
  EXPECT_FALSE(FastGnp(np).has_value());
}

std::string With(std::string_view base, std::string_view from, std::string_view to) {
  std::string s(base);
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from << " in " << base;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(StoredPolicyTest, InvalidValuesAreLeftToTheReferencePath) {
  const std::string b = BenchGnp();
  const std::string r = RichGnp();
  // Each refused by model::Validate or the decoder: the fast path must not take it.
  const std::vector<std::string> invalid = {
      With(b, R"(\"name\":\"p00007\")", R"(\"name\":\"P7\")"),
      With(b, R"(\"name\":\"p00007\")", R"(\"name\":\"a.b.c\")"),
      With(b, R"(\"name\":\"p00007\")", R"(\"name\":\"\")"),
      With(b, R"("order":7)", R"("order":"7")"),
      With(b, R"("tier":"default")", R"("tier":"Default")"),
      With(b, R"("tier":"default")", R"("tier":"")"),
      With(b, R"("selector":"app == 'app-7'")", R"("selector":"app ==")"),
      With(b, R"("selector":"app == 'app-7'")", R"j("selector":"global()")j"),
      With(b, R"("action":"Deny")", R"("action":"deny")"),
      With(b, R"({"action":"Deny",)", R"({)"),
      With(b, R"("protocol":"TCP")", R"("protocol":"tcp")"),
      With(b, R"("protocol":"TCP")", R"("protocol":0)"),
      With(b, R"("protocol":"TCP")", R"("protocol":"ICMP")"),  // with ports
      With(b, R"(,"protocol":"TCP")", ""),                     // numeric ports need one
      With(b, R"([1007])", R"([0])"),
      With(b, R"([1007])", R"(["2000:1000"])"),
      With(b, R"([1007])", R"(["HTTP"])"),
      With(b, R"("192.0.2.0/24")", R"("192.0.2.1/24")"),
      With(b, R"("192.0.2.0/24")", R"("192.0.2.0")"),
      With(b, R"("192.0.2.0/24")", R"("192.0.2.0/24","fd00::/8")"),
      With(b, R"("nets":["192.0.2.0/24"])", R"("notNets":["0.0.0.0/0"])"),
      With(b, R"({"action":"Deny",)", R"({"action":"Deny","ipVersion":6,)"),
      With(b, R"({"action":"Deny",)", R"({"action":"Deny","ipVersion":5,)"),
      With(b, R"("types":["Ingress","Egress"])", R"("types":["Ingress","Ingress"])"),
      With(b, R"("types":["Ingress","Egress"])", R"("types":["ingress"])"),
      With(b, R"("kind":"GlobalNetworkPolicy")", R"("kind":"NetworkPolicy")"),
      With(b, R"("apiVersion":"projectcalico.org/v3")", R"("apiVersion":"v1")"),
      With(b, R"("order":7)", R"("order":7,"bogus":1)"),
      With(b, R"("metadata":{)", R"("metadata":{"namespace":"ns1",)"),
      With(r, R"("preDNAT":false)", R"("preDNAT":1)"),
      With(r, R"("applyOnForward":true)", R"("applyOnForward":"true")"),
      With(r, R"j("namespaceSelector":"has(projectcalico.org/name)")j",
           R"j("namespaceSelector":"has(")j"),
      With(r, R"("ipVersion":6)", R"("ipVersion":4)"),
      With(r, R"("dns")", R"("dns-")"),
      std::string(b) + "x",
      std::string(b.substr(0, b.size() - 1)),
      "[]",
      "",
  };
  for (size_t i = 0; i < invalid.size(); ++i) {
    const std::string& v = invalid[i];
    EXPECT_FALSE(RefGnp(v).has_value()) << "the reference path accepts #" << i << ": " << v;
    EXPECT_FALSE(FastGnp(v).has_value()) << "#" << i << ": " << v;
  }
  const std::string np = Np();
  for (const std::string& v : {With(np, R"("namespace":"ns1")", R"("namespace":"NS1")"),
                               With(np, R"("order":100)", R"("order":100,"preDNAT":false)"),
                               With(np, R"(\"knp.default.web\")", R"(\"kn.default.web\")")}) {
    EXPECT_FALSE(RefNp(v).has_value()) << "the reference path accepts " << v;
    EXPECT_FALSE(FastNp(v).has_value()) << v;
  }
}

TEST(StoredPolicyTest, ValidValuesOfOtherShapesAreLeftToTheReferencePath) {
  const std::string b = BenchGnp();
  const std::vector<std::string> other = {
      With(b, R"("order":7)", R"("order":7.5)"),                 // a float
      With(b, R"("action":"Deny")", R"("action":"D\u0065ny")"),  // an escape
      With(b, R"({"action":"Deny",)", R"({"action":"Deny","icmp":{"type":8},"protocol":"ICMP",)"),
      With(b, R"({"action":"Deny",)", R"({"action":"Deny","notProtocol":"UDP",)"),
      With(b, R"([1007])", R"(["1007"])"),  // a number as text
      With(b, R"("selector":"app == 'app-7'")",
           R"("selector":"app == 'app-7'","performanceHints":["AssumeNeededOnEveryNode"])"),
      With(b, R"("order":7)", R"("order":7,"doNotTrack":true,"applyOnForward":true)"),
      With(b, R"(\"name\":\"p00007\"})", R"(\"name\": \"p00007\"})"),   // the annotation spaced
      With(b, R"("order":7)", R"("order":7,"order":8)"),                // a repeated key
      With(b, R"("selector":"app == 'app-7'")", R"("selector":null)"),  // a null
  };
  for (const std::string& v : other) {
    EXPECT_FALSE(FastGnp(v).has_value()) << v;
  }
  // These are valid: the agent still reads them, through the reference path.
  for (size_t i : {0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 9u}) {
    EXPECT_TRUE(RefGnp(other[i]).has_value()) << other[i];
  }
  // Without the annotation the stored name loses a "default." prefix, as on the reference path.
  std::string bare = b;
  const size_t at = bare.find(R"("annotations")");
  ASSERT_NE(at, std::string::npos);
  bare = With(bare, R"("name":"p00007")", R"("name":"default.p00007")");
  Json doc = Json::parse(bare);
  doc["metadata"].erase("annotations");
  auto fast = FastGnp(doc.dump());
  ASSERT_TRUE(fast.has_value()) << doc.dump();
  EXPECT_EQ(fast->metadata.name, "p00007");
  EXPECT_EQ(*fast, *RefGnp(doc.dump()));
}

// Random edits of valid values (a byte replaced, removed or inserted, from the characters that
// matter to JSON, selectors, ports, nets and the validators): the fast path never takes what the
// reference path refuses, and what both take decodes the same.
TEST(StoredPolicyTest, MutationsNeverWidenWhatIsAccepted) {
  const std::string alphabet = "\"{}[],: \\.-_/0123456789aAzZ\x7f\x01\xc3'=!()&|";
  std::mt19937 rng(20);
  int accepted = 0;
  for (const std::string& base : {BenchGnp(), RichGnp()}) {
    ASSERT_NO_FATAL_FAILURE(model::testing::ExpectMutationsAgree(base, 4000, rng, alphabet, FastGnp,
                                                                 RefGnp, &accepted));
  }
  ASSERT_NO_FATAL_FAILURE(
      model::testing::ExpectMutationsAgree(Np(), 4000, rng, alphabet, FastNp, RefNp, &accepted));
  EXPECT_GT(accepted, 300);  // The edits also hit places where the value stays valid.
}

}  // namespace
}  // namespace calico::model::v3
