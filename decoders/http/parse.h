// Stateful HTTP/1.x parser for one direction of a connection (requests or responses).
//
// Driven by the shared loop in decoders/common/frame_loop.h. Start line and headers are parsed
// once the whole header block is readable (at most kMaxHeaderBlockBytes, or
// DecoderOptions::max_frame_bytes if smaller); bodies are never buffered: they are counted and
// consumed as they pass, across calls, and gaps inside them are stepped over. A frame is
// returned when the whole message (headers and body) has been consumed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"
#include "decoders/http/types.h"

namespace wirespan::decoders::http {

class Parser {
 public:
  // Longest signature FindFrameBoundary looks for ("MKCALENDAR " is 11 bytes, "HTTP/1." 7).
  static constexpr size_t kMaxBoundaryLength = 12;

  // `state` is shared with the other direction's parser (see ConnectionState); `stats` receives
  // the gap counters. Both must outlive the parser.
  Parser(MessageKind kind, const DecoderOptions& options, ConnectionState* state,
         DecoderStats* stats);

  ParseState ParseFrame(DataStream& stream, Message* frame);
  size_t FindFrameBoundary(std::string_view bytes) const;
  void Reset();

  // The connection closed: a response delimited by close is complete. Returns true and fills
  // `frame` if one was in progress.
  bool FinishOnClose(Message* frame);

  MessageKind kind() const { return kind_; }
  bool in_message() const { return phase_ != Phase::kHeaders; }

 private:
  enum class Phase : uint8_t {
    kHeaders,     // waiting for a whole start line + header block
    kBody,        // Content-Length body: `remaining_` bytes left
    kChunkSize,   // chunk-size line
    kChunkData,   // chunk data: `remaining_` bytes left
    kChunkCrlf,   // CRLF after chunk data
    kTrailers,    // trailer section after the last chunk
    kUntilClose,  // response body delimited by connection close
  };

  ParseState ParseHeaders(DataStream& stream);
  // Consumes body bytes (and gaps) of the current message; returns true when it is complete.
  // Sets *invalid on a framing error.
  bool ParseBody(DataStream& stream, bool* invalid);
  // Counts and consumes up to `max` body bytes or gap bytes at the head; returns what it took.
  uint64_t TakeBody(DataStream& stream, uint64_t max);
  ParseState Finish(Message* frame);
  void Clear();  // forget the current message (Reset also notes that sync was lost)
  size_t HeaderLimit() const;

  MessageKind kind_;
  const DecoderOptions& options_;
  ConnectionState* state_;
  DecoderStats* stats_;

  Phase phase_ = Phase::kHeaders;
  Message msg_;
  uint64_t remaining_ = 0;
  // Incremental scan of the header block (or trailers) so bytes arriving one at a time are not
  // rescanned: where the block starts in the stream, and offsets into it.
  uint64_t scan_start_pos_ = UINT64_MAX;
  size_t line_start_ = 0;
  size_t line_count_ = 0;
  // Set by Reset (a parse error or gap lost bytes): responses may have been lost, so the next
  // response is paired by time rather than by position in the FIFO (see ParseHeaders).
  bool lost_sync_ = false;
};

// Whether `method` is one of the HTTP methods OpenTelemetry knows (else `_OTHER`).
bool IsKnownMethod(std::string_view method);

}  // namespace wirespan::decoders::http

namespace wirespan::decoders::http {

// How far the bytes at `head` look like an HTTP/1.x start line of the given kind.
enum class StartLineCheck : uint8_t {
  kValid,      // a whole, well-formed request line / status line
  kPlausible,  // well-formed so far, the line is not complete yet
  kInvalid,    // not an HTTP/1.x start line
};
// `max_check` bounds the bytes examined (the rest of a long line counts as plausible).
StartLineCheck CheckStartLine(std::string_view head, MessageKind kind,
                              size_t max_check = kMaxHeaderBlockBytes);

// Length of a registered method at the start of `bytes` when followed by a space (0 if none).
size_t KnownMethodPrefix(std::string_view bytes);

}  // namespace wirespan::decoders::http
