// PostgreSQL decoder throughput on the recorded fixtures (tests/decoders/postgres/fixtures):
// every TCP segment of every connection is fed, in capture order, through the ConnectionDecoder
// (client role), spans made and discarded. Reports MB/s (payload bytes) and messages/s, plus
// spans/s; a second benchmark measures the SQL sanitizer alone.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/postgres/decoder.h"
#include "decoders/postgres/sql.h"

namespace {

using namespace wirespan::decoders;

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override { benchmark::DoNotOptimize(span); }
};

struct Segment {
  bool from_client;
  std::string bytes;
};
struct Connection {
  std::vector<Segment> segments;
};
struct Capture {
  std::vector<Connection> connections;
  size_t bytes = 0;
};

uint16_t Be16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t Be32(const unsigned char* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

// Classic pcap, Ethernet + IPv4 + TCP (what scripts/fixtures/record-postgres.sh writes).
Capture LoadCapture(const std::string& name) {
  Capture cap;
  std::ifstream in(
      std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/postgres/fixtures/" + name + ".pcap",
      std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  if (data.size() < 24) return cap;
  const bool le = static_cast<unsigned char>(data[0]) == 0xd4;
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, data.data() + off, 4);
    return le ? v : __builtin_bswap32(v);
  };
  std::map<std::tuple<uint16_t, uint16_t>, size_t> index;  // (client port, server port) -> conn
  std::map<std::tuple<uint16_t, uint16_t, uint32_t>, bool> seen;
  for (size_t off = 24; off + 16 <= data.size();) {
    const uint32_t incl = u32(off + 8);
    const auto* pkt = reinterpret_cast<const unsigned char*>(data.data() + off + 16);
    off += 16 + incl;
    if (off > data.size() || incl < 54 || pkt[12] != 0x08 || pkt[13] != 0x00 || pkt[23] != 6) {
      continue;
    }
    const size_t ihl = (pkt[14] & 0xf) * 4;
    const unsigned char* tcp = pkt + 14 + ihl;
    const uint16_t sport = Be16(tcp), dport = Be16(tcp + 2);
    const uint32_t seq = Be32(tcp + 4);
    const uint8_t flags = tcp[13];
    const size_t hlen = (tcp[12] >> 4) * 4;
    const size_t total = Be16(pkt + 16);
    const size_t payload_len = total - ihl - hlen;
    if ((flags & 0x02) && !(flags & 0x10)) {
      index[{sport, dport}] = cap.connections.size();
      cap.connections.emplace_back();
      continue;
    }
    if (payload_len == 0 || seen[{sport, dport, seq}]) continue;
    seen[{sport, dport, seq}] = true;
    std::string payload(reinterpret_cast<const char*>(tcp + hlen), payload_len);
    if (auto it = index.find({sport, dport}); it != index.end()) {
      cap.connections[it->second].segments.push_back({true, std::move(payload)});
    } else if (auto it2 = index.find({dport, sport}); it2 != index.end()) {
      cap.connections[it2->second].segments.push_back({false, std::move(payload)});
    } else {
      continue;
    }
    cap.bytes += payload_len;
  }
  return cap;
}

void BM_PostgresDecoder(benchmark::State& state, const std::string& name) {
  const Capture cap = LoadCapture(name);
  if (cap.bytes == 0) {
    state.SkipWithError("fixture not found");
    return;
  }
  NullSink sink;
  uint64_t messages = 0, spans = 0;
  for (auto _ : state) {
    for (const Connection& c : cap.connections) {
      DecoderStats stats;
      postgres::PostgresDecoder decoder(Role::kClient, DecoderOptions{}, &stats);
      ConnectionInfo conn;
      conn.role = Role::kClient;
      conn.remote_address = "127.0.0.1";
      conn.remote_port = 5432;
      DataStream streams[2];
      uint64_t pos[2] = {0, 0};
      uint64_t now = 1'000'000;
      for (const Segment& s : c.segments) {
        const int i = s.from_client ? 0 : 1;
        now += 1000;
        streams[i].Add(pos[i], s.bytes, s.bytes.size(), ChunkMeta{now, now + 10, 1, 0}, now);
        pos[i] += s.bytes.size();
        decoder.OnData(s.from_client ? Direction::kEgress : Direction::kIngress, streams[i]);
        decoder.Emit(conn, sink, now, false);
      }
      decoder.Emit(conn, sink, now, true);
      messages += stats.frames;
      spans += stats.spans;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * cap.bytes));
  state.counters["messages/s"] =
      benchmark::Counter(static_cast<double>(messages), benchmark::Counter::kIsRate);
  state.counters["spans/s"] =
      benchmark::Counter(static_cast<double>(spans), benchmark::Counter::kIsRate);
}

void BM_Sanitize(benchmark::State& state) {
  const std::string sql =
      "SELECT g.id, g.name, p.price FROM games g JOIN prices p ON p.game_id = g.id "
      "WHERE g.name = 'The Legend of Zelda' AND p.price BETWEEN 10.5 AND 70 AND g.tags @> "
      "E'{\"rpg\"}' AND g.released > DATE '2017-03-03' /* app=shop */ ORDER BY p.price LIMIT 20";
  for (auto _ : state) benchmark::DoNotOptimize(wirespan::decoders::postgres::Sanitize(sql));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * sql.size()));
}

}  // namespace

BENCHMARK_CAPTURE(BM_PostgresDecoder, asyncpg, std::string("asyncpg"));
BENCHMARK_CAPTURE(BM_PostgresDecoder, psycopg2, std::string("psycopg2"));
BENCHMARK_CAPTURE(BM_PostgresDecoder, psycopg3, std::string("psycopg3"));
BENCHMARK_CAPTURE(BM_PostgresDecoder, sqlalchemy_asyncpg, std::string("sqlalchemy_asyncpg"));
BENCHMARK_CAPTURE(BM_PostgresDecoder, psql, std::string("psql"));
BENCHMARK(BM_Sanitize);
BENCHMARK_MAIN();
