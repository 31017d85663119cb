#include "agent/metrics/route.h"

#include <cctype>

namespace wirespan::agent::metrics {
namespace {

constexpr size_t kMaxSegments = 16;
constexpr size_t kMaxRouteBytes = 256;

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHex(s[i])) {
      return false;
    }
  }
  return true;
}

}  // namespace

bool IsIdSegment(std::string_view s) {
  if (s.empty()) return false;
  if (s.size() > 48) return true;
  size_t digits = 0;
  bool all_digits = true;
  bool all_hex = true;
  bool token_alphabet = true;
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80 || c == '@' || c == ',' || c == ';' || c == '=' || c == '%' || c == '~') {
      return true;
    }
    if (IsDigit(c)) ++digits;
    all_digits = all_digits && IsDigit(c);
    all_hex = all_hex && IsHex(c);
    token_alphabet =
        token_alphabet && (std::isalnum(u) || c == '-' || c == '_' || c == '+' || c == '.');
  }
  if (all_digits) return true;
  if (IsUuid(s)) return true;
  if (all_hex && s.size() >= 8) return true;
  if (token_alphabet && s.size() >= 16 && digits >= 2) return true;
  if (digits >= 4) return true;
  return false;
}

std::string HttpRouteFromTarget(std::string_view target) {
  if (target == "*") return "*";
  // absolute-form: scheme://authority/path
  if (size_t scheme = target.find("://");
      scheme != std::string_view::npos && target.find('/') > scheme) {
    size_t path = target.find('/', scheme + 3);
    target = path == std::string_view::npos ? std::string_view("/") : target.substr(path);
  }
  size_t cut = target.find_first_of("?#");
  if (cut != std::string_view::npos) target = target.substr(0, cut);
  if (target.empty()) return "/";
  std::string route;
  route.reserve(std::min(target.size(), kMaxRouteBytes) + 8);
  size_t segments = 0;
  size_t pos = 0;
  if (target.front() != '/') {
    // origin-form always starts with '/'; treat anything else as one relative path.
    route.push_back('/');
  } else {
    pos = 1;
    route.push_back('/');
  }
  while (pos <= target.size()) {
    size_t slash = target.find('/', pos);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view seg = target.substr(pos, slash - pos);
    bool id = IsIdSegment(seg);
    size_t len = id ? 4 : seg.size();
    if (segments == kMaxSegments || route.size() + len > kMaxRouteBytes) {
      route += "{...}";
      break;
    }
    ++segments;
    if (id) {
      route += "{id}";
    } else {
      for (char c : seg) route.push_back(static_cast<unsigned char>(c) < 32 ? '_' : c);
    }
    if (slash == target.size()) break;
    route.push_back('/');
    pos = slash + 1;
  }
  return route;
}

std::string CollapseIds(std::string_view name, std::string_view separators) {
  std::string out;
  out.reserve(name.size());
  size_t pos = 0;
  size_t pieces = 0;
  while (pos <= name.size()) {
    size_t sep = name.find_first_of(separators, pos);
    if (sep == std::string_view::npos) sep = name.size();
    std::string_view piece = name.substr(pos, sep - pos);
    bool id = IsIdSegment(piece);
    if (++pieces > kMaxSegments || out.size() + (id ? 4 : piece.size()) > kMaxRouteBytes) {
      out += "{...}";
      break;
    }
    if (id) {
      out += "{id}";
    } else {
      out.append(piece);
    }
    if (sep == name.size()) break;
    out.push_back(name[sep]);
    pos = sep + 1;
  }
  return out;
}

std::string_view NormalizeHttpMethod(std::string_view m) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",    "POST",  "PUT",   "DELETE",
                                                "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"};
  for (std::string_view k : kKnown) {
    if (m == k) return k;
  }
  return "_OTHER";
}

}  // namespace wirespan::agent::metrics
