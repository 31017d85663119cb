// Replays the fixtures recorded from Debian's rabbitmq-server (scripts/fixtures/record-amqp.sh)
// through the real pipeline and checks every AMQP span (tests/decoders/amqp/fixture_checks.h).
#include "tests/support/replay.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "decoders/amqp/decoder.h"
#include "decoders/common/data_stream.h"
#include "tests/decoders/amqp/fixture_checks.h"

namespace wirespan::testing {
namespace {

using namespace amqp_fixtures;  // NOLINT

std::string Fixture(const std::string& name) {
  return std::string(WIRESPAN_SOURCE_DIR) + "/tests/decoders/amqp/fixtures/" + name + ".pcap";
}

// Replays a fixture; the replay traces both ends, so the broker's view must mirror the client's.
Views Replay(const std::string& name, ReplayResult* out) {
  *out = ReplayCapture(Fixture(name));
  EXPECT_TRUE(out->status.ok()) << out->status.message();
  const auto& stats = out->stats_for(decoders::Protocol::kAmqp);
  EXPECT_EQ(stats.parse_errors, 0u);
  EXPECT_EQ(stats.unmatched_requests, 0u);
  EXPECT_EQ(stats.unmatched_responses, 0u);
  EXPECT_EQ(stats.dropped_frames, 0u);
  ExpectNoCredentials(out->spans);
  Views v = Split(out->spans);
  EXPECT_EQ(v.client.size(), v.server.size()) << Dump(v.client) << "---\n" << Dump(v.server);
  EXPECT_FALSE(v.client.empty());
  return v;
}

TEST(AmqpReplay, PikaBlocking) {
  ReplayResult r;
  Views v = Replay("pika_blocking", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaBlocking(v);
}

TEST(AmqpReplay, PikaSelectConnection) {
  ReplayResult r;
  Views v = Replay("pika_select", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckPikaSelect(v);
}

TEST(AmqpReplay, AioPika) {
  ReplayResult r;
  Views v = Replay("aio_pika", &r);
  SCOPED_TRACE(Dump(v.client));
  CheckAioPika(v);
}

// Only the AMQP decoder enabled gives the same spans.
TEST(AmqpReplay, OnlyAmqpEnabled) {
  agent::PipelineOptions options;
  options.protocols = {decoders::Protocol::kAmqp};
  ReplayResult r = ReplayCapture(Fixture("pika_blocking"), options);
  ASSERT_TRUE(r.status.ok());
  CheckPikaBlocking(Split(r.spans));
}

// The fixtures' TCP payloads straight into the decoder, in capture order: once per segment and once
// byte at a time (each byte its own chunk, parsed and emitted on its own) give the same spans.
struct Segment {
  bool from_client;
  std::string bytes;
  uint64_t ts_ns;
};

// Classic little-endian pcap, Ethernet + IPv4 + TCP, one connection (what record-amqp.sh writes).
std::vector<Segment> LoadSegments(const std::string& name) {
  std::ifstream in(Fixture(name), std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  std::vector<Segment> out;
  auto u32 = [&](size_t off) {
    uint32_t v;
    std::memcpy(&v, data.data() + off, 4);
    return v;
  };
  uint16_t server_port = 0;
  for (size_t off = 24; off + 16 <= data.size();) {
    const uint64_t ts = uint64_t{u32(off)} * 1'000'000'000 + uint64_t{u32(off + 4)} * 1000;
    const uint32_t incl = u32(off + 8);
    const auto* pkt = reinterpret_cast<const unsigned char*>(data.data() + off + 16);
    off += 16 + incl;
    if (incl < 54 || pkt[12] != 0x08 || pkt[13] != 0x00) continue;
    const size_t ihl = (pkt[14] & 0xf) * 4;
    const size_t total = static_cast<size_t>(pkt[16] << 8 | pkt[17]);
    const unsigned char* tcp = pkt + 14 + ihl;
    const uint16_t sport = static_cast<uint16_t>(tcp[0] << 8 | tcp[1]);
    const uint16_t dport = static_cast<uint16_t>(tcp[2] << 8 | tcp[3]);
    if ((tcp[13] & 0x12) == 0x02 && server_port == 0) server_port = dport;
    const size_t hlen = (tcp[12] >> 4) * 4;
    if (total <= ihl + hlen) continue;
    out.push_back({sport != server_port,
                   std::string(reinterpret_cast<const char*>(tcp + hlen), total - ihl - hlen), ts});
  }
  return out;
}

std::vector<std::string> DecodeSegments(const std::vector<Segment>& segments, size_t chunk,
                                        decoders::DecoderStats* stats) {
  using namespace decoders;  // NOLINT
  auto decoder = amqp::Create(Role::kClient, DecoderOptions{}, stats);
  ConnectionInfo conn;
  conn.role = Role::kClient;
  conn.remote_address = "127.0.0.1";
  conn.remote_port = 5672;
  CollectingSink sink;
  DataStream streams[2];
  uint64_t pos[2] = {0, 0};
  for (const Segment& seg : segments) {
    const int d = seg.from_client ? 0 : 1;  // client role: egress = client
    for (size_t off = 0; off < seg.bytes.size(); off += chunk) {
      const std::string_view piece = std::string_view(seg.bytes).substr(off, chunk);
      streams[d].Add(pos[d], piece, piece.size(), ChunkMeta{seg.ts_ns, seg.ts_ns, 1, 0}, seg.ts_ns);
      pos[d] += piece.size();
      decoder->OnData(static_cast<Direction>(d), streams[d]);
      decoder->Emit(conn, sink, seg.ts_ns, false);
    }
  }
  decoder->Emit(conn, sink, segments.empty() ? 0 : segments.back().ts_ns, true);
  std::vector<std::string> out;
  for (const auto& s : sink.Snapshot()) {
    std::string line = std::string(model::SpanKindName(s.kind)) + " " + s.name + " " +
                       std::to_string(s.start_time_unix_nano) + "-" +
                       std::to_string(s.end_time_unix_nano);
    for (const auto& a : s.attributes.items()) line += " " + a.key + "=" + AttrText(s, a.key);
    out.push_back(line);
  }
  return out;
}

TEST(AmqpReplay, FixturesByteAtATime) {
  for (const char* name : {"pika_blocking", "pika_select", "aio_pika"}) {
    SCOPED_TRACE(name);
    const auto segments = LoadSegments(name);
    ASSERT_FALSE(segments.empty());
    decoders::DecoderStats whole_stats, byte_stats;
    const auto whole = DecodeSegments(segments, SIZE_MAX, &whole_stats);
    const auto bytewise = DecodeSegments(segments, 1, &byte_stats);
    EXPECT_GT(whole.size(), 5u);
    EXPECT_EQ(whole, bytewise);
    EXPECT_EQ(whole_stats.parse_errors, 0u);
    EXPECT_EQ(byte_stats.parse_errors, 0u);
    EXPECT_EQ(whole_stats.spans, byte_stats.spans);
  }
}

}  // namespace
}  // namespace wirespan::testing
