// HTTP/1.x frames (one request or one response each) and the records a matched pair becomes.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "decoders/common/data_stream.h"
#include "decoders/common/types.h"

namespace wirespan::decoders::http {

// Size bounds of what a frame keeps; longer values are cut (targets, user agents) or dropped
// (traceparent, tracestate: a cut one would be wrong).
inline constexpr size_t kMaxHeaderBlockBytes = 64 << 10;  // start line + headers (and trailers)
inline constexpr size_t kMaxHeaderCount = 128;            // header fields per block
inline constexpr size_t kMaxMethodBytes = 32;             // longer method tokens are invalid
inline constexpr size_t kMaxTargetBytes = 8192;           // request-target kept (cut beyond)
inline constexpr size_t kMaxValueBytes = 512;             // Host, User-Agent, Content-Type, ...
inline constexpr size_t kMaxTraceStateBytes = 512;        // W3C: 32 members of 512 chars total
inline constexpr size_t kMaxChunkLineBytes = 4096;        // chunk-size line incl. extensions

// How a message body is delimited (RFC 9112 section 6.3).
enum class BodyFraming : uint8_t {
  kNone,           // no body: requests without length, HEAD/1xx/204/304 responses
  kContentLength,  // Content-Length bytes
  kChunked,        // chunked transfer coding, ending with a zero chunk and trailers
  kUntilClose,     // response ending when the connection closes
  kTunnel,         // 101 Switching Protocols / 2xx to CONNECT: HTTP ends here
};

// One request or one response. Only the headers wirespan uses are kept, each bounded in size.
struct Message {
  MessageKind kind = MessageKind::kRequest;
  uint8_t minor_version = 1;  // HTTP/1.<minor_version>

  // Request line.
  std::string method;
  std::string target;  // request-target as sent (origin, absolute, authority or asterisk form)
  bool target_truncated = false;

  // Status line.
  int status_code = 0;

  // Headers of interest (empty when absent).
  std::string host;
  std::string content_type;
  std::string user_agent;
  std::string traceparent;  // kept only when syntactically valid (W3C Trace Context)
  std::string tracestate;   // kept only alongside a valid traceparent
  std::string upgrade;
  std::string expect;
  std::optional<uint64_t> content_length;
  bool chunked = false;           // Transfer-Encoding ends in "chunked"
  bool connection_close = false;  // Connection: close
  bool connection_keep_alive = false;
  bool connection_upgrade = false;

  // Body.
  BodyFraming framing = BodyFraming::kNone;
  uint64_t header_bytes = 0;     // start line + headers + empty line
  uint64_t body_wire_bytes = 0;  // body as sent: chunk sizes, extensions, CRLFs and trailers too
  uint64_t body_size = 0;        // decoded body: the payload bytes only
  uint64_t body_gap_bytes = 0;   // body bytes never captured (stepped over, still counted)
  bool body_incomplete = false;  // the body could not be followed to its end (gap, close)

  // Pairing: requests are numbered per connection (from 1); a response carries the number of the
  // request it answers (0: unknown, e.g. a connection first seen mid-stream).
  uint64_t seq = 0;
  uint64_t request_seq = 0;

  // Timing: first byte of the start line and last byte of the message.
  uint64_t first_pos = 0;
  ChunkMeta first_meta;
  ChunkMeta last_meta;

  bool is_request() const { return kind == MessageKind::kRequest; }
  bool interim() const { return status_code >= 100 && status_code < 200 && status_code != 101; }
};

// A request and its response: what a span is made from.
struct Record {
  Message request;
  Message response;
};

// What the request direction tells the response direction of the same connection: pipelined
// responses come in request order, and whether a response has a body depends on the request's
// method (HEAD, CONNECT). Owned by the connection decoder, shared by its two parsers.
struct PendingRequest {
  uint64_t seq = 0;
  uint64_t first_ts_ns = 0;  // when the request's first byte moved
  bool head = false;
  bool connect = false;
};
struct ConnectionState {
  std::deque<PendingRequest> pending;  // requests whose final response has not started yet
  // First bytes of requests parsed since the last Emit: announced as started server spans.
  std::deque<ChunkMeta> started;
  uint64_t next_seq = 1;
  bool switched = false;  // upgraded or tunnelled: no more HTTP on this connection
};

}  // namespace wirespan::decoders::http
