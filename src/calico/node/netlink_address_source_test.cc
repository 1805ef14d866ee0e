// Privileged: the kernel-backed AddressSource inside a network namespace this test creates (with
// a veth pair carrying addresses and routes), driven through first-found, interface= and
// can-reach=. The root namespace is never touched.
#include "calico/node/netlink_address_source.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include "calico/dataplane/netns.h"
#include "calico/dataplane/testing/netns_fixture.h"

namespace calico::node {
namespace {

using dataplane::testing::ScopedNetns;

class NetlinkAddressSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "privileged test: run as root";
    ASSERT_TRUE(ns_.ok()) << "cannot create a network namespace";
    for (const char* cmd : {
             "ip link add docker0 type veth peer name docker0p",
             "ip link set docker0 up",
             "ip link set docker0p up",
             "ip addr add 172.17.0.1/16 dev docker0",
             "ip link add eth0 type veth peer name eth0p",
             "ip link set eth0 up",
             "ip link set eth0p up",
             "ip addr add 10.70.0.5/24 dev eth0",
             "ip -6 addr add 2001:db8:70::5/64 dev eth0 nodad",
             "ip link add eth1 type veth peer name eth1p",
             "ip link set eth1 up",
             "ip link set eth1p up",
             "ip addr add 10.71.3.9/16 dev eth1",
             "ip route add default via 10.71.0.1 dev eth1",
         }) {
      std::string out;
      ASSERT_EQ(ns_.Exec(cmd, &out), 0) << cmd << ": " << out;
    }
  }

  // Runs `fn` with a NetlinkAddressSource opened inside the test namespace.
  void InNetns(const std::function<void(NetlinkAddressSource&)>& fn) {
    auto fd = dataplane::NetnsFd::Open(ns_.path());
    ASSERT_TRUE(fd) << fd.error().message();
    Status st = dataplane::RunInNetns(*fd, [&]() -> Status {
      ASSIGN_OR_RETURN(auto source, NetlinkAddressSource::Open());
      fn(*source);
      return OkStatus();
    });
    ASSERT_TRUE(st) << st.error().message();
  }

  ScopedNetns ns_{"calico-node-ad"};
};

std::string Detect(AddressSource& source, std::string_view method, int family) {
  auto r = AutodetectAddress(source, method, family);
  if (!r) return "error: " + r.error().message();
  return r->interface + " " + r->cidr.String();
}

TEST_F(NetlinkAddressSourceTest, ListsInterfacesWithAddressesInKernelOrder) {
  InNetns([](NetlinkAddressSource& source) {
    auto ifaces = source.ListInterfaces();
    ASSERT_TRUE(ifaces) << ifaces.error().message();
    std::vector<std::string> names;
    for (const HostInterface& i : *ifaces) {
      names.push_back(i.name);
    }
    ASSERT_GE(names.size(), 7u);
    EXPECT_EQ(names[0], "lo");
    auto eth0 = std::find_if(ifaces->begin(), ifaces->end(),
                             [](const HostInterface& i) { return i.name == "eth0"; });
    ASSERT_NE(eth0, ifaces->end());
    std::vector<std::string> addrs;
    for (const net::CIDR& c : eth0->addrs) {
      addrs.push_back(c.String());
    }
    // IPv4 first, then IPv6 (global, then the kernel's link-local fe80::/64).
    ASSERT_GE(addrs.size(), 2u);
    EXPECT_EQ(addrs[0], "10.70.0.5/24");
    EXPECT_EQ(addrs[1], "2001:db8:70::5/64");
  });
}

TEST_F(NetlinkAddressSourceTest, FirstFound) {
  InNetns([](NetlinkAddressSource& source) {
    // lo and docker0 are excluded; eth0 comes before eth1 in kernel order.
    EXPECT_EQ(Detect(source, "first-found", 4), "eth0 10.70.0.5/24");
    EXPECT_EQ(Detect(source, "first-found", 6), "eth0 2001:db8:70::5/64");
    EXPECT_EQ(Detect(source, "skip-interface=eth0", 4), "eth1 10.71.3.9/16");
  });
}

TEST_F(NetlinkAddressSourceTest, InterfaceRegex) {
  InNetns([](NetlinkAddressSource& source) {
    EXPECT_EQ(Detect(source, "interface=eth1", 4), "eth1 10.71.3.9/16");
    EXPECT_EQ(Detect(source, "interface=doc.*", 4), "docker0 172.17.0.1/16");
    EXPECT_EQ(Detect(source, "cidr=10.71.0.0/16", 4), "eth1 10.71.3.9/16");
    auto none = AutodetectAddress(source, "interface=eth1", 6);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  });
}

TEST_F(NetlinkAddressSourceTest, CanReachFollowsTheRoutingTable) {
  InNetns([](NetlinkAddressSource& source) {
    // Connected subnet of eth0, then the default route through eth1: nothing is sent.
    EXPECT_EQ(Detect(source, "can-reach=10.70.0.77", 4), "eth0 10.70.0.5/24");
    EXPECT_EQ(Detect(source, "can-reach=8.8.8.8", 4), "eth1 10.71.3.9/16");
    EXPECT_EQ(Detect(source, "can-reach=2001:db8:70::1", 6), "eth0 2001:db8:70::5/64");
    // No IPv6 default route: the kernel refuses.
    auto unreachable = AutodetectAddress(source, "can-reach=2001:4860::8888", 6);
    ASSERT_FALSE(unreachable);
    EXPECT_EQ(unreachable.error().code(), ErrorCode::kUnavailable);
    EXPECT_NE(unreachable.error().message().find("Unable to auto-detect an IPv6 address by "
                                                 "connecting to 2001:4860::8888"),
              std::string::npos)
        << unreachable.error().message();
    // A name that resolves locally (/etc/hosts).
    auto local = source.SourceAddressFor("localhost", 4);
    ASSERT_TRUE(local) << local.error().message();
    EXPECT_EQ(local->String(), "127.0.0.1");
  });
}

}  // namespace
}  // namespace calico::node
