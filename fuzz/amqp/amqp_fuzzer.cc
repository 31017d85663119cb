// libFuzzer target for the AMQP 0-9-1 decoder: the whole connection decoder (parser, per-channel
// content reassembly, stitcher, spans) over two attacker-controlled byte streams with gaps, plus
// the payload decoders and detection directly.
//
// Input: byte 0 = options (bits 0-1 role, bits 2-7 chunk size), then segments of
//   [flags: bit 0 = broker->client, bit 1 = gap] [length: 2 bytes big-endian] [bytes, unless gap].
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "decoders/amqp/decoder.h"
#include "decoders/amqp/wire.h"
#include "decoders/common/data_stream.h"

namespace {

using namespace wirespan;            // NOLINT
using namespace wirespan::decoders;  // NOLINT

class NullSink : public model::SpanSink {
 public:
  void OnSpan(model::Span span) override {
    // Touch what exporters read, so sanitizers see it.
    sum_ += span.name.size() + span.attributes.size() + span.status_message.size();
  }
  size_t sum_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);

  // Payload decoders straight on the input.
  {
    amqp::Method m;
    amqp::DecodeMethod(in, &m);
    amqp::Content c;
    amqp::DecodeContentHeader(in, &c);
    amqp::Reader r(in);
    amqp::FieldValue table;
    size_t budget = 1024;
    amqp::ReadFieldTable(r, &table, amqp::WireLimits{}, 0, &budget);
    amqp::Detect(in, true);
    amqp::Detect(in.substr(1), false);
  }

  const uint8_t opts = data[0];
  const Role role = static_cast<Role>((opts & 3) % 3);
  const size_t chunk = 1 + (opts >> 2) * 7;
  DecoderOptions options;
  options.max_pending_frames = 64;
  options.max_frame_bytes = 1 << 16;
  options.request_timeout_ns = 1'000'000'000;
  DecoderStats stats;
  auto decoder = amqp::Create(role, options, &stats);
  ConnectionInfo conn;
  conn.role = role;
  conn.remote_address = "127.0.0.1";
  conn.remote_port = 5672;
  DataStreamLimits limits;
  limits.max_contiguous_bytes = 1 << 16;
  DataStream streams[2] = {DataStream(limits), DataStream(limits)};
  uint64_t pos[2] = {0, 0};
  uint64_t now = 1'000'000;
  NullSink sink;
  const Direction client = role == Role::kServer ? Direction::kIngress : Direction::kEgress;

  size_t off = 1;
  while (off + 3 <= size) {
    const uint8_t flags = data[off];
    const size_t len = (size_t{data[off + 1]} << 8) | data[off + 2];
    off += 3;
    const bool from_server = flags & 1;
    const bool gap = flags & 2;
    const Direction dir =
        from_server == (client == Direction::kEgress) ? Direction::kIngress : Direction::kEgress;
    DataStream& s = streams[static_cast<int>(dir)];
    uint64_t& p = pos[static_cast<int>(dir)];
    if (gap) {
      s.Add(p, {}, len + 1, ChunkMeta{now, now + 10, 1, 0}, now);
      p += len + 1;
    } else {
      const size_t n = std::min(len, size - off);
      for (size_t i = 0; i < n; i += chunk) {
        std::string_view piece = in.substr(off + i, std::min(chunk, n - i));
        s.Add(p, piece, piece.size(), ChunkMeta{now, now + 10, 1, 0}, now);
        p += piece.size();
        decoder->OnData(dir, s);
      }
      off += n;
    }
    now += 100'000'000;
    decoder->OnData(dir, s);
    decoder->Emit(conn, sink, now, false);
  }
  for (int d = 0; d < 2; ++d) {
    streams[d].FlushHoles();
    decoder->OnData(static_cast<Direction>(d), streams[d]);
  }
  decoder->Emit(conn, sink, now, true);
  return 0;
}
