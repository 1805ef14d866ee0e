// The driver as Docker drives it: the HTTP protocol on a unix socket, in the call order dockerd
// 20.10 uses (DESIGN.md "Real container runtimes"), with real veths in a test host namespace and
// Docker's own part (moving the temporary end into the sandbox) done by the test. Two containers
// ping each other; everything is gone afterwards.
#include "calico/libnetwork/server.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/dataplane/testing/netns_fixture.h"
#include "calico/datastore/client.h"
#include "calico/datastore/testing/mem_backend.h"
#include "calico/ipam/ipam.h"

namespace calico::libnetwork {
namespace {

using dataplane::testing::MakeHost;
using dataplane::testing::ScopedNetns;
using ::testing::HasSubstr;

const std::string kNetId(64, 'c');

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    ASSERT_TRUE(host_.ok() && a_.ok() && b_.ok());
    ASSERT_TRUE(MakeHost(host_));
    model::Resource pool("IPPool", "default-ipv4-ippool");
    pool.spec() = Json{{"cidr", "10.66.0.0/16"}};
    ASSERT_TRUE(datastore::Client(backend_).Create(pool));
    dir_ = std::filesystem::temp_directory_path() / ("lnw-srv-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    socket_ = (dir_ / "calico.sock").string();
    server_ = std::make_unique<PluginServer>(driver_,
                                             ServerOptions{.socket_path = socket_, .mode = 0600});
    auto started = server_->Start();
    ASSERT_TRUE(started) << started.error().message();
    auto c = UnixHttpClient::Connect(socket_);
    ASSERT_TRUE(c) << c.error().message();
    client_ = std::move(*c);
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // One plugin call as Docker makes it (no Content-Type); the answer must not be an Err.
  Json Call(const std::string& method, const Json& body) {
    auto r = client_->Post("/" + method, body.dump());
    EXPECT_TRUE(r) << method << ": " << (r ? "" : r.error().message());
    if (!r) return Json::object();
    EXPECT_EQ(r->status, 200) << method;
    EXPECT_EQ(r->headers["content-type"], "application/vnd.docker.plugins.v1+json");
    Json j = Json::parse(r->body, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r->body;
    EXPECT_FALSE(j.contains("Err")) << method << ": " << r->body;
    return j;
  }

  struct Container {
    std::string endpoint_id;
    std::string ip;  // bare
  };

  // docker run --net <net>: RequestAddress, CreateEndpoint, Join, ProgramExternalConnectivity,
  // EndpointOperInfo; then what Docker does with the Join answer inside the sandbox.
  Container Run(const ScopedNetns& sandbox, const std::string& endpoint_id) {
    Json addr = Call("IpamDriver.RequestAddress",
                     {{"PoolID", "CalicoPoolIPv4"}, {"Address", ""}, {"Options", Json::object()}});
    std::string cidr = addr.value("Address", "");
    Json ep = Call("NetworkDriver.CreateEndpoint",
                   {{"NetworkID", kNetId},
                    {"EndpointID", endpoint_id},
                    {"Interface", {{"Address", cidr}, {"AddressIPv6", ""}, {"MacAddress", ""}}},
                    {"Options", {{"com.docker.network.endpoint.exposedports", nullptr}}}});
    std::string mac = ep["Interface"].value("MacAddress", "");
    EXPECT_EQ(mac, "EE:EE:EE:EE:EE:EE");
    Json join =
        Call("NetworkDriver.Join", {{"NetworkID", kNetId},
                                    {"EndpointID", endpoint_id},
                                    {"SandboxKey", "/var/run/docker/netns/" + sandbox.name()},
                                    {"Options", Json::object()}});
    Call("NetworkDriver.ProgramExternalConnectivity",
         {{"NetworkID", kNetId}, {"EndpointID", endpoint_id}, {"Options", Json::object()}});
    EXPECT_EQ(Call("NetworkDriver.EndpointOperInfo",
                   {{"NetworkID", kNetId}, {"EndpointID", endpoint_id}}),
              Json::parse(R"({"Value":{}})"));

    std::string src = join["InterfaceName"].value("SrcName", "");
    std::string dst = join["InterfaceName"].value("DstPrefix", "") + "0";
    EXPECT_EQ(src, "temp" + endpoint_id.substr(0, 11));
    EXPECT_EQ(dst, "eth0");
    EXPECT_EQ(host_.Exec("ip link set " + src + " netns " + sandbox.name()), 0);
    EXPECT_EQ(sandbox.Exec("ip link set " + src + " name " + dst), 0);
    EXPECT_EQ(sandbox.Exec("ip link set " + dst + " address " + mac), 0);
    EXPECT_EQ(sandbox.Exec("ip addr add " + cidr + " dev " + dst), 0);
    EXPECT_EQ(sandbox.Exec("ip link set " + dst + " up"), 0);
    for (const Json& r : join["StaticRoutes"]) {
      EXPECT_EQ(r.value("RouteType", -1), 1);
      EXPECT_EQ(sandbox.Exec("ip route add " + r.value("Destination", "") + " dev " + dst +
                             " scope link"),
                0);
    }
    EXPECT_EQ(sandbox.Exec("ip route add default via " + join.value("Gateway", "") + " dev " + dst),
              0);
    return {endpoint_id, cidr.substr(0, cidr.find('/'))};
  }

  // The container exits: RevokeExternalConnectivity, Leave, DeleteEndpoint, ReleaseAddress.
  void Stop(const Container& c) {
    Call("NetworkDriver.RevokeExternalConnectivity",
         {{"NetworkID", kNetId}, {"EndpointID", c.endpoint_id}});
    Call("NetworkDriver.Leave", {{"NetworkID", kNetId}, {"EndpointID", c.endpoint_id}});
    Call("NetworkDriver.DeleteEndpoint", {{"NetworkID", kNetId}, {"EndpointID", c.endpoint_id}});
    Call("IpamDriver.ReleaseAddress", {{"PoolID", "CalicoPoolIPv4"}, {"Address", c.ip}});
  }

  ScopedNetns host_{"lnw-shost"};
  ScopedNetns a_{"lnw-sa"};
  ScopedNetns b_{"lnw-sb"};
  datastore::MemBackend backend_;
  std::unique_ptr<Plumber> plumber_ = NewHostPlumber(host_.path());
  Driver driver_{backend_, *plumber_, DriverOptions{.node = "host-1"}};
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<PluginServer> server_;
  std::unique_ptr<UnixHttpClient> client_;
};

TEST_F(ServerTest, DockerCallOrderTwoContainersPing) {
  // docker network create --driver calico --ipam-driver calico net1
  EXPECT_EQ(Call("Plugin.Activate", Json()),
            Json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
  EXPECT_EQ(Call("NetworkDriver.GetCapabilities", Json()).value("Scope", ""), "local");
  Call("IpamDriver.GetCapabilities", Json());
  Json spaces = Call("IpamDriver.GetDefaultAddressSpaces", Json());
  Json pool = Call("IpamDriver.RequestPool", {{"AddressSpace", spaces["LocalDefaultAddressSpace"]},
                                              {"Pool", ""},
                                              {"SubPool", ""},
                                              {"Options", Json::object()},
                                              {"V6", false}});
  ASSERT_EQ(pool.value("PoolID", ""), "CalicoPoolIPv4");
  Call("NetworkDriver.CreateNetwork",
       {{"NetworkID", kNetId},
        {"Options",
         {{"com.docker.network.enable_ipv6", false},
          {"com.docker.network.generic", Json::object()}}},
        {"IPv4Data", Json::array({{{"AddressSpace", "CalicoLocalAddressSpace"},
                                   {"Pool", pool["Pool"]},
                                   {"Gateway", pool["Data"]["com.docker.network.gateway"]}}})},
        {"IPv6Data", Json::array()}});

  Container a = Run(a_, "aaaa0000111122223333444455556666777788889999aaaabbbbccccddddeeee");
  Container b = Run(b_, "bbbb0000111122223333444455556666777788889999aaaabbbbccccddddeeee");
  EXPECT_NE(a.ip, b.ip);
  EXPECT_THAT(host_.ExecOut("ip route show " + a.ip), HasSubstr("dev caliaaaa0000111"));
  EXPECT_EQ(host_.ExecOut("cat /proc/sys/net/ipv4/conf/caliaaaa0000111/proxy_arp"), "1\n");
  std::string out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 " + b.ip, &out), 0) << out;
  EXPECT_EQ(b_.Exec("busybox ping -c 1 -W 2 " + a.ip, &out), 0) << out;
  EXPECT_EQ(a_.Exec("busybox ping -c 1 -W 2 10.99.0.1", &out), 0) << out;
  EXPECT_EQ(datastore::Client(backend_).List("WorkloadEndpoint")->size(), 2u);

  Stop(a);
  Stop(b);
  EXPECT_THAT(host_.ExecOut("ip -o link show"), ::testing::Not(HasSubstr("cali")));
  EXPECT_EQ(host_.ExecOut("ip route show " + a.ip), "");
  EXPECT_TRUE(datastore::Client(backend_).List("WorkloadEndpoint")->empty());
  ipam::IpamClient ipam(backend_);
  EXPECT_FALSE(*ipam.GetAssignmentAttributes(*net::IPAddr::Parse(a.ip))) << "released";

  // docker network rm
  Call("NetworkDriver.DeleteNetwork", {{"NetworkID", kNetId}});
  Call("IpamDriver.ReleasePool", {{"PoolID", "CalicoPoolIPv4"}});
  EXPECT_FALSE(datastore::Client(backend_).Get("Profile", "", kNetId));
}

TEST_F(ServerTest, ErrorsComeBackAsErrWith200) {
  auto r = client_->Post("/NetworkDriver.Join", R"({"NetworkID":"x","EndpointID":"y"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(Json::parse(r->body).value("Err", ""), HasSubstr("not a Calico network"));
  r = client_->Post("/IpamDriver.RequestAddress", "not json at all");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(Json::parse(r->body).value("Err", ""), HasSubstr("not valid JSON"));
}

}  // namespace
}  // namespace calico::libnetwork
