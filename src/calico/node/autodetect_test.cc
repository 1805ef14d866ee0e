// Unit tests of the IP autodetection methods against the fake host (Calico's
// autodetection/filtered_test.go and startup_test.go "autodetect" cases).
#include "calico/node/autodetect.h"

#include <gtest/gtest.h>

#include "calico/node/testing/fake_address_source.h"

namespace calico::node {
namespace {

using testing::FakeAddressSource;

// A host with the usual noise in front of the real uplink.
FakeAddressSource TypicalHost() {
  FakeAddressSource host;
  host.AddInterface("lo", {"127.0.0.1/8", "::1/128"})
      .AddInterface("docker0", {"172.17.0.1/16"})
      .AddInterface("cali1234567890a", {"169.254.1.1/32"})
      .AddInterface("tunl0", {"10.244.0.1/32"})
      .AddInterface("vxlan.calico", {"10.244.0.2/32"})
      .AddInterface("eth0", {"fe80::1/64", "169.254.3.3/16", "10.0.0.5/24", "2001:db8::5/64"})
      .AddInterface("eth1", {"192.168.50.7/24", "fd00:50::7/64"})
      .AddInterface("ens5", {"172.31.9.9/20"});
  return host;
}

std::string Detect(FakeAddressSource& host, std::string_view method, int family) {
  auto r = AutodetectAddress(host, method, family);
  if (!r) return "error: " + r.error().message();
  return r->interface + " " + r->cidr.String();
}

TEST(AutodetectTest, FirstFoundSkipsDefaultExclusionsAndLinkLocal) {
  FakeAddressSource host = TypicalHost();
  EXPECT_EQ(Detect(host, "", 4), "eth0 10.0.0.5/24");
  EXPECT_EQ(Detect(host, "first-found", 4), "eth0 10.0.0.5/24");
  EXPECT_EQ(Detect(host, "first-found", 6), "eth0 2001:db8::5/64");
}

TEST(AutodetectTest, FirstFoundExcludesEveryDefaultPattern) {
  FakeAddressSource host;
  for (const char* name :
       {"docker0", "cbr0", "dummy0", "podman0", "virbr0", "lxcbr0", "veth12", "lo", "br-abc",
        "cali0", "tunl0", "flannel.1", "kube-ipvs0", "cni0", "vxlan.calico", "vxlan-v6.calico",
        "wireguard.cali", "wg-v6.cali", "nodelocaldns"}) {
    host.AddInterface(name, {"10.1.1.1/24"});
  }
  auto r = AutodetectAddress(host, "first-found", 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(), "No valid IPv4 addresses found on the host interfaces");
  host.AddInterface("bond0", {"10.2.2.2/16"});
  EXPECT_EQ(Detect(host, "first-found", 4), "bond0 10.2.2.2/16");
}

TEST(AutodetectTest, DotsInDefaultPatternsAreLiteral) {
  FakeAddressSource host;
  host.AddInterface("vxlanXcalico", {"10.3.3.3/24"});
  EXPECT_EQ(Detect(host, "first-found", 4), "vxlanXcalico 10.3.3.3/24");
  EXPECT_TRUE(IsDefaultExcludedInterface("vxlan.calico"));
  EXPECT_FALSE(IsDefaultExcludedInterface("eth0"));
}

TEST(AutodetectTest, InterfaceRegexList) {
  FakeAddressSource host = TypicalHost();
  EXPECT_EQ(Detect(host, "interface=eth1", 4), "eth1 192.168.50.7/24");
  EXPECT_EQ(Detect(host, "interface=ens.*", 4), "ens5 172.31.9.9/20");
  // First matching interface in kernel order, whichever regex matched it.
  EXPECT_EQ(Detect(host, "interface=ens.*, eth1", 4), "eth1 192.168.50.7/24");
  // Unanchored search, and no default exclusions: docker0 can be chosen explicitly.
  EXPECT_EQ(Detect(host, "interface=ocker", 4), "docker0 172.17.0.1/16");
  EXPECT_EQ(Detect(host, "interface=eth1", 6), "eth1 fd00:50::7/64");
  auto none = AutodetectAddress(host, "interface=wlan.*", 4);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(none.error().message(), "No valid IPv4 addresses found on interfaces matching wlan.*");
}

TEST(AutodetectTest, SkipInterfaceAddsToDefaultExclusions) {
  FakeAddressSource host = TypicalHost();
  EXPECT_EQ(Detect(host, "skip-interface=eth0", 4), "eth1 192.168.50.7/24");
  EXPECT_EQ(Detect(host, "skip-interface=eth.*", 4), "ens5 172.31.9.9/20");
  EXPECT_EQ(Detect(host, "skip-interface=eth0,eth1", 6),
            "error: No valid IPv6 addresses found on "
            "the host interfaces not matching the "
            "skip list");
}

TEST(AutodetectTest, CidrMatchesAddressesInsideAnyCidr) {
  FakeAddressSource host = TypicalHost();
  EXPECT_EQ(Detect(host, "cidr=192.168.0.0/16", 4), "eth1 192.168.50.7/24");
  // No default exclusions for cidr= (Calico's autoDetectCIDRByCIDR): docker0 comes first.
  EXPECT_EQ(Detect(host, "cidr=172.16.0.0/12,192.168.0.0/16", 4), "docker0 172.17.0.1/16");
  EXPECT_EQ(Detect(host, "cidr=172.31.0.0/16", 4), "ens5 172.31.9.9/20");
  EXPECT_EQ(Detect(host, "cidr=fd00::/8", 6), "eth1 fd00:50::7/64");
  EXPECT_EQ(Detect(host, "cidr=10.99.0.0/16", 4),
            "error: No valid IPv4 addresses found inside 10.99.0.0/16");
}

TEST(AutodetectTest, CanReachUsesTheKernelSourceAddress) {
  FakeAddressSource host = TypicalHost();
  host.SetRoute("8.8.8.8", 4, "192.168.50.7")
      .SetRoute("example.net", 4, "172.31.9.9")
      .SetRoute("2001:4860::8888", 6, "2001:db8::5")
      .SetRoute("10.77.0.1", 4, "10.9.9.9");
  EXPECT_EQ(Detect(host, "can-reach=8.8.8.8", 4), "eth1 192.168.50.7/24");
  EXPECT_EQ(Detect(host, "can-reach=example.net", 4), "ens5 172.31.9.9/20");
  EXPECT_EQ(Detect(host, "can-reach=2001:4860::8888", 6), "eth0 2001:db8::5/64");

  auto unreachable = AutodetectAddress(host, "can-reach=1.1.1.1", 4);
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(unreachable.error().message(),
            "Unable to auto-detect an IPv4 address by connecting to 1.1.1.1: connect to 1.1.1.1: "
            "Network is unreachable");
  auto not_local = AutodetectAddress(host, "can-reach=10.77.0.1", 4);
  ASSERT_FALSE(not_local);
  EXPECT_EQ(not_local.error().code(), ErrorCode::kNotFound);
}

TEST(AutodetectTest, InvalidMethodsAreRejectedUpFront) {
  FakeAddressSource host = TypicalHost();
  struct Case {
    const char* method;
    int family;
    ErrorCode code;
    const char* message;
  };
  for (const Case& c : {
           Case{"first_found", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: first_found"},
           Case{"interface=eth[", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: interface=eth[ (invalid regex 'eth[')"},
           Case{"interface=", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: interface= (empty interface regex)"},
           Case{"cidr=10.0.0.0", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: cidr=10.0.0.0 (invalid CIDR '10.0.0.0')"},
           Case{"can-reach=", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: can-reach= (no destination)"},
           Case{"can-reach=fd00::1", 4, ErrorCode::kInvalidArgument,
                "Invalid IP autodetection method: can-reach=fd00::1 (fd00::1 is not an IPv4 "
                "address)"},
           Case{"kubernetes-internal-ip", 4, ErrorCode::kUnsupported,
                "IP autodetection method kubernetes-internal-ip needs the Kubernetes API, which "
                "this calico-node does not use; choose another method or set IP"},
       }) {
    SCOPED_TRACE(c.method);
    auto st = ValidateAutodetectionMethod(c.method, c.family);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code(), c.code);
    EXPECT_EQ(st.error().message(), c.message);
    auto r = AutodetectAddress(host, c.method, c.family);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), st.error());
  }
  EXPECT_TRUE(ValidateAutodetectionMethod("can-reach=www.example.com", 6));
}

TEST(AutodetectTest, ListFailureIsWrapped) {
  FakeAddressSource host = TypicalHost();
  host.FailNextList(Error(ErrorCode::kUnavailable, "netlink dump: boom"));
  auto r = AutodetectAddress(host, "first-found", 4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message(), "list host interfaces: netlink dump: boom");
}

TEST(AutodetectTest, GlobalUnicast) {
  auto gu = [](const char* s) { return IsGlobalUnicast(*net::IPAddr::Parse(s)); };
  EXPECT_TRUE(gu("10.0.0.1"));
  EXPECT_TRUE(gu("2001:db8::1"));
  EXPECT_TRUE(gu("fd00::1"));
  EXPECT_FALSE(gu("0.0.0.0"));
  EXPECT_FALSE(gu("127.0.0.1"));
  EXPECT_FALSE(gu("169.254.1.1"));
  EXPECT_FALSE(gu("224.0.0.1"));
  EXPECT_FALSE(gu("255.255.255.255"));
  EXPECT_FALSE(gu("::"));
  EXPECT_FALSE(gu("::1"));
  EXPECT_FALSE(gu("fe80::1"));
  EXPECT_FALSE(gu("febf::1"));
  EXPECT_FALSE(gu("ff02::1"));
}

}  // namespace
}  // namespace calico::node
