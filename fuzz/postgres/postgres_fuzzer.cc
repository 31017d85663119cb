// libFuzzer target: one PostgreSQL connection through the real ConnectionDecoder, plus the SQL
// lexer/sanitizer on the client's bytes.
//
// Input layout (shared with the other decoders' fuzzers): [options] [seed] [split lo] [split hi]
// then the client's byte stream (`split` bytes) followed by the server's. The seed drives how the
// two streams are cut into chunks and interleaved, with occasional gaps (bytes never captured)
// and clock jumps, the way captured syscalls arrive. Seeds in corpus/ are the real connections of
// tests/decoders/postgres/fixtures (make_corpus.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/postgres/decoder.h"
#include "decoders/postgres/sql.h"
#include "fuzz/common/two_stream_driver.h"

namespace {

using namespace wirespan::decoders;

class CheckingSink : public wirespan::model::SpanSink {
 public:
  explicit CheckingSink(size_t max_text) : max_text_(max_text) {}
  void OnSpan(wirespan::model::Span span) override {
    // Invariants every span keeps, whatever the input.
    if (span.end_time_unix_nano < span.start_time_unix_nano) std::abort();
    if (const std::string* text = span.attributes.FindString("db.query.text")) {
      if (text->size() > max_text_) std::abort();
    }
    ++count;
  }
  size_t count = 0;

 private:
  size_t max_text_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto input = wirespan::fuzz::SplitTwoStreams(data, size);
  if (!input) return 0;
  const uint8_t opts = input->options;
  const std::string_view client = input->client;  // the SQL helpers below get it raw

  const Role role = (opts & 1) ? Role::kServer : Role::kClient;
  DecoderOptions options;
  if (opts & 2) options.max_frame_bytes = 256;
  if (opts & 4) options.max_pending_frames = 2;
  if (opts & 8) options.request_timeout_ns = 1'000'000;
  if (opts & 16) options.max_query_text_bytes = 40;
  if (opts & 32) options.sanitize_queries = false;

  if (opts & 64) {
    // The SQL functions on raw bytes: must lex everything and never overrun.
    (void)postgres::Sanitize(client);
    (void)postgres::SplitStatements(client);
    (void)postgres::Summarize(client);
    bool truncated = false;
    const std::string cut = postgres::TruncateUtf8(std::string(client), 64, false, &truncated);
    if (cut.size() > 64) std::abort();
    (void)postgres::Detect(client, (opts & 128) != 0);
  }

  DecoderStats stats;
  auto decoder = postgres::Create(role, options, &stats);
  ConnectionInfo conn;
  conn.role = role;
  conn.local_address = "127.0.0.1";
  conn.local_port = role == Role::kServer ? 5432 : 40000;
  conn.remote_address = "127.0.0.1";
  conn.remote_port = role == Role::kServer ? 40000 : 5432;
  CheckingSink sink(options.max_query_text_bytes);

  wirespan::fuzz::DriveTwoStreams(*input, role, *decoder, conn, sink);
  return 0;
}
