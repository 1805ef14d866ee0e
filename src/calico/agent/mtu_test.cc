// MTU auto-detection (felix/dataplane/linux/int_dataplane.go findHostMTU, determinePodMTU): the
// arithmetic and the interface choice. The kernel side (real interfaces in a namespace, the CNI
// plugin using the file) is in tests/e2e/agent_policy_test.sh.
#include "calico/agent/mtu.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace calico::agent {
namespace {

TEST(MtuTest, SmallestMatchingInterfaceThatIsUp) {
  std::vector<HostLink> links = {{"lo", 65536, true},      {"eth0", 1500, true},
                                 {"ens3", 9001, true},     {"eth1", 1400, false},
                                 {"cali1234", 1200, true}, {"vxlan.calico", 1450, true},
                                 {"wlp2s0", 1480, true},   {"docker0", 1000, true}};
  auto mtu = FindHostMtu(links, kDefaultMtuIfacePattern);
  ASSERT_TRUE(mtu) << mtu.error().message();
  EXPECT_EQ(*mtu, 1480);  // wlp2s0: eth1 is down; lo, cali*, vxlan.calico, docker0 do not match.
  auto only = FindHostMtu(links, "^ens");
  ASSERT_TRUE(only);
  EXPECT_EQ(*only, 9001);
}

TEST(MtuTest, NoMatchFallsBackTo1460AndABadPatternIsAnError) {
  auto none = FindHostMtu({{"lo", 65536, true}}, kDefaultMtuIfacePattern);
  ASSERT_TRUE(none);
  EXPECT_EQ(*none, 1460);
  auto bad = FindHostMtu({}, "(eth");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("mtuIfacePattern"), std::string::npos);
}

TEST(MtuTest, PodMtuIsTheSmallestOfTheEncapsulationsInUse) {
  EXPECT_EQ(PodMtu(1500, {}), 1500);
  EXPECT_EQ(PodMtu(1500, {.ipip = true}), 1480);
  EXPECT_EQ(PodMtu(1500, {.vxlan = true}), 1450);
  EXPECT_EQ(PodMtu(1500, {.vxlan_v6 = true}), 1430);
  EXPECT_EQ(PodMtu(1500, {.wireguard = true}), 1440);
  EXPECT_EQ(PodMtu(1500, {.ipip = true, .vxlan = true}), 1450);
  EXPECT_EQ(PodMtu(9001, {.vxlan = true, .vxlan_mtu = 1400}), 1400);  // vxlanMTU wins.
  EXPECT_EQ(PodMtu(1500, {.ipip = false, .ipip_mtu = 1000}), 1500);   // Not in use.
}

TEST(MtuTest, FileAndPath) {
  EXPECT_EQ(MtuFilePath({}), "/var/lib/calico/mtu");
  EXPECT_EQ(MtuFilePath({{"CALICO_MTU_FILE", "/tmp/x/mtu"}}), "/tmp/x/mtu");
  const auto dir =
      std::filesystem::temp_directory_path() / ("calico-mtu-test-" + std::to_string(::getpid()));
  const std::string path = (dir / "sub" / "mtu").string();
  ASSERT_TRUE(WriteMtuFile(path, 1450));
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "1450");
  ASSERT_TRUE(WriteMtuFile(path, 1400));
  std::ifstream again(path);
  int v = 0;
  again >> v;
  EXPECT_EQ(v, 1400);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace calico::agent
