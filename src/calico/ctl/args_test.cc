// Tests for the pflag-compatible FlagSet (spf13/pflag behaviour as used by calicoctl).
#include "calico/ctl/args.h"

#include <gtest/gtest.h>

namespace calico::ctl {
namespace {

FlagSet MakeFlags() {
  FlagSet fs;
  fs.AddString("filename", 'f', "", "file");
  fs.AddString("output", 'o', "ps", "output");
  fs.AddBool("all-namespaces", 'A', "all");
  fs.AddBool("recursive", 'R', "recursive");
  fs.AddBool("overwrite", 0, "overwrite");
  return fs;
}

TEST(FlagSetTest, ParsesLongShortAndPositionalsInAnyOrder) {
  FlagSet fs = MakeFlags();
  std::vector<std::string> args = {"ippools",           "-o",  "yaml", "p1",
                                   "--filename=x.yaml", "-AR", "--",   "-weird"};
  ASSERT_TRUE(fs.Parse(args).has_value());
  EXPECT_EQ(fs.GetString("output"), "yaml");
  EXPECT_EQ(fs.GetString("filename"), "x.yaml");
  EXPECT_TRUE(fs.GetBool("all-namespaces"));
  EXPECT_TRUE(fs.GetBool("recursive"));
  EXPECT_FALSE(fs.GetBool("overwrite"));
  EXPECT_EQ(fs.positionals(), (std::vector<std::string>{"ippools", "p1", "-weird"}));
  EXPECT_TRUE(fs.Changed("output"));
}

TEST(FlagSetTest, AttachedShortValueAndDefaults) {
  FlagSet fs = MakeFlags();
  std::vector<std::string> args = {"-fpool.yaml", "--overwrite=false"};
  ASSERT_TRUE(fs.Parse(args).has_value());
  EXPECT_EQ(fs.GetString("filename"), "pool.yaml");
  EXPECT_EQ(fs.GetString("output"), "ps");
  EXPECT_FALSE(fs.Changed("output"));
}

TEST(FlagSetTest, PflagErrorMessages) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--bogus"}, "unknown flag: --bogus"},
      {{"-x"}, "unknown shorthand flag: 'x' in -x"},
      {{"--filename"}, "flag needs an argument: --filename"},
      {{"-f"}, "flag needs an argument: 'f' in -f"},
      {{"--overwrite=maybe"},
       "invalid argument \"maybe\" for \"--overwrite\" flag: strconv.ParseBool: parsing "
       "\"maybe\": invalid syntax"},
  };
  for (const auto& c : cases) {
    FlagSet fs = MakeFlags();
    auto st = fs.Parse(c.args);
    ASSERT_FALSE(st.has_value()) << c.message;
    EXPECT_EQ(st.error().message(), c.message);
  }
}

}  // namespace
}  // namespace calico::ctl
