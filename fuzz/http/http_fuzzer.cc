// libFuzzer target: one HTTP connection through the real ConnectionDecoder.
//
// Input layout: [options] [seed] [split lo] [split hi] then the client's byte stream
// (`split` bytes) followed by the server's. The seed drives how the two streams are cut into
// chunks and interleaved, with occasional gaps (bytes never captured) and clock jumps, the way
// captured syscalls arrive. Seeds in corpus/ are real exchanges from the test fixtures.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/http/decoder.h"

namespace {

using namespace wirespan::decoders;

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override { ++count; (void)span; }
  size_t count = 0;
};

struct Rng {
  uint64_t s;
  uint32_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return static_cast<uint32_t>(s);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t opts = data[0];
  Rng rng{0x9e3779b97f4a7c15ull ^ (uint64_t{data[1]} << 32 | size)};
  size_t split = data[2] | size_t{data[3]} << 8;
  data += 4;
  size -= 4;
  if (split > size) split = size;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::string_view client = bytes.substr(0, split), server = bytes.substr(split);

  const Role role = (opts & 1) ? Role::kServer : Role::kClient;
  DecoderOptions options;
  if (opts & 2) options.max_frame_bytes = 256;
  if (opts & 4) options.max_pending_frames = 2;
  if (opts & 8) options.request_timeout_ns = 1'000'000;
  DecoderStats stats;
  auto decoder = http::CreateDecoder(role, options, &stats);
  ConnectionInfo conn;
  conn.role = role;
  conn.local_address = "127.0.0.1";
  conn.local_port = 8080;
  conn.remote_address = "::1";
  conn.remote_port = 40000;
  NullSink sink;

  // Stream index 0 carries the client's bytes, 1 the server's.
  DataStream streams[2];
  const std::string_view src[2] = {client, server};
  size_t offset[2] = {0, 0};
  uint64_t pos[2] = {0, 0};
  const Direction dir_of[2] = {role == Role::kServer ? Direction::kIngress : Direction::kEgress,
                               role == Role::kServer ? Direction::kEgress : Direction::kIngress};
  uint64_t now = 1'000'000'000;
  while (offset[0] < src[0].size() || offset[1] < src[1].size()) {
    const uint32_t r = rng.Next();
    int side = r & 1;
    if (offset[side] >= src[side].size()) side ^= 1;
    const size_t left = src[side].size() - offset[side];
    const size_t max_chunk = (r >> 1) % 4 == 0 ? 1 : (r >> 1) % 4 == 1 ? 16 : 512;
    const size_t n = 1 + (r >> 3) % std::min(left, max_chunk);
    const uint64_t gap = (r >> 12) % 32 == 0 ? (r >> 17) % 200 : 0;
    const ChunkMeta meta{now, now + 50, 7, static_cast<uint32_t>(pos[side])};
    streams[side].Add(pos[side], src[side].substr(offset[side], n), n + gap, meta, now);
    offset[side] += n;
    pos[side] += n + gap;
    decoder->OnData(dir_of[side], streams[side]);
    if ((r >> 25) % 4 == 0) decoder->Emit(conn, sink, now, false);
    now += uint64_t{(r >> 27)} * 100'000;
  }
  for (int side = 0; side < 2; ++side) {
    streams[side].FlushHoles();
    decoder->OnData(dir_of[side], streams[side]);
  }
  decoder->Emit(conn, sink, now, true);
  return 0;
}
