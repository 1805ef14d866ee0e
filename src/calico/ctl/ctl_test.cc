// In-process tests of the calicoctl commands (calicoctl/calicoctl/commands behaviour): messages,
// exit codes, namespace rules, partial failures, get output formats, patch, label, version and
// --selector, run in-process by the ctl test harness (an in-memory store, captured streams).
#include "calico/ctl/ctl.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"
#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// The harness (testing/ctl_fixture.h): command lines against an in-memory store.
class CtlTest : public testing::CtlFixture {};

constexpr const char* kPool = R"j(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 10.1.0.0/16
  nodeSelector: all()
)j";

constexpr const char* kTwoPools = R"j(apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool2
spec:
  cidr: 10.2.0.0/16
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool1
spec:
  cidr: 10.1.0.0/16
)j";

TEST_F(CtlTest, CreateThenCreateAgain) {
  auto r = Run({"create", "-f", "-"}, kPool);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully created 1 'IPPool' resource(s)\n");
  r = Run({"create", "-f", "-"}, kPool);
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("failed to create 'IPPool' resource: ["));
  r = Run({"create", "--skip-exists", "-f", "-"}, kPool);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully created 1 'IPPool' resource(s)\n");
}

TEST_F(CtlTest, PartialSuccessIsReportedAsCalicoDoes) {
  ASSERT_EQ(Run({"create", "-f", "-"}, kPool).code, 0);
  // pool2 is created, pool1 exists: Go prints "Partial success" only when handled > errors.
  auto r = Run({"create", "-f", "-"}, kTwoPools);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, StartsWith("hit error: ["));
  r = Run({"apply", "-f", "-"}, kTwoPools);
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully applied 2 'IPPool' resource(s)\n");
}

TEST_F(CtlTest, BadInputWritesNothing) {
  auto r = Run({"create", "-f", "-"}, "apiVersion: projectcalico.org/v3\nkind: Bogus\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: unknown resource type (Bogus) and/or version "
            "(projectcalico.org/v3)\n");
  r = Run({"create", "-f", "-"}, "a: [1, 2\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("failed to execute command: yaml: line "));
  r = Run({"create", "-f", "-"}, "");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "no resources specified in file -\n");
  r = Run({"create", "-f", "/nonexistent/x.yaml"});
  EXPECT_EQ(r.err,
            "failed to execute command: open /nonexistent/x.yaml: no such file or directory\n");
  r = Run({"create", "-f", "-"},
          "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nbogus: 1\n");
  EXPECT_EQ(r.err,
            "failed to execute command: field in document is not recognized or is in the wrong "
            "location: bogus\n");
  r = Run({"get", "ippools", "-o", "yaml"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("items: []"));
}

TEST_F(CtlTest, NamespaceRules) {
  const std::string np =
      "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata:\n  name: np1\n"
      "  namespace: prod\nspec:\n  selector: all()\n";
  auto r = Run({"create", "-n", "dev", "-f", "-"}, np);
  EXPECT_EQ(r.err,
            "failed to create 'NetworkPolicy' resource: [resource namespace does not match "
            "client namespace. prod != dev]\n");
  r = Run({"get", "ippools", "-n", "x"});
  EXPECT_EQ(r.err, "IPPool is not namespaced\n");
  r = Run({"get", "networkpolicy", "x", "-A"});
  EXPECT_EQ(r.err, "cannot use --all-namespace flag for getting a single resource\n");
  r = Run({"get", "networkpolicies", "-A", "-n", "x"});
  EXPECT_EQ(r.err, "cannot use both --namespace and --all-namespaces flags at the same time\n");
  r = Run({"get", "bogus"});
  EXPECT_EQ(r.err, "failed to get resources: resource type 'bogus' is not supported\n");
}

TEST_F(CtlTest, GetFormatsAndDelete) {
  ASSERT_EQ(Run({"create", "-f", "-"}, kTwoPools).code, 0);
  auto r = Run({"get", "ippools"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "NAME    CIDR          SELECTOR   \n"
            "pool1   10.1.0.0/16   all()      \n"
            "pool2   10.2.0.0/16   all()      \n\n");
  r = Run({"get", "ippool", "pool1", "-o", "custom-columns=NAME,CIDR"});
  EXPECT_EQ(r.out, "NAME    CIDR          \npool1   10.1.0.0/16   \n\n");
  r = Run({"get", "ippool", "pool1", "-o", "yaml", "--export"});
  EXPECT_THAT(r.out, StartsWith("apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata:\n"
                                "  creationTimestamp: null\n  name: pool1\nspec:\n"));
  r = Run({"get", "ippool", "pool1", "-o", "json"});
  EXPECT_THAT(r.out, StartsWith("{\n  \"kind\": \"IPPool\",\n  \"apiVersion\": "));
  r = Run({"get", "ippools", "-o", "json"});
  EXPECT_THAT(r.out, StartsWith("{\n  \"kind\": \"IPPoolList\",\n"));
  r = Run({"get", "ippool", "nope"});
  EXPECT_EQ(r.code, 1);
  r = Run({"delete", "ippool", "pool1", "pool2"});
  EXPECT_EQ(r.out, "Successfully deleted 2 'IPPool' resource(s)\n");
  r = Run({"delete", "ippool", "pool1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("Failed to delete 'IPPool' resource: "));
  r = Run({"delete", "ippool", "pool1", "--skip-not-exists"});
  EXPECT_EQ(r.out, "Successfully deleted 1 'IPPool' resource(s)\n");
}

TEST_F(CtlTest, PatchLabelAndSelector) {
  ASSERT_EQ(Run({"create", "-f", "-"}, kTwoPools).code, 0);
  auto r = Run({"patch", "ippool", "pool1", "-p", R"j({"spec":{"disabled":true}})j"});
  EXPECT_EQ(r.out, "Successfully patched 1 'IPPool' resource\n") << r.err;
  r = Run({"get", "ippool", "pool1", "-o", "wide"});
  EXPECT_THAT(r.out, HasSubstr("   true   "));
  r = Run({"label", "ippool", "pool1", "team=a"});
  EXPECT_EQ(r.out, "Successfully set label team on ippool pool1\n") << r.err;
  r = Run({"label", "ippool", "pool1", "team=b"});
  EXPECT_EQ(r.err,
            "failed to update label of ippool pool1, key team is already present. please use "
            "'--overwrite' to set a new value\n");
  r = Run({"label", "ippool", "pool1", "team=b", "--overwrite"});
  EXPECT_EQ(r.out, "Successfully updated label team on ippool pool1\n");
  r = Run({"get", "ippools", "--selector", "team == 'b'", "-o", "custom-columns=NAME"});
  EXPECT_EQ(r.out, "NAME    \npool1   \n\n");
  r = Run({"get", "ippools", "-S", "team == ("});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("invalid --selector \"team == (\": "));
  r = Run({"label", "ippool", "pool1", "team", "--remove"});
  EXPECT_EQ(r.out, "Successfully removed label team from ippool pool1\n");
  r = Run({"label", "ippool", "pool1", "team", "--remove"});
  EXPECT_EQ(r.err, "cannot remove label of ippool pool1, key team does not exist\n");
}

TEST_F(CtlTest, VersionValidateAndDispatch) {
  auto r = Run({"version", "--client"});
  EXPECT_EQ(r.out, "Client Version:    v3.31.0\nGit commit:        0123abc\n");
  r = Run({"validate", "-f", "-"}, kPool);
  EXPECT_EQ(r.out, "Successfully validated 1 'IPPool' resource(s)\n") << r.err;
  r = Run({"frobnicate"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, StartsWith("unknown command \"frobnicate\" for \"calicoctl\""));
  registry_.Register("ipam show", "Show IPAM", [](std::span<const std::string> a, Context& c) {
    c.out << "ipam show " << a.size() << "\n";
    return 0;
  });
  r = Run({"-l", "debug", "ipam", "show", "--show-blocks"});
  EXPECT_EQ(r.out, "ipam show 3\n");  // --show-blocks plus the moved global flag and its value.
}

// A datastore that cannot be opened is named, and nothing is done (every resource command).
TEST_F(CtlTest, UnreachableDatastoreIsNamed) {
  FailDatastore("etcd unreachable within 10000 ms");
  for (std::vector<std::string> args : {std::vector<std::string>{"get", "ippools"},
                                        {"apply", "-f", "-"},
                                        {"delete", "ippool", "p"},
                                        {"label", "ippool", "p", "a=b"},
                                        {"patch", "ippool", "p", "-p", "{}"}}) {
    auto r = Run(args, kPool);
    EXPECT_EQ(r.code, 1) << args[0];
    EXPECT_EQ(r.out, "Failed to create Calico API client: etcd unreachable within 10000 ms\n")
        << args[0];
  }
  EXPECT_EQ(Run({"validate", "-f", "-"}, kPool).code, 0) << "validate needs no datastore";
}

// A transcript of commands whose output calicoctl itself determines (messages, tables, YAML and
// JSON of resources without server defaults), compared with testdata/commands.golden.
TEST_F(CtlTest, TranscriptGolden) {
  const std::string gns = R"j(apiVersion: projectcalico.org/v3
kind: GlobalNetworkSetList
items:
- metadata:
    name: blocked
    labels: {role: blocked, zone: a}
  spec:
    nets: [198.51.100.0/24, 203.0.113.0/24]
- metadata: {name: trusted, labels: {role: trusted}}
  spec:
    nets: [192.0.2.0/24]
)j";
  std::string transcript;
  auto step = [&](std::vector<std::string> args, const std::string& in = "") {
    auto r = Run(args, in);
    transcript += "$ calicoctl";
    for (const auto& a : args)
      transcript += " " + a;
    transcript += fmt::format("\n[exit {}]\n", r.code);
    transcript += r.out;
    if (!r.err.empty()) transcript += "[stderr]\n" + r.err;
    transcript += "\n";
  };
  step({"create", "-f", "-"}, gns);
  step({"apply", "-f", "-"}, gns);
  step({"replace", "-f", "-"}, gns);
  step({"get", "globalnetworksets"});
  step({"get", "gnetsets", "-o", "wide"});
  step({"get", "globalnetworkset", "blocked", "trusted", "-o", "custom-columns=NETS,NAME"});
  step({"get", "globalnetworkset", "blocked", "-o", "yaml", "--export"});
  step({"get", "globalnetworkset", "blocked", "-o", "json", "--export"});
  step({"get", "globalnetworkset", "blocked", "trusted", "-o", "yml", "--export"});
  step({"get", "globalnetworksets", "--selector", "role == 'blocked'", "-o", "wide"});
  step({"get", "globalnetworksets", "-o", "custom-columns=NAME,BOGUS"});
  step({"get", "globalnetworksets", "-o", "xml"});
  step({"patch", "globalnetworkset", "trusted", "-p", R"j({"spec":{"nets":["192.0.2.1/32"]}})j"});
  step({"label", "globalnetworkset", "trusted", "zone=b"});
  step({"label", "globalnetworkset", "trusted", "zone"});
  step({"get", "gnetsets", "-o", "wide"});
  step({"delete", "-f", "-"}, gns);
  step({"delete", "globalnetworkset", "a", "--skip-not-exists"});
  step({"validate", "-f", "-"}, gns);
  step({"create", "-f", "-", "--skip-empty"}, "# nothing\n");
  step({"create"});
  step({"get", "globalnetworksets", "--bogus"});
  step({"version", "--client"});
  calico::testing::ExpectGolden("src/calico/ctl/testdata/commands.golden", transcript);
}

// A datastore written by a newer calico-cpp whose data this calicoctl cannot read (its schema
// record asks for a newer reader, datastore/schema.h) is not written into: exit 1, the record's
// message, nothing created. Other initialisation problems stay log-only, as upstream.
TEST_F(CtlTest, CreateRefusesADatastoreOfANewerSchema) {
  ASSERT_TRUE(backend_.Put("/calico/calico-cpp/schema",
                           R"({"schema":9,"minReaderSchema":9,"writtenBy":"calico-cpp 9.0.0"})",
                           std::chrono::seconds(0)));
  testing::CommandOutcome o = Run({"apply", "-f", "-"}, kPool);
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.out + o.err, HasSubstr("written by calico-cpp 9.0.0"));
  EXPECT_THAT(o.out + o.err, HasSubstr("a downgrade cannot read this datastore"));
  EXPECT_TRUE(backend_.List("/calico/resources/")->kvs.empty());
}

}  // namespace
}  // namespace calico::ctl
