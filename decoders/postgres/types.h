// PostgreSQL frontend/backend protocol 3.0: the frames the parser produces and the records the
// matcher builds from them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "decoders/common/data_stream.h"

namespace wirespan::decoders::postgres {

// Which end of the protocol sent a message: the frontend is the client (requests).
enum class Side : uint8_t { kFrontend, kBackend };

enum class FrameKind : uint8_t {
  kRegular,             // type byte + int32 length + payload
  kStartup,             // untyped: int32 length + int32 protocol version (3.x) + parameters
  kSslRequest,          // untyped, code 80877103
  kGssEncRequest,       // untyped, code 80877104
  kCancelRequest,       // untyped, code 80877102
  kEncryptionResponse,  // backend's single byte answer to SSL/GSSENC requests: 'S', 'G' or 'N'
  kEncrypted,           // bytes after an accepted SSL/GSSENC request: opaque, counted only
};

inline constexpr uint32_t kProtocolVersion3 = 196608;  // 3 << 16
inline constexpr uint32_t kSslRequestCode = 80877103;
inline constexpr uint32_t kGssEncRequestCode = 80877104;
inline constexpr uint32_t kCancelRequestCode = 80877102;

// One protocol message. Only the start of the payload the matcher needs is kept (the SQL of a
// Query or Parse, the names in Bind/Execute/Describe/Close, a CommandComplete tag, the fields of
// an ErrorResponse, ...); row data, COPY data, bind parameters and passwords are counted and
// dropped as they stream past.
struct Message {
  FrameKind kind = FrameKind::kRegular;
  char tag = 0;         // type byte of regular messages; the answer byte of kEncryptionResponse
  uint32_t code = 0;    // version / request code of untyped messages
  uint64_t length = 0;  // payload bytes on the wire (after the length field)
  std::string payload;  // the kept prefix of the payload
  bool payload_cut = false;  // payload has more bytes than were kept (cap or gap in the stream)
  bool gap = false;          // part of the payload was never captured
  uint64_t stream_pos = 0;   // stream position of the first byte
  ChunkMeta first;           // capture metadata of the first byte
  ChunkMeta last;            // capture metadata of the last byte
};

// A statement as the agent knows it: what Parse or Query carried, already sanitized and cut.
struct Statement {
  std::string name;        // prepared statement name ("" = unnamed)
  std::string text;        // db.query.text (sanitized unless configured otherwise, cut to limit)
  bool text_known = true;  // false: prepared before the agent saw the connection
  bool text_truncated = false;
  std::string operation;   // from the SQL (the CommandComplete tag wins when there is one)
  std::string collection;  // best effort: the main table
  // What running it does to the per-connection caches (SQL PREPARE / DEALLOCATE / DISCARD ALL).
  std::string prepares;                       // PREPARE <name> AS ...
  std::shared_ptr<const Statement> prepared;  // ... and the statement it prepares
  std::string deallocates;                    // DEALLOCATE <name>
  bool deallocates_all = false;               // DEALLOCATE ALL, DISCARD ALL
};
using StatementPtr = std::shared_ptr<const Statement>;

// One finished statement execution: what becomes a span.
struct Record {
  StatementPtr statement;
  std::string operation;       // final db.operation.name
  ChunkMeta first;             // first byte of the request
  ChunkMeta last;              // last byte of the response
  uint64_t returned_rows = 0;  // DataRow messages
  bool has_returned_rows = false;
  uint64_t affected_rows = 0;  // from the CommandComplete tag of INSERT/UPDATE/DELETE/MERGE/COPY
  bool has_affected_rows = false;
  std::string sqlstate;  // ErrorResponse code ("" = success)
  std::string severity;  // ErrorResponse severity (non-localized)
  bool skipped = false;  // not run: an earlier statement of the pipeline failed
  bool portal_suspended = false;
  bool copy = false;  // the statement ran a COPY sub-protocol
  uint64_t copy_bytes = 0;
  bool empty_query = false;
  bool extended = false;  // extended query protocol (Parse/Bind/Execute)
  std::string portal;     // named portal, if any
  std::string database;   // db.namespace
};

}  // namespace wirespan::decoders::postgres
