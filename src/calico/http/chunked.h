// An incremental decoder of HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1), for bodies
// that arrive a few bytes at a time and may never end: the requests of the project's servers
// (message.h's ParseMessage) and the etcd JSON gateway's watch stream (a chunked answer that
// lasts as long as the watch; datastore/etcdhttp/etcd_http_backend.cc).
//
// It follows Go's net/http/internal/chunked.go (etcd's gateway and Calico's Go components speak
// through it), strictly, and never trusts the peer:
//   * "<hex size>[;extensions]\r\n<size bytes>\r\n" ... "0\r\n" then trailer lines and "\r\n";
//   * a chunk-size line and each trailer line are at most kMaxChunkLineBytes (Go's maxLineLength,
//     4096); a line must end in CRLF, with no other CR in it (Go since 1.22: "chunked line ends
//     with bare LF", "invalid CR in chunked line"; RFC 9112 erratum 7633);
//   * the size is 1 to 16 hex digits (Go: "http chunk length too large" past 16), optionally
//     followed by spaces or tabs and chunk extensions (";name=value", ignored);
//   * a chunk's data must be followed by CRLF (Go: "malformed chunked encoding");
//   * a chunk larger than max_chunk_bytes, a body past max_body_bytes and trailers past
//     max_trailer_bytes are refused as soon as the size (or the trailer) is read, before any of
//     it is buffered;
//   * trailer lines must be "name: value" with a token name (they are then ignored).
// The decoder itself holds at most one line (kMaxChunkLineBytes); chunk data is handed out as it
// arrives, so what the caller keeps is the caller's to bound.
//
// Thread-safety: a ChunkedDecoder is a value used from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "calico/model/decode_limits.h"

namespace calico::http {

// Go's maxLineLength (net/http/internal/chunked.go): a chunk-size line with its extensions.
inline constexpr size_t kMaxChunkLineBytes = 4096;
inline constexpr const char* kMaxChunkLineBytesName = "max chunk line size";

struct ChunkedLimits {
  size_t max_chunk_bytes = std::numeric_limits<size_t>::max();  // one chunk's declared size
  size_t max_body_bytes = std::numeric_limits<size_t>::max();   // all chunks together
  const char* max_chunk_bytes_name = "max chunk size";
  const char* max_body_bytes_name = model::kMaxHttpBodyBytesName;
  size_t max_trailer_bytes = model::kMaxHttpHeaderBytes;  // all trailer lines together
};

enum class ChunkedError {
  kNone,
  kLineTooLong,       // a chunk-size or trailer line past kMaxChunkLineBytes
  kBareLf,            // a line ended by LF alone
  kInvalidCr,         // a CR inside a line
  kBadSize,           // not 1*HEXDIG [BWS ";" ...]
  kSizeTooLarge,      // more than 16 hex digits
  kChunkTooLarge,     // a chunk over max_chunk_bytes
  kBodyTooLarge,      // the chunks together over max_body_bytes
  kMissingCrlf,       // chunk data not followed by CRLF
  kTrailersTooLarge,  // trailer lines over max_trailer_bytes
  kBadTrailer,        // a trailer line that is not "name: value"
};

class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(ChunkedLimits limits = {}) : limits_(limits) {}

  // Decodes the next bytes of the body, appending chunk data to `out`. Returns how many bytes
  // of `in` belong to the body: all of them, unless the body ended in `in` (done(): the rest is
  // the next message) or the bytes are bad (failed(): the connection must be dropped). After
  // done() or failed(), Feed consumes nothing.
  size_t Feed(std::string_view in, std::string& out);

  bool done() const { return state_ == State::kDone; }
  // The last chunk ("0\r\n") has been read; only trailers may follow (a stream is over).
  bool ended() const { return state_ == State::kTrailerLine || state_ == State::kDone; }
  bool failed() const { return error_ != ChunkedError::kNone; }
  ChunkedError error() const { return error_; }
  // For failed(): what was wrong, naming the limit when one was passed ("chunk size line longer
  // than the max chunk line size of 4096 bytes").
  const std::string& error_message() const { return message_; }
  // Data bytes decoded so far.
  uint64_t body_bytes() const { return body_bytes_; }

 private:
  enum class State { kSizeLine, kData, kDataCr, kDataLf, kTrailerLine, kDone, kFailed };

  size_t Fail(ChunkedError error, std::string message, size_t consumed);
  // A whole line (CRLF removed) in the two line states.
  bool EndSizeLine(std::string_view line);
  bool EndTrailerLine(std::string_view line);

  ChunkedLimits limits_;
  State state_ = State::kSizeLine;
  ChunkedError error_ = ChunkedError::kNone;
  std::string message_;
  std::string line_;        // the current size or trailer line so far (with its CR, if seen)
  uint64_t remaining_ = 0;  // kData: bytes of the current chunk still to come
  uint64_t body_bytes_ = 0;
  size_t trailer_bytes_ = 0;
};

// Shared by the chunked decoder and the message parser (message.cc):
// RFC 9110's token (a header or trailer name): one or more tchar.
bool IsToken(std::string_view s);
// `s` quoted for an error message about bytes from a peer, as Go's %q (fmt's "{:?}" asserts on
// some invalid UTF-8, and the bytes are the peer's): printable ASCII as it is, `"` and `\`
// escaped, any other byte as \xNN; only the first `max_bytes` of it, then "...".
std::string QuoteForError(std::string_view s, size_t max_bytes = std::string_view::npos);

}  // namespace calico::http
