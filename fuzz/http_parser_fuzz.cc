// Fuzzes the HTTP/1.1 parser of calico-node's health/metrics servers and libnetwork's plugin
// socket: any bytes give a complete message, a request for more, or a refusal with a status; a
// complete message never claims more bytes than it was given, and parsing a prefix of a complete
// message never reports it complete with a different length.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "calico/http/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using calico::http::ParseState;
  std::string_view buf(reinterpret_cast<const char*>(data), size);
  const calico::http::Limits limits{.max_header_bytes = 4096, .max_body_bytes = 8192};
  for (const bool response : {false, true}) {
    auto r = calico::http::ParseMessage(buf, limits, response);
    if (r.state == ParseState::kComplete) {
      if (r.consumed > size || r.consumed == 0) __builtin_trap();
      if (r.request.body.size() > limits.max_body_bytes) __builtin_trap();
      // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
      (void)calico::http::WantsClose(r.request);
      // The same message alone parses to the same length.
      auto again = calico::http::ParseMessage(buf.substr(0, r.consumed), limits, response);
      if (again.state != ParseState::kComplete || again.consumed != r.consumed) __builtin_trap();
    } else if (r.state == ParseState::kBad) {
      if (r.status < 400 || r.status > 505) __builtin_trap();
    }
  }
  // The fuzzer looks for crashes and hangs: an error for fuzzed input is an expected outcome.
  (void)calico::http::RenderResponse(
      calico::http::Response{static_cast<int>(size % 600), "text/plain", std::string(buf)}, true);
  return 0;
}
