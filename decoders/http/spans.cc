#include "decoders/http/spans.h"

#include <algorithm>

#include "decoders/common/span_helpers.h"
#include "decoders/http/parse.h"

namespace wirespan::decoders::http {
namespace {

constexpr size_t kMaxPathBytes = 2048;
constexpr size_t kMaxQueryKeyBytes = 128;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

template <size_t N>
bool ParseHexId(std::string_view hex, std::array<uint8_t, N>* out) {
  if (hex.size() != 2 * N) return false;
  for (size_t i = 0; i < N; ++i) {
    const int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string Lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Path, cut to kMaxPathBytes without splitting a percent escape.
std::string BoundedPath(std::string_view path) {
  if (path.size() <= kMaxPathBytes) return std::string(path);
  size_t n = kMaxPathBytes;
  for (size_t back = 1; back <= 2 && back <= n; ++back) {
    if (path[n - back] == '%') {
      n -= back;
      break;
    }
  }
  return std::string(path.substr(0, n));
}

void SplitPathQuery(std::string_view rest, Target* t) {
  rest = rest.substr(0, rest.find('#'));  // never sent, but tolerated
  const size_t q = rest.find('?');
  t->path = BoundedPath(rest.substr(0, q));
  if (q != std::string_view::npos) {
    t->has_query = true;
    t->query = std::string(rest.substr(q + 1));
  }
}

}  // namespace

bool SplitHostPort(std::string_view hostport, std::string* host, int* port) {
  *port = -1;
  std::string_view h = hostport, p;
  if (h.starts_with('[')) {
    const size_t close = h.find(']');
    if (close == std::string_view::npos) return false;
    p = h.substr(close + 1);
    h = h.substr(1, close - 1);
    if (!p.empty() && p.front() != ':') return false;
    if (!p.empty()) p.remove_prefix(1);
  } else {
    const size_t colon = h.rfind(':');
    if (colon != std::string_view::npos) {
      if (h.find(':') != colon) return false;  // unbracketed IPv6 is not a valid authority
      p = h.substr(colon + 1);
      h = h.substr(0, colon);
    }
  }
  if (h.empty() || h.size() > 255) return false;
  for (char c : h) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '/' || c == '@' || c == '?' || c == '#') return false;
  }
  if (!p.empty()) {
    if (p.size() > 5) return false;
    int n = 0;
    for (char c : p) {
      if (c < '0' || c > '9') return false;
      n = n * 10 + (c - '0');
    }
    if (n > 65535) return false;
    *port = n;
  }
  *host = Lowercase(h);
  return true;
}

Target ParseTarget(std::string_view target, std::string_view method) {
  Target t;
  if (target.empty()) return t;
  if (target.front() == '/') {
    SplitPathQuery(target, &t);
    return t;
  }
  if (target == "*") {
    t.path = "*";
    return t;
  }
  if (method == "CONNECT") {
    SplitHostPort(target, &t.host, &t.port);
    return t;
  }
  // absolute-form: scheme "://" authority [path-abempty] ["?" query]
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return t;
  t.scheme = Lowercase(target.substr(0, scheme_end));
  std::string_view rest = target.substr(scheme_end + 3);
  const size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  // Credentials in the URL are never kept.
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  SplitHostPort(authority, &t.host, &t.port);
  if (authority_end == std::string_view::npos) {
    t.path = "/";
    return t;
  }
  rest.remove_prefix(authority_end);
  SplitPathQuery(rest, &t);
  if (t.path.empty()) t.path = "/";
  return t;
}

std::string SanitizeQuery(std::string_view query) {
  std::string out;
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    const std::string_view element = query.substr(0, amp);
    const size_t eq = element.find('=');
    std::string piece;
    if (eq == std::string_view::npos) {
      if (!element.empty()) piece = "?";  // a bare element may be a token: never kept
    } else if (eq > kMaxQueryKeyBytes) {
      piece = "?=?";
    } else {
      piece = std::string(element.substr(0, eq)) + "=?";
    }
    if (out.size() + piece.size() + (first ? 0 : 1) > kMaxSanitizedQueryBytes) break;
    if (!first) out += '&';
    out += piece;
    first = false;
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

bool ParseTraceparent(std::string_view traceparent, model::TraceId* trace_id,
                      model::SpanId* parent_id) {
  if (traceparent.size() < 55) return false;
  return ParseHexId(traceparent.substr(3, 32), trace_id) &&
         ParseHexId(traceparent.substr(36, 16), parent_id) && !model::IsZero(*trace_id) &&
         !model::IsZero(*parent_id);
}

model::Span ToSpan(const Record& record, const ConnectionInfo& conn, Role role) {
  const Message& req = record.request;
  const Message& resp = record.response;
  const bool server = role == Role::kServer;
  model::Span span = NewSpan(conn, server ? model::SpanKind::kServer : model::SpanKind::kClient,
                             req.first_meta, resp.last_meta, "http");
  SetNetworkAttributes(conn, span);
  auto& a = span.attributes;

  // Method: known ones as they are, others as _OTHER (semconv), the span name following suit.
  if (IsKnownMethod(req.method)) {
    a.Set("http.request.method", req.method);
    span.name = req.method;
  } else {
    a.Set("http.request.method", "_OTHER");
    a.Set("http.request.method_original", req.method);
    span.name = "HTTP";
  }

  const Target target = ParseTarget(req.target, req.method);
  const std::string scheme =
      target.scheme == "http" || target.scheme == "https" ? target.scheme : "http";
  a.Set("url.scheme", scheme);
  if (!target.path.empty()) a.Set("url.path", target.path);
  std::string query;
  if (target.has_query) {
    query = SanitizeQuery(target.query);
    a.Set("url.query", query);
  }

  // server.address/port: the Host header (or the absolute/authority target) over the socket.
  std::string host;
  int port = -1;
  if (!target.host.empty()) {
    host = target.host;
    port = target.port;
  } else if (!req.host.empty()) {
    SplitHostPort(req.host, &host, &port);
  }
  if (!host.empty()) a.Set("server.address", host);
  if (port >= 0) a.Set("server.port", int64_t{port});

  if (!server && req.method != "CONNECT") {
    std::string authority;
    if (!host.empty()) {
      authority = host.find(':') != std::string::npos ? "[" + host + "]" : host;
      if (port >= 0 && port != (scheme == "https" ? 443 : 80))
        authority += ":" + std::to_string(port);
    } else if (!conn.server_address().empty()) {
      const std::string& addr = conn.server_address();
      authority = addr.find(':') != std::string::npos ? "[" + addr + "]" : addr;
      if (conn.server_port() != 0 && conn.server_port() != 80) {
        authority += ":" + std::to_string(conn.server_port());
      }
    }
    std::string full = scheme + "://" + authority + (target.path == "*" ? "" : target.path);
    if (target.has_query) full += "?" + query;
    a.Set("url.full", full);
  }

  a.Set("http.response.status_code", int64_t{resp.status_code});
  // HTTP/1.0 if either side spoke it (a 1.1 server answers a 1.0 client as "HTTP/1.1").
  a.Set("network.protocol.version",
        req.minor_version == 0 || resp.minor_version == 0 ? "1.0" : "1.1");
  if (!req.user_agent.empty()) a.Set("user_agent.original", req.user_agent);
  if (req.framing == BodyFraming::kContentLength || req.framing == BodyFraming::kChunked) {
    a.Set("http.request.body.size", req.body_size);
  }
  if (resp.framing == BodyFraming::kContentLength || resp.framing == BodyFraming::kChunked ||
      resp.framing == BodyFraming::kUntilClose) {
    a.Set("http.response.body.size", resp.body_size);
  }

  // Status (semconv): 5xx is an error on both sides, 4xx only for the client.
  const int code = resp.status_code;
  if (code >= 500 || (!server && code >= 400)) {
    span.status = model::StatusCode::kError;
    a.Set("error.type", std::to_string(code));
  }

  // W3C Trace Context from the request: the span joins the caller's trace.
  model::TraceId trace_id;
  model::SpanId parent_id;
  if (!req.traceparent.empty() && ParseTraceparent(req.traceparent, &trace_id, &parent_id)) {
    span.trace_id = trace_id;
    span.parent_span_id = parent_id;
    span.trace_state = req.tracestate;
  }
  return span;
}

}  // namespace wirespan::decoders::http
