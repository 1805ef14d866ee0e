#include "calico/cni/cni.h"

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>

#include "calico/base/log.h"
#include "calico/base/testing/golden.h"
#include "calico/cni/calico_plugin.h"

namespace calico::cni {
namespace {

// The pod annotation cni.projectcalico.org/allowedSourcePrefixes as libcalico-go's
// HandleSourceIPSpoofingAnnotation reads it: a JSON list of CIDRs, normalised; anything else
// fails the ADD with the annotation and the bad value named.
TEST(AllowedSourcePrefixesTest, ParsesAndNormalises) {
  auto none = AllowedSourcePrefixes({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto empty = AllowedSourcePrefixes({{"cni.projectcalico.org/allowedSourcePrefixes", ""}});
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  auto ok = AllowedSourcePrefixes(
      {{"cni.projectcalico.org/allowedSourcePrefixes", R"(["10.88.0.7/24", "fd00:88::1/64"])"},
       {"other", "x"}});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(*ok, (std::vector<std::string>{"10.88.0.0/24", "fd00:88::/64"}));
  auto not_json = AllowedSourcePrefixes({{"cni.projectcalico.org/allowedSourcePrefixes", "[x"}});
  ASSERT_FALSE(not_json);
  EXPECT_EQ(not_json.error().message(),
            "cni.projectcalico.org/allowedSourcePrefixes: failed to parse '[x' as JSON: not a "
            "list of strings");
  for (const char* bad : {R"(["10.88.0.1"])", R"(["10.88.0.0/33"])", R"([7])"}) {
    auto r = AllowedSourcePrefixes({{"cni.projectcalico.org/allowedSourcePrefixes", bad}});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message().find("as a CIDR"), std::string::npos) << r.error().message();
  }
}

TEST(CniResultTest, EveryVersionRendersAsTheSpecSays) {
  CniResult r;
  r.interfaces = {{"cali0123456789a", "", "", std::nullopt},
                  {"eth0", "ee:ee:ee:ee:ee:ee", "/run/netns/x", 1440}};
  r.ips = {{*net::CIDR::Parse("10.65.0.5/32"), std::nullopt, 1},
           {*net::CIDR::Parse("fd00::5/128"), std::nullopt, 1}};
  r.routes = {{*net::CIDR::Parse("0.0.0.0/0"), net::IPAddr::Parse("169.254.1.1")}};
  std::string all;
  for (const char* v : kSupportedVersions) {
    auto j = RenderResult(r, v);
    ASSERT_TRUE(j) << v;
    all += j->dump(2) + "\n";
  }
  calico::testing::ExpectGolden("src/calico/cni/testdata/results.golden", all);
  EXPECT_FALSE(RenderResult(r, "9.9.9"));
}

TEST(CniResultTest, ParsesOldAndNewResults) {
  auto old = ParseResult(
      Json::parse(R"({"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.2/24","gateway":"10.0.0.1"}})"));
  ASSERT_TRUE(old);
  ASSERT_EQ(old->ips.size(), 1u);
  EXPECT_EQ(old->ips[0].address.String(), "10.0.0.2/24");
  auto current =
      ParseResult(Json::parse(R"({"cniVersion":"1.0.0","ips":[{"address":"fd00::2/128"}]})"));
  ASSERT_TRUE(current);
  EXPECT_EQ(current->ips[0].address.family(), 6);
}

TEST(NetConfTest, DefaultsAndErrors) {
  auto c = ParseNetConf(R"({"name":"backend","type":"calico","ipam":{"type":"calico-ipam"}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cni_version, "0.2.0");
  EXPECT_EQ(c->ipam.assign_ipv4, "true");
  EXPECT_EQ(c->ipam.assign_ipv6, "false");
  EXPECT_NE(ParseNetConf("{").error().message().find("failed to load netconf: json: "),
            std::string::npos);
  EXPECT_NE(ParseNetConf("[1]").error().message().find("not a JSON object"), std::string::npos);
  EXPECT_NE(ParseNetConf(R"({"name":"bad name!"})").error().message().find("invalid characters"),
            std::string::npos);
  EXPECT_EQ(ParseNetConf(R"({"name":"n","cniVersion":"1.1.0"})").error().message(),
            "incompatible CNI versions");
  auto pools = ParseNetConf(
      R"({"name":"n","ipam":{"type":"calico-ipam","assign_ipv6":"true","ipv4_pools":["10.0.0.0/24","pool2"]}})");
  ASSERT_TRUE(pools);
  EXPECT_EQ(pools->ipam.ipv4_pools.size(), 2u);
  EXPECT_EQ(pools->ipam.assign_ipv6, "true");
}

// The skel's version check and Go's typed decoding (issue 19: cniVersion 5, mtu "abc" and
// mtu -5 were accepted).
TEST(NetConfTest, HostileFieldsAreRefusedWithCniCodes) {
  struct Case {
    std::string conf;
    CniCode code;
    std::string msg;
    std::string details;
  };
  const std::vector<Case> cases = {
      {R"({"name":"n","cniVersion":5})", CniCode::kDecodingFailure,
       "decoding version from network config: json: cannot unmarshal number into Go struct "
       "field .cniVersion of type string",
       ""},
      {R"({"name":"n","cniVersion":"5"})", CniCode::kIncompatibleVersion,
       "incompatible CNI versions",
       R"(config is "5", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"])"},
      // Refused, where the skel reads "" as 0.1.0: an empty version is a mistake, not a choice.
      {R"({"name":"n","cniVersion":""})", CniCode::kIncompatibleVersion,
       "incompatible CNI versions",
       R"(config is "", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"])"},
      {R"({"name":"n","cniVersion":"0.3.2"})", CniCode::kIncompatibleVersion,
       "incompatible CNI versions",
       R"(config is "0.3.2", plugin supports ["0.1.0" "0.2.0" "0.3.0" "0.3.1" "0.4.0" "1.0.0"])"},
      {R"({"name":"n","cniVersion":"0.3.1","mtu":"abc"})", CniCode::kDecodingFailure,
       "failed to load netconf: json: cannot unmarshal string into Go struct field NetConf.mtu "
       "of type int",
       ""},
      {R"({"name":"n","cniVersion":"0.3.1","mtu":1.5})", CniCode::kDecodingFailure,
       "failed to load netconf: json: cannot unmarshal number 1.5 into Go struct field "
       "NetConf.mtu of type int",
       ""},
      {R"({"name":"n","cniVersion":"0.3.1","mtu":-5})", CniCode::kInvalidConfig,
       "invalid mtu -5: must be 0 (the default) or between 68 and 65535", ""},
      {R"({"name":"n","cniVersion":"0.3.1","mtu":70000})", CniCode::kInvalidConfig,
       "invalid mtu 70000: must be 0 (the default) or between 68 and 65535", ""},
      {R"({"name":"n","cniVersion":"0.3.1","mtu":18446744073709551615})", CniCode::kInvalidConfig,
       "invalid mtu 18446744073709551615: must be 0 (the default) or between 68 and 65535", ""},
      {R"({"name":"n","nodename_file_optional":"yes"})", CniCode::kDecodingFailure,
       "failed to load netconf: json: cannot unmarshal string into Go struct field "
       "NetConf.nodename_file_optional of type bool",
       ""},
      {R"({"name":"n","x":)" + std::string(20000, '[') + std::string(20000, ']') + "}",
       CniCode::kDecodingFailure,
       "failed to load netconf: json: exceeded max nesting depth of 512 at byte offset 527", ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.conf.substr(0, 80));
    auto r = LoadNetConf(c.conf);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, c.code);
    EXPECT_EQ(r.error().msg, c.msg);
    EXPECT_EQ(r.error().details, c.details);
  }
  // Accepted as upstream accepts them (containernetworking/cni pkg/version/conf.go
  // ConfigDecoder.Decode reads a missing or null cniVersion as 0.1.0; the plugin answers 0.2.0),
  // and the MTUs in range.
  auto absent = LoadNetConf(R"({"name":"n","mtu":1450})");
  ASSERT_TRUE(absent);
  EXPECT_EQ(absent->cni_version, "0.2.0");
  EXPECT_EQ(absent->mtu, 1450);
  EXPECT_TRUE(LoadNetConf(R"({"name":"n","cniVersion":null,"mtu":0})"));
  EXPECT_TRUE(LoadNetConf(R"({"name":"n","cniVersion":"1.0.0","mtu":68})"));
}

TEST(NetConfTest, OversizedConfigIsRefused) {
  std::string big = R"({"name":"n","x":")" + std::string(4u << 20, 'x') + "\"}";
  auto r = LoadNetConf(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CniCode::kDecodingFailure);
  EXPECT_NE(r.error().msg.find("exceeds the max document size of 3145728 bytes"),
            std::string::npos);
}

// Found by cni_stdin_fuzz: a network configuration with a string that is not UTF-8 made the
// error object's dump() throw, so the plugin aborted with nothing on stdout. Now it prints a CNI
// error (code 6) that the runtime can read.
TEST(NetConfTest, ConfigThatIsNotUtf8GivesACniErrorOnStdout) {
  std::ostringstream out;
  std::ostringstream err;
  PluginCall call("calico", out, err);
  const std::map<std::string, std::string> env = {{"CNI_COMMAND", "ADD"},
                                                  {"CNI_CONTAINERID", "c1"},
                                                  {"CNI_NETNS", "/run/netns/x"},
                                                  {"CNI_IFNAME", "eth0"},
                                                  {"CNI_PATH", "/opt/cni/bin"}};
  EXPECT_FALSE(call.Start(env, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"cali\xcco\"}"));
  EXPECT_EQ(call.exit_code(), 1);
  Json e = Json::parse(out.str(), nullptr, false);
  ASSERT_TRUE(e.is_object()) << out.str();
  EXPECT_EQ(e.value("code", 0), 6);
}

TEST(InvocationTest, ParsesArgsAndNamesMissingVariables) {
  auto inv = ParseInvocation({{"CNI_COMMAND", "ADD"},
                              {"CNI_CONTAINERID", "abc"},
                              {"CNI_NETNS", "/run/netns/x"},
                              {"CNI_IFNAME", "eth0"},
                              {"CNI_ARGS", "IgnoreUnknown=1;IP=10.0.0.7"}});
  ASSERT_TRUE(inv);
  EXPECT_EQ(inv->args.at("IP"), "10.0.0.7");
  auto missing = ParseInvocation({{"CNI_COMMAND", "ADD"}});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(),
            "required env variables [CNI_CONTAINERID,CNI_IFNAME,CNI_NETNS] missing");
  EXPECT_FALSE(ParseInvocation({{"CNI_COMMAND", "ADD"},
                                {"CNI_CONTAINERID", "a"},
                                {"CNI_IFNAME", "e"},
                                {"CNI_NETNS", "n"},
                                {"CNI_ARGS", "novalue"}}));
  EXPECT_LT(CompareVersions("0.3.1", "1.0.0"), 0);
  EXPECT_EQ(CompareVersions("0.4.0", "0.4.0"), 0);
}

// log_file_path and its rotation settings, as upstream's types.NetConf; mistyped values are the
// defaults (logging never fails an ADD).
TEST(LogFileConfTest, FromNetconf) {
  LogFileConf d = LogFileConfFrom(Json::parse(R"({"type":"calico"})"));
  EXPECT_EQ(d.path, "/var/log/calico/cni/cni.log");
  EXPECT_FALSE(d.path_given);
  EXPECT_EQ(d.max_size_mb, 100);
  EXPECT_EQ(d.max_age_days, 30);
  EXPECT_EQ(d.max_count, 10);
  LogFileConf c = LogFileConfFrom(Json::parse(
      R"({"log_file_path":"/tmp/x/cni.log","log_file_max_size":5,"log_file_max_age":2,
          "log_file_max_count":"many"})"));
  EXPECT_EQ(c.path, "/tmp/x/cni.log");
  EXPECT_TRUE(c.path_given);
  EXPECT_EQ(c.max_size_mb, 5);
  EXPECT_EQ(c.max_age_days, 2);
  EXPECT_EQ(c.max_count, 10);
  EXPECT_EQ(LogFileConfFrom(Json::parse(R"({"log_file_path":""})")).path, "");
}

// The file gets the log lines, is rotated by size (cni.1.log, ... at most max_count) and rotated
// files older than max_age days are removed when a plugin starts.
TEST(LogFileConfTest, WritesRotatesAndExpires) {
  namespace fs = std::filesystem;
  char tmpl[] = "/tmp/cni-log-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = fs::path(tmpl) / "calico" / "cni";  // Created by OpenLogFile.
  fs::create_directories(dir);
  std::ofstream(dir / "cni.7.log") << "old\n";
  fs::last_write_time(dir / "cni.7.log",
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 3));
  std::ofstream(dir / "cni.8.log") << "recent\n";
  std::ofstream(dir / "other.1.log") << "not ours\n";
  fs::last_write_time(dir / "other.1.log",
                      fs::file_time_type::clock::now() - std::chrono::hours(24 * 3));
  LogFileConf conf{.path = (dir / "cni.log").string(),
                   .path_given = true,
                   .max_size_mb = 1,
                   .max_age_days = 2,
                   .max_count = 2};
  ASSERT_TRUE(OpenLogFile(conf));
  EXPECT_FALSE(fs::exists(dir / "cni.7.log")) << "older than log_file_max_age";
  EXPECT_TRUE(fs::exists(dir / "cni.8.log"));
  EXPECT_TRUE(fs::exists(dir / "other.1.log"));
  CALICO_LOG(warn, "cni", "first line of the CNI log");
  log::Get("cni")->flush();
  std::stringstream first;
  first << std::ifstream(dir / "cni.log").rdbuf();
  EXPECT_NE(first.str().find("first line of the CNI log"), std::string::npos) << first.str();
  const std::string filler(1000, 'x');
  for (int i = 0; i < 3000; ++i)
    CALICO_LOG(warn, "cni", "{} {}", i, filler);
  log::Get("cni")->flush();
  EXPECT_TRUE(fs::exists(dir / "cni.1.log"));
  EXPECT_TRUE(fs::exists(dir / "cni.2.log"));
  EXPECT_FALSE(fs::exists(dir / "cni.3.log")) << "at most log_file_max_count rotated files";
  EXPECT_LE(fs::file_size(dir / "cni.log"), std::uintmax_t{1} << 20);
  fs::remove_all(tmpl);
}

}  // namespace
}  // namespace calico::cni
