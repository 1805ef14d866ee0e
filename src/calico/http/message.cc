// The request parser of message.h (Go net/http's readRequest and fixLength rules).
#include "calico/http/message.h"

#include <cctype>
#include <cstdint>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace calico::http {
namespace {

ParseResult Bad(int status, std::string error) {
  ParseResult r;
  r.state = ParseState::kBad;
  r.status = status;
  r.error = std::move(error);
  return r;
}

// Go's %q for a header value in an error: printable ASCII as is, '"' and '\\' escaped, every
// other byte as \xNN (fmt's "{:?}" asserts on some invalid UTF-8, and the bytes are the client's).
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  return out + "\"";
}

ParseResult NeedMore() {
  return ParseResult{};
}

bool IsTokenChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isalnum(u) != 0) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
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

// 1*HEXDIG, at most 15 digits; nullopt otherwise.
std::optional<uint64_t> ParseHex(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isxdigit(u) == 0) return std::nullopt;
    v = v * 16 + static_cast<uint64_t>(std::isdigit(u) != 0 ? c - '0' : std::tolower(u) - 'a' + 10);
  }
  return v;
}

// The longest line a chunk-size line may be (size, extensions).
constexpr size_t kMaxChunkLine = 4096;

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

ParseResult ParseMessage(std::string_view buf, const Limits& limits, bool is_response) {
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
    if (!IsToken(name)) return Bad(400, "invalid header name " + Quote(name));
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
  size_t pos = head_end + 4;
  auto te = req.headers.find("transfer-encoding");
  if (te != req.headers.end()) {
    if (Lower(te->second) != "chunked") {
      return Bad(501, "unsupported transfer encoding " + Quote(te->second));
    }
    // Chunked: a Content-Length is ignored (Go's fixLength removes it).
    for (;;) {
      const size_t eol = buf.find("\r\n", pos);
      if (eol == std::string_view::npos) {
        if (buf.size() - pos > kMaxChunkLine) return Bad(400, "chunk size line too long");
        return NeedMore();
      }
      std::string_view size_text = buf.substr(pos, eol - pos);
      size_text = TrimOws(size_text.substr(0, size_text.find(';')));
      auto size = ParseHex(size_text);
      if (!size) return Bad(400, "invalid chunk size");
      pos = eol + 2;
      if (*size == 0) {
        // Trailer lines (ignored) up to an empty line; they count against the header limit.
        for (;;) {
          const size_t t = buf.find("\r\n", pos);
          if (t == std::string_view::npos) {
            if (buf.size() - pos > limits.max_header_bytes) {
              return Bad(431, "trailers exceed the max HTTP header size");
            }
            return NeedMore();
          }
          if (t == pos) {
            r.consumed = pos + 2;
            r.state = ParseState::kComplete;
            return r;
          }
          pos = t + 2;
        }
      }
      if (req.body.size() + *size > limits.max_body_bytes) {
        return Bad(413, fmt::format("body exceeds the {} of {} bytes", model::kMaxHttpBodyBytesName,
                                    limits.max_body_bytes));
      }
      if (buf.size() < pos + *size + 2) return NeedMore();
      if (buf.substr(pos + *size, 2) != "\r\n") return Bad(400, "chunk not followed by CRLF");
      req.body.append(buf.substr(pos, *size));
      pos += *size + 2;
    }
  }
  uint64_t length = 0;
  if (!content_lengths.empty()) {
    for (const auto& v : content_lengths) {
      if (v != content_lengths.front()) {
        return Bad(400, "http: message cannot contain multiple Content-Length headers");
      }
    }
    auto parsed = ParseDecimal(content_lengths.front());
    if (!parsed) {
      return Bad(400, "bad Content-Length " + Quote(content_lengths.front()));
    }
    length = *parsed;
    req.headers["content-length"] = content_lengths.front();
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
