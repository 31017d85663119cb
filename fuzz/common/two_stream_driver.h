// The input format and feeding loop shared by fuzz targets that take one connection as two byte
// streams (http, postgres).
//
// Input layout: [options] [seed] [split lo] [split hi] then the client's byte stream (`split`
// bytes) followed by the server's. The seed drives how the two streams are cut into chunks and
// interleaved, with occasional gaps (bytes never captured) and clock jumps, the way captured
// syscalls arrive; Emit runs every few chunks and once more after close.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "decoders/common/connection_decoder.h"
#include "decoders/common/data_stream.h"

namespace wirespan::fuzz {

struct TwoStreamInput {
  uint8_t options = 0;
  uint64_t seed = 0;
  std::string_view client;
  std::string_view server;
};

inline std::optional<TwoStreamInput> SplitTwoStreams(const uint8_t* data, size_t size) {
  if (size < 4) return std::nullopt;
  TwoStreamInput in;
  in.options = data[0];
  in.seed = 0x9e3779b97f4a7c15ull ^ (uint64_t{data[1]} << 32 | size);
  size_t split = data[2] | size_t{data[3]} << 8;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 4), size - 4);
  split = std::min(split, bytes.size());
  in.client = bytes.substr(0, split);
  in.server = bytes.substr(split);
  return in;
}

inline void DriveTwoStreams(const TwoStreamInput& in, decoders::Role role,
                            decoders::ConnectionDecoder& decoder,
                            const decoders::ConnectionInfo& conn, model::SpanSink& sink) {
  using decoders::Direction;
  uint64_t rng = in.seed;
  auto next = [&rng] {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return static_cast<uint32_t>(rng);
  };
  // Stream index 0 carries the client's bytes, 1 the server's.
  decoders::DataStream streams[2];
  const std::string_view src[2] = {in.client, in.server};
  size_t offset[2] = {0, 0};
  uint64_t pos[2] = {0, 0};
  const bool server = role == decoders::Role::kServer;
  const Direction dir_of[2] = {server ? Direction::kIngress : Direction::kEgress,
                               server ? Direction::kEgress : Direction::kIngress};
  uint64_t now = 1'000'000'000;
  while (offset[0] < src[0].size() || offset[1] < src[1].size()) {
    const uint32_t r = next();
    int side = r & 1;
    if (offset[side] >= src[side].size()) side ^= 1;
    const size_t left = src[side].size() - offset[side];
    const size_t max_chunk = (r >> 1) % 4 == 0 ? 1 : (r >> 1) % 4 == 1 ? 16 : 512;
    const size_t n = 1 + (r >> 3) % std::min(left, max_chunk);
    const uint64_t gap = (r >> 12) % 32 == 0 ? (r >> 17) % 200 : 0;
    const decoders::ChunkMeta meta{now, now + 50, 7, static_cast<uint32_t>(pos[side])};
    streams[side].Add(pos[side], src[side].substr(offset[side], n), n + gap, meta, now);
    offset[side] += n;
    pos[side] += n + gap;
    decoder.OnData(dir_of[side], streams[side]);
    if ((r >> 25) % 4 == 0) decoder.Emit(conn, sink, now, false);
    now += uint64_t{(r >> 27)} * 100'000;
  }
  for (int side = 0; side < 2; ++side) {
    streams[side].FlushHoles();
    decoder.OnData(dir_of[side], streams[side]);
  }
  decoder.Emit(conn, sink, now, true);
}

}  // namespace wirespan::fuzz
