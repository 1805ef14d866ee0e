// The YAML codec against hostile input: go-yaml's alias rules (gopkg.in/yaml.v2 decode.go:
// "anchor ... value contains itself", allowedAliasRatio), strict-mode duplicate keys, the nesting,
// size and document-count limits of decode_limits.h, and the byte-order mark. Scalar typing and
// the emitter are covered by ctl/document_test.cc (calicoctl's view of the same codec).
#include "calico/model/yaml_codec.h"

#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace calico::model {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const Result<Json>& r) {
  return r ? std::string("(parsed: ") + r->dump() + ")" : r.error().message();
}

// Each level a list of ten aliases of the level before: 10^levels strings when expanded.
std::string BillionLaughs(int levels) {
  std::string doc =
      "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  char prev = 'a';
  for (int i = 1; i <= levels; ++i) {
    const char cur = static_cast<char>('a' + i);
    doc += std::string(1, cur) + ": &" + cur + " [";
    for (int k = 0; k < 10; ++k)
      doc += std::string(k == 0 ? "" : ",") + "*" + prev;
    doc += "]\n";
    prev = cur;
  }
  return doc;
}

TEST(YamlCodecTest, AliasInsideItsOwnAnchorIsRefused) {
  // Was a stack overflow (issue 19): the alias resolves to the sequence that contains it.
  EXPECT_EQ(ErrorOf(ParseYaml("a: &r [*r]\n")), "yaml: anchor 'r' value contains itself");
  EXPECT_EQ(ErrorOf(ParseYaml("a: &m {b: *m}\n")), "yaml: anchor 'm' value contains itself");
}

TEST(YamlCodecTest, BillionLaughsIsRefusedAsExcessiveAliasing) {
  // Seven levels of ten: 10^7 nodes if expanded (minutes and gigabytes before the limit).
  const std::string doc = BillionLaughs(7);
  EXPECT_LT(doc.size(), 500u);
  EXPECT_EQ(ErrorOf(ParseYaml(doc)), "yaml: document contains excessive aliasing");
}

TEST(YamlCodecTest, ModestAliasingIsAccepted) {
  // Two levels (100 strings) stay under go-yaml's thresholds (more than 100 aliased nodes of
  // more than 1000 decoded).
  auto v = ParseYaml(BillionLaughs(2));
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["c"].size(), 10u);
  EXPECT_EQ((*v)["c"][9][9][9], "lol");
  auto anchors = ParseYaml("base: &b {x: 1}\nuse: *b\nname: &n web\nother: *n\n");
  ASSERT_TRUE(anchors) << anchors.error().message();
  EXPECT_EQ(*anchors, Json::parse(R"({"base":{"x":1},"use":{"x":1},"name":"web","other":"web"})"));
}

TEST(YamlCodecTest, UnknownAnchorIsAnError) {
  EXPECT_EQ(ErrorOf(ParseYaml("a: *nope\n")), "yaml: unknown anchor 'nope' referenced");
}

TEST(YamlCodecTest, DuplicateKeysAreRefusedAsInStrictMode) {
  EXPECT_EQ(ErrorOf(ParseYaml("metadata:\n  name: a\n  name: b\n")),
            "yaml: unmarshal errors:\n  line 3: key \"name\" already set in map");
  // JSON is YAML: the same rule.
  EXPECT_EQ(ErrorOf(ParseYaml(R"({"kind": "IPPool", "kind": "Node"})")),
            "yaml: unmarshal errors:\n  line 1: key \"kind\" already set in map");
  // Every duplicate is listed, as go-yaml collects them.
  EXPECT_EQ(ErrorOf(ParseYaml("a: 1\na: 2\nb: 1\nb: 2\n")),
            "yaml: unmarshal errors:\n  line 2: key \"a\" already set in map\n  line 4: key \"b\" "
            "already set in map");
  // The same key in different mappings is fine.
  EXPECT_TRUE(ParseYaml("a: {x: 1}\nb: {x: 2}\n"));
}

TEST(YamlCodecTest, MergeKeys) {
  auto v = ParseYaml("base: &b {x: 1, y: 2}\nmore: &m {z: 3}\nuse:\n  <<: [*b, *m]\n  w: 4\n");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["use"], Json::parse(R"({"x":1,"y":2,"z":3,"w":4})"));
  // Overriding a merged key is a duplicate under strict mode (go-yaml v2 UnmarshalStrict).
  EXPECT_THAT(ErrorOf(ParseYaml("base: &b {x: 1}\nuse:\n  <<: *b\n  x: 2\n")),
              HasSubstr("key \"x\" already set in map"));
  EXPECT_EQ(ErrorOf(ParseYaml("a: &s scalar\nb:\n  <<: *s\n")),
            "yaml: map merge requires map or sequence of maps as the value");
  // A quoted "<<" is an ordinary key.
  auto quoted = ParseYaml("\"<<\": 1\n");
  ASSERT_TRUE(quoted);
  EXPECT_EQ((*quoted)["<<"], 1);
}

std::string Nested(int depth, char open, char close) {
  return std::string(static_cast<size_t>(depth), open) +
         std::string(static_cast<size_t>(depth), close);
}

TEST(YamlCodecTest, NestingDepthLimit) {
  auto at_limit = ParseYaml(Nested(kMaxNestingDepth, '[', ']'));
  ASSERT_TRUE(at_limit) << at_limit.error().message();
  EXPECT_EQ(ErrorOf(ParseYaml(Nested(kMaxNestingDepth + 1, '[', ']'))),
            "yaml: line 1: exceeded max nesting depth of 512");
  // 20000 levels (was a crash): refused after reading 513 of them.
  EXPECT_THAT(ErrorOf(ParseYaml(Nested(20000, '[', ']'))), HasSubstr("max nesting depth"));
  // Block style counts the same way.
  std::string block;
  for (int i = 0; i <= kMaxNestingDepth; ++i)
    block += std::string(static_cast<size_t>(i), ' ') + "k:\n";
  EXPECT_THAT(ErrorOf(ParseYaml(block)), HasSubstr("max nesting depth of 512"));
}

TEST(YamlCodecTest, NestingThroughAliasesIsLimitedToo) {
  // 300 levels, then the same 300 again under an alias at the bottom: 600 once expanded.
  std::string doc = "a: &deep " + Nested(300, '[', ']') + "\nb: " + std::string(300, '[') +
                    "*deep" + std::string(300, ']') + "\n";
  EXPECT_THAT(ErrorOf(ParseYaml(doc)), HasSubstr("exceeded max nesting depth of 512"));
}

TEST(YamlCodecTest, DocumentSizeLimit) {
  std::string big = "a: \"" + std::string(kMaxDocumentBytes, 'x') + "\"\n";
  EXPECT_EQ(ErrorOf(ParseYaml(big)), "yaml: document of " + std::to_string(big.size()) +
                                         " bytes exceeds the max document size of 3145728 bytes");
  DecodeLimits small{.max_document_bytes = 16};
  EXPECT_TRUE(ParseYaml("a: 1\n", small));
  EXPECT_FALSE(ParseYaml("a: 12345678901234567890\n", small));
}

TEST(YamlCodecTest, StreamLimits) {
  std::string stream;
  for (int i = 0; i < 11; ++i)
    stream += "---\na: " + std::to_string(i) + "\n";
  DecodeLimits ten{.max_documents = 10};
  auto r = ParseYamlStream(stream, ten);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "yaml: input holds 11 documents, more than the max documents per input of 10");
  auto ok = ParseYamlStream(stream);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->size(), 11u);
  DecodeLimits tiny{.max_stream_bytes = 8};
  auto too_big = ParseYamlStream(stream, tiny);
  ASSERT_FALSE(too_big);
  EXPECT_THAT(too_big.error().message(), HasSubstr("exceeds the max input size of 8 bytes"));
}

TEST(YamlCodecTest, ByteOrderMarkIsSkipped) {
  // Was "unknown resource type ... version ()": the BOM became part of the first key.
  auto v = ParseYaml(
      "\xEF\xBB\xBF"
      "apiVersion: projectcalico.org/v3\nkind: IPPool\n");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["kind"], "IPPool");
  EXPECT_EQ((*v)["apiVersion"], "projectcalico.org/v3");
  auto stream = ParseYamlStream("\xEF\xBB\xBF---\nkind: A\n---\nkind: B\n");
  ASSERT_TRUE(stream) << stream.error().message();
  ASSERT_EQ(stream->size(), 2u);
  EXPECT_EQ((*stream)[0]["kind"], "A");
}

TEST(YamlCodecTest, ParserErrorsReadAsGoYamls) {
  EXPECT_EQ(ErrorOf(ParseYaml("a: 1\nb: [1, 2\n")),
            "yaml: line 2: did not find expected ',' or ']'");
  EXPECT_EQ(ErrorOf(ParseYaml("a: b: c\n")),
            "yaml: mapping values are not allowed in this context");
  EXPECT_EQ(ErrorOf(ParseYaml("a: [1]\nb: {x: 1}\n: \n  - [\n")).substr(0, 11), "yaml: line ");
}

// Plain scalars resolved as go-yaml v2 resolves them (resolve.go), through base::ParseInt and
// ParseDouble: the whole text or not a number of that form.
TEST(YamlCodecTest, PlainNumbersResolveAsGoYaml) {
  auto v = ParseYaml(
      "dec: 1_000\nplus: +5\nneg: -7\nhex: 0x1F\nnhex: -0x10\nbin: 0b101\noct: 017\n"
      "f: 1.5\npf: +1.5\nlead: .5\nexp: 1e3\nbig: 99999999999999999999\n"
      "word: 12abc\n");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["dec"], 1000);
  EXPECT_EQ((*v)["plus"], 5);
  EXPECT_EQ((*v)["neg"], -7);
  EXPECT_EQ((*v)["hex"], 31);
  EXPECT_EQ((*v)["nhex"], -16);
  EXPECT_EQ((*v)["bin"], 5);
  EXPECT_EQ((*v)["oct"], 15);
  EXPECT_EQ((*v)["f"], 1.5);
  EXPECT_EQ((*v)["pf"], 1.5);
  EXPECT_EQ((*v)["lead"], 0.5);
  EXPECT_TRUE((*v)["exp"].is_number_float());
  EXPECT_EQ((*v)["exp"], 1000.0);
  EXPECT_TRUE((*v)["big"].is_number_float());  // too big for int64: a float, as go-yaml
  EXPECT_EQ((*v)["word"], "12abc");
}

TEST(YamlCodecTest, TagsAndEscapes) {
  auto v = ParseYaml("a: !!str 12\nb: !!int \"12\"\nc: !custom 7\nd: \"\\xff\"\ne: !!float 1\n");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ((*v)["a"], "12");
  EXPECT_EQ((*v)["b"], 12);
  EXPECT_EQ((*v)["c"], "7");
  // "\xff" is the code point U+00FF (YAML 1.1 escapes name characters, not bytes).
  EXPECT_EQ((*v)["d"], "\xC3\xBF");
  EXPECT_NO_THROW((void)v->dump());
  EXPECT_TRUE((*v)["e"].is_number_float());
  EXPECT_EQ(ErrorOf(ParseYaml("a: !!int abc\n")),
            "yaml: line 1: cannot decode !!str `abc` as a !!int");
}

TEST(YamlCodecTest, OnlyTheFirstDocumentOfAChunkIsRead) {
  // As go-yaml's Unmarshal; calicoctl splits streams on "---" lines before this.
  auto v = ParseYaml("--- {a: 1}\n--- {b: [\n");
  ASSERT_TRUE(v) << v.error().message();
  EXPECT_EQ(*v, Json::parse(R"({"a":1})"));
  EXPECT_EQ(*ParseYaml(""), Json(nullptr));
  EXPECT_EQ(*ParseYaml("# only a comment\n"), Json(nullptr));
}

}  // namespace
}  // namespace calico::model
