#include "calico/bird/bird_status.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/golden.h"

namespace calico::bird {
namespace {

using ::testing::HasSubstr;

std::string ReadTestdata(const std::string& name) {
  return calico::testing::ReadSourceFile("src/calico/bird/testdata/" + name);
}

void ExpectGolden(const std::string& name, const std::string& text) {
  calico::testing::ExpectGolden("src/calico/bird/testdata/" + name, text);
}

// ---- Parser: real birdc output from BIRD 2.0.12 (captured in two namespaces) ----

TEST(ParseBirdProtocolsTest, BirdcEstablished) {
  auto peers = ParseBirdProtocols(ReadTestdata("birdc/show_protocols_established.txt"));
  ASSERT_TRUE(peers) << peers.error().message();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0], (BgpPeerStatus{.name = "Mesh_198_18_0_2",
                                        .peer_address = "198.18.0.2",
                                        .type = BgpPeerType::kNodeToNodeMesh,
                                        .state = "up",
                                        .since = "13:28:02.898",
                                        .bgp_state = "Established"}));
  EXPECT_EQ((*peers)[1].peer_address, "198.18.0.99");
  EXPECT_EQ((*peers)[1].type, BgpPeerType::kNodeSpecific);
  EXPECT_EQ((*peers)[1].state, "start");
  EXPECT_EQ((*peers)[1].bgp_state, "Connect");
}

TEST(ParseBirdProtocolsTest, BirdcStarting) {
  auto peers = ParseBirdProtocols(ReadTestdata("birdc/show_protocols_starting.txt"));
  ASSERT_TRUE(peers) << peers.error().message();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].bgp_state, "Active");
  EXPECT_EQ((*peers)[0].state, "start");
}

TEST(ParseBirdProtocolsTest, BirdcMixedFamiliesPortsAndDown) {
  auto peers = ParseBirdProtocols(ReadTestdata("birdc/show_protocols_mixed.txt"));
  ASSERT_TRUE(peers) << peers.error().message();
  ASSERT_EQ(peers->size(), 3u);
  // Disabled: BIRD 2 prints no Info column.
  EXPECT_EQ((*peers)[0].state, "down");
  EXPECT_EQ((*peers)[0].bgp_state, "");
  EXPECT_EQ((*peers)[1].peer_address, "198.18.0.3");
  EXPECT_EQ((*peers)[1].port, 1179);
  EXPECT_EQ((*peers)[1].type, BgpPeerType::kGlobal);
  EXPECT_EQ((*peers)[1].bgp_state, "Idle");
  EXPECT_EQ((*peers)[2].peer_address, "fd00:1::2");
  EXPECT_EQ((*peers)[2].family, 6);
  EXPECT_EQ((*peers)[2].bgp_state, "Active");
  EXPECT_EQ((*peers)[2].info, "Socket: Connection closed");
}

TEST(ParseBirdProtocolsTest, ControlSocketReply) {
  auto peers = ParseBirdProtocols(ReadTestdata("birdc/socket_show_protocols.txt"));
  ASSERT_TRUE(peers) << peers.error().message();
  ASSERT_EQ(peers->size(), 2u);
  EXPECT_EQ((*peers)[0].peer_address, "198.18.0.2");
  EXPECT_EQ((*peers)[0].bgp_state, "Established");
}

// The BIRD 1 reply from calicoctl's own test (reference calicoctl §5.6).
TEST(ParseBirdProtocolsTest, CalicoctlBird1Sample) {
  const std::string reply =
      "0001 BIRD 1.5.0 ready.\n"
      "2002-name     proto    table    state  since       info\n"
      "1002-kernel1  Kernel   master   up     2016-11-21\n"
      " device1  Device   master   up     2016-11-21\n"
      " direct1  Direct   master   up     2016-11-21\n"
      " Mesh_172_17_8_102 BGP      master   up     2016-11-21  Established\n"
      " Meshd_172_17_8_103 BGP      master   up     2016-11-21  Established\n"
      " Global_172_17_8_103 BGP      master   up     2016-11-21  Established\n"
      " Node_172_17_8_104 BGP      master   down     2016-11-21  Failed  Socket: error\n"
      "0000\n";
  auto peers = ParseBirdProtocols(reply);
  ASSERT_TRUE(peers) << peers.error().message();
  ASSERT_EQ(peers->size(), 3u);
  EXPECT_EQ((*peers)[2], (BgpPeerStatus{.name = "Node_172_17_8_104",
                                        .peer_address = "172.17.8.104",
                                        .type = BgpPeerType::kNodeSpecific,
                                        .state = "down",
                                        .since = "2016-11-21",
                                        .bgp_state = "Failed",
                                        .info = "Socket: error"}));
}

TEST(ParseBirdProtocolsTest, Errors) {
  EXPECT_THAT(ParseBirdProtocols("").error().message(), HasSubstr("unknown BIRD table output"));
  EXPECT_THAT(ParseBirdProtocols("0001 BIRD 2.0.12 ready.\n2002-a b c\n0000\n").error().message(),
              HasSubstr("unknown BIRD table output format"));
  EXPECT_THAT(ParseBirdProtocols("0001 BIRD ready.\n2002-name proto table state since info\n"
                                 "7777 what\n")
                  .error()
                  .message(),
              HasSubstr("unexpected output line from BIRD: 7777 what"));
  EXPECT_THAT(ParseBirdProtocols("0001 BIRD ready.\n9001 syntax error\n").error().message(),
              HasSubstr("BIRD error: syntax error"));
  auto unreachable = ParseBirdProtocols(
      "Unable to connect to server control socket (/x/bird.ctl): No such file or directory\n");
  ASSERT_FALSE(unreachable);
  EXPECT_EQ(unreachable.error().code(), ErrorCode::kUnavailable);
}

// ---- Rendering (golden) ----

TEST(RenderNodeStatusTest, CalicoctlExample) {
  NodeStatusInput in;
  in.peers = {{.name = "Mesh_172_17_8_102",
               .peer_address = "172.17.8.102",
               .type = BgpPeerType::kNodeToNodeMesh,
               .state = "up",
               .since = "2016-11-21",
               .bgp_state = "Established"},
              {.name = "Node_172_17_8_104",
               .peer_address = "172.17.8.104",
               .type = BgpPeerType::kNodeSpecific,
               .state = "down",
               .since = "2016-11-21",
               .bgp_state = "Failed",
               .info = "Socket: error"}};
  auto text = RenderNodeStatus(in);
  ASSERT_TRUE(text) << text.error().message();
  // Exactly the reference's sample (calicoctl §5.6).
  EXPECT_EQ(*text,
            "Calico process is running.\n"
            "\n"
            "IPv4 BGP status\n"
            "+--------------+-------------------+-------+------------+----------------------+\n"
            "| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |         INFO         |\n"
            "+--------------+-------------------+-------+------------+----------------------+\n"
            "| 172.17.8.102 | node-to-node mesh | up    | 2016-11-21 | Established          |\n"
            "| 172.17.8.104 | node specific     | down  | 2016-11-21 | Failed Socket: error |\n"
            "+--------------+-------------------+-------+------------+----------------------+\n"
            "\n"
            "IPv6 BGP status\n"
            "No IPv6 peers found.\n"
            "\n");
  ExpectGolden("status/calicoctl_example.txt", *text);
}

TEST(RenderNodeStatusTest, FromRealBirdOutput) {
  auto peers = ParseBirdProtocols(ReadTestdata("birdc/show_protocols_mixed.txt"));
  ASSERT_TRUE(peers) << peers.error().message();
  auto text = RenderNodeStatus({.peers = *peers});
  ASSERT_TRUE(text) << text.error().message();
  ExpectGolden("status/mixed.txt", *text);

  auto est = ParseBirdProtocols(ReadTestdata("birdc/show_protocols_established.txt"));
  ASSERT_TRUE(est) << est.error().message();
  auto est_text = RenderNodeStatus({.peers = *est});
  ASSERT_TRUE(est_text) << est_text.error().message();
  ExpectGolden("status/established.txt", *est_text);
}

TEST(RenderNodeStatusTest, NoPeersAndNotRunning) {
  auto none = RenderNodeStatus({});
  ASSERT_TRUE(none);
  EXPECT_EQ(*none,
            "Calico process is running.\n\nIPv4 BGP status\nNo IPv4 peers found.\n\n"
            "IPv6 BGP status\nNo IPv6 peers found.\n\n");

  auto no_bird = RenderNodeStatus({.bird_running = false});
  ASSERT_TRUE(no_bird);
  EXPECT_EQ(*no_bird,
            "Calico process is running.\n\nThe BGP backend process (BIRD) is not running.\n\n");

  auto no_calico = RenderNodeStatus({.calico_running = false});
  ASSERT_FALSE(no_calico);
  EXPECT_EQ(no_calico.error().message(), "Calico process is not running.");
}

// ---- show status / show route (CalicoNodeStatus): real birdc output from BIRD 2.0.12 ----

TEST(ParseBirdShowStatusTest, Birdc) {
  auto st = ParseBirdShowStatus(ReadTestdata("birdc/show_status.txt"));
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_EQ(*st, (BirdDaemonStatus{.ready = true,
                                   .version = "2.0.12",
                                   .router_id = "198.18.0.1",
                                   .server_time = "2026-12-07 14:07:17.703",
                                   .last_boot = "2026-12-07 14:07:11.539",
                                   .last_reconfig = "2026-12-07 14:07:11.539"}));
}

TEST(ParseBirdShowStatusTest, SocketFormAndErrors) {
  auto st = ParseBirdShowStatus(
      "0001 BIRD 2.0.12 ready.\n1000-BIRD 2.0.12\n1011-Router ID is 10.0.0.1\n"
      " Last reboot on 2026-12-07 10:00:00.000\n0013 Daemon is up and running\n");
  ASSERT_TRUE(st) << st.error().message();
  EXPECT_TRUE(st->ready);
  EXPECT_EQ(st->version, "2.0.12");
  EXPECT_EQ(st->router_id, "10.0.0.1");
  EXPECT_EQ(st->last_boot, "2026-12-07 10:00:00.000");
  EXPECT_FALSE(ParseBirdShowStatus("something else\n"));
  auto down = ParseBirdShowStatus("Unable to connect to server control socket (x): No such file");
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error().code(), ErrorCode::kUnavailable);
}

TEST(ParseBirdRoutesTest, Birdc) {
  auto routes = ParseBirdRoutes(ReadTestdata("birdc/show_route.txt"));
  ASSERT_TRUE(routes) << routes.error().message();
  ASSERT_EQ(routes->size(), 6u);
  EXPECT_EQ((*routes)[0], (BirdRoute{.destination = "10.65.1.0/26",
                                     .gateway = "198.18.0.2",
                                     .interface = "ve",
                                     .protocol = "static1",
                                     .primary = true}));
  // Second route to the same destination, learned over BGP and not the best one.
  EXPECT_EQ((*routes)[1], (BirdRoute{.destination = "10.65.1.0/26",
                                     .gateway = "198.18.0.2",
                                     .interface = "ve",
                                     .protocol = "Mesh_198_18_0_2",
                                     .primary = false}));
  EXPECT_EQ((*routes)[2], (BirdRoute{.destination = "10.65.0.0/26",
                                     .gateway = "N/A",
                                     .interface = "blackhole",
                                     .protocol = "static1",
                                     .primary = true}));
  EXPECT_EQ((*routes)[3], (BirdRoute{.destination = "192.0.2.0/28",
                                     .gateway = "N/A",
                                     .interface = "d0",
                                     .protocol = "direct1",
                                     .primary = true}));
  EXPECT_EQ((*routes)[4].destination, "10.65.0.64/26");
  EXPECT_EQ((*routes)[5], (BirdRoute{.destination = "fd00:65:1::/122",
                                     .gateway = "N/A",
                                     .interface = "unreachable",
                                     .protocol = "Mesh_198_18_0_2",
                                     .primary = true,
                                     .family = 6}));
}

TEST(ParseBirdRoutesTest, ContinuationWithoutDestinationIsAnError) {
  auto routes = ParseBirdRoutes("Table master4:\n      unicast [static1 10:00:00] * (200)\n");
  ASSERT_FALSE(routes);
  EXPECT_EQ(routes.error().code(), ErrorCode::kInvalidArgument);
  auto empty = ParseBirdRoutes("BIRD 2.0.12 ready.\n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(ShowBirdPeersTest, NoSocket) {
  auto peers = ShowBirdPeers("/nonexistent/bird.ctl");
  ASSERT_FALSE(peers);
  EXPECT_THAT(peers.error().code(),
              ::testing::AnyOf(ErrorCode::kUnavailable, ErrorCode::kNotFound));
}

// No BIRD answers on the socket: node status says BIRD is not running (after calicoctl's own
// process line, which is not part of the section).
TEST(NodeStatusBgpSectionTest, NoBirdOnTheSocket) {
  auto section = NodeStatusBgpSection("/nonexistent/calico-test/bird.ctl");
  ASSERT_TRUE(section) << section.error().message();
  EXPECT_EQ(*section, "\nThe BGP backend process (BIRD) is not running.\n\n");
}

}  // namespace
}  // namespace calico::bird
