#include "decoders/amqp/decoder.h"

#include <deque>
#include <vector>

#include "decoders/amqp/matcher.h"
#include "decoders/amqp/parse.h"
#include "decoders/amqp/spans.h"
#include "decoders/amqp/spec.h"
#include "decoders/common/frame_loop.h"

namespace wirespan::decoders::amqp {
namespace {

uint16_t Be16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) |
                               static_cast<uint8_t>(b[at + 1]));
}
uint32_t Be32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) | static_cast<uint8_t>(b[at + 3]);
}

class AmqpDecoder final : public ConnectionDecoder {
 public:
  AmqpDecoder(Role role, const DecoderOptions& options, DecoderStats* stats)
      : role_(role),
        options_(options),
        stats_(stats ? stats : &own_stats_),
        parsers_{FrameParser(stats_, options.max_frame_bytes),
                 FrameParser(stats_, options.max_frame_bytes)},
        stitcher_(options_, stats_) {
    client_dir_ = role == Role::kServer ? Direction::kIngress : Direction::kEgress;
  }

  Protocol protocol() const override { return Protocol::kAmqp; }

  void OnData(Direction dir, DataStream& stream) override {
    const int d = static_cast<int>(dir);
    auto& frames = frames_[d];
    const uint64_t before = stats_->frames;
    ParseFrames(parsers_[d], stream, frames, options_, *stats_);
    const size_t added =
        static_cast<size_t>(std::min<uint64_t>(stats_->frames - before, frames.size()));
    for (size_t i = frames.size() - added; i < frames.size(); ++i) Inspect(dir, frames[i]);
  }

  void Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
            bool closed) override {
    auto& client = frames_[static_cast<int>(client_dir_)];
    auto& server = frames_[1 - static_cast<int>(client_dir_)];
    records_.clear();
    // Both peers' frames in capture order (a reply is never captured before its request).
    while (!client.empty() || !server.empty()) {
      bool from_client;
      if (client.empty())
        from_client = false;
      else if (server.empty())
        from_client = true;
      else
        from_client = client.front().first.first_ts_ns <= server.front().first.first_ts_ns;
      auto& q = from_client ? client : server;
      stitcher_.Add(std::move(q.front()), from_client, &records_);
      q.pop_front();
    }
    // Messages the consumer now holds: it processes them until it settles.
    for (const ChunkMeta& first : stitcher_.started()) {
      if (role_ == Role::kServer) break;  // the broker's side: nothing to enclose
      sink.OnSpanStart(model::SpanStart{conn.tgid, first.tid, conn.conn_id,
                                        conn.ToUnixNanos(first.first_ts_ns),
                                        model::SpanKind::kConsumer});
    }
    stitcher_.started().clear();
    stitcher_.Expire(now_ns, &records_);
    if (closed) stitcher_.Flush(&records_);
    for (const Record& r : records_) {
      if (auto span = ToSpan(r, conn)) {
        ++stats_->spans;
        sink.OnSpan(std::move(*span));
      }
    }
    records_.clear();
  }

 private:
  // Negotiated frame-max applies to both directions; an unknown role learns who the client is.
  void Inspect(Direction dir, const Frame& frame) {
    if (frame.kind == Frame::Kind::kProtocolHeader) {
      if (role_ == Role::kUnknown) client_dir_ = dir;
      return;
    }
    const Method& m = frame.method;
    if (m.class_id != kConnection) return;
    if (m.method_id == 10 && role_ == Role::kUnknown) {  // start: sent by the broker
      client_dir_ = dir == Direction::kEgress ? Direction::kIngress : Direction::kEgress;
    }
    if (m.method_id == 30 || m.method_id == 31) {  // tune / tune-ok: tune-ok has the last word
      const auto frame_max = static_cast<uint32_t>(m.Int("frame-max"));
      for (auto& p : parsers_) {
        if (m.method_id == 31 || p.frame_max() == 0) p.set_frame_max(frame_max);
      }
    }
  }

  Role role_;
  DecoderOptions options_;
  DecoderStats own_stats_;
  DecoderStats* stats_;
  Direction client_dir_;
  FrameParser parsers_[2];
  std::deque<Frame> frames_[2];
  Stitcher stitcher_;
  std::vector<Record> records_;
};

}  // namespace

Detection Detect(std::string_view head, bool stream_start) {
  (void)stream_start;  // a protocol header or any frame boundary is recognised either way
  Detection none;
  if (head.empty()) return none;
  const uint8_t type = static_cast<uint8_t>(head[0]);
  if (type == 'A') {
    const size_t n = std::min<size_t>(head.size(), 8);
    if (head.substr(0, n) == kProtocolHeader.substr(0, n)) {
      return {Protocol::kAmqp, n == 8 ? 100 : 10, MessageKind::kRequest};
    }
    // Another protocol version's header ("AMQP" 0 0 9 0, "AMQP" 1 1 0 9...): still AMQP.
    if (head.substr(0, std::min<size_t>(n, 4)) !=
        std::string_view("AMQP").substr(0, std::min<size_t>(n, 4))) {
      return none;
    }
    return {Protocol::kAmqp, n == 8 ? 60 : 10, MessageKind::kRequest};
  }
  if (type != 1 && type != 2 && type != 8) return none;
  if (head.size() < kFrameHeaderSize) return {Protocol::kAmqp, 1, MessageKind::kRequest};
  const uint16_t channel = Be16(head, 1);
  const uint32_t size = Be32(head, 3);
  if (size > (1u << 24)) return none;
  const bool end_known = head.size() > kFrameHeaderSize + size;
  if (end_known && static_cast<uint8_t>(head[kFrameHeaderSize + size]) != kFrameEnd) return none;
  if (type == 8) {
    if (channel != 0 || size != 0) return none;
    return {Protocol::kAmqp, end_known ? 60 : 1, MessageKind::kRequest};
  }
  if (head.size() < kFrameHeaderSize + 4 || size < 4) {
    return size < 4 ? none : Detection{Protocol::kAmqp, 1, MessageKind::kRequest};
  }
  const uint16_t class_id = Be16(head, 7);
  const uint16_t method_id = Be16(head, 9);
  if (type == 2) {
    if (class_id != kBasic || method_id != 0 || size < 14) return none;
    return {Protocol::kAmqp, end_known ? 80 : 30, MessageKind::kRequest};
  }
  const MethodSpec* spec = FindMethod(class_id, method_id);
  if (spec == nullptr) return none;
  const MessageKind kind =
      spec->sender == Sender::kServer ? MessageKind::kResponse : MessageKind::kRequest;
  if (class_id == kConnection && method_id == 10 && channel == 0) {
    return {Protocol::kAmqp, 100, MessageKind::kResponse};
  }
  return {Protocol::kAmqp, end_known ? 90 : 40, kind};
}

std::unique_ptr<ConnectionDecoder> Create(Role role, const DecoderOptions& options,
                                          DecoderStats* stats) {
  return std::make_unique<AmqpDecoder>(role, options, stats);
}

ProtocolSpec Spec() { return ProtocolSpec{Protocol::kAmqp, &Detect, &Create}; }

}  // namespace wirespan::decoders::amqp
