// Throughput of the Redis decoder: bytes of real-looking traffic through parse, match and span
// building (the agent's per-connection work), per workload shape.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/redis/decoder.h"
#include "decoders/redis/parse.h"

namespace {

using namespace wirespan::decoders;

std::string Cmd(const std::vector<std::string>& args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return out;
}

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override { benchmark::DoNotOptimize(span.name); }
};

struct Workload {
  std::string requests;
  std::string responses;
  size_t commands = 0;
};

// A redis-py style pipeline: SET key value / GET key with `value_size`-byte values.
Workload Pipeline(size_t commands, size_t value_size) {
  Workload w;
  const std::string value(value_size, 'v');
  for (size_t i = 0; i < commands; ++i) {
    const std::string key = "user:session:" + std::to_string(i);
    if (i % 2 == 0) {
      w.requests += Cmd({"SET", key, value, "EX", "3600"});
      w.responses += "+OK\r\n";
    } else {
      w.requests += Cmd({"GET", key});
      w.responses += "$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
    }
  }
  w.commands = commands;
  return w;
}

// RESP3 HGETALL replies: maps of 10 fields.
Workload Resp3Maps(size_t commands) {
  Workload w;
  for (size_t i = 0; i < commands; ++i) {
    w.requests += Cmd({"HGETALL", "user:" + std::to_string(i)});
    w.responses += "%10\r\n";
    for (int f = 0; f < 10; ++f) {
      w.responses += "$6\r\nfield" + std::to_string(f) + "\r\n$12\r\nvalue-abcdef\r\n";
    }
  }
  w.commands = commands;
  return w;
}

// Pushed pub/sub messages (consumer spans), 100-byte payloads.
Workload PubSub(size_t messages) {
  Workload w;
  w.requests = Cmd({"SUBSCRIBE", "events"});
  w.responses = "*3\r\n$9\r\nsubscribe\r\n$6\r\nevents\r\n:1\r\n";
  const std::string payload(100, 'p');
  for (size_t i = 0; i < messages; ++i) {
    w.responses += "*3\r\n$7\r\nmessage\r\n$6\r\nevents\r\n$100\r\n" + payload + "\r\n";
  }
  w.commands = messages;
  return w;
}

void Run(benchmark::State& state, const Workload& w, size_t read_size) {
  NullSink sink;
  ConnectionInfo conn;
  conn.role = Role::kClient;
  conn.remote_address = "127.0.0.1";
  conn.remote_port = 6379;
  uint64_t spans = 0;
  for (auto _ : state) {
    DecoderStats stats;
    redis::RedisDecoder decoder(Role::kClient, DecoderOptions{}, &stats);
    DataStream out, in;
    uint64_t ts = 1;
    auto feed = [&](DataStream& s, Direction dir, const std::string& bytes) {
      for (size_t pos = 0; pos < bytes.size(); pos += read_size) {
        const size_t n = std::min(read_size, bytes.size() - pos);
        s.Add(pos, std::string_view(bytes).substr(pos, n), n, ChunkMeta{ts, ts + 1, 1, 0}, ts);
        ++ts;
        decoder.OnData(dir, s);
      }
    };
    feed(out, Direction::kEgress, w.requests);
    feed(in, Direction::kIngress, w.responses);
    decoder.Emit(conn, sink, ts, true);
    spans += stats.spans;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(w.requests.size() + w.responses.size()));
  state.SetItemsProcessed(static_cast<int64_t>(spans));
}

void BM_Pipeline_SmallValues(benchmark::State& state) {
  static const Workload w = Pipeline(1000, 32);
  Run(state, w, 16 << 10);
}
BENCHMARK(BM_Pipeline_SmallValues);

void BM_Pipeline_4KValues(benchmark::State& state) {
  static const Workload w = Pipeline(1000, 4096);
  Run(state, w, 64 << 10);
}
BENCHMARK(BM_Pipeline_4KValues);

void BM_Pipeline_SmallReads(benchmark::State& state) {
  static const Workload w = Pipeline(1000, 32);
  Run(state, w, 64);  // many small reads: per-read overhead
}
BENCHMARK(BM_Pipeline_SmallReads);

void BM_Resp3Maps(benchmark::State& state) {
  static const Workload w = Resp3Maps(1000);
  Run(state, w, 16 << 10);
}
BENCHMARK(BM_Resp3Maps);

void BM_PubSubMessages(benchmark::State& state) {
  static const Workload w = PubSub(1000);
  Run(state, w, 16 << 10);
}
BENCHMARK(BM_PubSubMessages);

// Parser alone on one large 1 MiB blob reply (counted, not buffered).
void BM_ParseLargeBlob(benchmark::State& state) {
  const std::string reply = "$1048576\r\n" + std::string(1 << 20, 'x') + "\r\n";
  for (auto _ : state) {
    redis::RespParser parser(MessageKind::kResponse);
    DataStream s;
    uint64_t pos = 0;
    redis::Message m;
    for (; pos < reply.size(); pos += 64 << 10) {
      const size_t n = std::min<size_t>(64 << 10, reply.size() - pos);
      s.Add(pos, std::string_view(reply).substr(pos, n), n, ChunkMeta{}, 0);
      (void)parser.ParseFrame(s, &m);
    }
    benchmark::DoNotOptimize(m.value.size);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(reply.size()));
}
BENCHMARK(BM_ParseLargeBlob);

}  // namespace

BENCHMARK_MAIN();
