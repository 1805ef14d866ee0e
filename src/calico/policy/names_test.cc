#include "calico/policy/names.h"

#include <string>

#include <gtest/gtest.h>

namespace calico::policy {
namespace {

TEST(NamesTest, IdentifierGrammar) {
  EXPECT_TRUE(IsNftIdentifier("cali-pi-default/allow-dns"));
  EXPECT_TRUE(IsNftIdentifier("cali-tw-cali1234567890a"));
  EXPECT_TRUE(IsNftIdentifier("_x.y"));
  EXPECT_FALSE(IsNftIdentifier(""));
  EXPECT_FALSE(IsNftIdentifier("1abc"));
  EXPECT_FALSE(IsNftIdentifier("-abc"));
  EXPECT_FALSE(IsNftIdentifier("a b"));
  EXPECT_FALSE(IsNftIdentifier("a:b"));
  EXPECT_TRUE(IsNftIdentifier(std::string(255, 'a')));
  EXPECT_FALSE(IsNftIdentifier(std::string(256, 'a')));
}

TEST(NamesTest, ChainNamesKeepCalicoForm) {
  EXPECT_EQ(ToWorkloadChain("cali1234567890a"), "cali-tw-cali1234567890a");
  EXPECT_EQ(FromWorkloadChain("cali1234567890a"), "cali-fw-cali1234567890a");
  EXPECT_EQ(PolicyChain("default", "ns1/knp.default.allow", true),
            "cali-pi-default/ns1/knp.default.allow");
  EXPECT_EQ(PolicyChain("security", "deny-all", false), "cali-po-security/deny-all");
  EXPECT_EQ(ProfileChain("kns.ns1", true), "cali-pri-kns.ns1");
  EXPECT_EQ(ProfileChain("kns.ns1", false), "cali-pro-kns.ns1");
}

TEST(NamesTest, HostEndpointChains) {
  EXPECT_EQ(HostEndpointChain(HostChainKind::kFrom, "eth0"), "cali-fh-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kTo, "eth0"), "cali-th-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kFromForward, "eth0"), "cali-fhfw-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kToForward, "eth0.100"), "cali-thfw-eth0.100");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kPreDnatFrom, "eth0"), "mangle-cali-fh-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kRawFrom, "eth0"), "raw-cali-fh-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kRawTo, "eth0"), "raw-cali-th-eth0");
  EXPECT_EQ(HostEndpointChain(HostChainKind::kFrom, "*"), "cali-fh-any-interface-at-all");
  EXPECT_TRUE(IsNftIdentifier(HostEndpointChain(HostChainKind::kTo, "eth@0")));
}

TEST(NamesTest, ChainNamesHashWhenNeeded) {
  const std::string long_id(300, 'p');
  const std::string hashed = ProfileChain(long_id, true);
  EXPECT_EQ(hashed.rfind("cali-pri-_", 0), 0u) << hashed;
  EXPECT_EQ(hashed.size(), std::string("cali-pri-_").size() + 43);
  EXPECT_TRUE(IsNftIdentifier(hashed));
  EXPECT_EQ(hashed, ProfileChain(long_id, true));  // Deterministic.
  EXPECT_NE(hashed, ProfileChain(long_id + "q", true));
  const std::string odd = ToWorkloadChain("eth0:1");
  EXPECT_TRUE(IsNftIdentifier(odd)) << odd;
  EXPECT_EQ(odd.rfind("cali-tw-_", 0), 0u);
}

TEST(NamesTest, SetNamesFollowFelixNftables) {
  EXPECT_EQ(SetName("s:qMt7iLlGDhvLnCjM0l9nzxb8zSSYJRC2t7xdt5", 4),
            "cali40s-qMt7iLlGDhvLnCjM0l9nzxb");
  EXPECT_EQ(SetName("s:qMt7iLlGDhvLnCjM0l9nzxb8zSSYJRC2t7xdt5", 6),
            "cali60s-qMt7iLlGDhvLnCjM0l9nzxb");
  EXPECT_EQ(SetName("all-hosts-net", 4), "cali40all-hosts-net");
  const std::string hashed = SetName("my set", 4);
  EXPECT_EQ(hashed.rfind("cali40h-", 0), 0u);
  EXPECT_EQ(hashed.size(), kMaxSetNameLen);
  EXPECT_TRUE(IsNftIdentifier(hashed));
}

TEST(NamesTest, SanitizeComment) {
  EXPECT_EQ(SanitizeComment("policy default/p ingress #0"), "policy default/p ingress #0");
  EXPECT_EQ(SanitizeComment("a \"b\"\n\\"), "a _b___");
  const std::string long_text(300, 'x');
  const std::string cut = SanitizeComment(long_text);
  EXPECT_EQ(cut.size(), kMaxNftCommentLen);
  EXPECT_NE(cut, SanitizeComment(long_text + "y"));
}

}  // namespace
}  // namespace calico::policy
