// Fuzzes the chunked-coding decoder (http/chunked.h) shared by the HTTP parser and the etcd JSON
// gateway's watch stream. The first two bytes choose the chunk limit and the size of the pieces
// the rest is fed in; the rest is the body. Checked: any bytes end done, failed, or waiting for
// more; feeding them in pieces gives exactly what feeding them at once gives (data, end, error);
// no more is consumed than given, all of it while the body goes on; the data never passes the
// body limit nor the bytes consumed.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "calico/http/chunked.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using calico::http::ChunkedDecoder;
  using calico::http::ChunkedError;
  using calico::http::ChunkedLimits;
  if (size < 2) return 0;
  const ChunkedLimits limits{.max_chunk_bytes = 1 + size_t{data[0]} * 64,
                             .max_body_bytes = 8192,
                             .max_trailer_bytes = 512};
  const size_t step = 1 + data[1] % 16;
  const std::string_view in(reinterpret_cast<const char*>(data) + 2, size - 2);

  ChunkedDecoder whole(limits);
  std::string whole_data;
  const size_t whole_used = whole.Feed(in, whole_data);

  ChunkedDecoder pieces(limits);
  std::string pieces_data;
  size_t pieces_used = 0;
  for (size_t at = 0; at < in.size(); at += step) {
    const std::string_view piece = in.substr(at, step);
    const size_t used = pieces.Feed(piece, pieces_data);
    if (used > piece.size()) __builtin_trap();
    pieces_used += used;
    if (used < piece.size()) break;
  }

  if (whole_used > in.size()) __builtin_trap();
  if (whole.done() && whole.failed()) __builtin_trap();
  if (!whole.done() && !whole.failed() && whole_used != in.size()) __builtin_trap();
  if (whole.failed() != (whole.error() != ChunkedError::kNone)) __builtin_trap();
  if (whole.failed() && whole.error_message().empty()) __builtin_trap();
  if (whole_data.size() > limits.max_body_bytes || whole_data.size() > whole_used) {
    __builtin_trap();
  }
  if (whole_data != pieces_data || whole.done() != pieces.done() ||
      whole.error() != pieces.error() || whole.error_message() != pieces.error_message()) {
    __builtin_trap();
  }
  if (!whole.failed() && whole_used != pieces_used) __builtin_trap();
  // A finished decoder takes nothing more.
  std::string more;
  if ((whole.done() || whole.failed()) && whole.Feed("1\r\nx\r\n", more) != 0) __builtin_trap();
  return 0;
}
