#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "calico/dataplane/netfilter_sources.h"

namespace calico::dataplane {
namespace {

TEST(ParsePacketTupleTest, Ipv4Tcp) {
  std::array<uint8_t, 24> p{};
  p[0] = 0x45;  // IPv4, 20-byte header.
  p[9] = 6;
  p[12] = 10, p[13] = 0, p[14] = 1, p[15] = 1;
  p[16] = 10, p[17] = 0, p[18] = 0, p[19] = 2;
  p[20] = 0x9c, p[21] = 0x40;  // 40000
  p[22] = 0, p[23] = 80;
  auto t = ParsePacketTuple(p.data(), p.size());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->src.String(), "10.0.1.1");
  EXPECT_EQ(t->dst.String(), "10.0.0.2");
  EXPECT_EQ(t->proto, 6);
  EXPECT_EQ(t->src_port, 40000);
  EXPECT_EQ(t->dst_port, 80);
}

TEST(ParsePacketTupleTest, Ipv6UdpAndShortPackets) {
  std::array<uint8_t, 44> p{};
  p[0] = 0x60;
  p[6] = 17;
  p[23] = 1;   // src ::1
  p[39] = 2;   // dst ::2
  p[41] = 53;  // sport 53
  p[43] = 99;
  auto t = ParsePacketTuple(p.data(), p.size());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->src.String(), "::1");
  EXPECT_EQ(t->dst.String(), "::2");
  EXPECT_EQ(t->src_port, 53);
  EXPECT_EQ(t->dst_port, 99);
  EXPECT_FALSE(ParsePacketTuple(p.data(), 10));
  const uint8_t junk[] = {0x10, 0, 0, 0};
  EXPECT_FALSE(ParsePacketTuple(junk, sizeof(junk)));
}

}  // namespace
}  // namespace calico::dataplane
