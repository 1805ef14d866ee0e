// calicoctl's decoding of -f input, its error precedence, Go duration output and the global
// flags, each against the upstream code it reproduces (cited per test).
#include <cctype>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/ctl/ctl.h"
#include "calico/ctl/ipam_command.h"
#include "calico/ctl/migrate_command.h"
#include "calico/ctl/testing/ctl_fixture.h"

namespace calico::ctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class DecodeTest : public testing::CtlFixture {
 protected:
  void SetUp() override {
    registry_.Register("ipam", "IP address management", RunIpam);
    registry_.Register("datastore migrate", "Migrate", RunDatastoreMigrate);
  }
};

// Go's encoding/json (decode.go object()) matches a key to a struct field by exact name first,
// then case-insensitively, also with DisallowUnknownFields (sigs.k8s.io/yaml UnmarshalStrict in
// calicoctl/calicoctl/resourcemgr/resourcemgr.go unmarshalResource). Stored and printed under
// the canonical names.
TEST_F(DecodeTest, FieldNamesMatchCaseInsensitivelyAndAreStoredCanonically) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
Metadata:
  Name: gnp1
  Labels: {Team: Web}
Spec:
  Order: 10
  Selector: all()
  Types: [Ingress, Egress]
  Ingress:
  - Action: Allow
    Protocol: ICMP
    ICMP: {Type: 8, CODE: 0}
    Source:
      Nets: [10.0.0.0/8]
  Egress:
  - action: Allow
    protocol: TCP
    destination: {ports: [443], NotNets: [192.168.0.0/16]}
)");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Successfully applied 1 'GlobalNetworkPolicy' resource(s)\n");
  r = Run({"get", "globalnetworkpolicy", "gnp1", "-o", "yaml"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("  order: 10\n"));
  EXPECT_THAT(r.out, HasSubstr("    icmp:\n      code: 0\n      type: 8\n"));
  EXPECT_THAT(r.out, HasSubstr("    source:\n      nets:\n      - 10.0.0.0/8\n"));
  EXPECT_THAT(r.out, HasSubstr("      notNets:\n      - 192.168.0.0/16\n"));
  // Label keys are data, not field names: kept as written.
  EXPECT_THAT(r.out, HasSubstr("    Team: Web\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("Order")));
  EXPECT_THAT(r.out, Not(HasSubstr("ICMP:")));

  // Nested infra structs (schema-driven kinds): BGPFilter rules, BGPPeer fields.
  r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: f1}
spec:
  EXPORTV4:
  - {Action: Accept, MatchOperator: In, CIDR: 10.0.0.0/8}
)");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "bgpfilter", "f1", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("  exportV4:\n  - action: Accept\n    cidr: 10.0.0.0/8\n"
                               "    matchOperator: In\n"));

  // Unknown fields are still refused, nothing written.
  r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p1}
spec: {CIDR: 10.5.0.0/16, Bogus: 1}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: field in document is not recognized or is in the wrong "
            "location: Bogus\n");
  EXPECT_EQ(Run({"get", "ippool", "p1"}).code, 1);
}

// Several keys naming one field: encoding/json decodes each into it in the order it reads them,
// and sigs.k8s.io/yaml (YAMLToJSON over a map) hands them over sorted, so the key sorting last
// wins: "order" over "Order", but "ipipmode" over "ipipMode".
TEST_F(DecodeTest, OfKeysNamingOneFieldTheLastSortedWins) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p1}
spec: {cidr: 10.1.0.0/16, ipipmode: CrossSubnet, ipipMode: Always}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g1}
spec: {order: 1, Order: 2, selector: all()}
)");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "ippool", "p1", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("  ipipMode: CrossSubnet\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("ipipmode")));
  r = Run({"get", "globalnetworkpolicy", "g1", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("  order: 1\n"));
}

// Hostile: thousands of case variants of one field name decode into that field (the last sorted
// wins), and the stored document holds only the canonical name.
TEST_F(DecodeTest, ThousandsOfCaseVariantsOfOneFieldDecodeToIt) {
  const std::string name = "serviceAccountSelector";
  std::string yaml =
      "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: g}\n"
      "spec:\n";
  std::string last;
  int last_v = -1;
  for (int v = 1; v <= 3000; ++v) {
    std::string key = name;
    // Toggle the case of 12 of its lower-case letters (positions 0-6 and 8-12).
    static constexpr size_t kPositions[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12};
    for (size_t b = 0; b < std::size(kPositions); ++b) {
      if ((v >> b) & 1) key[kPositions[b]] = static_cast<char>(std::toupper(key[kPositions[b]]));
    }
    if (key > last) {
      last = key;
      last_v = v;
    }
    yaml += fmt::format("  {}: \"n == '{}'\"\n", key, v);
  }
  auto r = Run({"apply", "-f", "-"}, yaml);
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "globalnetworkpolicy", "g", "-o", "json"});
  EXPECT_THAT(r.out, Not(HasSubstr("ServiceAccount")));
  EXPECT_THAT(r.out, Not(HasSubstr("serviceaccount")));
  // The canonical spelling is not among them: the variant sorting last wins.
  EXPECT_NE(last, name);
  EXPECT_THAT(r.out, HasSubstr(fmt::format("\"serviceAccountSelector\": \"n == '{}'\"", last_v)));
}

// resourcemgr.go CreateResourcesFromFile decodes every document before
// common/resources.go ExecuteConfigCommand acts on any (a decode error is a fileError:
// "failed to execute command: ..."): nothing of the file is applied.
TEST_F(DecodeTest, FileWithABadDocumentAppliesNothing) {
  const std::string file = R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: first}
spec: {cidr: 10.1.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: second}
spec: {cidr: 10.2.0.0/16, natOutgoing: true, bogusField: 1}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: third}
spec: {cidr: 10.3.0.0/16}
)";
  auto r = Run({"apply", "-f", "-"}, file);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: document 2 (IPPool second): field in document is not "
            "recognized or is in the wrong location: bogusField\n");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(Run({"get", "ippool", "first"}).code, 1);
  EXPECT_EQ(Run({"get", "ippool", "third"}).code, 1);

  // A document that is not a resource: also nothing applied.
  r = Run({"create", "-f", "-"},
          "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: a}\nspec: {cidr: "
          "10.1.0.0/16}\n---\napiVersion: projectcalico.org/v3\nkind: Bogus\nmetadata: {name: "
          "b}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: document 2 (Bogus b): unknown resource type (Bogus) "
            "and/or version (projectcalico.org/v3)\n");
  EXPECT_EQ(Run({"get", "ippool", "a"}).code, 1);
}

// Validation is per resource (common/resources.go ExecuteConfigCommand: ExecuteResourceAction
// in order, create/apply collect the errors and go on): what validated before stays applied
// and the summary says so (crud_commands.go reportResults "Partial success").
TEST_F(DecodeTest, ValidationFailureOfALaterDocumentKeepsEarlierOnes) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: good1}
spec: {cidr: 10.1.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: good2}
spec: {cidr: 10.2.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bad}
spec: {cidr: 10.3.0.0/16, blockSize: 40}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.out, HasSubstr("Partial success: applied the first 2 out of 3 'IPPool' "
                               "resources:\n"));
  EXPECT_EQ(Run({"get", "ippool", "good1"}).code, 0);
  EXPECT_EQ(Run({"get", "ippool", "good2"}).code, 0);
  EXPECT_EQ(Run({"get", "ippool", "bad"}).code, 1);
}

// An Unmarshaler's error ends Go's decoding at once (decode.go d.value -> UnmarshalJSON,
// metav1.Duration's time.ParseDuration), while an unknown field is only remembered
// (saveError): the bad value is what calicoctl reports, even when the unknown field comes first.
TEST_F(DecodeTest, BadDurationBeatsUnknownField) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer1}
spec: {aaaUnknown: 1, peerIP: 10.0.0.1, asNumber: 64512, keepaliveTime: 5 minutes}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: error unmarshaling JSON: while decoding JSON: time: "
            "invalid duration \"5 minutes\"\n");
}

// A value of the wrong JSON type is a decoding error (encoding/json UnmarshalTypeError), so
// the file fails as a whole ("failed to execute command: ...", common/resources.go fileError)
// and is reported before an unknown field (this decoder checks types first).
TEST_F(DecodeTest, WrongTypeIsAFileErrorAndBeatsUnknownField) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: ok}
spec: {cidr: 10.1.0.0/16}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p1}
spec: {aaBogus: 1, cidr: 10.5.0.0/16, blockSize: "big"}
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: document 2 (IPPool p1): cannot unmarshal string into Go "
            "struct field IPPoolSpec.spec.blockSize of type int\n");
  EXPECT_EQ(Run({"get", "ippool", "ok"}).code, 1);
  r = Run({"create", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: g}
spec:
  ingress: [{action: 5}]
)");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to execute command: cannot unmarshal number into Go struct field "
            "GlobalNetworkPolicySpec.spec.ingress.action of type string\n");
}

// clientv3/ippool.go validateAndSetDefaults normalizes spec.cidr (cnet.ParseCIDR, the masked
// network) before it checks it, so "not strictly masked" quotes the masked form.
TEST_F(DecodeTest, CidrErrorQuotesTheMaskedForm) {
  auto r = Run({"create", "-f", "-"},
               "apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: p}\nspec: "
               "{cidr: 10.0.0.1/8}\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "failed to create 'IPPool' resource: [error with field spec.cidr = '10.0.0.0/8' "
            "(IPPool CIDR is not strictly masked)]\n");
}

// metav1.Duration marshals as time.Duration.String() (apimachinery duration.go MarshalJSON):
// what get -o yaml/json prints for BGPPeer keepaliveTime, FelixConfiguration periods, ...
TEST_F(DecodeTest, DurationsPrintAsGoFormatsThem) {
  auto r = Run({"apply", "-f", "-"}, R"(apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer1}
spec: {peerIP: 10.0.0.1, asNumber: 64512, keepaliveTime: 125s, maxRestartTime: 9910s}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer3}
spec: {peerIP: 10.0.0.3, asNumber: 64512, keepaliveTime: 1500ms}
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata: {name: default}
spec: {iptablesRefreshInterval: 90s, routeRefreshInterval: 120s, reportingInterval: 0s}
)");
  ASSERT_EQ(r.code, 0) << r.err;
  r = Run({"get", "bgppeer", "peer1", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("  keepaliveTime: 2m5s\n"));
  EXPECT_THAT(r.out, HasSubstr("  maxRestartTime: 2h45m10s\n"));
  r = Run({"get", "bgppeer", "peer3", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("  keepaliveTime: 1.5s\n"));
  r = Run({"get", "felixconfiguration", "default", "-o", "json"});
  EXPECT_THAT(r.out, HasSubstr("\"iptablesRefreshInterval\": \"1m30s\""));
  EXPECT_THAT(r.out, HasSubstr("\"routeRefreshInterval\": \"2m0s\""));
  EXPECT_THAT(r.out, HasSubstr("\"reportingInterval\": \"0s\""));

  // A value stored by another writer in its own form prints the same way.
  model::Resource peer("BGPPeer", "peer2");
  peer.doc()["apiVersion"] = "projectcalico.org/v3";
  peer.doc()["spec"] = {{"peerIP", "10.0.0.2"}, {"asNumber", 64512}, {"keepaliveTime", "60s"}};
  ASSERT_TRUE(client_.Create(peer).has_value());
  r = Run({"get", "bgppeers", "-o", "yaml"});
  EXPECT_THAT(r.out, HasSubstr("    keepaliveTime: 1m0s\n"));
}

// calicoctl.go NewCommand: --log-level/-l, --context and --allow-version-mismatch are the root's
// persistent flags, so every command takes them, before or after its name; cobra's Find
// (command.go stripFlags) lets any of the command's flags (-c/--config too) come first.
TEST_F(DecodeTest, GlobalFlagsBeforeAnyCommand) {
  auto r = Run({"--allow-version-mismatch", "-l", "error", "ipam", "show"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Run({"--allow-version-mismatch", "--log-level=error", "--context", "x", "datastore",
           "migrate", "lock"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Run({"--allow-version-mismatch", "--log-level=error", "--context", "x", "datastore",
           "migrate", "export"});  // export needs the lock (migrate/export.go)
  EXPECT_EQ(r.code, 0) << r.err;
  r = Run({"--config", "/dev/null", "--allow-version-mismatch", "get", "ippools"});
  EXPECT_EQ(r.code, 0) << r.err;
  r = Run({"-c", "/dev/null", "ipam", "show", "--allow-version-mismatch"});
  EXPECT_EQ(r.code, 0) << r.err;
}

// An unknown flag is pflag's error, printed by calicoctl.go main, exit 1: also with no command
// (the root parses its flags before it prints its help).
TEST_F(DecodeTest, UnknownGlobalFlagFails) {
  auto r = Run({"--bogus"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "unknown flag: --bogus\n");
  EXPECT_EQ(r.out, "");
  r = Run({"-x"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "unknown shorthand flag: 'x' in -x\n");
  r = Run({"--bogus=1", "get", "ippools"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "unknown flag: --bogus\n");
  r = Run({"ipam", "show", "--bogus"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown flag: --bogus"));
  // calicoctl.go PersistentPreRunE: logrus.ParseLevel must know the level.
  r = Run({"--log-level", "loud", "get", "ippools"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "unknown log level: loud, expected one of: panic, fatal, error, warn, info, debug\n");
  r = Run({"ipam", "show", "-l", "LOUD"});
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("unknown log level: LOUD"));
  EXPECT_EQ(Run({"get", "ippools", "-l", "Debug"}).code, 0);
  // Known global flags and no command: the help, exit 0.
  r = Run({"--allow-version-mismatch", "-l", "debug"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.out, HasSubstr("Usage:\n  calicoctl [command]\n"));
}

}  // namespace
}  // namespace calico::ctl
