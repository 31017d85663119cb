// Redis RESP2/RESP3 messages as the decoder keeps them: one Message per top-level value (a command
// or a reply), with only a bounded summary of its elements (values are never buffered whole).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "decoders/common/data_stream.h"

namespace wirespan::decoders::redis {

// RESP type bytes (RESP2 and RESP3); kInline is a command sent as a plain text line.
enum class RespType : char {
  kNone = 0,
  kSimpleString = '+',
  kSimpleError = '-',
  kInteger = ':',
  kBlobString = '$',
  kArray = '*',
  kNull = '_',
  kBoolean = '#',
  kDouble = ',',
  kBigNumber = '(',
  kBlobError = '!',
  kVerbatimString = '=',
  kMap = '%',
  kSet = '~',
  kAttribute = '|',
  kPush = '>',
  kInline = 'i',
};

// True for the RESP type bytes that may start a value.
bool IsRespTypeByte(char c);
bool IsAggregate(RespType type);
bool IsErrorType(RespType type);
const char* RespTypeName(RespType type);

// Limits on what a Message keeps; everything beyond is counted, not stored.
inline constexpr size_t kMaxKeptElements = 256;             // top-level elements described
inline constexpr size_t kMaxKeptElementBytes = 256;         // bytes kept of each scalar
inline constexpr size_t kMaxKeptMessageBytes = 8192;        // bytes kept over all elements
inline constexpr size_t kMaxNestingDepth = 32;              // deeper aggregates are invalid
inline constexpr size_t kMaxLineBytes = 64 * 1024;          // simple lines and inline commands
inline constexpr int64_t kMaxBlobBytes = int64_t{1} << 32;  // 4 GiB: beyond is not Redis
inline constexpr int64_t kMaxAggregateCount = int64_t{1} << 28;

// One value: the top-level value itself, or one of its direct elements.
struct Element {
  RespType type = RespType::kNone;
  bool is_null = false;    // RESP2 $-1 / *-1, or RESP3 _
  bool truncated = false;  // `text` holds only the first bytes of a longer scalar
  std::string text;        // scalar text (first bytes); for errors the whole first line, capped
  uint64_t size = 0;       // scalar length in bytes, or aggregate element count
};

// A whole top-level RESP value (or inline command) and when it crossed the wire.
struct Message {
  Element value;                  // the top-level value (text empty for aggregates)
  std::vector<Element> elements;  // its direct elements (first kMaxKeptElements)
  uint64_t element_count = 0;     // all direct elements, kept or not
  bool has_attribute = false;     // a RESP3 attribute (|) preceded it
  uint64_t wire_bytes = 0;
  ChunkMeta first;         // of the first byte
  ChunkMeta last;          // of the last byte
  uint64_t first_pos = 0;  // stream position of the first byte

  RespType type() const { return value.type; }
  bool is_error() const { return IsErrorType(value.type); }
  // The text of element i if it is a kept scalar, else empty.
  const std::string& ElementText(size_t i) const;
};

}  // namespace wirespan::decoders::redis
