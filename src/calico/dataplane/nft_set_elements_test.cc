// The IP set elements' kernel encoding. The expectations are what libnftables 1.0.6 sends for the
// same elements (`nft --debug=netlink -f`); nft_test checks the kernel's listing both ways.
#include "calico/dataplane/nft_set_elements.h"

#include <gtest/gtest.h>

namespace calico::dataplane::nft_internal {
namespace {

using nft_model::NftLines;
using nft_model::NftSet;

KernelElement V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, bool end, bool open = false) {
  KernelElement e;
  e.key[0] = a;
  e.key[1] = b;
  e.key[2] = c;
  e.key[3] = d;
  e.end = end;
  e.open = open;
  return e;
}

KernelElement V6(std::initializer_list<uint8_t> prefix, bool end) {
  KernelElement e;
  std::size_t i = 0;
  for (uint8_t b : prefix)
    e.key[i++] = b;
  e.end = end;
  return e;
}

TEST(IntervalSetElements, Ipv4StartingAtZeroEndingAtTheLastAddress) {
  // nft: 00000000 start, 01000000 end, 0a000001 start, 0a000002 end, 0a000100 start, 0a000200
  // end, 0a000200 start (adjacent members stay apart), 0a000300 end, ffffffff start (open).
  auto got = IntervalSetElements(
      NftLines{"10.0.2.0/24", "10.0.0.1", "0.0.0.0/8", "10.0.1.0/24", "255.255.255.255"}, 4);
  ASSERT_TRUE(got.has_value());
  const std::vector<KernelElement> want = {
      V4(0, 0, 0, 0, false),  V4(1, 0, 0, 0, true),   V4(10, 0, 0, 1, false),
      V4(10, 0, 0, 2, true),  V4(10, 0, 1, 0, false), V4(10, 0, 2, 0, true),
      V4(10, 0, 2, 0, false), V4(10, 0, 3, 0, true),  V4(255, 255, 255, 255, false, true),
  };
  EXPECT_EQ(*got, want);
}

TEST(IntervalSetElements, Ipv6NotStartingAtZeroGetsALeadingEndElement) {
  auto got = IntervalSetElements(NftLines{"fd00::1", "fd00:1::/64", "ffff::/16"}, 6);
  ASSERT_TRUE(got.has_value());
  KernelElement open = V6({0xff, 0xff}, false);
  open.open = true;
  const std::vector<KernelElement> want = {
      V6({}, true),
      V6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, false),
      V6({0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}, true),
      V6({0xfd, 0, 0, 1}, false),
      V6({0xfd, 0, 0, 1, 0, 0, 0, 1}, true),
      open,
  };
  EXPECT_EQ(*got, want);
}

TEST(IntervalSetElements, EverythingIsOneOpenElement) {
  auto got = IntervalSetElements(NftLines{"0.0.0.0/0"}, 4);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, (std::vector<KernelElement>{V4(0, 0, 0, 0, false, true)}));
}

TEST(IntervalSetElements, LeavesUnusualMembersToLibnftables) {
  // Overlaps and duplicates (libnftables reports "conflicting intervals"), host bits, the other
  // family, anything that is not an address: nullopt, so the text path handles them.
  EXPECT_FALSE(IntervalSetElements(NftLines{"10.0.0.0/8", "10.1.0.0/16"}, 4));
  EXPECT_FALSE(IntervalSetElements(NftLines{"10.0.0.1", "10.0.0.1"}, 4));
  EXPECT_FALSE(IntervalSetElements(NftLines{"10.0.0.1/24"}, 4));
  EXPECT_FALSE(IntervalSetElements(NftLines{"fd00::1"}, 4));
  EXPECT_FALSE(IntervalSetElements(NftLines{"10.0.0.1"}, 6));
  EXPECT_FALSE(IntervalSetElements(NftLines{"10.0.0.1-10.0.0.5"}, 4));
  EXPECT_TRUE(IntervalSetElements(NftLines{}, 4).has_value());
}

TEST(PlainIntervalSetFamily, OnlyAddressIntervalSets) {
  EXPECT_EQ(PlainIntervalSetFamily(
                NftSet{.header = {"type ipv4_addr", "flags interval", "comment \"app == 'x'\""}}),
            4);
  EXPECT_EQ(PlainIntervalSetFamily(NftSet{.header = {"type ipv6_addr", "flags interval"}}), 6);
  // No interval flag, other types, more flags, maps: libnftables loads them.
  EXPECT_FALSE(PlainIntervalSetFamily(NftSet{.header = {"type ipv4_addr"}}));
  EXPECT_FALSE(PlainIntervalSetFamily(
      NftSet{.header = {"type ipv4_addr . inet_proto . inet_service", "flags interval"}}));
  EXPECT_FALSE(
      PlainIntervalSetFamily(NftSet{.header = {"type ipv4_addr", "flags interval", "auto-merge"}}));
  EXPECT_FALSE(
      PlainIntervalSetFamily(NftSet{.header = {"type ipv4_addr", "flags interval,timeout"}}));
  EXPECT_FALSE(
      PlainIntervalSetFamily(NftSet{.is_map = true, .header = {"type ipv4_addr : verdict"}}));
}

}  // namespace
}  // namespace calico::dataplane::nft_internal
