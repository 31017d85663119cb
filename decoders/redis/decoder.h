// Redis (RESP2/RESP3) protocol decoder: detection and the per-connection decoder.
#pragma once

#include <deque>
#include <memory>
#include <string_view>
#include <vector>

#include "decoders/common/connection_decoder.h"
#include "decoders/redis/matcher.h"
#include "decoders/redis/parse.h"
#include "decoders/registry.h"

namespace wirespan::decoders::redis {

ProtocolSpec Spec();

Detection Detect(std::string_view head, bool stream_start);

class RedisDecoder final : public ConnectionDecoder {
 public:
  RedisDecoder(Role role, const DecoderOptions& options, DecoderStats* stats);

  Protocol protocol() const override { return Protocol::kRedis; }
  void OnData(Direction dir, DataStream& stream) override;
  void Emit(const ConnectionInfo& conn, model::SpanSink& sink, uint64_t now_ns,
            bool closed) override;

  // For tests: frames parsed and not yet matched.
  size_t pending_requests() const { return requests_.size(); }
  size_t pending_responses() const { return responses_.size(); }
  const Matcher& matcher() const { return matcher_; }

 private:
  // Runs RespParser for the shared loop and notices its resyncs (the loop calls Reset() after
  // every kInvalid and gap): the order between commands and replies is lost there.
  class LoopParser {
   public:
    LoopParser(RedisDecoder* owner, MessageKind kind)
        : owner_(owner),
          parser_(kind, owner->stats_, std::min(kMaxLineBytes, owner->options_.max_frame_bytes)) {}
    ParseState ParseFrame(DataStream& stream, Message* frame) {
      return parser_.ParseFrame(stream, frame);
    }
    size_t FindFrameBoundary(std::string_view bytes) const {
      return parser_.FindFrameBoundary(bytes);
    }
    void Reset() {
      parser_.Reset();
      owner_->OnResync();
    }
    static constexpr size_t kMaxBoundaryLength = RespParser::kMaxBoundaryLength;

   private:
    RedisDecoder* owner_;
    RespParser parser_;
  };

  void OnResync();
  Direction request_direction() const {
    return role_ == Role::kServer ? Direction::kIngress : Direction::kEgress;
  }

  Role role_;
  DecoderOptions options_;
  DecoderStats own_stats_;
  DecoderStats* stats_;
  LoopParser request_parser_;
  LoopParser response_parser_;
  std::deque<Message> requests_;
  std::deque<Message> responses_;
  Matcher matcher_;
  std::vector<Record> records_;  // matched, waiting for Emit
};

}  // namespace wirespan::decoders::redis
