#include "calico/lab/state.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "calico/base/testing/status_matchers.h"
#include "calico/lab/process.h"

namespace calico::lab {
namespace {

using ::calico::testing::StatusIs;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class StateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/calico-lab-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    root_ = tmp_ + "/lab";
  }
  void TearDown() override { fs::remove_all(tmp_); }
  void Write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
  }

  std::string tmp_;
  std::string root_;
};

LabConfig SampleConfig() {
  return {.hosts = {"calico-01", "calico-02"},
          .datastore = Datastore::kEtcd,
          .backend = Backend::kVxlan,
          .ipv6 = true,
          .bin_dir = "/b",
          .node_command = {"/b/calico-node", "-felix"},
          .controllers = false};
}

WorkloadRecord SampleWorkload() {
  return {.name = "web",
          .host = "calico-01",
          .netns = "calico-lab-wl-web",
          .container_id = "0123abcd",
          .requested_ip = "198.19.0.5",
          .argv = {"busybox", "httpd", "-f"},
          .nets = {{.name = "backend",
                    .ifname = "eth0",
                    .ips = {"198.19.0.5"},
                    .result = R"({"cniVersion":"0.4.0"})"}},
          .process = {.pid = 4242, .start_time = 99},
          .created = 1700000000,
          .k8s_namespace = "",
          .labels = {},
          .ports = {}};
}

WorkloadRecord SamplePod() {
  WorkloadRecord w = SampleWorkload();
  w.k8s_namespace = "shop";
  w.labels = {{"app", "web"}, {"tier", "front"}};
  w.ports = {{.name = "http", .port = 8080, .protocol = "TCP"}};
  return w;
}

TEST_F(StateTest, PodRecordRoundTrip) {
  auto back = WorkloadFromJson(WorkloadToJson(SamplePod()));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(*back, SamplePod());
  // Records written before pods existed still load.
  auto old = WorkloadFromJson(WorkloadToJson(SampleWorkload()));
  ASSERT_TRUE(old);
  EXPECT_TRUE(old->k8s_namespace.empty());
}

TEST_F(StateTest, ConfigRoundTrip) {
  StateDir state(root_);
  EXPECT_FALSE(state.Exists());
  auto missing = state.LoadConfig();
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message(), "lab is not up: run calico-lab up");

  ASSERT_TRUE(state.SaveConfig(SampleConfig()));
  EXPECT_TRUE(state.Exists());
  auto loaded = state.LoadConfig();
  ASSERT_TRUE(loaded) << loaded.error().message();
  EXPECT_EQ(*loaded, SampleConfig());
}

TEST_F(StateTest, CorruptConfigSaysToRunDown) {
  StateDir state(root_);
  Write(state.paths().LabJson(), "{\"hosts\": [\"calico-01\"]");
  auto loaded = state.LoadConfig();
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(loaded.error().message(), HasSubstr("is corrupt"));
  EXPECT_THAT(loaded.error().message(), HasSubstr("run calico-lab down"));

  Write(
      state.paths().LabJson(),
      R"({"hosts":["web"],"datastore":"local","backend":"bird","bin_dir":"/b","node_command":["x"]})");
  EXPECT_THAT(state.LoadConfig().error().message(), HasSubstr("invalid host name \"web\""));
  Write(state.paths().LabJson(),
        R"({"hosts":[],"datastore":"kdd","backend":"bird","bin_dir":"/b","node_command":["x"]})");
  EXPECT_THAT(state.LoadConfig().error().message(), HasSubstr("invalid datastore"));
  Write(state.paths().LabJson(), R"({"hosts":[],"datastore":"local","backend":"bird"})");
  EXPECT_THAT(state.LoadConfig().error().message(), HasSubstr("missing \"bin_dir\""));
}

TEST_F(StateTest, WorkloadRoundTripAndErrors) {
  StateDir state(root_);
  auto none = state.LoadWorkload("web");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message(), "no workload web (no workloads)");

  ASSERT_TRUE(state.SaveWorkload(SampleWorkload()));
  WorkloadRecord client = SampleWorkload();
  client.name = "client";
  client.netns = "calico-lab-wl-client";
  client.nets.clear();
  client.process = {};
  client.requested_ip.clear();
  ASSERT_TRUE(state.SaveWorkload(client));

  auto web = state.LoadWorkload("web");
  ASSERT_TRUE(web) << web.error().message();
  EXPECT_EQ(*web, SampleWorkload());
  EXPECT_TRUE(state.HasWorkload("client"));
  EXPECT_EQ(state.LoadWorkload("db").error().message(), "no workload db (workloads: client, web)");
  EXPECT_THAT(state.WorkloadNames(), ElementsAre("client", "web"));

  auto all = state.ListWorkloads();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0], client);
  EXPECT_EQ(all[1], SampleWorkload());

  ASSERT_TRUE(state.RemoveWorkload("web"));
  EXPECT_FALSE(state.HasWorkload("web"));
  EXPECT_TRUE(state.RemoveWorkload("web"));  // idempotent
}

TEST_F(StateTest, BrokenWorkloadRecordsStillListForCleanUp) {
  StateDir state(root_);
  fs::create_directories(state.paths().WorkloadDir("half"));  // crashed before the record
  Write(state.paths().WorkloadJson("bad"), "not json");
  auto all = state.ListWorkloads();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "bad");
  EXPECT_EQ(all[0].netns, "calico-lab-wl-bad");
  EXPECT_TRUE(all[0].host.empty());
  EXPECT_EQ(all[1].name, "half");
  EXPECT_EQ(all[1].netns, "calico-lab-wl-half");
}

TEST_F(StateTest, WorkloadRecordCannotPointAtAnotherNamespace) {
  WorkloadRecord w = SampleWorkload();
  w.netns = "calico-rt-1234";
  auto parsed = WorkloadFromJson(WorkloadToJson(w));
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message(), HasSubstr("is not the lab's calico-lab-wl-web"));
}

TEST_F(StateTest, PidFiles) {
  EXPECT_EQ(PidFileText({.pid = 12, .start_time = 345}), "12 345\n");
  auto ref = ParsePidFile("12 345\n");
  ASSERT_TRUE(ref);
  EXPECT_EQ(*ref, (ProcessRef{.pid = 12, .start_time = 345}));
  ref = ParsePidFile("77\n");  // BIRD's -P file
  ASSERT_TRUE(ref);
  EXPECT_EQ(*ref, (ProcessRef{.pid = 77, .start_time = 0}));
  EXPECT_FALSE(ParsePidFile(""));
  EXPECT_FALSE(ParsePidFile("1"));  // never init
  EXPECT_FALSE(ParsePidFile("-5"));
  EXPECT_FALSE(ParsePidFile("12 x"));
  EXPECT_FALSE(ParsePidFile("1 2 3"));

  StateDir state(root_);
  ASSERT_TRUE(state.SavePid(state.paths().NodePid("calico-01"), {.pid = 100, .start_time = 5}));
  Write(state.paths().HostDir("calico-01") + "/bird.pid", "101\n");
  ASSERT_TRUE(state.SavePid(state.paths().EtcdPid(), {.pid = 102, .start_time = 6}));
  Write(state.paths().HostDir("calico-02") + "/node.pid", "garbage");
  Write(state.paths().WorkloadDir("web") + "/x.pid", "103 1");  // workloads keep theirs in records
  Write(state.paths().EtcdData() + "/member/y.pid", "104 1");   // etcd's data is not ours
  auto files = state.PidFiles();
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files[0].first, root_ + "/calico-01/bird.pid");
  EXPECT_EQ(files[0].second.pid, 101);
  EXPECT_EQ(files[1].first, root_ + "/calico-01/node.pid");
  EXPECT_EQ(files[2].first, root_ + "/fabric/etcd.pid");
}

TEST_F(StateTest, RemoveAllIsIdempotent) {
  StateDir state(root_);
  ASSERT_TRUE(state.SaveConfig(SampleConfig()));
  ASSERT_TRUE(state.SaveWorkload(SampleWorkload()));
  ASSERT_TRUE(state.RemoveAll());
  EXPECT_FALSE(state.Exists());
  EXPECT_TRUE(state.RemoveAll());
}

TEST_F(StateTest, CheckHost) {
  EXPECT_TRUE(CheckHost(SampleConfig(), "calico-02"));
  auto st = CheckHost(SampleConfig(), "calico-07");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(st.error().message(), "no host calico-07 (hosts: calico-01, calico-02)");
}

TEST_F(StateTest, WriteFileAtomicReplaces) {
  std::string path = tmp_ + "/a/b/c.txt";
  ASSERT_TRUE(WriteFileAtomic(path, "one"));
  ASSERT_TRUE(WriteFileAtomic(path, "two"));
  EXPECT_EQ(*ReadFile(path), "two");
  EXPECT_EQ(ReadFile(tmp_ + "/none").error().code(), ErrorCode::kNotFound);
}

// The process identity the state relies on: our own process is running with its start time; a
// wrong start time (a reused PID) is not the process the lab started.
TEST_F(StateTest, ProcessIdentity) {
  int self = ::getpid();
  auto start = ProcessStartTime(self);
  ASSERT_TRUE(start) << start.error().message();
  EXPECT_TRUE(IsRunning({.pid = self, .start_time = *start}));
  EXPECT_TRUE(IsRunning({.pid = self, .start_time = 0}));
  EXPECT_FALSE(IsRunning({.pid = self, .start_time = *start + 1}));
  EXPECT_FALSE(IsRunning({.pid = 0, .start_time = 0}));
}

TEST_F(StateTest, RunCapturedAndStartDetached) {
  auto done = RunCaptured(
      {.argv = {"cat"}, .env = {{"PATH", "/usr/bin:/bin"}}, .netns_path = "", .cwd = ""}, "hello",
      std::chrono::seconds(10));
  ASSERT_TRUE(done) << done.error().message();
  EXPECT_EQ(done->status, 0);
  EXPECT_EQ(done->out, "hello");

  done = RunCaptured({.argv = {"sh", "-c", "echo oops >&2; exit 3"},
                      .env = {{"PATH", "/bin"}},
                      .netns_path = "",
                      .cwd = ""},
                     "", std::chrono::seconds(10));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 3);
  EXPECT_EQ(done->err, "oops\n");

  auto missing = RunCaptured(
      {.argv = {"no-such-program-x"}, .env = {{"PATH", "/bin"}}, .netns_path = "", .cwd = ""}, "",
      std::chrono::seconds(10));
  EXPECT_THAT(missing,
              StatusIs(ErrorCode::kNotFound, HasSubstr("no-such-program-x: command not found")));

  auto slow = RunCaptured(
      {.argv = {"sleep", "5"}, .env = {{"PATH", "/bin:/usr/bin"}}, .netns_path = "", .cwd = ""}, "",
      std::chrono::milliseconds(200));
  EXPECT_THAT(slow, StatusIs(ErrorCode::kUnavailable, HasSubstr("sleep timed out after 200 ms")));

  std::string log = tmp_ + "/log";
  auto ref = StartDetached({.argv = {"sh", "-c", "echo started; exec sleep 30"},
                            .env = {{"PATH", "/bin:/usr/bin"}},
                            .netns_path = "",
                            .cwd = tmp_},
                           log);
  ASSERT_TRUE(ref) << ref.error().message();
  EXPECT_TRUE(IsRunning(*ref));
  EXPECT_NE(ref->start_time, 0u);
  for (int i = 0; i < 250 && ReadFile(log).value_or("").empty(); ++i)
    ::usleep(20000);
  ASSERT_TRUE(Terminate(*ref, std::chrono::seconds(5)));
  EXPECT_FALSE(IsRunning(*ref));
  EXPECT_EQ(*ReadFile(log), "started\n");
  EXPECT_TRUE(Terminate(*ref, std::chrono::seconds(5)));  // already gone
}

}  // namespace
}  // namespace calico::lab
