#include "calico/net/ip.h"

#include <gtest/gtest.h>

namespace calico::net {
namespace {

TEST(IPAddrTest, ParsesAndFormatsIPv4) {
  auto ip = IPAddr::Parse("10.65.0.1");
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->is_v4());
  EXPECT_EQ(ip->String(), "10.65.0.1");
  EXPECT_EQ(ip->v4_host_order(), 0x0a410001u);
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1..2.3", "a.b.c.d",
                          "1.2.3.4 ", "-1.2.3.4"}) {
    EXPECT_FALSE(IPAddr::Parse(bad)) << bad;
  }
}

TEST(IPAddrTest, ParsesAndFormatsIPv6Canonically) {
  struct Case {
    const char* in;
    const char* out;
  };
  for (const Case& c :
       {Case{"::", "::"}, Case{"::1", "::1"}, Case{"fd00::1", "fd00::1"},
        Case{"FD00:0:0:0:0:0:0:1", "fd00::1"}, Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        Case{"2001:db8::ffff:0:1", "2001:db8::ffff:0:1"}, Case{"fe80::1:2:3:4", "fe80::1:2:3:4"},
        Case{"1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"}, Case{"64:ff9b::1.2.3.4", "64:ff9b::102:304"}}) {
    auto ip = IPAddr::Parse(c.in);
    ASSERT_TRUE(ip) << c.in;
    EXPECT_TRUE(ip->is_v6()) << c.in;
    EXPECT_EQ(ip->String(), c.out) << c.in;
  }
  for (const char* bad : {":", ":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "g::1",
                          "1:2:3:4:5:6:7::8:9", "fd00::1%eth0", "1:2:3:4:5:6:7:8::"}) {
    EXPECT_FALSE(IPAddr::Parse(bad)) << bad;
  }
}

TEST(IPAddrTest, MappedIPv4IsIPv4) {
  auto ip = IPAddr::Parse("::ffff:10.0.0.1");
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->is_v4());
  EXPECT_EQ(ip->String(), "10.0.0.1");
}

TEST(IPAddrTest, ArithmeticWalksBlocks) {
  auto ip = *IPAddr::Parse("10.0.0.255");
  EXPECT_EQ(ip.Add(1).String(), "10.0.1.0");
  EXPECT_EQ(ip.Add(1).Sub(*IPAddr::Parse("10.0.0.0")), 256u);
  auto v6 = *IPAddr::Parse("fd00::ffff");
  EXPECT_EQ(v6.Add(1).String(), "fd00::1:0");
}

TEST(CIDRTest, ParsesMasksAndContains) {
  auto c = CIDR::Parse("10.0.0.1/8");
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->IsStrictlyMasked());
  EXPECT_EQ(c->Masked().String(), "10.0.0.0/8");
  EXPECT_EQ(c->String(), "10.0.0.1/8");
  EXPECT_TRUE(CIDR::Parse("10.0.0.0/8")->IsStrictlyMasked());
  EXPECT_TRUE(c->Contains(*IPAddr::Parse("10.255.1.1")));
  EXPECT_FALSE(c->Contains(*IPAddr::Parse("11.0.0.1")));
  EXPECT_FALSE(c->Contains(*IPAddr::Parse("::1")));
  EXPECT_TRUE(CIDR::Parse("10.0.0.0/8")->Contains(*CIDR::Parse("10.1.0.0/16")));
  EXPECT_FALSE(CIDR::Parse("10.1.0.0/16")->Contains(*CIDR::Parse("10.0.0.0/8")));
  EXPECT_TRUE(CIDR::Parse("10.1.0.0/16")->Overlaps(*CIDR::Parse("10.0.0.0/8")));
  EXPECT_EQ(CIDR::Parse("10.0.0.0/26")->Size(), 64u);
  EXPECT_EQ(CIDR::Parse("fd00::/122")->Size(), 64u);
  EXPECT_EQ(CIDR::Parse("fd00:0::/64")->String(), "fd00::/64");
  for (const char* bad :
       {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/a", "fd00::/129", "10.0.0.0/08", "/8"}) {
    EXPECT_FALSE(CIDR::Parse(bad)) << bad;
  }
  EXPECT_EQ(CIDR::ParseNet("10.0.0.1")->String(), "10.0.0.1/32");
  EXPECT_EQ(CIDR::ParseNet("fd00::1")->String(), "fd00::1/128");
}

TEST(MACTest, ParsesAndFormats) {
  EXPECT_EQ(MAC::Parse("EE:EE:EE:EE:EE:EE")->String(), "ee:ee:ee:ee:ee:ee");
  EXPECT_EQ(MAC::Parse("66-c0-de-00-00-01")->String(), "66:c0:de:00:00:01");
  EXPECT_FALSE(MAC::Parse("ee:ee:ee:ee:ee"));
  EXPECT_FALSE(MAC::Parse("ee:ee-ee:ee:ee:ee"));
}

}  // namespace
}  // namespace calico::net
