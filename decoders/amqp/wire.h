// Bounds-checked decoding of AMQP 0-9-1 payloads: field tables (every RabbitMQ field type, bounded
// depth and size), method arguments driven by the spec table, and content headers.
#pragma once

#include <cstdint>
#include <string_view>

#include "decoders/amqp/types.h"

namespace wirespan::decoders::amqp {

struct WireLimits {
  int max_depth = 8;               // nested tables/arrays beyond this are skipped
  size_t max_entries = 1024;       // table/array entries decoded per payload; the rest skipped
  size_t max_string_bytes = 1024;  // long strings keep this prefix (length kept exact)
};

// A cursor over untrusted bytes: every read checks bounds and sets ok() = false on overrun.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool ok() const { return ok_; }
  size_t remaining() const { return ok_ ? data_.size() - pos_ : 0; }
  size_t pos() const { return pos_; }
  uint8_t U8();
  uint16_t U16();
  uint32_t U32();
  uint64_t U64();
  std::string_view Bytes(size_t n);  // empty and !ok() when fewer remain
  void Fail() { ok_ = false; }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

// Decodes one field table whose 4-byte length is at the reader. Returns false when the table's
// length runs past the payload; malformed entries inside a well-sized table only cut the table
// short (value.truncated).
bool ReadFieldTable(Reader& r, FieldValue* table, const WireLimits& limits, int depth,
                    size_t* budget);

// Decodes a method frame payload (class id, method id, arguments). Unknown methods keep their ids
// with no arguments. Returns false when a known method's arguments do not fit the payload.
bool DecodeMethod(std::string_view payload, Method* method, const WireLimits& limits = {});

// Decodes a content header frame payload into `content` (class id, body size, properties).
bool DecodeContentHeader(std::string_view payload, Content* content, const WireLimits& limits = {});

// FNV-1a 64, incrementally: hash = Fnv1a(hash, bytes), starting from kFnvOffset.
inline constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
uint64_t Fnv1a(uint64_t hash, std::string_view bytes);

}  // namespace wirespan::decoders::amqp
