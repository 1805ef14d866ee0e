// The unix-socket HTTP transport and the plugin routes, with the fake Plumber (no privileges: a
// socket under /tmp). The full Docker call order with real veths is in server_test.cc.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/datastore/testing/mem_backend.h"
#include "calico/libnetwork/server.h"
#include "calico/libnetwork/testing/fake_plumber.h"

namespace calico::libnetwork {
namespace {

using ::testing::HasSubstr;

class HttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("lnw-http-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    socket_ = (dir_ / "plugins" / "calico.sock").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string socket_;
  datastore::MemBackend backend_;
  testing::FakePlumber plumber_;
  Driver driver_{backend_, plumber_, DriverOptions{.node = "node-1"}};
};

TEST_F(HttpTest, ServesPluginMethodsOnAUnixSocket) {
  PluginServer server(driver_, {.socket_path = socket_, .mode = 0600});
  ASSERT_TRUE(server.Start());
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto client = UnixHttpClient::Connect(socket_);
  ASSERT_TRUE(client) << client.error().message();
  // No Content-Type, as Docker sends it; several requests on one connection.
  auto r = (*client)->Post("/Plugin.Activate", "");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["content-type"], "application/vnd.docker.plugins.v1+json");
  EXPECT_EQ(Json::parse(r->body), Json::parse(R"({"Implements":["NetworkDriver","IpamDriver"]})"));
  r = (*client)->Post("/IpamDriver.GetDefaultAddressSpaces", "null", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body).value("LocalDefaultAddressSpace", ""), "CalicoLocalAddressSpace");
  // Errors are {"Err"} with 200.
  r = (*client)->Post("/NetworkDriver.CreateEndpoint", "{broken");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(Json::parse(r->body).value("Err", ""), HasSubstr("not valid JSON"));
  r = (*client)->Post("/NetworkDriver.Join", R"({"NetworkID":"n","EndpointID":"e"})");
  ASSERT_TRUE(r);
  EXPECT_THAT(Json::parse(r->body).value("Err", ""), HasSubstr("not a Calico network"));
  // Unknown method: 404; not POST: 405.
  r = (*client)->Post("/NetworkDriver.Nope", "{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_THAT(Json::parse(r->body).value("Err", ""), HasSubstr("unknown method"));
  r = (*client)->Raw("GET /Plugin.Activate HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  // A chunked body.
  r = (*client)->Raw(
      "POST /IpamDriver.RequestPool HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "6\r\n{\"V6\":\r\n5\r\ntrue}\r\n0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body).value("PoolID", ""), "CalicoPoolIPv6");
  // Garbage: 400 and the connection closes; the server carries on.
  r = (*client)->Raw("BLAH\r\nno colon here\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  auto again = UnixHttpClient::Connect(socket_);
  ASSERT_TRUE(again);
  r = (*again)->Raw("POST /Plugin.Activate HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  again = UnixHttpClient::Connect(socket_);
  ASSERT_TRUE(again);
  r = (*again)->Raw("POST /Plugin.Activate HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->headers["connection"], "close");

  server.Stop();
  EXPECT_FALSE(std::filesystem::exists(socket_)) << "the socket is removed on stop";
  EXPECT_FALSE(UnixHttpClient::Connect(socket_));
}

// Issue 19: "Content-Length: -5" was answered 413, two Content-Length headers were accepted, and
// one 40 KB request of nested JSON killed the daemon.
TEST_F(HttpTest, HostileRequestsAreRefusedAndTheServerCarriesOn) {
  PluginServer server(driver_, {.socket_path = socket_, .mode = 0600});
  ASSERT_TRUE(server.Start());
  auto send = [&](const std::string& raw) {
    auto client = UnixHttpClient::Connect(socket_);
    EXPECT_TRUE(client) << client.error().message();
    auto r = (*client)->Raw(raw);
    EXPECT_TRUE(r) << r.error().message();
    return r ? *r : HttpReply{};
  };
  HttpReply r = send("POST /Plugin.Activate HTTP/1.1\r\nContent-Length: -5\r\n\r\n");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(Json::parse(r.body).value("Err", ""), HasSubstr("Content-Length"));
  r = send("POST /Plugin.Activate HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 10\r\n\r\n{}");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(Json::parse(r.body).value("Err", ""),
              HasSubstr("cannot contain multiple Content-Length headers"));
  const std::string deep = std::string(20000, '[') + std::string(20000, ']');
  r = send("POST /NetworkDriver.CreateNetwork HTTP/1.1\r\nContent-Length: " +
           std::to_string(deep.size()) + "\r\n\r\n" + deep);
  EXPECT_EQ(r.status, 200);
  EXPECT_THAT(Json::parse(r.body).value("Err", ""), HasSubstr("max nesting depth of 512"));
  // Still serving.
  r = send("POST /Plugin.Activate HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, 200);
  server.Stop();
}

// Found by libnetwork_request_fuzz: an unknown method whose name is not UTF-8 was quoted in the
// {"Err": ...} answer, whose dump() threw: the daemon aborted. The answer is JSON now.
TEST_F(HttpTest, MethodNamesThatAreNotUtf8GetAJsonAnswer) {
  HttpRequest req;
  req.method = "POST";
  req.path = "/Plugin.Activat\xf9name";
  HttpResponse resp = HandlePluginRequest(driver_, req);
  EXPECT_EQ(resp.status, 404);
  Json j = Json::parse(resp.body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << resp.body;
  EXPECT_THAT(j.value("Err", ""), HasSubstr("unknown method"));
}

TEST_F(HttpTest, ReplacesStaleSocketButNotALiveOne) {
  // A socket file left by a crashed driver.
  std::filesystem::create_directories(std::filesystem::path(socket_).parent_path());
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  PluginServer first(driver_, {.socket_path = socket_});
  ASSERT_TRUE(first.Start());
  struct stat st {};
  ASSERT_EQ(::stat(socket_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  PluginServer second(driver_, {.socket_path = socket_});
  auto st2 = second.Start();
  ASSERT_FALSE(st2);
  EXPECT_THAT(st2.error().message(), HasSubstr("another server is listening"));
  // A stop from another thread releases Wait().
  std::thread stopper([&] { first.Stop(); });
  first.Wait();
  stopper.join();
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

TEST_F(HttpTest, RefusesBadSocketPaths) {
  PluginServer bad(driver_, {.socket_path = std::string(200, 'x')});
  EXPECT_FALSE(bad.Start());
  std::filesystem::create_directories(dir_);
  std::string file = (dir_ / "regular").string();
  {
    FILE* f = std::fopen(file.c_str(), "w");
    std::fclose(f);
  }
  PluginServer not_socket(driver_, {.socket_path = file});
  auto st = not_socket.Start();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("not a socket"));
}

// systemd socket activation (calico-libnetwork.socket): the server answers on the socket it was
// given, and leaves the socket file to its owner on stop. Anything but a listening stream socket
// is refused by name.
TEST_F(HttpTest, ServesAnInheritedListeningSocket) {
  std::filesystem::create_directories(std::filesystem::path(socket_).parent_path());
  auto listening = [&](bool listen) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", socket_.c_str());
    ::unlink(socket_.c_str());
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    if (listen) {
      EXPECT_EQ(::listen(fd, 8), 0);
    }
    return fd;
  };
  int fd = listening(true);
  PluginServer server(driver_, {.socket_path = socket_, .listen_fd = fd});
  ASSERT_TRUE(server.Start());
  auto client = UnixHttpClient::Connect(socket_);
  ASSERT_TRUE(client) << client.error().message();
  auto r = (*client)->Post("/Plugin.Activate", "");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->status, 200);
  (*client).reset();
  server.Stop();
  EXPECT_TRUE(std::filesystem::exists(socket_)) << "systemd's socket file must stay";
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "the server owns and closes the descriptor";

  int not_listening = listening(false);
  PluginServer bad(driver_, {.socket_path = socket_, .listen_fd = not_listening});
  auto st = bad.Start();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("is not listening"));
  ::close(not_listening);
  int dgram = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  PluginServer wrong(driver_, {.socket_path = socket_, .listen_fd = dgram});
  st = wrong.Start();
  ASSERT_FALSE(st);
  EXPECT_THAT(st.error().message(), HasSubstr("not a stream socket"));
  ::close(dgram);
}

}  // namespace
}  // namespace calico::libnetwork
