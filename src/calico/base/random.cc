#include "calico/base/random.h"

#include <sys/random.h>

#include <array>
#include <cerrno>
#include <random>

namespace calico {

void RandomBytes(std::span<uint8_t> out) {
  size_t filled = 0;
  while (filled < out.size()) {
    const ssize_t n = ::getrandom(out.data() + filled, out.size() - filled, 0);
    if (n > 0) {
      filled += static_cast<size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      break;  // ENOSYS on very old kernels: fall back below.
    }
  }
  if (filled < out.size()) {
    std::random_device rd;
    for (size_t i = filled; i < out.size(); ++i) {
      out[i] = static_cast<uint8_t>(rd() & 0xffU);
    }
  }
}

std::string RandomHex(size_t digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string bytes((digits + 1) / 2, '\0');
  RandomBytes({reinterpret_cast<uint8_t*>(bytes.data()), bytes.size()});
  std::string out;
  out.reserve(digits);
  for (size_t i = 0; i < digits; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i / 2]);
    out.push_back(kHex[(i % 2 == 0 ? b >> 4 : b) & 0xfU]);
  }
  return out;
}

std::string NewUuid() {
  std::array<uint8_t, 16> b{};
  RandomBytes(b);
  b[6] = static_cast<uint8_t>((b[6] & 0x0fU) | 0x40U);  // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3fU) | 0x80U);  // variant 10
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xfU]);
  }
  return out;
}

}  // namespace calico
