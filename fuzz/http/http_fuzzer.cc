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
#include "fuzz/common/two_stream_driver.h"

namespace {

using namespace wirespan::decoders;

class NullSink : public wirespan::model::SpanSink {
 public:
  void OnSpan(wirespan::model::Span span) override {
    ++count;
    (void)span;
  }
  size_t count = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = wirespan::fuzz::SplitTwoStreams(data, size);
  if (!input) return 0;
  const uint8_t opts = input->options;

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

  wirespan::fuzz::DriveTwoStreams(*input, role, *decoder, conn, sink);
  return 0;
}
