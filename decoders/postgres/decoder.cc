#include "decoders/postgres/decoder.h"

#include <algorithm>

#include "decoders/common/frame_loop.h"
#include "decoders/postgres/spans.h"

namespace wirespan::decoders::postgres {
namespace {

ParserLimits LimitsFor(const DecoderOptions& options) {
  ParserLimits l;
  l.max_frame_bytes = options.max_frame_bytes;
  // Enough raw SQL to fill the exported text even after literals shrink to '?'; never more than
  // a frame.
  l.sql_capture_bytes = std::min<size_t>(std::max<size_t>(options.max_query_text_bytes * 4, 4096),
                                         std::max<size_t>(options.max_frame_bytes, 4096));
  return l;
}

// Counts well-formed messages of `side` from the start of `head`. Sets `exact` when they end
// exactly at the end of `head`, `terminal` when the last complete one ends a request or response
// (Sync, Query, ReadyForQuery) and `partial` when the last one is incomplete but well-formed.
struct Chain {
  int messages = 0;
  bool exact = false;
  bool terminal = false;
  bool partial = false;
};

Chain WalkMessages(std::string_view head, Side side) {
  Chain c;
  size_t pos = 0;
  while (pos + 5 <= head.size() && c.messages < 64) {
    const char tag = head[pos];
    const uint32_t length = ReadBe32(head.data() + pos + 1);
    if (!ValidHeader(side, tag, length, 1 << 20)) return Chain{};
    const uint64_t end = pos + 1 + uint64_t{length};
    if (end > head.size()) {
      c.partial = true;
      return c;
    }
    // A few content checks that make random bytes fail.
    const std::string_view body = head.substr(pos + 5, length - 4);
    if (side == Side::kFrontend) {
      if (tag == 'Q' && (body.empty() || body.back() != '\0')) return Chain{};
      if ((tag == 'D' || tag == 'C') && (body.empty() || (body[0] != 'S' && body[0] != 'P'))) {
        return Chain{};
      }
      if (tag == 'D' || tag == 'C' || tag == 'E' || tag == 'B' || tag == 'P') {
        if (body.find('\0') == std::string_view::npos) return Chain{};
      }
    } else {
      if (tag == 'Z' &&
          (body.size() != 1 || (body[0] != 'I' && body[0] != 'T' && body[0] != 'E'))) {
        return Chain{};
      }
      if ((tag == 'C' || tag == 'E' || tag == 'N' || tag == 'S') &&
          (body.empty() || body.back() != '\0')) {
        return Chain{};
      }
    }
    ++c.messages;
    c.terminal = (side == Side::kFrontend && (tag == 'S' || tag == 'Q' || tag == 'H')) ||
                 (side == Side::kBackend && tag == 'Z');
    pos = static_cast<size_t>(end);
  }
  c.exact = pos == head.size();
  if (!c.exact && pos < head.size() && head.size() - pos < 5) {
    // A header cut by the end of the bytes: well-formed so far if the tag is.
    if (!ValidHeader(side, head[pos], side == Side::kFrontend ? 8u : 6u, 1 << 20) &&
        !ValidHeader(side, head[pos], 4u, 1 << 20) && !ValidHeader(side, head[pos], 5u, 1 << 20)) {
      return Chain{};
    }
    c.partial = true;
  }
  return c;
}

int Score(const Chain& c) {
  if (c.messages == 0) return c.partial ? 20 : 0;
  int score = 50 + 10 * std::min(c.messages, 4);
  if (c.terminal) score += 10;
  if (!c.exact && !c.partial) score -= 20;
  return std::min(score, 95);
}

}  // namespace

Detection Detect(std::string_view head, bool stream_start) {
  Detection d;
  d.protocol = Protocol::kPostgres;
  if (head.empty()) {
    d.confidence = 0;
    return d;
  }
  // Startup-phase messages start with a zero byte (their length's high byte).
  if (head.size() >= 8 && head[0] == 0) {
    if (ValidUntypedHeader(ReadBe32(head.data()), ReadBe32(head.data() + 4))) {
      d.kind = MessageKind::kRequest;
      d.confidence = stream_start ? 100 : 90;
      return d;
    }
  } else if (head[0] == 0 && head.size() < 8) {
    d.confidence = stream_start ? 30 : 0;  // maybe a startup message: ask for more bytes
    return d;
  }
  const Chain front = WalkMessages(head, Side::kFrontend);
  const Chain back = WalkMessages(head, Side::kBackend);
  const int fs = Score(front);
  const int bs = Score(back);
  if (fs == 0 && bs == 0) {
    d.confidence = 0;
    return d;
  }
  if (fs >= bs) {
    d.kind = MessageKind::kRequest;
    d.confidence = fs;
  } else {
    d.kind = MessageKind::kResponse;
    d.confidence = bs;
  }
  // A connection's first bytes come from the client: a server message there is not PostgreSQL.
  if (stream_start && d.kind == MessageKind::kResponse) d.confidence /= 2;
  return d;
}

PostgresDecoder::PostgresDecoder(Role role, const DecoderOptions& options, DecoderStats* stats)
    : role_(role),
      options_(options),
      stats_(stats != nullptr ? stats : &own_stats_),
      frontend_(Side::kFrontend, LimitsFor(options), stats_),
      backend_(Side::kBackend, LimitsFor(options), stats_),
      matcher_(options, stats_) {}

bool PostgresDecoder::IsFrontend(Direction dir) const {
  // The request direction is egress for a client and ingress for a server.
  return role_ == Role::kServer ? dir == Direction::kIngress : dir == Direction::kEgress;
}

void PostgresDecoder::OnData(Direction dir, DataStream& stream) {
  if (IsFrontend(dir)) {
    ParseFrames(frontend_, stream, frontend_frames_, options_, *stats_);
  } else {
    ParseFrames(backend_, stream, backend_frames_, options_, *stats_);
  }
}

void PostgresDecoder::EmitRecords(uint64_t now_ns, bool closed, std::vector<Record>* out) {
  matcher_.Process(frontend_frames_, backend_frames_, now_ns, closed, out);
}

void PostgresDecoder::Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
                           bool closed) {
  records_.clear();
  matcher_.Process(frontend_frames_, backend_frames_, now_ns, closed, &records_);
  for (const Record& r : records_) {
    sink.OnSpan(ToSpan(r, conn));
    ++stats_->spans;
  }
  records_.clear();
}

std::unique_ptr<ConnectionDecoder> Create(Role role, const DecoderOptions& options,
                                          DecoderStats* stats) {
  return std::make_unique<PostgresDecoder>(role, options, stats);
}

ProtocolSpec Spec() { return ProtocolSpec{Protocol::kPostgres, &Detect, &Create}; }

}  // namespace wirespan::decoders::postgres
