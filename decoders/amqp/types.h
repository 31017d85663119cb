// AMQP 0-9-1 vocabulary: field values, decoded methods, content properties, parsed frames and the
// records the stitcher produces.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "decoders/common/data_stream.h"

namespace wirespan::decoders::amqp {

struct MethodSpec;

// The frame types of section 4.2.3 of the 0-9-1 specification.
enum class FrameType : uint8_t { kMethod = 1, kHeader = 2, kBody = 3, kHeartbeat = 8 };
inline constexpr uint8_t kFrameEnd = 0xCE;
inline constexpr size_t kFrameHeaderSize = 7;  // type, channel, payload size
inline constexpr std::string_view kProtocolHeader{"AMQP\x00\x00\x09\x01", 8};

// One value of a field table, field array or method argument. The type is the field-table type
// octet (RabbitMQ's set: t b B s u I i L l f d D S x T F A V); method arguments use the same
// codes for their domain (octet B, short u, long i, longlong l, shortstr/longstr S, bit t,
// timestamp T, table F).
struct FieldValue {
  char type = 'V';
  std::string key;                // the entry name inside a table; the argument name for methods
  int64_t i = 0;                  // b s I l L(as two's complement) T, and t (0/1)
  uint64_t u = 0;                 // B u i L
  double d = 0;                   // f d, and D (value / 10^scale)
  uint8_t scale = 0;              // D
  std::string str;                // S x (possibly cut, see truncated)
  uint64_t length = 0;            // S x: the length on the wire
  bool truncated = false;         // S x: only a prefix is kept; F A: entries beyond the cap skipped
  bool redacted = false;          // a credential: never stored, only its length
  std::vector<FieldValue> items;  // F (with keys) and A

  bool IsString() const { return type == 'S' || type == 'x'; }
  bool IsInt() const;
  // Integer view of any integer-like type (bool included); 0 otherwise.
  int64_t AsInt() const;
  // Table lookup (type 'F'); nullptr when absent.
  const FieldValue* Find(std::string_view name) const;
};

// A method frame's payload, its arguments decoded per the specification table.
struct Method {
  uint16_t class_id = 0;
  uint16_t method_id = 0;
  const MethodSpec* spec = nullptr;  // nullptr: unknown method (arguments not decoded)
  std::vector<FieldValue> args;

  const FieldValue* Arg(std::string_view name) const;
  std::string_view Str(std::string_view name) const;  // "" when absent or not a string
  int64_t Int(std::string_view name) const;           // 0 when absent
  bool Bit(std::string_view name) const { return Int(name) != 0; }
  const char* Name() const;  // "basic.publish", or "unknown"
};

// The basic class content properties (section 1.8 of the 0-9-1 XML specification), all decoded.
struct Properties {
  uint16_t flags = 0;  // the first property-flags word
  std::optional<std::string> content_type;
  std::optional<std::string> content_encoding;
  std::optional<FieldValue> headers;  // type 'F'
  std::optional<uint8_t> delivery_mode;
  std::optional<uint8_t> priority;
  std::optional<std::string> correlation_id;
  std::optional<std::string> reply_to;
  std::optional<std::string> expiration;
  std::optional<std::string> message_id;
  std::optional<uint64_t> timestamp;
  std::optional<std::string> type;
  std::optional<std::string> user_id;
  std::optional<std::string> app_id;
  std::optional<std::string> cluster_id;
};

// A message's content as it passed: properties, body size and a hash of every body byte (bodies
// are never buffered).
struct Content {
  uint16_t class_id = 0;
  uint64_t body_size = 0;      // declared in the content header
  uint64_t body_received = 0;  // body bytes (and gap bytes) seen so far
  uint64_t body_hash = 0;      // FNV-1a 64 over all body bytes
  bool hash_valid = true;      // false once a gap was stepped over inside the body
  bool complete = false;       // every body byte passed
  Properties properties;
};

// What the parser hands the stitcher: one protocol header, one method (with its content, once
// the whole content has passed), or a heartbeat is never reported (kIgnored).
struct Frame {
  enum class Kind : uint8_t { kNone, kProtocolHeader, kMethod };
  Kind kind = Kind::kNone;
  uint16_t channel = 0;
  Method method;
  std::optional<Content>
      content;  // for content-carrying methods (publish, deliver, get-ok, return)
  uint8_t protocol_version[4] = {0, 0, 0, 0};  // kProtocolHeader: the 4 bytes after "AMQP"
  ChunkMeta first;                             // the first byte of the method frame
  ChunkMeta last;         // the last byte of the method frame, or of the content's last body frame
  ChunkMeta method_last;  // the last byte of the method frame itself
};

// --- Stitcher output -----------------------------------------------------------------------------

enum class RecordType : uint8_t { kPublish, kDeliver, kGet, kCall };

enum class Settlement : uint8_t {
  kNone,     // no settlement seen (timeout, connection closed, mid-stream pickup)
  kAutoAck,  // no-ack consumer / basic.get: settled by delivery
  kAck,
  kNack,
  kReject,
  kChannelClosed,  // the channel closed with the message unsettled (the broker requeues it)
  kRecovered,      // basic.recover redelivers it
};
const char* SettlementName(Settlement s);

enum class ConfirmOutcome : uint8_t { kNotConfirmed, kAck, kNack, kUnsettled };

struct Record {
  RecordType type = RecordType::kCall;
  uint16_t channel = 0;

  // kCall: the synchronous method and its reply.
  std::string method;  // "queue.declare"
  std::string reply;   // "queue.declare-ok", "channel.close" ...
  std::string queue;   // queue named by the call, or the consumer's queue for deliveries
  std::string exchange;
  std::string routing_key;
  std::string vhost;  // connection.open
  std::string consumer_tag;
  bool answered = false;
  uint16_t reply_code = 0;  // from a channel/connection close, or a basic.return
  std::string reply_text;
  bool error = false;

  // Messages.
  std::optional<Content> content;
  uint64_t delivery_tag = 0;
  bool has_delivery_tag = false;
  bool redelivered = false;
  uint64_t message_count = 0;  // get-ok
  bool get_empty = false;
  bool returned = false;  // publish: basic.return came back (unroutable / mandatory)
  bool mandatory = false;
  ConfirmOutcome confirm = ConfirmOutcome::kNotConfirmed;
  Settlement settlement = Settlement::kNone;
  bool requeue = false;  // nack/reject requeue flag
  bool settled_multiple = false;

  ChunkMeta start;        // first byte of the request (publish/get) or of the deliver frame
  ChunkMeta end;          // last byte that ended the operation
  ChunkMeta content_end;  // last byte of the message's content (held time is counted from it)
  bool has_content_end = false;
};

}  // namespace wirespan::decoders::amqp
