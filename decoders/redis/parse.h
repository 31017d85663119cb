// Incremental RESP2/RESP3 parser for one direction of a connection.
//
// Bytes are consumed as soon as each piece (a header line, part of a blob) is understood, so a
// value of any size costs only its bounded summary (types.h limits). Aggregates are tracked with
// an explicit stack (no recursion), bounded to kMaxNestingDepth. Gaps are stepped over inside
// blob payloads; anywhere else they end the message (the shared loop resyncs).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"
#include "decoders/redis/types.h"

namespace wirespan::decoders::redis {

class RespParser {
 public:
  // kRequest parses commands (RESP arrays or inline lines); kResponse parses replies and pushes.
  explicit RespParser(MessageKind kind, DecoderStats* stats = nullptr,
                      size_t max_line_bytes = kMaxLineBytes)
      : kind_(kind), stats_(stats), max_line_bytes_(max_line_bytes) {}

  ParseState ParseFrame(DataStream& stream, Message* out);
  size_t FindFrameBoundary(std::string_view bytes) const;
  void Reset();
  // "\r\n" and the type byte.
  static constexpr size_t kMaxBoundaryLength = 3;

 private:
  struct Level {
    int64_t remaining;  // values still expected
    bool attribute;     // an attribute map: its values are not elements of the parent
  };
  enum Slot : int { kNoSlot = -1, kTopSlot = -2 };

  ParseState ParseInline(DataStream& stream, Message* out);
  int OpenSlot(RespType type);
  Element* SlotElement(int slot);
  void KeepText(int slot, std::string_view bytes);
  void ElementDone(int slot);
  // A value ended at the current depth; returns true when the whole message is complete.
  bool FinishValue(bool was_attribute);
  void StartMessage(DataStream& stream);
  size_t ScanFrom(const DataStream& stream) const;
  void RememberScan(const DataStream& stream, size_t scanned);
  ParseState Complete(DataStream& stream, Message* out);

  MessageKind kind_;
  DecoderStats* stats_;
  size_t max_line_bytes_;

  bool in_message_ = false;
  Message msg_;
  std::vector<Level> stack_;
  size_t attributes_open_ = 0;
  size_t kept_bytes_ = 0;
  // Request secrets: element texts from this index on are not kept (AUTH, HELLO ... AUTH u p).
  uint64_t secret_from_ = UINT64_MAX;
  uint64_t secret_until_ = UINT64_MAX;  // exclusive; UINT64_MAX = to the end
  // A blob in progress.
  bool in_blob_ = false;
  uint64_t blob_remaining_ = 0;
  int blob_crlf_remaining_ = 0;
  int blob_slot_ = kNoSlot;
  // How far the line at scan_pos_ was already searched for its end.
  uint64_t scan_pos_ = UINT64_MAX;
  size_t scanned_ = 0;
};

// Parses an optionally signed decimal integer (RESP lengths and counts); false if malformed.
bool ParseRespInt(std::string_view text, int64_t* value);

}  // namespace wirespan::decoders::redis
