// Small string helpers shared by all libraries.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace calico {

std::vector<std::string> StrSplit(std::string_view s, char sep, bool skip_empty = false);
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);
std::string_view StrTrim(std::string_view s);
std::string AsciiLower(std::string_view s);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
// Case-insensitive ASCII equality.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace calico
