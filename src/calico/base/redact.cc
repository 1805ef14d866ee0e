// Secret redaction for diagnostics; see redact.h.
#include "calico/base/redact.h"

#include <fstream>
#include <iterator>
#include <regex>

namespace calico::base {

std::string Redact(std::string_view text) {
  // Built once; std::regex is slow to construct and the patterns never change.
  static const std::regex* const kPem = new std::regex(
      "-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\\s\\S]*?-----END [A-Z ]*PRIVATE KEY-----");
  static const std::regex* const kBirdPassword =
      new std::regex("(\\bpassword\\s+)\"(?:[^\"\\\\]|\\\\.)*\"", std::regex::icase);
  static const std::regex* const kFlag =
      new std::regex("(--[A-Za-z0-9_-]*password(?:=|\\s+))(\\S+)", std::regex::icase);
  static const std::regex* const kAssignment = new std::regex(
      "(\\b[A-Za-z0-9_]*(?:PASSWORD|password|Password)[\"']?\\s*[:=]\\s*)(\"[^\"]*\"|'[^']*'|\\S+"
      ")");
  std::string out(text);
  out = std::regex_replace(out, *kPem, "-----BEGIN $1PRIVATE KEY----- <redacted>");
  out = std::regex_replace(out, *kBirdPassword, "$1\"<redacted>\"");
  out = std::regex_replace(out, *kFlag, "$1<redacted>");
  out = std::regex_replace(out, *kAssignment, "$1<redacted>");
  return out;
}

void RedactFiles(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    std::string clean = Redact(text);
    if (clean != text) std::ofstream(it->path(), std::ios::binary | std::ios::trunc) << clean;
  }
}

}  // namespace calico::base
