#include "decoders/redis/decoder.h"

#include "decoders/common/frame_loop.h"
#include "decoders/redis/commands.h"
#include "decoders/redis/spans.h"

namespace wirespan::decoders::redis {
namespace {

// Reads "<digits>\r\n" at `pos`; returns the number or -1, and advances pos. -2: incomplete.
int64_t ReadCount(std::string_view s, size_t& pos) {
  int64_t v = 0;
  size_t digits = 0;
  while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
    if (++digits > 10) return -1;
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  if (pos >= s.size()) return -2;
  if (digits == 0) return -1;
  if (pos + 1 >= s.size()) return s[pos] == '\r' ? -2 : -1;
  if (s[pos] != '\r' || s[pos + 1] != '\n') return -1;
  pos += 2;
  return v;
}

Detection Request(int confidence) {
  return Detection{Protocol::kRedis, confidence, MessageKind::kRequest};
}
Detection Response(int confidence) {
  return Detection{Protocol::kRedis, confidence, MessageKind::kResponse};
}

}  // namespace

Detection Detect(std::string_view head, bool /*stream_start*/) {
  if (head.empty()) return {};
  const char c = head[0];
  if (c == '*') {
    // A command: *<argc>\r\n$<len>\r\n<NAME>\r\n
    size_t pos = 1;
    const int64_t argc = ReadCount(head, pos);
    if (argc == -2) return Request(10);
    if (argc <= 0 || argc > (1 << 20)) {
      // Maybe a reply array (*-1 or *0), mid-stream.
      if (head.substr(0, 5) == "*-1\r\n" || head.substr(0, 4) == "*0\r\n") return Response(30);
      return {};
    }
    if (pos >= head.size()) return Request(10);
    if (head[pos] != '$') {
      // Arrays of other types are replies (RESP2 EXEC results, LRANGE of integers, ...).
      return IsRespTypeByte(head[pos]) ? Response(30) : Detection{};
    }
    ++pos;
    const int64_t len = ReadCount(head, pos);
    if (len == -2) return Request(20);
    if (len < 0) return {};
    if (len > 32) return Response(30);  // not a command name: a reply array of strings
    if (pos + static_cast<size_t>(len) > head.size()) return Request(20);
    const std::string_view name = head.substr(pos, static_cast<size_t>(len));
    if (IsKnownCommand(name)) return Request(95);
    // A known pub/sub push / reply word (message, subscribe, ...) on the server side.
    if (IEquals(name, "message") || IEquals(name, "pmessage") || IEquals(name, "subscribe") ||
        IEquals(name, "psubscribe") || IEquals(name, "smessage")) {
      return Response(80);
    }
    return Response(25);
  }
  if (c == '+' || c == '-') {
    const size_t eol = head.find("\r\n");
    if (eol == std::string_view::npos) return head.size() < 64 ? Response(10) : Detection{};
    const std::string_view line = head.substr(1, eol - 1);
    if (c == '+' && (line == "OK" || line == "PONG" || line == "QUEUED")) return Response(70);
    if (c == '-') {
      const std::string_view word = line.substr(0, line.find(' '));
      if (word == "ERR" || word == "WRONGTYPE" || word == "NOAUTH" || word == "WRONGPASS" ||
          word == "NOPERM" || word == "NOSCRIPT" || word == "EXECABORT" || word == "BUSY" ||
          word == "LOADING" || word == "READONLY" || word == "MOVED" || word == "ASK" ||
          word == "NOPROTO" || word == "CROSSSLOT" || word == "BUSYGROUP") {
        return Response(70);
      }
    }
    return Response(15);
  }
  if (c == '%' || c == '>' || c == '|' || c == '~') {
    // RESP3 aggregates: the HELLO 3 reply is a map starting with "server" => "redis".
    if (head.find("$6\r\nserver\r\n$5\r\nredis\r\n") != std::string_view::npos) {
      return Response(95);
    }
    size_t pos = 1;
    const int64_t n = ReadCount(head, pos);
    return n >= 0 && pos < head.size() && IsRespTypeByte(head[pos]) ? Response(30) : Detection{};
  }
  if (c == ':' || c == '$' || c == '_' || c == '#' || c == ',' || c == '(' || c == '!' ||
      c == '=') {
    return head.find("\r\n") != std::string_view::npos ? Response(15) : Detection{};
  }
  // Inline command: "PING\r\n", "SET k v\r\n". HTTP request lines are not ours.
  const size_t eol = head.find('\n');
  const std::string_view line = head.substr(0, eol == std::string_view::npos ? head.size() : eol);
  const std::string_view word = line.substr(0, line.find_first_of(" \r"));
  if (!IsKnownCommand(word)) return {};
  if (line.find(" HTTP/") != std::string_view::npos) return {};
  if (eol == std::string_view::npos) return Request(10);
  return Request(60);
}

ProtocolSpec Spec() {
  return ProtocolSpec{
      Protocol::kRedis,
      &Detect,
      [](Role role, const DecoderOptions& options,
         DecoderStats* stats) -> std::unique_ptr<ConnectionDecoder> {
        return std::make_unique<RedisDecoder>(role, options, stats);
      },
  };
}

RedisDecoder::RedisDecoder(Role role, const DecoderOptions& options, DecoderStats* stats)
    : role_(role),
      options_(options),
      stats_(stats != nullptr ? stats : &own_stats_),
      request_parser_(this, MessageKind::kRequest),
      response_parser_(this, MessageKind::kResponse) {}

void RedisDecoder::OnData(Direction dir, DataStream& stream) {
  if (dir == request_direction()) {
    ParseFrames(request_parser_, stream, requests_, options_, *stats_);
  } else {
    ParseFrames(response_parser_, stream, responses_, options_, *stats_);
  }
}

void RedisDecoder::OnResync() {
  // What was parsed before the error is still in order: pair it, then forget the rest.
  matcher_.Match(requests_, responses_, 0, false, options_, *stats_, &records_);
  matcher_.Desync(requests_, responses_, *stats_);
}

void RedisDecoder::Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
                        bool closed) {
  matcher_.Match(requests_, responses_, now_ns, closed, options_, *stats_, &records_);
  for (const Record& r : records_) {
    // A pushed message is received by the client; the server side only sends it.
    if (r.kind == RecordKind::kPush && role_ == Role::kServer) continue;
    sink.OnSpan(ToSpan(r, conn, options_));
    ++stats_->spans;
  }
  records_.clear();
}

}  // namespace wirespan::decoders::redis
