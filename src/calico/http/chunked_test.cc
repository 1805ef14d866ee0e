// The chunked decoder against Go's net/http/internal/chunked.go rules, and the bounds a peer
// cannot talk it out of: input split anywhere decodes the same; a line, a chunk, the body and
// the trailers each stop at their limit before they are buffered (etcd watch stream, issue 20).
#include "calico/http/chunked.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace calico::http {
namespace {

struct Decoded {
  std::string data;
  size_t consumed = 0;
  bool done = false;
  ChunkedError error = ChunkedError::kNone;
  std::string message;
};

// Feeds `pieces` in order (stopping where the decoder stops consuming).
Decoded DecodePieces(const std::vector<std::string>& pieces, ChunkedLimits limits = {}) {
  ChunkedDecoder d(limits);
  Decoded out;
  for (const auto& piece : pieces) {
    const size_t used = d.Feed(piece, out.data);
    out.consumed += used;
    if (used < piece.size()) break;
  }
  out.done = d.done();
  out.error = d.error();
  out.message = d.error_message();
  return out;
}

Decoded Decode(const std::string& bytes, ChunkedLimits limits = {}) {
  return DecodePieces({bytes}, limits);
}

const std::string kBody = "5\r\nhello\r\n1;name=value;x\r\n \r\n1A \t;ext\r\n" +
                          std::string(26, 'z') + "\r\n0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n";
const std::string kData = "hello " + std::string(26, 'z');

TEST(ChunkedDecoderTest, DecodesTheSameWhereverTheBytesAreSplit) {
  const std::string input = kBody + "NEXT MESSAGE";
  Decoded whole = Decode(input);
  ASSERT_TRUE(whole.done) << whole.message;
  EXPECT_EQ(whole.data, kData);
  EXPECT_EQ(whole.consumed, kBody.size());  // the next message is not the body's
  for (size_t cut = 0; cut <= input.size(); ++cut) {
    SCOPED_TRACE(cut);
    Decoded two = DecodePieces({input.substr(0, cut), input.substr(cut)});
    EXPECT_TRUE(two.done);
    EXPECT_EQ(two.data, kData);
    EXPECT_EQ(two.consumed, kBody.size());
  }
  std::vector<std::string> bytes;
  for (const char c : input)
    bytes.emplace_back(1, c);
  Decoded one_by_one = DecodePieces(bytes);
  EXPECT_TRUE(one_by_one.done);
  EXPECT_EQ(one_by_one.data, kData);
  EXPECT_EQ(one_by_one.consumed, kBody.size());
  // A prefix is neither done nor failed: the decoder waits for more.
  for (size_t cut = 0; cut < kBody.size(); ++cut) {
    Decoded prefix = Decode(kBody.substr(0, cut));
    EXPECT_FALSE(prefix.done) << cut;
    EXPECT_EQ(prefix.error, ChunkedError::kNone) << cut << ": " << prefix.message;
  }
}

TEST(ChunkedDecoderTest, FeedAfterTheEndConsumesNothing) {
  ChunkedDecoder d;
  std::string out;
  EXPECT_EQ(d.Feed("0\r\n\r\n", out), 5u);
  EXPECT_TRUE(d.done());
  EXPECT_EQ(d.Feed("1\r\nx\r\n", out), 0u);
  EXPECT_EQ(out, "");
}

// Go's maxLineLength: a line of 4096 bytes or more, its CRLF included, is refused, and a line
// that has not ended is refused as soon as it is that long (a peer sending a size line forever
// costs at most 4 KiB).
TEST(ChunkedDecoderTest, SizeLineLongerThanTheLimitIsRefusedBeforeItEnds) {
  const std::string longest = "1;" + std::string(kMaxChunkLineBytes - 5, 'e');  // + CRLF = 4095
  Decoded ok = Decode(longest + "\r\nx\r\n0\r\n\r\n");
  EXPECT_TRUE(ok.done) << ok.message;
  EXPECT_EQ(ok.data, "x");
  Decoded too_long = Decode(longest + "e\r\nx\r\n0\r\n\r\n");
  EXPECT_EQ(too_long.error, ChunkedError::kLineTooLong);
  EXPECT_EQ(too_long.message, "chunk size line longer than the max chunk line size of 4096 bytes");
  // No end of line yet: refused once it holds 4095 bytes (with the LF still to come).
  EXPECT_EQ(Decode(longest + "e").error, ChunkedError::kNone);
  EXPECT_EQ(Decode(longest + "ee").error, ChunkedError::kLineTooLong);
  std::vector<std::string> drip(10000, "0");
  EXPECT_EQ(DecodePieces(drip).error, ChunkedError::kLineTooLong);
}

TEST(ChunkedDecoderTest, ChunkDataMustEndWithCrlf) {
  Decoded r = Decode("2\r\n{}XX0\r\n\r\n");
  EXPECT_EQ(r.error, ChunkedError::kMissingCrlf);
  EXPECT_EQ(r.message, "chunk data not followed by CRLF (byte \"X\" after the data)");
  EXPECT_EQ(r.data, "{}");
  EXPECT_EQ(Decode("2\r\n{}\n0\r\n\r\n").error, ChunkedError::kMissingCrlf);
  EXPECT_EQ(Decode("2\r\n{}\rX").error, ChunkedError::kMissingCrlf);
  // Split between the CR and the LF is fine.
  EXPECT_TRUE(DecodePieces({"2\r\n{}\r", "\n0\r\n\r\n"}).done);
}

TEST(ChunkedDecoderTest, LinesEndWithCrlfAndHoldNoOtherCr) {
  EXPECT_EQ(Decode("2\n{}\r\n").error, ChunkedError::kBareLf);
  EXPECT_EQ(Decode("0\r\nA: 1\n\r\n").error, ChunkedError::kBareLf);
  EXPECT_EQ(Decode("2\r\r\n{}\r\n").error, ChunkedError::kInvalidCr);
  EXPECT_EQ(Decode("2;a\rb\r\n{}\r\n").error, ChunkedError::kInvalidCr);
}

TEST(ChunkedDecoderTest, SizesAreHexDigitsOnly) {
  for (const std::string bad :
       {"\r\n", "zz\r\n", " 5\r\n", "-5\r\n", "+5\r\n", "0x5\r\n", ";ext\r\n", "5 5\r\n"}) {
    Decoded r = Decode(bad);
    EXPECT_EQ(r.error, ChunkedError::kBadSize) << bad;
  }
  EXPECT_EQ(Decode("zz\r\n").message, "invalid chunk size \"zz\"");
  // Upper and lower case, whitespace before the extensions.
  Decoded r = Decode("A\r\n0123456789\r\nb \t;x=\"y\"\r\nabcdefghijk\r\n0\r\n\r\n");
  EXPECT_TRUE(r.done) << r.message;
  EXPECT_EQ(r.data.size(), 21u);
}

// Go's parseHexUint stops at 16 digits ("http chunk length too large"), so the size never
// overflows; a size within 64 bits but over the chunk limit is refused before any data is read.
TEST(ChunkedDecoderTest, HugeSizesAreRefusedWithoutOverflowOrBuffering) {
  Decoded seventeen = Decode("10000000000000000\r\n");
  EXPECT_EQ(seventeen.error, ChunkedError::kSizeTooLarge);
  EXPECT_EQ(Decode("00000000000000001\r\n").error, ChunkedError::kSizeTooLarge);
  // 16 digits: 2^64 - 1, no wrap.
  EXPECT_EQ(Decode("ffffffffffffffff\r\nabc").error, ChunkedError::kNone);
  const ChunkedLimits limits{.max_chunk_bytes = 1 << 20,
                             .max_body_bytes = 3 << 20,
                             .max_chunk_bytes_name = "max watch response size"};
  Decoded huge = Decode("ffffffffffffffff\r\n" + std::string(100, 'x'), limits);
  EXPECT_EQ(huge.error, ChunkedError::kChunkTooLarge);
  EXPECT_EQ(huge.message,
            "chunk of 18446744073709551615 bytes exceeds the max watch response size of 1048576 "
            "bytes");
  EXPECT_EQ(huge.data, "");
  EXPECT_EQ(Decode("100001\r\n", limits).error, ChunkedError::kChunkTooLarge);
  EXPECT_EQ(Decode("100000\r\n", limits).error, ChunkedError::kNone);
  // The body limit counts every chunk: the fourth 1 MiB chunk is refused when it is announced.
  std::string body;
  const std::string mib(1 << 20, 'm');
  for (int i = 0; i < 3; ++i)
    body += "100000\r\n" + mib + "\r\n";
  Decoded total = Decode(body + "1\r\n", limits);
  EXPECT_EQ(total.error, ChunkedError::kBodyTooLarge);
  EXPECT_EQ(total.message, "body exceeds the max HTTP body size of 3145728 bytes");
  EXPECT_EQ(total.data.size(), size_t{3} << 20);
}

TEST(ChunkedDecoderTest, TrailersAreCheckedAndBounded) {
  Decoded ok = Decode("0\r\nA: 1\r\nB:\r\n\r\n");
  EXPECT_TRUE(ok.done) << ok.message;
  for (const std::string bad : {"0\r\nno colon\r\n\r\n", "0\r\n: empty name\r\n\r\n",
                                "0\r\nsp ace: 1\r\n\r\n", "0\r\n folded\r\n\r\n"}) {
    EXPECT_EQ(Decode(bad).error, ChunkedError::kBadTrailer) << bad;
  }
  const ChunkedLimits limits{.max_trailer_bytes = 32};
  EXPECT_TRUE(Decode("0\r\nA: 1234567890123456789012345\r\n\r\n", limits).done);  // 30 + 2
  Decoded big = Decode("0\r\nA: 12345678901234567890123456\r\n\r\n", limits);
  EXPECT_EQ(big.error, ChunkedError::kTrailersTooLarge);
  EXPECT_EQ(big.message, "trailers exceed the max HTTP header size of 32 bytes");
  // Many short trailer lines without an end: refused once they pass the limit.
  std::string many = "0\r\n";
  for (int i = 0; i < 100; ++i)
    many += "A: 1\r\n";
  EXPECT_EQ(Decode(many, limits).error, ChunkedError::kTrailersTooLarge);
  // A trailer line is a line: the line limit holds too.
  EXPECT_EQ(Decode("0\r\nA: " + std::string(5000, 'v')).error, ChunkedError::kLineTooLong);
}

}  // namespace
}  // namespace calico::http
