// The chunked-coding decoder of chunked.h (Go's net/http/internal/chunked.go: chunkedReader,
// readChunkLine, parseHexUint; and body.readTrailer for the trailer).
#include "calico/http/chunked.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace calico::http {
namespace {

// A line for an error message: printable ASCII as is, every other byte as \xNN, at most 64
// bytes of it (the bytes are the peer's).
// How much of a bad line an error message quotes.
constexpr size_t kQuotedBytes = 64;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

size_t ChunkedDecoder::Fail(ChunkedError error, std::string message, size_t consumed) {
  state_ = State::kFailed;
  error_ = error;
  message_ = std::move(message);
  line_.clear();
  line_.shrink_to_fit();
  return consumed;
}

bool ChunkedDecoder::EndSizeLine(std::string_view line) {
  // Extensions (";name=value", with optional whitespace before the ';') are ignored, as Go's
  // removeChunkExtension does.
  std::string_view size = line.substr(0, line.find(';'));
  while (!size.empty() && (size.back() == ' ' || size.back() == '\t'))
    size.remove_suffix(1);
  if (size.empty()) {
    Fail(ChunkedError::kBadSize, "empty chunk size in line " + QuoteForError(line, kQuotedBytes),
         0);
    return false;
  }
  uint64_t value = 0;
  for (size_t i = 0; i < size.size(); ++i) {
    const int digit = HexValue(size[i]);
    if (digit < 0) {
      Fail(ChunkedError::kBadSize, "invalid chunk size " + QuoteForError(size, kQuotedBytes), 0);
      return false;
    }
    if (i == 16) {
      Fail(ChunkedError::kSizeTooLarge,
           "chunk size " + QuoteForError(size, kQuotedBytes) + " has more than 16 hex digits", 0);
      return false;
    }
    value = value << 4 | static_cast<uint64_t>(digit);
  }
  if (value == 0) {
    state_ = State::kTrailerLine;
    return true;
  }
  if (value > limits_.max_chunk_bytes) {
    Fail(ChunkedError::kChunkTooLarge,
         fmt::format("chunk of {} bytes exceeds the {} of {} bytes", value,
                     limits_.max_chunk_bytes_name, limits_.max_chunk_bytes),
         0);
    return false;
  }
  // body_bytes_ <= max_body_bytes always, so the subtraction cannot wrap.
  if (value > limits_.max_body_bytes - body_bytes_) {
    Fail(ChunkedError::kBodyTooLarge,
         fmt::format("body exceeds the {} of {} bytes", limits_.max_body_bytes_name,
                     limits_.max_body_bytes),
         0);
    return false;
  }
  body_bytes_ += value;
  remaining_ = value;
  state_ = State::kData;
  return true;
}

bool ChunkedDecoder::EndTrailerLine(std::string_view line) {
  if (line.empty()) {
    state_ = State::kDone;
    return true;
  }
  const size_t colon = line.find(':');
  const std::string_view name = line.substr(0, colon);
  if (colon == std::string_view::npos || name.empty() || !IsToken(name)) {
    Fail(ChunkedError::kBadTrailer, "malformed trailer line " + QuoteForError(line, kQuotedBytes),
         0);
    return false;
  }
  return true;
}

size_t ChunkedDecoder::Feed(std::string_view in, std::string& out) {
  size_t i = 0;
  while (i < in.size()) {
    switch (state_) {
      case State::kDone:
      case State::kFailed:
        return i;
      case State::kSizeLine:
      case State::kTrailerLine: {
        const size_t lf = in.find('\n', i);
        const size_t end = lf == std::string_view::npos ? in.size() : lf;
        const bool trailer = state_ == State::kTrailerLine;
        // Go refuses a line of kMaxChunkLineBytes or more, its LF included (still to come when
        // `lf` is npos).
        if (line_.size() + (end - i) + 1 >= kMaxChunkLineBytes) {
          return Fail(
              ChunkedError::kLineTooLong,
              fmt::format("chunk {} line longer than the {} of {} bytes",
                          trailer ? "trailer" : "size", kMaxChunkLineBytesName, kMaxChunkLineBytes),
              end);
        }
        if (trailer && trailer_bytes_ + line_.size() + (end - i) + 1 > limits_.max_trailer_bytes) {
          return Fail(ChunkedError::kTrailersTooLarge,
                      fmt::format("trailers exceed the {} of {} bytes",
                                  model::kMaxHttpHeaderBytesName, limits_.max_trailer_bytes),
                      end);
        }
        line_.append(in.data() + i, end - i);
        if (lf == std::string_view::npos) return in.size();
        i = lf + 1;
        if (trailer) trailer_bytes_ += line_.size() + 1;
        if (line_.empty() || line_.back() != '\r') {
          return Fail(ChunkedError::kBareLf,
                      "chunked line ends with bare LF: " + QuoteForError(line_, kQuotedBytes), i);
        }
        line_.pop_back();
        if (line_.find('\r') != std::string::npos) {
          return Fail(ChunkedError::kInvalidCr,
                      "invalid CR in chunked line " + QuoteForError(line_, kQuotedBytes), i);
        }
        const bool ok = trailer ? EndTrailerLine(line_) : EndSizeLine(line_);
        if (!ok) return i;
        line_.clear();
        break;
      }
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - i));
        out.append(in.data() + i, n);
        i += n;
        remaining_ -= n;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
      case State::kDataLf: {
        const char want = state_ == State::kDataCr ? '\r' : '\n';
        if (in[i] != want) {
          return Fail(ChunkedError::kMissingCrlf,
                      fmt::format("chunk data not followed by CRLF (byte {} after the data)",
                                  QuoteForError(in.substr(i, 1), kQuotedBytes)),
                      i);
        }
        ++i;
        state_ = state_ == State::kDataCr ? State::kDataLf : State::kSizeLine;
        break;
      }
    }
  }
  return i;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

std::string QuoteForError(std::string_view s, size_t max_bytes) {
  std::string out = "\"";
  for (const char c : s.substr(0, max_bytes)) {
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
  if (s.size() > max_bytes) out += "...";
  return out + "\"";
}

}  // namespace calico::http
