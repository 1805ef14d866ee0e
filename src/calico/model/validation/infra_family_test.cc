// Tests for the infra family (libcalico-go/lib/validator/v3 validator_test.go cases for IPPool,
// BGP, Felix, Node, IPAM and KubeControllers, ported as YAML tables in testdata/infra/, plus
// defaulting).
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "calico/model/validate.h"
#include "calico/model/validation/families.h"
#include "calico/model/validation/infra_schema.h"
#include "calico/model/yaml_codec.h"

namespace calico::model::validation {
namespace {

std::string Render(const FieldErrors& errs) {
  std::string out;
  for (const auto& e : errs.errors())
    out += e.field + " = '" + e.value + "' (" + e.reason + ")\n";
  return out;
}

struct Case {
  std::string name;
  bool valid = true;
  std::string expect;
  Resource resource;
};

std::vector<Case> LoadCases(const std::string& file) {
  auto path = std::filesystem::path(CALICO_SOURCE_DIR) /
              "src/calico/model/validation/testdata/infra" / file;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  // The tables go through the project's YAML codec (YAML 1.1 scalars, as calicoctl reads them).
  auto root = ParseYaml(text.str());
  EXPECT_TRUE(root.has_value()) << path << ": " << root.error().message();
  std::vector<Case> out;
  if (!root || !root->is_array()) return out;
  for (const auto& c : *root) {
    Case tc;
    tc.name = c.value("name", "");
    tc.valid = c.value("valid", false);
    tc.expect = c.value("expect", "");
    Json doc = Json::object();
    doc["apiVersion"] = "projectcalico.org/v3";
    doc["kind"] = c.value("kind", "");
    doc["metadata"] = {{"name", c.value("resourceName", "default")}};
    if (c.contains("spec")) doc["spec"] = c["spec"];
    if (c.contains("status")) doc["status"] = c["status"];
    tc.resource = Resource(std::move(doc));
    out.push_back(std::move(tc));
  }
  return out;
}

class InfraCasesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InfraCasesTest, Table) {
  auto cases = LoadCases(GetParam());
  ASSERT_FALSE(cases.empty());
  for (auto& tc : cases) {
    SCOPED_TRACE(tc.name);
    ASSERT_TRUE(DefaultInfraFamily(tc.resource));
    FieldErrors errs;
    ASSERT_TRUE(ValidateInfraFamily(tc.resource, errs));
    if (tc.valid) {
      EXPECT_TRUE(errs.empty()) << tc.name << "\n" << Render(errs);
    } else {
      EXPECT_FALSE(errs.empty()) << tc.name << " accepted: " << tc.resource.doc().dump();
      if (!tc.expect.empty()) {
        EXPECT_NE(Render(errs).find(tc.expect), std::string::npos)
            << tc.name << " wanted '" << tc.expect << "' got:\n"
            << Render(errs);
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Tables, InfraCasesTest,
                         ::testing::Values("ippool.yaml", "bgp.yaml", "felix.yaml", "misc.yaml"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           return n.substr(0, n.find('.'));
                         });

TEST(InfraFamilyTest, NotInFamily) {
  Resource r("GlobalNetworkPolicy", "x");
  FieldErrors errs;
  EXPECT_FALSE(DefaultInfraFamily(r));
  EXPECT_FALSE(ValidateInfraFamily(r, errs));
  EXPECT_TRUE(errs.empty());
}

TEST(InfraFamilyTest, IPPoolDefaultsV4) {
  Resource r(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
    "metadata":{"name":"p"},"spec":{"cidr":"10.1.0.0/16"}})js"));
  ASSERT_TRUE(DefaultInfraFamily(r));
  const Json want = Json::parse(R"js({"cidr":"10.1.0.0/16","blockSize":26,"ipipMode":"Never",
    "vxlanMode":"Never","nodeSelector":"all()","allowedUses":["Workload","Tunnel"],
    "assignmentMode":"Automatic"})js");
  EXPECT_EQ(r.spec(), want);
}

TEST(InfraFamilyTest, IPPoolDefaultsV6NormalisesCidr) {
  Resource r(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
    "metadata":{"name":"p"},"spec":{"cidr":"FD00:0:0:0::/64","nodeSelector":"has(x)",
    "ipipMode":"Never","vxlanMode":"Always"}})js"));
  ASSERT_TRUE(DefaultInfraFamily(r));
  EXPECT_EQ(r.spec()["cidr"], "fd00::/64");
  EXPECT_EQ(r.spec()["blockSize"], 122);
  EXPECT_EQ(r.spec()["nodeSelector"], "has(x)");
  EXPECT_EQ(r.spec()["vxlanMode"], "Always");
}

TEST(InfraFamilyTest, IPPoolErrorPathsAndReasons) {
  // An unusable CIDR stops clientv3 before the validator: reported alone.
  Resource unstrict(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
    "metadata":{"name":"p"},"spec":{"cidr":"10.0.0.1/8","blockSize":40}})js"));
  ASSERT_TRUE(DefaultInfraFamily(unstrict));
  FieldErrors errs;
  ASSERT_TRUE(ValidateInfraFamily(unstrict, errs));
  // clientv3/ippool.go validateAndSetDefaults quotes the CIDR after normalizing it (masked).
  EXPECT_EQ(Render(errs), "spec.cidr = '10.0.0.0/8' (IPPool CIDR is not strictly masked)\n");

  Resource r(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
    "metadata":{"name":"p"},"spec":{"cidr":"10.0.0.0/8","blockSize":40,"bogus":1}})js"));
  ASSERT_TRUE(DefaultInfraFamily(r));
  FieldErrors errs2;
  ASSERT_TRUE(ValidateInfraFamily(r, errs2));
  EXPECT_EQ(
      Render(errs2),
      "spec.bogus = '1' (unknown field)\n"
      "spec = '' (blockSize must be between 20 and 32 for IPv4 pools, and between 116 and 128 "
      "for IPv6 pools)\n");
}

TEST(InfraFamilyTest, SchemaDefaultsFillIPAMAndBGP) {
  Resource r(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPAMConfiguration",
    "metadata":{"name":"default"},"spec":{}})js"));
  ASSERT_TRUE(DefaultInfraFamily(r));
  EXPECT_EQ(r.spec()["strictAffinity"], false);
  EXPECT_EQ(r.spec()["autoAllocateBlocks"], true);
  EXPECT_EQ(r.spec()["maxBlocksPerHost"], 0);
}

TEST(GoDurationTest, ParseAndFormat) {
  EXPECT_EQ(ParseGoDuration("90s"), 90'000'000'000);
  EXPECT_EQ(ParseGoDuration("1m30s"), 90'000'000'000);
  EXPECT_EQ(ParseGoDuration("1.5h"), 5'400'000'000'000);
  EXPECT_EQ(ParseGoDuration("0"), 0);
  EXPECT_EQ(ParseGoDuration("-1s"), -1'000'000'000);
  EXPECT_FALSE(ParseGoDuration(""));
  EXPECT_FALSE(ParseGoDuration("10"));
  EXPECT_FALSE(ParseGoDuration("abc"));
  EXPECT_FALSE(ParseGoDuration("5 m"));
  EXPECT_EQ(FormatGoDuration(300'000'000'000), "5m0s");
  EXPECT_EQ(FormatGoDuration(0), "0s");
  EXPECT_EQ(FormatGoDuration(200'000'000'000), "3m20s");
  EXPECT_EQ(FormatGoDuration(1'500'000'000), "1.5s");
  EXPECT_EQ(FormatGoDuration(100'000'000), "100ms");
  EXPECT_EQ(FormatGoDuration(3'600'000'000'000), "1h0m0s");
}

// Through the public entry point (envelope + family), as calicoctl create runs it.
TEST(InfraFamilyTest, ApplyDefaultsAndValidateEndToEnd) {
  Resource ok(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"IPPool",
    "metadata":{"name":"pool1"},"spec":{"cidr":"192.168.0.0/16","natOutgoing":true}})js"));
  Status st = ApplyDefaultsAndValidate(ok);
  EXPECT_TRUE(st.has_value()) << st.error().message();
  EXPECT_EQ(ok.spec()["blockSize"], 26);

  Resource bad(Json::parse(R"js({"apiVersion":"projectcalico.org/v3","kind":"BGPPeer",
    "metadata":{"name":"peer1"},"spec":{"peerIP":"10.0.0.1","peerSelector":"all()"}})js"));
  st = ApplyDefaultsAndValidate(bad);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("peerIP and peerSelector cannot both be set"),
            std::string::npos)
      << st.error().message();

  Resource unknown(Json::parse(R"js({"apiVersion":"projectcalico.org/v3",
    "kind":"FelixConfiguration","metadata":{"name":"default"},"spec":{"bogusField":true}})js"));
  st = ApplyDefaultsAndValidate(unknown);
  ASSERT_FALSE(st.has_value());
  EXPECT_NE(st.error().message().find("field in document is not recognized"), std::string::npos)
      << st.error().message();
}

}  // namespace
}  // namespace calico::model::validation
