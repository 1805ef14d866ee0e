// Content-derived IDs (libcalico-go/lib/hash MakeUniqueID) and the SHA-224 they are built on.
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace calico::selector {

// SHA-224 (FIPS 180-4) digest of `data`.
std::array<std::uint8_t, 28> Sha224(std::string_view data);

// SHA-256 (FIPS 180-4) digest of `data`.
std::array<std::uint8_t, 32> Sha256(std::string_view data);

// Base64 with the URL alphabet ('-', '_') and no padding (Go's base64.RawURLEncoding).
std::string Base64RawUrlEncode(std::string_view data);

// "<prefix>:" + Base64RawUrl(SHA-224("<prefix>:" + content)), e.g. selector IDs use prefix "s".
std::string MakeUniqueId(std::string_view prefix, std::string_view content);

}  // namespace calico::selector
