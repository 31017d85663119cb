// libFuzzer target for the Redis decoder: the input is split into reads (and gaps) for the two
// directions of one connection, run through detection, RedisDecoder and span building. Checks
// that nothing crashes, every read is consumed (no stall), and memory stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/redis/decoder.h"

namespace {

class CountingSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override {
    ++count;
    bytes += span.name.size();
  }
  size_t count = 0;
  size_t bytes = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wirespan::decoders;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  (void)redis::Detect(input, true);
  (void)redis::Detect(input, false);
  if (size < 1) return 0;

  // Byte 0: role and options.
  const uint8_t config = data[0];
  DecoderOptions options;
  options.sanitize_queries = (config & 1) == 0;
  options.max_query_text_bytes = (config & 2) ? 32 : 4096;
  options.max_pending_frames = (config & 4) ? 4 : 1024;
  const Role role = (config & 8) ? Role::kServer : Role::kClient;
  DecoderStats stats;
  redis::RedisDecoder decoder(role, options, &stats);
  ConnectionInfo conn;
  conn.role = role;
  conn.remote_address = "127.0.0.1";
  conn.remote_port = 6379;
  CountingSink sink;
  DataStream streams[2];
  uint64_t pos[2] = {0, 0};
  uint64_t ts = 1000;

  // Then segments: [header][bytes...]; header bit 7 = direction, bit 6 = gap, bits 0-5 = length
  // (0 = the rest of the input).
  size_t i = 1;
  while (i < size) {
    const uint8_t header = data[i++];
    const int dir = header >> 7;
    size_t len = header & 0x3f;
    if (len == 0) len = size - i;
    len = std::min(len, size - i);
    const ChunkMeta meta{ts, ts + 5, 1, 0};
    if (header & 0x40) {
      streams[dir].Add(pos[dir], {}, len + 1, meta, ts);
      pos[dir] += len + 1;
    } else {
      streams[dir].Add(pos[dir], input.substr(i, len), len, meta, ts);
      pos[dir] += len;
      i += len;
    }
    ts += 1000;
    decoder.OnData(dir == 0 ? Direction::kEgress : Direction::kIngress, streams[dir]);
    decoder.Emit(conn, sink, ts, false);
    // The parser keeps at most one unterminated line (and the loop's boundary tail).
    if (streams[dir].buffered_bytes() > redis::kMaxLineBytes + 8) abort();
  }
  for (int d = 0; d < 2; ++d) {
    streams[d].FlushHoles();
    decoder.OnData(d == 0 ? Direction::kEgress : Direction::kIngress, streams[d]);
  }
  decoder.Emit(conn, sink, ts + 1, true);
  if (decoder.pending_requests() != 0 || decoder.pending_responses() != 0) abort();
  return 0;
}
