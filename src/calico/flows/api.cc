// calico-flows' query parameters and HTTP client; see api.h.
#include "calico/flows/api.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "calico/base/numbers.h"
#include "calico/base/unique_fd.h"
#include "calico/http/client.h"
#include "calico/http/server.h"
#include "calico/model/validation/infra_schema.h"

namespace calico::flows {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        return InvalidArgument(fmt::format("bad %-escape in \"{}\"", s));
      }
      const int hi = HexValue(s[i + 1]);
      const int lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument(fmt::format("bad %-escape in \"{}\"", s));
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<Action> ActionParam(std::string_view v) {
  const std::string l = Lower(v);
  if (l == "allow" || l == "allowed") return Action::kAllow;
  if (l == "deny" || l == "denied") return Action::kDeny;
  if (l == "pass") return Action::kPass;
  return InvalidArgument(fmt::format("action: unknown Action \"{}\" (Allow, Deny or Pass)", v));
}

Result<UniqueFd> Dial(const ServerAddress& addr, std::string_view url,
                      std::chrono::milliseconds timeout) {
  auto fd = http::Dial(addr.host, addr.port, timeout);
  if (!fd) return Unavailable(fmt::format("calico-flows at {}: {}", url, fd.error().message()));
  return fd;
}

std::string RequestText(const ServerAddress& addr, std::string_view method, std::string_view target,
                        std::string_view body) {
  std::string req = fmt::format("{} {} HTTP/1.1\r\nHost: {}:{}\r\nConnection: close\r\n", method,
                                target, addr.host, addr.port);
  if (method == "POST") {
    req += fmt::format("Content-Type: application/x-ndjson\r\nContent-Length: {}\r\n", body.size());
  }
  req += "\r\n";
  req += body;
  return req;
}

}  // namespace

Result<QueryParams> ParseQueryString(std::string_view query) {
  QueryParams out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    ASSIGN_OR_RETURN(std::string name, Unescape(part.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      ASSIGN_OR_RETURN(value, Unescape(part.substr(eq + 1)));
    }
    out.emplace(std::move(name), std::move(value));
  }
  return out;
}

std::string UrlEncode(std::string_view text) {
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) != 0 || ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '/') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

Result<FlowQuery> FlowQueryFromParams(const QueryParams& params, int64_t now) {
  FlowQuery q;
  for (const auto& [name, value] : params) {
    if (name == "action") {
      std::string_view rest = value;
      while (!rest.empty()) {
        const size_t comma = rest.find(',');
        ASSIGN_OR_RETURN(Action a, ActionParam(rest.substr(0, comma)));
        q.filter.actions.push_back(a);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    } else if (name == "source" || name == "from") {
      q.filter.source = value;
    } else if (name == "dest" || name == "to") {
      q.filter.dest = value;
    } else if (name == "namespace") {
      q.filter.ns = value;
    } else if (name == "policy") {
      q.filter.policy = value;
    } else if (name == "since") {
      if (std::optional<int64_t> ns = model::validation::ParseGoDuration(value);
          ns && value != "0") {
        if (*ns < 0) return InvalidArgument(fmt::format("since: negative duration \"{}\"", value));
        q.filter.since = now - *ns / 1000000000;
      } else {
        Result<int64_t> t = ParseInt<int64_t>(value);
        if (!t || *t < 0) {
          return InvalidArgument(
              fmt::format("since: \"{}\" is neither a duration (5m, 90s) nor Unix seconds", value));
        }
        q.filter.since = *t;
      }
    } else if (name == "limit") {
      Result<size_t> n = ParseIntInRange<size_t>(value, 1, kMaxQueryLimit);
      if (!n) return InvalidArgument("limit: " + n.error().message());
      q.limit = *n;
    } else {
      return InvalidArgument(fmt::format("unknown parameter \"{}\"", name));
    }
  }
  return q;
}

std::string FlowQueryString(const FlowFilter& filter, std::string_view since_text, size_t limit) {
  std::vector<std::string> parts;
  for (Action a : filter.actions)
    parts.push_back("action=" + std::string(ActionName(a)));
  if (!filter.source.empty()) parts.push_back("source=" + UrlEncode(filter.source));
  if (!filter.dest.empty()) parts.push_back("dest=" + UrlEncode(filter.dest));
  if (!filter.ns.empty()) parts.push_back("namespace=" + UrlEncode(filter.ns));
  if (!filter.policy.empty()) parts.push_back("policy=" + UrlEncode(filter.policy));
  if (!since_text.empty()) {
    parts.push_back("since=" + UrlEncode(since_text));
  } else if (filter.since != 0) {
    parts.push_back(fmt::format("since={}", filter.since));
  }
  if (limit != 0) parts.push_back(fmt::format("limit={}", limit));
  return fmt::format("{}", fmt::join(parts, "&"));
}

Result<ServerAddress> ParseServerUrl(std::string_view url) {
  std::string_view rest = url;
  if (rest.rfind("http://", 0) == 0) {
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return InvalidArgument(
        fmt::format("server URL \"{}\": only http:// is served by calico-flows", url));
  }
  rest = rest.substr(0, rest.find('/'));
  ServerAddress a;
  size_t colon = rest.rfind(':');
  if (!rest.empty() && rest.front() == '[') {  // [v6]:port
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("server URL \"{}\": unclosed [", url));
    }
    a.host = std::string(rest.substr(1, close - 1));
    colon = rest.size() > close + 1 && rest[close + 1] == ':' ? close + 1 : std::string_view::npos;
  } else {
    a.host = std::string(rest.substr(0, colon));
  }
  if (a.host.empty()) return InvalidArgument(fmt::format("server URL \"{}\": no host", url));
  if (colon == std::string_view::npos) {
    a.port = 80;
  } else {
    Result<int> port = ParseIntInRange<int>(rest.substr(colon + 1), 1, 65535);
    if (!port) {
      return InvalidArgument(
          fmt::format("server URL \"{}\": port: {}", url, port.error().message()));
    }
    a.port = *port;
  }
  return a;
}

Result<HttpResult> HttpRequest(std::string_view url, std::string_view method,
                               std::string_view target, std::string_view body,
                               std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(ServerAddress addr, ParseServerUrl(url));
  ASSIGN_OR_RETURN(UniqueFd fd, Dial(addr, url, timeout));
  if (!http::WriteAll(fd.get(), RequestText(addr, method, target, body), timeout)) {
    return Unavailable(fmt::format("calico-flows at {}: sending the request failed", url));
  }
  std::string buf;
  http::Limits limits;
  limits.max_body_bytes = size_t{512} << 20;  // a whole window of flows
  http::ParseResult r =
      http::ReadMessage(fd.get(), buf, limits, /*is_response=*/true, timeout, timeout);
  if (r.state != http::ParseState::kComplete) {
    return Unavailable(fmt::format("calico-flows at {}: no answer{}", url,
                                   r.error.empty() ? "" : " (" + r.error + ")"));
  }
  return HttpResult{.status = r.status, .body = std::move(r.request.body)};
}

Status HttpEventStream(std::string_view url, std::string_view target,
                       const std::function<bool(std::string_view data)>& on_event,
                       std::chrono::milliseconds idle_timeout) {
  ASSIGN_OR_RETURN(ServerAddress addr, ParseServerUrl(url));
  ASSIGN_OR_RETURN(UniqueFd fd, Dial(addr, url, idle_timeout));
  if (!http::WriteAll(fd.get(), RequestText(addr, "GET", target, ""), idle_timeout)) {
    return Unavailable(fmt::format("calico-flows at {}: sending the request failed", url));
  }
  std::string buf;
  bool head_done = false;
  char chunk[16384];
  for (;;) {
    pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
    const int ready = ::poll(&p, 1, static_cast<int>(idle_timeout.count()));
    if (ready == 0) return {};  // idle: the caller decides whether to reconnect
    const ssize_t n = ::recv(fd.get(), chunk, sizeof(chunk), 0);
    if (n <= 0) {
      if (!head_done) {
        return Unavailable(fmt::format("calico-flows at {}: closed without an answer", url));
      }
      return {};
    }
    buf.append(chunk, static_cast<size_t>(n));
    if (!head_done) {
      const size_t end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (buf.size() > (size_t{64} << 10)) return Unavailable("calico-flows: oversized answer");
        continue;
      }
      const std::string head = buf.substr(0, end);
      if (head.rfind("HTTP/1.1 200", 0) != 0 && head.rfind("HTTP/1.0 200", 0) != 0) {
        // Not a stream: read the rest of a short error answer.
        std::string rest = buf.substr(end + 4);
        for (int i = 0; i < 64; ++i) {
          const ssize_t m = ::recv(fd.get(), chunk, sizeof(chunk), 0);
          if (m <= 0) break;
          rest.append(chunk, static_cast<size_t>(m));
        }
        return Unavailable(fmt::format("calico-flows at {}: {}: {}", url,
                                       head.substr(0, head.find("\r\n")), rest));
      }
      buf.erase(0, end + 4);
      head_done = true;
    }
    size_t sep;
    while ((sep = buf.find("\n\n")) != std::string::npos) {
      std::string_view event(buf.data(), sep);
      std::string data;
      while (!event.empty()) {
        const size_t nl = event.find('\n');
        std::string_view line = event.substr(0, nl);
        event = nl == std::string_view::npos ? std::string_view() : event.substr(nl + 1);
        if (line.rfind("data:", 0) == 0) {
          line.remove_prefix(5);
          if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
          if (!data.empty()) data += '\n';
          data.append(line);
        }
      }
      buf.erase(0, sep + 2);
      if (!data.empty() && !on_event(data)) return {};
    }
  }
}

Status PostFlows(std::string_view url, const std::vector<Flow>& flows,
                 std::chrono::milliseconds timeout) {
  std::string body;
  for (const Flow& f : flows) {
    body += EncodeFlow(f);
    body += '\n';
  }
  ASSIGN_OR_RETURN(HttpResult r, HttpRequest(url, "POST", "/api/v1/flows", body, timeout));
  if (r.status != 200) {
    return Unavailable(
        fmt::format("calico-flows at {}: POST /api/v1/flows: {} {}", url, r.status, r.body));
  }
  return {};
}

}  // namespace calico::flows
