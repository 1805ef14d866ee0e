// The request parser against Go net/http's rules (issue 19: "Content-Length: -5" was answered
// with 413, and two Content-Length headers were accepted).
#include "calico/http/message.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calico::http {
namespace {

struct Case {
  std::string name;
  std::string bytes;
  ParseState state;
  int status = 0;  // for kBad
};

TEST(HttpMessageTest, RequestsAreCheckedAsGoChecksThem) {
  const std::vector<Case> cases = {
      {"simple", "POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", ParseState::kComplete},
      {"no body", "GET /liveness HTTP/1.1\r\nHost: a\r\n\r\n", ParseState::kComplete},
      {"partial head", "GET /liveness HTTP/1.1\r\nHo", ParseState::kNeedMore},
      {"partial body", "POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n{}", ParseState::kNeedMore},
      {"negative length", "POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n", ParseState::kBad, 400},
      {"plus sign", "POST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\nhello", ParseState::kBad, 400},
      {"hex length", "POST /x HTTP/1.1\r\nContent-Length: 0x5\r\n\r\nhello", ParseState::kBad, 400},
      {"list length", "POST /x HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello", ParseState::kBad,
       400},
      {"two lengths that differ",
       "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", ParseState::kBad,
       400},
      {"two equal lengths (Go and RFC 9110 accept)",
       "POST /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
       ParseState::kComplete},
      {"length over the body limit", "POST /x HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
       ParseState::kBad, 413},
      {"length with 30 digits",
       "POST /x HTTP/1.1\r\nContent-Length: 999999999999999999999999999999\r\n\r\n",
       ParseState::kBad, 400},
      {"no colon", "BLAH\r\nno colon here\r\n\r\n", ParseState::kBad, 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", ParseState::kBad, 400},
      {"line folding", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", ParseState::kBad, 400},
      {"control character in value", std::string("GET / HTTP/1.1\r\nX: a\x01\r\n\r\n"),
       ParseState::kBad, 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", ParseState::kBad, 505},
      {"not HTTP", "GET / FTP/1.0\r\n\r\n", ParseState::kBad, 400},
      {"extra space", "GET  / HTTP/1.1\r\n\r\n", ParseState::kBad, 400},
      {"gzip coding", "POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", ParseState::kBad, 501},
      {"chunked", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       ParseState::kComplete},
      {"chunked with extension and trailer",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;x=y\r\n{}\r\n0\r\nT: 1\r\n\r\n",
       ParseState::kComplete},
      {"chunked, Content-Length ignored",
       "POST /x HTTP/1.1\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       ParseState::kComplete},
      {"bad chunk size", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
       ParseState::kBad, 400},
      {"huge chunk size",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
       ParseState::kBad, 400},
      {"chunk over the limit", "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffff\r\n",
       ParseState::kBad, 413},
      {"chunk without CRLF",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n", ParseState::kBad,
       400},
      {"chunk size line ended by a bare LF",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n", ParseState::kBad,
       400},
      {"chunk size line that never ends",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;" + std::string(5000, 'e'),
       ParseState::kBad, 400},
      {"trailers over the header limit",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: " + std::string(900, 't') +
           "\r\nU: " + std::string(900, 'u') + "\r\n",
       ParseState::kBad, 431},
      {"chunked with differing Content-Lengths (Go's fixLength refuses them first)",
       "POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       ParseState::kBad, 400},
      {"chunked with a malformed Content-Length (ignored)",
       "POST /x HTTP/1.1\r\nContent-Length: abc\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       ParseState::kComplete},
      {"chunked body split over two chunks, then the next request",
       "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1\r\n}\r\n0\r\n\r\nGET / "
       "HTTP/1.1\r\n\r\n",
       ParseState::kComplete},
  };
  Limits limits{.max_header_bytes = 1024, .max_body_bytes = 1 << 20};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ParseResult r = ParseMessage(c.bytes, limits);
    EXPECT_EQ(r.state, c.state) << r.error;
    if (c.state == ParseState::kBad) {
      EXPECT_EQ(r.status, c.status) << r.error;
    }
  }
}

// Found by http_parser_fuzz: a header name with a byte that is not UTF-8 was quoted with fmt's
// "{:?}", which asserted and aborted the process. It is a 400 that names the bytes.
TEST(HttpMessageTest, BytesThatAreNotUtf8AreQuotedInErrors) {
  const Limits limits{.max_header_bytes = 1024, .max_body_bytes = 1024};
  ParseResult r = ParseMessage("POST /x HTTP/1.1\r\nContent-Typ\xe5: a\r\n\r\n", limits);
  EXPECT_EQ(r.state, ParseState::kBad);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.error, "invalid header name \"Content-Typ\\xe5\"");
  r = ParseMessage("HTTP/1.1 200 OK\r\nContent-Typ\xe5: a\r\nContent-Length: 2\r\n\r\n{}", limits,
                   /*is_response=*/true);
  EXPECT_EQ(r.state, ParseState::kBad);
  r = ParseMessage("POST /x HTTP/1.1\r\nContent-Length: \xff\"5\r\n\r\n", limits);
  EXPECT_EQ(r.error, "bad Content-Length \"\\xff\\\"5\"");
}

// The chunked body through the parser: the data joined, and `consumed` ends at the last chunk's
// trailer, before the next request.
TEST(HttpMessageTest, ChunkedBodyIsJoinedAndEndsAtItsTrailer) {
  const std::string first =
      "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n{\r\n1;e=1\r\n}\r\n0\r\nT: "
      "1\r\n\r\n";
  ParseResult r = ParseMessage(first + "GET / HTTP/1.1\r\n\r\n", Limits{});
  ASSERT_EQ(r.state, ParseState::kComplete) << r.error;
  EXPECT_EQ(r.request.body, "{}");
  EXPECT_EQ(r.consumed, first.size());
  for (size_t cut = 0; cut < first.size(); ++cut) {
    EXPECT_EQ(ParseMessage(first.substr(0, cut), Limits{}).state, ParseState::kNeedMore) << cut;
  }
  r = ParseMessage("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX", Limits{});
  EXPECT_EQ(r.error, "chunk data not followed by CRLF (byte \"X\" after the data)");
}

TEST(HttpMessageTest, CompleteRequestFields) {
  ParseResult r = ParseMessage(
      "POST /Plugin.Activate?x=1 HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 2\r\n\r\n{}NEXT",
      Limits{});
  ASSERT_EQ(r.state, ParseState::kComplete) << r.error;
  EXPECT_EQ(r.request.method, "POST");
  EXPECT_EQ(r.request.path, "/Plugin.Activate?x=1");
  EXPECT_EQ(r.request.headers.at("x-a"), "1, 2");
  EXPECT_EQ(r.request.body, "{}");
  EXPECT_EQ(r.consumed, std::string("POST /Plugin.Activate?x=1 HTTP/1.1\r\nX-A: 1\r\nx-a: "
                                    "2\r\nContent-Length: 2\r\n\r\n{}")
                            .size());
}

TEST(HttpMessageTest, HeaderLimit) {
  Limits limits{.max_header_bytes = 64, .max_body_bytes = 1024};
  std::string big = "GET / HTTP/1.1\r\nX: " + std::string(100, 'a');
  EXPECT_EQ(ParseMessage(big, limits).status, 431);  // no end of headers yet: still refused
  EXPECT_EQ(ParseMessage(big + "\r\n\r\n", limits).status, 431);
  ParseResult r = ParseMessage(big, limits);
  EXPECT_NE(r.error.find("max HTTP header size of 64 bytes"), std::string::npos) << r.error;
}

TEST(HttpMessageTest, RendersResponsesAndKeepAlive) {
  EXPECT_EQ(RenderResponse(Response{200, "text/plain", "ok"}, false),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
  EXPECT_EQ(RenderResponse(Response{204, "", ""}, true),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  auto req = [](const std::string& bytes) { return ParseMessage(bytes, Limits{}).request; };
  EXPECT_FALSE(WantsClose(req("GET / HTTP/1.1\r\n\r\n")));
  EXPECT_TRUE(WantsClose(req("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")));
  EXPECT_TRUE(WantsClose(req("GET / HTTP/1.0\r\n\r\n")));
  EXPECT_FALSE(WantsClose(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")));
}

}  // namespace
}  // namespace calico::http
