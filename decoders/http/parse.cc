#include "decoders/http/parse.h"

#include <algorithm>
#include <array>

namespace wirespan::decoders::http {
namespace {

constexpr std::string_view kVersionPrefix = "HTTP/1.";

// Methods FindFrameBoundary resyncs on and detection trusts from a line prefix: RFC 9110, RFC
// 5789 (PATCH) and the WebDAV family seen in practice. Any other token still parses.
constexpr std::array<std::string_view, 21> kBoundaryMethods = {
    "GET",     "POST",   "PUT",      "DELETE",    "HEAD",  "OPTIONS",    "PATCH",
    "CONNECT", "TRACE",  "PROPFIND", "PROPPATCH", "MKCOL", "COPY",       "MOVE",
    "LOCK",    "UNLOCK", "SEARCH",   "REPORT",    "PURGE", "MKCALENDAR", "QUERY"};

// The methods OpenTelemetry lists for http.request.method.
constexpr std::array<std::string_view, 9> kSemconvMethods = {
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"};

bool IsTchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}
bool IsDigit(unsigned char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
// Bytes allowed in a request-target: visible ASCII and obs-text, no controls, no space.
bool IsTargetChar(unsigned char c) { return c > 0x20 && c != 0x7f; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::string_view StripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string Bounded(std::string_view value, size_t max) {
  return std::string(value.substr(0, std::min(value.size(), max)));
}

// Calls f(token) for each element of a comma-separated list, skipping empty elements.
template <typename F>
void ForEachListToken(std::string_view value, F&& f) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view token = TrimOws(value.substr(0, comma));
    if (!token.empty()) f(token);
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!IsDigit(static_cast<unsigned char>(c)) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}
bool AllZeroDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

// W3C Trace Context level 1: version-traceid-parentid-flags, lowercase hex, ids not all zero,
// version ff invalid; a future version may append "-..." fields.
bool ValidTraceparent(std::string_view v) {
  if (v.size() < 55) return false;
  const std::string_view version = v.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return false;
  if (version == "00" && v.size() != 55) return false;
  if (v.size() > 55 && v[55] != '-') return false;
  if (v[2] != '-' || v[35] != '-' || v[52] != '-') return false;
  const std::string_view trace_id = v.substr(3, 32), parent_id = v.substr(36, 16),
                         flags = v.substr(53, 2);
  return IsLowerHex(trace_id) && IsLowerHex(parent_id) && IsLowerHex(flags) &&
         !AllZeroDigits(trace_id) && !AllZeroDigits(parent_id);
}

// Content-Length: 1*DIGIT, or a list of identical values (RFC 9110 8.6). Bounded to 2^60.
bool ParseContentLength(std::string_view value, uint64_t* out) {
  bool any = false, ok = true;
  uint64_t result = 0;
  ForEachListToken(value, [&](std::string_view token) {
    uint64_t n = 0;
    if (token.size() > 18) ok = false;
    for (char c : token) {
      if (!IsDigit(static_cast<unsigned char>(c))) ok = false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    if (any && n != result) ok = false;
    result = n;
    any = true;
  });
  if (!ok || !any) return false;
  *out = result;
  return true;
}

// "HTTP/1.x" at the start of `s`: returns the minor version, or -1.
int ParseVersion(std::string_view s) {
  if (s.size() != kVersionPrefix.size() + 1 || !s.starts_with(kVersionPrefix)) return -1;
  const unsigned char minor = static_cast<unsigned char>(s.back());
  return IsDigit(minor) ? minor - '0' : -1;
}

// Request line: method SP request-target SP HTTP-version.
bool ParseRequestLine(std::string_view line, Message* m) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || sp1 == 0 || sp1 > kMaxMethodBytes) return false;
  const std::string_view method = line.substr(0, sp1);
  for (char c : method) {
    if (!IsTchar(static_cast<unsigned char>(c))) return false;
  }
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return false;
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  for (char c : target) {
    if (!IsTargetChar(static_cast<unsigned char>(c))) return false;
  }
  const int minor = ParseVersion(line.substr(sp2 + 1));
  if (minor < 0) return false;
  m->method = std::string(method);
  m->target_truncated = target.size() > kMaxTargetBytes;
  m->target = Bounded(target, kMaxTargetBytes);
  m->minor_version = static_cast<uint8_t>(minor);
  return true;
}

// Status line: HTTP-version SP 3DIGIT [SP reason-phrase] (the SP is often omitted when empty).
bool ParseStatusLine(std::string_view line, Message* m) {
  if (line.size() < 12) return false;
  const int minor = ParseVersion(line.substr(0, 8));
  if (minor < 0 || line[8] != ' ') return false;
  int code = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (!IsDigit(static_cast<unsigned char>(line[i]))) return false;
    code = code * 10 + (line[i] - '0');
  }
  if (code < 100) return false;
  if (line.size() > 12 && line[12] != ' ') return false;
  for (size_t i = 13; i < line.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(line[i]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  m->status_code = code;
  m->minor_version = static_cast<uint8_t>(minor);
  return true;
}

// One "name: value" field into the message's headers of interest. False if malformed.
bool ApplyHeader(std::string_view line, Message* m, bool* te_present, bool* cl_present) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const std::string_view name = line.substr(0, colon);
  for (char c : name) {
    if (!IsTchar(static_cast<unsigned char>(c))) return false;  // also no space before ':'
  }
  const std::string_view value = TrimOws(line.substr(colon + 1));
  for (char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  switch (name.size()) {
    case 4:
      if (EqualsIgnoreCase(name, "host") && m->host.empty())
        m->host = Bounded(value, kMaxValueBytes);
      break;
    case 6:
      if (EqualsIgnoreCase(name, "expect")) m->expect = Bounded(value, kMaxValueBytes);
      break;
    case 7:
      if (EqualsIgnoreCase(name, "upgrade")) m->upgrade = Bounded(value, kMaxValueBytes);
      break;
    case 10:
      if (EqualsIgnoreCase(name, "connection")) {
        ForEachListToken(value, [m](std::string_view token) {
          if (EqualsIgnoreCase(token, "close")) m->connection_close = true;
          if (EqualsIgnoreCase(token, "keep-alive")) m->connection_keep_alive = true;
          if (EqualsIgnoreCase(token, "upgrade")) m->connection_upgrade = true;
        });
      } else if (EqualsIgnoreCase(name, "user-agent")) {
        m->user_agent = Bounded(value, kMaxValueBytes);
      } else if (EqualsIgnoreCase(name, "tracestate")) {
        // Several tracestate fields are one list (W3C Trace Context 3.3.1.1).
        if (m->tracestate.size() + value.size() + 1 <= kMaxTraceStateBytes) {
          if (!m->tracestate.empty()) m->tracestate += ',';
          m->tracestate += value;
        }
      }
      break;
    case 11:
      if (EqualsIgnoreCase(name, "traceparent")) {
        // More than one traceparent is invalid: drop both (W3C Trace Context 3.2).
        if (!m->traceparent.empty()) {
          m->traceparent = "-";
        } else {
          m->traceparent = ValidTraceparent(value) ? std::string(value) : "-";
        }
      }
      break;
    case 12:
      if (EqualsIgnoreCase(name, "content-type")) m->content_type = Bounded(value, kMaxValueBytes);
      break;
    case 14:
      if (EqualsIgnoreCase(name, "content-length")) {
        uint64_t n = 0;
        if (!ParseContentLength(value, &n)) return false;
        if (*cl_present && m->content_length != n) return false;  // conflicting lengths
        *cl_present = true;
        m->content_length = n;
      }
      break;
    case 17:
      if (EqualsIgnoreCase(name, "transfer-encoding")) {
        // Codings accumulate over fields; what matters is whether the last one is chunked.
        *te_present = true;
        ForEachListToken(value, [m](std::string_view token) {
          m->chunked = EqualsIgnoreCase(token, "chunked");
        });
      }
      break;
    default:
      break;
  }
  return true;
}

// Hex chunk size then optional BWS, chunk extensions, nothing else (RFC 9112 7.1).
bool ParseChunkSize(std::string_view line, uint64_t* size) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < line.size()) {
    const char c = line[i];
    int digit;
    if (c >= '0' && c <= '9')
      digit = c - '0';
    else if (c >= 'a' && c <= 'f')
      digit = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F')
      digit = c - 'A' + 10;
    else
      break;
    if (i >= 15) return false;  // > 2^60: nobody sends this, and it would overflow counters
    n = (n << 4) | static_cast<uint64_t>(digit);
    ++i;
  }
  if (i == 0) return false;
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i < line.size() && line[i] != ';') return false;
  for (; i < line.size(); ++i) {
    const unsigned char u = static_cast<unsigned char>(line[i]);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  *size = n;
  return true;
}

}  // namespace

bool IsKnownMethod(std::string_view method) {
  return std::find(kSemconvMethods.begin(), kSemconvMethods.end(), method) != kSemconvMethods.end();
}

size_t KnownMethodPrefix(std::string_view bytes) {
  for (std::string_view m : kBoundaryMethods) {
    if (bytes.size() > m.size() && bytes[m.size()] == ' ' && bytes.starts_with(m)) {
      return m.size();
    }
  }
  return 0;
}

StartLineCheck CheckStartLine(std::string_view head, MessageKind kind, size_t max_check) {
  const size_t nl = head.find('\n');
  const bool complete = nl != std::string_view::npos;
  std::string_view line = complete ? StripCr(head.substr(0, nl)) : head;
  if (complete) {
    Message scratch;
    const bool ok = kind == MessageKind::kRequest ? ParseRequestLine(line, &scratch)
                                                  : ParseStatusLine(line, &scratch);
    return ok ? StartLineCheck::kValid : StartLineCheck::kInvalid;
  }
  // Incomplete: check what is there, up to max_check bytes.
  line = line.substr(0, std::min(line.size(), max_check));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (kind == MessageKind::kResponse) {
    const std::string_view expect = "HTTP/1.";
    const size_t n = std::min(line.size(), expect.size());
    if (line.substr(0, n) != expect.substr(0, n)) return StartLineCheck::kInvalid;
    if (line.size() > 7 && !IsDigit(static_cast<unsigned char>(line[7]))) {
      return StartLineCheck::kInvalid;
    }
    if (line.size() > 8 && line[8] != ' ') return StartLineCheck::kInvalid;
    for (size_t i = 9; i < std::min<size_t>(line.size(), 12); ++i) {
      if (!IsDigit(static_cast<unsigned char>(line[i]))) return StartLineCheck::kInvalid;
    }
    if (line.size() > 12 && line[12] != ' ') return StartLineCheck::kInvalid;
    return StartLineCheck::kPlausible;
  }
  // Request: method token, SP, target, SP, version prefix.
  size_t i = 0;
  while (i < line.size() && line[i] != ' ') {
    if (!IsTchar(static_cast<unsigned char>(line[i])) || i >= kMaxMethodBytes) {
      return StartLineCheck::kInvalid;
    }
    ++i;
  }
  if (i == line.size()) return StartLineCheck::kPlausible;
  if (i == 0) return StartLineCheck::kInvalid;
  const size_t target_start = ++i;
  while (i < line.size() && line[i] != ' ') {
    if (!IsTargetChar(static_cast<unsigned char>(line[i]))) return StartLineCheck::kInvalid;
    ++i;
  }
  if (i == line.size()) return StartLineCheck::kPlausible;
  if (i == target_start) return StartLineCheck::kInvalid;
  const std::string_view rest = line.substr(i + 1);
  const std::string_view expect = "HTTP/1.";
  const size_t n = std::min(rest.size(), expect.size());
  if (rest.substr(0, n) != expect.substr(0, n)) return StartLineCheck::kInvalid;
  if (rest.size() > 7 && !IsDigit(static_cast<unsigned char>(rest[7]))) {
    return StartLineCheck::kInvalid;
  }
  if (rest.size() > 8) return StartLineCheck::kInvalid;
  return StartLineCheck::kPlausible;
}

Parser::Parser(MessageKind kind, const DecoderOptions& options, ConnectionState* state,
               DecoderStats* stats)
    : kind_(kind), options_(options), state_(state), stats_(stats) {
  msg_.kind = kind_;
}

void Parser::Reset() {
  Clear();
  lost_sync_ = true;
}

void Parser::Clear() {
  phase_ = Phase::kHeaders;
  msg_ = Message{};
  msg_.kind = kind_;
  remaining_ = 0;
  scan_start_pos_ = UINT64_MAX;
  line_start_ = 0;
  line_count_ = 0;
}

size_t Parser::HeaderLimit() const {
  return std::min(kMaxHeaderBlockBytes, options_.max_frame_bytes);
}

size_t Parser::FindFrameBoundary(std::string_view bytes) const {
  if (bytes.size() < 2) return std::string_view::npos;
  if (kind_ == MessageKind::kResponse) return bytes.find(kVersionPrefix, 1);
  for (size_t i = 1; i < bytes.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 'A' || c > 'Z') continue;
    // A method starts a token: after a line end, a space or non-token bytes, not mid-word.
    if (IsTchar(static_cast<unsigned char>(bytes[i - 1]))) continue;
    const std::string_view rest = bytes.substr(i);
    const size_t len = KnownMethodPrefix(rest);
    if (len == 0) continue;
    // The target must start like one: '/', '*', a scheme or an authority (CONNECT).
    if (rest.size() > len + 1) {
      const unsigned char t = static_cast<unsigned char>(rest[len + 1]);
      if (t != '/' && t != '*' && !IsAlpha(t) && !IsDigit(t) && t != '[') continue;
    }
    return i;
  }
  return std::string_view::npos;
}

ParseState Parser::ParseHeaders(DataStream& stream) {
  std::string_view head = stream.Head();
  if (head.empty()) return ParseState::kNeedsMoreData;
  if (scan_start_pos_ != stream.head_pos()) {
    // A new header block (or the stream moved under us): scan from its start.
    scan_start_pos_ = stream.head_pos();
    line_start_ = 0;
    line_count_ = 0;
    // Empty lines before a start line are ignored (RFC 9112 2.2), e.g. a CRLF after a body.
    size_t skip = 0;
    while (skip < head.size()) {
      if (head[skip] == '\n') {
        skip += 1;
      } else if (head[skip] == '\r' && skip + 1 < head.size() && head[skip + 1] == '\n') {
        skip += 2;
      } else {
        break;
      }
    }
    if (skip > 0) {
      stream.Consume(skip);
      head = stream.Head();
      scan_start_pos_ = stream.head_pos();
      if (head.empty()) {
        scan_start_pos_ = UINT64_MAX;  // more empty lines may follow
        return ParseState::kNeedsMoreData;
      }
    }
    if (head == "\r") {
      scan_start_pos_ = UINT64_MAX;  // look again once the LF is here
      return ParseState::kNeedsMoreData;
    }
  }
  // Reject garbage early rather than waiting for a full header block that will never come. Only
  // the first bytes of the start line are checked here (cheap when bytes trickle in).
  if (line_count_ == 0 && CheckStartLine(head, kind_, 64) == StartLineCheck::kInvalid) {
    return ParseState::kInvalid;
  }
  const size_t limit = HeaderLimit();
  size_t end = std::string_view::npos;
  while (true) {
    const size_t nl = head.find('\n', line_start_);
    if (nl == std::string_view::npos) break;
    const std::string_view line = StripCr(head.substr(line_start_, nl - line_start_));
    if (line_count_ > 0 && line.empty()) {
      end = nl + 1;
      break;
    }
    ++line_count_;
    if (line_count_ > kMaxHeaderCount + 1) return ParseState::kInvalid;
    line_start_ = nl + 1;
    if (line_start_ > limit) return ParseState::kInvalid;
  }
  if (end == std::string_view::npos) {
    return head.size() > limit ? ParseState::kInvalid : ParseState::kNeedsMoreData;
  }
  if (end > limit) return ParseState::kInvalid;

  // The whole block is here: parse it.
  Message m;
  m.kind = kind_;
  std::string_view block = head.substr(0, end);
  size_t nl = block.find('\n');
  const std::string_view start_line = StripCr(block.substr(0, nl));
  if (kind_ == MessageKind::kRequest ? !ParseRequestLine(start_line, &m)
                                     : !ParseStatusLine(start_line, &m)) {
    return ParseState::kInvalid;
  }
  block.remove_prefix(nl + 1);
  bool te_present = false, cl_present = false;
  while (!block.empty()) {
    nl = block.find('\n');
    const std::string_view line = StripCr(block.substr(0, nl));
    block.remove_prefix(nl + 1);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') continue;  // obs-fold: ignored
    if (!ApplyHeader(line, &m, &te_present, &cl_present)) return ParseState::kInvalid;
  }
  if (m.traceparent == "-") {
    m.traceparent.clear();
    m.tracestate.clear();
  }
  if (m.traceparent.empty()) m.tracestate.clear();

  // Body framing (RFC 9112 6.3).
  if (kind_ == MessageKind::kRequest) {
    if (te_present) {
      if (!m.chunked) return ParseState::kInvalid;  // the server could not frame it either: 400
      m.framing = BodyFraming::kChunked;
    } else if (m.content_length) {
      m.framing = BodyFraming::kContentLength;
    }
    m.seq = state_->next_seq++;
    state_->pending.push_back(PendingRequest{m.seq, stream.MetaAt(stream.head_pos()).first_ts_ns,
                                             m.method == "HEAD", m.method == "CONNECT"});
    while (state_->pending.size() > options_.max_pending_frames) state_->pending.pop_front();
    state_->started.push_back(stream.MetaAt(stream.head_pos()));
    while (state_->started.size() > options_.max_pending_frames) state_->started.pop_front();
  } else if (!m.interim()) {
    PendingRequest req;
    auto& pending = state_->pending;
    if (lost_sync_ && pending.size() > 1) {
      // Responses were lost: answer the newest request sent before this response started (right
      // unless requests were pipelined); the ones before it lost their responses.
      const uint64_t ts = stream.MetaAt(stream.head_pos()).first_ts_ns;
      size_t keep = 0;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (pending[i].first_ts_ns <= ts) keep = i;
      }
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(keep));
    }
    lost_sync_ = false;
    if (!state_->pending.empty()) {
      req = state_->pending.front();
      state_->pending.pop_front();
    }
    m.request_seq = req.seq;
    const int code = m.status_code;
    if (code == 101 || (req.connect && code >= 200 && code < 300)) {
      m.framing = BodyFraming::kTunnel;
    } else if (req.head || code == 204 || code == 304 || code < 200) {
      m.framing = BodyFraming::kNone;
    } else if (te_present) {
      m.framing = m.chunked ? BodyFraming::kChunked : BodyFraming::kUntilClose;
    } else if (m.content_length) {
      m.framing = BodyFraming::kContentLength;
    } else {
      m.framing = BodyFraming::kUntilClose;
    }
  }
  m.first_pos = stream.head_pos();
  m.first_meta = stream.MetaAt(m.first_pos);
  m.header_bytes = end;
  stream.Consume(end);
  m.last_meta = stream.last_consumed_meta();
  scan_start_pos_ = UINT64_MAX;
  msg_ = std::move(m);
  return ParseState::kSuccess;
}

uint64_t Parser::TakeBody(DataStream& stream, uint64_t max) {
  uint64_t taken = 0;
  while (taken < max) {
    const std::string_view head = stream.Head();
    if (!head.empty()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(head.size(), max - taken));
      stream.Consume(n);
      taken += n;
      continue;
    }
    const uint64_t gap = stream.GapAtHead();
    if (gap == 0) break;
    const uint64_t n = std::min(gap, max - taken);
    stream.ConsumeGap(n);
    taken += n;
    msg_.body_gap_bytes += n;
    ++stats_->gaps;
    stats_->gap_bytes_skipped += n;
  }
  msg_.body_size += taken;
  msg_.body_wire_bytes += taken;
  if (taken > 0) msg_.last_meta = stream.last_consumed_meta();
  return taken;
}

bool Parser::ParseBody(DataStream& stream, bool* invalid) {
  // Framing bytes (chunk lines, CRLFs, trailers) cannot be stepped over: a gap there loses the
  // message's end, so the message is finished as incomplete and the loop resyncs past the gap.
  auto framing_lost = [&]() {
    msg_.body_incomplete = true;
    return true;
  };
  while (true) {
    switch (phase_) {
      case Phase::kHeaders:
        return true;
      case Phase::kBody:
        remaining_ -= TakeBody(stream, remaining_);
        return remaining_ == 0;
      case Phase::kUntilClose:
        TakeBody(stream, UINT64_MAX);
        return false;
      case Phase::kChunkData:
        remaining_ -= TakeBody(stream, remaining_);
        if (remaining_ > 0) return false;
        phase_ = Phase::kChunkCrlf;
        continue;
      case Phase::kChunkSize: {
        const std::string_view head = stream.Head();
        if (head.empty()) return stream.GapAtHead() > 0 ? framing_lost() : false;
        const size_t nl = head.find('\n');
        if (nl == std::string_view::npos) {
          if (head.size() > kMaxChunkLineBytes) *invalid = true;
          return false;
        }
        uint64_t size = 0;
        if (nl > kMaxChunkLineBytes || !ParseChunkSize(StripCr(head.substr(0, nl)), &size)) {
          *invalid = true;
          return false;
        }
        stream.Consume(nl + 1);
        msg_.body_wire_bytes += nl + 1;
        msg_.last_meta = stream.last_consumed_meta();
        if (size == 0) {
          phase_ = Phase::kTrailers;
          line_count_ = 0;
        } else {
          remaining_ = size;
          phase_ = Phase::kChunkData;
        }
        continue;
      }
      case Phase::kChunkCrlf: {
        const std::string_view head = stream.Head();
        if (head.empty()) return stream.GapAtHead() > 0 ? framing_lost() : false;
        size_t n = 0;
        if (head[0] == '\n') {
          n = 1;
        } else if (head[0] == '\r') {
          if (head.size() < 2) return false;
          if (head[1] != '\n') {
            *invalid = true;
            return false;
          }
          n = 2;
        } else {
          *invalid = true;
          return false;
        }
        stream.Consume(n);
        msg_.body_wire_bytes += n;
        msg_.last_meta = stream.last_consumed_meta();
        phase_ = Phase::kChunkSize;
        continue;
      }
      case Phase::kTrailers: {
        // Trailer fields are consumed line by line as they complete (none is kept).
        const std::string_view head = stream.Head();
        if (head.empty()) return stream.GapAtHead() > 0 ? framing_lost() : false;
        const size_t nl = head.find('\n');
        if (nl == std::string_view::npos) {
          if (head.size() > HeaderLimit()) *invalid = true;
          return false;
        }
        const std::string_view line = StripCr(head.substr(0, nl));
        if (!line.empty() &&
            (line.find(':') == std::string_view::npos || ++line_count_ > kMaxHeaderCount)) {
          *invalid = true;
          return false;
        }
        stream.Consume(nl + 1);
        msg_.body_wire_bytes += nl + 1;
        msg_.last_meta = stream.last_consumed_meta();
        if (line.empty()) return true;
        continue;
      }
    }
  }
}

ParseState Parser::Finish(Message* frame) {
  if (msg_.framing == BodyFraming::kTunnel) state_->switched = true;
  *frame = std::move(msg_);
  Clear();
  return ParseState::kSuccess;
}

ParseState Parser::ParseFrame(DataStream& stream, Message* frame) {
  if (state_->switched) {
    // 101 Switching Protocols or a CONNECT tunnel: what follows is not HTTP.
    stream.DiscardReadable();
    return ParseState::kIgnored;
  }
  if (phase_ == Phase::kHeaders) {
    const ParseState s = ParseHeaders(stream);
    if (s != ParseState::kSuccess) return s;
    if (msg_.kind == MessageKind::kResponse && msg_.interim()) {
      // 100 Continue, 103 Early Hints: the final response is still to come.
      Clear();
      return ParseState::kIgnored;
    }
    switch (msg_.framing) {
      case BodyFraming::kNone:
      case BodyFraming::kTunnel:
        return Finish(frame);
      case BodyFraming::kContentLength:
        remaining_ = *msg_.content_length;
        phase_ = Phase::kBody;
        if (remaining_ == 0) return Finish(frame);
        break;
      case BodyFraming::kChunked:
        phase_ = Phase::kChunkSize;
        break;
      case BodyFraming::kUntilClose:
        phase_ = Phase::kUntilClose;
        break;
    }
  }
  bool invalid = false;
  if (!ParseBody(stream, &invalid))
    return invalid ? ParseState::kInvalid : ParseState::kNeedsMoreData;
  return Finish(frame);
}

bool Parser::FinishOnClose(Message* frame) {
  if (phase_ != Phase::kUntilClose) return false;
  *frame = std::move(msg_);
  Clear();
  return true;
}

}  // namespace wirespan::decoders::http
