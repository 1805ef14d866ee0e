// nftables names for Felix's chains and IP sets (felix/rules/static.go chain naming,
// felix/ipsets set naming, felix/nftables name handling).
#include "calico/policy/names.h"

#include <string>
#include <vector>

#include "calico/selector/unique_id.h"

namespace calico::policy {
namespace {

bool IsLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

std::string HashB64(std::string_view data) {
  const auto digest = selector::Sha256(data);
  return selector::Base64RawUrlEncode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

bool IsNftIdentifier(std::string_view name) {
  if (name.empty() || name.size() > kMaxNftNameLen) return false;
  if (!IsLetter(name[0]) && name[0] != '_' && name[0] != '.') return false;
  for (char c : name) {
    if (!IsLetter(c) && !IsDigit(c) && c != '/' && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string ChainName(std::string_view prefix, std::string_view suffix) {
  std::string name = std::string(prefix) + std::string(suffix);
  if (IsNftIdentifier(name)) return name;
  return std::string(prefix) + "_" + HashB64(suffix);
}

std::string ToWorkloadChain(std::string_view iface) {
  return ChainName("cali-tw-", iface);
}
std::string FromWorkloadChain(std::string_view iface) {
  return ChainName("cali-fw-", iface);
}

std::string HostEndpointChain(HostChainKind kind, std::string_view iface) {
  const std::string_view suffix = iface == "*" ? std::string_view("any-interface-at-all") : iface;
  switch (kind) {
    case HostChainKind::kFrom:
      return ChainName("cali-fh-", suffix);
    case HostChainKind::kTo:
      return ChainName("cali-th-", suffix);
    case HostChainKind::kFromForward:
      return ChainName("cali-fhfw-", suffix);
    case HostChainKind::kToForward:
      return ChainName("cali-thfw-", suffix);
    case HostChainKind::kPreDnatFrom:
      return ChainName("mangle-cali-fh-", suffix);
    case HostChainKind::kRawFrom:
      return ChainName("raw-cali-fh-", suffix);
    case HostChainKind::kRawTo:
      return ChainName("raw-cali-th-", suffix);
  }
  return {};
}

std::string PolicyChain(std::string_view tier, std::string_view id, bool ingress) {
  return ChainName(ingress ? "cali-pi-" : "cali-po-", std::string(tier) + "/" + std::string(id));
}

std::string ProfileChain(std::string_view id, bool ingress) {
  return ChainName(ingress ? "cali-pri-" : "cali-pro-", id);
}

std::string SetName(std::string_view id, int family) {
  std::string name = family == 6 ? "cali60" : "cali40";
  bool plain = !id.empty();
  for (char c : id) {
    if (!IsLetter(c) && !IsDigit(c) && c != '-' && c != '_' && c != '.' && c != ':') plain = false;
  }
  if (plain) {
    for (char c : id) {
      name += c == ':' ? '-' : c;
    }
  } else {
    const auto digest = selector::Sha224(id);
    name += "h-" + selector::Base64RawUrlEncode(std::string_view(
                       reinterpret_cast<const char*>(digest.data()), digest.size()));
  }
  if (name.size() > kMaxSetNameLen) name.resize(kMaxSetNameLen);
  return name;
}

std::string MergedMapName(std::string_view dir, const std::vector<std::string>& chains,
                          int family) {
  std::string content(dir);
  for (const std::string& c : chains) {
    content += '\n';
    content += c;
  }
  std::string name = family == 0 ? "cali-m-" : (family == 6 ? "cali-m6-" : "cali-m4-");
  return name + HashB64(content).substr(0, kMaxSetNameLen - 1 - name.size());
}

std::string SanitizeComment(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    out += (c == '"' || c == '\\' || u < 0x20 || u >= 0x7f) ? '_' : c;
  }
  if (out.size() > kMaxNftCommentLen) {
    // Keep a prefix and make the cut text distinguishable: "<prefix>~<8 chars of hash>".
    const std::string tag = "~" + HashB64(text).substr(0, 8);
    out.resize(kMaxNftCommentLen - tag.size());
    out += tag;
  }
  return out;
}

}  // namespace calico::policy
