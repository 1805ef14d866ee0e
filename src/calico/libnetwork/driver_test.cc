// Driver against the in-memory datastore with a fake Plumber: the IPAM driver, the network and
// endpoint bookkeeping, restart, and every error path (reference §5.2 messages).
#include "calico/libnetwork/driver.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/ipam/ipam.h"
#include "calico/libnetwork/testing/fake_plumber.h"

namespace calico::libnetwork {
namespace {

using testing::FakePlumber;
using ::testing::HasSubstr;

const std::string kNet(64, 'a');
const std::string kNet2(64, 'b');
const std::string kEp = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const std::string kEp2 = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override { AddPool("default-ipv4-ippool", "10.65.0.0/16"); }

  void AddPool(const std::string& name, const std::string& cidr, Json extra = Json::object()) {
    model::Resource pool("IPPool", name);
    pool.spec() = Json{{"cidr", cidr}};
    pool.spec().update(extra);
    auto r = client_.Create(pool);
    ASSERT_TRUE(r) << r.error().message();
  }

  std::string Err(const Json& j) { return j.is_object() ? j.value("Err", "") : ""; }
  void ExpectOk(const Json& j) { EXPECT_FALSE(j.contains("Err")) << j.dump(); }

  // docker network create --driver calico --ipam-driver calico [--subnet] [--opt ...]
  Json CreateCalicoNetwork(const std::string& id, const std::string& pool = "0.0.0.0/0",
                           Json generic = Json::object()) {
    return driver_.CreateNetwork(Json{
        {"NetworkID", id},
        {"Options",
         {{"com.docker.network.generic", generic}, {"com.docker.network.enable_ipv6", false}}},
        {"IPv4Data",
         Json::array(
             {{{"AddressSpace", kLocalAddressSpace}, {"Pool", pool}, {"Gateway", "0.0.0.0/0"}}})},
        {"IPv6Data", Json::array()}});
  }

  std::string RequestAddress(const std::string& pool_id = kPoolIdV4, const std::string& addr = "") {
    Json r = driver_.RequestAddress(
        Json{{"PoolID", pool_id}, {"Address", addr}, {"Options", Json::object()}});
    EXPECT_FALSE(r.contains("Err")) << r.dump();
    return r.value("Address", "");
  }

  Json CreateEndpoint(const std::string& net, const std::string& ep, const std::string& addr,
                      const std::string& mac = "") {
    Json iface = {{"Address", addr}, {"AddressIPv6", ""}, {"MacAddress", mac}};
    return driver_.CreateEndpoint(Json{
        {"NetworkID", net}, {"EndpointID", ep}, {"Interface", iface}, {"Options", Json::object()}});
  }

  Result<model::Resource> Wep(const std::string& ep) {
    ASSIGN_OR_RETURN(std::string name, driver_.EndpointName(ep));
    return client_.Get("WorkloadEndpoint", "default", name);
  }

  datastore::MemBackend backend_;
  datastore::Client client_{backend_};
  FakePlumber plumber_;
  Driver driver_{backend_, plumber_, DriverOptions{.node = "node-1"}};
};

TEST_F(DriverTest, ActivateAndCapabilities) {
  EXPECT_EQ(driver_.Activate(Json()),
            Json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
  EXPECT_EQ(driver_.GetCapabilities(Json::object()).value("Scope", ""), "local");
  EXPECT_EQ(driver_.GetDefaultAddressSpaces(Json::object()),
            Json::parse(R"({"LocalDefaultAddressSpace":"CalicoLocalAddressSpace",
                            "GlobalDefaultAddressSpace":"CalicoGlobalAddressSpace"})"));
  EXPECT_EQ(driver_.IpamGetCapabilities(Json::object()).value("RequiresMACAddress", true), false);
  Driver global(backend_, plumber_, DriverOptions{.node = "node-1", .scope = "global"});
  EXPECT_EQ(global.GetCapabilities(Json::object()).value("Scope", ""), "global");
}

TEST_F(DriverTest, RequestPoolWithoutSubnetUsesCalicoPools) {
  Json v4 = driver_.RequestPool(Json{{"AddressSpace", kLocalAddressSpace},
                                     {"Pool", ""},
                                     {"SubPool", ""},
                                     {"Options", Json::object()},
                                     {"V6", false}});
  EXPECT_EQ(v4, Json::parse(R"({"PoolID":"CalicoPoolIPv4","Pool":"0.0.0.0/0",
                                "Data":{"com.docker.network.gateway":"0.0.0.0/0"}})"));
  Json v6 = driver_.RequestPool(Json{{"V6", true}});
  EXPECT_EQ(v6.value("PoolID", ""), kPoolIdV6);
  EXPECT_EQ(v6.value("Pool", ""), "::/0");
  EXPECT_EQ(v6["Data"].value("com.docker.network.gateway", ""), "::/0");
}

TEST_F(DriverTest, RequestPoolErrors) {
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", "10.65.0.0/16"}, {"SubPool", "10.65.1.0/24"}})),
              HasSubstr("does not support sub pool configuration"));
  EXPECT_EQ(Err(driver_.RequestPool(Json{{"Options", {{"foo", "bar"}}}})),
            "Arbitrary options are not supported");
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", "not-a-cidr"}})), HasSubstr("invalid subnet"));
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", "fd00::/64"}, {"V6", false}})),
              HasSubstr("not an IPv4 subnet"));
  // Overlaps the default pool: Calico's overlap check explains.
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", "10.65.1.0/24"}})),
              HasSubstr("cannot create a Calico IP pool for the subnet 10.65.1.0/24"));
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", 5}})), HasSubstr("\"Pool\" must be a string"));
  EXPECT_THAT(Err(driver_.ReleasePool(Json::object())), HasSubstr("missing field \"PoolID\""));
}

TEST_F(DriverTest, RequestPoolWithSubnetMatchesOrCreatesAPool) {
  // An existing pool is used as it is.
  Json r = driver_.RequestPool(Json{{"Pool", "10.65.0.0/16"}});
  EXPECT_EQ(r.value("PoolID", ""), "10.65.0.0/16");
  EXPECT_EQ(r.value("Pool", ""), "10.65.0.0/16");
  EXPECT_EQ(r["Data"].value("com.docker.network.gateway", ""), "0.0.0.0/0");
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "10.65.0.0/16"}}));
  EXPECT_TRUE(client_.Get("IPPool", "", "default-ipv4-ippool")) << "someone else's pool is kept";

  // A missing one is created (and is ours to remove once unused).
  r = driver_.RequestPool(Json{{"Pool", "192.168.7.0/24"}});
  ASSERT_EQ(r.value("PoolID", ""), "192.168.7.0/24") << r.dump();
  auto pool = client_.Get("IPPool", "", "libnetwork-192-168-7-0-24");
  ASSERT_TRUE(pool) << pool.error().message();
  EXPECT_EQ(pool->spec().value("cidr", ""), "192.168.7.0/24");
  EXPECT_FALSE(pool->spec().value("disabled", false));
  EXPECT_EQ(pool->spec().value("assignmentMode", ""), "Manual") << "only for networks that name it";
  EXPECT_EQ(pool->metadata()["annotations"].value(kCreatedByAnnotation, ""), "calico-libnetwork");
  // Asked again (a second network on the same subnet): the same pool.
  EXPECT_EQ(driver_.RequestPool(Json{{"Pool", "192.168.7.0/24"}}).value("PoolID", ""),
            "192.168.7.0/24");

  // Networks on Calico's pools do not get its addresses.
  for (int i = 0; i < 3; ++i)
    EXPECT_THAT(RequestAddress(), HasSubstr("10.65."));
  // While an address is allocated from it, ReleasePool keeps it.
  std::string ip = RequestAddress("192.168.7.0/24");
  EXPECT_THAT(ip, HasSubstr("192.168.7."));
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "192.168.7.0/24"}}));
  EXPECT_TRUE(client_.Get("IPPool", "", "libnetwork-192-168-7-0-24"));
  ExpectOk(driver_.ReleaseAddress(Json{{"PoolID", "192.168.7.0/24"}, {"Address", ip}}));
  // While a network uses it, too.
  ExpectOk(CreateCalicoNetwork(kNet, "192.168.7.0/24"));
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "192.168.7.0/24"}}));
  EXPECT_TRUE(client_.Get("IPPool", "", "libnetwork-192-168-7-0-24"));
  ExpectOk(driver_.DeleteNetwork(Json{{"NetworkID", kNet}}));
  EXPECT_FALSE(client_.Get("IPPool", "", "libnetwork-192-168-7-0-24"));
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "192.168.7.0/24"}}));
  // dockerd 20.10's order: gateway marker released, ReleasePool, then DeleteNetwork.
  ASSERT_EQ(driver_.RequestPool(Json{{"Pool", "192.168.7.0/24"}}).value("PoolID", ""),
            "192.168.7.0/24");
  ExpectOk(CreateCalicoNetwork(kNet, "192.168.7.0/24"));
  ExpectOk(driver_.ReleaseAddress(Json{{"PoolID", "192.168.7.0/24"}, {"Address", "0.0.0.0"}}));
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "192.168.7.0/24"}}));
  EXPECT_TRUE(client_.Get("IPPool", "", "libnetwork-192-168-7-0-24"));
  ExpectOk(driver_.DeleteNetwork(Json{{"NetworkID", kNet}}));
  EXPECT_FALSE(client_.Get("IPPool", "", "libnetwork-192-168-7-0-24"));
  ExpectOk(driver_.ReleasePool(Json{{"PoolID", "CalicoPoolIPv4"}}));
}

TEST_F(DriverTest, RequestAddressFromCalicoIpam) {
  std::string a = RequestAddress();
  auto cidr = net::CIDR::Parse(a);
  ASSERT_TRUE(cidr) << a;
  EXPECT_EQ(cidr->prefix_len(), 32);
  EXPECT_TRUE(net::CIDR::Parse("10.65.0.0/16")->Contains(cidr->addr()));
  std::string b = RequestAddress();
  EXPECT_NE(a, b);
  // The allocation is this node's, under its own handle.
  ipam::IpamClient ipam(backend_);
  auto attr = ipam.GetAssignmentAttributes(cidr->addr());
  ASSERT_TRUE(attr && *attr);
  EXPECT_THAT((*attr)->handle_id, HasSubstr("libnetwork."));

  // A specific address (--ip), then the same again.
  EXPECT_EQ(RequestAddress(kPoolIdV4, "10.65.3.7"), "10.65.3.7/32");
  EXPECT_EQ(Err(driver_.RequestAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "10.65.3.7"}})),
            "The address 10.65.3.7 is already in use");
  EXPECT_EQ(Err(driver_.RequestAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "172.31.0.1"}})),
            "The address 172.31.0.1 is not in one of the configured Calico IP pools");
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "bogus"}})),
              HasSubstr("invalid address"));
  // Release frees it; a second release is harmless.
  ExpectOk(driver_.ReleaseAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "10.65.3.7"}}));
  ExpectOk(driver_.ReleaseAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "10.65.3.7"}}));
  EXPECT_EQ(RequestAddress(kPoolIdV4, "10.65.3.7"), "10.65.3.7/32");
  EXPECT_THAT(Err(driver_.ReleaseAddress(Json{{"PoolID", kPoolIdV4}, {"Address", "nope"}})),
              HasSubstr("invalid address"));
  EXPECT_THAT(Err(driver_.ReleaseAddress(Json{{"PoolID", kPoolIdV4}})),
              HasSubstr("missing field \"Address\""));
}

TEST_F(DriverTest, RequestAddressErrors) {
  EXPECT_EQ(Err(driver_.RequestAddress(
                Json{{"PoolID", kPoolIdV4},
                     {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}})),
            "Calico IPAM does not support specifying a gateway.");
  EXPECT_THAT(Err(driver_.RequestAddress(Json::object())), HasSubstr("missing field \"PoolID\""));
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", "garbage"}})),
              HasSubstr("unknown PoolID"));
  // A subnet pool restricts the address.
  AddPool("other", "10.70.0.0/24");
  EXPECT_THAT(RequestAddress("10.70.0.0/24"), HasSubstr("10.70.0."));
  EXPECT_THAT(
      Err(driver_.RequestAddress(Json{{"PoolID", "10.70.0.0/24"}, {"Address", "10.65.0.9"}})),
      HasSubstr("is not in the network's pool 10.70.0.0/24"));
  // The pool was deleted under the network.
  ASSERT_TRUE(client_.Delete("IPPool", "", "other"));
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", "10.70.0.0/24"}})),
              HasSubstr("references a Calico pool which has been deleted"));
  // No IPv6 pool at all.
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", kPoolIdV6}})),
              HasSubstr("There are no available IP addresses in the configured Calico IP pools"));
  // Exhausted.
  AddPool("tiny", "10.80.0.0/30", Json{{"blockSize", 30}});
  for (int i = 0; i < 4; ++i)
    RequestAddress("10.80.0.0/30");
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", "10.80.0.0/30"}})),
              HasSubstr("There are no available IP addresses"));
}

TEST_F(DriverTest, CreateNetworkMakesProfileAndRecord) {
  ExpectOk(CreateCalicoNetwork(kNet));
  auto profile = client_.Get("Profile", "", kNet);
  ASSERT_TRUE(profile) << profile.error().message();
  std::string label = "libnetwork.projectcalico.org/" + kNet.substr(0, 63);
  EXPECT_TRUE(profile->spec()["labelsToApply"].contains(label));
  EXPECT_EQ(profile->spec()["ingress"][0]["source"].value("selector", ""), "has(" + label + ")");
  EXPECT_EQ(profile->spec()["egress"][0].value("action", ""), "Allow");
  auto record = backend_.Get(std::string(kNetworkPrefix) + kNet);
  ASSERT_TRUE(record);
  EXPECT_EQ(Json::parse(record->value).value("NetworkID", ""), kNet);
  // A repeat (Docker replays networks after a daemon restart) is fine, and keeps user edits.
  auto edited = *profile;
  edited.spec()["egress"] = Json::array({{{"action", "Deny"}}});
  ASSERT_TRUE(client_.Update(edited));
  ExpectOk(CreateCalicoNetwork(kNet));
  EXPECT_EQ(client_.Get("Profile", "", kNet)->spec()["egress"][0].value("action", ""), "Deny");

  ExpectOk(driver_.DeleteNetwork(Json{{"NetworkID", kNet}}));
  EXPECT_FALSE(client_.Get("Profile", "", kNet));
  EXPECT_FALSE(backend_.Get(std::string(kNetworkPrefix) + kNet));
  ExpectOk(driver_.DeleteNetwork(Json{{"NetworkID", kNet}}));  // idempotent
}

TEST_F(DriverTest, CreateNetworkOptionsGoOnThePool) {
  ASSERT_EQ(driver_.RequestPool(Json{{"Pool", "192.168.0.0/24"}}).value("PoolID", ""),
            "192.168.0.0/24");
  ExpectOk(CreateCalicoNetwork(
      kNet, "192.168.0.0/24",
      Json{{"ipip", "true"}, {"nat-outgoing", "1"}, {"com.docker.network.driver.mtu", "1400"}}));
  auto pool = client_.Get("IPPool", "", "libnetwork-192-168-0-0-24");
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->spec().value("ipipMode", ""), "Always");
  EXPECT_TRUE(pool->spec().value("natOutgoing", false));
  // Someone else's pool is not changed behind their back.
  EXPECT_THAT(Err(CreateCalicoNetwork(kNet2, "10.65.0.0/16", Json{{"ipip", "CrossSubnet"}})),
              HasSubstr("was not created by this driver and its ipipMode is Never, the network "
                        "asks for CrossSubnet"));
  EXPECT_FALSE(client_.Get("Profile", "", kNet2)) << "nothing is left of a failed create";
  // ... but asking for what it has is fine.
  ExpectOk(CreateCalicoNetwork(kNet2, "10.65.0.0/16", Json{{"ipip", "false"}}));
}

TEST_F(DriverTest, CreateNetworkErrors) {
  EXPECT_THAT(Err(driver_.CreateNetwork(Json::object())), HasSubstr("missing field \"NetworkID\""));
  EXPECT_THAT(Err(driver_.CreateNetwork(Json{{"NetworkID", "../etc"}})),
              HasSubstr("invalid NetworkID"));
  EXPECT_THAT(Err(CreateCalicoNetwork(kNet, "0.0.0.0/0", Json{{"ipip", "true"}})),
              HasSubstr("create the network with --subnet"));
  EXPECT_THAT(Err(CreateCalicoNetwork(kNet, "0.0.0.0/0", Json{{"color", "blue"}})),
              HasSubstr("does not support the option \"color\""));
  EXPECT_THAT(
      Err(CreateCalicoNetwork(kNet, "0.0.0.0/0", Json{{"com.docker.network.driver.mtu", "9x"}})),
      HasSubstr("invalid MTU"));
  EXPECT_EQ(Err(driver_.CreateNetwork(
                Json{{"NetworkID", kNet}, {"Options", {{"com.docker.network.internal", true}}}})),
            "Calico driver does not support the flag --internal.");
  EXPECT_THAT(Err(driver_.CreateNetwork(Json{
                  {"NetworkID", kNet},
                  {"IPv4Data", Json::array({{{"Pool", "1.0.0.0/8"}}, {{"Pool", "2.0.0.0/8"}}})}})),
              HasSubstr("multiple Gateways defined for IPv4"));
  EXPECT_THAT(Err(driver_.CreateNetwork(Json{{"NetworkID", kNet}, {"IPv4Data", "x"}})),
              HasSubstr("must be a list"));
  EXPECT_THAT(Err(CreateCalicoNetwork(kNet, "10.99.0.0/24")),
              HasSubstr("references a Calico pool (10.99.0.0/24) which has been deleted"));
  EXPECT_FALSE(client_.Get("Profile", "", kNet));
}

TEST_F(DriverTest, DockerIpamNetworkGetsRoutingOnlyPool) {
  // docker network create --driver calico --opt ipip=true --opt nat-outgoing=true --subnet
  // 192.168.5.0/24
  Json req = {
      {"NetworkID", kNet},
      {"Options", {{"com.docker.network.generic", {{"ipip", "true"}, {"nat-outgoing", "true"}}}}},
      {"IPv4Data", Json::array({{{"AddressSpace", "LocalDefault"},
                                 {"Pool", "192.168.5.0/24"},
                                 {"Gateway", "192.168.5.1/24"}}})}};
  ExpectOk(driver_.CreateNetwork(req));
  auto pool = client_.Get("IPPool", "", "libnetwork-192-168-5-0-24");
  ASSERT_TRUE(pool);
  EXPECT_TRUE(pool->spec().value("disabled", false));
  EXPECT_EQ(pool->spec().value("ipipMode", ""), "Always");
  EXPECT_TRUE(pool->spec().value("natOutgoing", false));
  EXPECT_EQ(pool->metadata()["annotations"].value(kNetworkAnnotation, ""), kNet);
  // Calico IPAM does not hand out its addresses.
  EXPECT_THAT(Err(driver_.RequestPool(Json{{"Pool", "192.168.5.0/24"}})), HasSubstr("is disabled"));
  // Endpoints get Docker's addresses, stored as /32.
  ExpectOk(CreateEndpoint(kNet, kEp, "192.168.5.2/24"));
  EXPECT_EQ(Wep(kEp)->spec()["ipNetworks"], Json::array({"192.168.5.2/32"}));
  ExpectOk(driver_.DeleteEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  ExpectOk(driver_.DeleteNetwork(Json{{"NetworkID", kNet}}));
  EXPECT_FALSE(client_.Get("IPPool", "", "libnetwork-192-168-5-0-24"));
  // An overlapping subnet is refused with Calico's reason.
  req["IPv4Data"][0]["Pool"] = "10.65.8.0/24";
  req["IPv4Data"][0]["Gateway"] = "10.65.8.1/24";
  EXPECT_THAT(Err(driver_.CreateNetwork(req)),
              HasSubstr("cannot create a Calico IP pool for the subnet 10.65.8.0/24"));
}

TEST_F(DriverTest, EndpointLifecycle) {
  ExpectOk(CreateCalicoNetwork(kNet));
  std::string addr = RequestAddress();
  Json created = CreateEndpoint(kNet, kEp, addr);
  EXPECT_EQ(created, Json::parse(R"({"Interface":{"MacAddress":"EE:EE:EE:EE:EE:EE"}})"));
  auto wep = Wep(kEp);
  ASSERT_TRUE(wep) << wep.error().message();
  EXPECT_EQ(wep->name(), "node--1-libnetwork-libnetwork-" + kEp);
  const Json& spec = wep->spec();
  EXPECT_EQ(spec.value("orchestrator", ""), "libnetwork");
  EXPECT_EQ(spec.value("workload", ""), "libnetwork");
  EXPECT_EQ(spec.value("node", ""), "node-1");
  EXPECT_EQ(spec.value("endpoint", ""), kEp);
  EXPECT_EQ(spec.value("interfaceName", ""), "cali0123456789a");
  EXPECT_EQ(spec.value("mac", ""), "ee:ee:ee:ee:ee:ee");
  EXPECT_EQ(spec["ipNetworks"], Json::array({addr}));
  EXPECT_EQ(spec["profiles"], Json::array({kNet}));
  ExpectOk(driver_.EndpointOperInfo(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));

  Json joined = driver_.Join(Json{{"NetworkID", kNet},
                                  {"EndpointID", kEp},
                                  {"SandboxKey", "/var/run/docker/netns/x"},
                                  {"Options", Json::object()}});
  EXPECT_EQ(joined, Json::parse(R"({"InterfaceName":{"SrcName":"temp0123456789a","DstPrefix":"eth"},
      "Gateway":"169.254.1.1","DisableGatewayService":false,
      "StaticRoutes":[{"Destination":"169.254.1.1/32","RouteType":1,"NextHop":""}]})"));
  ASSERT_EQ(plumber_.created.size(), 1u);
  const VethPairSpec& veth = plumber_.created[0];
  EXPECT_EQ(veth.host_ifname, "cali0123456789a");
  EXPECT_EQ(veth.temp_ifname, "temp0123456789a");
  EXPECT_EQ(veth.container_mac, "ee:ee:ee:ee:ee:ee");
  EXPECT_EQ(veth.mtu, 0);
  ASSERT_EQ(veth.addresses.size(), 1u);
  EXPECT_EQ(net::CIDR(veth.addresses[0], 32).String(), addr);

  ExpectOk(driver_.Leave(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  EXPECT_EQ(plumber_.deleted, std::vector<std::string>{"cali0123456789a"});
  ExpectOk(driver_.DeleteEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  EXPECT_FALSE(Wep(kEp));
  ExpectOk(driver_.ReleaseAddress(
      Json{{"PoolID", kPoolIdV4}, {"Address", addr.substr(0, addr.find('/'))}}));
  // Deletes are idempotent (Docker retries them); lookups of the gone endpoint fail.
  ExpectOk(driver_.DeleteEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  ExpectOk(driver_.Leave(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  EXPECT_THAT(Err(driver_.EndpointOperInfo(Json{{"NetworkID", kNet}, {"EndpointID", kEp}})),
              HasSubstr("endpoint " + kEp + " is not known on node node-1"));
  EXPECT_THAT(Err(driver_.Join(Json{{"NetworkID", kNet}, {"EndpointID", kEp}})),
              HasSubstr("is not known"));
}

TEST_F(DriverTest, UserMacNetworkMtuAndDualStack) {
  AddPool("v6", "fd00:65::/112", Json{{"blockSize", 122}});
  ExpectOk(CreateCalicoNetwork(kNet, "0.0.0.0/0", Json{{"com.docker.network.driver.mtu", "1440"}}));
  Json iface = {{"Address", "10.65.0.9/32"},
                {"AddressIPv6", "fd00:65::9/128"},
                {"MacAddress", "02:42:ac:11:00:02"}};
  Json created =
      driver_.CreateEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}, {"Interface", iface}});
  EXPECT_EQ(created, Json::parse(R"({"Interface":{"MacAddress":""}})"));
  EXPECT_EQ(Wep(kEp)->spec().value("mac", ""), "02:42:ac:11:00:02");
  Json joined = driver_.Join(Json{{"NetworkID", kNet}, {"EndpointID", kEp}});
  EXPECT_EQ(joined.value("GatewayIPv6", ""), "fe80::1234:56ff:fe78:9abc");
  EXPECT_EQ(joined["StaticRoutes"].size(), 2u);
  EXPECT_EQ(joined["StaticRoutes"][1].value("Destination", ""), "fe80::1234:56ff:fe78:9abc/128");
  ASSERT_EQ(plumber_.created.size(), 1u);
  EXPECT_EQ(plumber_.created[0].mtu, 1440);
  EXPECT_EQ(plumber_.created[0].container_mac, "02:42:ac:11:00:02");
  EXPECT_EQ(plumber_.created[0].addresses.size(), 2u);
  // The driver-wide MTU applies when the network has none.
  Driver with_mtu(backend_, plumber_, DriverOptions{.node = "node-1", .veth_mtu = 1300});
  ExpectOk(CreateCalicoNetwork(kNet2));
  ExpectOk(CreateEndpoint(kNet2, kEp2, "10.65.0.10/32"));
  ExpectOk(with_mtu.Join(Json{{"NetworkID", kNet2}, {"EndpointID", kEp2}}));
  EXPECT_EQ(plumber_.created.back().mtu, 1300);
}

TEST_F(DriverTest, CreateEndpointErrors) {
  EXPECT_THAT(Err(CreateEndpoint(kNet, kEp, "10.65.0.5/32")),
              HasSubstr("network " + kNet + " is not a Calico network known to this driver"));
  ExpectOk(CreateCalicoNetwork(kNet));
  EXPECT_EQ(Err(CreateEndpoint(kNet, kEp, "")), "No address assigned for endpoint");
  EXPECT_THAT(Err(CreateEndpoint(kNet, kEp, "10.65.0.300/32")),
              HasSubstr("invalid endpoint address"));
  EXPECT_THAT(Err(CreateEndpoint(kNet, kEp, "10.65.0.5/32", "zz:zz")),
              HasSubstr("invalid MAC address"));
  EXPECT_THAT(Err(driver_.CreateEndpoint(Json{{"NetworkID", kNet}})),
              HasSubstr("missing field \"EndpointID\""));
  EXPECT_THAT(Err(driver_.CreateEndpoint(
                  Json{{"NetworkID", kNet}, {"EndpointID", kEp}, {"Interface", "x"}})),
              HasSubstr("\"Interface\" must be an object"));
  EXPECT_FALSE(Wep(kEp));
}

TEST_F(DriverTest, JoinFailuresAreReported) {
  ExpectOk(CreateCalicoNetwork(kNet));
  ExpectOk(CreateEndpoint(kNet, kEp, RequestAddress()));
  plumber_.fail_create = true;
  EXPECT_EQ(Err(driver_.Join(Json{{"NetworkID", kNet}, {"EndpointID", kEp}})),
            "injected: cannot create veth");
  EXPECT_THAT(Err(driver_.Join(Json{{"NetworkID", kNet2}, {"EndpointID", kEp}})),
              HasSubstr("not a Calico network"));
  plumber_.fail_delete = true;
  EXPECT_EQ(Err(driver_.Leave(Json{{"NetworkID", kNet}, {"EndpointID", kEp}})),
            "injected: cannot delete veth");
  // DeleteEndpoint still removes the endpoint (the veth is best effort there).
  ExpectOk(driver_.DeleteEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  EXPECT_FALSE(Wep(kEp));
}

TEST_F(DriverTest, DatastoreFailuresBecomeErr) {
  ExpectOk(CreateCalicoNetwork(kNet));
  backend_.FailNext(Error(ErrorCode::kUnavailable, "etcd is down"));
  EXPECT_THAT(Err(driver_.RequestAddress(Json{{"PoolID", kPoolIdV4}})), HasSubstr("etcd is down"));
  backend_.FailNext(Error(ErrorCode::kUnavailable, "etcd is down"));
  EXPECT_THAT(Err(CreateEndpoint(kNet, kEp, "10.65.0.5/32")), HasSubstr("etcd is down"));
  backend_.FailNext(Error(ErrorCode::kUnavailable, "etcd is down"));
  EXPECT_THAT(Err(driver_.DeleteNetwork(Json{{"NetworkID", kNet}})), HasSubstr("etcd is down"));
  ASSERT_TRUE(backend_.Put(std::string(kNetworkPrefix) + kNet2, "{not json"));
  EXPECT_THAT(Err(CreateEndpoint(kNet2, kEp, "10.65.0.5/32")), HasSubstr("corrupt"));
}

TEST_F(DriverTest, RestartedDriverKnowsEverything) {
  ExpectOk(CreateCalicoNetwork(kNet, "0.0.0.0/0", Json{{"com.docker.network.driver.mtu", "1450"}}));
  std::string addr = RequestAddress();
  ExpectOk(CreateEndpoint(kNet, kEp, addr));
  FakePlumber plumber2;
  Driver restarted(backend_, plumber2, DriverOptions{.node = "node-1"});
  Json joined = restarted.Join(Json{{"NetworkID", kNet}, {"EndpointID", kEp}});
  ExpectOk(joined);
  ASSERT_EQ(plumber2.created.size(), 1u);
  EXPECT_EQ(plumber2.created[0].mtu, 1450);
  EXPECT_EQ(net::CIDR(plumber2.created[0].addresses.at(0), 32).String(), addr);
  ExpectOk(restarted.DeleteEndpoint(Json{{"NetworkID", kNet}, {"EndpointID", kEp}}));
  ExpectOk(restarted.DeleteNetwork(Json{{"NetworkID", kNet}}));
}

// Every method of Docker's remote network and IPAM driver APIs is in the dispatch table (an
// unrouted one would be a 404 to dockerd), and each answers a request that carries nothing.
TEST_F(DriverTest, EveryPluginMethodIsRouted) {
  for (const char* m : {"Plugin.Activate",
                        "NetworkDriver.GetCapabilities",
                        "NetworkDriver.CreateNetwork",
                        "NetworkDriver.DeleteNetwork",
                        "NetworkDriver.CreateEndpoint",
                        "NetworkDriver.EndpointOperInfo",
                        "NetworkDriver.DeleteEndpoint",
                        "NetworkDriver.Join",
                        "NetworkDriver.Leave",
                        "NetworkDriver.DiscoverNew",
                        "NetworkDriver.DiscoverDelete",
                        "NetworkDriver.ProgramExternalConnectivity",
                        "NetworkDriver.RevokeExternalConnectivity",
                        "NetworkDriver.AllocateNetwork",
                        "NetworkDriver.FreeNetwork",
                        "IpamDriver.GetCapabilities",
                        "IpamDriver.GetDefaultAddressSpaces",
                        "IpamDriver.RequestPool",
                        "IpamDriver.ReleasePool",
                        "IpamDriver.RequestAddress",
                        "IpamDriver.ReleaseAddress"}) {
    bool known = false;
    Json answer = driver_.Dispatch(m, "{}", &known);
    EXPECT_TRUE(known) << m;
    EXPECT_THAT(Err(answer), ::testing::Not(HasSubstr("unknown method"))) << m;
  }
  EXPECT_THAT(Err(driver_.Call("IpamDriver.Frobnicate", Json::object())),
              HasSubstr("unknown method \"IpamDriver.Frobnicate\""));
}

TEST_F(DriverTest, DispatchHandlesAnyBody) {
  bool known = false;
  EXPECT_EQ(driver_.Dispatch("Plugin.Activate", "", &known)["Implements"].size(), 2u);
  EXPECT_TRUE(known);
  EXPECT_EQ(driver_.Dispatch("Plugin.Activate", "null")["Implements"].size(), 2u);
  EXPECT_THAT(Err(driver_.Dispatch("NetworkDriver.CreateNetwork", "{\"NetworkID\":", &known)),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(Err(driver_.Dispatch("NetworkDriver.CreateNetwork", "[1,2]")),
              HasSubstr("must be a JSON object"));
  EXPECT_THAT(Err(driver_.Dispatch("NetworkDriver.CreateNetwork", "{\"NetworkID\": 7}")),
              HasSubstr("\"NetworkID\" must be a string"));
  EXPECT_THAT(Err(driver_.Dispatch("NetworkDriver.CreateNetwork", "{}")),
              HasSubstr("missing field"));
  EXPECT_THAT(Err(driver_.Dispatch("NetworkDriver.Frobnicate", "{}", &known)),
              HasSubstr("unknown method"));
  EXPECT_FALSE(known);
  for (const char* m :
       {"NetworkDriver.DiscoverNew", "NetworkDriver.DiscoverDelete",
        "NetworkDriver.ProgramExternalConnectivity", "NetworkDriver.RevokeExternalConnectivity",
        "NetworkDriver.AllocateNetwork", "NetworkDriver.FreeNetwork"}) {
    EXPECT_EQ(driver_.Dispatch(m, R"({"DiscoveryType":1,"DiscoveryData":{}})"), Json::object())
        << m;
  }
  // Wrong types deep inside a request are an Err, not a crash.
  EXPECT_TRUE(driver_
                  .Dispatch("NetworkDriver.CreateNetwork",
                            R"({"NetworkID":"n1","Options":{"com.docker.network.generic":[1]}})")
                  .contains("Err"));
  EXPECT_TRUE(
      driver_.Dispatch("NetworkDriver.CreateNetwork", R"({"NetworkID":"n1","IPv4Data":[7]})")
          .contains("Err"));
  EXPECT_TRUE(
      driver_.Dispatch("IpamDriver.RequestAddress", R"({"PoolID":"CalicoPoolIPv4","Options":[]})")
          .contains("Err"));
}

}  // namespace
}  // namespace calico::libnetwork

namespace calico::libnetwork {
namespace {

// Two hosts' dockerds each have their own "net1" (local scope, different IDs): with the Docker
// names known, their endpoints share the first network's profile, so they reach each other like
// one network shared through Docker's old cluster store did.
TEST_F(DriverTest, SameNamedNetworksOfTwoHostsShareOneProfile) {
  std::map<std::string, std::string> names = {{kNet, "net1"}, {kNet2, "net1"}};
  auto lookup = [&](const std::string& id) -> Result<std::string> {
    auto it = names.find(id);
    if (it == names.end()) return NotFound("no network " + id);
    return it->second;
  };
  Driver host1(backend_, plumber_, DriverOptions{.node = "host1", .network_name = lookup});
  Driver host2(backend_, plumber_, DriverOptions{.node = "host2", .network_name = lookup});
  auto create = [&](Driver& d, const std::string& id) {
    return d.CreateNetwork(Json{{"NetworkID", id},
                                {"Options", {{"com.docker.network.generic", Json::object()}}},
                                {"IPv4Data", Json::array({{{"AddressSpace", kLocalAddressSpace},
                                                           {"Pool", "0.0.0.0/0"},
                                                           {"Gateway", "0.0.0.0/0"}}})},
                                {"IPv6Data", Json::array()}});
  };
  auto endpoint = [&](Driver& d, const std::string& net, const std::string& ep,
                      const std::string& addr) {
    return d.CreateEndpoint(
        Json{{"NetworkID", net},
             {"EndpointID", ep},
             {"Interface", {{"Address", addr}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
             {"Options", Json::object()}});
  };
  ExpectOk(create(host1, kNet));
  ExpectOk(create(host2, kNet2));
  ExpectOk(endpoint(host1, kNet, kEp, "10.65.0.2/32"));
  ExpectOk(endpoint(host2, kNet2, kEp2, "10.65.1.2/32"));
  auto profiles_of = [&](Driver& d, const std::string& ep) {
    auto name = d.EndpointName(ep);
    auto w = client_.Get("WorkloadEndpoint", "default", *name);
    return w ? w->spec()["profiles"] : Json();
  };
  EXPECT_EQ(profiles_of(host1, kEp), Json::array({kNet}));
  EXPECT_EQ(profiles_of(host2, kEp2), Json::array({kNet}))
      << "host2's net1 endpoint is not in host1's net1 profile";

  // Without the name (daemon unreachable) the network ID is the profile, as Calico's driver did.
  names.clear();
  const std::string kEp3(64, 'c');
  ExpectOk(endpoint(host2, kNet2, kEp3, "10.65.1.3/32"));
  EXPECT_EQ(profiles_of(host2, kEp3), Json::array({kNet2}));

  // host1's net1 goes away: host2's net1 takes the name over for its next endpoints.
  names = {{kNet, "net1"}, {kNet2, "net1"}};
  ExpectOk(host1.DeleteNetwork(Json{{"NetworkID", kNet}}));
  const std::string kEp4(64, 'd');
  ExpectOk(endpoint(host2, kNet2, kEp4, "10.65.1.4/32"));
  EXPECT_EQ(profiles_of(host2, kEp4), Json::array({kNet2}));
}

}  // namespace
}  // namespace calico::libnetwork
