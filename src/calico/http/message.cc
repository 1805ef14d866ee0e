// The request parser of message.h (Go net/http's readRequest and fixLength rules).
#include "calico/http/message.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "calico/http/chunked.h"

namespace calico::http {
namespace {

ParseResult Bad(int status, std::string error) {
  ParseResult r;
  r.state = ParseState::kBad;
  r.status = status;
  r.error = std::move(error);
  return r;
}

ParseResult NeedMore() {
  return ParseResult{};
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// 1*DIGIT, at most 18 digits (no overflow); nullopt otherwise.
std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Status";
  }
}

ParseResult ParseHead(std::string_view buf, const Limits& limits, bool is_response) {
  const size_t head_end = buf.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (buf.size() > limits.max_header_bytes) {
      return Bad(431, fmt::format("request line and headers exceed the {} of {} bytes",
                                  model::kMaxHttpHeaderBytesName, limits.max_header_bytes));
    }
    return NeedMore();
  }
  if (head_end + 4 > limits.max_header_bytes) {
    return Bad(431, fmt::format("request line and headers exceed the {} of {} bytes",
                                model::kMaxHttpHeaderBytesName, limits.max_header_bytes));
  }
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= head_end;) {
    size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos || eol > head_end) eol = head_end;
    lines.push_back(buf.substr(pos, eol - pos));
    pos = eol + 2;
  }
  ParseResult r;
  Request& req = r.request;
  const std::string_view start = lines[0];
  if (is_response) {
    // "HTTP/1.1 200 OK"
    if (start.size() < 12 || start.substr(0, 7) != "HTTP/1." || start[8] != ' ') {
      return Bad(400, "malformed status line");
    }
    auto code = ParseDecimal(start.substr(9, 3));
    if (!code) return Bad(400, "malformed status line");
    r.status = static_cast<int>(*code);
    req.version = std::string(start);
  } else {
    const size_t sp1 = start.find(' ');
    const size_t sp2 = sp1 == std::string_view::npos ? sp1 : start.find(' ', sp1 + 1);
    if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
        start.find(' ', sp2 + 1) != std::string_view::npos) {
      return Bad(400, "malformed request line");
    }
    const std::string_view method = start.substr(0, sp1);
    const std::string_view target = start.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = start.substr(sp2 + 1);
    if (!IsToken(method) || target.empty()) return Bad(400, "malformed request line");
    for (const char c : target) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return Bad(400, "malformed request target");
      }
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
      if (version.substr(0, 5) == "HTTP/") return Bad(505, "unsupported HTTP version");
      return Bad(400, "malformed HTTP version");
    }
    req.method = std::string(method);
    req.path = std::string(target);
    req.version = std::string(version);
  }
  std::vector<std::string> content_lengths;
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') {
      return Bad(400, "obsolete line folding in headers");
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Bad(400, "malformed header line");
    const std::string_view name = line.substr(0, colon);
    if (!IsToken(name)) return Bad(400, "invalid header name " + QuoteForError(name));
    const std::string_view value = TrimOws(line.substr(colon + 1));
    for (const char c : value) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return Bad(400, "invalid header value");
    }
    std::string key = Lower(name);
    if (key == "content-length") content_lengths.emplace_back(value);
    auto [it, inserted] = req.headers.emplace(key, std::string(value));
    if (!inserted) it->second += ", " + std::string(value);
  }
  auto te = req.headers.find("transfer-encoding");
  if (te != req.headers.end() && Lower(te->second) != "chunked") {
    return Bad(501, "unsupported transfer encoding " + QuoteForError(te->second));
  }
  // Go's fixLength: differing Content-Lengths are refused first; with chunked coding the
  // Content-Length is then ignored.
  for (const auto& v : content_lengths) {
    if (v != content_lengths.front()) {
      return Bad(400, "http: message cannot contain multiple Content-Length headers");
    }
  }
  if (!content_lengths.empty() && te == req.headers.end()) {
    if (!ParseDecimal(content_lengths.front())) {
      return Bad(400, "bad Content-Length " + QuoteForError(content_lengths.front()));
    }
    req.headers["content-length"] = content_lengths.front();
  }
  r.consumed = head_end + 4;
  r.state = ParseState::kComplete;
  return r;
}

bool IsChunked(const Request& head) {
  auto te = head.headers.find("transfer-encoding");
  return te != head.headers.end() && Lower(te->second) == "chunked";
}

ParseResult ParseMessage(std::string_view buf, const Limits& limits, bool is_response) {
  ParseResult r = ParseHead(buf, limits, is_response);
  if (r.state != ParseState::kComplete) return r;
  Request& req = r.request;
  const size_t pos = r.consumed;
  if (IsChunked(req)) {
    // Chunked: a Content-Length is ignored (Go's fixLength removes it).
    ChunkedDecoder chunked(ChunkedLimits{.max_chunk_bytes = limits.max_body_bytes,
                                         .max_body_bytes = limits.max_body_bytes,
                                         .max_chunk_bytes_name = model::kMaxHttpBodyBytesName,
                                         .max_body_bytes_name = model::kMaxHttpBodyBytesName,
                                         .max_trailer_bytes = limits.max_header_bytes});
    const size_t used = chunked.Feed(buf.substr(pos), req.body);
    if (chunked.failed()) {
      switch (chunked.error()) {
        case ChunkedError::kChunkTooLarge:
        case ChunkedError::kBodyTooLarge:
          return Bad(413, chunked.error_message());
        case ChunkedError::kTrailersTooLarge:
          return Bad(431, chunked.error_message());
        default:
          return Bad(400, chunked.error_message());
      }
    }
    if (!chunked.done()) return NeedMore();
    r.consumed = pos + used;
    return r;
  }
  uint64_t length = 0;
  if (auto cl = req.headers.find("content-length"); cl != req.headers.end()) {
    length = ParseDecimal(cl->second).value_or(0);  // checked by ParseHead
  }
  if (length > limits.max_body_bytes) {
    return Bad(413, fmt::format("body of {} bytes exceeds the {} of {} bytes", length,
                                model::kMaxHttpBodyBytesName, limits.max_body_bytes));
  }
  if (buf.size() - pos < length) return NeedMore();
  req.body = std::string(buf.substr(pos, length));
  r.consumed = pos + length;
  r.state = ParseState::kComplete;
  return r;
}

std::string RenderResponse(const Response& r, bool close) {
  std::string out = fmt::format("HTTP/1.1 {} {}\r\n", r.status, ReasonPhrase(r.status));
  if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
  // No Content-Length on 204 (RFC 9110 section 8.6), as Go omits it.
  if (r.status != 204) out += fmt::format("Content-Length: {}\r\n", r.body.size());
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

bool WantsClose(const Request& request) {
  auto it = request.headers.find("connection");
  const std::string value = it == request.headers.end() ? "" : Lower(it->second);
  if (value == "close") return true;
  return request.version == "HTTP/1.0" && value != "keep-alive";
}

}  // namespace calico::http
