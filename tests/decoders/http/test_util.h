// Helpers for the HTTP decoder tests: a parser driven through the shared loop, and a whole
// connection (ConnectionDecoder + two DataStreams + a collecting SpanSink).
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/common/frame_loop.h"
#include "decoders/http/decoder.h"
#include "decoders/http/parse.h"
#include "model/span.h"

namespace wirespan::decoders::http::testing {

class CollectingSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override { spans.push_back(std::move(span)); }
  std::vector<model::Span> spans;
};

// One direction's parser fed through ParseFrames, as the decoder does.
class ParserHarness {
 public:
  explicit ParserHarness(MessageKind kind, DecoderOptions options = {})
      : options_(options), parser_(kind, options_, &state, &stats) {}

  // Appends bytes (then `gap` bytes never captured) and parses; one byte per call if asked.
  void Feed(std::string_view bytes, bool byte_at_a_time = false, uint64_t gap = 0) {
    if (byte_at_a_time) {
      for (size_t i = 0; i < bytes.size(); ++i) {
        const bool last = i + 1 == bytes.size();
        Add(bytes.substr(i, 1), last ? gap : 0);
      }
      if (bytes.empty() && gap > 0) Add({}, gap);
    } else {
      Add(bytes, gap);
    }
  }
  void Add(std::string_view bytes, uint64_t gap) {
    ChunkMeta meta{ts_, ts_ + 10, 7, 0};
    stream.Add(pos_, bytes, bytes.size() + gap, meta, ts_);
    pos_ += bytes.size() + gap;
    ts_ += 1000;
    ParseFrames(parser_, stream, frames, options_, stats);
  }
  bool Close() {
    Message m;
    if (!parser_.FinishOnClose(&m)) return false;
    frames.push_back(std::move(m));
    return true;
  }
  Parser& parser() { return parser_; }

  ConnectionState state;
  DecoderStats stats;
  DataStream stream;
  std::deque<Message> frames;

 private:
  DecoderOptions options_;
  Parser parser_;
  uint64_t pos_ = 1000;
  uint64_t ts_ = 1'000'000;
};

// A whole connection seen from the traced process (client or server role).
class ConnHarness {
 public:
  explicit ConnHarness(Role role, DecoderOptions options = {})
      : role_(role), decoder_(CreateDecoder(role, options, &stats)) {
    info.conn_id = 42;
    info.tgid = 1234;
    info.role = role;
    if (role == Role::kServer) {
      info.local_address = "127.0.0.1";
      info.local_port = 8080;
      info.remote_address = "127.0.0.2";
      info.remote_port = 50000;
    } else {
      info.local_address = "127.0.0.2";
      info.local_port = 50000;
      info.remote_address = "127.0.0.1";
      info.remote_port = 8080;
    }
  }

  Direction DirOf(MessageKind kind) const {
    const bool egress = (kind == MessageKind::kRequest) == (role_ != Role::kServer);
    return egress ? Direction::kEgress : Direction::kIngress;
  }
  // Sends bytes from the client (kRequest) or the server (kResponse), then `gap` lost bytes.
  void Send(MessageKind from, std::string_view bytes, bool byte_at_a_time = false,
            uint64_t gap = 0) {
    const Direction dir = DirOf(from);
    const size_t step = byte_at_a_time ? 1 : std::max<size_t>(bytes.size(), 1);
    for (size_t i = 0; i < bytes.size() || (i == 0 && gap > 0); i += step) {
      const std::string_view piece = bytes.substr(std::min(i, bytes.size()), step);
      const bool last = i + step >= bytes.size();
      AddAndParse(dir, piece, last ? gap : 0);
    }
  }
  void Request(std::string_view bytes, bool byte_at_a_time = false) {
    Send(MessageKind::kRequest, bytes, byte_at_a_time);
  }
  void Response(std::string_view bytes, bool byte_at_a_time = false) {
    Send(MessageKind::kResponse, bytes, byte_at_a_time);
  }
  void Emit(bool closed = false) {
    if (closed) {
      for (int d = 0; d < 2; ++d) {
        streams_[d].FlushHoles();
        decoder_->OnData(static_cast<Direction>(d), streams_[d]);
      }
    }
    decoder_->Emit(info, sink, now_, closed);
  }
  void Advance(uint64_t ns) { now_ += ns; }
  uint64_t now() const { return now_; }
  DataStream& stream(Direction d) { return streams_[static_cast<int>(d)]; }
  std::vector<model::Span>& spans() { return sink.spans; }

  ConnectionInfo info;
  DecoderStats stats;
  CollectingSink sink;

 private:
  void AddAndParse(Direction dir, std::string_view bytes, uint64_t gap) {
    const int d = static_cast<int>(dir);
    ChunkMeta meta{now_, now_ + 100, d == 0 ? 11u : 12u, static_cast<uint32_t>(pos_[d])};
    streams_[d].Add(pos_[d], bytes, bytes.size() + gap, meta, now_);
    pos_[d] += bytes.size() + gap;
    now_ += 1000;
    decoder_->OnData(dir, streams_[d]);
  }

  Role role_;
  std::unique_ptr<ConnectionDecoder> decoder_;
  DataStream streams_[2];
  uint64_t pos_[2] = {0, 0};
  uint64_t now_ = 1'000'000'000;
};

inline const std::string* Str(const model::Span& s, std::string_view key) {
  return s.attributes.FindString(key);
}
inline const int64_t* Int(const model::Span& s, std::string_view key) {
  return s.attributes.FindInt(key);
}

// Null-safe forms for assertions: a missing attribute reads as "<none>" / -1.
inline std::string StrOr(const model::Span& s, std::string_view key) {
  const std::string* v = s.attributes.FindString(key);
  return v ? *v : "<none>";
}
inline int64_t IntOr(const model::Span& s, std::string_view key) {
  const int64_t* v = s.attributes.FindInt(key);
  return v ? *v : -1;
}

}  // namespace wirespan::decoders::http::testing
