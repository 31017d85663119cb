// Builds AMQP 0-9-1 bytes for tests, plus a harness feeding them to a decoder chunk by chunk.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "decoders/amqp/decoder.h"
#include "decoders/common/data_stream.h"
#include "model/span.h"

namespace wirespan::decoders::amqp::testing {

inline std::string U8(uint8_t v) { return std::string(1, static_cast<char>(v)); }
inline std::string U16(uint16_t v) { return U8(v >> 8) + U8(v & 0xff); }
inline std::string U32(uint32_t v) { return U16(v >> 16) + U16(v & 0xffff); }
inline std::string U64(uint64_t v) {
  return U32(static_cast<uint32_t>(v >> 32)) + U32(v & 0xffffffff);
}
inline std::string ShortStr(std::string_view s) {
  return U8(static_cast<uint8_t>(s.size())) + std::string(s);
}
inline std::string LongStr(std::string_view s) {
  return U32(static_cast<uint32_t>(s.size())) + std::string(s);
}
// A field table from (name, type octet + value bytes) entries.
inline std::string Table(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string body;
  for (const auto& [name, value] : entries) body += ShortStr(name) + value;
  return LongStr(body);
}
inline std::string Bits(std::initializer_list<bool> bits) {
  uint8_t v = 0;
  int i = 0;
  for (bool b : bits) v |= static_cast<uint8_t>(b) << i++;
  return U8(v);
}

inline std::string RawFrame(uint8_t type, uint16_t channel, const std::string& payload) {
  return U8(type) + U16(channel) + U32(static_cast<uint32_t>(payload.size())) + payload + U8(0xCE);
}
inline std::string MethodFrame(uint16_t channel, uint16_t cls, uint16_t mid,
                               const std::string& args = "") {
  return RawFrame(1, channel, U16(cls) + U16(mid) + args);
}
inline std::string Header(uint16_t channel, uint64_t body_size, uint16_t flags = 0,
                          const std::string& props = "") {
  return RawFrame(2, channel, U16(60) + U16(0) + U64(body_size) + U16(flags) + props);
}
inline std::string Body(uint16_t channel, std::string_view body) {
  return RawFrame(3, channel, std::string(body));
}
inline std::string Heartbeat() { return RawFrame(8, 0, ""); }
inline const std::string kProtocolHeaderBytes("AMQP\x00\x00\x09\x01", 8);

// Properties builder (flag bits per the basic class, bit 15 first).
struct Props {
  std::string content_type, correlation_id, reply_to, message_id, type, app_id;
  std::string headers;  // an encoded table, or empty
  int delivery_mode = -1;
  int64_t timestamp = -1;
  std::pair<uint16_t, std::string> Encode() const {
    uint16_t flags = 0;
    std::string p;
    if (!content_type.empty()) flags |= 1 << 15, p += ShortStr(content_type);
    if (!headers.empty()) flags |= 1 << 13, p += headers;
    if (delivery_mode >= 0) flags |= 1 << 12, p += U8(static_cast<uint8_t>(delivery_mode));
    if (!correlation_id.empty()) flags |= 1 << 10, p += ShortStr(correlation_id);
    if (!reply_to.empty()) flags |= 1 << 9, p += ShortStr(reply_to);
    if (!message_id.empty()) flags |= 1 << 7, p += ShortStr(message_id);
    if (timestamp >= 0) flags |= 1 << 6, p += U64(static_cast<uint64_t>(timestamp));
    if (!type.empty()) flags |= 1 << 5, p += ShortStr(type);
    if (!app_id.empty()) flags |= 1 << 3, p += ShortStr(app_id);
    return {flags, p};
  }
};

inline std::string ContentFrames(uint16_t ch, std::string_view body, const Props& props = {},
                                 size_t frame_payload = 131072 - 8) {
  auto [flags, p] = props.Encode();
  std::string out = Header(ch, body.size(), flags, p);
  for (size_t off = 0; off < body.size(); off += frame_payload) {
    out += Body(ch, body.substr(off, frame_payload));
  }
  return out;
}

inline std::string Publish(uint16_t ch, std::string_view exchange, std::string_view key,
                           std::string_view body, const Props& props = {}, bool mandatory = false,
                           size_t frame_payload = 131072 - 8) {
  return MethodFrame(ch, 60, 40,
                     U16(0) + ShortStr(exchange) + ShortStr(key) + Bits({mandatory, false})) +
         ContentFrames(ch, body, props, frame_payload);
}
inline std::string Deliver(uint16_t ch, std::string_view ctag, uint64_t tag, bool redelivered,
                           std::string_view exchange, std::string_view key, std::string_view body,
                           const Props& props = {}) {
  return MethodFrame(
             ch, 60, 60,
             ShortStr(ctag) + U64(tag) + Bits({redelivered}) + ShortStr(exchange) + ShortStr(key)) +
         ContentFrames(ch, body, props);
}
inline std::string Ack(uint16_t ch, uint64_t tag, bool multiple = false) {
  return MethodFrame(ch, 60, 80, U64(tag) + Bits({multiple}));
}
inline std::string Nack(uint16_t ch, uint64_t tag, bool multiple, bool requeue) {
  return MethodFrame(ch, 60, 120, U64(tag) + Bits({multiple, requeue}));
}
inline std::string Reject(uint16_t ch, uint64_t tag, bool requeue) {
  return MethodFrame(ch, 60, 90, U64(tag) + Bits({requeue}));
}
inline std::string Consume(uint16_t ch, std::string_view queue, std::string_view ctag,
                           bool no_ack) {
  return MethodFrame(
      ch, 60, 20,
      U16(0) + ShortStr(queue) + ShortStr(ctag) + Bits({false, no_ack, false, false}) + Table({}));
}
inline std::string ConsumeOk(uint16_t ch, std::string_view ctag) {
  return MethodFrame(ch, 60, 21, ShortStr(ctag));
}
inline std::string Get(uint16_t ch, std::string_view queue, bool no_ack) {
  return MethodFrame(ch, 60, 70, U16(0) + ShortStr(queue) + Bits({no_ack}));
}
inline std::string GetOk(uint16_t ch, uint64_t tag, std::string_view exchange, std::string_view key,
                         uint32_t remaining, std::string_view body, const Props& props = {}) {
  return MethodFrame(
             ch, 60, 71,
             U64(tag) + Bits({false}) + ShortStr(exchange) + ShortStr(key) + U32(remaining)) +
         ContentFrames(ch, body, props);
}
inline std::string GetEmpty(uint16_t ch) { return MethodFrame(ch, 60, 72, ShortStr("")); }
inline std::string QueueDeclare(uint16_t ch, std::string_view queue) {
  return MethodFrame(
      ch, 50, 10, U16(0) + ShortStr(queue) + Bits({false, false, false, false, false}) + Table({}));
}
inline std::string QueueDeclareOk(uint16_t ch, std::string_view queue, uint32_t messages) {
  return MethodFrame(ch, 50, 11, ShortStr(queue) + U32(messages) + U32(0));
}
inline std::string ConfirmSelect(uint16_t ch) { return MethodFrame(ch, 85, 10, Bits({false})); }
inline std::string ConfirmSelectOk(uint16_t ch) { return MethodFrame(ch, 85, 11); }
inline std::string ChannelOpen(uint16_t ch) { return MethodFrame(ch, 20, 10, ShortStr("")); }
inline std::string ChannelOpenOk(uint16_t ch) { return MethodFrame(ch, 20, 11, LongStr("")); }
inline std::string ChannelClose(uint16_t ch, uint16_t code, std::string_view text, uint16_t cls = 0,
                                uint16_t mid = 0) {
  return MethodFrame(ch, 20, 40, U16(code) + ShortStr(text) + U16(cls) + U16(mid));
}
inline std::string ChannelCloseOk(uint16_t ch) { return MethodFrame(ch, 20, 41); }

// The handshake, with credentials in start-ok.
inline std::string ClientHandshake(std::string_view user, std::string_view password,
                                   uint32_t frame_max = 131072) {
  std::string response =
      std::string("\0", 1) + std::string(user) + std::string("\0", 1) + std::string(password);
  return kProtocolHeaderBytes +
         MethodFrame(0, 10, 11,
                     Table({{"product", "S" + LongStr("pika")}}) + ShortStr("PLAIN") +
                         LongStr(response) + ShortStr("en_US")) +
         MethodFrame(0, 10, 31, U16(2047) + U32(frame_max) + U16(60)) +
         MethodFrame(0, 10, 40, ShortStr("/") + ShortStr("") + Bits({false}));
}
inline std::string ServerHandshake(uint32_t frame_max = 131072) {
  return MethodFrame(0, 10, 10,
                     U8(0) + U8(9) + Table({{"product", "S" + LongStr("RabbitMQ")}}) +
                         LongStr("PLAIN AMQPLAIN") + LongStr("en_US")) +
         MethodFrame(0, 10, 30, U16(2047) + U32(frame_max) + U16(60)) +
         MethodFrame(0, 10, 41, ShortStr(""));
}

class VectorSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override { spans.push_back(std::move(span)); }
  std::vector<model::Span> spans;
};

// One connection: bytes per direction are added to DataStreams in chunks of `chunk` bytes, each
// chunk stamped 1 µs after the previous one; the decoder parses and emits after every chunk.
class Harness {
 public:
  explicit Harness(Role role = Role::kClient, DecoderOptions options = {})
      : options_(options), decoder_(Create(role, options_, &stats)) {
    conn.role = role;
    conn.conn_id = 7;
    conn.tgid = 42;
    conn.local_address = "127.0.0.1";
    conn.local_port = 40000;
    conn.remote_address = "127.0.0.1";
    conn.remote_port = 5672;
    if (role == Role::kServer) std::swap(conn.local_port, conn.remote_port);
  }
  // Sends bytes as the client (true) or the broker.
  void Client(std::string_view bytes, size_t chunk = SIZE_MAX) { Send(client_dir(), bytes, chunk); }
  void Server(std::string_view bytes, size_t chunk = SIZE_MAX) {
    Send(client_dir() == Direction::kEgress ? Direction::kIngress : Direction::kEgress, bytes,
         chunk);
  }
  void Send(Direction dir, std::string_view bytes, size_t chunk = SIZE_MAX) {
    DataStream& s = streams_[static_cast<int>(dir)];
    uint64_t& pos = pos_[static_cast<int>(dir)];
    chunk = std::max<size_t>(chunk, 1);
    for (size_t off = 0; off < bytes.size(); off += chunk) {
      const std::string_view piece = bytes.substr(off, chunk);
      ChunkMeta meta{ts_, ts_ + 500, 100, static_cast<uint32_t>(pos)};
      s.Add(pos, piece, piece.size(), meta, ts_);
      pos += piece.size();
      ts_ += 1000;
      decoder_->OnData(dir, s);
      decoder_->Emit(conn, sink, ts_, false);
    }
  }
  // Bytes that never arrive (a gap) in a direction.
  void Gap(Direction dir, uint64_t n) {
    DataStream& s = streams_[static_cast<int>(dir)];
    uint64_t& pos = pos_[static_cast<int>(dir)];
    ChunkMeta meta{ts_, ts_ + 500, 100, static_cast<uint32_t>(pos)};
    s.Add(pos, "", n, meta, ts_);
    pos += n;
    ts_ += 1000;
    decoder_->OnData(dir, s);
    decoder_->Emit(conn, sink, ts_, false);
  }
  void Close() {
    for (int d = 0; d < 2; ++d) {
      streams_[d].FlushHoles();
      decoder_->OnData(static_cast<Direction>(d), streams_[d]);
    }
    decoder_->Emit(conn, sink, ts_, true);
  }
  void Tick(uint64_t ns) {
    ts_ += ns;
    decoder_->Emit(conn, sink, ts_, false);
  }
  Direction client_dir() const {
    return conn.role == Role::kServer ? Direction::kIngress : Direction::kEgress;
  }
  DataStream& stream(Direction d) { return streams_[static_cast<int>(d)]; }
  uint64_t now() const { return ts_; }

  DecoderStats stats;
  ConnectionInfo conn;
  VectorSink sink;

 private:
  DecoderOptions options_;
  std::unique_ptr<ConnectionDecoder> decoder_;
  DataStream streams_[2];
  uint64_t pos_[2] = {0, 0};
  uint64_t ts_ = 1'000'000;
};

}  // namespace wirespan::decoders::amqp::testing
