// The per-direction AMQP 0-9-1 frame parser.
//
// Frames are `type(1) channel(2) size(4) payload(size) 0xCE`. Method, content-header and heartbeat
// frames are parsed whole (they are small and bounded by frame-max); body frames are streamed:
// their bytes are hashed and counted as they pass and never buffered, and gaps inside them are
// stepped over. Content is reassembled per channel (channels interleave on one connection), and a
// content-carrying method (publish, deliver, get-ok, return) is reported once its last body byte
// has passed, so one Frame = one method with its whole content.
#pragma once

#include <cstdint>
#include <map>
#include <string_view>

#include "decoders/amqp/types.h"
#include "decoders/amqp/wire.h"
#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"

namespace wirespan::decoders::amqp {

class FrameParser {
 public:
  // `stats` (may be null) receives payload errors inside well-framed frames and gap bytes
  // stepped over in bodies; frame-level errors are counted by the shared loop.
  explicit FrameParser(DecoderStats* stats = nullptr, size_t max_frame_bytes = 1 << 20)
      : stats_(stats), max_frame_bytes_(max_frame_bytes) {}

  ParseState ParseFrame(DataStream& stream, Frame* frame);
  // Offset >= 1 of the first plausible frame start (protocol header, heartbeat, a method frame of
  // a known class/method, or a basic content header), checking the frame-end octet when it is in
  // `bytes`; npos when none.
  size_t FindFrameBoundary(std::string_view bytes) const;
  void Reset();
  // A frame header plus class and method ids.
  static constexpr size_t kMaxBoundaryLength = 11;

  // The negotiated frame-max (connection.tune-ok); 0 = unknown.
  void set_frame_max(uint32_t frame_max) { frame_max_ = frame_max; }
  uint32_t frame_max() const { return frame_max_; }
  // Channels with content being assembled.
  size_t pending_contents() const { return pending_.size(); }

  static constexpr size_t kMaxPendingChannels = 256;

 private:
  // kContentSkip: a gap swallowed frame boundaries inside a content; the rest of the content is
  // stepped over by its size on the wire (bodies are split into frame-max - 8 byte frames).
  enum class State : uint8_t { kFrameHeader, kBodyPayload, kBodyEnd, kContentSkip };
  struct PendingContent {
    Frame frame;
    bool header_seen = false;
  };

  ParseState ContinueBody(DataStream& stream, Frame* frame, bool progressed);
  ParseState ContinueSkip(DataStream& stream, Frame* frame, bool progressed);
  // Wire bytes of `body_bytes` more body in full frames; 0 when frame-max is unknown.
  uint64_t ContentWireBytes(uint64_t body_bytes) const;
  // Starts skipping the rest of the channel's content when a gap covers frame boundaries.
  bool StartSkip(uint16_t channel, uint64_t wire_bytes);
  uint64_t FrameLimit(bool body) const;
  void CountError() {
    if (stats_) ++stats_->parse_errors;
  }

  DecoderStats* stats_;
  size_t max_frame_bytes_;
  uint32_t frame_max_ = 0;
  WireLimits limits_;
  State state_ = State::kFrameHeader;
  uint16_t body_channel_ = 0;
  uint64_t body_remaining_ = 0;
  PendingContent* body_target_ = nullptr;  // nullptr: an orphan body frame (counted, ignored)
  uint64_t skip_remaining_ = 0;            // kContentSkip: wire bytes left
  bool skip_last_known_ = false;           // the last byte skipped was seen (and must be 0xCE)
  uint8_t skip_last_byte_ = 0;
  int32_t resume_channel_ = -1;  // channel whose content continues in the next body frame
  std::map<uint16_t, PendingContent> pending_;
};

}  // namespace wirespan::decoders::amqp
