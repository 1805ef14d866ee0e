// HTTP/1.1 messages for the project's small servers (the health and metrics endpoints of
// calico-node, libnetwork's plugin socket): a parser that works on the bytes received so far and
// never trusts them, and the response renderer.
//
// The parser follows Go's net/http server (libnetwork-plugin and Felix are Go programs), with
// the limits of model/decode_limits.h:
//   * request line "METHOD SP target SP HTTP/1.x", header lines "name: value" (no space before
//     the colon, no obsolete line folding); otherwise 400;
//   * request line and headers at most kMaxHttpHeaderBytes: 431;
//   * Content-Length: decimal digits only ("-5", "+5", "0x10", "5, 5" are 400); several
//     Content-Length headers are refused with 400 unless they all hold the same value (Go:
//     "http: message cannot contain multiple Content-Length headers", RFC 9110 section 8.6);
//   * a body larger than the limit: 413 (known from Content-Length before it is read);
//   * Transfer-Encoding: chunked, decoded by chunked.h's ChunkedDecoder and its limits (then any
//     Content-Length is ignored, as Go does); any other transfer coding is 501;
//   * header names are lower-cased; a repeated header keeps its values joined by ", ".
//
// Thread-safety: pure functions and values.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "calico/model/decode_limits.h"

namespace calico::http {

struct Request {
  std::string method;                          // "POST"
  std::string path;                            // "/Plugin.Activate" (the request target)
  std::string version;                         // "HTTP/1.1"
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

// The sink of a streamed response body (Server::Serve implements it).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Sends `data` now (waiting at most the server's write_timeout). False once the peer is gone,
  // too slow, or the server is stopping; the stream should then return.
  virtual bool Write(std::string_view data) = 0;
  // False once the peer has closed or the server is stopping (checked without blocking).
  virtual bool Open() = 0;
};

struct Response {
  int status = 200;
  std::string content_type;
  std::string body;
  // A streamed body (Server-Sent Events, NDJSON), for a Server only: the status line and headers
  // go out without Content-Length ("Cache-Control: no-cache", "Connection: close"), then `stream`
  // writes the body for as long as it likes; the connection closes when it returns. `body` is
  // ignored. The stream runs on the connection's thread, so it counts against max_connections.
  std::function<void(StreamWriter&)> stream{};
};

struct Limits {
  size_t max_header_bytes = model::kMaxHttpHeaderBytes;
  size_t max_body_bytes = model::kMaxHttpBodyBytes;
};

enum class ParseState {
  kNeedMore,  // the bytes so far are a valid prefix of a message
  kComplete,  // one message: `consumed` bytes of the input
  kBad,       // refuse with `status` and `error`, then close the connection
};

struct ParseResult {
  ParseState state = ParseState::kNeedMore;
  size_t consumed = 0;
  int status = 0;     // for kBad: 400, 413, 431 or 501
  std::string error;  // for kBad
  Request request;    // for kComplete (for a response: version = status line)
};

// Parses one request from the start of `buf`. With `is_response`, parses a status line instead
// of a request line ("HTTP/1.1 200 OK"; the line lands in request.version, status in `status`)
// for the test clients.
ParseResult ParseMessage(std::string_view buf, const Limits& limits, bool is_response = false);

// The start line and headers alone, with ParseMessage's checks of them: kComplete with
// `consumed` = the head's length and an empty body, for an answer whose body is a stream (the
// etcd gateway's watch: read it with a ChunkedDecoder, chunked.h).
ParseResult ParseHead(std::string_view buf, const Limits& limits, bool is_response = false);

// Whether the head says "Transfer-Encoding: chunked" (ParseHead refuses any other coding).
bool IsChunked(const Request& head);

// "HTTP/1.1 <status> <reason>", Content-Type when set, Content-Length, "Connection: close" when
// `close`, then the body.
std::string RenderResponse(const Response& response, bool close);

// Whether the connection ends after this request (Connection: close, or HTTP/1.0 without
// keep-alive).
bool WantsClose(const Request& request);

const char* ReasonPhrase(int status);

}  // namespace calico::http
