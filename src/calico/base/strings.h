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

// go-pretty's default table (as calicoctl node status prints it): `+-`/`-|` borders, one space of
// padding, headers centred (extra space on the right), cells left-aligned, a rule under the header
// and at the bottom. Rows shorter than the header get empty cells.
std::string RenderBoxTable(const std::vector<std::string>& headers,
                           const std::vector<std::vector<std::string>>& rows);

}  // namespace calico
