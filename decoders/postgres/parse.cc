#include "decoders/postgres/parse.h"

#include <algorithm>

namespace wirespan::decoders::postgres {
namespace {

constexpr uint32_t kStreamedMax = 1u << 30;  // PostgreSQL's own limit on a message

struct Range {
  uint32_t min;
  uint32_t max;  // 0 = max_frame_bytes
};

// Length field bounds (the field counts itself) per message type; {0,0} = not sent by this side.
Range FrontendRange(char tag) {
  switch (tag) {
    case 'Q':
      return {5, kStreamedMax};
    case 'P':
      return {8, kStreamedMax};
    case 'B':
      return {12, kStreamedMax};
    case 'D':
      return {6, 4096};
    case 'E':
      return {9, 4096};
    case 'C':
      return {6, 4096};
    case 'S':
    case 'H':
    case 'c':
    case 'X':
      return {4, 4};
    case 'd':
      return {4, kStreamedMax};
    case 'f':
      return {5, 0};
    case 'p':
      return {5, 0};
    case 'F':
      return {14, kStreamedMax};
    default:
      return {0, 0};
  }
}

Range BackendRange(char tag) {
  switch (tag) {
    case 'R':
      return {8, 0};
    case 'K':
      return {12, 12};
    case 'S':
      return {6, 8192};
    case 'Z':
      return {5, 5};
    case '1':
    case '2':
    case '3':
    case 'n':
    case 'I':
    case 'c':
    case 's':
      return {4, 4};
    case 't':
      return {6, 4 + 2 + 4 * 65535};
    case 'T':
      return {6, 1 << 24};
    case 'D':
      return {6, kStreamedMax};
    case 'C':
      return {5, 4096};
    case 'E':
    case 'N':
      return {5, 0};
    case 'G':
    case 'H':
    case 'W':
      return {7, 4 + 3 + 2 * 65535};
    case 'd':
      return {4, kStreamedMax};
    case 'A':
      return {10, 0};
    case 'V':
      return {8, kStreamedMax};
    case 'v':
      return {12, 0};
    default:
      return {0, 0};
  }
}

bool IsEncryptionAnswer(char c) { return c == 'S' || c == 'N' || c == 'G'; }

}  // namespace

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

uint16_t ReadBe16(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return static_cast<uint16_t>((u[0] << 8) | u[1]);
}

bool ValidHeader(Side side, char tag, uint32_t length, size_t max_frame_bytes) {
  const Range r = side == Side::kFrontend ? FrontendRange(tag) : BackendRange(tag);
  if (r.min == 0) return false;
  uint64_t max = r.max == 0 ? max_frame_bytes : r.max;
  if (r.max != kStreamedMax)
    max = std::min<uint64_t>(max, std::max<size_t>(max_frame_bytes, r.min));
  return length >= r.min && length <= max;
}

bool ValidUntypedHeader(uint32_t length, uint32_t code) {
  switch (code) {
    case kSslRequestCode:
    case kGssEncRequestCode:
      return length == 8;
    case kCancelRequestCode:
      return length == 16;
    default:
      // StartupMessage: protocol 3.x, at least the terminating NUL of the parameter list.
      return (code >> 16) == 3 && length >= 9 && length <= 10000;
  }
}

void Parser::Reset() {
  in_message_ = false;
  remaining_ = 0;
  keep_ = 0;
  current_ = Message{};
  after_encryption_request_ = false;
}

size_t Parser::KeepLimit(const Message& m) const {
  if (m.kind == FrameKind::kStartup) return 10000;
  if (m.kind != FrameKind::kRegular) return 0;
  if (side_ == Side::kFrontend) {
    switch (m.tag) {
      case 'Q':
      case 'P':
        return limits_.sql_capture_bytes;
      case 'B':
      case 'D':
      case 'E':
      case 'C':
        return 512;  // names only; bind values are dropped
      default:
        return 0;  // passwords/SASL ('p'), COPY data, function calls: never kept
    }
  }
  switch (m.tag) {
    case 'C':
      return 256;
    case 'E':
      return 4096;  // fields are parsed for SQLSTATE and severity only
    case 'S':
      return 512;
    case 'Z':
      return 1;
    case 'R':
      return 4;  // authentication type only, never SASL data
    case 'T':
      return 2;
    case 'G':
    case 'H':
    case 'W':
      return 3;
    default:
      return 0;
  }
}

ParseState Parser::Finish(DataStream& stream, Message* out) {
  current_.last = stream.last_consumed_meta();
  *out = std::move(current_);
  current_ = Message{};
  in_message_ = false;
  ++messages_;
  last_was_encryption_response_ = false;
  if (out->kind == FrameKind::kSslRequest || out->kind == FrameKind::kGssEncRequest) {
    after_encryption_request_ = true;
    last_request_code_ = out->code;
  } else {
    after_encryption_request_ = false;
  }
  return ParseState::kSuccess;
}

ParseState Parser::ParseFrame(DataStream& stream, Message* out) {
  if (encrypted_) {
    // TLS or GSSAPI after an accepted request: nothing here is readable. Swallow it.
    const uint64_t before = stream.head_pos();
    stream.Consume(stream.Head().size());
    if (stream.GapAtHead() > 0) stream.ConsumeGap(stream.GapAtHead());
    return stream.head_pos() != before ? ParseState::kIgnored : ParseState::kNeedsMoreData;
  }

  if (!in_message_) {
    std::string_view head = stream.Head();
    if (head.empty()) {
      // A gap at a message boundary: where the next message starts is unknown.
      return stream.GapAtHead() > 0 ? ParseState::kInvalid : ParseState::kNeedsMoreData;
    }
    current_ = Message{};
    current_.stream_pos = stream.head_pos();
    current_.first = stream.MetaAt(stream.head_pos());

    if (side_ == Side::kFrontend && after_encryption_request_) {
      // What follows an SSLRequest/GSSENCRequest tells whether the server accepted it: a TLS
      // record (or GSSAPI token) means encryption; a new startup-phase message means refusal.
      bool encrypted = false;
      if (last_request_code_ == kSslRequestCode) {
        encrypted = static_cast<unsigned char>(head[0]) == 0x16;
      } else if (head[0] != 0) {
        encrypted = true;
      } else {
        if (head.size() < 8) return ParseState::kNeedsMoreData;
        encrypted = !ValidUntypedHeader(ReadBe32(head.data()), ReadBe32(head.data() + 4));
      }
      if (encrypted) {
        encrypted_ = true;
        current_.kind = FrameKind::kEncrypted;
        current_.length = head.size();
        stream.Consume(head.size());
        return Finish(stream, out);
      }
      after_encryption_request_ = false;
    }

    if (side_ == Side::kFrontend && head[0] == 0) {
      // Untyped startup-phase message: int32 length, int32 code.
      if (head.size() < 8) return ParseState::kNeedsMoreData;
      const uint32_t length = ReadBe32(head.data());
      const uint32_t code = ReadBe32(head.data() + 4);
      if (!ValidUntypedHeader(length, code)) return ParseState::kInvalid;
      current_.code = code;
      current_.kind = code == kSslRequestCode      ? FrameKind::kSslRequest
                      : code == kGssEncRequestCode ? FrameKind::kGssEncRequest
                      : code == kCancelRequestCode ? FrameKind::kCancelRequest
                                                   : FrameKind::kStartup;
      current_.length = length - 8;
      stream.Consume(8);
    } else if (side_ == Side::kBackend && IsEncryptionAnswer(head[0]) &&
               (messages_ == 0 || last_was_encryption_response_)) {
      // At the start of a connection 'S'/'G'/'N' may be the one-byte answer to an encryption
      // request; a regular message has a zero high byte of length after its type byte.
      if (head.size() < 2) return ParseState::kNeedsMoreData;
      if (head[1] != 0) {
        current_.kind = FrameKind::kEncryptionResponse;
        current_.tag = head[0];
        stream.Consume(1);
        const char answer = current_.tag;
        ParseState s = Finish(stream, out);
        if (answer == 'S' || answer == 'G') {
          encrypted_ = true;
        } else {
          last_was_encryption_response_ = true;
        }
        return s;
      }
    }

    if (current_.kind == FrameKind::kRegular) {
      if (head.size() < 5) {
        // Reject early what can never become a valid header.
        const Range r = side_ == Side::kFrontend ? FrontendRange(head[0]) : BackendRange(head[0]);
        if (r.min == 0) return ParseState::kInvalid;
        return ParseState::kNeedsMoreData;
      }
      const uint32_t length = ReadBe32(head.data() + 1);
      if (!ValidHeader(side_, head[0], length, limits_.max_frame_bytes)) {
        return ParseState::kInvalid;
      }
      current_.tag = head[0];
      current_.length = length - 4;
      stream.Consume(5);
    }
    in_message_ = true;
    remaining_ = current_.length;
    keep_ = KeepLimit(current_);
    if (keep_ > 0) current_.payload.reserve(std::min<uint64_t>(keep_, remaining_));
  }

  // Payload: keep the prefix the matcher needs, count the rest.
  while (remaining_ > 0) {
    std::string_view head = stream.Head();
    if (head.empty()) {
      const uint64_t gap = stream.GapAtHead();
      if (gap == 0) return ParseState::kNeedsMoreData;
      const uint64_t step = std::min(gap, remaining_);
      stream.ConsumeGap(step);
      remaining_ -= step;
      current_.gap = true;
      current_.payload_cut = true;
      keep_ = current_.payload.size();  // nothing after a hole is trustworthy as text
      if (stats_ != nullptr) stats_->gap_bytes_skipped += step;
      continue;
    }
    const size_t take = static_cast<size_t>(std::min<uint64_t>(head.size(), remaining_));
    if (current_.payload.size() < keep_) {
      const size_t room = keep_ - current_.payload.size();
      current_.payload.append(head.substr(0, std::min(room, take)));
      if (take > room) current_.payload_cut = true;
    } else {
      current_.payload_cut = true;
    }
    stream.Consume(take);
    remaining_ -= take;
  }
  if (current_.payload.size() < current_.length) current_.payload_cut = true;
  return Finish(stream, out);
}

size_t Parser::FindFrameBoundary(std::string_view bytes) const {
  // The first offset >= 1 where a plausible header starts; prefer one whose message is followed
  // by another valid header (or ends exactly at the end of the bytes).
  size_t weak = std::string_view::npos;
  for (size_t i = 1; i + 5 <= bytes.size(); ++i) {
    const uint32_t length = ReadBe32(bytes.data() + i + 1);
    if (!ValidHeader(side_, bytes[i], length, limits_.max_frame_bytes)) continue;
    const uint64_t next = i + 1 + uint64_t{length};
    if (next == bytes.size()) return i;
    if (next + 5 <= bytes.size()) {
      if (ValidHeader(side_, bytes[next], ReadBe32(bytes.data() + next + 1),
                      limits_.max_frame_bytes)) {
        return i;
      }
      continue;  // followed by garbage: not a boundary
    }
    if (weak == std::string_view::npos) weak = i;
  }
  return weak;
}

}  // namespace wirespan::decoders::postgres
