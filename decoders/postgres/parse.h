// The per-direction PostgreSQL message parser, driven by decoders/common/frame_loop.h.
//
// Messages are self-delimiting (type byte + big-endian int32 length, or an untyped int32 length +
// code during startup), so the parser streams: it consumes the header, then the payload as it
// arrives, keeping only the prefix the matcher needs (see KeepLimit) and stepping over gaps
// inside payloads. Row data and COPY data are never buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"
#include "decoders/postgres/types.h"

namespace wirespan::decoders::postgres {

struct ParserLimits {
  size_t max_frame_bytes = 1 << 20;  // non-streamed message types larger than this are invalid
  size_t sql_capture_bytes =
      64 << 10;  // SQL kept from Query/Parse (the exported text is cut later)
};

// Shape check of a regular message header: is `tag` a message type this side sends, and is
// `length` (the int32 length field, which counts itself) possible for it?
bool ValidHeader(Side side, char tag, uint32_t length, size_t max_frame_bytes);
// The same check for an untyped startup-phase message (frontend only).
bool ValidUntypedHeader(uint32_t length, uint32_t code);

uint32_t ReadBe32(const char* p);
uint16_t ReadBe16(const char* p);

class Parser {
 public:
  static constexpr size_t kMaxBoundaryLength = 5;

  explicit Parser(Side side, ParserLimits limits = {}, DecoderStats* stats = nullptr)
      : side_(side), limits_(limits), stats_(stats) {}

  ParseState ParseFrame(DataStream& stream, Message* out);
  size_t FindFrameBoundary(std::string_view bytes) const;
  void Reset();

  Side side() const { return side_; }
  bool encrypted() const { return encrypted_; }
  uint64_t messages() const { return messages_; }

 private:
  size_t KeepLimit(const Message& m) const;
  ParseState Finish(DataStream& stream, Message* out);

  Side side_;
  ParserLimits limits_;
  DecoderStats* stats_;
  // Partial message state.
  bool in_message_ = false;
  uint64_t remaining_ = 0;
  size_t keep_ = 0;
  Message current_;
  // Startup-phase state.
  bool after_encryption_request_ = false;  // frontend: the last message was SSL/GSSENC request
  uint32_t last_request_code_ = 0;
  bool encrypted_ = false;  // everything from here on is TLS/GSS: opaque
  uint64_t messages_ = 0;
  bool last_was_encryption_response_ = false;
};

}  // namespace wirespan::decoders::postgres
