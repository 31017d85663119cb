#include "decoders/amqp/parse.h"

#include <algorithm>

#include "decoders/amqp/spec.h"

namespace wirespan::decoders::amqp {
namespace {

uint16_t Be16(std::string_view b, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(b[at]) << 8) |
                               static_cast<uint8_t>(b[at + 1]));
}
uint32_t Be32(std::string_view b, size_t at) {
  return (uint32_t{static_cast<uint8_t>(b[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(b[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(b[at + 2])} << 8) | static_cast<uint8_t>(b[at + 3]);
}
bool KnownType(uint8_t t) { return t == 1 || t == 2 || t == 3 || t == 8; }

}  // namespace

uint64_t FrameParser::FrameLimit(bool body) const {
  // frame-max counts the whole frame (header and end octet); 0 means "no limit" on the wire, so
  // our own cap applies. Whole-frame parses are also held to max_frame_bytes (they are buffered).
  uint64_t limit = frame_max_ >= 8 ? frame_max_ - 8 : max_frame_bytes_;
  if (!body) limit = std::min<uint64_t>(limit, max_frame_bytes_ - 8);
  return limit;
}

void FrameParser::Reset() {
  state_ = State::kFrameHeader;
  body_remaining_ = 0;
  body_target_ = nullptr;
  skip_remaining_ = 0;
  resume_channel_ = -1;
  pending_.clear();
}

uint64_t FrameParser::ContentWireBytes(uint64_t body_bytes) const {
  if (frame_max_ <= 8) return 0;
  const uint64_t per_frame = frame_max_ - 8;
  const uint64_t frames = (body_bytes + per_frame - 1) / per_frame;
  return body_bytes + 8 * frames;
}

bool FrameParser::StartSkip(uint16_t channel, uint64_t wire_bytes) {
  auto it = pending_.find(channel);
  if (it == pending_.end() || !it->second.header_seen || wire_bytes == 0) return false;
  body_target_ = &it->second;
  body_channel_ = channel;
  body_target_->frame.content->hash_valid = false;
  skip_remaining_ = wire_bytes;
  skip_last_known_ = false;
  state_ = State::kContentSkip;
  return true;
}

ParseState FrameParser::ContinueSkip(DataStream& stream, Frame* frame, bool progressed) {
  while (skip_remaining_ > 0) {
    const std::string_view head = stream.Head();
    if (!head.empty()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(head.size(), skip_remaining_));
      skip_last_known_ = true;
      skip_last_byte_ = static_cast<uint8_t>(head[n - 1]);
      stream.Consume(n);
      skip_remaining_ -= n;
      progressed = true;
      continue;
    }
    const uint64_t gap = stream.GapAtHead();
    if (gap == 0) return progressed ? ParseState::kIgnored : ParseState::kNeedsMoreData;
    const uint64_t n = std::min(gap, skip_remaining_);
    stream.ConsumeGap(n);
    if (stats_) stats_->gap_bytes_skipped += n;
    skip_remaining_ -= n;
    skip_last_known_ = false;
    progressed = true;
  }
  state_ = State::kFrameHeader;
  resume_channel_ = -1;
  PendingContent* target = body_target_;
  body_target_ = nullptr;
  if (skip_last_known_ && skip_last_byte_ != kFrameEnd) {
    pending_.erase(body_channel_);  // the frames were not split as assumed
    return ParseState::kInvalid;
  }
  Content& c = *target->frame.content;
  c.body_received = c.body_size;
  c.complete = true;
  *frame = std::move(target->frame);
  frame->last = stream.last_consumed_meta();
  pending_.erase(body_channel_);
  return ParseState::kSuccess;
}

ParseState FrameParser::ParseFrame(DataStream& stream, Frame* frame) {
  if (state_ == State::kContentSkip) return ContinueSkip(stream, frame, false);
  if (state_ != State::kFrameHeader) return ContinueBody(stream, frame, false);

  const std::string_view head = stream.Head();
  if (head.empty()) {
    // A gap where the next body frame of an unfinished content should start: step over the rest
    // of the content by its size on the wire. Anywhere else the loop resyncs after the gap.
    if (resume_channel_ >= 0) {
      auto it = pending_.find(static_cast<uint16_t>(resume_channel_));
      if (it != pending_.end() && it->second.header_seen) {
        const Content& c = *it->second.frame.content;
        if (StartSkip(it->first, ContentWireBytes(c.body_size - c.body_received))) {
          return ContinueSkip(stream, frame, false);
        }
      }
    }
    return ParseState::kNeedsMoreData;
  }
  resume_channel_ = -1;
  const uint8_t type = static_cast<uint8_t>(head[0]);

  if (type == 'A') {  // protocol header "AMQP" + 4 version octets
    const size_t n = std::min<size_t>(head.size(), 4);
    if (head.substr(0, n) != std::string_view("AMQP").substr(0, n)) return ParseState::kInvalid;
    if (head.size() < 8) return ParseState::kNeedsMoreData;
    frame->kind = Frame::Kind::kProtocolHeader;
    for (int i = 0; i < 4; ++i) frame->protocol_version[i] = static_cast<uint8_t>(head[4 + i]);
    frame->first = stream.MetaAt(stream.head_pos());
    stream.Consume(8);
    frame->last = frame->method_last = stream.last_consumed_meta();
    pending_.clear();  // a new connection preamble
    return ParseState::kSuccess;
  }
  if (!KnownType(type)) return ParseState::kInvalid;
  if (head.size() < kFrameHeaderSize) return ParseState::kNeedsMoreData;
  const uint16_t channel = Be16(head, 1);
  const uint32_t size = Be32(head, 3);
  const bool body = type == static_cast<uint8_t>(FrameType::kBody);
  if (size > FrameLimit(body)) return ParseState::kInvalid;

  if (body) {
    auto it = pending_.find(channel);
    body_target_ = nullptr;
    if (it != pending_.end() && it->second.header_seen) {
      Content& c = *it->second.frame.content;
      if (c.body_received + size > c.body_size) {
        CountError();  // more body than the content header declared
        pending_.erase(it);
      } else {
        body_target_ = &it->second;
      }
    } else if (it != pending_.end()) {
      CountError();  // body before the content header
      pending_.erase(it);
    }
    // Otherwise an orphan (e.g. picked up mid-message): counted through and ignored.
    body_channel_ = channel;
    body_remaining_ = size;
    state_ = State::kBodyPayload;
    stream.Consume(kFrameHeaderSize);
    return ContinueBody(stream, frame, true);
  }

  const uint64_t total = kFrameHeaderSize + uint64_t{size} + 1;
  if (head.size() < total) return ParseState::kNeedsMoreData;
  if (static_cast<uint8_t>(head[total - 1]) != kFrameEnd) return ParseState::kInvalid;
  const std::string_view payload = head.substr(kFrameHeaderSize, size);
  const ChunkMeta first = stream.MetaAt(stream.head_pos());

  switch (static_cast<FrameType>(type)) {
    case FrameType::kHeartbeat:
      stream.Consume(total);
      return ParseState::kIgnored;

    case FrameType::kMethod: {
      Method method;
      const bool ok = DecodeMethod(payload, &method, limits_);
      stream.Consume(total);
      if (!ok) {
        CountError();  // well framed, malformed arguments: keep framing, drop the method
        return ParseState::kIgnored;
      }
      if (auto it = pending_.find(channel); it != pending_.end()) {
        CountError();  // the previous content on this channel never completed
        pending_.erase(it);
      }
      if (method.spec != nullptr && method.spec->content) {
        if (pending_.size() >= kMaxPendingChannels) {
          if (stats_) ++stats_->dropped_frames;
          return ParseState::kIgnored;
        }
        PendingContent& p = pending_[channel];
        p.frame.kind = Frame::Kind::kMethod;
        p.frame.channel = channel;
        p.frame.method = std::move(method);
        p.frame.first = first;
        p.frame.method_last = stream.last_consumed_meta();
        p.frame.content.emplace();
        return ParseState::kIgnored;
      }
      frame->kind = Frame::Kind::kMethod;
      frame->channel = channel;
      frame->method = std::move(method);
      frame->first = first;
      frame->last = frame->method_last = stream.last_consumed_meta();
      return ParseState::kSuccess;
    }

    case FrameType::kHeader: {
      auto it = pending_.find(channel);
      if (it == pending_.end()) {
        stream.Consume(total);  // orphan (picked up mid-message)
        return ParseState::kIgnored;
      }
      PendingContent& p = it->second;
      Content& content = *p.frame.content;
      const bool ok = !p.header_seen && DecodeContentHeader(payload, &content, limits_);
      stream.Consume(total);
      if (!ok) {
        CountError();
        pending_.erase(it);
        return ParseState::kIgnored;
      }
      p.header_seen = true;
      content.body_hash = kFnvOffset;
      resume_channel_ = channel;
      if (content.body_size == 0) {
        content.complete = true;
        *frame = std::move(p.frame);
        frame->last = stream.last_consumed_meta();
        pending_.erase(it);
        return ParseState::kSuccess;
      }
      return ParseState::kIgnored;
    }

    case FrameType::kBody:
      break;
  }
  return ParseState::kInvalid;
}

ParseState FrameParser::ContinueBody(DataStream& stream, Frame* frame, bool progressed) {
  while (state_ == State::kBodyPayload) {
    if (body_remaining_ == 0) {
      state_ = State::kBodyEnd;
      break;
    }
    const std::string_view head = stream.Head();
    if (!head.empty()) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(head.size(), body_remaining_));
      if (body_target_ != nullptr) {
        Content& c = *body_target_->frame.content;
        c.body_hash = Fnv1a(c.body_hash, head.substr(0, n));
        c.body_received += n;
      }
      stream.Consume(n);
      body_remaining_ -= n;
      progressed = true;
      continue;
    }
    const uint64_t gap = stream.GapAtHead();
    if (gap == 0) return progressed ? ParseState::kIgnored : ParseState::kNeedsMoreData;
    if (body_target_ != nullptr && gap > body_remaining_ + 1) {
      // The gap runs past this frame's end: skip the rest of the content by its wire size.
      const Content& c = *body_target_->frame.content;
      const uint64_t after = c.body_size - c.body_received - body_remaining_;
      const uint64_t wire = after == 0 ? 0 : ContentWireBytes(after);
      if (after == 0 || wire > 0) {
        StartSkip(body_channel_, body_remaining_ + 1 + wire);
        return ContinueSkip(stream, frame, true);
      }
    }
    const uint64_t n = std::min(gap, body_remaining_);
    if (body_target_ != nullptr) {
      Content& c = *body_target_->frame.content;
      c.hash_valid = false;
      c.body_received += n;
    }
    stream.ConsumeGap(n);
    if (stats_) stats_->gap_bytes_skipped += n;
    body_remaining_ -= n;
    progressed = true;
  }

  // The frame-end octet.
  const std::string_view head = stream.Head();
  if (!head.empty()) {
    if (static_cast<uint8_t>(head[0]) != kFrameEnd) {
      state_ = State::kFrameHeader;
      if (body_target_ != nullptr) pending_.erase(body_channel_);
      body_target_ = nullptr;
      return ParseState::kInvalid;
    }
    stream.Consume(1);
  } else if (stream.GapAtHead() > 0) {
    stream.ConsumeGap(1);  // lost with the body: nothing to check
    if (stats_) stats_->gap_bytes_skipped += 1;
  } else {
    return progressed ? ParseState::kIgnored : ParseState::kNeedsMoreData;
  }
  state_ = State::kFrameHeader;
  PendingContent* target = body_target_;
  body_target_ = nullptr;
  if (target != nullptr &&
      target->frame.content->body_received >= target->frame.content->body_size) {
    target->frame.content->complete = true;
    *frame = std::move(target->frame);
    frame->last = stream.last_consumed_meta();
    pending_.erase(body_channel_);
    return ParseState::kSuccess;
  }
  resume_channel_ = target != nullptr ? body_channel_ : -1;
  return ParseState::kIgnored;
}

size_t FrameParser::FindFrameBoundary(std::string_view bytes) const {
  for (size_t off = 1; off < bytes.size(); ++off) {
    const uint8_t type = static_cast<uint8_t>(bytes[off]);
    const size_t avail = bytes.size() - off;
    if (type == 'A') {
      const size_t n = std::min<size_t>(avail, 4);
      if (bytes.substr(off, n) == std::string_view("AMQP").substr(0, n) && n == 4) return off;
      continue;
    }
    if (type == 8) {  // heartbeat: exactly 08 0000 00000000 CE
      if (avail >= 8 && bytes.substr(off, 8) == std::string_view("\x08\0\0\0\0\0\0\xCE", 8)) {
        return off;
      }
      continue;
    }
    if (type != 1 && type != 2) continue;      // body frames cannot be recognised
    if (avail < kMaxBoundaryLength) continue;  // the loop keeps this tail for the next read
    const uint32_t size = Be32(bytes, off + 3);
    if (size > FrameLimit(false)) continue;
    const uint64_t end = off + kFrameHeaderSize + uint64_t{size};
    const bool end_known = end < bytes.size();
    if (end_known && static_cast<uint8_t>(bytes[end]) != kFrameEnd) continue;
    const uint16_t a = Be16(bytes, off + 7);
    const uint16_t b = Be16(bytes, off + 9);
    if (type == 1) {
      if (size >= 4 && FindMethod(a, b) != nullptr) return off;
    } else if (size >= 14 && a == kBasic && b == 0) {
      return off;  // a basic content header: class 60, weight 0
    }
  }
  return std::string_view::npos;
}

}  // namespace wirespan::decoders::amqp
