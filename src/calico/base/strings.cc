#include "calico/base/strings.h"

#include <algorithm>
#include <cctype>

namespace calico {

std::vector<std::string> StrSplit(std::string_view s, char sep, bool skip_empty) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = s.find(sep, start);
    std::string_view part = s.substr(start, pos == std::string_view::npos ? s.npos : pos - start);
    if (!(skip_empty && part.empty())) out.emplace_back(part);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += sep;
    out += parts[i];
  }
  return out;
}

std::string_view StrTrim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.starts_with(prefix);
}
bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string RenderBoxTable(const std::vector<std::string>& headers,
                           const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(headers.size());
  for (size_t i = 0; i < headers.size(); ++i)
    width[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::string rule = "+";
  for (size_t w : width)
    rule += std::string(w + 2, '-') + "+";
  rule += '\n';
  std::string out = rule + "|";
  for (size_t i = 0; i < headers.size(); ++i) {
    const size_t pad = width[i] - headers[i].size();
    out += " " + std::string(pad / 2, ' ') + headers[i] + std::string(pad - pad / 2, ' ') + " |";
  }
  out += '\n';
  out += rule;
  for (const auto& row : rows) {
    out += "|";
    for (size_t i = 0; i < width.size(); ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      out += " " + cell + std::string(width[i] - cell.size(), ' ') + " |";
    }
    out += '\n';
  }
  out += rule;
  return out;
}

}  // namespace calico
