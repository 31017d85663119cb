// Drives a RedisDecoder with hand-written bytes: one client connection, two streams, a sink.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/redis/decoder.h"
#include "model/span.h"

namespace wirespan::decoders::redis::testing {

class VectorSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override { spans.push_back(std::move(span)); }
  std::vector<model::Span> spans;
};

inline std::string Cmd(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (std::string_view a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}
inline std::string Bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

class FakeConnection {
 public:
  explicit FakeConnection(DecoderOptions options = {}, Role role = Role::kClient)
      : options_(options), decoder_(role, options, &stats) {
    conn.conn_id = 7;
    conn.tgid = 42;
    conn.role = role;
    conn.local_address = "127.0.0.1";
    conn.local_port = 50000;
    conn.remote_address = "127.0.0.1";
    conn.remote_port = 6379;
  }
  // The client sends / receives `bytes`; `chunk` > 0 splits them into reads of that size.
  void Send(std::string_view bytes, size_t chunk = 0) { Add(Direction::kEgress, bytes, chunk); }
  void Recv(std::string_view bytes, size_t chunk = 0) { Add(Direction::kIngress, bytes, chunk); }
  // A gap of n bytes in a direction (bytes never captured).
  void Gap(Direction dir, uint64_t n) {
    DataStream& s = Stream(dir);
    uint64_t& pos = Pos(dir);
    ChunkMeta meta{ts_, ts_ + 10, 1, 0};
    s.Add(pos, {}, n, meta, ts_);
    pos += n;
    ts_ += 1000;
    decoder_.OnData(dir, s);
  }
  void Emit(bool closed = false) { decoder_.Emit(conn, sink, ts_, closed); }
  void AdvanceClock(uint64_t ns) { ts_ += ns; }
  uint64_t now() const { return ts_; }

  std::vector<model::Span>& spans() { return sink.spans; }
  RedisDecoder& decoder() { return decoder_; }
  DataStream& Stream(Direction dir) { return dir == Direction::kEgress ? egress_ : ingress_; }

  ConnectionInfo conn;
  DecoderStats stats;
  VectorSink sink;

 private:
  uint64_t& Pos(Direction dir) { return dir == Direction::kEgress ? egress_pos_ : ingress_pos_; }
  void Add(Direction dir, std::string_view bytes, size_t chunk) {
    if (chunk == 0) chunk = bytes.size();
    DataStream& s = Stream(dir);
    uint64_t& pos = Pos(dir);
    while (!bytes.empty()) {
      const size_t n = std::min(chunk, bytes.size());
      ChunkMeta meta{ts_, ts_ + 10, dir == Direction::kEgress ? 11u : 12u,
                     static_cast<uint32_t>(pos)};
      s.Add(pos, bytes.substr(0, n), n, meta, ts_);
      pos += n;
      ts_ += 1000;
      bytes.remove_prefix(n);
      decoder_.OnData(dir, s);
    }
  }

  DecoderOptions options_;
  RedisDecoder decoder_;
  DataStream egress_;
  DataStream ingress_;
  uint64_t egress_pos_ = 1000;
  uint64_t ingress_pos_ = 5000;
  uint64_t ts_ = 1'000'000;
};

inline std::string Attr(const model::Span& span, std::string_view key) {
  const model::AttributeValue* v = span.attributes.Find(key);
  if (v == nullptr) return "";
  if (auto* s = std::get_if<std::string>(v)) return *s;
  if (auto* i = std::get_if<int64_t>(v)) return std::to_string(*i);
  if (auto* b = std::get_if<bool>(v)) return *b ? "true" : "false";
  if (auto* d = std::get_if<double>(v)) return std::to_string(*d);
  return "";
}

// Everything a span exports as text, for "the secret never appears" checks.
inline std::string AllText(const model::Span& span) {
  std::string out = span.name + "\n" + span.status_message + "\n";
  for (const auto& a : span.attributes.items()) out += a.key + "=" + Attr(span, a.key) + "\n";
  return out;
}

}  // namespace wirespan::decoders::redis::testing
