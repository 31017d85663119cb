// AMQP 0-9-1 decoder throughput: synthetic RabbitMQ traffic (tests/decoders/amqp/amqp_builder.h)
// fed in 16 KiB chunks through the ConnectionDecoder (client role), spans made and discarded.
//   publish_small:  256-byte publishes (method + header + body frames) without confirms
//   publish_confirm: publishes with publisher confirms, the broker acking every 10th (multiple)
//   deliver_ack:    deliveries of 1 KiB messages with a traceparent header, each acked
//   large_body:     1 MiB bodies in 128 KiB frames (body hashing is the cost)
//   field_table:    content header decoding of a 12-entry headers table, alone
// Counters: bytes/s of AMQP payload, messages/s.
#include <benchmark/benchmark.h>

#include <string>

#include "decoders/amqp/wire.h"
#include "decoders/common/data_stream.h"
#include "tests/decoders/amqp/amqp_builder.h"

namespace {

using namespace wirespan::decoders;                 // NOLINT
using namespace wirespan::decoders::amqp;           // NOLINT
using namespace wirespan::decoders::amqp::testing;  // NOLINT

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override { benchmark::DoNotOptimize(span); }
};

struct Traffic {
  std::string client, server;  // each direction's bytes, in the order the decoder sees them
  size_t messages = 0;
};

// Feeds both directions in 16 KiB chunks, client chunk then server chunk.
void Run(benchmark::State& state, const Traffic& t) {
  constexpr size_t kChunk = 16 << 10;
  for (auto _ : state) {
    DecoderStats stats;
    auto decoder = Create(Role::kClient, DecoderOptions{}, &stats);
    ConnectionInfo conn;
    conn.role = Role::kClient;
    conn.remote_address = "127.0.0.1";
    conn.remote_port = 5672;
    NullSink sink;
    DataStream streams[2];
    uint64_t pos[2] = {0, 0};
    uint64_t ts = 1000;
    size_t off[2] = {0, 0};
    const std::string* bytes[2] = {&t.client, &t.server};
    while (off[0] < t.client.size() || off[1] < t.server.size()) {
      for (int d = 0; d < 2; ++d) {
        if (off[d] >= bytes[d]->size()) continue;
        const std::string_view piece = std::string_view(*bytes[d]).substr(off[d], kChunk);
        streams[d].Add(pos[d], piece, piece.size(), ChunkMeta{ts, ts + 1, 1, 0}, ts);
        pos[d] += piece.size();
        off[d] += piece.size();
        ts += 1000;
        decoder->OnData(static_cast<Direction>(d), streams[d]);
        decoder->Emit(conn, sink, ts, false);
      }
    }
    decoder->Emit(conn, sink, ts, true);
    benchmark::DoNotOptimize(stats.spans);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(t.client.size() + t.server.size()));
  state.counters["msgs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * static_cast<double>(t.messages),
                         benchmark::Counter::kIsRate);
}

Traffic Handshake() {
  Traffic t;
  t.client = ClientHandshake("guest", "guest") + ChannelOpen(1);
  t.server = ServerHandshake() + ChannelOpenOk(1);
  return t;
}

void BM_PublishSmall(benchmark::State& state) {
  static const Traffic t = [] {
    Traffic t = Handshake();
    Props props;
    props.message_id = "m";
    props.delivery_mode = 2;
    props.content_type = "application/json";
    for (int i = 0; i < 2000; ++i)
      t.client += Publish(1, "orders", "created", std::string(256, 'x'), props);
    t.messages = 2000;
    return t;
  }();
  Run(state, t);
}
BENCHMARK(BM_PublishSmall);

void BM_PublishConfirm(benchmark::State& state) {
  static const Traffic t = [] {
    Traffic t = Handshake();
    t.client += ConfirmSelect(1);
    t.server += ConfirmSelectOk(1);
    for (int i = 1; i <= 2000; ++i) {
      t.client += Publish(1, "", "jobs", std::string(256, 'y'));
      if (i % 10 == 0) t.server += Ack(1, static_cast<uint64_t>(i), true);
    }
    t.messages = 2000;
    return t;
  }();
  Run(state, t);
}
BENCHMARK(BM_PublishConfirm);

void BM_DeliverAck(benchmark::State& state) {
  static const Traffic t = [] {
    Traffic t = Handshake();
    t.client += Consume(1, "jobs", "", false);
    t.server += ConsumeOk(1, "ctag");
    Props props;
    props.message_id = "msg";
    props.headers = Table(
        {{"traceparent", "S" + LongStr("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
         {"attempt", "I" + U32(1)}});
    for (uint64_t tag = 1; tag <= 2000; ++tag) {
      t.server += Deliver(1, "ctag", tag, false, "", "jobs", std::string(1024, 'z'), props);
      t.client += Ack(1, tag);
    }
    t.messages = 2000;
    return t;
  }();
  Run(state, t);
}
BENCHMARK(BM_DeliverAck);

void BM_LargeBody(benchmark::State& state) {
  static const Traffic t = [] {
    Traffic t = Handshake();
    for (int i = 0; i < 16; ++i) {
      t.client += Publish(1, "", "blobs", std::string(1 << 20, static_cast<char>(i)), {}, false,
                          131072 - 8);
    }
    t.messages = 16;
    return t;
  }();
  Run(state, t);
}
BENCHMARK(BM_LargeBody);

void BM_FieldTable(benchmark::State& state) {
  std::vector<std::pair<std::string, std::string>> entries = {
      {"traceparent", "S" + LongStr("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")},
      {"tracestate", "S" + LongStr("vendor=abc")}};
  for (int i = 0; i < 10; ++i) entries.push_back({"x-key-" + std::to_string(i), "I" + U32(i)});
  Props props;
  props.headers = Table(entries);
  props.message_id = "id";
  auto [flags, p] = props.Encode();
  const std::string frame = Header(1, 100, flags, p);
  const std::string_view payload = std::string_view(frame).substr(7, frame.size() - 8);
  for (auto _ : state) {
    Content c;
    benchmark::DoNotOptimize(DecodeContentHeader(payload, &c));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload.size()));
}
BENCHMARK(BM_FieldTable);

}  // namespace

BENCHMARK_MAIN();
