// The agent status file (status_file.h): JSON round trip, atomic file, hostile content, and the
// section `calicoctl node status` prints.
#include "calico/agent/status_file.h"

#include <stdlib.h>  // mkdtemp  NOLINT(modernize-deprecated-headers)

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace calico::agent {
namespace {

AgentStatus Sample() {
  AgentStatus s;
  s.unrenderable.push_back({"policy", "default/default.to-dns",
                            "egress[0]: destination.services: not supported", "its chain drops"});
  s.unrenderable.push_back({"profile", "kns.team", "ingress[1]: bad", ""});
  s.http_ignored.push_back({"policy", "default/default.http-get", 2});
  return s;
}

TEST(AgentStatusFileTest, JsonRoundTrip) {
  auto parsed = ParseAgentStatus(AgentStatusJson(Sample()));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(*parsed, Sample());
  auto empty = ParseAgentStatus("{}");
  ASSERT_TRUE(empty);
  EXPECT_EQ(*empty, AgentStatus{});
}

TEST(AgentStatusFileTest, HostileContentIsAnError) {
  for (const char* bad : {"", "not json", "[1]", R"({"unrenderable": 3})",
                          R"({"unrenderable": [1]})", R"({"httpMatchIgnored": {}})"}) {
    auto parsed = ParseAgentStatus(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(AgentStatusFileTest, WriteThenReadAndMissingFile) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "agent-status-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/" + kAgentStatusFileName;
  auto missing = ReadAgentStatusFile(path);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(WriteAgentStatusFile(path, Sample()));
  auto read = ReadAgentStatusFile(path);
  ASSERT_TRUE(read) << read.error().message();
  EXPECT_EQ(*read, Sample());
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  // Unwritable directory: an error naming the file, nothing left behind.
  auto st = WriteAgentStatusFile(tmpl + "/no/such/dir/x.json", Sample());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("no/such/dir"), std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST(AgentStatusFileTest, NodeStatusSection) {
  EXPECT_EQ(RenderAgentStatusSection(AgentStatus{}), "");
  EXPECT_EQ(RenderAgentStatusSection(Sample()),
            "Policy not programmed as written (isolated by calico-node)\n"
            "+---------+------------------------+-------------------------------------------------"
            "-----------------+\n"
            "|  KIND   |          NAME          |                              REASON            "
            "                  |\n"
            "+---------+------------------------+-------------------------------------------------"
            "-----------------+\n"
            "| policy  | default/default.to-dns | egress[0]: destination.services: not supported "
            "(its chain drops) |\n"
            "| profile | kns.team               | ingress[1]: bad                                "
            "                  |\n"
            "+---------+------------------------+-------------------------------------------------"
            "-----------------+\n"
            "\n"
            "HTTP matches ignored (L3/L4 part enforced)\n"
            "+--------+--------------------------+-------+\n"
            "|  KIND  |           NAME           | RULES |\n"
            "+--------+--------------------------+-------+\n"
            "| policy | default/default.http-get | 2     |\n"
            "+--------+--------------------------+-------+\n"
            "\n");
}

}  // namespace
}  // namespace calico::agent
