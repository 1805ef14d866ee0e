// Checks libcalico-go/lib/hash MakeUniqueID compatibility and the SHA-2 / base64 building blocks.
#include "calico/selector/unique_id.h"

#include <gtest/gtest.h>

namespace calico::selector {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : bytes) {
    auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

template <std::size_t N>
std::string Hex(const std::array<std::uint8_t, N>& d) {
  return Hex(std::string_view(reinterpret_cast<const char*>(d.data()), N));
}

TEST(Sha2Test, KnownVectors) {
  EXPECT_EQ(Hex(Sha224("")), "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f");
  EXPECT_EQ(Hex(Sha224("abc")), "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7");
  EXPECT_EQ(Hex(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(Sha224("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "75388b16512776cc5dba5da1fd890150b0c6455cb4f58b1952522525");
  // Exactly one and more than one block of padding.
  EXPECT_EQ(Hex(Sha256(std::string(55, 'a'))),
            "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  EXPECT_EQ(Hex(Sha256(std::string(64, 'a'))),
            "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST(Base64Test, RawUrl) {
  EXPECT_EQ(Base64RawUrlEncode(""), "");
  EXPECT_EQ(Base64RawUrlEncode("f"), "Zg");
  EXPECT_EQ(Base64RawUrlEncode("fo"), "Zm8");
  EXPECT_EQ(Base64RawUrlEncode("foo"), "Zm9v");
  EXPECT_EQ(Base64RawUrlEncode("\xfb\xff"), "-_8");
}

TEST(UniqueIdTest, MatchesCalico) {
  // The value upstream documents for the all() selector.
  EXPECT_EQ(MakeUniqueId("s", "all()"), "s:5y5I3VdRZfDU01O--xXAPx2yxCQQqMf0M6IWug");
}

}  // namespace
}  // namespace calico::selector
