// JSON decoding limits (decode_limits.h): nesting depth by pre-scan (a value 20000 levels deep
// crashed every consumer when it was copied), document and stored-value size, parser messages.
#include "calico/model/json_codec.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::model {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string Nested(int depth) {
  return std::string(static_cast<size_t>(depth), '[') +
         std::string(static_cast<size_t>(depth), ']');
}

TEST(JsonCodecTest, DepthLimit) {
  auto ok = ParseJson(Nested(kMaxNestingDepth));
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(JsonDepth(*ok), kMaxNestingDepth);
  auto deep = ParseJson(Nested(20000));
  ASSERT_FALSE(deep);
  EXPECT_EQ(deep.error().message(), "json: exceeded max nesting depth of 512 at byte offset 512");
  auto objects = ParseJson(R"({"a":)" + std::string(600, '{') + std::string(601, '}'));
  ASSERT_FALSE(objects);
  EXPECT_THAT(objects.error().message(), HasSubstr("max nesting depth of 512"));
}

TEST(JsonCodecTest, BracketsInsideStringsDoNotCount) {
  std::string text = R"({"a": ")" + std::string(1000, '[') + R"(\"\\", "b": [1]})";
  auto v = ParseJson(text);
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["b"][0], 1);
  EXPECT_EQ(JsonDepth(*v), 2);
}

TEST(JsonCodecTest, SizeLimit) {
  std::string big = "\"" + std::string(kMaxDocumentBytes, 'x') + "\"";
  auto r = ParseJson(big);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "json: document of 3145730 bytes exceeds the max document size of "
            "3145728 bytes");
  EXPECT_TRUE(ParseJson("[1,2]", 5));
  EXPECT_FALSE(ParseJson("[1,2] ", 5));
}

TEST(JsonCodecTest, SyntaxErrorsKeepTheParserMessage) {
  auto r = ParseJson("{\"a\": x}");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), StartsWith("json: parse error at line 1, column 7"));
  EXPECT_FALSE(ParseJson(""));
}

// Found by cni_stdin_fuzz: nlohmann's message quotes the bytes it read, here an invalid UTF-8
// sequence; put into a CNI error object, dump() threw and the plugin aborted with nothing on
// stdout. The message now escapes them and can be dumped.
TEST(JsonCodecTest, ParserMessagesAreAsciiWhateverTheInput) {
  auto r = ParseJson("{\"type\":\"cali\xcco\"}");
  ASSERT_FALSE(r);
  EXPECT_THAT(r.error().message(), HasSubstr("\\xcc"));
  for (const char c : r.error().message()) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(static_cast<unsigned char>(c));
  }
  const Json msg = {{"msg", r.error().message()}};
  EXPECT_NO_THROW((void)msg.dump());
}

TEST(JsonCodecTest, StoredValuesNameTheKey) {
  auto r = ParseStoredJson("/calico/resources/v3/projectcalico.org/ippools/p", Nested(600));
  ASSERT_FALSE(r);
  EXPECT_THAT(
      r.error().message(),
      StartsWith("value at /calico/resources/v3/projectcalico.org/ippools/p: json: exceeded "
                 "max nesting depth"));
  auto big = ParseStoredJson("/k", std::string(kMaxStoredValueBytes + 1, ' '));
  ASSERT_FALSE(big);
  EXPECT_THAT(big.error().message(), HasSubstr("more than the max stored value size"));
}

TEST(JsonCodecTest, DepthOfBuiltValuesWithoutRecursion) {
  // Built in memory (as a JSON patch could): 100000 levels are measured without recursion and
  // refused before anyone copies or dumps them.
  Json root = Json::array();
  Json* cur = &root;
  for (int i = 0; i < 100000; ++i) {
    cur->push_back(Json::array());
    cur = &(*cur)[0];
  }
  EXPECT_GT(JsonDepth(root), kMaxNestingDepth);
  auto st = CheckJsonLimits(root, "the patched resource");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "the patched resource exceeds the max nesting depth of 512");
  EXPECT_TRUE(CheckJsonLimits(Json::parse(R"({"a":[1,{"b":2}]})"), "x"));
  EXPECT_FALSE(CheckJsonLimits(Json(std::string(100, 'x')), "x", 50));
}

}  // namespace
}  // namespace calico::model
