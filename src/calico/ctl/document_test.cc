// Tests for calicoctl's document handling: "---" splitting, YAML 1.1 scalar typing
// (sigs.k8s.io/yaml), go-yaml v2 output and Go json.MarshalIndent output (goldens).
#include "calico/ctl/document.h"

#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::ctl {
namespace {

using model::Json;

TEST(DocumentTest, SplitsOnSeparatorLines) {
  auto docs = SplitYamlDocuments("---\na: 1\n---  \n# only a comment\n---\nb: 2\n");
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0], "a: 1\n");
  EXPECT_EQ(docs[1], "b: 2\n");
}

TEST(DocumentTest, ParsesYaml11Scalars) {
  auto v = ParseYaml(
      "a: yes\nb: 'yes'\nc: 12\nd: 1.5\ne: ~\nf: 0x10\ng: \"12\"\nh: foo bar\ni: [1, two]\n");
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, Json::parse(R"j({"a":true,"b":"yes","c":12,"d":1.5,"e":null,"f":16,"g":"12",
                                "h":"foo bar","i":[1,"two"]})j"));
}

TEST(DocumentTest, YamlErrorNamesTheLine) {
  auto v = ParseYaml("a: 1\nb: [1, 2\n");
  ASSERT_FALSE(v.has_value());
  EXPECT_TRUE(v.error().message().rfind("yaml: line ", 0) == 0) << v.error().message();
}

Json SamplePolicy() {
  return Json::parse(R"j({
    "apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
    "metadata": {"name": "allow-web", "namespace": "prod", "uid": "u-1",
                 "resourceVersion": "12", "creationTimestamp": "2026-11-23T23:00:00Z",
                 "labels": {"app": "web", "on": "true"}},
    "spec": {"tier": "default", "order": 100, "selector": "app == 'web' && !has(legacy)",
             "types": ["Ingress"], "ingress": [{"action": "Allow",
               "source": {"selector": "!has(x)", "nets": []},
               "destination": {"ports": [80, "443", "http"]}}],
             "egress": [], "serviceAccountSelector": "", "note": "a: b",
             "multi": "line1\nline2\n", "empty": {}}
  })j");
}

TEST(DocumentTest, GoYamlGolden) {
  Json list = {{"apiVersion", "projectcalico.org/v3"},
               {"kind", "NetworkPolicyList"},
               {"metadata", {{"resourceVersion", "12"}}},
               {"items", Json::array({SamplePolicy()})}};
  calico::testing::ExpectGolden("src/calico/ctl/testdata/document_yaml.golden",
                                EmitGoYaml(SamplePolicy()) + "---\n" + EmitGoYaml(list));
}

TEST(DocumentTest, GoJsonGolden) {
  Json list = {{"apiVersion", "projectcalico.org/v3"},
               {"kind", "NetworkPolicyList"},
               {"metadata", {{"resourceVersion", "12"}}},
               {"items", Json::array({SamplePolicy()})}};
  calico::testing::ExpectGolden("src/calico/ctl/testdata/document_json.golden",
                                EmitGoJson(SamplePolicy()) + "\n---\n" + EmitGoJson(list));
}

TEST(DocumentTest, RoundTripsThroughYaml) {
  auto back = ParseYaml(EmitGoYaml(SamplePolicy()));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(*back, SamplePolicy());
}

}  // namespace
}  // namespace calico::ctl

namespace calico::ctl {
namespace {

TEST(DocumentUtf8Test, InvalidUtf8IsACleanError) {
  auto r = ParseYaml("kind: \xc1\x81\nname: x\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("invalid UTF-8"), std::string::npos);
  EXPECT_TRUE(ParseYaml("name: caf\xc3\xa9\n"));
}

}  // namespace
}  // namespace calico::ctl
