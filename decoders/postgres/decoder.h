// PostgreSQL frontend/backend protocol 3.0 decoder: detection and the per-connection decoder.
#pragma once

#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "decoders/common/connection_decoder.h"
#include "decoders/postgres/matcher.h"
#include "decoders/postgres/parse.h"
#include "decoders/registry.h"

namespace wirespan::decoders::postgres {

ProtocolSpec Spec();

// Detection from a connection's first bytes in one direction. At the stream start a startup-phase
// message (StartupMessage, SSLRequest, GSSENCRequest, CancelRequest) is certain. Mid-stream
// (connections open before the agent started) a run of well-formed messages of one side is
// required: confidence grows with the number of messages and is highest when they end exactly
// at the end of the bytes or with a Sync/ReadyForQuery.
Detection Detect(std::string_view head, bool stream_start);

class PostgresDecoder : public ConnectionDecoder {
 public:
  PostgresDecoder(Role role, const DecoderOptions& options, DecoderStats* stats);

  Protocol protocol() const override { return Protocol::kPostgres; }
  void OnData(Direction dir, DataStream& stream) override;
  void Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
            bool closed) override;

  const Matcher& matcher() const { return matcher_; }
  // Records instead of spans (tests, benchmarks).
  void EmitRecords(uint64_t now_ns, bool closed, std::vector<Record>* out);

 private:
  bool IsFrontend(Direction dir) const;

  Role role_;
  DecoderOptions options_;
  DecoderStats own_stats_;
  DecoderStats* stats_;
  Parser frontend_;
  Parser backend_;
  std::deque<Message> frontend_frames_;
  std::deque<Message> backend_frames_;
  Matcher matcher_;
  std::vector<Record> records_;
};

std::unique_ptr<ConnectionDecoder> Create(Role role, const DecoderOptions& options,
                                          DecoderStats* stats);

}  // namespace wirespan::decoders::postgres
