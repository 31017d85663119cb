// Vocabulary shared by every protocol decoder.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "model/span.h"

namespace wirespan::decoders {

enum class Protocol : uint8_t { kUnknown = 0, kHttp, kPostgres, kRedis, kAmqp };
const char* ProtocolName(Protocol protocol);

// Direction relative to the traced process.
enum class Direction : uint8_t { kEgress = 0, kIngress = 1 };

// Which side of the protocol produced a message: requests come from the client.
enum class MessageKind : uint8_t { kRequest, kResponse };

enum class Role : uint8_t { kUnknown = 0, kClient = 1, kServer = 2 };

// The outcome of one ParseFrame call (Pixie's contract).
enum class ParseState : uint8_t {
  kSuccess,        // a whole frame was parsed and its bytes consumed
  kNeedsMoreData,  // nothing consumed that matters; call again when more bytes arrive
  kInvalid,        // the bytes at the head are not a frame: the shared loop resyncs
  kIgnored,        // bytes were consumed but yield no frame (e.g. a heartbeat)
};

// What decoders know of the connection they decode. Filled by the agent.
struct ConnectionInfo {
  uint64_t conn_id = 0;
  uint32_t tgid = 0;
  Role role = Role::kUnknown;
  std::string local_address;
  uint16_t local_port = 0;
  std::string remote_address;
  uint16_t remote_port = 0;
  bool ipv6 = false;
  std::shared_ptr<const model::Resource> resource;
  // Converts a source timestamp to Unix nanoseconds (kernel monotonic clock -> wall clock).
  int64_t clock_offset_ns = 0;
  uint64_t ToUnixNanos(uint64_t ts_ns) const {
    return static_cast<uint64_t>(static_cast<int64_t>(ts_ns) + clock_offset_ns);
  }
  // The client and server ends, whichever this process is.
  const std::string& server_address() const {
    return role == Role::kServer ? local_address : remote_address;
  }
  uint16_t server_port() const { return role == Role::kServer ? local_port : remote_port; }
  const std::string& client_address() const {
    return role == Role::kServer ? remote_address : local_address;
  }
  uint16_t client_port() const { return role == Role::kServer ? remote_port : local_port; }
};

// Options every decoder honours; protocol-specific knobs live in their own folders.
struct DecoderOptions {
  bool sanitize_queries = true;        // replace literals in SQL / values in commands with '?'
  size_t max_query_text_bytes = 4096;  // db.query.text is cut (cleanly) beyond this
  size_t max_frame_bytes = 1 << 20;    // a frame header larger than this is treated as invalid
  size_t max_pending_frames = 1024;    // unmatched frames kept per connection and direction
  uint64_t request_timeout_ns = 120'000'000'000;  // an unanswered request is given up after this
};

// Counters per protocol; the agent owns one per protocol and decoders add to it.
struct DecoderStats {
  uint64_t frames = 0;
  uint64_t ignored_frames = 0;
  uint64_t parse_errors = 0;       // kInvalid results
  uint64_t resync_bytes = 0;       // bytes skipped looking for the next frame boundary
  uint64_t gaps = 0;               // gaps met in the stream
  uint64_t gap_bytes_skipped = 0;  // gap bytes stepped over inside frames (bodies)
  uint64_t unmatched_requests = 0;
  uint64_t unmatched_responses = 0;
  uint64_t dropped_frames = 0;  // beyond max_pending_frames
  uint64_t spans = 0;
  uint64_t protocol_switches = 0;  // HTTP upgrade, CONNECT tunnel, STARTTLS: decoding stopped
};

}  // namespace wirespan::decoders
