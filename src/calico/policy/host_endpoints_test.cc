#include "calico/policy/host_endpoints.h"

#include <gtest/gtest.h>

namespace calico::policy {
namespace {

net::CIDR C(std::string_view text) {
  return *net::CIDR::ParseNet(text);
}
net::IPAddr A(std::string_view text) {
  return *net::IPAddr::Parse(text);
}

TEST(FailsafePortsTest, ParsesFelixStringForm) {
  auto ports = ParseFailsafePorts(" tcp:22, UDP:68,179 ,tcp:10.1.2.3/8:2379,udp:[fd00::1/64]:53,");
  ASSERT_TRUE(ports) << ports.error().message();
  EXPECT_EQ(*ports, (std::vector<FailsafePort>{
                        {.protocol = "tcp", .port = 22},
                        {.protocol = "udp", .port = 68},
                        {.protocol = "tcp", .port = 179},
                        {.protocol = "tcp", .port = 2379, .net = C("10.0.0.0/8")},
                        {.protocol = "udp", .port = 53, .net = C("fd00::/64")},
                    }));
  EXPECT_EQ(FormatFailsafePorts(*ports),
            "tcp:22,udp:68,tcp:179,tcp:10.0.0.0/8:2379,udp:[fd00::/64]:53");
  auto again = ParseFailsafePorts(FormatFailsafePorts(*ports));
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *ports);
  // A bare address is a /32.
  auto host = ParseFailsafePorts("tcp:192.0.2.7:22");
  ASSERT_TRUE(host);
  EXPECT_EQ((*host)[0].net, C("192.0.2.7/32"));
}

TEST(FailsafePortsTest, NoneAndEmptyMeanNoPorts) {
  for (const char* text : {"none", "NONE", "", " , "}) {
    auto ports = ParseFailsafePorts(text);
    ASSERT_TRUE(ports) << text;
    EXPECT_TRUE(ports->empty()) << text;
  }
  EXPECT_EQ(FormatFailsafePorts({}), "none");
}

TEST(FailsafePortsTest, ErrorsNameTheEntry) {
  auto err = [](const char* text) {
    auto ports = ParseFailsafePorts(text);
    return ports ? std::string("ok") : ports.error().message();
  };
  EXPECT_EQ(err("tcp:22,icmp:1"), "\"icmp:1\": unknown protocol \"icmp\" (tcp, udp or sctp)");
  EXPECT_EQ(err("tcp:65536"), "\"tcp:65536\": port must be a number 0-65535");
  EXPECT_EQ(err("tcp:x"), "\"tcp:x\": port must be a number 0-65535");
  EXPECT_EQ(err("tcp:nonsense:22"), "\"tcp:nonsense:22\": invalid CIDR or IP \"nonsense\"");
  EXPECT_EQ(err("a:b:c:d"),
            "\"a:b:c:d\": must be <protocol>:<port>, <protocol>:<net>:<port> or <port>");
  EXPECT_EQ(err("sctp:9"), "ok");
}

TEST(FailsafePortsTest, DefaultsAreCalicos) {
  EXPECT_EQ(FormatFailsafePorts(DefaultFailsafeInbound()),
            "tcp:22,udp:68,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667");
  EXPECT_EQ(FormatFailsafePorts(DefaultFailsafeOutbound()),
            "udp:53,udp:67,tcp:179,tcp:2379,tcp:2380,tcp:5473,tcp:6443,tcp:6666,tcp:6667");
}

HostEndpoint Hep(std::string name, std::string iface, std::vector<net::CIDR> ips = {}) {
  return HostEndpoint{
      .name = std::move(name), .interface_name = std::move(iface), .expected_ips = std::move(ips)};
}

std::vector<std::pair<std::string, std::string>> Bindings(const std::vector<HostEndpoint>& heps) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const HostEndpoint& h : heps) {
    out.emplace_back(h.interface_name, h.name);
  }
  return out;
}

TEST(ResolveHostEndpointsTest, FirstNameWinsPerInterface) {
  const std::vector<HostEndpoint> heps = {
      Hep("z-eth0", "eth0"),
      Hep("a-eth0", "eth0"),
      Hep("by-ip", "", {C("10.0.0.5/32")}),
      Hep("all-2", "*"),
      Hep("all-1", "*"),
      Hep("absent", "eth9"),
      Hep("by-ip-v6", "", {C("fd00::5/128")}),
  };
  const std::map<std::string, std::vector<net::IPAddr>> ifaces = {
      {"eth0", {A("10.0.0.9")}},
      {"eth1", {A("10.0.0.5"), A("fd00::5")}},
      {"eth2", {A("10.0.0.5")}},
      {"lo", {A("127.0.0.1")}},
  };
  EXPECT_EQ(Bindings(ResolveHostEndpoints(heps, ifaces)),
            (std::vector<std::pair<std::string, std::string>>{{"*", "all-1"},
                                                              {"eth0", "a-eth0"},
                                                              {"eth1", "by-ip"},
                                                              {"eth2", "by-ip"},
                                                              {"eth9", "absent"}}));
  // An address match competes with a named endpoint by name only.
  const std::vector<HostEndpoint> compete = {Hep("b-named", "eth1"),
                                             Hep("a-by-ip", "", {C("10.0.0.5/32")})};
  EXPECT_EQ(
      Bindings(ResolveHostEndpoints(compete, ifaces)),
      (std::vector<std::pair<std::string, std::string>>{{"eth1", "a-by-ip"}, {"eth2", "a-by-ip"}}));
  // Without interface addresses an expectedIPs-only endpoint binds nowhere.
  EXPECT_EQ(Bindings(ResolveHostEndpoints(compete, {})),
            (std::vector<std::pair<std::string, std::string>>{{"eth1", "b-named"}}));
}

}  // namespace
}  // namespace calico::policy
